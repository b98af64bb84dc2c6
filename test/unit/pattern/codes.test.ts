// One invalid fixture per finding code, named after the code (the Record type makes a missing code a
// compile error), and one valid fixture that produces nothing.
import assert from 'node:assert/strict';
import { checkPattern, PATTERN_CODES, type PatternCode } from '../../../stix-schemas/pattern/index.js';

const FIXTURES: Record<PatternCode, unknown> = {
  STIX_PATTERN_NOT_A_STRING: ['[file:size = 1]'],
  STIX_PATTERN_EMPTY: '   ',
  STIX_PATTERN_SYNTAX: '[file:size = 1',
  STIX_PATTERN_KEYWORD_CASE: '[file:size = 1] or [file:size = 2]',
  STIX_PATTERN_TOO_DEEP: '('.repeat(200) + '[file:size = 1]' + ')'.repeat(200),
  STIX_PATTERN_STRING_UNTERMINATED: "[file:name = 'a]",
  STIX_PATTERN_STRING_ESCAPE: "[file:name = 'a\\tb']",
  STIX_PATTERN_NUMBER_INVALID: '[file:size = +1]',
  STIX_PATTERN_HEX_INVALID: "[file:magic_number_hex = h'abc']",
  STIX_PATTERN_BINARY_INVALID: "[artifact:payload_bin = b'abc']",
  STIX_PATTERN_TIMESTAMP_INVALID: "[file:ctime = t'2016-13-01T00:00:00Z']",
  STIX_PATTERN_SET_MIXED_TYPES: "[file:size IN (1, 'a')]",
  STIX_PATTERN_OPERAND_INVALID: '[file:name LIKE 1]',
  STIX_PATTERN_REGEX_INVALID: "[file:name MATCHES '(a']",
  STIX_PATTERN_IP_INVALID: "[ipv4-addr:value ISSUBSET '10.0.0/8']",
  STIX_PATTERN_SUBSET_PATH: "[domain-name:value ISSUBSET '10.0.0.0/8']",
  STIX_PATTERN_QUALIFIER_VALUE: '[file:size = 1] REPEATS 0 TIMES',
  STIX_PATTERN_QUALIFIER_DUPLICATE: '[file:size = 1] REPEATS 2 TIMES REPEATS 3 TIMES',
  STIX_PATTERN_START_STOP_ORDER: "[file:size = 1] START t'2017-01-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'",
  STIX_PATTERN_OBJECT_TYPE_INVALID: '[file_x:size = 1]',
  STIX_PATTERN_PATH_INVALID: '[file:size[0] = 1]',
  STIX_PATTERN_PROPERTY_NAME_INVALID: "[file:Name = 'x']",
  STIX_PATTERN_AND_TYPE_MISMATCH: "[file:size = 1 AND url:value = 'x']",
  STIX_PATTERN_HASH_VALUE_INVALID: "[file:hashes.'SHA-1' = 'abc']",
  STIX_PATTERN_UNKNOWN_OBJECT_TYPE: '[x-thing:size = 1]',
  STIX_PATTERN_NOT_SCO_TYPE: "[malware:name = 'x']",
  STIX_PATTERN_UNKNOWN_PROPERTY: '[file:sizee = 1]',
  STIX_PATTERN_UNKNOWN_EXTENSION: "[process:extensions.'unix-account-ext'.gid = 0]",
  STIX_PATTERN_HASH_ALGORITHM_UNKNOWN: "[file:hashes.'SHA-2' = 'x']",
  STIX_PATTERN_LIST_WITHOUT_INDEX: "[software:languages = 'en']",
  STIX_PATTERN_VALUE_TYPE_MISMATCH: "[file:size = 'x']",
  STIX_PATTERN_SET_EMPTY: '[file:size IN ()]',
  STIX_PATTERN_NONSTANDARD_SYNTAX: '[file:size == 1]',
};

describe('STIX pattern finding codes: one fixture each', () => {
  for (const [code, fixture] of Object.entries(FIXTURES) as [PatternCode, unknown][]) {
    it(`${code} (${PATTERN_CODES[code].severity})`, () => {
      const findings = checkPattern(fixture as string, '/pattern');
      assert.deepEqual(findings.map((f) => [f.code, f.severity]), [[code, PATTERN_CODES[code].severity]]);
      assert.equal(findings[0]?.path, '/pattern');
    });
  }
  it('valid: a pattern using every operator, constant type and qualifier has no findings', () => {
    const p =
      "([file:name = 'a' AND file:size != 1 AND file:size < 2.5 AND file:size > -1 AND file:size <= 3 AND file:size >= 0" +
      " AND file:name NOT IN ('b', 'c') AND file:name LIKE 'a%' AND file:name MATCHES '^a$' AND EXISTS file:hashes" +
      " AND file:magic_number_hex = h'ffd8' AND file:ctime = t'2020-01-01T00:00:00Z' AND file:extensions.'ntfs-ext'.sid = 'S'" +
      " AND file:contains_refs[0].type = 'file'] OR [artifact:payload_bin = b'AAEC' OR ipv4-addr:value ISSUPERSET '10.0.0.1']" +
      " OR [process:is_hidden = true OR ipv6-addr:value NOT ISSUBSET '::/0']) REPEATS 2 TIMES WITHIN 60 SECONDS" +
      " START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z' FOLLOWEDBY [url:value = 'http://x']";
    assert.deepEqual(checkPattern(p), []);
  });
});
