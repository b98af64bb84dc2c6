// End to end: webhooks from the real `meridian` process to a local HTTPS receiver (docs/webhooks.md).
// A vendor posts, a curator approves, updates and withdraws through the curation API; the
// receiver verifies every signature with the standardwebhooks package and sees exactly those
// changes in order (another country's subscription sees none; the vendor gets its curation
// events); a 500 is retried under the same webhook-id; a 410 disables and enabling resumes from
// the cursor; a receiver that is down gets everything in order once back; and after a SIGKILL
// while deliveries are in flight, every committed change is delivered at least once with its id.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type ServerProcess, killServer, runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';
import { type Receiver, type TestCa, makeCa, startReceiver, until } from '../helpers/webhook-receiver.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORDS = { VENDOR_PW: 'vendor password long enough', ALICE_PW: 'alice password long enough', FR_PW: 'fr analyst password long', DE_PW: 'de analyst password long' };

const LAYOUT = `
organisations:
  - { name: acme-labs, kind: vendor }
  - { name: interpol-desk, kind: desk }
  - { name: fr-police, kind: member-agency, country: fr }
  - { name: de-police, kind: member-agency, country: de }
api_roots:
  - { path: desk, title: Vendor intake }
  - { path: fr, title: France, country: fr }
  - { path: de, title: Germany, country: de }
  - { path: auto, title: Auto-published feed }
collections:
  - { api_root: desk, title: Intake, alias: intake, purpose: intake }
  - { api_root: desk, title: Trusted intake, alias: trusted, purpose: intake,
      policy: { mode: auto-publish, rules: [ { targets: [auto], when: { organisations: [acme-labs] } } ] } }
  - { api_root: fr, title: Published, alias: published }
  - { api_root: de, title: Published, alias: published }
  - { api_root: auto, title: Published, alias: published }
accounts:
  - { name: acme-bot, organisation: acme-labs, roles: [publisher], password_env: VENDOR_PW }
  - { name: alice, organisation: interpol-desk, roles: [curator], curator_roots: [desk, fr, de, auto], password_env: ALICE_PW }
  - { name: fr-analyst, organisation: fr-police, roles: [subscriber], password_env: FR_PW }
  - { name: de-analyst, organisation: de-police, roles: [subscriber], password_env: DE_PW }
grants:
  - { api_root: desk, collection: intake, account: acme-bot, write: true }
  - { api_root: desk, collection: trusted, account: acme-bot, write: true }
  - { api_root: fr, collection: published, organisation: fr-police, read: true }
  - { api_root: de, collection: published, organisation: de-police, read: true }
  - { api_root: auto, collection: published, organisation: fr-police, read: true }
`;

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
const AUTH = { vendor: basic('acme-bot', PASSWORDS.VENDOR_PW), alice: basic('alice', PASSWORDS.ALICE_PW), fr: basic('fr-analyst', PASSWORDS.FR_PW), de: basic('de-analyst', PASSWORDS.DE_PW) };

describe('end to end: webhooks from the meridian process to a local HTTPS receiver', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ca: TestCa;
  let server: ServerProcess | undefined;
  const receivers: Receiver[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-webhooks-'));
    ca = makeCa(dir);
    env = {
      MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info', ...PASSWORDS,
      MERIDIAN_WEBHOOK_ALLOW_TARGETS: '127.0.0.1', MERIDIAN_WEBHOOK_CA_FILE: ca.caFile, MERIDIAN_WEBHOOK_RETRY_SECONDS: '0.2,0.2,0.2', MERIDIAN_WEBHOOK_POLL_MS: '50',
    };
    writeFileSync(path.join(dir, 'site.yaml'), LAYOUT);
    const applied = await runCli(['apply', path.join(dir, 'site.yaml')], env);
    expect(applied.code, applied.stderr).to.equal(0);
  });
  afterEach(async function () {
    if (server) await stopServer(server.child);
    server = undefined;
    for (const r of receivers.splice(0)) await r.close();
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function api(method: string, url: string, auth: string, body?: unknown, accept = 'application/json') {
    const res = await fetch(`${server!.base}${url}`, { method, headers: { Authorization: auth, Accept: accept, ...(body !== undefined ? { 'Content-Type': url.includes('/objects/') ? TAXII : 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver(ca);
    receivers.push(r);
    return r;
  }

  async function subscribe(auth: string, r: Receiver, body: Record<string, unknown>) {
    const res = await api('POST', '/admin/v1/subscriptions', auth, { url: r.url, ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    r.secrets = [res.body.secret];
    return res.body as { id: string; secret: string };
  }

  async function post(collection: string, objects: unknown[]) {
    const res = await api('POST', `/desk/collections/${collection}/objects/`, AUTH.vendor, { objects }, TAXII);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    await until(async () => (await api('GET', `/desk/status/${res.body.id}/`, AUTH.vendor, undefined, TAXII)).body.status === 'complete', 60_000, 'the submission');
    return res.body.id as string;
  }

  async function decide(body: Record<string, unknown>) {
    const res = await api('POST', '/admin/v1/curation/decisions', AUTH.alice, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  it('a curator publishes, updates and withdraws: each entitled receiver sees exactly that, in order, signed', async function () {
    server = await startServer(env);
    const [frHook, deHook, vendorHook] = [await receiver(), await receiver(), await receiver()];
    await subscribe(AUTH.fr, frHook, { collections: ['fr/published'] });
    await subscribe(AUTH.de, deHook, { collections: ['de/published'] });
    await subscribe(AUTH.vendor, vendorHook, { event_types: ['curation.approved', 'curation.rejected', 'curation.withdrawn'] });
    const a = indicator({ name: 'A' });
    const b = indicator({ name: 'B' });
    const a2 = { ...a, modified: '2024-02-01T00:00:00.000Z', name: 'A v2' };
    await decide({ action: 'approve', submission: await post('intake', [a, b]), targets: ['fr'] });
    await decide({ action: 'approve', submission: await post('intake', [a2]), targets: ['fr'] });
    await decide({ action: 'withdraw', object_id: b.id, targets: ['fr'], reason_code: 'false_positive', reason: 'benign' });
    await until(() => frHook.received.length >= 4, 20_000, 'four deliveries to fr');
    await until(() => vendorHook.received.length >= 3, 20_000, 'three curation events');
    await new Promise((r) => setTimeout(r, 500)); // nothing more is coming
    expect(frHook.received.map((r) => [r.payload.type, r.payload.data.object.id])).to.deep.equal([
      ['object.published', a.id], ['object.published', b.id], ['object.updated', a.id], ['object.withdrawn', b.id],
    ]);
    expect(frHook.received.every((r) => r.verified)).to.equal(true);
    expect(new Set(frHook.received.map((r) => r.id)).size).to.equal(4);
    // The change ids are the webhook ids: the change feed says the same.
    const feed = await api('GET', `/fr/collections/published/changes/`, AUTH.fr, undefined, TAXII);
    const changeIds = (feed.body.changes ?? feed.body.objects ?? feed.body.entries ?? []).map((c: { id: string }) => c.id);
    if (changeIds.length) expect(frHook.received.map((r) => r.id)).to.deep.equal(changeIds);
    expect(frHook.received[3]!.payload.data.reason).to.match(/benign/);
    expect(frHook.received[0]!.payload.data.links.object).to.equal(`${server.base}/fr/collections/${frHook.received[0]!.payload.data.collection}/objects/${a.id}/`);
    expect(deHook.received).to.deep.equal([]);
    expect(vendorHook.received.map((r) => r.payload.type)).to.deep.equal(['curation.approved', 'curation.approved', 'curation.withdrawn']);
    expect(vendorHook.received.every((r) => r.verified)).to.equal(true);
    expect(vendorHook.received[0]!.payload.data.objects).to.have.members([a.id, b.id]);
    expect(server.log()).to.not.include(frHook.secrets[0]!.slice(6));
  });

  it('retries a 500 under the same webhook-id; a 410 disables; enabling resumes from the cursor', async function () {
    server = await startServer(env);
    const hook = await receiver();
    const sub = await subscribe(AUTH.fr, hook, { collections: ['auto/published'] });
    const seen = new Map<string, number>();
    hook.respond = (r) => {
      const n = (seen.get(r.id) ?? 0) + 1;
      seen.set(r.id, n);
      return n === 1 ? { status: 500 } : { status: 204 };
    };
    const x = indicator({ name: 'retried' });
    await post('trusted', [x]);
    await until(() => hook.received.length >= 2, 20_000, 'a retry');
    expect(hook.received.map((r) => r.status)).to.deep.equal([500, 204]);
    expect(hook.received[0]!.id).to.equal(hook.received[1]!.id);
    expect(hook.received.every((r) => r.verified)).to.equal(true);
    const log = await api('GET', `/admin/v1/subscriptions/${sub.id}/deliveries`, AUTH.fr);
    expect(log.body.deliveries.map((d: { attempt: number; outcome: string }) => [d.attempt, d.outcome])).to.deep.equal([[2, 'success'], [1, 'failure']]);
    expect(log.body.deliveries[1].next_attempt).to.be.a('string');

    hook.respond = () => ({ status: 410 });
    const y = indicator({ name: 'gone' });
    await post('trusted', [y]);
    await until(async () => (await api('GET', `/admin/v1/subscriptions/${sub.id}`, AUTH.fr)).body.state === 'disabled', 20_000, 'the subscription disabled');
    expect((await api('GET', `/admin/v1/subscriptions/${sub.id}`, AUTH.fr)).body.disabled_reason).to.match(/410/);
    const goneId = hook.received[hook.received.length - 1]!.id;
    hook.respond = () => ({ status: 204 });
    expect((await api('POST', `/admin/v1/subscriptions/${sub.id}/enable`, AUTH.fr, {})).status).to.equal(200);
    await until(() => hook.received[hook.received.length - 1]!.status === 204, 20_000, 'the resumed delivery');
    expect(hook.received[hook.received.length - 1]!.id).to.equal(goneId);
    expect(hook.received[hook.received.length - 1]!.payload.data.object.id).to.equal(y.id);
  });

  it('a receiver down for a while gets everything, in order, once it is back', async function () {
    server = await startServer(env);
    const hook = await receiver();
    await subscribe(AUTH.fr, hook, { collections: ['auto/published'] });
    await hook.down();
    const objects = Array.from({ length: 5 }, (_, i) => indicator({ name: `while down ${i}` }));
    for (const o of objects) await post('trusted', [o]);
    await new Promise((r) => setTimeout(r, 1500)); // several failed attempts meanwhile
    await hook.up();
    await until(() => hook.received.length >= 5, 30_000, 'the backlog');
    expect(hook.received.map((r) => r.payload.data.object.id)).to.deep.equal(objects.map((o) => o.id));
    expect(hook.received.every((r) => r.verified && r.status === 204)).to.equal(true);
  });

  it('SIGKILL while deliveries are in flight: after the restart every committed change is delivered at least once with its id', async function () {
    server = await startServer(env);
    // The changes the log holds (committed) after `from`: each must reach the receiver with its id as webhook-id.
    const committed = async (from: number) => {
      const store = new SqliteStore({ location: path.join(dir, 'data') });
      try {
        const auto = (await store.listCollections('auto'))[0]!;
        const all: string[] = [];
        let lastSeen = from;
        for (let after = from, more = true; more;) {
          const page = await store.readChanges(auto.id, after, 1000);
          all.push(...page.items.map((c) => c.id));
          more = page.more;
          after = page.items[page.items.length - 1]?.dateAdded ?? after;
          lastSeen = after;
        }
        return { ids: all, last: lastSeen };
      } finally {
        await store.close();
      }
    };
    const hook = await receiver();
    hook.respond = () => ({ status: 204, delayMs: 5 });
    const from = (await committed(0)).last; // earlier tests' changes came before this subscription
    const sub = await subscribe(AUTH.fr, hook, { collections: ['auto/published'] });
    const objects = Array.from({ length: 300 }, (_, i) => indicator({ name: `bulk ${i}` }));
    // The submission is acknowledged, then published by policy while deliveries go out.
    const res = await api('POST', '/desk/collections/trusted/objects/', AUTH.vendor, { objects }, TAXII);
    expect(res.status).to.equal(202);
    await until(() => hook.received.length >= 20, 60_000, 'deliveries in flight');
    await killServer(server.child);
    server = undefined;
    const receivedBefore = hook.received.length;
    server = await startServer(env);
    let ids: string[] = [];
    await until(async () => {
      ids = (await committed(from)).ids;
      const got = new Set(hook.received.map((r) => r.id));
      return ids.length >= 300 && ids.every((id) => got.has(id));
    }, 120_000, 'every committed change delivered').catch(async (err: Error) => {
      const got = new Set(hook.received.map((r) => r.id));
      const sub1 = await api('GET', `/admin/v1/subscriptions/${sub.id}`, AUTH.fr);
      throw new Error(`${err.message}: ${ids.length} committed, ${ids.filter((id) => got.has(id)).length} of them received, ${hook.received.length} requests; subscription ${JSON.stringify(sub1.body)}; log tail ${server?.log().slice(-3000)}`);
    });
    expect(receivedBefore).to.be.greaterThan(0);
    expect(ids).to.have.length(300);
    expect(hook.received.every((r) => r.verified)).to.equal(true);
    // Nothing uncommitted: every webhook-id received is a committed change.
    const committedIds = new Set(ids);
    expect(hook.received.filter((r) => !committedIds.has(r.id))).to.deep.equal([]);
  });
});
