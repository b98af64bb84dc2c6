// When to try again (docs/webhooks.md): the Standard Webhooks example schedule (after the first
// attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h — the last at 75:35:05) with ±10 % jitter so
// that receivers coming back are not hit by every sender at once; Retry-After of a 429 or 503 wins.

/** Seconds between attempts after the first, as configured (webhookRetrySeconds). */
export const DEFAULT_RETRY_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
const JITTER = 0.1;
/** A Retry-After beyond this is not believed: the schedule's longest wait. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** Parses webhookRetrySeconds ("5,300,…"). */
export function parseSchedule(text: string): number[] {
  return text.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n) && n >= 0);
}

/**
 * The wait (ms) before the next attempt after `failed` failed attempts (1 = the first failed); the
 * last delay repeats once the schedule is used up (the caller disables by its own rule).
 */
export function retryDelayMs(failed: number, scheduleSeconds: readonly number[], random: () => number = Math.random): number {
  if (scheduleSeconds.length === 0) return 0;
  const base = scheduleSeconds[Math.min(Math.max(failed, 1), scheduleSeconds.length) - 1]! * 1000;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** Whether `failed` failed attempts have used up the schedule (the first attempt and every retry). */
export function scheduleExhausted(failed: number, scheduleSeconds: readonly number[]): boolean {
  return failed > scheduleSeconds.length;
}

/** A Retry-After header (seconds or an HTTP date) as a wait in ms, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
