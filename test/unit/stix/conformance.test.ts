// Edge cases of the conformance rules beyond the one valid / one invalid fixture per rule (by-code.ts), and the
// wording of findings: value quoted safely, type names quoted, what an upgrade or a filled id did.
import assert from 'node:assert/strict';
import { unpack } from '../../../stix-schemas/container.js';
import { QUOTE_LIMIT, quote } from '../../../stix-schemas/findings.js';
import { processObject } from '../../../stix-schemas/pipeline.js';
import { IDENTITY, malware, process as processSco, sdo } from '../../fixtures/stix/by-code.js';

type Obj = Record<string, unknown>;
const findings = (o: Obj, options = {}) => processObject(o, options).findings;
const codes = (o: Obj, options = {}) => findings(o, options).map((f) => f.code);
const errorCodes = (o: Obj) => findings(o).filter((f) => f.severity === 'error').map((f) => f.code);

describe('STIX conformance rules: edge cases', () => {
  it('§6.5 email-addr: display names refused, quoted local parts kept', () => {
    const addr = (value: string): Obj => ({ type: 'email-addr', spec_version: '2.1', value });
    for (const value of ['"John Doe" <john@example.com>', 'John Doe <john@example.com>', '<john@example.com>', 'John Doe john@example.com']) {
      assert.ok(errorCodes(addr(value)).includes('STIX_VALUE_FORMAT'), value);
    }
    for (const value of ['john@example.com', '"john doe"@example.com', 'o\'brien+tag@example.co.uk']) {
      assert.deepEqual(errorCodes(addr(value)), [], value);
    }
  });

  it('§6.17 windows-registry-key: every abbreviated hive, any case, is refused', () => {
    const key = (k: string): Obj => ({ type: 'windows-registry-key', key: k });
    for (const k of ['HKLM\\Software', 'hkcu\\x', 'HKCR\\x', 'HKU\\x', 'HKCC', 'HKPD\\x', 'HKDD\\x']) {
      const f = findings(key(k)).find((x) => x.code === 'STIX_VALUE_FORMAT');
      assert.ok(f, k);
      assert.match(f.message, /MUST be fully expanded: HKEY_[A-Z_]+, not HK/);
    }
    for (const k of ['HKEY_LOCAL_MACHINE\\Software', 'HKEY_USERS', 'HKLMX\\x']) assert.deepEqual(errorCodes(key(k)), [], k);
  });

  it('§3.8 reserved names on SCOs, SDOs and inside embedded objects', () => {
    assert.ok(errorCodes({ type: 'user-account', user_id: '1001', username: 'root' }).includes('STIX_RESERVED_PROPERTY'));
    assert.ok(errorCodes(malware({ phone_number: '+1 555' })).includes('STIX_RESERVED_PROPERTY'));
    assert.ok(errorCodes(malware({ external_references: [{ source_name: 'x', url: 'https://e.com', severity: 'high' }] })).includes('STIX_RESERVED_PROPERTY'));
    assert.deepEqual(errorCodes(malware({ x_acme_username: 'root' })), []);
  });

  it('§2.9 SCO ids: UUIDv4 MUST without ID contributing properties, UUIDv5 only SHOULD with them', () => {
    assert.deepEqual(errorCodes(processSco()), []);
    const v1 = findings(processSco({ id: 'process--f52a906a-0dfc-11ee-8b7b-86b4bfb7ffc2' })).find((f) => f.code === 'STIX_SCO_ID_NOT_UUIDV4');
    assert.match(v1!.message, /a process has no ID contributing properties, so its id MUST use a UUIDv4; this is a UUIDv1 \(§2\.9, §6\.13\)/);
    // An artifact with hashes has a contributing property: an id that is not its UUIDv5 is only a SHOULD.
    const artifact = { type: 'artifact', id: 'artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641', url: 'https://example.com/a', hashes: { 'SHA-256': 'a'.repeat(64) } };
    assert.deepEqual(errorCodes(artifact), []);
    const mismatch = findings({ type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' });
    assert.deepEqual(mismatch.map((f) => [f.code, f.severity]), [['STIX_SCO_ID_NOT_DETERMINISTIC', 'warning']]);
    assert.match(mismatch[0]!.message, /^SHOULD be ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4, the UUIDv5 of its ID contributing properties \(value\)/);
  });

  it('§2.9 an SCO without id: a warning naming the id filled in, an error when ids are kept', () => {
    const f = findings({ type: 'ipv4-addr', value: '198.51.100.3' });
    assert.deepEqual(f.map((x) => x.code), ['STIX_SCO_ID_FILLED']);
    assert.match(f[0]!.message, /filled in ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4, the UUIDv5 of its ID contributing properties/);
    assert.equal(processObject({ type: 'ipv4-addr', value: '198.51.100.3' }).object?.id, 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4');
    const kept = processObject({ type: 'ipv4-addr', value: '198.51.100.3' }, { scoIds: 'keep' });
    assert.equal(kept.ok, false);
    assert.deepEqual(kept.findings.map((x) => [x.code, x.path]), [['STIX_ID_INVALID', '/id'], ['STIX_REQUIRED_PROPERTY', '/id']]);
  });

  it('§3.2 / §7.3 extension keys: errors on SDOs unless extension-definition ids; §11.3 "-ext" names on SCOs', () => {
    assert.ok(errorCodes(malware({ extensions: { 'x-acme-ext': { rank: 1 } } })).includes('STIX_EXTENSION_INVALID'));
    assert.ok(errorCodes(malware({ extensions: { 'ntfs-ext': { sid: '1' } } })).includes('STIX_EXTENSION_INVALID'));
    assert.deepEqual(errorCodes({ type: 'file', name: 'a', extensions: { 'x-acme-ext': { rank: 1 } } }), []);
    assert.deepEqual(codes({ type: 'file', name: 'a', extensions: { 'acme-ext': { rank: 1 } } }).filter((c) => c.startsWith('STIX_EXT')), ['STIX_EXTENSION_NAME']);
    assert.ok(errorCodes({ type: 'file', name: 'a', extensions: { 'x-acme': { rank: 1 } } }).includes('STIX_EXTENSION_INVALID'));
  });

  it('§4.19 / §4.1 CVE and CAPEC ids: exact source_name, exact id; other sources untouched', () => {
    const vuln = (ref: Obj): Obj => sdo('vulnerability', { name: 'v', external_references: [ref] });
    for (const ref of [{ source_name: 'CVE', external_id: 'CVE-2014-0160' }, { source_name: 'nvd', external_id: 'CVE-2014-0160' }, { source_name: 'cve', external_id: 'cve-2014-0160' }]) {
      assert.ok(errorCodes(vuln(ref)).includes('STIX_EXTERNAL_ID_FORMAT'), JSON.stringify(ref));
    }
    assert.deepEqual(errorCodes(vuln({ source_name: 'vendor', external_id: 'VD-2014-1', url: 'https://e.com' })), []);
    assert.ok(errorCodes(sdo('attack-pattern', { name: 'a', external_references: [{ source_name: 'CAPEC', external_id: 'CAPEC-163' }] })).includes('STIX_EXTERNAL_ID_FORMAT'));
    assert.deepEqual(errorCodes(sdo('attack-pattern', { name: 'a', external_references: [{ source_name: 'mitre-attack', external_id: 'T1566' }] })), []);
  });

  it('§7.2.1 TLP: only markings that declare TLP must be the published ones', () => {
    const tlp2Ext = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
    const base = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f', created: '2024-01-02T03:04:05.000Z' };
    const custom = { extensions: { 'extension-definition--c6a8b4f4-5b1e-4a8e-9c3c-1f1d2e3f4a5b': { extension_type: 'property-extension', tlp: 'amber' } } };
    assert.deepEqual(errorCodes({ ...base, name: 'TLP:AMBER', ...custom }), []);
    assert.deepEqual(errorCodes({ ...base, name: 'TLP:RED', definition_type: 'statement', definition: { statement: 'TLP:RED' } }), []);
    assert.ok(errorCodes({ ...base, name: 'TLP:AMBER', extensions: { [tlp2Ext]: { extension_type: 'property-extension', tlp_2_0: 'amber' } } }).includes('STIX_MARKING_DEFINITION'));
    // The published TLP 1.0 WHITE, its created written without milliseconds, is still the published object.
    const white = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', created: '2017-01-20T00:00:00Z', definition_type: 'tlp', name: 'TLP:WHITE', definition: { tlp: 'white' } };
    assert.ok(!codes(white).includes('STIX_MARKING_DEFINITION'));
  });

  it('§4.14 / §3.7 references to custom types are allowed when well formed', () => {
    const custom = 'x-acme-sensor-reading--0a8d6c4e-0c6b-4b0e-8d0a-6a3f2b1c9e7d';
    assert.deepEqual(errorCodes(sdo('report', { name: 'r', published: '2024-01-02T03:04:05.000Z', object_refs: [custom, IDENTITY] })), []);
    assert.deepEqual(errorCodes(sdo('relationship', { relationship_type: 'related-to', source_ref: custom, target_ref: IDENTITY })), []);
    assert.deepEqual(errorCodes(sdo('sighting', { sighting_of_ref: custom })), []);
  });

  it('§4.10 a country outside ISO 3166-1 keeps the location, with a SHOULD warning', () => {
    const out = processObject(sdo('location', { country: 'UK' }));
    assert.equal(out.ok, true);
    assert.deepEqual(out.findings.map((f) => [f.code, f.severity]), [['STIX_COUNTRY_INVALID', 'warning']]);
    assert.match(out.findings[0]!.message, /^SHOULD be an ISO 3166-1 alpha-2 country code \(§4\.10\); got "UK"$/);
  });
});

describe('STIX 2.0 content: one rule for missing and explicit "2.0" spec_version', () => {
  const v20 = { type: 'malware', id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created: '2024-01-02T03:04:05.000Z', modified: '2024-01-02T03:04:05.000Z', name: 'x', labels: ['trojan'] };
  it('both are upgraded alike and the finding says which and what changed', () => {
    const missing = processObject(v20);
    const explicit = processObject({ ...v20, spec_version: '2.0' });
    assert.deepEqual(explicit.object, missing.object);
    assert.equal(missing.object?.spec_version, '2.1');
    assert.deepEqual(missing.object?.malware_types, ['trojan']);
    const m = missing.findings.map((f) => f.message);
    assert.deepEqual(m, ['no spec_version on a malware, which STIX 2.1 requires to carry "2.1": read as a STIX 2.0 object (§3.2), upgraded to 2.1 before validation and stored that way: spec_version "2.1" set; labels moved to malware_types; is_family true added']);
    assert.match(explicit.findings[0]!.message, /^spec_version "2\.0": a STIX 2\.0 object \(§3\.2\), upgraded/);
  });
  it('an SCO with spec_version "2.0" gets its 2.0 property names upgraded', () => {
    const out = processObject({ type: 'file', spec_version: '2.0', id: 'file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', name: 'a', created: '2024-01-02T03:04:05.000Z' });
    assert.equal(out.object?.ctime, '2024-01-02T03:04:05.000Z');
    assert.ok(!('created' in (out.object ?? {})));
  });
  it('a bundle with spec_version: "2.0" silent, "2.1" a warning, the objects judged by their own', () => {
    const bundle = (sv: unknown) => unpack({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', spec_version: sv, objects: [v20] });
    assert.deepEqual(bundle('2.0').findings, []);
    assert.deepEqual(bundle('2.1').findings.map((f) => [f.code, f.severity, f.path]), [['STIX_BUNDLE_SPEC_VERSION', 'warning', '/spec_version']]);
  });
  it('any other spec_version is an error that quotes it', () => {
    const f = findings(malware({ spec_version: '2.1 ' })).find((x) => x.code === 'STIX_SPEC_VERSION_INVALID');
    assert.equal(f?.message, 'spec_version MUST be "2.1" (§3.2); got "2.1 "');
  });
});

describe('finding wording', () => {
  it('reference findings quote the type names', () => {
    const f = findings(malware({ created_by_ref: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' })).find((x) => x.code === 'STIX_REF_TARGET_TYPE');
    assert.match(f!.message, /^MUST NOT reference an object of type 'malware'; allowed: 'identity' \(§3\.3\); got "malware--/);
    const g = findings(sdo('malware', { name: 'x', is_family: true, sample_refs: ['identity--4f8e5b7a-2d3c-4e1f-9a8b-7c6d5e4f3a2b'] })).find((x) => x.code === 'STIX_REF_TARGET_TYPE');
    assert.match(g!.message, /allowed: 'file' or 'artifact'/);
    const h = findings(sdo('relationship', { relationship_type: 'uses', source_ref: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', target_ref: IDENTITY })).find((x) => x.code === 'STIX_REF_TARGET_TYPE');
    assert.match(h!.message, /type 'bundle'; allowed: an SDO, an SCO or a custom object type/);
  });
  it('values are quoted whole when short, cut safely when long', () => {
    assert.equal(quote('abc'), '"abc"');
    const long = `${'x'.repeat(QUOTE_LIMIT - 1)}😀tail`;
    const q = quote(long);
    assert.ok(!q.includes('\ud83d'), 'a lone surrogate escaped the cut');
    assert.match(q, /^"x{59}"… \(65 characters\)$/);
    assert.equal(quote(['a', 'b']), 'a list of 2');
    assert.equal(quote({ a: 1, b: 2, c: 3, d: 4 }), 'an object with keys "a", "b", "c" and 1 more');
    const huge = findings(malware({ first_seen: 'y'.repeat(1_000_000) }))[0]!;
    assert.ok(huge.message.length < 300, 'a megabyte value was copied into the message');
  });
});
