// End to end: the real `meridian` process, set up with the CLI, driven over HTTP,
// stopped and restarted; a submission left pending by a crash is finished at the next start.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORD = 'e2e password, long enough';

describe('end to end: the meridian process', function () {
  this.timeout(60_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const auth = `Basic ${Buffer.from(`analyst:${PASSWORD}`).toString('base64')}`;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-e2e-'));
    // Every POST body goes through the ingest worker thread here, so the real process exercises it.
    env = { MERIDIAN_DATA_DIR: dir, MERIDIAN_LOG_LEVEL: 'info', MERIDIAN_INGEST_WORKER_THRESHOLD: '0' };
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is set up with the CLI, serves TAXII 2.1 over HTTP, and keeps its data across a restart', async function () {
    expect((await runCli(['account', 'add', 'analyst', '--password-stdin'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await runCli(['root', 'add', 'fr', '--title', 'France', '--max-content-length', '1000000'], env)).code).to.equal(0);
    const added = await runCli(['collection', 'add', '--root', 'fr', '--title', 'Published', '--alias', 'published'], env);
    expect(added.code).to.equal(0);
    const collectionId = added.stdout.trim();
    expect(collectionId).to.match(/^[0-9a-f-]{36}$/);
    expect((await runCli(['grant', 'analyst', '--collection', 'published', '--read', '--write'], env)).code).to.equal(0);

    let { child, base } = await startServer(env);
    const headers = { Authorization: auth, Accept: TAXII };
    const discovery = await fetch(`${base}/taxii2/`, { headers });
    expect(discovery.status).to.equal(200);
    expect(discovery.headers.get('content-type')).to.equal(TAXII);
    expect((await discovery.json()).api_roots).to.deep.equal([`${base}/fr/`]);

    const objects = Array.from({ length: 30 }, () => indicator());
    const post = await fetch(`${base}/fr/collections/${collectionId}/objects/`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': TAXII },
      body: JSON.stringify({ objects }),
    });
    expect(post.status).to.equal(202);
    const status = await post.json();
    expect([status.status, status.success_count, status.failure_count]).to.deep.equal(['complete', 30, 0]);
    const polled = await (await fetch(`${base}/fr/status/${status.id}/`, { headers })).json();
    expect(polled.id).to.equal(status.id);

    const page = await fetch(`${base}/fr/collections/published/objects/?limit=10`, { headers });
    const envelope = await page.json();
    expect(envelope.more).to.equal(true);
    expect(envelope.objects).to.have.length(10);
    expect(page.headers.get('x-taxii-date-added-last')).to.match(/\.\d{6}Z$/);

    expect(await stopServer(child)).to.equal(0);
    ({ child, base } = await startServer(env));
    const manifest = await (await fetch(`${base}/fr/collections/published/manifest/?limit=100`, { headers })).json();
    expect(manifest.objects.map((m: { id: string }) => m.id).sort()).to.deep.equal(objects.map((o) => o.id).sort());
    expect((await fetch(`${base}/taxii2/`, { headers: { Accept: TAXII } })).status).to.equal(401);
    expect(await stopServer(child)).to.equal(0);
  });

  it('finishes at start-up a submission that a crash left pending (nothing acknowledged is lost)', async function () {
    const store = new SqliteStore({ location: dir });
    const account = (await store.getAccountByName('analyst'))!;
    const collection = (await store.getCollection('fr', 'published'))!;
    const objects = [indicator(), indicator()];
    const id = randomUUID();
    // What the server had written before its 202 when it died mid-processing.
    await store.createSubmission({ id, apiRoot: 'fr', collectionId: collection.id, accountId: account.id, requestTimestamp: Date.now() * 1000, body: Buffer.from(JSON.stringify({ objects })), totalCount: objects.length });
    await store.close();

    const { child, base } = await startServer(env);
    const headers = { Authorization: auth, Accept: TAXII };
    let status: { status: string; success_count: number } | undefined;
    for (let i = 0; i < 50 && status?.status !== 'complete'; i++) {
      status = await (await fetch(`${base}/fr/status/${id}/`, { headers })).json();
      if (status?.status !== 'complete') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).to.include({ status: 'complete', success_count: 2 });
    const got = await (await fetch(`${base}/fr/collections/published/objects/?match[id]=${objects[0]!.id}`, { headers })).json();
    expect(got.objects[0].id).to.equal(objects[0]!.id);
    expect(await stopServer(child)).to.equal(0);
  });

  it('exits non-zero with a clear message on bad arguments and bad configuration', async function () {
    const badPort = await runCli(['serve', '--port', 'eighty'], env);
    expect(badPort.code).to.equal(2);
    expect(badPort.stderr).to.match(/port/);
    const badEnv = await runCli(['root', 'list'], { ...env, MERIDIAN_MAX_PAGE_SIZE: '0' });
    expect(badEnv.code).to.equal(2);
    expect(badEnv.stderr).to.match(/maxPageSize/);
    const insecure = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], env);
    expect(insecure.code).to.equal(2);
    expect(insecure.stderr).to.match(/plain HTTP/);
    const weak = await runCli(['account', 'add', 'weak', '--password-stdin'], env, 'short\n');
    expect(weak.code).to.equal(1);
    expect(weak.stderr).to.match(/at least 12/);
  });
});
