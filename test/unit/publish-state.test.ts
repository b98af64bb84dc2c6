// meridian publish's state file: envelopes acknowledged in any order fold into one count, so the file
// stays a few lines long for any input, and a resume skips exactly the acknowledged envelopes.
import { expect } from 'chai';
import { type StateFile, acknowledge } from '../../server/commands/publish.js';

function fresh(): StateFile {
  return { version: 2, url: 'https://x/fr/', collection: 'c', inputs: ['/a.json'], maxBytes: 1 << 20, maxObjects: 1000, through: 0, acknowledged: { objects: 0, success: 0, failures: 0 }, done: {} };
}

describe('meridian publish state file', () => {
  it('folds envelopes acknowledged out of order once they are contiguous', () => {
    const s = fresh();
    acknowledge(s, 1, { objects: 10, success: 9, failures: 1 });
    acknowledge(s, 3, { objects: 10, success: 10, failures: 0 });
    expect(s.through).to.equal(0);
    expect(Object.keys(s.done)).to.deep.equal(['1', '3']);
    acknowledge(s, 0, { objects: 5, success: 5, failures: 0 });
    expect(s.through).to.equal(2);
    expect(s.acknowledged).to.deep.equal({ objects: 15, success: 14, failures: 1 });
    expect(Object.keys(s.done)).to.deep.equal(['3']);
    acknowledge(s, 2, { objects: 10, success: 10, failures: 0 });
    expect(s.through).to.equal(4);
    expect(s.done).to.deep.equal({});
    expect(s.acknowledged).to.deep.equal({ objects: 35, success: 34, failures: 1 });
  });

  it('stays small for a long run (100,000 envelopes, two in flight)', () => {
    const s = fresh();
    for (let n = 0; n < 100_000; n += 2) {
      acknowledge(s, n + 1, { objects: 1000, success: 1000, failures: 0 });
      expect(Object.keys(s.done).length).to.be.at.most(1);
      acknowledge(s, n, { objects: 1000, success: 1000, failures: 0 });
    }
    expect(s.through).to.equal(100_000);
    expect(s.acknowledged.objects).to.equal(100_000_000);
    expect(JSON.stringify(s).length).to.be.below(400);
  });
});
