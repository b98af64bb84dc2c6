// POST bodies (TAXII 2.1 §5.5, §4.2.1 max_content_length): compressed bodies are decoded, and the
// limit holds on the decoded bytes; an oversize body is refused as soon as it passes the limit.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { TAXII, indicator, testServer } from '../helpers/server.js';

describe('HTTP §5.5 POST bodies: encodings and the size limit', function () {
  /** A real listening server: supertest re-serialises Buffer bodies sent with a JSON media type. */
  async function world(limit: number) {
    const t = await testServer();
    await t.root('api1', limit);
    const c = await t.collection('api1', { alias: 'main' });
    const vendor = await t.account([], 'vendor');
    await t.grant(vendor, c.id, { read: true, write: true });
    const server = http.createServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    const post = async (body: Buffer, headers: Record<string, string> = {}) => {
      const res = await fetch(`http://127.0.0.1:${port}/api1/collections/main/objects/`, { method: 'POST', headers: { Authorization: vendor.auth, Accept: TAXII, 'Content-Type': TAXII, ...headers }, body: new Uint8Array(body) });
      return { status: res.status, body: await res.json() };
    };
    return { t, port, auth: vendor.auth, post };
  }
  const servers: http.Server[] = [];
  afterEach(async function () {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('decodes a gzip body', async function () {
    const { post } = await world(100_000);
    const res = await post(gzipSync(JSON.stringify({ objects: [indicator()] })), { 'Content-Encoding': 'gzip' });
    expect(res.status).to.equal(202);
    expect(res.body.success_count).to.equal(1);
  });

  it('refuses a gzip bomb: the limit applies to the decoded bytes (413)', async function () {
    const { post } = await world(10_000);
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"objects":['), Buffer.alloc(5_000_000, 0x20), Buffer.from(']}')]));
    expect(bomb.length).to.be.below(10_000);
    const res = await post(bomb, { 'Content-Encoding': 'gzip' });
    expect(res.status).to.equal(413);
    expect(res.body.error_code).to.equal('TAXII_ERR_TOO_LARGE');
  });

  it('refuses an unknown Content-Encoding (415) and corrupt gzip (400)', async function () {
    const { post } = await world(10_000);
    expect((await post(Buffer.from('{}'), { 'Content-Encoding': 'zstd-unknown' })).status).to.equal(415);
    expect((await post(Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' })).status).to.equal(400);
  });

  it('answers 413 to an endless chunked upload without waiting for its end', async function () {
    const { port, auth } = await world(50_000);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api1/collections/main/objects/', headers: { Authorization: auth, Accept: TAXII, 'Content-Type': TAXII, 'Transfer-Encoding': 'chunked' } });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      // Keep writing 16 KiB chunks (at most 32 MiB, never ending the body) until the server answers.
      let sent = 0;
      const pump = () => {
        while (!req.destroyed && sent < 32 * 1024 * 1024) {
          sent += 16_384;
          if (!req.write(Buffer.alloc(16_384, 0x20))) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(status).to.equal(413);
  });

  it('reads a body the same whether its length is declared, it comes in chunks, or compressed', async function () {
    const { t, port, auth, post } = await world(1_000_000);
    // Multi-byte UTF-8, cut across chunk boundaries below.
    const objects = (tag: string) => Array.from({ length: 30 }, (_, i) => indicator({ name: `${tag} ${i} — Überwachung 監視 🛰️` }));
    const declared = objects('declared');
    const chunked = objects('chunked');
    const gzipped = objects('gzipped');
    expect((await post(Buffer.from(JSON.stringify({ objects: declared })))).body.success_count).to.equal(30);
    expect((await post(gzipSync(JSON.stringify({ objects: gzipped })), { 'Content-Encoding': 'gzip' })).body.success_count).to.equal(30);
    const bytes = Buffer.from(JSON.stringify({ objects: chunked }));
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api1/collections/main/objects/', headers: { Authorization: auth, Accept: TAXII, 'Content-Type': TAXII, 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let at = 0; at < bytes.length; at += 97) req.write(bytes.subarray(at, at + 97));
      req.end();
    });
    expect(status).to.equal(202);
    await t.service.idle();
    const res = await fetch(`http://127.0.0.1:${port}/api1/collections/main/objects/?limit=1000`, { headers: { Authorization: auth, Accept: TAXII } });
    const stored = new Map(((await res.json()) as { objects: Array<{ id: string }> }).objects.map((o) => [o.id, o]));
    for (const o of [...declared, ...chunked, ...gzipped]) expect(stored.get(o.id as string)).to.deep.equal(o);
  });
});
