// The HTTP side of the bench: a keep-alive loopback client, and a load loop of N concurrent
// clients bounded by time and by request count, recording every latency.
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

export class Client {
  private readonly agent: http.Agent;
  constructor(
    private readonly port: number,
    private readonly auth: string,
    sockets = 16,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** `extra` headers (e.g. Accept-Encoding); the body comes back as sent on the wire, never decoded. */
  request(method: string, path: string, body?: Buffer, timeoutMs = 600_000, extra: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const headers: Record<string, string | number> = { Accept: 'application/taxii+json;version=2.1', Authorization: this.auth, ...extra };
      if (body) {
        headers['Content-Type'] ??= 'application/taxii+json;version=2.1'; // the admin API takes application/json
        headers['Content-Length'] = body.length;
      }
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${path}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async json(method: string, path: string, body?: Buffer): Promise<any> {
    const r = await this.request(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    return JSON.parse(r.body.toString('utf8'));
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface Summary {
  count: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(samples: number[]): Summary {
  if (samples.length === 0) return { count: 0, median: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { count: s.length, median: at(0.5), p99: at(0.99), max: s[s.length - 1]!, mean: samples.reduce((a, b) => a + b, 0) / s.length };
}

export interface LoadResult extends Summary {
  requestsPerSecond: number;
  errors: number;
  seconds: number;
  bytes: number;
  firstError?: string;
}

/**
 * `clients` loops, each sending one request at a time (keep-alive), until `seconds` have passed or
 * `maxRequests` were sent, or `stop()` returns true. Non-200 answers count as errors.
 */
export async function load(client: Client, options: { clients: number; seconds: number; maxRequests: number; path: () => string; stop?: () => boolean; headers?: Record<string, string> }): Promise<LoadResult> {
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline && sent < options.maxRequests && !options.stop?.()) {
      sent++;
      const path = options.path();
      try {
        const r = await client.request('GET', path, undefined, 30_000, options.headers);
        bytes += r.body.length;
        if (r.status !== 200) {
          errors++;
          firstError ??= `${r.status} ${path}: ${r.body.toString('utf8').slice(0, 200)}`;
        } else latencies.push(r.ms);
      } catch (err) {
        errors++;
        firstError ??= `${path}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { ...summarise(latencies), requestsPerSecond: latencies.length / seconds, errors, seconds, bytes, ...(firstError ? { firstError } : {}) };
}
