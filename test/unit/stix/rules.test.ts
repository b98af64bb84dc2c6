// Table-driven: one valid and one invalid fixture per finding code, and per rule where a code serves several.
import assert from 'node:assert/strict';
import { FINDING_CODES } from '../../../stix-schemas/codes.js';
import { unpack } from '../../../stix-schemas/container.js';
import type { Finding } from '../../../stix-schemas/findings.js';
import { processObjects } from '../../../stix-schemas/pipeline.js';
import { type CodeFixture, FIXTURES, RULE_FIXTURES } from '../../fixtures/stix/by-code.js';

/** Drops keys set to undefined (fixtures use them to delete a property). */
function clean(o: unknown): unknown {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

interface Run { findings: Finding[]; ok: boolean }

function run(input: CodeFixture['valid'], fx: CodeFixture): Run {
  const docs = Array.isArray(input) && input.every((x) => typeof x === 'object') ? input : [input];
  if (!Array.isArray(input) && (input as { type?: string }).type === 'bundle') {
    const u = unpack(clean(input));
    const outcomes = processObjects(u.objects, fx.options);
    return { findings: [...u.findings, ...outcomes.flatMap((o) => o.findings)], ok: outcomes.every((o) => o.ok) };
  }
  const outcomes = processObjects(docs.map(clean), fx.options);
  return { findings: outcomes.flatMap((o) => o.findings), ok: outcomes.every((o) => o.ok) };
}
const codesOf = (input: CodeFixture['valid'], fx: CodeFixture): string[] => run(input, fx).findings.map((f) => f.code);

// Findings that are about Meridian's limits or I-JSON rather than a sentence of the specification.
const NOT_A_SPEC_SENTENCE = new Set(['STIX_TOO_DEEP', 'STIX_NUMBER_NOT_EXACT', 'STIX_UPGRADE_UNSUPPORTED']);
// Warnings that report what the pipeline did (or a deprecation), not a SHOULD of the specification.
const INFORMATIONAL = new Set(['STIX_UPGRADED_FROM_20', 'STIX_SCO_ID_FILLED', 'STIX_DEPRECATED', 'STIX_DUPLICATE_VERSION', 'STIX_BUNDLE_SPEC_VERSION']);

/** Every finding says where (a property path), why (the section) and in the specification's MUST/SHOULD words. */
function assertActionable(f: Finding, label: string): void {
  if (f.code.startsWith('STIX_PATTERN_')) return; // the pattern engine's findings are checked in test/unit/pattern
  const where = `${label}: ${f.code} ${JSON.stringify(f.message)}`;
  if (f.code !== 'STIX_NOT_AN_OBJECT') assert.match(f.path, /^\/./, `${where} has no property path`);
  assert.match(f.message, /§\d/, `${where} cites no section`);
  if (NOT_A_SPEC_SENTENCE.has(f.code)) return;
  if (f.severity === 'error') assert.match(f.message, /\bMUST\b/, `${where} is an error that does not say MUST`);
  else if (!INFORMATIONAL.has(f.code)) {
    assert.match(f.message, /\bSHOULD\b/, `${where} is a warning that does not say SHOULD`);
    assert.doesNotMatch(f.message, /\bMUST\b/, `${where} is a warning that says MUST`);
  }
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
      const invalid = run(fx.invalid, fx).findings;
      assert.ok(invalid.some((f) => f.code === code), `invalid fixture did not raise ${code}: ${invalid.map((f) => f.code).join(', ')}`);
      for (const f of invalid) assertActionable(f, code);
    });
  }
  it('the valid fixtures of the error codes are accepted whole', () => {
    for (const [code, fx] of Object.entries(FIXTURES)) {
      if (code === 'STIX_UPGRADED_FROM_20' || code === 'STIX_DEPRECATED' || code === 'STIX_BUNDLE_INVALID' || code === 'STIX_BUNDLE_SPEC_VERSION') continue;
      const inputs = Array.isArray(fx.valid) && code === 'STIX_DUPLICATE_VERSION' ? fx.valid : [fx.valid];
      for (const o of processObjects(inputs.map(clean), fx.options)) {
        assert.ok(o.ok, `${code} valid fixture rejected: ${JSON.stringify(o.findings)}`);
      }
    }
  });
});

describe('STIX findings: one valid and one invalid fixture per rule', () => {
  for (const [rule, fx] of Object.entries(RULE_FIXTURES)) {
    const { severity } = FINDING_CODES[fx.code];
    it(`${rule} (§${fx.section}, ${fx.code}, ${severity})`, () => {
      const valid = run(fx.valid, fx);
      assert.deepEqual(valid.findings.filter((f) => f.severity === 'error'), [], 'the valid fixture has errors');
      assert.ok(!valid.findings.some((f) => f.code === fx.code), `valid fixture raised ${fx.code}`);
      const invalid = run(fx.invalid, fx);
      const hits = invalid.findings.filter((f) => f.code === fx.code);
      assert.equal(hits.length, 1, `invalid fixture raised ${fx.code} ${hits.length} times: ${JSON.stringify(invalid.findings)}`);
      assert.ok(hits[0]!.message.includes(`§${fx.section}`), `the finding does not cite §${fx.section}: ${hits[0]!.message}`);
      for (const f of invalid.findings) assertActionable(f, rule);
      // A SHOULD (warning) never costs the object its place in the collection.
      if (severity === 'warning') assert.ok(invalid.ok, `a ${fx.code} warning rejected the object`);
      else assert.ok(!invalid.ok, `a ${fx.code} error did not reject the object`);
    });
  }
});
