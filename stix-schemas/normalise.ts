// The normaliser: one canonical form for every object. normalise(normalise(x)) equals normalise(x).
import { randomUUID } from 'node:crypto';
import { canonicalHashName, parseIdentifier } from './formats.js';
import type { ObjectDef, Prop } from './props.js';
import { deterministicScoUuid } from './sco-id.js';
import { canonicalTimestamp } from './timestamp.js';
import { type StixObject, isRecord } from './types-common.js';
import { COMMON_ORDER, COMMON_PROPS, TYPES, type TypeDef, commonUse, customDef } from './types.js';
import { Report } from './validate.js';
import { isStix20, upgrade20 } from './upgrade.js';

export interface NormaliseOptions {
  /**
   * SCO ids (§2.9): 'fill' (default) computes missing ones; 'recompute' also replaces ids that are not the
   * deterministic UUIDv5; 'keep' never touches them.
   */
  scoIds?: 'keep' | 'fill' | 'recompute';
  /** Enrichment: object_marking_refs for objects that have none (e.g. a TLP marking of the intake collection). */
  defaultMarkingRefs?: readonly string[];
  /** Enrichment: created_by_ref for objects that have none (the submitting organisation's identity). */
  defaultCreatedByRef?: string;
}

/** Keys in sorted order, values deep-copied the same way: the stable form of content we have no table for. */
/**
 * Sets an own, enumerable property. Keys come from the object sent, so any key is possible: plain
 * assignment would take "__proto__" as the object's prototype and drop the property.
 */
function put(out: Record<string, unknown>, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  else out[k] = value;
}

function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) put(out, k, sortedCopy(value[k]));
  return out;
}

function normaliseValue(p: Prop | undefined, v: unknown): unknown {
  if (!p) return sortedCopy(v);
  switch (p.k) {
    case 'timestamp':
      return typeof v === 'string' ? canonicalTimestamp(v) ?? v : v;
    case 'list':
      return Array.isArray(v) ? v.map((x) => normaliseValue(p.of, x)) : v;
    case 'object':
      return isRecord(v) ? normaliseEmbedded(p.def, v) : v;
    case 'hashes':
      return isRecord(v) ? canonicalHashes(v) : v;
    case 'dict': {
      if (!isRecord(v)) return v;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) put(out, k, normaliseValue(p.values, v[k]));
      return out;
    }
    default:
      return sortedCopy(v);
  }
}

/** §2.7: canonical algorithm spellings ("sha256" → "SHA-256") unless that would collide with a key present. */
function canonicalHashes(v: Record<string, unknown>): Record<string, unknown> {
  const renamed: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v)) {
    const canonical = canonicalHashName(k);
    put(renamed, canonical && !(Object.hasOwn(v, canonical) && canonical !== k) ? canonical : k, value);
  }
  return sortedCopy(renamed) as Record<string, unknown>;
}

/** Known properties in table order, then any others sorted. */
function ordered(props: Readonly<Record<string, Prop>>, v: Record<string, unknown>, lead: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Own properties only: "constructor" or "toString" as a key is as good as any other.
  for (const k of lead) if (Object.hasOwn(v, k)) put(out, k, v[k]);
  for (const k in props) if (Object.hasOwn(v, k) && !Object.hasOwn(out, k)) put(out, k, v[k]);
  for (const k of Object.keys(v).sort()) if (!Object.hasOwn(out, k)) put(out, k, v[k]);
  return out;
}

function normaliseEmbedded(def: ObjectDef, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v)) put(out, k, normaliseValue(def.props[k], value));
  return ordered(def.props, out);
}

const LEAD = ['type', 'spec_version', 'id', 'created_by_ref', 'created', 'modified'];

function definitionOf(obj: StixObject): TypeDef {
  return (typeof obj.type === 'string' ? TYPES[obj.type] : undefined) ?? customDef(obj);
}

/** Fills (or, with 'recompute', corrects) an SCO id; returns the object unchanged when there is nothing to do. */
export function withScoId(obj: StixObject, mode: NormaliseOptions['scoIds'] = 'fill'): StixObject {
  if (mode === 'keep' || typeof obj.type !== 'string' || definitionOf(obj).kind !== 'sco' || !TYPES[obj.type]) return obj;
  const current = parseIdentifier(obj.id);
  if (current && mode === 'fill') return obj;
  const uuid = deterministicScoUuid({ ...obj, hashes: isRecord(obj.hashes) ? canonicalHashes(obj.hashes) : obj.hashes });
  if (current && (!uuid || current.uuid.toLowerCase() === uuid)) return obj;
  if ('id' in obj && !current && mode === 'fill') return obj; // a malformed id is reported, not silently replaced
  return { ...obj, id: `${obj.type}--${uuid ?? randomUUID()}` };
}

/** Canonical form of an object that is already STIX 2.1: timestamps, hash names, SCO ids, enrichment, order. */
export function canonicalise(obj: StixObject, options: NormaliseOptions = {}): StixObject {
  const def = definitionOf(obj);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(withScoId(obj, options.scoIds))) {
    if (k === 'extensions' && isRecord(v)) {
      const exts: Record<string, unknown> = {};
      for (const name of Object.keys(v).sort()) {
        const predefined = def.extensions?.[name];
        const ext = v[name];
        put(exts, name, predefined && isRecord(ext) ? normaliseEmbedded(predefined, ext) : sortedCopy(ext));
      }
      put(out, k, exts);
    } else {
      put(out, k, normaliseValue(def.props[k] ?? COMMON_PROPS[k], v));
    }
  }
  if (options.defaultCreatedByRef && !Object.hasOwn(out, 'created_by_ref') && def.kind !== 'sco' && commonUse(def.kind, 'created_by_ref')) {
    out.created_by_ref = options.defaultCreatedByRef;
  }
  // A marking definition is never given a default marking: it could end up marking itself (§3.2).
  if (options.defaultMarkingRefs?.length && !Object.hasOwn(out, 'object_marking_refs') && obj.type !== 'marking-definition') {
    out.object_marking_refs = [...options.defaultMarkingRefs];
  }
  return ordered({}, out, [...LEAD, ...Object.keys(def.props), ...COMMON_ORDER]);
}

/** The whole normaliser: a 2.0 object is upgraded first (its pulled-out SCOs are dropped here; see the pipeline). */
export function normalise(obj: StixObject, options: NormaliseOptions = {}): StixObject {
  const upgraded = isStix20(obj) ? upgrade20(obj, new Report()).object : obj;
  return canonicalise(upgraded, options);
}
