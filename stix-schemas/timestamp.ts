// STIX 2.1 §3.2 timestamps: RFC 3339, UTC ("Z"), real calendar dates.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/;

export interface ParsedTimestamp {
  /** Whole seconds since the epoch. */
  epochSeconds: number;
  /** Fractional digits exactly as written ("" when none). */
  fraction: string;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses a STIX timestamp; undefined when it is not one (bad form, Feb 30, second 60 …). */
export function parseStixTimestamp(value: unknown): ParsedTimestamp | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { epochSeconds: Date.UTC(year, month - 1, day, hour, minute, second) / 1000, fraction: m[7] ?? '' };
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
