// TAXII timestamps in microseconds. JS Date holds milliseconds only, so `date_added` lives as an
// integer count of microseconds since the epoch and is formatted here with six fractional digits
// (docs/architecture.md §6).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Now, in microseconds since the epoch (sub-millisecond from the monotonic clock). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** `2026-11-30T01:40:24.123456Z` — always six fractional digits. */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // …SS.mmmZ
  const micros = String(us - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${micros}Z`;
}

/**
 * Parses an RFC 3339 timestamp of any fractional precision into microseconds, rounding down:
 * for the strictly-greater `added_after` comparison, x > t ⇔ x > floor(t) for integer x.
 * Returns undefined for anything that is not a real date-time.
 */
export function parseMicros(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return undefined; // Feb 30 and friends
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return (date.getTime() - offsetMinutes * 60_000) * 1000 + Number(fraction);
}
