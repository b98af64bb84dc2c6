// X-Request-Id: a trusted proxy's well-formed id is kept (header, error_id); otherwise a UUID is made.
// Parser-level errors (raw sockets) get a TAXII error body too.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createHttpServer } from '../../server/http/http-server.js';
import { createLogger } from '../../server/logger.js';
import { world } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('X-Request-Id', () => {
  it('keeps a valid id from a trusted proxy, in the header and as error_id', async () => {
    const w = await world({ trustProxy: true });
    const res = await w.get('/nowhere/').set('X-Request-Id', 'lb-1234.abc:9_x');
    expect(res.headers['x-request-id']).to.equal('lb-1234.abc:9_x');
    expect(JSON.parse(res.text).error_id).to.equal('lb-1234.abc:9_x');
  });

  it('replaces an invalid id from a trusted proxy with a UUID', async () => {
    const w = await world({ trustProxy: true });
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await w.get('/nowhere/').set('X-Request-Id', bad);
      expect(res.headers['x-request-id'], bad).to.match(UUID);
    }
  });

  it('every log line of a request carries its id, also lines of code that does not pass it', async () => {
    const w = await world();
    // A store failure in the middle of the request: the 500 is logged besides the request line.
    w.store.listApiRoots = () => Promise.reject(new Error('disk on fire'));
    const res = await w.get('/taxii2/').expect(500);
    const id = res.headers['x-request-id'] as string;
    const lines = w.logs.map((l) => JSON.parse(l) as { msg: string; requestId?: string; req?: { id?: string } }).filter((l) => l.requestId === id || l.req?.id === id);
    expect(lines.map((l) => l.msg).sort()).to.deep.equal(['request', 'request failed']);
    expect(lines.every((l) => l.requestId === id)).to.equal(true);
    expect(JSON.parse(res.text).error_id).to.equal(id);
  });

  it('ignores the id when the proxy is not trusted', async () => {
    const w = await world();
    const res = await w.get('/nowhere/').set('X-Request-Id', 'lb-1234');
    expect(res.headers['x-request-id']).to.match(UUID);
    expect(JSON.parse(res.text).error_id).to.equal(res.headers['x-request-id']);
  });
});

describe('HTTP parser errors answered as TAXII errors', () => {
  async function raw(request: string): Promise<string> {
    const w = await world();
    const server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      return await new Promise<string>((resolve, reject) => {
        const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(request));
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  function parse(text: string) {
    const [head, body] = text.split('\r\n\r\n');
    expect(head).to.match(/Content-Type: application\/taxii\+json;version=2\.1/);
    expect(head).to.match(/Connection: close/);
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head!)?.[1]), body: JSON.parse(body!) };
  }

  it('431 for headers too large', async () => {
    const r = parse(await raw(`GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(r.status).to.equal(431);
    expect(r.body).to.include({ error_code: 'TAXII_ERR_HEADERS_TOO_LARGE', http_status: '431' });
  });

  it('400 for a bad Content-Length', async () => {
    const r = parse(await raw('POST /taxii2/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'));
    expect(r.status).to.equal(400);
    expect(r.body).to.include({ error_code: 'TAXII_ERR_BAD_REQUEST', http_status: '400' });
    expect(r.body.error_id).to.match(UUID);
  });
});
