// STIX 2.0 (CS01) rules the TAXII 2.0 view's objects must keep, written from the 2.0 specification
// independently of the converter: what each type requires and allows, and how observed-data embeds
// its cyber observables. Returns the violations (empty when the object is valid 2.0).

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const IDENTIFIER = /^[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COMMON = ['type', 'id', 'created_by_ref', 'created', 'modified', 'revoked', 'labels', 'external_references', 'object_marking_refs', 'granular_markings'];

/** Part 2: per type, [required, optional] properties besides the common ones. */
const TYPES: Record<string, [string[], string[]]> = {
  'attack-pattern': [['name'], ['description', 'kill_chain_phases']],
  campaign: [['name'], ['description', 'aliases', 'first_seen', 'last_seen', 'objective']],
  'course-of-action': [['name'], ['description']],
  identity: [['name', 'identity_class'], ['description', 'sectors', 'contact_information']],
  indicator: [['labels', 'pattern', 'valid_from'], ['name', 'description', 'valid_until', 'kill_chain_phases']],
  'intrusion-set': [['name'], ['description', 'aliases', 'first_seen', 'last_seen', 'goals', 'resource_level', 'primary_motivation', 'secondary_motivations']],
  malware: [['name', 'labels'], ['description', 'kill_chain_phases']],
  'observed-data': [['first_observed', 'last_observed', 'number_observed', 'objects'], []],
  report: [['name', 'labels', 'published', 'object_refs'], ['description']],
  'threat-actor': [['name', 'labels'], ['description', 'aliases', 'roles', 'goals', 'sophistication', 'resource_level', 'primary_motivation', 'secondary_motivations', 'personal_motivations']],
  tool: [['name', 'labels'], ['description', 'kill_chain_phases', 'tool_version']],
  vulnerability: [['name'], ['description']],
  relationship: [['relationship_type', 'source_ref', 'target_ref'], ['description']],
  sighting: [['sighting_of_ref'], ['first_seen', 'last_seen', 'count', 'observed_data_refs', 'where_sighted_refs', 'summary']],
};
const SDO_SRO = new Set(Object.keys(TYPES));
const OBSERVABLES = new Set(['artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file', 'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account', 'windows-registry-key', 'x509-certificate']);

export function stix20Violations(o: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const type = String(o.type);
  const say = (m: string) => problems.push(`${String(o.id)}: ${m}`);
  if (!IDENTIFIER.test(String(o.id)) || !String(o.id).startsWith(`${type}--`)) say('id is not "<type>--<uuid>"');
  if ('spec_version' in o) say('spec_version is not a STIX 2.0 property');
  if (type.startsWith('x-')) return problems;
  if (type === 'marking-definition') {
    for (const k of Object.keys(o)) if (!['type', 'id', 'created_by_ref', 'created', 'external_references', 'object_marking_refs', 'granular_markings', 'definition_type', 'definition'].includes(k)) say(`${k} is not a marking-definition property`);
    if (typeof o.definition_type !== 'string' || typeof o.definition !== 'object') say('definition_type and definition are required');
    return problems;
  }
  const rule = TYPES[type];
  if (!rule) {
    say(`${type} is not a STIX 2.0 object type`);
    return problems;
  }
  const [required, optional] = rule;
  for (const k of ['created', 'modified']) if (typeof o[k] !== 'string' || !TIMESTAMP.test(o[k] as string)) say(`${k} must be a timestamp`);
  for (const k of required) if (o[k] === undefined) say(`${k} is required`);
  for (const k of Object.keys(o)) if (!COMMON.includes(k) && !required.includes(k) && !optional.includes(k) && !k.startsWith('x_')) say(`${k} is not a ${type} property in STIX 2.0`);
  if (o.labels !== undefined && (!Array.isArray(o.labels) || o.labels.length === 0)) say('labels must be a non-empty list');
  if (type === 'relationship') {
    for (const k of ['source_ref', 'target_ref']) if (!SDO_SRO.has(String(o[k]).split('--')[0]!)) say(`${k} must refer to an SDO`);
  }
  if (type === 'observed-data') {
    const objects = o.objects as Record<string, Record<string, unknown>> | undefined;
    if (typeof objects !== 'object' || objects === null || Object.keys(objects).length === 0) say('objects must be a non-empty dictionary');
    else {
      for (const [key, observable] of Object.entries(objects)) {
        if (!OBSERVABLES.has(String(observable.type)) && !String(observable.type).startsWith('x-')) say(`objects.${key}: ${String(observable.type)} is not a cyber observable type`);
        for (const bad of ['id', 'spec_version', 'object_marking_refs']) if (bad in observable) say(`objects.${key}: ${bad} has no place in a 2.0 cyber observable`);
        for (const [k, v] of Object.entries(observable)) {
          const refs = k.endsWith('_ref') ? [v] : k.endsWith('_refs') && Array.isArray(v) ? v : [];
          for (const r of refs) if (!(String(r) in objects)) say(`objects.${key}.${k}: "${String(r)}" is not a key of objects`);
        }
      }
    }
  }
  return problems;
}
