// End to end: the three change channels of the real `meridian` process (docs/changes.md,
// docs/webhooks.md). A vendor posts, a curator approves, updates and withdraws through the curation
// API; a poller of the change feed, a live-stream (SSE) client and a local HTTPS webhook receiver
// (every signature verified with the standardwebhooks package) each see exactly those changes, in
// order, under the same ids; another country sees none of them on any channel; the vendor gets its
// curation events. That runs on both stores: SQLite, and MongoDB (the CongoDB stand-in in this
// process on a TCP port, or a real MongoDB from MERIDIAN_TEST_MONGO_URL). On SQLite also: a 500 is
// retried under the same webhook-id; a 410 disables and enabling resumes from the cursor; a receiver
// that is down gets everything in order once back; and after a SIGKILL while deliveries are in
// flight, every committed change is delivered at least once with its id.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { type ChangeEntry, type ChangeEvent, TaxiiClient } from '../../client/index.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type MongoTarget, mongoTarget, startStandIn } from '../helpers/mongo.js';
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

for (const storeKind of ['sqlite', 'mongodb'] as const) describe(`end to end (${storeKind} store): change feed, live stream and webhooks from the meridian process`, function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ca: TestCa;
  let server: ServerProcess | undefined;
  let mongo: MongoTarget | undefined;
  const receivers: Receiver[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-webhooks-'));
    ca = makeCa(dir);
    env = {
      MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info', ...PASSWORDS,
      MERIDIAN_WEBHOOK_ALLOW_TARGETS: '127.0.0.1', MERIDIAN_WEBHOOK_CA_FILE: ca.caFile, MERIDIAN_WEBHOOK_RETRY_SECONDS: '0.2,0.2,0.2', MERIDIAN_WEBHOOK_POLL_MS: '50',
    };
    if (storeKind === 'mongodb') {
      // A stand-in of this file's own (the shared one belongs to the store suites), or the real one.
      mongo = process.env.MERIDIAN_TEST_MONGO_URL ? await mongoTarget() : await startStandIn();
      env.MERIDIAN_STORE = mongo.processUri();
      console.log(`    the meridian process runs against ${mongo.description}`);
    }
    writeFileSync(path.join(dir, 'site.yaml'), LAYOUT);
    const applied = await runCli(['apply', path.join(dir, 'site.yaml')], env);
    expect(applied.code, applied.stderr).to.equal(0);
  });
  afterEach(async function () {
    if (server) await stopServer(server.child);
    server = undefined;
    for (const r of receivers.splice(0)) await r.close();
  });
  after(async function () {
    if (mongo?.real && env.MERIDIAN_STORE) {
      // A real MongoDB keeps what it is given: drop this test's database.
      const conn = await mongoose.createConnection(env.MERIDIAN_STORE, { serverSelectionTimeoutMS: 2000 }).asPromise();
      await conn.dropDatabase();
      await conn.close();
    } else await mongo?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
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

  /** A member country's analyst on its own published collection, through Meridian's client library. */
  async function published(country: 'fr' | 'de') {
    const client = new TaxiiClient(`${server!.base}/${country}/`, { auth: { type: 'basic', username: `${country}-analyst`, password: country === 'fr' ? PASSWORDS.FR_PW : PASSWORDS.DE_PW } });
    return { client, collection: await (await client.apiRoot()).collection('published') };
  }

  /** Follows a live stream from `since` until aborted, keeping every event. */
  function follow(c: Awaited<ReturnType<typeof published>>, since: string) {
    const events: ChangeEvent[] = [];
    const abort = new AbortController();
    const done = (async () => {
      for await (const e of c.collection.stream({ addedAfter: since, signal: abort.signal })) events.push(e);
    })();
    return { events, stop: async () => { abort.abort(); await done; c.client.close(); } };
  }

  it('a curator publishes, updates and withdraws: the feed, a live stream and a webhook receiver each see exactly that, in order, under the same ids; another country nothing', async function () {
    server = await startServer(env);
    const [frHook, deHook, vendorHook] = [await receiver(), await receiver(), await receiver()];
    await subscribe(AUTH.fr, frHook, { collections: ['fr/published'] });
    await subscribe(AUTH.de, deHook, { collections: ['de/published'] });
    await subscribe(AUTH.vendor, vendorHook, { event_types: ['curation.approved', 'curation.rejected', 'curation.withdrawn'] });
    const since = new Date(Date.now() - 1000).toISOString();
    const [fr, de] = [await published('fr'), await published('de')];
    const [frStream, deStream] = [follow(fr, since), follow(de, since)];
    const a = indicator({ name: 'A' });
    const b = indicator({ name: 'B' });
    const a2 = { ...a, modified: '2024-02-01T00:00:00.000Z', name: 'A v2' };
    await decide({ action: 'approve', submission: await post('intake', [a, b]), targets: ['fr'] });
    await decide({ action: 'approve', submission: await post('intake', [a2]), targets: ['fr'] });
    await decide({ action: 'withdraw', object_id: b.id, targets: ['fr'], reason_code: 'false_positive', reason: 'benign' });
    await until(() => frHook.received.length >= 4, 20_000, 'four deliveries to fr');
    await until(() => vendorHook.received.length >= 3, 20_000, 'three curation events');
    await until(() => frStream.events.length >= 4, 20_000, 'four events on the fr live stream');
    await new Promise((r) => setTimeout(r, 1000)); // nothing more is coming
    await Promise.all([frStream.stop(), deStream.stop()]);
    const expected = [['object.published', a.id], ['object.published', b.id], ['object.updated', a.id], ['object.withdrawn', b.id]];
    // The change feed, polled page by page (limit 2, so `next` is followed too).
    const feed: ChangeEntry[] = [];
    for await (const page of fr.collection.changePages({ limit: 2 })) feed.push(...page.items);
    expect(feed.map((c) => [c.type, c.object.id])).to.deep.equal(expected);
    expect(frStream.events.map((e) => [e.type, e.entry.object.id])).to.deep.equal(expected);
    expect(frHook.received.map((r) => [r.payload.type, r.payload.data.object.id])).to.deep.equal(expected);
    // One id per change on every channel (the webhook-id is the change id).
    const ids = feed.map((c) => c.id);
    expect(new Set(ids).size).to.equal(4);
    expect(frStream.events.map((e) => e.id)).to.deep.equal(ids);
    expect(frHook.received.map((r) => r.id)).to.deep.equal(ids);
    expect(frHook.received.every((r) => r.verified)).to.equal(true);
    expect(feed[3]!.reason).to.match(/benign/);
    expect(frHook.received[3]!.payload.data.reason).to.match(/benign/);
    // Germany: nothing on its own channels, and France's feed does not exist for it.
    const deFeed: ChangeEntry[] = [];
    for await (const page of de.collection.changePages()) deFeed.push(...page.items);
    expect(deFeed).to.deep.equal([]);
    expect(deStream.events).to.deep.equal([]);
    expect((await api('GET', '/fr/collections/published/changes/', AUTH.de, undefined, TAXII)).status).to.equal(404);
    expect(frHook.received[0]!.payload.data.links.object).to.equal(`${server.base}/fr/collections/${frHook.received[0]!.payload.data.collection}/objects/${a.id}/`);
    expect(deHook.received).to.deep.equal([]);
    expect(vendorHook.received.map((r) => r.payload.type)).to.deep.equal(['curation.approved', 'curation.approved', 'curation.withdrawn']);
    expect(vendorHook.received.every((r) => r.verified)).to.equal(true);
    expect(vendorHook.received[0]!.payload.data.objects).to.have.members([a.id, b.id]);
    expect(server.log()).to.not.include(frHook.secrets[0]!.slice(6));
  });

  // The delivery mechanics below do not depend on the store (the store's part is in the contract
  // suites, run on both); the SIGKILL test reads the SQLite file.
  if (storeKind === 'sqlite') {
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
  }
});
