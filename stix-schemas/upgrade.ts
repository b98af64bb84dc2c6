// STIX 2.0 → 2.1 (§3.2 spec_version; the 2.0 → 2.1 changes): well-defined upgrades only, anything else is an error.
// One rule for what counts as 2.0 (docs/stix-findings.md "STIX 2.0 content"): spec_version "2.0", or no spec_version
// on a type that requires it in 2.1. Both are upgraded the same way, whatever the bundle around them says (§8).
import { child } from './pointer.js';
import { MERIDIAN_NAMESPACE, deterministicScoUuid, uuidV5, uuidV4From } from './sco-id.js';
import { type StixObject, isRecord, mapRefs } from './types-common.js';
import { SCO_TYPES, TYPES } from './types.js';
import type { Report } from './validate.js';

/** A 2.0 object: spec_version "2.0", or no spec_version on a type that requires one in 2.1 (SCOs may omit it in 2.1). */
export function isStix20(obj: StixObject): boolean {
  if (typeof obj.type !== 'string' || obj.type === 'bundle') return false;
  if ('spec_version' in obj) return obj.spec_version === '2.0';
  if (SCO_TYPES.has(obj.type)) return false;
  const def = TYPES[obj.type];
  return def ? def.kind !== 'sco' : 'created' in obj || 'modified' in obj;
}

// 2.0 labels that became <type>_types in 2.1.
const LABEL_TYPES: Readonly<Record<string, string>> = {
  indicator: 'indicator_types', malware: 'malware_types', report: 'report_types', 'threat-actor': 'threat_actor_types', tool: 'tool_types',
};

// Cyber observable properties renamed in 2.1.
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  file: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  directory: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  process: { created: 'created_time', binary_ref: 'image_ref' },
  'user-account': { password_last_changed: 'credential_last_changed' },
  'windows-registry-key': { modified: 'modified_time' },
};
// 2.0 properties with no 2.1 counterpart: no well-defined upgrade.
const DROPPED: Readonly<Record<string, readonly string[]>> = {
  file: ['is_encrypted', 'encryption_algorithm', 'decryption_key'],
  process: ['name', 'arguments'],
};

export interface Upgraded {
  object: StixObject;
  /** SCOs pulled out of a 2.0 observable container, keyed by their container key. */
  derived: Array<{ key: string; object: StixObject }>;
}

/** Upgrades a 2.0 object (see isStix20); reports STIX_UPGRADED_FROM_20 (saying what changed) and any STIX_UPGRADE_UNSUPPORTED. */
export function upgrade20(input: StixObject, report: Report): Upgraded {
  const { type: _type, spec_version: declared, ...rest } = input;
  const type = String(input.type);
  const obj: StixObject = { type, spec_version: '2.1' };
  const changes = ['spec_version "2.1" set'];
  const renames = SCO_TYPES.has(type) ? RENAMED[type] ?? {} : {};
  for (const [k, v] of Object.entries(rest)) {
    if (SCO_TYPES.has(type) && DROPPED[type]?.includes(k)) {
      report.add('STIX_UPGRADE_UNSUPPORTED', child('', k), `${type}.${k} has no STIX 2.1 counterpart, so Meridian does not upgrade the object (§3.2)`);
    }
    const to = renames[k] ?? k;
    if (to !== k) changes.push(`${k} renamed ${to}`);
    obj[to] = v;
  }
  const typesProp = LABEL_TYPES[type];
  if (typesProp && Array.isArray(obj.labels) && !(typesProp in obj)) {
    obj[typesProp] = obj.labels;
    delete obj.labels;
    changes.push(`labels moved to ${typesProp}`);
  }
  if (type === 'malware' && !('is_family' in obj)) {
    obj.is_family = true;
    changes.push('is_family true added');
  }
  if (type === 'indicator') {
    if (!('pattern_type' in obj)) {
      obj.pattern_type = 'stix';
      changes.push('pattern_type "stix" added');
    }
    if (!('valid_from' in obj) && 'created' in obj) {
      obj.valid_from = obj.created;
      changes.push('valid_from set to created');
    }
  }
  const derived: Upgraded['derived'] = [];
  if (type === 'observed-data' && isRecord(obj.objects) && !('object_refs' in obj)) {
    const scos = pullOut(obj.objects, String(obj.id), report);
    if (scos) {
      derived.push(...scos);
      delete obj.objects;
      obj.object_refs = scos.map((s) => s.object.id);
      changes.push(`the ${scos.length} objects of the observable container pulled out as SCOs listed in object_refs`);
    }
  }
  const why = declared === undefined
    ? `no spec_version on a ${type}, which STIX 2.1 requires to carry "2.1": read as a STIX 2.0 object`
    : 'spec_version "2.0": a STIX 2.0 object';
  report.add('STIX_UPGRADED_FROM_20', '/spec_version', `${why} (§3.2), upgraded to 2.1 before validation and stored that way: ${changes.join('; ')}`);
  return { object: obj, derived };
}

/** Every local reference (container key) in a 2.0 cyber observable, wherever it is nested. */
function localRefs(value: unknown, out: Set<string>, name = ''): void {
  if (Array.isArray(value)) {
    for (const v of value) localRefs(v, out, name);
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) localRefs(v, out, k);
  } else if (typeof value === 'string' && (name.endsWith('_ref') || name.endsWith('_refs'))) {
    out.add(value);
  }
}

/** §2.13 → §4.14: container objects become top-level SCOs with UUIDv5 ids, references rewritten to those ids. */
function pullOut(container: Record<string, unknown>, ownerId: string, report: Report): Upgraded['derived'] | undefined {
  const base = child('', 'objects');
  const items = new Map<string, StixObject>();
  let ok = true;
  for (const [key, raw] of Object.entries(container)) {
    const path = child(base, key);
    if (!isRecord(raw) || typeof raw.type !== 'string') {
      report.add('STIX_UPGRADE_UNSUPPORTED', path, 'an observable container entry MUST be an object with a type (§2.13)', raw);
      ok = false;
      continue;
    }
    const renames = RENAMED[raw.type] ?? {};
    const sco: StixObject = { type: raw.type, spec_version: '2.1' };
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'type') continue;
      if (DROPPED[raw.type]?.includes(k)) {
        report.add('STIX_UPGRADE_UNSUPPORTED', child(path, k), `${raw.type}.${k} has no STIX 2.1 counterpart, so Meridian does not upgrade the container (§2.13, §3.2)`);
        ok = false;
      }
      sco[renames[k] ?? k] = v;
    }
    const refs = new Set<string>();
    localRefs(sco, refs);
    for (const r of refs) {
      if (!(r in container)) {
        report.add('STIX_UPGRADE_UNSUPPORTED', path, 'a local reference MUST resolve inside the observable container (§2.13)', r);
        ok = false;
      }
    }
    items.set(key, sco);
  }
  if (!ok) return undefined;
  // Ids depend on referenced ids (e.g. network-traffic src_ref): resolve in dependency order; cycles fall back
  // to a deterministic id in Meridian's namespace (the STIX namespace must not be used for those, §2.9).
  const ids = new Map<string, string>();
  // With no ID contributing property present §2.9 asks for a UUIDv4: one derived from the owner and key keeps the
  // upgrade repeatable (the same 2.0 object always yields the same SCO ids).
  const fallback = (key: string, sco: StixObject): string => `${String(sco.type)}--${deterministicScoUuid(sco) === undefined
    ? uuidV4From(MERIDIAN_NAMESPACE, `${ownerId}/${key}`)
    : uuidV5(MERIDIAN_NAMESPACE, `${ownerId}/${key}`)}`;
  let pending = [...items.keys()];
  while (pending.length) {
    const ready = pending.filter((key) => {
      const refs = new Set<string>();
      localRefs(items.get(key), refs);
      return [...refs].every((r) => ids.has(r) || r === key);
    });
    const batch = ready.length ? ready : [pending[0]!];
    for (const key of batch) {
      const sco = mapRefs(items.get(key), ids) as StixObject;
      const uuid = ready.length ? deterministicScoUuid(sco) : undefined;
      ids.set(key, uuid ? `${String(sco.type)}--${uuid}` : fallback(key, sco));
    }
    pending = pending.filter((k) => !batch.includes(k));
  }
  return [...items].map(([key, sco]) => {
    const withRefs = mapRefs(sco, ids) as StixObject;
    const { type, spec_version, ...props } = withRefs;
    return { key, object: { type, spec_version, id: ids.get(key), ...props } };
  });
}
