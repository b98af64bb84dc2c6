// Object paths (§9.7) checked against the SCO definitions of §6: lists, dictionaries, references,
// extensions, nested types; unknown names warn, malformed paths are errors.
import assert from 'node:assert/strict';
import { checkPattern, parsePattern } from '../../../stix-schemas/pattern/index.js';
import { codes, errors } from './helpers.js';

describe('STIX patterns: object paths (§9.7)', () => {
  it('parses steps: properties, quoted names, indexes and [*] (§9.7.2)', () => {
    const r = parsePattern("[file:extensions.'windows-pebinary-ext'.sections[*].hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']");
    if (!r.ok || r.ast.expression.kind !== 'observation' || r.ast.expression.comparison.kind !== 'comparison') throw new Error('no parse');
    const { objectType, steps } = r.ast.expression.comparison.path;
    assert.deepEqual({ objectType, steps }, {
      objectType: 'file',
      steps: [
        { kind: 'property', name: 'extensions', quoted: false },
        { kind: 'property', name: 'windows-pebinary-ext', quoted: true },
        { kind: 'property', name: 'sections', quoted: false },
        { kind: 'index', index: '*' },
        { kind: 'property', name: 'hashes', quoted: false },
        { kind: 'property', name: 'SHA-256', quoted: true },
      ],
    });
  });
  const clean = [
    '[network-traffic:protocols[0] = \'tcp\']',
    "[file:extensions.'raster-image-ext'.image_height > 100]",
    "[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'x']",
    "[file:extensions.'archive-ext'.contains_refs[*].name = 'a.exe']",
    "[file:extensions.'windows-pebinary-ext'.optional_header.size_of_code > 0]",
    "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'x']",
    "[network-traffic:extensions.'tcp-ext'.src_flags_hex = h'02']",
    "[network-traffic:extensions.'socket-ext'.is_listening = true]",
    "[network-traffic:extensions.'icmp-ext'.icmp_type_hex = h'08']",
    "[process:extensions.'windows-service-ext'.service_dll_refs[0].name = 'a.dll']",
    "[process:extensions.'windows-process-ext'.startup_info.anything = 'x']",
    "[process:parent_ref.image_ref.parent_directory_ref.path = 'C:\\\\']",
    "[user-account:extensions.'unix-account-ext'.groups[*] = 'wheel']",
    "[x509-certificate:x509_v3_extensions.basic_constraints = 'CA:TRUE']",
    "[windows-registry-key:values[*].data_type = 'REG_SZ']",
    "[directory:contains_refs[*].name = 'x']",
    "[email-message:to_refs[*].belongs_to_ref.user_id = 'x']",
    "[file:extensions.'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e'.rank > 5]",
    "[file:extensions.'x-custom-ext'.anything.deep[3] = 1]",
    "[ipv4-addr:object_marking_refs[0].name = 'x']",
    "[file:granular_markings[0].selectors[*] = 'name']",
    "[file:defanged = false AND file:spec_version = '2.1' AND file:id = 'file--x']",
    "[autonomous-system:number = 15139 AND autonomous-system:rir = 'ARIN']",
    "[mac-addr:value = 'd2:fb:49:24:37:18'] OR [mutex:name = 'm'] OR [software:languages[0] = 'en']",
    "[email-addr:value = 'a@example.com'] OR [email-message:additional_header_fields.'X-Mailer' = 'x']",
  ];
  for (const p of clean) {
    it(`accepts ${p.slice(0, 100)}`, () => assert.deepEqual(checkPattern(p), []));
  }
  const warned: [string, string][] = [
    ["[file:nmae = 'x']", 'STIX_PATTERN_UNKNOWN_PROPERTY'],
    ["[file:extensions.'windows-pebinary-ext'.sections[0].entropyy > 1]", 'STIX_PATTERN_UNKNOWN_PROPERTY'],
    ["[network-traffic:dst_ref.nope = 'x']", 'STIX_PATTERN_UNKNOWN_PROPERTY'],
    ["[x-custom-thing:anything.at[0].all = 'x']", 'STIX_PATTERN_UNKNOWN_OBJECT_TYPE'],
    ["[indicator:name = 'x']", 'STIX_PATTERN_NOT_SCO_TYPE'],
    ["[file:extensions.'tcp-ext'.src_flags_hex = h'02']", 'STIX_PATTERN_UNKNOWN_EXTENSION'],
    ["[file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", 'STIX_PATTERN_HASH_ALGORITHM_UNKNOWN'],
    ["[network-traffic:protocols = 'tcp']", 'STIX_PATTERN_LIST_WITHOUT_INDEX'],
    ["[file:size = 'big']", 'STIX_PATTERN_VALUE_TYPE_MISMATCH'],
    ["[network-traffic:start = '2018-04-20T12:36:24.558Z']", 'STIX_PATTERN_VALUE_TYPE_MISMATCH'],
    ["[file:name = true]", 'STIX_PATTERN_VALUE_TYPE_MISMATCH'],
    ["[file:size MATCHES '^1']", 'STIX_PATTERN_VALUE_TYPE_MISMATCH'],
    ["[file:size IN ('a', 'b')]", 'STIX_PATTERN_VALUE_TYPE_MISMATCH'],
    ['[file:constructor = 1]', 'STIX_PATTERN_UNKNOWN_PROPERTY'],
  ];
  for (const [p, code] of warned) {
    it(`warns ${code}: ${p}`, () => assert.deepEqual(codes(p), [code]));
  }
  it('binary/hex/string constants are mutually comparable (§9.2, §9.6.4)', () => {
    assert.deepEqual(checkPattern("[artifact:payload_bin = 'this is a test' OR artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=' OR artifact:payload_bin = h'74686973']"), []);
  });
  const bad: [string, string][] = [
    ["[file:hashes.SHA-256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", 'STIX_PATTERN_PATH_INVALID'],
    ["[file:extensions.windows-pebinary-ext.pe_type = 'exe']", 'STIX_PATTERN_PATH_INVALID'],
    ["[file:name[0] = 'x']", 'STIX_PATTERN_PATH_INVALID'],
    ["[file:size.bytes = 1]", 'STIX_PATTERN_PATH_INVALID'],
    ["[network-traffic:protocols[-1] = 'tcp']", 'STIX_PATTERN_PATH_INVALID'],
    ["[file:'' = 'x']", 'STIX_PATTERN_PATH_INVALID'],
    ["[x_whatever:detected = t'2018-03-22T12:11:14.1Z']", 'STIX_PATTERN_OBJECT_TYPE_INVALID'],
    ["[File:name = 'x']", 'STIX_PATTERN_OBJECT_TYPE_INVALID'],
    ["[file:hashes.'SHA-256' = 'f00']", 'STIX_PATTERN_HASH_VALUE_INVALID'],
    ["[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'zz')]", 'STIX_PATTERN_HASH_VALUE_INVALID'],
    ["[ipv6-addr:value ISSUBSET '10.0.0.0/8']", 'STIX_PATTERN_IP_INVALID'],
    ["[network-traffic:src_port ISSUBSET '10.0.0.0/8']", 'STIX_PATTERN_SUBSET_PATH'],
    ['[file:]', 'STIX_PATTERN_SYNTAX'],
    ['[file:name. = 1]', 'STIX_PATTERN_SYNTAX'],
    ['[file:name[x] = 1]', 'STIX_PATTERN_SYNTAX'],
    ['[file:name[0 = 1]', 'STIX_PATTERN_SYNTAX'],
  ];
  for (const [p, code] of bad) {
    it(`rejects ${code}: ${p}`, () => assert.deepEqual(errors(p), [code]));
  }
  it('hash values of the other algorithms are not length-checked', () => {
    assert.deepEqual(checkPattern("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C' OR file:hashes.TLSH = 'x']"), []);
  });
  it('a hash compared with LIKE is not length-checked', () => {
    assert.deepEqual(checkPattern("[file:hashes.MD5 LIKE 'cead%']"), []);
  });
});
