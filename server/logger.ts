// The server's logger: pino, with every credential-bearing field redacted. JSON lines (ISO-8601
// `time`, level names) for log collectors, or pino-pretty lines for a person at a terminal.
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
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'token',
  '*.token',
];

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
