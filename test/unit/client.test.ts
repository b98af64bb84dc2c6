// The client library against recorded responses (test/fixtures/client/): the TAXII 2.1
// specification's examples and medallion-style quirks, replayed over real HTTP; retries, auth
// forms, token renewal, cancellation and the event-stream parser.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { TaxiiClient, TaxiiConnectionError, TaxiiError, TaxiiProtocolError, SseParser, backoffDelay, retryAfterSeconds, type StixObject } from '../../client/index.js';
import { type Exchange, type Replay, replay } from '../helpers/replay.js';

const fixture = (name: string): Exchange[] => JSON.parse(readFileSync(new URL(`../fixtures/client/${name}`, import.meta.url), 'utf8')) as Exchange[];
const T = 'application/taxii+json;version=2.1';
const error = (status: number, code: string, extra: Record<string, string> = {}): Exchange['response'] => ({ status, headers: extra, body: { title: 't', description: `d${status}`, error_id: 'e-1', error_code: code, http_status: String(status) } });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('client library: recorded responses', () => {
  let r: Replay | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('walks the specification examples: discovery default, collection by title, paging with next, status polled until complete', async () => {
    r = await replay(fixture('spec.json'));
    const client = new TaxiiClient(`${r.base}/taxii2/`, { auth: { type: 'basic', username: 'u', password: 'p' } });
    const root = await client.apiRoot();
    expect(root.url.href).to.equal(`${r.base}/api2/`);
    expect(root.info.max_content_length).to.equal(104857600);
    const col = await root.collection('Indicators from the past 24-hours');
    expect(col.id).to.equal('52892447-4d7e-4f70-b94d-d7f22742ff63');
    const objects = await collect(col.objects({ limit: 1 }));
    expect(objects.map((o) => o.id)).to.deep.equal(['indicator--252c7c11-daf2-42bd-843b-be65edca9f61', 'indicator--c410e480-e42b-47d1-9476-85307c12bcbf']);
    const status = await col.add(objects, { pollIntervalMs: 1 });
    expect(status.status).to.equal('complete');
    expect(status.failures?.[0]?.message).to.equal('Unable to process object');
    expect(r.unexpected).to.deep.equal([]);
    expect(r.remaining()).to.equal(0);
    expect(r.seen[0]!.headers.accept).to.equal(T);
    expect(r.seen[0]!.headers.authorization).to.equal(`Basic ${Buffer.from('u:p').toString('base64')}`);
    client.close();
  });

  it('copes with medallion-style quirks: next without limit, more without next, empty page without headers, status already complete', async () => {
    r = await replay(fixture('medallion.json'));
    const client = new TaxiiClient(`${r.base}/taxii2`);
    const col = await (await client.apiRoot()).collection('Indicators');
    const pages = await collect(col.objectPages());
    expect(pages.map((p) => p.items.length)).to.deep.equal([1, 1, 0]);
    expect(pages[2]!.dateAddedLast).to.equal(undefined);
    const status = await col.add([{ type: 'malware', id: 'malware--664fa29d-bf65-4f28-a667-bdb76f29ec98' }]);
    expect(status.success_count).to.equal(1);
    expect(r.unexpected).to.deep.equal([]);
    expect(r.remaining()).to.equal(0); // no status GET after a complete answer
    client.close();
  });

  it('refuses a server that says more but gives no way on', async () => {
    r = await replay([
      { request: { method: 'GET', path: '/r/' }, response: { status: 200, body: { title: 'r', versions: [T], max_content_length: 10 } } },
      { request: { method: 'GET', path: '/r/collections/' }, response: { status: 200, body: { collections: [{ id: 'c', title: 'c', can_read: true, can_write: false }] } } },
      { request: { method: 'GET', path: '/r/collections/c/objects/' }, response: { status: 200, body: { more: true, objects: [] } } },
    ]);
    const client = new TaxiiClient(`${r.base}/r/`);
    const col = await (await client.apiRoot()).collection('c');
    const e = await collect(col.objects()).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(TaxiiProtocolError);
    expect((e as Error).message).to.match(/neither next nor X-TAXII-Date-Added-Last/);
    client.close();
  });

  it('turns error resources into TaxiiError with http_status, error_code and error_id', async () => {
    r = await replay([
      { request: { method: 'GET', path: '/r/' }, response: error(404, 'TAXII_ERR_NOT_FOUND') },
      { request: { method: 'GET', path: '/r/' }, response: { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html>bad gateway</html>' } },
    ]);
    const client = new TaxiiClient(`${r.base}/r/`, { retries: 0 });
    const e1 = await client.apiRoot().catch((e: unknown) => e);
    expect(e1).to.be.instanceOf(TaxiiError);
    expect(e1).to.include({ http_status: 404, error_code: 'TAXII_ERR_NOT_FOUND', error_id: 'e-1', description: 'd404' });
    const e2 = await client.apiRoot().catch((e: unknown) => e);
    expect(e2).to.be.instanceOf(TaxiiError);
    expect(e2).to.include({ http_status: 502, error_code: undefined });
    client.close();
  });

  it('retries 429 and 503 honouring Retry-After, then gives up with the last answer', async () => {
    r = await replay([
      { request: { method: 'GET', path: '/r/' }, response: error(429, 'TAXII_ERR_RATE_LIMITED', { 'Retry-After': '0' }) },
      { request: { method: 'GET', path: '/r/' }, response: error(503, 'TAXII_ERR_UNAVAILABLE') },
      { request: { method: 'GET', path: '/r/' }, response: { status: 200, body: { title: 'r', versions: [T], max_content_length: 10 } } },
      { request: { method: 'GET', path: '/r/' }, response: error(503, 'TAXII_ERR_UNAVAILABLE', { 'Retry-After': '0' }) },
      { request: { method: 'GET', path: '/r/' }, response: error(503, 'TAXII_ERR_UNAVAILABLE', { 'Retry-After': '0' }) },
    ]);
    const retries: string[] = [];
    const client = new TaxiiClient(`${r.base}/r/`, { retries: 2, baseDelayMs: 5, onRetry: (i) => retries.push(i.reason) });
    expect((await client.apiRoot()).info.max_content_length).to.equal(10);
    expect(retries).to.deep.equal(['HTTP 429', 'HTTP 503']);
    const limited = new TaxiiClient(`${r.base}/r/`, { retries: 1, baseDelayMs: 1 });
    const e = await limited.apiRoot().catch((x: unknown) => x);
    expect(e).to.be.instanceOf(TaxiiError).and.to.include({ http_status: 503, retryAfter: 0 });
    client.close();
    limited.close();
  });

  it('cancels with an AbortSignal, also while waiting to retry', async () => {
    r = await replay([{ request: { method: 'GET', path: '/r/' }, response: error(503, 'TAXII_ERR_UNAVAILABLE', { 'Retry-After': '30' }) }]);
    const client = new TaxiiClient(`${r.base}/r/`);
    const started = Date.now();
    const e = await client.apiRoot(undefined, { signal: AbortSignal.timeout(100) }).catch((x: unknown) => x);
    expect((e as Error).name).to.match(/AbortError|TimeoutError/);
    expect(Date.now() - started).to.be.below(5000);
    client.close();
  });

  it('reports an unreachable server as TaxiiConnectionError', async () => {
    r = await replay([]);
    const dead = r.base;
    await r.close();
    r = undefined;
    const client = new TaxiiClient(`${dead}/taxii2/`, { retries: 1, baseDelayMs: 1 });
    const e = await client.discovery().catch((x: unknown) => x);
    expect(e).to.be.instanceOf(TaxiiConnectionError).and.to.include({ code: 'ECONNREFUSED' });
    client.close();
  });

  it('sends each API-key form, and obtains, uses and renews a token from POST /auth/token', async () => {
    const root = { status: 200, body: { title: 'r', versions: [T], max_content_length: 10 } };
    r = await replay([
      { request: { method: 'GET', path: '/r/', headers: { authorization: 'Token K' } }, response: root },
      { request: { method: 'GET', path: '/r/', headers: { authorization: 'Bearer K' } }, response: root },
      { request: { method: 'GET', path: '/r/', headers: { authorization: `Basic ${Buffer.from(':K').toString('base64')}` } }, response: root },
      { request: { method: 'GET', path: '/r/', headers: { 'x-api-key': 'K' } }, response: root },
      { request: { method: 'POST', path: '/auth/token', headers: { 'content-type': 'application/json' } }, response: { status: 200, headers: { 'Content-Type': 'application/json' }, body: { access_token: 'T1', token_type: 'Bearer', expires_in: 900 } } },
      { request: { method: 'GET', path: '/r/', headers: { authorization: 'Bearer T1' } }, response: root },
      { request: { method: 'GET', path: '/r/', headers: { authorization: 'Bearer T1' } }, response: error(401, 'TAXII_ERR_UNAUTHENTICATED') },
      { request: { method: 'POST', path: '/auth/token' }, response: { status: 200, body: { access_token: 'T2', token_type: 'Bearer', expires_in: 900 } } },
      { request: { method: 'GET', path: '/r/', headers: { authorization: 'Bearer T2' } }, response: root },
    ]);
    for (const form of ['token', 'bearer', 'basic', { header: 'X-API-Key' }] as const) {
      const c = new TaxiiClient(`${r.base}/r/`, { auth: { type: 'api-key', key: 'K', form } });
      await c.apiRoot();
      c.close();
    }
    const c = new TaxiiClient(`${r.base}/r/`, { auth: { type: 'token', apiKey: 'K' } });
    await c.apiRoot();
    await c.apiRoot();
    c.close();
    expect(r.unexpected).to.deep.equal([]);
    expect(r.remaining()).to.equal(0);
  });

  it('refuses credentials in the URL and URLs that are not http(s)', () => {
    expect(() => new TaxiiClient('http://u:p@example.com/taxii2/')).to.throw(TypeError, /auth option/);
    expect(() => new TaxiiClient('ftp://example.com/')).to.throw(TypeError);
    expect(() => new TaxiiClient('not a url')).to.throw(TypeError);
  });
});

describe('client library: backoff and the event-stream parser', () => {
  it('backs off exponentially with full jitter, capped, and takes Retry-After as given', () => {
    expect(backoffDelay(0, { baseDelayMs: 100 }, undefined, () => 1)).to.equal(100);
    expect(backoffDelay(3, { baseDelayMs: 100 }, undefined, () => 1)).to.equal(800);
    expect(backoffDelay(20, { baseDelayMs: 100, maxDelayMs: 1000 }, undefined, () => 1)).to.equal(1000);
    expect(backoffDelay(3, { baseDelayMs: 100 }, undefined, () => 0)).to.equal(0);
    expect(backoffDelay(0, {}, 7)).to.equal(7000);
    expect(retryAfterSeconds('12')).to.equal(12);
    expect(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString())).to.be.within(4, 6);
    expect(retryAfterSeconds('soon')).to.equal(undefined);
  });

  it('parses text/event-stream across chunk boundaries, CRLF, comments, multi-line data and retry', () => {
    const p = new SseParser();
    const events = [...p.push('retry: 2500\n: heartbeat\r\nid: a1\nevent: object.published\nda'), ...p.push('ta: {"x":1}\r'), ...p.push('\n\r\ndata: one\ndata: two\n\n')];
    expect(events).to.deep.equal([
      { id: 'a1', event: 'object.published', data: '{"x":1}', retry: 2500 },
      { id: 'a1', event: 'message', data: 'one\ntwo' },
    ]);
    expect(p.retryMs).to.equal(2500);
    expect(p.lastEventId).to.equal('a1');
  });
});

export type { StixObject };

describe('client library: the live stream', () => {
  it('reopens a silent stream with Last-Event-ID and goes on from there', async function () {
    const http = await import('node:http');
    const seen: Array<string | undefined> = [];
    const server = http.createServer((req, res) => {
      if (!req.url!.includes('/changes/')) {
        res.writeHead(200, { 'Content-Type': 'application/taxii+json;version=2.1' });
        res.end(JSON.stringify(req.url!.endsWith('/collections/') ? { collections: [{ id: 'c', title: 'c', can_read: true, can_write: false }] } : { title: 'r', versions: ['x'], max_content_length: 1 }));
        return;
      }
      seen.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const n = seen.length;
      // The first connection sends one event and then goes silent; the second sends the next one.
      res.write(`retry: 10\nid: e${n}\nevent: object.published\ndata: {"id":"e${n}","date_added":"x","type":"object.published","object":{"type":"indicator","id":"indicator--${n}"}}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const client = new TaxiiClient(`${base}/r/`);
    const col = await (await client.apiRoot()).collection('c');
    const ac = new AbortController();
    const ids: string[] = [];
    for await (const e of col.stream({ signal: ac.signal, idleTimeoutMs: 150 })) {
      ids.push(e.entry.id);
      if (ids.length === 2) ac.abort();
    }
    expect(ids).to.deep.equal(['e1', 'e2']);
    expect(seen).to.deep.equal([undefined, 'e1']);
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
