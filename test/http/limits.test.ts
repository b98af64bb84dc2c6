// Request budgets (429 + Retry-After + TAXII error), security headers and CORS.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { createHttpServer } from '../../server/http/http-server.js';
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
