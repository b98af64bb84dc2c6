// Shared shapes of the STIX layer.
export type StixObject = Record<string, unknown>;

/** A plain JSON object (not an array, not null). */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
