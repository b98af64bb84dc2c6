// JSON numbers a double cannot hold exactly. JSON.parse rounds every number to an IEEE 754 double
// and JSON.stringify writes that double's shortest round-trip text, so a number token is stored
// unchanged exactly when the decimal value of its text equals the value of that shortest text:
// `1.10`, `1e2`, `0.1`, `-0` are kept; `9007199254740993` (→ …992), `1e400` (→ Infinity, written
// as null), `1e-400` (→ 0) and decimals with more precision than a double are not. STIX 2.1 §2.6
// (float: an IEEE 754 double, never ±Infinity) and §2.10 (integers: I-JSON, RFC 7493 §2.2) only
// admit what a double holds, so such tokens are refused instead of being silently changed.
import type { Finding } from './findings.js';
import { FINDING_CODES } from './codes.js';
import { child } from './pointer.js';

const CODE = 'STIX_NUMBER_NOT_EXACT';

/**
 * True when a number token of this length, with or without an exponent, is exact without looking
 * further: at most 15 characters and no exponent means at most 15 significant digits between 1e-14
 * and 1e15, which a double always reproduces (DBL_DIG is 15).
 */
export function isPlainShortNumber(length: number, hasExponent: boolean): boolean {
  return length <= 15 && !hasExponent;
}

/** Sign, significant digits (no leading or trailing zeros) and exponent: text = ±0.digits × 10^… scaled. */
function decimalValue(text: string): { negative: boolean; digits: string; exponent: number } {
  let i = 0;
  const negative = text.charCodeAt(0) === 0x2d;
  if (negative) i++;
  let e = text.length;
  const ePos = text.search(/[eE]/);
  let exponent = 0;
  if (ePos >= 0) {
    exponent = Number(text.slice(ePos + 1));
    e = ePos;
  }
  const mantissa = text.slice(i, e);
  const dot = mantissa.indexOf('.');
  const whole = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fraction = dot < 0 ? '' : mantissa.slice(dot + 1);
  let digits = whole + fraction;
  exponent -= fraction.length;
  let from = 0;
  while (from < digits.length && digits.charCodeAt(from) === 0x30) from++;
  let to = digits.length;
  while (to > from && digits.charCodeAt(to - 1) === 0x30) to--;
  exponent += digits.length - to;
  digits = digits.slice(from, to);
  return { negative, digits, exponent };
}

/**
 * True when the JSON number token `text` (RFC 8259 grammar) survives JSON.parse → JSON.stringify
 * with its value unchanged. Callers normally test isPlainShortNumber first.
 */
export function isExactNumberText(text: string): boolean {
  const x = Number(text);
  if (!Number.isFinite(x)) return false;
  const sent = decimalValue(text);
  const kept = decimalValue(String(x));
  if (sent.digits === '' || kept.digits === '') return sent.digits === kept.digits; // zeros: -0 is 0
  return sent.negative === kept.negative && sent.digits === kept.digits && sent.exponent === kept.exponent;
}

/** The finding for an inexact number token at `path` (a JSON pointer into the object). */
export function inexactNumberFinding(path: string, text: string): Finding {
  const x = Number(text);
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  let why: string;
  if (!Number.isFinite(x)) why = `the number ${shown} is outside the range of an IEEE 754 double and would be stored as null`;
  else if (x === 0) why = `the number ${shown} is too small for an IEEE 754 double and would be stored as 0`;
  else if (/^-?\d+$/.test(text)) why = `the integer ${shown} is outside the signed 54-bit range [-(2**53)+1, (2**53)-1] and would be stored as ${String(x)}`;
  else why = `the number ${shown} has more precision than an IEEE 754 double and would be stored as ${String(x)}`;
  return { code: CODE, severity: FINDING_CODES[CODE].severity, path, message: `${why} (STIX 2.1 §2.6, §2.10; RFC 7493 §2.2)` };
}

/** The finding for a number value that is already ±Infinity or NaN (an object that was not parsed from JSON text). */
export function nonFiniteNumberFinding(path: string, value: number): Finding {
  return {
    code: CODE,
    severity: FINDING_CODES[CODE].severity,
    path,
    message: `the number ${String(value)} is not a finite IEEE 754 double; ±Infinity and NaN are not STIX values (STIX 2.1 §2.6)`,
  };
}

/** Findings per object are capped, as null findings are: one list of a million bad numbers is one problem. */
const MAX_FINDINGS = 20;

/**
 * The number tokens of the JSON text `text` (already known to be valid JSON) that a double does not
 * hold exactly, each with the JSON pointer of its value. One iterative pass (no recursion limit);
 * keys are decoded only for what is reported.
 */
export function inexactNumbers(text: string, max = MAX_FINDINGS): Finding[] {
  const found: Finding[] = [];
  // Per open container: -1 for an object (its current key is in keyFrom/keyTo), else the next array index.
  const index: number[] = [];
  const keyFrom: number[] = [];
  const keyTo: number[] = [];
  const n = text.length;
  const pointer = (): string => {
    let p = '';
    for (let d = 0; d < index.length; d++) {
      const k = index[d]!;
      p = k < 0 ? child(p, JSON.parse(text.slice(keyFrom[d], keyTo[d])) as string) : child(p, k - 1);
    }
    return p;
  };
  let i = 0;
  // A value is expected next (else a key, or punctuation).
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const from = i;
      for (i++; ; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22 || i >= n) break;
      }
      i++;
      const top = index.length - 1;
      // A string directly after "{" or "," in an object is a key: remember it for paths.
      if (top >= 0 && index[top]! < 0 && keyTo[top] === -1) {
        keyFrom[top] = from;
        keyTo[top] = i;
      }
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const from = i;
      let exp = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x65 || d === 0x45) exp = true;
        else if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d)) break;
      }
      if (!isPlainShortNumber(i - from, exp)) {
        const token = text.slice(from, i);
        if (!isExactNumberText(token)) {
          found.push(inexactNumberFinding(pointer(), token));
          if (found.length >= max) return found;
        }
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      // An array's index is counted when each value starts, so it is stored one ahead (1 = item 0).
      index.push(c === 0x7b ? -1 : 1);
      keyFrom.push(-1);
      keyTo.push(-1);
    } else if (c === 0x7d || c === 0x5d) {
      index.pop();
      keyFrom.pop();
      keyTo.pop();
    } else if (c === 0x2c) {
      const top = index.length - 1;
      if (top >= 0) {
        if (index[top]! < 0) keyTo[top] = -1;
        else index[top] = index[top]! + 1;
      }
    }
    i++;
  }
  return found;
}
