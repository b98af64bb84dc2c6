// Shared shapes of the STIX layer.
export type StixObject = Record<string, unknown>;

/** A plain JSON object (not an array, not null). */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `value` with every *_ref / *_refs string that `ids` knows replaced (nested too). */
export function mapRefs(value: unknown, ids: ReadonlyMap<string, string>, name = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, ids, name));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapRefs(v, ids, k);
    return out;
  }
  return typeof value === 'string' && (name.endsWith('_ref') || name.endsWith('_refs')) ? ids.get(value) ?? value : value;
}
