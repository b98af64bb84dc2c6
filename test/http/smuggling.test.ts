// Request smuggling on a raw socket: framing a proxy and Node could read differently (Content-Length
// with Transfer-Encoding, two lengths, obfuscated chunked) is refused with a TAXII error and the
// connection closed, so a request hidden in the body is never run; then a normal client is answered.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createHttpServer } from '../../server/http/http-server.js';
import { createLogger } from '../../server/logger.js';
import { TAXII_MEDIA_TYPE, world } from './support.js';

describe('HTTP request smuggling attempts', function () {
  let w: Awaited<ReturnType<typeof world>>;
  let server: ReturnType<typeof createHttpServer>;
  let port: number;

  before(async function () {
    w = await world();
    server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async function () {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends the bytes, reads until the server closes (or 3 s pass); every response's status line. */
  function exchange(bytes: string): Promise<{ statuses: number[]; text: string; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
      let text = '';
      const done = (closed: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), text, closed });
      };
      const timer = setTimeout(() => done(false), 3000);
      socket.on('data', (d) => (text += d));
      socket.on('end', () => done(true));
      socket.on('error', reject);
    });
  }

  /** The request a smuggler hides in a body: an admin listing, with an admin's credentials. */
  const hidden = () => `GET /admin/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: ${w.admin.auth}\r\n\r\n`;

  it('Content-Length together with Transfer-Encoding: 400, closed, the hidden request never answered', async function () {
    const body = `0\r\n\r\n${hidden()}`;
    const r = await exchange(`POST /taxii2/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    expect(r.statuses).to.deep.equal([400]);
    expect(r.closed).to.equal(true);
    expect(r.text).to.include(`Content-Type: ${TAXII_MEDIA_TYPE}`);
    expect(r.text).to.include('"error_code":"TAXII_ERR_BAD_REQUEST"');
  });

  it('two different Content-Length headers, and an obfuscated Transfer-Encoding: 400 and closed', async function () {
    for (const head of ['Content-Length: 5\r\nContent-Length: 40', 'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding:\tchunked\r\nTransfer-Encoding: x']) {
      const r = await exchange(`POST /taxii2/ HTTP/1.1\r\nHost: x\r\n${head}\r\n\r\n0\r\n\r\n${hidden()}`);
      expect(r.statuses, head).to.have.length(1);
      expect(r.statuses[0], head).to.be.within(400, 499);
      expect(r.closed, head).to.equal(true);
    }
  });

  it('a chunk size that overflows, and a bare LF line ending in chunked framing: 400 and closed', async function () {
    for (const body of ['FFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n', '3\nabc\n0\n\n']) {
      const r = await exchange(`POST /taxii2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
      expect(r.statuses, JSON.stringify(body)).to.deep.equal([400]);
      expect(r.closed).to.equal(true);
    }
  });

  it('a normal client is answered after all of it', async function () {
    const r = await exchange(`GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: ${TAXII_MEDIA_TYPE}\r\nAuthorization: ${w.rw.auth}\r\nConnection: close\r\n\r\n`);
    expect(r.statuses).to.deep.equal([200]);
  });
});
