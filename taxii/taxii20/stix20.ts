// STIX 2.1 → STIX 2.0 down-conversion for the read-only TAXII 2.0 view (docs/clients.md, "The
// TAXII 2.0 view"). Pure functions; imports nothing of ours. Each object keeps exactly the
// properties STIX 2.0 (CS01) defines for its type, plus custom `x_` properties; what 2.0 cannot
// express is left out of the object (2.1-only optional properties) or the object is skipped whole
// (2.1-only types, required content with no 2.0 form). Markings are never dropped: an object whose
// markings cannot be carried is skipped, so nothing is shown more widely than in 2.1.

export type StixObject = Record<string, unknown>;

/** Why an object was left out of the 2.0 view. */
export type SkipReason =
  | 'type-not-in-stix-2.0'
  | 'cyber-observable-is-embedded-in-observed-data'
  | 'name-required-in-stix-2.0'
  | 'pattern-not-stix'
  | 'reference-to-object-not-in-stix-2.0'
  | 'observed-data-reference-unresolved'
  | 'marking-not-expressible'
  | 'malformed';

export type Conversion = { object: StixObject } | { skipped: SkipReason };

/** Looks up the current version of an object by id (the cyber observables of an observed-data). */
export type Resolve = (id: string) => StixObject | undefined;

const COMMON = ['type', 'id', 'created_by_ref', 'created', 'modified', 'revoked', 'labels', 'external_references', 'object_marking_refs', 'granular_markings'];

/** STIX 2.0 Part 2 §2 (SDOs) and §3 (SROs): each type's own properties. */
const SDO_PROPERTIES: Record<string, string[]> = {
  'attack-pattern': ['name', 'description', 'kill_chain_phases'],
  campaign: ['name', 'description', 'aliases', 'first_seen', 'last_seen', 'objective'],
  'course-of-action': ['name', 'description'],
  identity: ['name', 'description', 'identity_class', 'sectors', 'contact_information'],
  indicator: ['name', 'description', 'pattern', 'valid_from', 'valid_until', 'kill_chain_phases'],
  'intrusion-set': ['name', 'description', 'aliases', 'first_seen', 'last_seen', 'goals', 'resource_level', 'primary_motivation', 'secondary_motivations'],
  malware: ['name', 'description', 'kill_chain_phases'],
  'observed-data': ['first_observed', 'last_observed', 'number_observed', 'objects'],
  report: ['name', 'description', 'published', 'object_refs'],
  'threat-actor': ['name', 'description', 'aliases', 'roles', 'goals', 'sophistication', 'resource_level', 'primary_motivation', 'secondary_motivations', 'personal_motivations'],
  tool: ['name', 'description', 'kill_chain_phases', 'tool_version'],
  vulnerability: ['name', 'description'],
  relationship: ['relationship_type', 'description', 'source_ref', 'target_ref'],
  sighting: ['first_seen', 'last_seen', 'count', 'sighting_of_ref', 'observed_data_refs', 'where_sighted_refs', 'summary'],
};

/** STIX 2.0 Part 1 §4: a marking definition has no modified, revoked or labels. */
const MARKING_DEFINITION = ['type', 'id', 'created_by_ref', 'created', 'external_references', 'object_marking_refs', 'granular_markings', 'definition_type', 'definition'];

/** Types whose `labels` are required in 2.0, and the 2.1 property that took their place. */
const LABELS_FROM: Record<string, string> = {
  indicator: 'indicator_types',
  malware: 'malware_types',
  report: 'report_types',
  'threat-actor': 'threat_actor_types',
  tool: 'tool_types',
};

/** Types whose `name` is required in 2.0 (in 2.1 some are optional, e.g. malware with is_family false). */
const NAME_REQUIRED = new Set(['attack-pattern', 'campaign', 'course-of-action', 'identity', 'intrusion-set', 'malware', 'report', 'threat-actor', 'tool', 'vulnerability']);

/** STIX 2.0 Part 4: the cyber observable types (embedded in observed-data only). */
export const CYBER_OBSERVABLE_TYPES = new Set([
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file', 'ipv4-addr', 'ipv6-addr',
  'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account', 'windows-registry-key', 'x509-certificate',
]);

/** The top-level types STIX 2.0 has. */
export const STIX20_TYPES = new Set([...Object.keys(SDO_PROPERTIES), 'marking-definition']);

const isCustomType = (type: string) => type.startsWith('x-');
const typeOfId = (id: unknown) => (typeof id === 'string' ? id.slice(0, Math.max(0, id.indexOf('--'))) : '');
/** A reference 2.0 can follow from an SDO or SRO: to a 2.0 top-level type or a custom object. */
const referable = (id: unknown) => STIX20_TYPES.has(typeOfId(id)) || isCustomType(typeOfId(id));

function pick(object: StixObject, allowed: readonly string[]): StixObject {
  const out: StixObject = {};
  for (const [k, v] of Object.entries(object)) if (allowed.includes(k) || k.startsWith('x_')) out[k] = v;
  return out;
}

/** Granular markings in 2.0 need a marking_ref (2.1's `lang` markings have no 2.0 form). */
function markingsExpressible(object: StixObject): boolean {
  const granular = object.granular_markings;
  if (granular === undefined) return true;
  return Array.isArray(granular) && granular.every((g) => typeof g === 'object' && g !== null && typeof (g as StixObject).marking_ref === 'string');
}

/**
 * One 2.1 object as 2.0, or why it is skipped. Object by object:
 * - every object: `spec_version` removed, and the 2.1-only common properties (`confidence`,
 *   `lang`, `extensions`); only the properties 2.0 defines for the type, and `x_` custom ones, stay;
 * - indicator, malware, report, threat-actor, tool: `labels` ← `indicator_types`, `malware_types`,
 *   `report_types`, `threat_actor_types`, `tool_types` (2.0 requires labels and they name the type;
 *   the 2.1 labels stand in when the *_types are absent, else ["unknown"]); malware loses
 *   `is_family` and the other 2.1-only properties; an indicator whose `pattern_type` is not `stix`
 *   is skipped; an object 2.0 requires a `name` of that has none is skipped;
 * - identity: `identity_class` "unknown" when absent (required in 2.0);
 * - observed-data: `object_refs` → `objects`, the referenced cyber observables embedded under the
 *   keys "0", "1", … with their ids, spec_version and markings removed and references between them
 *   rewritten to those keys (`image_ref` of a process is 2.0's `binary_ref`); skipped when a
 *   referenced observable is missing, refers outside the set, or carries markings the
 *   observed-data does not;
 * - relationship and sighting: skipped when an end is not a 2.0 top-level object;
 * - marking-definition: kept when it has a 2.0 form (TLP 1.0 and statement); the TLP 2.0 ones use
 *   extensions and are skipped (references to them stay on the objects they mark);
 * - cyber observables on their own, and the 2.1-only types (grouping, infrastructure, location,
 *   malware-analysis, note, opinion, language-content, extension-definition): skipped;
 * - custom objects (`x-` types): kept, without `spec_version`.
 */
export function toStix20(object: StixObject, resolve: Resolve): Conversion {
  const type = object.type;
  if (typeof type !== 'string' || typeof object.id !== 'string') return { skipped: 'malformed' };
  if (!markingsExpressible(object)) return { skipped: 'marking-not-expressible' };
  if (isCustomType(type)) {
    const { spec_version: _drop, ...rest } = object;
    return { object: rest };
  }
  if (CYBER_OBSERVABLE_TYPES.has(type)) return { skipped: 'cyber-observable-is-embedded-in-observed-data' };
  if (type === 'marking-definition') {
    if (object.extensions !== undefined || typeof object.definition_type !== 'string' || object.definition === undefined) return { skipped: 'type-not-in-stix-2.0' };
    return { object: pick(object, MARKING_DEFINITION) };
  }
  const own = SDO_PROPERTIES[type];
  if (!own) return { skipped: 'type-not-in-stix-2.0' };
  if (NAME_REQUIRED.has(type) && typeof object.name !== 'string') return { skipped: 'name-required-in-stix-2.0' };
  if (type === 'indicator' && object.pattern_type !== undefined && object.pattern_type !== 'stix') return { skipped: 'pattern-not-stix' };
  if (type === 'relationship' && !(referable(object.source_ref) && referable(object.target_ref))) return { skipped: 'reference-to-object-not-in-stix-2.0' };
  if (type === 'sighting' && !referable(object.sighting_of_ref)) return { skipped: 'reference-to-object-not-in-stix-2.0' };

  const out = pick(object, [...COMMON, ...own]);
  const labelsFrom = LABELS_FROM[type];
  if (labelsFrom) {
    const types = object[labelsFrom];
    out.labels = Array.isArray(types) && types.length ? types : Array.isArray(object.labels) && object.labels.length ? object.labels : ['unknown'];
  }
  if (type === 'identity' && out.identity_class === undefined) out.identity_class = 'unknown';
  if (type === 'sighting' && Array.isArray(out.observed_data_refs) && !out.observed_data_refs.every((r) => typeOfId(r) === 'observed-data')) return { skipped: 'reference-to-object-not-in-stix-2.0' };
  if (type === 'observed-data' && out.objects === undefined) {
    const embedded = embedObservables(object, resolve);
    if (typeof embedded === 'string') return { skipped: embedded };
    out.objects = embedded;
  }
  return { object: out };
}

/** The cyber observables an observed-data refers to, as 2.0's `objects` dictionary. */
function embedObservables(observed: StixObject, resolve: Resolve): Record<string, StixObject> | SkipReason {
  const refs = observed.object_refs;
  if (!Array.isArray(refs) || refs.length === 0) return 'observed-data-reference-unresolved';
  const keys = new Map<string, string>(refs.map((id, i) => [String(id), String(i)]));
  const allowedMarkings = new Set(Array.isArray(observed.object_marking_refs) ? (observed.object_marking_refs as string[]) : []);
  const objects: Record<string, StixObject> = {};
  for (const [id, key] of keys) {
    const sco = resolve(id);
    if (!sco || !CYBER_OBSERVABLE_TYPES.has(String(sco.type))) return 'observed-data-reference-unresolved';
    if (sco.granular_markings !== undefined) return 'marking-not-expressible';
    if (Array.isArray(sco.object_marking_refs) && !(sco.object_marking_refs as string[]).every((m) => allowedMarkings.has(m))) return 'marking-not-expressible';
    const converted: StixObject = {};
    for (const [name, value] of Object.entries(sco)) {
      if (['id', 'spec_version', 'object_marking_refs', 'defanged'].includes(name)) continue;
      const target = sco.type === 'process' && name === 'image_ref' ? 'binary_ref' : name;
      if (name === 'extensions' && typeof value === 'object' && value !== null) {
        const kept = Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('extension-definition--')));
        if (Object.keys(kept).length) converted.extensions = kept;
      } else if (name.endsWith('_ref')) {
        const local = keys.get(String(value));
        if (local === undefined) return 'observed-data-reference-unresolved';
        converted[target] = local;
      } else if (name.endsWith('_refs') && Array.isArray(value)) {
        const locals = value.map((v) => keys.get(String(v)));
        if (locals.some((l) => l === undefined)) return 'observed-data-reference-unresolved';
        converted[target] = locals;
      } else {
        converted[target] = value;
      }
    }
    objects[key] = converted;
  }
  return objects;
}
