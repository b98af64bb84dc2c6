// Table-driven: one valid and one invalid fixture per finding code.
import assert from 'node:assert/strict';
import { FINDING_CODES } from '../../../stix-schemas/codes.js';
import { unpack } from '../../../stix-schemas/container.js';
import { processObjects } from '../../../stix-schemas/pipeline.js';
import { type CodeFixture, FIXTURES } from '../../fixtures/stix/by-code.js';

/** Drops keys set to undefined (fixtures use them to delete a property). */
function clean(o: unknown): unknown {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function codesOf(input: CodeFixture['valid'], fx: CodeFixture): string[] {
  const docs = Array.isArray(input) && input.every((x) => typeof x === 'object') ? input : [input];
  if (!Array.isArray(input) && (input as { type?: string }).type === 'bundle') {
    const u = unpack(input);
    return [...u.findings, ...processObjects(u.objects, fx.options).flatMap((o) => o.findings)].map((f) => f.code);
  }
  return processObjects(docs.map(clean), fx.options).flatMap((o) => o.findings).map((f) => f.code);
}

describe('STIX findings: one valid and one invalid fixture per code', () => {
  it('every catalogued code has fixtures', () => {
    assert.deepEqual(Object.keys(FINDING_CODES).filter((c) => !(c in FIXTURES)), []);
    assert.deepEqual(Object.keys(FIXTURES).filter((c) => !(c in FINDING_CODES)), []);
  });
  for (const [code, fx] of Object.entries(FIXTURES)) {
    const info = FINDING_CODES[code as keyof typeof FINDING_CODES];
    it(`${code} (§${info.section}, ${info.severity})`, () => {
      assert.ok(!codesOf(fx.valid, fx).includes(code), `valid fixture raised ${code}`);
      const invalid = codesOf(fx.invalid, fx);
      assert.ok(invalid.includes(code), `invalid fixture did not raise ${code}: ${invalid.join(', ')}`);
    });
  }
  it('the valid fixtures of the error codes are accepted whole', () => {
    for (const [code, fx] of Object.entries(FIXTURES)) {
      if (code === 'STIX_UPGRADED_FROM_20' || code === 'STIX_DEPRECATED' || code === 'STIX_BUNDLE_INVALID') continue;
      const inputs = Array.isArray(fx.valid) && code === 'STIX_DUPLICATE_VERSION' ? fx.valid : [fx.valid];
      for (const o of processObjects(inputs.map(clean), fx.options)) {
        assert.ok(o.ok, `${code} valid fixture rejected: ${JSON.stringify(o.findings)}`);
      }
    }
  });
});
