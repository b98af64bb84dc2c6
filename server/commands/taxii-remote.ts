// What `meridian publish` and `meridian poll` share: the connection options (URL, credentials read
// from environment variables so they never sit in argv or shell history, TLS files, timeout), the
// client built from them, the exit status an error means, and progress output.
import { Option, type Command } from 'commander';
import { type Auth, TaxiiClient, TaxiiConnectionError, TaxiiError, TaxiiProtocolError } from '../../client/index.js';

export interface RemoteOptions {
  url: string;
  collection: string;
  user?: string;
  passwordEnv?: string;
  apiKeyEnv?: string;
  apiKeyForm?: 'basic' | 'token' | 'bearer';
  tokenEnv?: string;
  obtainToken?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  timeout?: number;
  retries?: number;
}

/** Bad arguments or configuration: one line, exit 2. */
export class RemoteUsageError extends Error {}

/** The server answered but this account may not do it: one line, exit 3. */
export class RemoteRefusedError extends Error {}

export const EXIT = { ok: 0, someFailed: 1, usage: 2, unreachable: 3 } as const;

export function remoteOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--url <url>', 'discovery URL (…/taxii2/) or API root URL (…/fr/) of any TAXII 2.1 server')
    .requiredOption('--collection <ref>', 'the collection: its id, alias or title')
    .option('--user <name>', 'HTTP Basic user name (password from --password-env)')
    .option('--password-env <var>', 'environment variable holding the password')
    .option('--api-key-env <var>', 'environment variable holding an API key')
    .addOption(new Option('--api-key-form <form>', 'how the API key is sent').choices(['basic', 'token', 'bearer']).default('basic'))
    .option('--token-env <var>', 'environment variable holding a Bearer token')
    .option('--obtain-token', 'exchange the credentials for a Bearer token at POST /auth/token (renewed when it expires)')
    .option('--ca-file <pem>', 'certificate authorities to trust (PEM)')
    .option('--cert-file <pem>', 'client certificate (PEM), with --key-file')
    .option('--key-file <pem>', 'client certificate key (PEM)')
    .addOption(new Option('--timeout <seconds>', 'per request, without an answer (default 60)').argParser(seconds))
    .addOption(new Option('--retries <n>', 'retries on 429/503 and connection failures (default 4)').argParser((v) => {
      if (!/^\d+$/.test(v)) throw new RemoteUsageError(`--retries must be a whole number, got "${v}"`);
      return Number(v);
    }));
}

function seconds(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new RemoteUsageError(`--timeout must be a positive number of seconds, got "${v}"`);
  return Number(v);
}

function secret(env: NodeJS.ProcessEnv, name: string, flag: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new RemoteUsageError(`${flag} ${name}: that environment variable is not set`);
  return v;
}

export function authOf(o: RemoteOptions, env: NodeJS.ProcessEnv): Auth | undefined {
  const given = [o.user !== undefined || o.passwordEnv !== undefined, o.apiKeyEnv !== undefined, o.tokenEnv !== undefined].filter(Boolean).length;
  if (given > 1) throw new RemoteUsageError('give one kind of credentials: --user/--password-env, --api-key-env or --token-env');
  if (o.tokenEnv !== undefined) return { type: 'bearer', token: secret(env, o.tokenEnv, '--token-env') };
  if (o.apiKeyEnv !== undefined) {
    const key = secret(env, o.apiKeyEnv, '--api-key-env');
    return o.obtainToken ? { type: 'token', apiKey: key } : { type: 'api-key', key, form: o.apiKeyForm ?? 'basic' };
  }
  if (o.user !== undefined || o.passwordEnv !== undefined) {
    if (o.user === undefined) throw new RemoteUsageError('--password-env needs --user');
    const password = o.passwordEnv !== undefined ? secret(env, o.passwordEnv, '--password-env') : '';
    return o.obtainToken ? { type: 'token', username: o.user, password } : { type: 'basic', username: o.user, password };
  }
  if (o.obtainToken) throw new RemoteUsageError('--obtain-token needs credentials (--user/--password-env or --api-key-env)');
  return undefined;
}

export function clientOf(o: RemoteOptions, env: NodeJS.ProcessEnv, onRetry?: (line: string) => void): TaxiiClient {
  const auth = authOf(o, env);
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw new RemoteUsageError('--cert-file and --key-file go together');
  const tls = { ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.certFile ? { certFile: o.certFile } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}) };
  try {
    return new TaxiiClient(o.url, {
      ...(auth ? { auth } : {}),
      tls,
      ...(o.timeout ? { timeoutMs: o.timeout * 1000 } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      userAgent: 'meridian-cli',
      ...(onRetry ? { onRetry: (i) => onRetry(`retry ${i.attempt} in ${(i.delayMs / 1000).toFixed(1)} s after ${i.reason}`) } : {}),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') throw new RemoteUsageError(`cannot read a TLS file: ${e.message}`);
    if (err instanceof TypeError) throw new RemoteUsageError(`--url: ${err.message}`);
    throw err;
  }
}

/** The exit status and one line for an error a remote command met; undefined for a bug (rethrown). */
export function remoteFailure(err: unknown): { code: number; message: string } | undefined {
  if (err instanceof RemoteUsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof RemoteRefusedError) return { code: EXIT.unreachable, message: `refused: ${err.message}` };
  if (err instanceof TaxiiConnectionError) return { code: EXIT.unreachable, message: `server unreachable: ${err.message}` };
  if (err instanceof TaxiiError) {
    // A collection or API root that is not there is a configuration error; anything else the server refused.
    const code = err.http_status === 404 ? EXIT.usage : EXIT.unreachable;
    return { code, message: `${err.http_status === 404 ? 'not found' : 'refused'}: ${err.message}` };
  }
  if (err instanceof TaxiiProtocolError) return { code: EXIT.unreachable, message: err.message };
  return undefined;
}

/** Progress on standard error: one redrawn line on a terminal, a line every few seconds otherwise. */
export class Progress {
  private last = 0;
  private readonly started = Date.now();
  constructor(private readonly write: (s: string) => void, private readonly tty: boolean, private readonly quiet: boolean, private readonly what: string) {}

  update(done: number, fraction: number | undefined, extra = ''): void {
    if (this.quiet) return;
    const now = Date.now();
    if (now - this.last < (this.tty ? 200 : 5000)) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = fraction !== undefined && fraction > 0 && fraction < 1 ? ` ETA ${Math.round((secs / fraction) * (1 - fraction))} s` : '';
    const pct = fraction !== undefined ? `${(fraction * 100).toFixed(1).padStart(5)} % ` : '';
    if (this.tty) {
      const width = 24;
      const bar = fraction !== undefined ? `[${'#'.repeat(Math.round(fraction * width)).padEnd(width)}] ` : '';
      this.write(`\r${bar}${pct}${done} ${this.what} ${rate.toFixed(0)}/s${eta}${extra}\x1b[K`);
    } else {
      this.write(`${pct}${done} ${this.what}, ${rate.toFixed(0)}/s${eta}${extra}\n`);
    }
  }

  done(): void {
    if (!this.quiet && this.tty && this.last > 0) this.write('\n');
  }

  /** Clears the bar before other output on the terminal (it is redrawn at the next update). */
  interrupt(): void {
    if (!this.quiet && this.tty && this.last > 0) this.write('\r\x1b[K');
  }

  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }
}
