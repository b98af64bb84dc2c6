// The shape of every pipeline finding: a stable code, a severity, where, and why.
export type Severity = 'error' | 'warning';

export interface Finding {
  code: string;
  severity: Severity;
  /** JSON pointer into the object ("" only when the value is not an object at all). */
  path: string;
  message: string;
}

export function error(code: string, path: string, message: string): Finding {
  return { code, severity: 'error', path, message };
}

export function warning(code: string, path: string, message: string): Finding {
  return { code, severity: 'warning', path, message };
}

/** Longest text of a value that a finding quotes. */
export const QUOTE_LIMIT = 60;

/**
 * A value as a finding quotes it: JSON text of at most QUOTE_LIMIT characters of the value, cut on a
 * code point boundary and marked with "…" (so a message never carries a broken surrogate pair or a
 * megabyte of input); lists and objects are described, not copied.
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= QUOTE_LIMIT) return JSON.stringify(value);
    let cut = QUOTE_LIMIT;
    const c = value.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut--;
    return `${JSON.stringify(value.slice(0, cut))}… (${value.length} characters)`;
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 3).map((k) => quote(k)).join(', ');
    return `an object with keys ${shown}${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}`;
  }
  return String(value);
}
