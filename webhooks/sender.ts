// One HTTP attempt (docs/webhooks.md): POST, no redirects followed, success = 2xx within the
// timeout, through the SSRF guard (names resolved at connect, the connected address checked).
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { TargetPolicy } from './ssrf.js';

export interface AttemptResult {
  ok: boolean;
  statusCode?: number;
  durationMs: number;
  /** What went wrong, for the delivery log (never a secret: URLs are logged without their query). */
  error?: string;
  retryAfter?: string;
}

export interface SenderOptions {
  timeoutMs: number;
  policy: TargetPolicy;
  /** Extra trusted CAs (PEM) for receivers with a private CA. */
  ca?: string;
}

/** A response body is read (and dropped) only this far: receivers answer, they do not upload. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class Sender {
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;
  /** The policy's verdict per target URL (the policy is fixed for the process's life). */
  private readonly refusals = new Map<string, string | undefined>();
  /** Sockets whose connected address passed the check, with the host it was checked for. */
  private readonly checked = new WeakMap<object, string>();

  constructor(private readonly options: SenderOptions) {
    // Keep-alive: a backlog goes out over one warm connection per receiver, not a handshake each.
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}) });
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  post(target: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return resolve({ ok: false, durationMs: 0, error: 'invalid URL' });
      }
      let refusal = this.refusals.get(target);
      if (!this.refusals.has(target)) {
        if (this.refusals.size >= 10_000) this.refusals.clear();
        refusal = this.options.policy.checkUrl(target);
        this.refusals.set(target, refusal);
      }
      if (refusal) return resolve({ ok: false, durationMs: 0, error: refusal });
      const secure = url.protocol === 'https:';
      let settled = false;
      const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...r, durationMs: elapsed() });
      };
      const req = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: this.options.policy.lookupFor(url) as any,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Meridian-Webhooks/1' },
        ...(signal ? { signal } : {}),
      });
      const timer = setTimeout(() => {
        finish({ ok: false, error: `no response within ${Math.round(this.options.timeoutMs / 1000)} s` });
        req.destroy();
      }, this.options.timeoutMs);
      req.on('socket', (socket) => {
        // The address connected to, checked again (IP literals skip lookup); a kept-alive socket
        // reused for the same target was checked when it connected.
        const checked = this.checked.get(socket);
        if (checked === url.host) return;
        const check = () => {
          const address = socket.remoteAddress;
          if (address && !this.options.policy.mayConnect(url, address)) {
            finish({ ok: false, error: `refused to deliver to ${address}` });
            req.destroy();
          } else if (address) this.checked.set(socket, url.host);
        };
        if ((socket as { connecting?: boolean }).connecting) socket.once('connect', check);
        else check();
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = () => {
          const retryAfter = res.headers['retry-after'];
          finish({
            ok: status >= 200 && status < 300, statusCode: status,
            ...(status >= 200 && status < 300 ? {} : { error: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}` }),
            ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
          });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ? `${err.code}: ${err.message}` : err.message }));
      req.end(body);
    });
  }
}
