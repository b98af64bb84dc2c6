// STIX 2.1 §3.2 timestamps: RFC 3339, UTC ("Z"), real calendar dates.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

export interface ParsedTimestamp {
  /** Whole seconds since the epoch. */
  epochSeconds: number;
  /** Fractional digits exactly as written ("" when none). */
  fraction: string;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return DAYS_IN_MONTH[month] ?? 0;
}

/** Parses a STIX timestamp; undefined when it is not one (bad form, Feb 30, second 60 …). */
export function parseStixTimestamp(value: unknown): ParsedTimestamp | undefined {
  if (typeof value !== 'string' || !TIMESTAMP.test(value)) return undefined;
  // Fixed positions once the shape is known: cheaper than capture groups on the hot path.
  const year = +value.slice(0, 4);
  const month = +value.slice(5, 7);
  const day = +value.slice(8, 10);
  const hour = +value.slice(11, 13);
  const minute = +value.slice(14, 16);
  const second = +value.slice(17, 19);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = value.length > 20 ? value.slice(20, -1) : '';
  return { epochSeconds: Date.UTC(year, month - 1, day, hour, minute, second) / 1000, fraction };
}

/**
 * A sortable, exact key for a timestamp: fixed-width seconds and at least nine fractional digits,
 * so "…00Z", "…00.000Z" and "…00.000000Z" name the same instant and string order is time order.
 */
export function timestampKey(value: string): string | undefined {
  const t = parseStixTimestamp(value);
  if (!t) return undefined;
  const fraction = t.fraction.replace(/0+$/, '').padEnd(9, '0');
  return `${String(t.epochSeconds + 62135596800).padStart(12, '0')}.${fraction}`;
}

/**
 * The canonical spelling of a STIX timestamp: at least millisecond digits, trailing zeros beyond them dropped
 * ("…00Z" → "…00.000Z", "…00.120000Z" → "…00.120Z", "…00.1234567Z" kept). The instant is never changed.
 */
export function canonicalTimestamp(value: string): string | undefined {
  const t = parseStixTimestamp(value);
  if (!t) return undefined;
  const fraction = t.fraction.replace(/0+$/, '').padEnd(3, '0');
  return `${value.slice(0, 19)}.${fraction}Z`;
}
