// End to end: the desk on the real `meridian` process. A layout file declares the exchange (with
// an intake policy and release rules), a vendor posts over HTTP, curators decide with the CLI and
// over HTTP, and the process is killed (SIGKILL) in the middle of a bulk approval and of
// auto-publishing: after the restart every decision is wholly applied or not at all, nothing is
// published twice, and no queue entry is lost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type ServerProcess, runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORDS = { VENDOR_PW: 'vendor password long enough', ALICE_PW: 'alice password long enough', BOB_PW: 'bob password long enough', FR_PW: 'fr analyst password long' };

const LAYOUT = `
organisations:
  - { name: acme-labs, kind: vendor }
  - { name: interpol-desk, kind: desk }
  - { name: fr-police, kind: member-agency, country: fr }
  - { name: de-police, kind: member-agency, country: de }
api_roots:
  - { path: desk, title: Vendor intake }
  - { path: fr, title: France }
  - { path: de, title: Germany }
  - { path: auto, title: Auto-published feed }
collections:
  - { api_root: desk, title: Intake, alias: intake, purpose: intake }
  - { api_root: desk, title: Trusted intake, alias: trusted, purpose: intake,
      policy: { mode: auto-publish, rules: [ { targets: [auto], when: { organisations: [acme-labs], types: [indicator] } } ] } }
  - { api_root: fr, title: Published, alias: published }
  - { api_root: de, title: Published, alias: published, release: { forbidden_types: [malware], max_tlp: amber } }
  - { api_root: auto, title: Published, alias: published }
accounts:
  - { name: acme-bot, organisation: acme-labs, roles: [publisher], password_env: VENDOR_PW }
  - { name: alice, organisation: interpol-desk, roles: [curator], curator_roots: [desk, fr, de, auto], password_env: ALICE_PW }
  - { name: bob, organisation: interpol-desk, roles: [curator], curator_roots: [desk, fr, de, auto], password_env: BOB_PW }
  - { name: fr-analyst, organisation: fr-police, roles: [subscriber], password_env: FR_PW }
grants:
  - { api_root: desk, collection: intake, account: acme-bot, write: true }
  - { api_root: desk, collection: trusted, account: acme-bot, write: true }
  - { api_root: fr, collection: published, organisation: fr-police, read: true }
`;

/** SIGKILL: no shutdown code runs; resolves once the process is gone. */
function kill(p: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

describe('end to end: the desk on the meridian process, with crashes', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-desk-'));
    env = { MERIDIAN_DATA_DIR: dir, MERIDIAN_LOG_LEVEL: 'info', ...PASSWORDS };
  });
  afterEach(async function () {
    if (server) await stopServer(server.child);
    server = undefined;
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(base: string, root: string, collection: string, objects: unknown[]) {
    const res = await fetch(`${base}/${root}/collections/${collection}/objects/`, {
      method: 'POST',
      headers: { Authorization: basic('acme-bot', PASSWORDS.VENDOR_PW), Accept: TAXII, 'Content-Type': TAXII },
      body: JSON.stringify({ objects }),
    });
    expect(res.status).to.equal(202);
    return (await res.json()) as { id: string; status: string; success_count: number };
  }

  async function waitComplete(base: string, statusId: string) {
    for (;;) {
      const res = await fetch(`${base}/desk/status/${statusId}/`, { headers: { Authorization: basic('acme-bot', PASSWORDS.VENDOR_PW), Accept: TAXII } });
      const body = (await res.json()) as { status: string };
      if (body.status === 'complete') return body;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The store as it is on disk (the server is stopped). */
  async function onDisk<T>(read: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore({ location: dir });
    try {
      return await read(store);
    } finally {
      await store.close();
    }
  }

  it('is declared by a layout file and driven by vendor HTTP and curator CLI', async function () {
    const layout = path.join(dir, 'site.yaml');
    writeFileSync(layout, LAYOUT);
    const applied = await runCli(['apply', layout], env);
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stdout).to.match(/updated desk rules of desk\/trusted/);
    expect((await runCli(['apply', layout], env)).stdout).to.match(/nothing to change/);

    server = await startServer(env);
    const a = indicator({ name: 'from the CLI' });
    const malware = { type: 'malware', spec_version: '2.1', id: 'malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061', created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z', name: 'X', is_family: true };
    const status = await post(server.base, 'desk', 'intake', [a, malware]);
    expect(status.status).to.equal('complete');

    const queue = await runCli(['curation', 'queue', '--as', 'alice', '--json'], env);
    expect(queue.code, queue.stderr).to.equal(0);
    const entries = JSON.parse(queue.stdout).entries as Array<{ id: string; rev: number; object_id: string }>;
    expect(entries.map((e) => e.object_id)).to.deep.equal([a.id, malware.id]);
    const newest = await runCli(['curation', 'queue', '--as', 'alice', '--newest-first', '--limit', '1'], env);
    expect(newest.stdout).to.include(malware.id).and.not.include(a.id);
    expect(newest.stdout).to.match(/more: meridian curation queue --newest-first --after \d+/);
    const malwareEntry = entries.find((e) => e.object_id === malware.id)!;
    // release rules of de forbid malware: the CLI says which rule, exits 1, and nothing is written
    const refused = await runCli(['curation', 'approve', `${malwareEntry.id}@${malwareEntry.rev}`, '--to', 'de', '--as', 'alice'], env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/forbidden_types/);
    const dry = await runCli(['curation', 'approve', '--submission', status.id, '--to', 'fr', '--as', 'alice', '--dry-run', '--json'], env);
    expect(JSON.parse(dry.stdout).targets[0].publish).to.have.length(2);
    const approved = await runCli(['curation', 'approve', '--submission', status.id, '--to', 'fr', '--as', 'alice'], env);
    expect(approved.code, approved.stderr).to.equal(0);
    expect(approved.stdout).to.match(/2 published/);
    // no curator identity, no decision
    expect((await runCli(['curation', 'reject', entries[0]!.id, '--reason', 'x'], env)).code).to.equal(2);

    const polled = await fetch(`${server.base}/fr/collections/published/objects/`, { headers: { Authorization: basic('fr-analyst', PASSWORDS.FR_PW), Accept: TAXII } });
    expect(((await polled.json()).objects as Array<{ id: string }>).map((o) => o.id).sort()).to.deep.equal([a.id, malware.id].sort());
    const stats = await runCli(['curation', 'stats', '--json'], env);
    expect(JSON.parse(stats.stdout).decisions_per_curator).to.deep.equal([{ curator: 'alice', decisions: 1 }]);
    const today = new Date().toISOString().slice(0, 10);
    expect(JSON.parse(stats.stdout).submissions_per_day).to.deep.equal([{ day: today, vendor: 'acme-labs', submissions: 1 }]);
    const text = await runCli(['curation', 'stats', '--days', '3'], env);
    expect(text.stdout).to.match(new RegExp(`SUBMISSIONS PER VENDOR PER DAY \\(UTC, last 3 days\\)\\n  ${today}  acme-labs  1\\n`));
    expect((await runCli(['curation', 'stats', '--days', '91'], env)).code).to.not.equal(0);
  });

  it('applies a bulk approval wholly or not at all when killed in the middle, and publishes nothing twice', async function () {
    server = await startServer(env);
    const objects = Array.from({ length: 6000 }, (_, i) => indicator({ name: `bulk ${i}` }));
    const status = await post(server.base, 'desk', 'intake', objects);
    await waitComplete(server.base, status.id);
    const decision = fetch(`${server.base}/admin/v1/curation/decisions`, {
      method: 'POST',
      headers: { Authorization: basic('bob', PASSWORDS.BOB_PW), 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'approve', submission: status.id, targets: ['fr', 'de', 'auto'] }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
    await kill(server);
    await decision;
    server = undefined;
    // The restart finishes what the crash interrupted (a large decision is rolled forward), then stops.
    server = await startServer(env);
    await stopServer(server.child);
    server = undefined;

    const mine = new Set(objects.map((o) => o.id));
    const counts = async () => onDisk(async (store) => {
      const [fr, de, auto] = await Promise.all(['fr', 'de', 'auto'].map(async (root) => (await store.getCollection(root, 'published'))!.id));
      const entries = (await store.queryQueue({ intakeIds: [(await store.getCollection('desk', 'intake'))!.id], submissionId: status.id, limit: 10_000 })).items;
      return {
        entries: entries.length,
        approved: entries.filter((e) => e.state === 'approved').length,
        published: await Promise.all([fr!, de!, auto!].map(async (c) => (await store.listPublications({ collectionId: c })).filter((p) => mine.has(p.objectId)).length)),
        objects: await Promise.all([fr!, de!, auto!].map((c) => store.countObjects(c))),
        // the change log: one entry per publication, each change id once
        changes: await Promise.all([fr!, de!, auto!].map(async (c) => {
          const log = (await store.readChanges(c, 0, 20_000)).items.filter((x) => mine.has(x.objectId));
          return new Set(log.map((x) => x.id)).size === log.length ? log.length : -1;
        })),
      };
    });
    const after = await counts();
    expect(after.entries, 'no queue entry lost').to.equal(6000);
    // wholly or not at all: every target has all 6,000 or none, and the entries say the same
    expect(after.published).to.satisfy((p: number[]) => p.every((n) => n === 0) || p.every((n) => n === 6000), `published ${after.published}`);
    expect(after.approved).to.equal(after.published[0] === 6000 ? 6000 : 0);
    expect(after.changes, 'every committed publication is in the change log, once').to.deep.equal(after.published);

    // the decision again, after the restart: everything exactly once
    server = await startServer(env);
    const again = await fetch(`${server.base}/admin/v1/curation/decisions`, {
      method: 'POST',
      headers: { Authorization: basic('bob', PASSWORDS.BOB_PW), 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'approve', submission: status.id, targets: ['fr', 'de', 'auto'] }),
    });
    expect(again.status, await again.clone().text()).to.equal(201);
    await stopServer(server.child);
    server = undefined;
    const final = await counts();
    expect(final.published).to.deep.equal([6000, 6000, 6000]);
    expect(final.changes).to.deep.equal([6000, 6000, 6000]);
    expect(final.approved).to.equal(6000);
    // fr had 2 objects from the first test; de and auto none
    expect(final.objects).to.deep.equal([6002, 6000, 6000]);
  });

  it('finishes auto-publishing after a crash during it: every entry published once, none lost', async function () {
    // Large bodies go to the worker and are answered at once; the kill lands while they are processed and published.
    server = await startServer({ ...env, MERIDIAN_INGEST_WORKER_THRESHOLD: '0', MERIDIAN_SYNC_INGEST_LIMIT: '10' });
    const objects = Array.from({ length: 8000 }, (_, i) => indicator({ name: `auto ${i}` }));
    const status = await post(server.base, 'desk', 'trusted', objects);
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 600));
    await kill(server);
    server = undefined;

    server = await startServer(env);
    await waitComplete(server.base, status.id);
    // the start-up policy pass and the resumed submission's pass run in the background: wait for them
    const autoPublished = async () => onDisk(async (store) => {
      const auto = (await store.getCollection('auto', 'published'))!.id;
      const mine = new Set(objects.map((o) => o.id));
      return (await store.listPublications({ collectionId: auto })).filter((p) => mine.has(p.objectId)).length;
    });
    const deadline = Date.now() + 60_000;
    while ((await autoPublished()) < 8000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await stopServer(server.child);
    server = undefined;
    const result = await onDisk(async (store) => {
      const auto = (await store.getCollection('auto', 'published'))!.id;
      const intake = (await store.getCollection('desk', 'trusted'))!.id;
      const entries = (await store.queryQueue({ intakeIds: [intake], submissionId: status.id, limit: 10_000 })).items;
      const manifest = await store.queryManifest(auto, { versions: { all: true }, limit: 20_000 });
      const mine = new Set(objects.map((o) => o.id));
      return { entries: entries.length, pending: entries.filter((e) => e.state !== 'approved').length, ids: manifest.items.map((m) => m.id).filter((id) => mine.has(id)) };
    });
    expect(result.entries).to.equal(8000);
    expect(result.pending).to.equal(0);
    expect(result.ids).to.have.length(8000);
    expect(new Set(result.ids).size).to.equal(8000);
  });
});
