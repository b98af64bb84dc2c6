// The normaliser: idempotent (fast-check), canonical timestamps and hashes, SCO ids, 2.0 upgrade, enrichment.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalise } from '../../../stix-schemas/normalise.js';
import { processObject, processObjects } from '../../../stix-schemas/pipeline.js';
import { canonicalTimestamp, timestampKey } from '../../../stix-schemas/timestamp.js';
import { IDENTITY, indicator, ipv4, malware, sdo } from '../../fixtures/stix/by-code.js';

const timestampArb = fc.record({
  y: fc.integer({ min: 1970, max: 2100 }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }),
  h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }),
  f: fc.stringMatching(/^[0-9]{0,9}$/),
}).map(({ y, mo, d, h, mi, s, f }) => {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}${f ? `.${f}` : ''}Z`;
});
const hashKeyArb = fc.constantFrom('MD5', 'md5', 'sha1', 'SHA-1', 'sha256', 'SHA256', 'SHA-256', 'x_custom');
const customArb = fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null && JSON.stringify(v).indexOf('null') < 0), { maxKeys: 3 });

const objectArb = fc.oneof(
  fc.record({ created: timestampArb, custom: customArb, aliases: fc.array(fc.string(), { minLength: 1, maxLength: 3 }) })
    .map(({ created, custom, aliases }) => ({ ...custom, ...malware({ created, modified: created, aliases }) })),
  fc.record({ from: timestampArb, custom: customArb }).map(({ from, custom }) => ({ ...custom, ...indicator({ valid_from: from }) })),
  fc.record({ key: hashKeyArb, name: fc.string({ minLength: 1 }), mtime: timestampArb })
    .map(({ key, name, mtime }) => ({ type: 'file', name, mtime, hashes: { [key]: 'ab'.repeat(16) } })),
  fc.record({ value: fc.ipV4() }).map(({ value }) => ({ type: 'ipv4-addr', value })),
  // STIX 2.0 style objects
  fc.record({ created: timestampArb, labels: fc.array(fc.constantFrom('trojan', 'worm'), { minLength: 1 }) })
    .map(({ created, labels }) => ({ type: 'malware', id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created, modified: created, name: 'm', labels })),
);

describe('normaliser', () => {
  it('is idempotent: normalise(normalise(x)) equals normalise(x) (fast-check)', () => {
    fc.assert(fc.property(objectArb, fc.boolean(), (obj, recompute) => {
      const opts = { scoIds: recompute ? 'recompute' as const : 'fill' as const };
      const once = normalise(obj, opts);
      const twice = normalise(once, opts);
      assert.deepEqual(twice, once);
      assert.equal(JSON.stringify(twice), JSON.stringify(once)); // key order too
    }), { numRuns: 300 });
  });

  it('keeps every key the vendor sent, "__proto__" and "constructor" included, as own properties', () => {
    // JSON.parse makes "__proto__" an own property; plain assignment would make it the prototype.
    const sent = JSON.parse('{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-02T03:04:05.000Z",'
      + '"modified":"2024-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = \'198.51.100.1\']","pattern_type":"stix","valid_from":"1970-01-01T00:00:00Z",'
      + '"x_a":{"__proto__":[1],"constructor":2,"toString":3},"constructor":"c"}') as Record<string, unknown>;
    const once = normalise(sent);
    const x = once.x_a as Record<string, unknown>;
    assert.deepEqual(Object.keys(x), ['__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(x), Object.prototype);
    assert.equal(once.constructor, 'c');
    assert.equal(JSON.stringify(normalise(JSON.parse(JSON.stringify(once)) as Record<string, unknown>)), JSON.stringify(once));
    assert.match(JSON.stringify(once), /"x_a":\{"__proto__":\[1\],"constructor":2,"toString":3\}/);
  });

  it('keeps the instant of every timestamp (fast-check)', () => {
    fc.assert(fc.property(timestampArb, (t) => {
      const c = canonicalTimestamp(t);
      assert.ok(c);
      assert.equal(timestampKey(c), timestampKey(t));
      assert.equal(canonicalTimestamp(c), c);
    }));
  });

  it('writes timestamps canonically without precision loss (§2.16)', () => {
    assert.equal(canonicalTimestamp('2016-01-20T12:31:12Z'), '2016-01-20T12:31:12.000Z');
    assert.equal(canonicalTimestamp('2016-01-20T12:31:12.1Z'), '2016-01-20T12:31:12.100Z');
    assert.equal(canonicalTimestamp('2016-01-20T12:31:12.123456789Z'), '2016-01-20T12:31:12.123456789Z');
    assert.equal(canonicalTimestamp('2016-01-20T12:31:12.120000Z'), '2016-01-20T12:31:12.120Z');
    const out = processObject(indicator({ valid_from: '2016-01-20T12:31:12Z' }));
    assert.equal(out.object?.valid_from, '2016-01-20T12:31:12.000Z');
  });

  it('puts properties in a stable order', () => {
    const shuffled = { name: 'm', is_family: true, modified: '2024-01-02T03:04:05.000Z', x_b: 1, x_a: 2, ...malware() };
    const keys = Object.keys(processObject(shuffled).object ?? {});
    assert.deepEqual(keys, ['type', 'spec_version', 'id', 'created', 'modified', 'name', 'is_family', 'x_a', 'x_b']);
  });

  it('spells hash algorithms canonically (§2.7) and fills a missing SCO id deterministically (§2.9)', () => {
    const out = processObject({ type: 'file', name: 'a.exe', hashes: { sha256: 'a'.repeat(64) } });
    assert.ok(out.ok);
    assert.deepEqual(out.object?.hashes, { 'SHA-256': 'a'.repeat(64) });
    const again = processObject({ type: 'file', name: 'a.exe', hashes: { 'SHA-256': 'a'.repeat(64) } });
    assert.equal(out.object?.id, again.object?.id);
    assert.match(String(out.object?.id), /^file--[0-9a-f]{8}-[0-9a-f]{4}-5/);
  });

  it('computes the §2.9 example id and recomputes non-deterministic ids on request, rewriting references', () => {
    assert.equal(processObject({ type: 'ipv4-addr', value: '198.51.100.3' }).object?.id, ipv4().id);
    const wrong = 'ipv4-addr--ff26c055-6336-4bc5-b98d-13d6226742dd';
    const [addr, traffic] = processObjects([
      ipv4({ id: wrong }),
      { type: 'network-traffic', id: 'network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d', src_ref: wrong, protocols: ['tcp'] },
    ], { scoIds: 'recompute' });
    assert.equal(addr?.object?.id, ipv4().id);
    assert.equal(addr?.originalId, wrong);
    assert.equal(traffic?.object?.src_ref, ipv4().id);
  });

  it('applies the enrichment hooks only where the object has none', () => {
    const tlp = 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487';
    const opts = { defaultMarkingRefs: [tlp], defaultCreatedByRef: IDENTITY };
    const out = processObject(malware(), opts).object;
    assert.deepEqual(out?.object_marking_refs, [tlp]);
    assert.equal(out?.created_by_ref, IDENTITY);
    const own = processObject(malware({ created_by_ref: 'identity--0b5a1d4c-4e4f-4c3b-9d2e-1f0a9b8c7d6e' }), opts).object;
    assert.equal(own?.created_by_ref, 'identity--0b5a1d4c-4e4f-4c3b-9d2e-1f0a9b8c7d6e');
    assert.equal(processObject(ipv4(), opts).object?.created_by_ref, undefined); // SCOs are not given a creator
  });
});

describe('STIX 2.0 upgrade', () => {
  const T = '2017-05-31T21:30:19.735Z';
  it('upgrades labels, is_family, pattern_type and valid_from, with a warning', () => {
    const out = processObject({ type: 'indicator', id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created: T, modified: T,
      labels: ['malicious-activity'], pattern: "[file:name = 'a']" });
    assert.ok(out.ok, JSON.stringify(out.findings));
    assert.equal(out.object?.spec_version, '2.1');
    assert.deepEqual(out.object?.indicator_types, ['malicious-activity']);
    assert.equal(out.object?.labels, undefined);
    assert.equal(out.object?.pattern_type, 'stix');
    assert.equal(out.object?.valid_from, T);
    assert.ok(out.findings.some((f) => f.code === 'STIX_UPGRADED_FROM_20' && f.severity === 'warning'));
    const mal = processObject({ type: 'malware', id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created: T, modified: T, name: 'x', labels: ['worm'] });
    assert.equal(mal.object?.is_family, true);
    assert.deepEqual(mal.object?.malware_types, ['worm']);
  });

  it('pulls observed-data objects out into SCOs with UUIDv5 ids and object_refs, renaming 2.0 properties', () => {
    const out = processObject({
      type: 'observed-data', id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf', created: T, modified: T,
      first_observed: T, last_observed: T, number_observed: 1,
      objects: {
        0: { type: 'ipv4-addr', value: '198.51.100.3' },
        1: { type: 'network-traffic', src_ref: '0', protocols: ['tcp'] },
        2: { type: 'file', name: 'a.exe', created: '2017-01-01T00:00:00Z' },
      },
    });
    assert.ok(out.ok, JSON.stringify(out.findings));
    assert.equal(out.object?.objects, undefined);
    const derived = out.derived ?? [];
    assert.deepEqual(out.object?.object_refs, derived.map((d) => d.id));
    assert.equal(derived[0]?.id, ipv4().id);
    assert.equal(derived[1]?.src_ref, ipv4().id);
    assert.equal(derived[2]?.ctime, '2017-01-01T00:00:00.000Z');
    assert.equal(derived[2]?.created, undefined);
  });

  it('rejects a container reference that does not resolve', () => {
    const out = processObject({ type: 'observed-data', id: 'observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf', created: T, modified: T,
      first_observed: T, last_observed: T, number_observed: 1, objects: { 0: { type: 'network-traffic', src_ref: '7', protocols: ['tcp'] } } });
    assert.equal(out.ok, false);
    assert.ok(out.findings.some((f) => f.code === 'STIX_UPGRADE_UNSUPPORTED'));
  });
});

describe('pipeline robustness', () => {
  it('answers deep and huge inputs without throwing', () => {
    let deepList: unknown = 1;
    for (let i = 0; i < 200_000; i++) deepList = [deepList];
    const out = processObject(sdo('x-acme-thing', { x_deep: deepList }));
    assert.equal(out.ok, false);
    assert.ok(out.findings.some((f) => f.code === 'STIX_TOO_DEEP'));
    const wide = processObject(malware({ aliases: Array.from({ length: 200_000 }, (_, i) => `a${i}`) }));
    assert.ok(wide.ok);
  });
  it('never lets warnings reject, unless strict', () => {
    const o = malware({ malware_types: ['something-else'] });
    assert.equal(processObject(o).ok, true);
    assert.equal(processObject(o, { strict: true }).ok, false);
  });
  it('accepts real RFC 5646 tags (§3.2 lang)', () => {
    for (const lang of ['en', 'en-US', 'zh-Hant', 'es-419', 'de-CH-1996']) assert.ok(processObject(malware({ lang })).ok, lang);
  });
  it('accepts unknown x- types as custom objects (§11.2) and TLP 2.0 markings', () => {
    assert.ok(processObject(sdo('x-acme-widget', { anything_goes: { deep: [1, 2] } })).ok);
    const tlp2 = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      created: '2022-10-01T00:00:00.000Z', name: 'TLP:CLEAR',
      extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'clear' } } };
    assert.ok(processObject(tlp2).ok);
    assert.equal(processObject({ ...tlp2, id: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb' }).ok, false);
  });
});

describe('indicator patterns (§4.7, §9)', () => {
  it('parses "stix" patterns with the pattern engine and leaves other pattern types opaque', () => {
    assert.ok(processObject(indicator()).ok);
    const bad = processObject(indicator({ pattern: "[ipv4-addr:value = '1.2.3.4'" }));
    assert.equal(bad.ok, false);
    assert.ok(bad.findings.every((f) => f.path === '/pattern' && f.code.startsWith('STIX_PATTERN_')), JSON.stringify(bad.findings));
    assert.ok(processObject(indicator({ pattern_type: 'yara', pattern: 'rule x { condition: true }' })).ok);
  });
});
