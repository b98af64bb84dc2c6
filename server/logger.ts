// The server's logger: pino, with every credential-bearing field redacted. JSON lines (ISO-8601
// `time`, level names) for log collectors, or pino-pretty lines for a person at a terminal.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: string;
  format?: LogFormat;
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  ...['password', 'passwordHash', 'token', 'secret', 'secrets', 'apiKey', 'jwtSecret', 'pagingSecret', 'metricsToken'].flatMap((key) => [key, `*.${key}`]),
];

/** The request a piece of work belongs to, for every line it logs (pino's mixin reads it). */
const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `fn` (and everything it starts) as part of request `requestId`: its log lines carry the id. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

/**
 * A logger writing to `destination` (default: standard error). A bare level string means JSON.
 * Pretty printing runs in this thread (a stream, not a pino transport) so that nothing is lost to
 * a worker thread when the process exits right after its last line.
 */
export function createLogger(options: string | LoggerOptions, destination?: NodeJS.WritableStream): Logger {
  const { level, format = 'json' } = typeof options === 'string' ? { level: options } : options;
  const settings = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'meridian' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: () => {
      const context = requestContext.getStore();
      return context ? { requestId: context.requestId } : {};
    },
  };
  if (format === 'pretty') {
    // Redaction happens in pino before a line reaches the prettifier, so both formats hide secrets.
    const stream = pretty({
      destination: destination ?? 2,
      colorize: destination === undefined && process.stderr.isTTY === true,
      sync: destination === undefined,
      translateTime: 'SYS:standard',
      ignore: 'pid,hostname,service',
    });
    return pino(settings, stream);
  }
  return pino(settings, destination ?? pino.destination({ dest: 2, sync: false }));
}
