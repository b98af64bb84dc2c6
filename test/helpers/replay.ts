// Replays recorded TAXII exchanges over real HTTP on a free loopback port, in order: each request
// must match the next recording (method, path, and the query parameters it names), or the test
// sees a 599 and the mismatch in `unexpected`. "{base}" in bodies and headers becomes the server's URL.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  /** What the recording is (the spec section, or the server quirk it shows). */
  note?: string;
  request: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string> };
  response: { status: number; headers?: Record<string, string>; body?: unknown };
}

export interface Replay {
  base: string;
  /** Requests seen, as "METHOD path?query" with their headers. */
  seen: Array<{ line: string; headers: http.IncomingHttpHeaders }>;
  unexpected: string[];
  /** Recordings not yet played. */
  remaining: () => number;
  close: () => Promise<void>;
}

export async function replay(exchanges: Exchange[]): Promise<Replay> {
  const queue = [...exchanges];
  const seen: Replay['seen'] = [];
  const unexpected: string[] = [];
  let base = '';
  const fill = (s: string) => s.replaceAll('{base}', base);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const line = `${req.method} ${url.pathname}${url.search}`;
    seen.push({ line, headers: req.headers });
    req.resume();
    req.on('end', () => {
      const next = queue[0];
      const matches = next && next.request.method === req.method && next.request.path === url.pathname
        && Object.entries(next.request.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v)
        && Object.entries(next.request.headers ?? {}).every(([k, v]) => req.headers[k.toLowerCase()] === v);
      if (!matches) {
        unexpected.push(`${line} (expected ${next ? `${next.request.method} ${next.request.path} ${JSON.stringify(next.request.query ?? {})}` : 'nothing'})`);
        res.writeHead(599).end();
        return;
      }
      queue.shift();
      const { status, headers = {}, body } = next.response;
      const text = body === undefined ? '' : typeof body === 'string' ? fill(body) : fill(JSON.stringify(body));
      res.writeHead(status, { ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/taxii+json;version=2.1' } : {}), ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, fill(v)])) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    unexpected,
    remaining: () => queue.length,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
