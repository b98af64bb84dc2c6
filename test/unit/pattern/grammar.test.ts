// STIX 2.1 §9 grammar: the specification's own examples, every operator, constant and qualifier,
// precedence, and the syntax errors.
import assert from 'node:assert/strict';
import { checkPattern, MAX_PATTERN_FINDINGS, parsePattern, type ObservationExpression, type Comparison } from '../../../stix-schemas/pattern/index.js';
import { codes, errors, warnings } from './helpers.js';

function ast(pattern: string): ObservationExpression {
  const r = parsePattern(pattern);
  if (!r.ok) throw new Error(`expected ${pattern} to parse: ${JSON.stringify(r.findings)}`);
  return r.ast.expression;
}

function firstComparison(pattern: string): Comparison {
  let e: ObservationExpression = ast(pattern);
  while (e.kind !== 'observation') e = e.kind === 'qualified' ? e.expression : e.operands[0]!;
  let c = e.comparison;
  while (c.kind !== 'comparison') c = c.operands[0]!;
  return c;
}

// §9.8 examples (the custom x-usb-device one warns only about its custom type; file:created is 2.0).
const SPEC_EXAMPLES = [
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
  "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']\nAND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
  "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
  "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
  "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
  "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
  "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
  "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
  "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
  "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
  "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
  "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
  "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker\\\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']",
  "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
  "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
  "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
  "([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:image_ref.name = 'fooproc' OR process:image_ref.name = 'procfoo']",
  // §9.3
  "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] REPEATS 5 TIMES",
  "([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS",
  // §9.1 and §9.6.1 operator examples
  "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
  "([ipv4-addr:value = '198.51.100.5' ] AND [ipv4-addr:value = '198.51.100.10']) WITHIN 300 SECONDS",
  "[file:size != 4112]", "[file:size > 256]", "[file:size < 1024]", "[file:size <= 25145]", "[file:size >= 33312]",
  "[directory:path LIKE 'C:\\\\Windows\\\\%\\\\foo']",
  "[directory:path MATCHES '^C:\\\\\\\\Windows\\\\w+$']",
  "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
  "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
  "[EXISTS windows-registry-key:values]",
];

describe('STIX patterns: §9.8 and other specification examples', () => {
  for (const p of SPEC_EXAMPLES) {
    it(`accepts without findings: ${p.slice(0, 90)}`, () => {
      assert.deepEqual(checkPattern(p), []);
    });
  }
  it('§9.8 custom x-usb-device: only a warning for the custom type', () => {
    assert.deepEqual(codes("[x-usb-device:usbdrive.serial_number = '575833314133343231313937']"), ['STIX_PATTERN_UNKNOWN_OBJECT_TYPE']);
  });
  it('§9.6.1 IN example uses process:name (a STIX 2.0 name): only an unknown-property warning', () => {
    assert.deepEqual(codes("[process:name IN ('proccy', 'proximus', 'badproc')]"), ['STIX_PATTERN_UNKNOWN_PROPERTY']);
  });
  it('§9.8 file:created (a STIX 2.0 name): only an unknown-property warning', () => {
    assert.deepEqual(codes("[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']"), ['STIX_PATTERN_UNKNOWN_PROPERTY']);
  });
});

describe('STIX patterns: precedence and structure (§9.5.2, §9.5.3)', () => {
  it('observation AND binds tighter than OR, OR tighter than FOLLOWEDBY', () => {
    const e = ast('[a-b:ccc = 1] FOLLOWEDBY [a-b:ccc = 2] OR [a-b:ccc = 3] AND [a-b:ccc = 4]');
    assert.equal(e.kind, 'observation-op');
    if (e.kind !== 'observation-op') return;
    assert.equal(e.op, 'FOLLOWEDBY');
    const or = e.operands[1]!;
    assert.equal(or.kind === 'observation-op' && or.op, 'OR');
    if (or.kind !== 'observation-op') return;
    const and = or.operands[1]!;
    assert.equal(and.kind === 'observation-op' && and.op, 'AND');
  });
  it('comparison AND binds tighter than OR (§9.5)', () => {
    const e = ast("[file:name = 'a' AND file:size = 1 OR file:name = 'b']");
    if (e.kind !== 'observation') throw new Error('expected an observation');
    assert.equal(e.comparison.kind === 'comparison-op' && e.comparison.op, 'OR');
  });
  it('chains of one operator are flat n-ary nodes', () => {
    const e = ast(Array.from({ length: 5 }, (_, i) => `[file:size = ${i}]`).join(' AND '));
    assert.equal(e.kind === 'observation-op' && e.operands.length, 5);
  });
  it('a qualifier applies to the expression right before it (§9.5.2 REPEATS example)', () => {
    const e = ast("[file:name = 'b'] FOLLOWEDBY [file:name = 'c'] REPEATS 5 TIMES");
    if (e.kind !== 'observation-op') throw new Error('expected FOLLOWEDBY');
    assert.equal(e.operands[0]!.kind, 'observation');
    assert.equal(e.operands[1]!.kind, 'qualified');
  });
  it('parentheses move the qualifier to the group', () => {
    const e = ast("([file:name = 'b'] FOLLOWEDBY [file:name = 'c']) REPEATS 5 TIMES WITHIN 5.5 SECONDS");
    if (e.kind !== 'qualified') throw new Error('expected a qualified group');
    assert.equal(e.expression.kind, 'observation-op');
    assert.deepEqual(e.qualifiers, [{ kind: 'REPEATS', times: 5 }, { kind: 'WITHIN', seconds: 5.5 }]);
  });
  it('parenthesised comparison groups nest', () => {
    assert.deepEqual(errors("[((file:name = 'a' OR file:name = 'b') AND (file:size = 1 OR file:size = 2))]"), []);
  });
  it('whitespace of any WSpace kind and line breaks separate tokens (§9.4)', () => {
    assert.deepEqual(errors("[\u00a0file:size\u2003=\n1\r\n]\u3000AND\t[file:size\u2028=\u20292]"), []);
  });
  it('the AND of two object types inside one observation is an error (§9.5)', () => {
    assert.deepEqual(errors("[file:name = 'a' AND process:name = 'b']"), ['STIX_PATTERN_AND_TYPE_MISMATCH']);
  });
  it('different object types joined by OR are fine, and AND over an OR shares a type (§9.5)', () => {
    assert.deepEqual(errors("[(file:name = 'a' OR process:name = 'b') AND file:size = 1]"), []);
    assert.deepEqual(errors("[(file:name = 'a' AND file:size = 1) OR (process:name = 'b' AND process:pid = 1)]"), []);
  });
});

describe('STIX patterns: comparison operators (§9.6.1)', () => {
  for (const op of ['=', '!=', '<', '>', '<=', '>=']) {
    it(`accepts ${op} and NOT ${op}`, () => {
      assert.equal(firstComparison(`[file:size ${op} 10]`).operator, op);
      const c = firstComparison(`[file:size NOT ${op} 10]`);
      assert.equal(c.negated, true);
    });
  }
  for (const op of ['LIKE', 'MATCHES']) {
    it(`${op} and NOT ${op} take a string`, () => {
      assert.deepEqual(checkPattern(`[file:name ${op} 'a%'] AND [file:name NOT ${op} 'b']`), []);
      assert.deepEqual(errors(`[file:name ${op} 42]`), ['STIX_PATTERN_OPERAND_INVALID']);
    });
  }
  it('IN takes a set; NOT IN too; a set of mixed types is an error', () => {
    const c = firstComparison("[file:name NOT IN ('a', 'b')]");
    assert.equal(c.negated, true);
    assert.deepEqual(c.value, { type: 'set', values: [{ type: 'string', value: 'a' }, { type: 'string', value: 'b' }] });
    assert.deepEqual(errors("[file:name IN 'a']"), ['STIX_PATTERN_OPERAND_INVALID']);
    assert.deepEqual(errors("[file:name IN ('a', 1)]"), ['STIX_PATTERN_SET_MIXED_TYPES']);
    assert.deepEqual(errors('[file:size IN (1, 2.5)]'), []);
  });
  it('only IN takes a set', () => {
    assert.deepEqual(errors("[file:name = ('a', 'b')]"), ['STIX_PATTERN_OPERAND_INVALID']);
  });
  it('an empty set is a warning', () => {
    assert.deepEqual(codes('[file:name IN ()]'), ['STIX_PATTERN_SET_EMPTY']);
  });
  it('ordering operators reject booleans', () => {
    assert.deepEqual(errors('[file:size > true]'), ['STIX_PATTERN_OPERAND_INVALID']);
  });
  it('ISSUBSET / ISSUPERSET take IPv4 or IPv6 addresses or CIDR blocks', () => {
    assert.deepEqual(checkPattern("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8' AND ipv4-addr:value ISSUPERSET '10.1.2.3']"), []);
    assert.deepEqual(checkPattern("[ipv6-addr:value ISSUBSET '::1/128' OR ipv6-addr:value ISSUBSET 'fe80::1:2.3.4.5']"), []);
    assert.deepEqual(errors("[ipv4-addr:value ISSUBSET '10.0.0.0/33']"), ['STIX_PATTERN_IP_INVALID']);
    assert.deepEqual(errors("[ipv4-addr:value ISSUBSET '300.0.0.1']"), ['STIX_PATTERN_IP_INVALID']);
    assert.deepEqual(errors("[ipv4-addr:value ISSUBSET '2001:db8::/32']"), ['STIX_PATTERN_IP_INVALID']);
    assert.deepEqual(errors("[ipv6-addr:value ISSUBSET '1:2:3:4:5:6:7:8:9']"), ['STIX_PATTERN_IP_INVALID']);
    assert.deepEqual(errors('[ipv4-addr:value ISSUBSET 10]'), ['STIX_PATTERN_OPERAND_INVALID']);
    assert.deepEqual(errors("[file:name ISSUBSET '10.0.0.0/8']"), ['STIX_PATTERN_SUBSET_PATH']);
  });
  it('EXISTS and NOT EXISTS take a path', () => {
    const c = firstComparison('[NOT EXISTS file:hashes]');
    assert.deepEqual([c.operator, c.negated], ['EXISTS', true]);
    assert.deepEqual(errors('[EXISTS 5]'), ['STIX_PATTERN_SYNTAX']);
  });
  it('== and <> are read as = and != with a warning', () => {
    assert.deepEqual(codes('[file:size == 1] AND [file:size <> 2]'), ['STIX_PATTERN_NONSTANDARD_SYNTAX', 'STIX_PATTERN_NONSTANDARD_SYNTAX']);
    assert.equal(firstComparison('[file:size <> 2]').operator, '!=');
  });
  it('an unknown operator is a syntax error', () => {
    assert.deepEqual(errors("[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']"), ['STIX_PATTERN_SYNTAX']);
    assert.deepEqual(errors("[file:name CONTAINS 'a']"), ['STIX_PATTERN_SYNTAX']);
  });
});

describe('STIX patterns: constants (§9.2)', () => {
  const value = (literal: string) => firstComparison(`[x-custom:prop = ${literal}]`).value;
  it('strings: only \\\' and \\\\ are escapes', () => {
    assert.deepEqual(value("'it\\'s a \\\\ b'"), { type: 'string', value: "it's a \\ b" });
    assert.deepEqual(value("''"), { type: 'string', value: '' });
    assert.deepEqual(errors("[file:name = 'a\\nb']"), ['STIX_PATTERN_STRING_ESCAPE']);
    assert.deepEqual(errors("[file:name = 'abc]"), ['STIX_PATTERN_STRING_UNTERMINATED']);
  });
  it('integers and floats', () => {
    assert.deepEqual(value('-12'), { type: 'integer', value: -12 });
    assert.deepEqual(value('0'), { type: 'integer', value: 0 });
    assert.deepEqual(value('3.25'), { type: 'float', value: 3.25 });
    assert.deepEqual(value('-.5'), { type: 'float', value: -0.5 });
    assert.deepEqual(value('.5'), { type: 'float', value: 0.5 });
    assert.deepEqual(value('9007199254740991'), { type: 'integer', value: 9007199254740991 });
  });
  for (const bad of ['+5', '007', '1e5', '5.', '9007199254740992', '-9007199254740992']) {
    it(`rejects the number ${bad}`, () => {
      assert.deepEqual(errors(`[file:size = ${bad}]`), ['STIX_PATTERN_NUMBER_INVALID']);
    });
  }
  it("hex h'…': even number of digits 0–9 a–f", () => {
    assert.deepEqual(value("h'00ff'"), { type: 'hex', value: '00ff' });
    assert.deepEqual(value("h''"), { type: 'hex', value: '' });
    for (const bad of ["h'fff'", "h'FFD8'", "h'zz'"]) assert.deepEqual(errors(`[file:magic_number_hex = ${bad}]`), ['STIX_PATTERN_HEX_INVALID'], bad);
  });
  it("binary b'…': base64, line feeds ignored", () => {
    assert.deepEqual(value("b'dGhpcyBpcyBhIHRlc3Q='"), { type: 'binary', value: 'dGhpcyBpcyBhIHRlc3Q=' });
    assert.deepEqual(value("b'dGhp\ncyBp'"), { type: 'binary', value: 'dGhpcyBp' });
    for (const bad of ["b'===='", "b'abc'", "b'ab=c'", "b'a*bc'"]) assert.deepEqual(errors(`[artifact:payload_bin = ${bad}]`), ['STIX_PATTERN_BINARY_INVALID'], bad);
  });
  it("timestamps t'…': RFC 3339 UTC, real dates", () => {
    assert.deepEqual(value("t'2016-02-29T23:59:59.123456Z'"), { type: 'timestamp', value: '2016-02-29T23:59:59.123456Z' });
    for (const bad of ["t'2457-73-22T32:81:84.1Z'", "t'2015-02-29T00:00:00Z'", "t'2016-01-01T00:00:00+01:00'", "t'2016-01-01'", "t'2016-01-01T00:00:60Z'"]) {
      assert.deepEqual(errors(`[file:ctime = ${bad}]`), ['STIX_PATTERN_TIMESTAMP_INVALID'], bad);
    }
  });
  it('booleans are lower case', () => {
    assert.deepEqual(value('true'), { type: 'boolean', value: true });
    assert.deepEqual(value('false'), { type: 'boolean', value: false });
    assert.deepEqual(errors('[file:is_hidden = TRUE]'), ['STIX_PATTERN_KEYWORD_CASE']);
  });
  it('an unquoted string is a syntax error', () => {
    assert.deepEqual(errors('[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]'), ['STIX_PATTERN_SYNTAX']);
  });
});

describe('STIX patterns: qualifiers (§9.5.1)', () => {
  it('WITHIN takes a positive integer or float and SECONDS', () => {
    assert.deepEqual(errors('[file:size = 1] WITHIN 5 SECONDS'), []);
    assert.deepEqual(errors('[file:size = 1] WITHIN 0.5 SECONDS'), []);
    assert.deepEqual(errors('[file:size = 1] WITHIN 0 SECONDS'), ['STIX_PATTERN_QUALIFIER_VALUE']);
    assert.deepEqual(errors('[file:size = 1] WITHIN -5 SECONDS'), ['STIX_PATTERN_QUALIFIER_VALUE']);
    assert.deepEqual(errors('[file:size = 1] WITHIN 5 HOURS'), ['STIX_PATTERN_SYNTAX']);
    assert.deepEqual(errors('[file:size = 1] WITHIN ]'), ['STIX_PATTERN_SYNTAX']);
  });
  it('REPEATS takes a positive integer and TIMES', () => {
    assert.deepEqual(errors('[file:size = 1] REPEATS 9 TIMES'), []);
    assert.deepEqual(errors('[file:size = 1] REPEATS 0 TIMES'), ['STIX_PATTERN_QUALIFIER_VALUE']);
    assert.deepEqual(errors('[file:size = 1] REPEATS 1.5 TIMES'), ['STIX_PATTERN_QUALIFIER_VALUE']);
    assert.deepEqual(errors('[file:size = 1] REPEATS 2'), ['STIX_PATTERN_SYNTAX']);
  });
  it('START/STOP take timestamps with START < STOP', () => {
    assert.deepEqual(errors("[file:size = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.001Z'"), []);
    assert.deepEqual(errors("[file:size = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.000Z'"), ['STIX_PATTERN_START_STOP_ORDER']);
    assert.deepEqual(errors("[file:size = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'"), ['STIX_PATTERN_START_STOP_ORDER']);
    assert.deepEqual(errors("[file:size = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"), ['STIX_PATTERN_SYNTAX']);
    assert.deepEqual(errors("[file:size = 1] START t'2016-06-01T00:00:00Z'"), ['STIX_PATTERN_SYNTAX']);
  });
  it('one qualifier of each type per observation expression', () => {
    assert.deepEqual(errors('[file:size = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS'), ['STIX_PATTERN_QUALIFIER_DUPLICATE']);
    assert.deepEqual(errors('([file:size = 1] REPEATS 2 TIMES REPEATS 3 TIMES)'), ['STIX_PATTERN_QUALIFIER_DUPLICATE']);
    assert.deepEqual(errors('([file:size = 1] REPEATS 2 TIMES) REPEATS 2 TIMES'), []);
    assert.deepEqual(errors("[file:size = 1] REPEATS 2 TIMES WITHIN 5 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"), []);
  });
});

describe('STIX patterns: syntax errors', () => {
  const cases: [string, string][] = [
    ['file:size = 1280', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = ]', 'STIX_PATTERN_SYNTAX'],
    ['[file.size = 1280]', 'STIX_PATTERN_SYNTAX'],
    ['[file:name MATCHES /.*\\.dll/]', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1]]', 'STIX_PATTERN_SYNTAX'],
    ['([file:size = 1]', 'STIX_PATTERN_SYNTAX'],
    ['[]', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1] AND', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1] [file:size = 2]', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1 AND OR file:size = 2]', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1] and [file:size = 2]', 'STIX_PATTERN_KEYWORD_CASE'],
    ['[foo-bar:bar=1] within 2 seconds', 'STIX_PATTERN_KEYWORD_CASE'],
    ['[file:name like \'a\']', 'STIX_PATTERN_KEYWORD_CASE'],
    ['', 'STIX_PATTERN_EMPTY'],
    [' \n\t ', 'STIX_PATTERN_EMPTY'],
    ['[file:size = 1] /* open', 'STIX_PATTERN_SYNTAX'],
    ['[file:size ! 1]', 'STIX_PATTERN_SYNTAX'],
    ['[file:size = 1] § ', 'STIX_PATTERN_SYNTAX'],
  ];
  for (const [p, code] of cases) {
    it(`${code}: ${JSON.stringify(p)}`, () => {
      assert.deepEqual(errors(p), [code]);
      assert.equal(parsePattern(p).ok, false);
    });
  }
  it('the message says where and what was expected', () => {
    const [f] = checkPattern('[file:size = ]', '/objects/3/pattern');
    assert.deepEqual([f?.code, f?.severity, f?.path], ['STIX_PATTERN_SYNTAX', 'error', '/objects/3/pattern']);
    assert.match(f!.message, /expected a constant, found '\]' \(at offset 13\)/);
  });
  it('a non-string pattern is reported, not thrown', () => {
    assert.deepEqual(checkPattern(42 as unknown as string).map((f) => f.code), ['STIX_PATTERN_NOT_A_STRING']);
  });
  it('comments are read as whitespace with one warning', () => {
    assert.deepEqual(warnings('[file:size = 1] /* a */ AND // b\n [file:size = 2]'), ['STIX_PATTERN_NONSTANDARD_SYNTAX']);
  });
  it('parsePattern is ok with warnings and returns them', () => {
    const r = parsePattern('[x-thing:foo = 1]');
    assert.equal(r.ok, true);
    assert.deepEqual(r.findings.map((f) => f.code), ['STIX_PATTERN_UNKNOWN_OBJECT_TYPE']);
  });
});

describe('STIX patterns: MATCHES regular expressions (§9.6.1)', () => {
  for (const re of ['^a.*b$', '(?i)mixed', '(?>atomic)x', 'a++', '\\Astart\\Z', '\\p{L}+', '[[:alpha:]]+', '(?<name>x)\\k<name>', '(?<=a)b']) {
    it(`accepts ${re}`, () => assert.deepEqual(errors(`[file:name MATCHES '${re.replace(/\\/g, '\\\\')}']`), []));
  }
  for (const re of ['(unclosed', 'a)', '[abc', '*a', 'a{2,1}']) {
    it(`rejects ${re}`, () => assert.deepEqual(errors(`[file:name MATCHES '${re}']`), ['STIX_PATTERN_REGEX_INVALID']));
  }
});

describe('STIX patterns: findings are capped per severity', () => {
  it('a pattern with 1,000 bad numbers yields MAX_PATTERN_FINDINGS errors', () => {
    const p = '[' + Array.from({ length: 1000 }, () => 'file:size = +1').join(' OR ') + ']';
    assert.equal(errors(p).length, MAX_PATTERN_FINDINGS);
  });
  it('warnings filling the cap never hide a later error', () => {
    // 200 distinct unknown properties (one repeated 200 times would be one finding).
    const p = '[' + Array.from({ length: 200 }, (_, i) => `file:unknown_${i} = 1`).join(' OR ') + ' OR file:size = +1]';
    assert.deepEqual(errors(p), ['STIX_PATTERN_NUMBER_INVALID']);
    assert.equal(parsePattern(p).ok, false);
  });
});
