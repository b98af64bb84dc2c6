// Request budgets (429 + Retry-After + TAXII error), security headers and CORS.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { Admin } from '../../server/admin/admin.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createHttpServer } from '../../server/http/http-server.js';
import { BURST_WINDOW_SECONDS, IngestSlots, bucketShape } from '../../server/http/limits.js';
import { TLP1_IDS } from 'stix2-validator-ts/markings';
import { TaxiiError } from '../../taxii/errors.js';
import { createLogger } from '../../server/logger.js';
import { TAXII_MEDIA_TYPE, indicator, world } from './support.js';

function expectRateLimited(res: request.Response): void {
  expect(res.status).to.equal(429);
  expect(res.headers['retry-after']).to.match(/^[1-9]\d*$/);
  expect(Number(res.headers['retry-after'])).to.be.at.most(60);
  expect(res.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).to.include({ error_code: 'TAXII_ERR_RATE_LIMITED', http_status: '429' });
  expect(body.error_id).to.equal(res.headers['x-request-id']);
}

describe('HTTP rate limits', () => {
  it('per address: every request counts, before authentication; health checks and metrics are exempt', async () => {
    const w = await world({ rateLimitAddressPerMinute: 3 });
    await w.get('/taxii2/').expect(200);
    await w.get('/taxii2/', null).expect(401);
    await w.get('/api1/').expect(200);
    expectRateLimited(await w.get('/taxii2/'));
    expectRateLimited(await w.get('/taxii2/', null));
    await request(w.app).get('/healthz').expect(200);
    await request(w.app).get('/readyz').expect(200);
    await request(w.app).get('/metrics').expect(200);
  });

  it('per account: reads and writes have separate budgets; other accounts are unaffected', async () => {
    const w = await world({ rateLimitReadsPerMinute: 2, rateLimitWritesPerMinute: 1 });
    await w.get(`${w.base()}/objects/`).expect(200);
    await w.get(`${w.base()}/manifest/`).expect(200);
    expectRateLimited(await w.get(`${w.base()}/objects/`));
    // Writes have their own budget.
    await w.post(`${w.base()}/objects/`, { objects: [indicator()] }).expect(202);
    expectRateLimited(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }));
    // Another account reads on.
    await w.get(`${w.base()}/objects/`, w.reader).expect(200);
  });

  it('logins: the token endpoint has a budget per address', async () => {
    const w = await world({ rateLimitLoginsPerMinute: 2 });
    const token = () => request(w.app).post('/auth/token').set('Authorization', w.rw.auth);
    await token().expect(200);
    await token().expect(200);
    expectRateLimited(await token());
    // The TAXII API is not a login: still answered.
    await w.get('/taxii2/').expect(200);
  });

  it('a POST refused before its body is read is answered and its connection closed, not held for the body', async () => {
    const w = await world({ rateLimitWritesPerMinute: 1 });
    await w.post(`${w.base()}/objects/`, { objects: [indicator()] }).expect(202);
    const server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const text = await new Promise<string>((resolve) => {
        const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
        let t = '';
        socket.on('data', (d) => (t += d));
        socket.on('close', () => resolve(t));
        // Declares 100 kB and sends two bytes: the 429 must not wait for the rest.
        socket.write(`POST ${w.base()}/objects/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${w.rw.auth}\r\nAccept: ${TAXII_MEDIA_TYPE}\r\nContent-Type: ${TAXII_MEDIA_TYPE}\r\nContent-Length: 100000\r\n\r\n{"`);
      });
      expect(text).to.match(/^HTTP\/1\.1 429/);
      expect(text).to.match(/Connection: close/i);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('token buckets: a burst is spent, then tokens come back within seconds, not at the end of a minute', async function () {
    this.timeout(30_000);
    // 60 a minute: 60 at once, then 1 token a second.
    const w = await world({ rateLimitReadsPerMinute: 60 });
    const shape = bucketShape(60);
    const started = Date.now();
    let accepted = 0;
    let refused = await w.get('/taxii2/');
    for (; refused.status === 200 && accepted < 1000; refused = await w.get('/taxii2/')) accepted++;
    const seconds = (Date.now() - started) / 1000;
    // The burst and the first slice at once, then a slice for each second the loop took.
    expect(shape.steady).to.deep.equal({ points: 1, seconds: 1 });
    expect(accepted).to.be.within(60, 60 + Math.ceil(seconds) + 1);
    expectRateLimited(refused);
    expect(Number(refused.headers['retry-after'])).to.equal(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await w.get('/taxii2/').expect(200);
  });

  it('budgets per account and per organisation: the account’s own figures, else its organisation’s, else the defaults', async () => {
    const w = await world({
      rateLimitReadsPerMinute: 2,
      rateLimitWritesPerMinute: 1,
      rateLimitOverrides: { accounts: { reader: { readsPerMinute: 6 } }, organisations: { 'acme-labs': { readsPerMinute: 0, writesPerMinute: 3 } } },
    });
    await new Admin(w.store, { name: 'test-operator' }).addOrganisation({ name: 'acme-labs', kind: 'vendor' });
    const vendor = await w.account([], 'vendor', { organisation: 'acme-labs' });
    await w.grant(vendor, w.main.id, { read: true, write: true });
    // rw: the defaults (2 reads at once).
    await w.get(`${w.base()}/objects/`).expect(200);
    await w.get(`${w.base()}/objects/`).expect(200);
    expectRateLimited(await w.get(`${w.base()}/objects/`));
    // reader: its own 6.
    for (let i = 0; i < 6; i++) await w.get(`${w.base()}/objects/`, w.reader).expect(200);
    expectRateLimited(await w.get(`${w.base()}/objects/`, w.reader));
    // vendor: reads unlimited, 3 writes from its organisation.
    for (let i = 0; i < 10; i++) await w.get(`${w.base()}/objects/`, vendor).expect(200);
    for (let i = 0; i < 3; i++) await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, vendor).expect(202);
    expectRateLimited(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, vendor));
  });

  it('the admin API’s 429 is an admin error (application/json), with Retry-After', async () => {
    const w = await world({ rateLimitReadsPerMinute: 1 });
    const admin = () => request(w.app).get('/admin/v1/api-roots').set('Authorization', w.admin.auth);
    await admin().expect(200);
    const res = await admin().expect(429);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.headers['retry-after']).to.match(/^[1-9]\d*$/);
    expect(res.body).to.include({ error_code: 'TAXII_ERR_RATE_LIMITED', http_status: '429', error_id: res.headers['x-request-id'] });
  });

  it('bad overrides are refused at start with the key named', () => {
    expect(() => loadConfig({ env: {}, overrides: { rateLimitOverrides: { accounts: { x: { readsPerMinute: -1 } } } } })).to.throw(ConfigError, /rateLimitOverrides\/accounts\/x\/readsPerMinute/);
    expect(() => loadConfig({ env: { MERIDIAN_RATE_LIMIT_OVERRIDES: '{"organisations":' } })).to.throw(ConfigError, /MERIDIAN_RATE_LIMIT_OVERRIDES is not valid JSON/);
    const config = loadConfig({ env: { MERIDIAN_RATE_LIMIT_OVERRIDES: '{"organisations":{"acme":{"writesPerMinute":600}}}' } });
    expect(config.rateLimitOverrides).to.deep.equal({ organisations: { acme: { writesPerMinute: 600 } } });
  });

  it('concurrent ingests per account: one beyond the cap gets 429 before its body is read, nothing of it is kept, the slot comes back', async () => {
    // Writes unlimited: the retries below wait for the first POST to hold its slot, however long that takes.
    const w = await world({ ingestJobsPerAccount: 1, rateLimitWritesPerMinute: 0 });
    const server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      // rw's first POST holds its slot while its body is still coming. Until it holds it (its
      // credentials are being checked meanwhile), probes that are not JSON look for the 429: one that
      // finds the slot free holds it only while its few bytes are read (then 400). Should the first
      // POST arrive in that moment and be refused itself, it is sent again.
      const first = indicator();
      const body = JSON.stringify({ objects: [first] });
      let socket!: net.Socket;
      let answer = '';
      const sendFirst = () => {
        answer = '';
        socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
        socket.on('data', (d) => (answer += d));
        socket.write(`POST ${w.base()}/objects/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${w.rw.auth}\r\nAccept: ${TAXII_MEDIA_TYPE}\r\nContent-Type: ${TAXII_MEDIA_TYPE}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
      };
      sendFirst();
      let probes429 = 0;
      for (const until = Date.now() + 30_000; ; ) {
        const probe = await w.post(`${w.base()}/objects/`, '{');
        if (probe.status === 429) {
          probes429++;
          if (answer === '') break;
        } else expect(probe.status, probe.text).to.equal(400);
        if (answer.startsWith('HTTP/1.1 429')) {
          socket.destroy();
          probes429++; // the first POST's own refusal is counted too
          sendFirst();
        }
        expect(answer, 'the first POST was answered before its body was sent').to.equal('');
        expect(Date.now(), 'the first POST never held its ingest slot').to.be.below(until);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const refusedObject = indicator();
      const refused = await w.post(`${w.base()}/objects/`, { objects: [refusedObject] });
      expectRateLimited(refused);
      expect(JSON.parse(refused.text).description, answer).to.match(/being processed.*nothing of it was recorded/);
      expect((await request(w.app).get('/metrics')).text).to.match(new RegExp(`^meridian_rate_limited_total\\{budget="ingest"\\} ${probes429 + 1}$`, 'm'));
      // Other accounts have slots of their own.
      await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.writer).expect(202);
      // The first POST completes; its slot is free again.
      await new Promise<void>((resolve) => {
        socket.on('close', () => resolve());
        socket.write(body.slice(10)); // Connection: close: the server closes after its answer
      });
      expect(answer).to.match(/^HTTP\/1\.1 202/);
      await w.post(`${w.base()}/objects/`, { objects: [indicator()] }).expect(202);
      await w.service.idle();
      const stored = JSON.parse((await w.get(`${w.base()}/objects/`).expect(200)).text) as { objects: Array<{ id: string }> };
      expect(stored.objects.map((o) => o.id)).to.include(first.id).and.not.include(refusedObject.id);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a large envelope holds its ingest slot until its submission is complete, also when that comes before the 202 is sent', () => {
    const slots = new IngestSlots(1);
    const busy = () => expect(() => slots.acquire('a')).to.throw(TaxiiError).with.property('status', 429);
    slots.releaseWhenComplete('s1', false, slots.acquire('a'));
    busy();
    slots.acquire('b')(); // other accounts are unaffected
    slots.completed('s1');
    // Completed while its POST was still answering: released when the POST hands the slot over.
    const release = slots.acquire('a');
    slots.completed('s2');
    busy();
    slots.releaseWhenComplete('s2', false, release);
    slots.releaseWhenComplete('s3', true, slots.acquire('a'));
    slots.acquire('a')();
  });

  it('connections per address: one beyond the cap is answered 429 and never reaches the app; closing one frees a place', async () => {
    const w = await world({ maxConnectionsPerAddress: 2 });
    const server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const connect = () => new Promise<net.Socket>((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); s.on('error', () => undefined); });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    const get = async () => {
      const socket = await connect();
      return new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.write(`GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${w.rw.auth}\r\nAccept: ${TAXII_MEDIA_TYPE}\r\nConnection: close\r\n\r\n`);
      });
    };
    try {
      const held = [await connect(), await connect()];
      await settle();
      const refused = await get();
      expect(refused).to.match(/^HTTP\/1\.1 429/).and.match(/Retry-After: 5/i).and.match(/Connection: close/i).and.include(`Content-Type: ${TAXII_MEDIA_TYPE}`);
      expect(refused).to.include('"error_code":"TAXII_ERR_RATE_LIMITED"');
      // The refused connection's request never reached the app: no request line was logged for it.
      expect(w.logs.filter((l) => l.includes('"msg":"request"'))).to.have.length(0);
      held[0]!.destroy();
      await settle();
      expect(await get()).to.match(/^HTTP\/1\.1 200/);
      held[1]!.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the work of one query is bounded: a capped reader gets short pages with more and next, and both continuations lose and repeat nothing (§3.4)', async () => {
    const w = await world({ queryScanLimit: 5 });
    const marked = (tlp: 'green' | 'amber') => ({ ...indicator(), object_marking_refs: [TLP1_IDS[tlp]!] });
    const green = [marked('green'), marked('green'), marked('green')];
    const objects = Array.from({ length: 20 }, () => marked('amber'));
    objects.splice(2, 0, green[0]!);
    objects.splice(12, 0, green[1]!);
    objects.push(green[2]!);
    await w.add(objects);
    await w.grant(w.reader, w.main.id, { read: true, maxTlp: 'green' });
    type Page = { more: boolean; next?: string; objects?: Array<{ id: string }> };
    const byNext: string[] = [];
    let short = 0;
    let url = `${w.base()}/objects/?limit=10`;
    for (let i = 0; i < 20; i++) {
      const page = JSON.parse((await w.get(url, w.reader).expect(200)).text) as Page;
      byNext.push(...(page.objects ?? []).map((o) => o.id));
      if (page.more && (page.objects?.length ?? 0) < 10) short++;
      if (!page.more) break;
      expect(page.next).to.be.a('string');
      url = `${w.base()}/objects/?next=${encodeURIComponent(page.next!)}`;
    }
    expect(byNext).to.deep.equal(green.map((g) => g.id));
    expect(short).to.be.at.least(4);
    // The other continuation: added_after = X-TAXII-Date-Added-Last, also past a page with no object.
    const byDate: string[] = [];
    let addedAfter: string | undefined;
    for (let i = 0; i < 20; i++) {
      const res = await w.get(`${w.base()}/objects/?limit=10${addedAfter ? `&added_after=${addedAfter}` : ''}`, w.reader).expect(200);
      const page = JSON.parse(res.text) as Page;
      byDate.push(...(page.objects ?? []).map((o) => o.id));
      if (!page.more) break;
      addedAfter = res.headers['x-taxii-date-added-last'] as string;
    }
    expect(byDate).to.deep.equal(green.map((g) => g.id));
    // An uncapped reader's (here an admin's) default poll walks only last versions: never cut short.
    const all = JSON.parse((await w.get(`${w.base()}/objects/?limit=100`, w.admin).expect(200)).text) as Page;
    expect(all.objects).to.have.length(23);
    expect(all.more).to.equal(false);
  });

  it('the header cap and the total connection cap are the configured ones', async () => {
    const w = await world({ maxHeaderBytes: 2048, maxConnections: 5 });
    const server = createHttpServer(w.config, w.app, createLogger('silent'));
    expect(server.maxConnections).to.equal(5);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const text = await new Promise<string>((resolve) => {
        const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(`GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(3000)}\r\n\r\n`));
        let t = '';
        socket.on('data', (d) => (t += d));
        socket.on('close', () => resolve(t));
      });
      expect(text).to.match(/^HTTP\/1\.1 431/).and.include('"error_code":"TAXII_ERR_HEADERS_TOO_LARGE"');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('0 turns a budget off', async () => {
    const w = await world({ rateLimitAddressPerMinute: 0, rateLimitReadsPerMinute: 0 });
    for (let i = 0; i < 20; i++) await w.get('/taxii2/').expect(200);
  });

  it('per-address budgets follow X-Forwarded-For only behind a trusted proxy', async () => {
    const w = await world({ rateLimitAddressPerMinute: 1, trustProxy: true });
    await w.get('/taxii2/').set('X-Forwarded-For', '203.0.113.1').expect(200);
    await w.get('/taxii2/').set('X-Forwarded-For', '203.0.113.2').expect(200);
    expectRateLimited(await w.get('/taxii2/').set('X-Forwarded-For', '203.0.113.1'));
  });
});

describe('token bucket shapes', () => {
  it('a budget of N a minute: N at once, refilled at 90–100 % of N a minute, at most 1.1 N a minute over time, waits of at most a minute', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 10, 59, 60, 61, 119, 120, 121, 240, 1200, 3000, 100_000]) {
      const { steady, burst } = bucketShape(n);
      const rate = (steady.points * 60) / steady.seconds;
      expect(steady.points + burst, `N=${n} at once`).to.equal(n);
      expect(rate, `N=${n} steady`).to.be.at.most(n).and.at.least(n === 1 ? 1 : 0.9 * n);
      expect(rate + (burst * 60) / BURST_WINDOW_SECONDS, `N=${n} over time`).to.be.at.most(1.1 * n);
      expect(steady.seconds, `N=${n}`).to.be.within(1, 60);
    }
  });
});

const API_CSP = "default-src 'none';frame-ancestors 'none'";

describe('HTTP security headers', () => {
  it('a JSON API: CSP default-src none, nosniff, no framing, no referrer, HSTS — on resources and errors alike', async () => {
    const w = await world();
    for (const res of [await w.get('/taxii2/'), await w.get('/nowhere/'), await request(w.app).get('/healthz')]) {
      expect(res.headers['content-security-policy']).to.equal(API_CSP);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-frame-options']).to.match(/^(SAMEORIGIN|DENY)$/);
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
      expect(res.headers['strict-transport-security']).to.match(/^max-age=31536000/);
      expect(res.headers).not.to.have.property('x-powered-by');
    }
  });

  it('leaves the CSP of /console/ to the console (the other headers stay)', async () => {
    const w = await world();
    const res = await request(w.app).get('/console/index.html');
    expect(res.headers['content-security-policy']).not.to.equal(API_CSP);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
  });
});

describe('HTTP CORS', () => {
  const ORIGIN = 'https://console.example.org';

  it('is off by default: no Access-Control-* headers, and a preflight is not answered', async () => {
    const w = await world();
    const res = await w.get('/taxii2/').set('Origin', ORIGIN).expect(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).to.deep.equal([]);
    const pre = await request(w.app).options('/taxii2/').set('Origin', ORIGIN).set('Access-Control-Request-Method', 'GET');
    expect(pre.status).not.to.equal(204);
    expect(pre.headers).not.to.have.property('access-control-allow-origin');
  });

  it('answers configured origins only: preflight 204 before authentication, exposed TAXII headers', async () => {
    const w = await world({ corsOrigins: `${ORIGIN}, https://other.example.org`, apiKeyHeader: 'X-API-Key' });
    const pre = await request(w.app).options(`${w.base()}/objects/`).set('Origin', ORIGIN).set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization').expect(204);
    expect(pre.headers['access-control-allow-origin']).to.equal(ORIGIN);
    expect(pre.headers['access-control-allow-headers']).to.include('Authorization').and.include('X-API-Key');
    expect(pre.headers['access-control-allow-methods']).to.include('POST');
    const res = await w.get(`${w.base()}/objects/`).set('Origin', ORIGIN).expect(200);
    expect(res.headers['access-control-allow-origin']).to.equal(ORIGIN);
    expect(res.headers['access-control-expose-headers']).to.include('X-TAXII-Date-Added-Last');
    expect(res.headers.vary).to.match(/Origin/);
    const stranger = await w.get('/taxii2/').set('Origin', 'https://evil.example.net').expect(200);
    expect(stranger.headers).not.to.have.property('access-control-allow-origin');
  });
});
