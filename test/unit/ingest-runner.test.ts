// The ingest runner: the worker thread gives exactly what the inline path gives, for whole
// envelopes, chosen indexes and several jobs at once, and reports bad bodies as TAXII errors.
import { expect } from 'chai';
import { TaxiiError } from '../../taxii/errors.js';
import { IngestRunner } from '../../taxii/ingest-runner.js';
import { indicator } from '../helpers/server.js';

async function collect(runner: IngestRunner, body: Buffer, indexes?: number[]) {
  const job = await runner.open(body, {}, indexes);
  const batches = [];
  for await (const items of job.batches()) batches.push(items);
  return { count: job.count, batches };
}

describe('ingest runner: worker thread and inline path agree', function () {
  const inline = new IngestRunner(Number.MAX_SAFE_INTEGER, 7);
  const worker = new IngestRunner(0, 7);
  after(() => worker.close());

  const objects = [...Array.from({ length: 20 }, () => indicator()), { type: 'bad' }, 42];
  const body = Buffer.from(JSON.stringify({ objects }));

  it('prepares the same items in the same batches', async function () {
    const a = await collect(inline, body);
    const b = await collect(worker, body);
    expect(b.count).to.equal(22);
    expect(b.batches.map((x) => x.length)).to.deep.equal([7, 7, 7, 1]);
    expect(b).to.deep.equal(a);
    const failures = b.batches.flat().filter((i) => 'failure' in i);
    expect(failures.map((f) => f.id)).to.deep.equal(['objects[20]', 'objects[21]']);
  });

  it('prepares only the chosen indexes (a resumed submission)', async function () {
    const b = await collect(worker, body, [3, 21]);
    expect(b.batches.flat().map((i) => i.index)).to.deep.equal([3, 21]);
    expect((await collect(worker, body, [])).batches.flat()).to.deep.equal([]);
  });

  it('runs several jobs at once without mixing them', async function () {
    const bodies = [1, 2, 3].map((n) => Buffer.from(JSON.stringify({ objects: Array.from({ length: 10 * n }, () => indicator()) })));
    const results = await Promise.all(bodies.map((b) => collect(worker, b)));
    expect(results.map((r) => r.batches.flat().length)).to.deep.equal([10, 20, 30]);
    results.forEach((r, k) => expect(r.batches.flat().map((i) => i.id)).to.deep.equal(JSON.parse(bodies[k]!.toString()).objects.map((o: { id: string }) => o.id)));
  });

  it('reports invalid JSON (400) and a non-envelope (422) as TAXII errors from the worker', async function () {
    for (const [text, code] of [['{"objects": [', 'TAXII_ERR_BAD_JSON'], ['[1,2]', 'TAXII_ERR_UNPROCESSABLE']] as const) {
      let error: unknown;
      try {
        await worker.open(Buffer.from(text), {});
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(TaxiiError);
      expect((error as TaxiiError).code).to.equal(code);
    }
  });
});
