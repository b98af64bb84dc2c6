// §3.1 property names inside object paths (an upper-case name is a MUST violation, not an unknown property),
// and one finding per property per rule however often a pattern repeats it.
import assert from 'node:assert/strict';
import { MAX_PATTERN_FINDINGS, checkPattern } from '../../../stix-schemas/pattern/index.js';
import { codes, errors, warnings } from './helpers.js';

describe('STIX patterns: property names (§3.1, §9.7)', () => {
  const invalid: string[] = [
    "[file:Name = 'x']", // an SCO's unknown property
    "[file:extensions.'windows-pebinary-ext'.Pe_type = 'exe']", // inside a predefined extension
    "[file:extensions.'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e'.Rank > 5]", // an extension-definition's property
    "[file:extensions.'x-acme-ext'.RANK > 5]", // a §11.3 custom extension's property
    "[x-acme-widget:Size = 1]", // a custom object's property
    "[x-acme-widget:'2nd_size' = 1]", // starts with a digit
    "[network-traffic:dst_ref.'Va-lue' = 'x']", // behind a reference
  ];
  for (const p of invalid) {
    it(`refuses ${p}`, () => {
      assert.ok(errors(p).includes('STIX_PATTERN_PROPERTY_NAME_INVALID'), JSON.stringify(checkPattern(p)));
      assert.ok(!codes(p).includes('STIX_PATTERN_UNKNOWN_PROPERTY'), 'reported twice, as unknown too');
    });
  }
  const valid: string[] = [
    "[file:x_acme_score = 1]", // a custom property: unknown (a warning), but well named
    "[x-acme-widget:size_2 = 1]",
    "[file:extensions.'x-acme-ext'.rank > 5]",
    "[process:extensions.'windows-process-ext'.startup_info.lpDesktop = 'x']", // a dictionary key, not a property
    "[network-traffic:extensions.'http-request-ext'.request_header.'Accept-Encoding' = 'gzip']",
    "[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
    "[process:extensions.'windows-process-ext'.window_title = 'x']",
  ];
  for (const p of valid) {
    it(`accepts the names of ${p}`, () => assert.deepEqual(errors(p), []));
  }
  it('a custom property is still only a warning', () => {
    assert.deepEqual(warnings('[file:x_acme_score = 1]'), ['STIX_PATTERN_UNKNOWN_PROPERTY']);
  });
});

describe('STIX patterns: one finding per property per rule', () => {
  it('500 repeats of one unknown property give one warning that counts them', () => {
    const p = Array.from({ length: 500 }, (_, i) => `[file:sizee = ${i}]`).join(' OR ');
    const findings = checkPattern(p);
    assert.deepEqual(findings.map((f) => f.code), ['STIX_PATTERN_UNKNOWN_PROPERTY']);
    assert.match(findings[0]!.message, /'sizee' is not a property of file .*\(at offset 1, and 499 more times\)$/);
  });
  it('500 repeats of an upper-case name give one error', () => {
    const p = Array.from({ length: 500 }, () => "file:Name = 'a'").join(' OR ');
    assert.deepEqual(checkPattern(`[${p}]`).map((f) => f.code), ['STIX_PATTERN_PROPERTY_NAME_INVALID']);
  });
  it('different properties and different rules are reported apart', () => {
    assert.deepEqual(codes("[file:sizee = 1 OR file:nmae = 'a' OR file:sizee = 2 OR file:size = 'x' OR file:size = 'y']").sort(), [
      'STIX_PATTERN_UNKNOWN_PROPERTY', 'STIX_PATTERN_UNKNOWN_PROPERTY', 'STIX_PATTERN_VALUE_TYPE_MISMATCH',
    ]);
  });
  it('distinct mistakes are still capped at MAX_PATTERN_FINDINGS', () => {
    const p = Array.from({ length: 300 }, (_, i) => `file:unknown_${i} = 1`).join(' OR ');
    assert.equal(checkPattern(`[${p}]`).length, MAX_PATTERN_FINDINGS);
  });
});
