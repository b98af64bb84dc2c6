// The transport: one HTTP(S) request over node:http/https (TLS options, keep-alive, timeouts,
// AbortSignal), retried with exponential backoff and full jitter on 429/503 and on connection
// failures, honouring Retry-After. Built-ins only, so the client runs wherever Node 20 does.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { type ErrorResource, TaxiiConnectionError, TaxiiError } from './errors.js';

export interface TlsOptions {
  /** PEM file(s) of the certificate authorities to trust instead of the system ones. */
  caFile?: string | string[];
  /** PEM client certificate and its key, for servers that ask for one (mutual TLS). */
  certFile?: string;
  keyFile?: string;
  /** PKCS#12 client certificate instead of certFile/keyFile, with its passphrase. */
  pfxFile?: string;
  passphrase?: string;
  /** Only for tests against a throwaway server: accept any certificate. */
  insecureSkipVerify?: boolean;
}

export interface RetryOptions {
  /** Further attempts after the first (default 4). */
  retries?: number;
  /** First backoff in ms (default 500); doubled each attempt, capped at maxDelayMs (default 30 000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest Retry-After honoured (default 300 000 ms). */
  maxRetryAfterMs?: number;
}

export interface TransportOptions extends RetryOptions {
  tls?: TlsOptions;
  /** Per attempt: no byte for this long aborts it (default 60 000 ms). */
  timeoutMs?: number;
  /** Sent as User-Agent. */
  userAgent?: string;
  /** Called before each retry (for progress output); never given secrets. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; url: string }) => void;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal | undefined;
  /** Keep the body as a stream (the live stream) instead of reading it. */
  stream?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The decoded body; empty when `stream` was asked for. */
  body: Buffer;
  /** With `stream`: the (decompressed) body. */
  stream?: Readable;
}

const RETRY_STATUSES = new Set([429, 503]);
/** Failures before any answer: safe to retry even a POST, whose body the server never accepted, except a reset mid-way. */
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'ERR_CLIENT_TIMEOUT']);

/** Seconds from a Retry-After header (delta-seconds or an HTTP-date), if any. */
export function retryAfterSeconds(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base·2^attempt)], or Retry-After when given. */
export function backoffDelay(attempt: number, opts: RetryOptions, retryAfter?: number, random = Math.random): number {
  const max = opts.maxDelayMs ?? 30_000;
  // The server's wait is honoured as given, up to a bound so a bad header cannot park a job for hours.
  if (retryAfter !== undefined) return Math.min(retryAfter * 1000, opts.maxRetryAfterMs ?? 300_000);
  const ceiling = Math.min(max, (opts.baseDelayMs ?? 500) * 2 ** attempt);
  return Math.round(random() * ceiling);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function readPem(file: string | string[] | undefined): Buffer[] | Buffer | undefined {
  if (file === undefined) return undefined;
  return Array.isArray(file) ? file.map((f) => readFileSync(f)) : readFileSync(file);
}

function decoded(res: http.IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(createGunzip());
  if (encoding === 'br') return res.pipe(createBrotliDecompress());
  if (encoding === 'deflate') return res.pipe(createInflate());
  return res;
}

export class Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(readonly options: TransportOptions = {}) {
    const tls = options.tls ?? {};
    this.httpAgent = new http.Agent({ keepAlive: true });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      minVersion: 'TLSv1.2',
      ...(tls.caFile !== undefined ? { ca: readPem(tls.caFile) } : {}),
      ...(tls.certFile !== undefined ? { cert: readPem(tls.certFile) } : {}),
      ...(tls.keyFile !== undefined ? { key: readPem(tls.keyFile) } : {}),
      ...(tls.pfxFile !== undefined ? { pfx: readFileSync(tls.pfxFile) } : {}),
      ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
      ...(tls.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    });
  }

  /** Closes idle keep-alive connections (a CLI calls this so the process can exit at once). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** One attempt. Rejects with TaxiiConnectionError when no answer came; resolves with any answer. */
  once(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    const lib = isHttps ? https : http;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    return new Promise<HttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { 'Accept-Encoding': 'gzip, br', ...req.headers };
      if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
      if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
      const r = lib.request(req.url, { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, ...(req.signal ? { signal: req.signal } : {}) });
      const fail = (err: NodeJS.ErrnoException) => {
        if (req.signal?.aborted) return reject(req.signal.reason);
        reject(new TaxiiConnectionError(`${req.method} ${req.url.origin}${req.url.pathname}: ${err.code ?? err.message}${err.code && err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}`, { code: err.code, cause: err }));
      };
      r.setTimeout(timeoutMs, () => r.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      r.on('error', fail);
      r.on('response', (res) => {
        const body = decoded(res);
        if (req.stream && res.statusCode !== undefined && res.statusCode < 300) {
          // A long-lived stream: only the inactivity of the socket bounds it, which the caller manages.
          r.setTimeout(0);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.alloc(0), stream: body });
          return;
        }
        const chunks: Buffer[] = [];
        body.on('data', (c: Buffer) => chunks.push(c));
        body.on('error', fail);
        body.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      r.end(req.body);
    });
  }

  /**
   * With retries: 429 and 503 (after Retry-After or a jittered backoff) and failures before any
   * answer. Any other answer is returned; the caller turns error statuses into TaxiiError.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const retries = this.options.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let retryAfter: number | undefined;
      try {
        const res = await this.once(req);
        if (!RETRY_STATUSES.has(res.status) || attempt >= retries) return res;
        retryAfter = retryAfterSeconds(res.headers['retry-after']);
        reason = `HTTP ${res.status}`;
        res.stream?.destroy();
      } catch (err) {
        if (!(err instanceof TaxiiConnectionError) || attempt >= retries || !RETRY_CODES.has(err.code ?? '')) throw err;
        reason = err.code ?? 'connection failed';
      }
      const delayMs = backoffDelay(attempt, this.options, retryAfter);
      this.options.onRetry?.({ attempt: attempt + 1, delayMs, reason, url: `${req.url.origin}${req.url.pathname}` });
      await sleep(delayMs, req.signal);
    }
  }
}

/** The TaxiiError for an error answer: its error resource when it sent one, the bare status otherwise. */
export function errorOf(req: HttpRequest, res: HttpResponse): TaxiiError {
  let resource: ErrorResource | undefined;
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) resource = parsed as ErrorResource;
  } catch {
    // not JSON (a proxy's HTML page): the status says enough
  }
  const requestId = typeof res.headers['x-request-id'] === 'string' ? res.headers['x-request-id'] : undefined;
  const retryAfter = retryAfterSeconds(res.headers['retry-after']);
  return new TaxiiError({ status: res.status, method: req.method, url: `${req.url.origin}${req.url.pathname}`, ...(resource ? { resource } : {}), ...(requestId ? { requestId } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) });
}
