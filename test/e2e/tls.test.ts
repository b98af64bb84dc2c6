// `meridian serve --tls-cert --tls-key` (docs/architecture.md §7: TAXII requires HTTPS, TLS 1.2
// minimum): the real process serves HTTPS and refuses TLS 1.1. The certificate is made here with
// the openssl command line; without it the test says so and is skipped.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { startServer, stopServer } from '../helpers/process.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('end to end: HTTPS (TLS ≥ 1.2)', function () {
  this.timeout(30_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let port = 0;

  before(async function () {
    if (!haveOpenssl()) {
      process.stdout.write('      (skipped: no openssl command to make a test certificate)\n');
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = await startServer({ MERIDIAN_DATA_DIR: path.join(dir, 'data') }, ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')]);
    child = server.child;
    port = Number(new URL(server.base).port);
    expect(server.base).to.match(/^https:/);
  });

  after(function () {
    if (child) void stopServer(child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers TAXII over HTTPS (401 without credentials: nothing is served anonymously)', async function () {
    const status = await new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/taxii2/', rejectUnauthorized: false, headers: { Accept: 'application/taxii+json;version=2.1' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).to.equal(401);
  });

  it('refuses a TLS 1.1 handshake and accepts TLS 1.2', async function () {
    const handshake = (version: tls.SecureVersion) =>
      new Promise<string>((resolve) => {
        // SECLEVEL=0 lets this client offer TLS 1.1 at all, so a refusal is the server's doing.
        const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' }, () => {
          resolve(socket.getProtocol() ?? 'unknown');
          socket.end();
        });
        socket.on('error', () => resolve('refused'));
      });
    expect(await handshake('TLSv1.1')).to.equal('refused');
    expect(await handshake('TLSv1.2')).to.equal('TLSv1.2');
  });
});
