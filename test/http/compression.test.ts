// Response compression: gzip or br by Accept-Encoding (with q-values), from a size threshold, for
// TAXII resources, the admin API and error resources alike. Driven over a real socket with
// node:http, which (unlike supertest) hands back the bytes exactly as they were sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { Config } from '../../server/config.js';
import { TAXII_MEDIA_TYPE, expectResource } from '../helpers/taxii-schemas.js';
import { type World, indicator, world } from './support.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: Buffer;
}

async function listening(w: World): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(w.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function fetchRaw(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decoded(r: Raw): any {
  const encoding = r.headers['content-encoding'];
  const bytes = encoding === 'gzip' ? gunzipSync(r.bytes) : encoding === 'br' ? brotliDecompressSync(r.bytes) : r.bytes;
  return JSON.parse(bytes.toString('utf8'));
}

async function setUp(overrides: Partial<Config> = {}) {
  const w = await world(overrides);
  await w.add(Array.from({ length: 60 }, () => indicator()));
  const s = await listening(w);
  const get = (path: string, acceptEncoding?: string, method = 'GET', extra: Record<string, string> = {}) =>
    fetchRaw(s.port, path, { Accept: TAXII_MEDIA_TYPE, Authorization: w.rw.auth, ...(acceptEncoding !== undefined ? { 'Accept-Encoding': acceptEncoding } : {}), ...extra }, method);
  return { w, s, get };
}

describe('HTTP response compression (Accept-Encoding gzip / br)', () => {
  let t: Awaited<ReturnType<typeof setUp>>;
  before(async () => {
    t = await setUp();
  });
  after(() => t.s.close());
  const page = () => `${t.w.base()}/objects/?limit=60`;

  it('gzip and br pages decode to the same JSON as the uncompressed page, with the TAXII headers intact', async () => {
    const plain = await t.get(page(), 'identity');
    expect(plain.status).to.equal(200);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    const body = JSON.parse(plain.bytes.toString('utf8'));
    expectResource('envelope', body);
    expect(body.objects).to.have.length(60);
    for (const encoding of ['gzip', 'br']) {
      const r = await t.get(page(), encoding);
      expect(r.status).to.equal(200);
      expect(r.headers['content-encoding'], encoding).to.equal(encoding);
      expect(r.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
      expect(r.headers['x-taxii-date-added-first']).to.equal(plain.headers['x-taxii-date-added-first']);
      expect(r.headers['x-taxii-date-added-last']).to.equal(plain.headers['x-taxii-date-added-last']);
      expect(String(r.headers.vary)).to.match(/accept-encoding/i);
      expect(r.bytes.length, `${encoding} is smaller`).to.be.below(plain.bytes.length / 3);
      expect(decoded(r)).to.deep.equal(body);
    }
  });

  it('chooses by q-values, br on a tie, and never br when the client does not list it', async () => {
    expect((await t.get(page(), 'gzip, deflate, br')).headers['content-encoding']).to.equal('br');
    expect((await t.get(page(), 'gzip;q=1, br;q=0.5')).headers['content-encoding']).to.equal('gzip');
    expect((await t.get(page(), 'gzip, deflate')).headers['content-encoding']).to.equal('gzip');
    expect((await t.get(page(), '*')).headers['content-encoding']).to.be.oneOf(['br', 'gzip']);
  });

  it('does not compress for identity, gzip;q=0, or no Accept-Encoding', async () => {
    for (const ae of ['identity', 'gzip;q=0', undefined]) {
      const r = await t.get(page(), ae);
      expect(r.status).to.equal(200);
      expect(r.headers['content-encoding'], String(ae)).to.equal(undefined);
      expect(JSON.parse(r.bytes.toString('utf8')).objects).to.have.length(60);
    }
  });

  it('does not compress a response below the threshold', async () => {
    const r = await t.get(`${t.w.base()}/objects/?limit=1`, 'gzip, br');
    expect(r.status).to.equal(200);
    expect(r.bytes.length).to.be.below(1024);
    expect(r.headers['content-encoding']).to.equal(undefined);
    expect(JSON.parse(r.bytes.toString('utf8')).objects).to.have.length(1);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await t.get(page(), 'gzip', 'HEAD');
    expect(r.status).to.equal(200);
    expect(r.bytes.length).to.equal(0);
    expect(r.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
    expect(r.headers['x-taxii-date-added-first']).to.be.a('string');
  });
});

describe('HTTP response compression of error resources and the admin API, and switched off', () => {
  it('compresses error resources and admin responses past a low threshold', async () => {
    const t = await setUp({ compressionThreshold: 64 });
    try {
      const r = await t.get(`${t.w.base()}/nothing-here/`, 'gzip');
      expect(r.status).to.equal(404);
      expect(r.headers['content-encoding']).to.equal('gzip');
      expect(r.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
      const error = decoded(r);
      expectResource('error', error);
      expect(error.error_id).to.equal(r.headers['x-request-id']);
      const admin = await fetchRaw(t.s.port, '/admin/v1/accounts', { Accept: 'application/json', Authorization: t.w.admin.auth, 'Accept-Encoding': 'br' });
      expect(admin.status).to.equal(200);
      expect(admin.headers['content-encoding']).to.equal('br');
      expect(decoded(admin).accounts.map((a: { name: string }) => a.name)).to.include('rw');
    } finally {
      await t.s.close();
    }
  });

  for (const off of [false, 0] as const) {
    it(`never compresses with compressionThreshold ${off}`, async () => {
      const t = await setUp({ compressionThreshold: off });
      try {
        const r = await t.get(`${t.w.base()}/objects/?limit=60`, 'gzip, br');
        expect(r.status).to.equal(200);
        expect(r.headers['content-encoding']).to.equal(undefined);
        expect(JSON.parse(r.bytes.toString('utf8')).objects).to.have.length(60);
      } finally {
        await t.s.close();
      }
    });
  }
});
