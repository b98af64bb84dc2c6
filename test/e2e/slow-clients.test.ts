// Slow and lying uploaders against the server as `meridian serve` builds it (createHttpServer):
// a declared Content-Length reserves no memory, a stalled body gets a 408, and trickling uploads do
// not stall other clients' polls.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createHttpServer } from '../../server/http/http-server.js';
import { createLogger } from '../../server/logger.js';
import { TAXII_MEDIA_TYPE, world } from '../http/support.js';

const MiB = 1024 * 1024;

describe('slow clients and declared lengths', function () {
  this.timeout(60_000);
  let w: Awaited<ReturnType<typeof world>>;
  let server: http.Server;
  let port: number;
  const sockets: net.Socket[] = [];
  before(async () => {
    // Request budgets and ingest slots off: these hundreds of uploads test timeouts and memory, not the limits.
    w = await world({ bodyIdleTimeoutSeconds: 1, rateLimitAddressPerMinute: 0, rateLimitWritesPerMinute: 0, ingestJobsPerAccount: 0 }, 200 * MiB);
    server = createHttpServer(w.config, w.app, createLogger('silent'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function upload(declared: number, first: string): net.Socket {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST ${w.base()}/objects/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${w.rw.auth}\r\nAccept: ${TAXII_MEDIA_TYPE}\r\nContent-Type: ${TAXII_MEDIA_TYPE}\r\nContent-Length: ${declared}\r\n\r\n${first}`,
    );
    sockets.push(socket);
    return socket;
  }

  function poll(): Promise<number> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: `${w.base()}/objects/`, headers: { Accept: TAXII_MEDIA_TYPE, Authorization: w.rw.auth }, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
  }

  it('200 requests declaring 100 MiB and sending a byte hold kilobytes each, not 100 MiB', async () => {
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 200; i++) upload(100 * MiB, '{');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const grown = process.memoryUsage().arrayBuffers - before;
    // Up front, 200 × 100 MiB would be 20 GiB; growing as bytes arrive it is 200 × 64 KiB.
    expect(grown, `${(grown / MiB).toFixed(1)} MiB`).to.be.below(200 * MiB);
  });

  it('a stalled body gets a 408 TAXII error after the idle timeout, and the connection is closed', async () => {
    const socket = upload(1000, '{"objects":');
    const text = await new Promise<string>((resolve) => {
      let t = '';
      socket.on('data', (d) => (t += d));
      socket.on('close', () => resolve(t));
    });
    expect(text).to.match(/^HTTP\/1\.1 408/);
    // (The body may come chunked: look for the error resource's fields in it.)
    expect(text).to.match(/Connection: close/i);
    expect(text).to.include('"error_code":"TAXII_ERR_TIMEOUT"').and.include('"http_status":"408"');
  });

  it('a poll completes while 50 clients trickle bodies', async () => {
    const slow = Array.from({ length: 50 }, () => upload(10_000, '{'));
    const trickle = setInterval(() => {
      for (const s of slow) s.write(' ');
    }, 200);
    try {
      const started = Date.now();
      expect(await poll()).to.equal(200);
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      clearInterval(trickle);
    }
  });
});
