// §2.9 / §3.4: deterministic SCO identifiers: UUIDv5 in the STIX namespace over the RFC 8785 JSON of the
// ID contributing properties.
import { createHash } from 'node:crypto';
import { canonicalHashName } from './formats.js';
import { TYPES } from './types.js';

export const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** Our own namespace, for ids that are deterministic but not §2.9 ones (the STIX namespace must not be used then). */
export const MERIDIAN_NAMESPACE = '6f1f7c46-3f1b-4b8e-9d8e-3c0c6a2b8f51';

/** RFC 8785 JSON canonicalisation (inputs are depth-bounded by the pipeline). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** RFC 4122 §4.3 name-based UUID, SHA-1 (version 5). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A UUID with the version 4 bits whose other bits come from the SHA-1 of namespace and name instead of a random
 * source: for SCOs that §2.9 gives a UUIDv4 (no ID contributing property) where Meridian must stay repeatable.
 */
export function uuidV4From(namespace: string, name: string): string {
  const v5 = uuidV5(namespace, name);
  return `${v5.slice(0, 14)}4${v5.slice(15)}`;
}

// §6.1, §6.7, §6.18: "include only one hash", chosen in this order of preference.
const HASH_PREFERENCE = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'];

function oneHash(hashes: unknown): Record<string, unknown> | undefined {
  if (typeof hashes !== 'object' || hashes === null || Array.isArray(hashes)) return undefined;
  const canonical = new Map<string, unknown>();
  for (const [k, v] of Object.entries(hashes)) canonical.set(canonicalHashName(k) ?? k, v);
  const pick = HASH_PREFERENCE.find((k) => canonical.has(k)) ?? [...canonical.keys()].sort()[0];
  return pick === undefined ? undefined : { [pick]: canonical.get(pick) };
}

/**
 * The §2.9 deterministic id of an SCO (the UUID part only), or undefined when its type has no ID contributing
 * properties or none is present (a UUIDv4 is right then).
 */
export function deterministicScoUuid(obj: Readonly<Record<string, unknown>>): string | undefined {
  const def = typeof obj.type === 'string' ? TYPES[obj.type] : undefined;
  if (!def?.idContributing?.length) return undefined;
  const name: Record<string, unknown> = {};
  for (const prop of def.idContributing) {
    const value = prop === 'hashes' ? oneHash(obj.hashes) : obj[prop];
    if (value !== undefined) name[prop] = value;
  }
  if (Object.keys(name).length === 0) return undefined;
  return uuidV5(SCO_NAMESPACE, canonicalJson(name));
}
