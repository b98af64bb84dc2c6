// The 50 MB MITRE ATT&CK Enterprise bundle validates with zero errors, well under a second.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { unpack } from '../../../stix-schemas/container.js';
import { processObjects } from '../../../stix-schemas/pipeline.js';

const FILE = new URL('../../../../shared/data/enterprise-attack.json', import.meta.url);

describe('ATT&CK Enterprise bundle', function () {
  this.timeout(60_000);
  before(function () { if (!existsSync(FILE)) this.skip(); });
  it('validates and normalises all 24,772 objects with zero errors', () => {
    const { objects, findings } = unpack(JSON.parse(readFileSync(FILE, 'utf8')));
    assert.deepEqual(findings, []);
    const outcomes = processObjects(objects);
    const errors = outcomes.flatMap((o) => o.findings.filter((f) => f.severity === 'error').map((f) => `${o.id} ${f.code} ${f.path}`));
    assert.deepEqual(errors.slice(0, 10), []);
    assert.equal(outcomes.filter((o) => o.ok).length, objects.length);
  });
});
