// STIX 2.1 → 2.0 down-conversion (taxii/taxii20/stix20.ts), object by object, each result checked
// against the STIX 2.0 rules of test/helpers/stix20-rules.ts.
import { expect } from 'chai';
import { type StixObject, toStix20 } from '../../taxii/taxii20/stix20.js';
import { stix20Violations } from '../helpers/stix20-rules.js';

const T = '2024-01-01T00:00:00.000Z';
const id = (type: string, n: number) => `${type}--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const sdo = (type: string, n: number, extra: StixObject = {}): StixObject => ({ type, spec_version: '2.1', id: id(type, n), created: T, modified: T, ...extra });
const none = () => undefined;

function converted(o: StixObject, resolve: (id: string) => StixObject | undefined = none): StixObject {
  const c = toStix20(o, resolve);
  if (!('object' in c)) throw new Error(`skipped: ${c.skipped}`);
  expect(stix20Violations(c.object)).to.deep.equal([]);
  return c.object;
}
const skipped = (o: StixObject, resolve: (id: string) => StixObject | undefined = none) => {
  const c = toStix20(o, resolve);
  return 'skipped' in c ? c.skipped : undefined;
};

describe('STIX 2.1 → 2.0 down-conversion', () => {
  it('indicator: indicator_types → labels; pattern_type, pattern_version, confidence, lang, extensions and spec_version go; custom x_ stays', () => {
    const out = converted(sdo('indicator', 1, { indicator_types: ['anomalous-activity'], pattern: "[url:value = 'http://x.example']", pattern_type: 'stix', pattern_version: '2.1', valid_from: T, confidence: 50, lang: 'en', x_acme_score: 7, extensions: { 'extension-definition--00000000-0000-4000-8000-000000000001': { extension_type: 'property-extension' } } }));
    expect(out).to.deep.equal({ type: 'indicator', id: id('indicator', 1), created: T, modified: T, pattern: "[url:value = 'http://x.example']", valid_from: T, x_acme_score: 7, labels: ['anomalous-activity'] });
  });

  it('indicator without indicator_types: its 2.1 labels, else ["unknown"]; a non-STIX pattern is skipped', () => {
    expect(converted(sdo('indicator', 2, { pattern: '[x:y = 1]', pattern_type: 'stix', valid_from: T, labels: ['tagged'] })).labels).to.deep.equal(['tagged']);
    expect(converted(sdo('indicator', 3, { pattern: '[x:y = 1]', pattern_type: 'stix', valid_from: T })).labels).to.deep.equal(['unknown']);
    expect(skipped(sdo('indicator', 4, { pattern: 'alert tcp any any', pattern_type: 'snort', valid_from: T }))).to.equal('pattern-not-stix');
  });

  it('malware: malware_types → labels, no is_family or other 2.1-only property; without a name it is skipped', () => {
    const out = converted(sdo('malware', 1, { name: 'X', malware_types: ['ransomware'], is_family: false, first_seen: T, capabilities: ['exfiltrates-data'], sample_refs: [id('file', 1)] }));
    expect(out).to.deep.equal({ type: 'malware', id: id('malware', 1), created: T, modified: T, name: 'X', labels: ['ransomware'] });
    expect(skipped(sdo('malware', 2, { malware_types: ['ransomware'], is_family: false }))).to.equal('name-required-in-stix-2.0');
  });

  it('report, threat-actor, tool: *_types → labels; identity gets identity_class "unknown" and loses roles', () => {
    expect(converted(sdo('report', 1, { name: 'R', report_types: ['campaign'], published: T, object_refs: [id('malware', 1)] })).labels).to.deep.equal(['campaign']);
    expect(converted(sdo('threat-actor', 1, { name: 'TA', threat_actor_types: ['crime-syndicate'], first_seen: T })).labels).to.deep.equal(['crime-syndicate']);
    expect(converted(sdo('tool', 1, { name: 'nmap', tool_types: ['information-gathering'], aliases: ['n'] })).labels).to.deep.equal(['information-gathering']);
    const identity = converted(sdo('identity', 1, { name: 'CERT', roles: ['responder'] }));
    expect(identity).to.include({ identity_class: 'unknown' }).and.not.have.property('roles');
  });

  it('observed-data: object_refs → embedded objects with local keys, refs rewritten, process image_ref → binary_ref', () => {
    const file = { type: 'file', spec_version: '2.1', id: id('file', 1), name: 'a.exe', hashes: { 'SHA-256': 'ab'.repeat(32) } };
    const proc = { type: 'process', spec_version: '2.1', id: id('process', 1), pid: 4, image_ref: file.id, defanged: false };
    const scos = new Map<string, StixObject>([[file.id, file], [proc.id, proc]]);
    const out = converted(sdo('observed-data', 1, { first_observed: T, last_observed: T, number_observed: 1, object_refs: [proc.id, file.id] }), (i) => scos.get(i));
    expect(out.objects).to.deep.equal({ 0: { type: 'process', pid: 4, binary_ref: '1' }, 1: { type: 'file', name: 'a.exe', hashes: { 'SHA-256': 'ab'.repeat(32) } } });
    expect(out).to.not.have.property('object_refs');
  });

  it('observed-data is skipped when an observable is missing, refers outside the set, or carries other markings', () => {
    const ip = { type: 'ipv4-addr', id: id('ipv4-addr', 1), value: '192.0.2.1' };
    const dn = { type: 'domain-name', id: id('domain-name', 1), value: 'a.example', resolves_to_refs: [ip.id] };
    const od = sdo('observed-data', 2, { first_observed: T, last_observed: T, number_observed: 1, object_refs: [dn.id] });
    expect(skipped(od)).to.equal('observed-data-reference-unresolved');
    expect(skipped(od, (i) => ({ [dn.id]: dn, [ip.id]: ip })[i])).to.equal('observed-data-reference-unresolved');
    const marked = { ...ip, object_marking_refs: ['marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed'] };
    expect(skipped(sdo('observed-data', 3, { first_observed: T, last_observed: T, number_observed: 1, object_refs: [ip.id] }), () => marked)).to.equal('marking-not-expressible');
  });

  it('relationship and sighting: kept between 2.0 objects, skipped when an end is an observable or a 2.1-only type; start_time goes', () => {
    const ok = converted(sdo('relationship', 1, { relationship_type: 'uses', source_ref: id('threat-actor', 1), target_ref: id('malware', 1), start_time: T }));
    expect(ok).to.not.have.property('start_time');
    expect(skipped(sdo('relationship', 2, { relationship_type: 'located-at', source_ref: id('identity', 1), target_ref: id('location', 1) }))).to.equal('reference-to-object-not-in-stix-2.0');
    expect(skipped(sdo('sighting', 1, { sighting_of_ref: id('ipv4-addr', 1) }))).to.equal('reference-to-object-not-in-stix-2.0');
    converted(sdo('sighting', 2, { sighting_of_ref: id('indicator', 1), count: 2 }));
  });

  it('markings: TLP 1.0 definitions kept without name or spec_version; TLP 2.0 (extensions) skipped; lang granular markings skip their object', () => {
    const tlp1 = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', created: '2017-01-20T00:00:00.000Z', name: 'TLP:AMBER', definition_type: 'tlp', definition: { tlp: 'amber' } };
    expect(converted(tlp1)).to.deep.equal({ type: 'marking-definition', id: tlp1.id, created: tlp1.created, definition_type: 'tlp', definition: { tlp: 'amber' } });
    const tlp2 = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421', created: '2022-10-01T00:00:00.000Z', name: 'TLP:AMBER', extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'amber' } } };
    expect(skipped(tlp2)).to.equal('type-not-in-stix-2.0');
    // A reference to a TLP 2.0 marking stays on the object: nothing is shown more widely.
    expect(converted(sdo('vulnerability', 1, { name: 'CVE-1', object_marking_refs: [tlp2.id] })).object_marking_refs).to.deep.equal([tlp2.id]);
    expect(skipped(sdo('vulnerability', 2, { name: 'CVE-2', granular_markings: [{ lang: 'fr', selectors: ['name'] }] }))).to.equal('marking-not-expressible');
  });

  it('2.1-only types and lone observables are skipped; custom objects are kept without spec_version', () => {
    for (const type of ['grouping', 'infrastructure', 'location', 'malware-analysis', 'note', 'opinion', 'language-content', 'extension-definition']) expect(skipped(sdo(type, 1)), type).to.equal('type-not-in-stix-2.0');
    expect(skipped({ type: 'ipv4-addr', spec_version: '2.1', id: id('ipv4-addr', 1), value: '192.0.2.1' })).to.equal('cyber-observable-is-embedded-in-observed-data');
    expect(converted(sdo('x-acme-widget', 1, { size: 3 }))).to.deep.equal({ type: 'x-acme-widget', id: id('x-acme-widget', 1), created: T, modified: T, size: 3 });
    expect(skipped({ type: 'indicator' })).to.equal('malformed');
  });
});
