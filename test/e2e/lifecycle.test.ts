// The process's lifecycle: SIGTERM under load (answers finish, nothing acknowledged is lost, exit
// 0), /readyz during the drain, and SIGHUP reloading the TLS certificate without dropping
// connections. Certificates are made with the openssl command line; without it that test is skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import request from 'supertest';
import { type ServerProcess, runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator, testServer } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORD = 'lifecycle password, long enough';
const auth = `Basic ${Buffer.from(`vendor:${PASSWORD}`).toString('base64')}`;

async function setUp(env: NodeJS.ProcessEnv): Promise<string> {
  expect((await runCli(['account', 'add', 'vendor', '--password-stdin'], env, `${PASSWORD}\n`)).code).to.equal(0);
  expect((await runCli(['root', 'add', 'fr', '--title', 'France', '--max-content-length', '50000000'], env)).code).to.equal(0);
  const id = (await runCli(['collection', 'add', '--root', 'fr', '--title', 'Published'], env)).stdout.trim();
  expect((await runCli(['grant', 'vendor', '--collection', id, '--read', '--write'], env)).code).to.equal(0);
  return id;
}

function exited(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
}

describe('lifecycle: draining', function () {
  it('/readyz is 503 once shutdown starts, and answers carry Connection: close', async function () {
    const t = await testServer();
    await request(t.app).get('/readyz').expect(200);
    t.app.locals.draining = true;
    const res = await request(t.app).get('/readyz').expect(503);
    expect(res.body.status).to.equal('shutting down');
    expect(res.headers.connection).to.equal('close');
    await request(t.app).get('/healthz').expect(200);
  });
});

describe('end to end: SIGTERM under load', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-sigterm-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the requests in flight, exits 0, and every acknowledged envelope is complete after the restart', async function () {
    // Envelopes above syncIngestLimit are acknowledged before they are processed: the drain must finish them.
    // Ingest slots off: all 10 envelopes of one account must be in flight at the signal.
    const env = { MERIDIAN_DATA_DIR: dir, MERIDIAN_LOG_LEVEL: 'info', MERIDIAN_SYNC_INGEST_LIMIT: '50', MERIDIAN_INGEST_JOBS_PER_ACCOUNT: '0' };
    const collectionId = await setUp(env);
    const server = await startServer(env);
    const headers = { Authorization: auth, Accept: TAXII };
    const sent = Array.from({ length: 10 }, (_, i) =>
      fetch(`${server.base}/fr/collections/${collectionId}/objects/`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': TAXII },
        body: JSON.stringify({ objects: Array.from({ length: i % 2 ? 20 : 200 }, () => indicator()) }),
      }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as { id?: string; total_count?: number } }),
        () => ({ status: 0, body: {} as { id?: string; total_count?: number } }), // refused or cut: never acknowledged, the client resends
      ),
    );
    const polls = Array.from({ length: 8 }, () => fetch(`${server.base}/fr/collections/${collectionId}/objects/`, { headers }).then((r) => r.status, () => 0));
    await new Promise((resolve) => setTimeout(resolve, 150));
    server.child.kill('SIGTERM');
    const [answers, polled, code] = await Promise.all([Promise.all(sent), Promise.all(polls), exited(server)]);
    expect(code).to.equal(0);
    expect(server.log()).to.include('Meridian stopped');
    // Drained, not cut at the deadline (kept-alive connections are closed as they go idle).
    expect(server.log()).not.to.include('at the shutdown deadline');
    for (const s of [...answers.map((a) => a.status), ...polled]) expect([0, 200, 202], `status ${s}`).to.include(s);
    const acknowledged = answers.filter((a) => a.status === 202);
    expect(acknowledged.length).to.be.greaterThan(0);

    const again = await startServer(env);
    try {
      for (const a of acknowledged) {
        const status = (await (await fetch(`${again.base}/fr/status/${a.body.id}/`, { headers })).json()) as Record<string, unknown>;
        expect(status).to.include({ status: 'complete', success_count: a.body.total_count, failure_count: 0, pending_count: 0 });
      }
    } finally {
      await stopServer(again.child);
    }
  });
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('end to end: SIGHUP reloads the TLS certificate', function () {
  this.timeout(60_000);
  let dir: string;
  let server: ServerProcess | undefined;

  before(function () {
    if (!haveOpenssl()) {
      process.stdout.write('      (skipped: no openssl command to make test certificates)\n');
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-sighup-'));
  });
  after(async function () {
    if (server) await stopServer(server.child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const makeCert = (cn: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });

  function connect(port: number): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(socket));
      socket.once('error', reject);
    });
  }
  function subject(socket: tls.TLSSocket): string {
    return String(socket.getPeerCertificate().subject.CN);
  }
  /** One HTTP/1.1 request on an open connection: the status line. */
  function ask(socket: tls.TLSSocket): Promise<string> {
    return new Promise((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString('latin1').split('\r\n')[0]!));
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
  }
  async function logged(text: string, count: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (server!.log().split(text).length - 1 >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`never logged "${text}" ${count} time(s)`);
  }

  it('new connections get the new certificate; open ones carry on; an unreadable pair is refused and the current one kept', async function () {
    makeCert('first.example');
    server = await startServer({ MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info' }, ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')]);
    const port = Number(new URL(server.base).port);
    const before = await connect(port);
    expect(subject(before)).to.equal('first.example');

    makeCert('second.example');
    server.child.kill('SIGHUP');
    await logged('certificate and key reloaded', 1);
    const after = await connect(port);
    expect(subject(after)).to.equal('second.example');
    expect(await ask(before)).to.equal('HTTP/1.1 200 OK');
    after.destroy();

    // A half-written renewal: the key no longer matches the certificate.
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(dir, 'key.pem')], { stdio: 'ignore' });
    server.child.kill('SIGHUP');
    await logged('the current ones stay in use', 1);
    const still = await connect(port);
    expect(subject(still)).to.equal('second.example');
    expect(await ask(still)).to.equal('HTTP/1.1 200 OK');
    still.destroy();
    before.destroy();
  });
});
