// The store contract on the MongoDB store, plus what only a shared, networked store has to survive:
// concurrent writers, outages, and several server instances on one database.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import mongoose from 'mongoose';
import request from 'supertest';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { migrate } from '../../server/commands/migrate.js';
import { type DecisionPlan, type NewObject, type QueueEntry, type Store, StoreUnavailableError } from '../../collections/store.js';
import { type MongoTarget, mongoTarget } from '../helpers/mongo.js';
import { TAXII, indicator, testServer } from '../helpers/server.js';
import { curationContract } from './curation-contract.js';
import { stixObject, storeContract } from './store-contract.js';
import { webhookContract } from './webhook-contract.js';

const target: MongoTarget = await mongoTarget();
console.log(`    MongoDB store tests run against ${target.description}`);

const uris = new WeakMap<Store, string>();

function open(uri = target.uri()): MongoStore {
  const store = new MongoStore({ uri, serverSelectionTimeoutMs: 500, startupTimeoutMs: 5000, retryDelayMs: 100, ...target.storeOptions });
  uris.set(store, uri);
  return store;
}

async function dropDatabase(uri: string): Promise<void> {
  const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
  await conn.dropDatabase();
  await conn.close();
}

async function dispose(store: Store): Promise<void> {
  await store.close();
  await dropDatabase(uris.get(store)!);
}

storeContract(`mongodb (${target.real ? 'real MongoDB' : 'CongoDB stand-in'})`, { open: async () => open(), close: dispose });
curationContract(`mongodb (${target.real ? 'real MongoDB' : 'CongoDB stand-in'})`, { open: async () => open(), close: dispose });
webhookContract(`mongodb (${target.real ? 'real MongoDB' : 'CongoDB stand-in'})`, { open: async () => open(), close: dispose });

// Root-level: runs whatever subset of the file was selected.
after(async function () {
  await target.shutdown();
});

describe(`MongoDB store beyond the contract (${target.real ? 'real MongoDB' : 'CongoDB stand-in'})`, function () {
  async function setUp(store: Store) {
    await store.createApiRoot({ path: 'fr', title: 'France', maxContentLength: 1_000_000 });
    const collectionId = randomUUID();
    await store.createCollection({ id: collectionId, apiRoot: 'fr', title: 'Shared', purpose: 'published', mediaTypes: [] });
    return collectionId;
  }

  async function submit(store: Store, collectionId: string, objects: ReturnType<typeof stixObject>[]) {
    const id = randomUUID();
    await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId: 'a', requestTimestamp: Date.now() * 1000, body: Buffer.from('{}'), totalCount: objects.length });
    await store.ingest(id, objects.map((object, index) => ({ index, id: object.id, version: object.version ?? '', object })));
    await store.completeSubmission(id);
    return store.submissionItems(id);
  }

  it('stores an object once when many writers (two store instances) send it at the same time', async function () {
    const uri = target.uri();
    const a = open(uri);
    const b = open(uri);
    try {
      const collectionId = await setUp(a);
      const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(i % 2 ? a : b, collectionId, [obj])));
      expect(results.map((r) => r[0]!.outcome)).to.deep.equal(Array(20).fill('success'));
      expect(new Set(results.map((r) => r[0]!.dateAdded)).size).to.equal(1);
      expect(await a.countObjects(collectionId)).to.equal(1);
      // Only the writer that stored it logs it.
      expect((await b.readChanges(collectionId, 0, 100)).items.map((c) => [c.type, c.objectId])).to.deep.equal([['object.published', obj.id]]);
    } finally {
      await b.close();
      await dispose(a);
    }
  });

  it('gives concurrent writers distinct, increasing date_added and consistent first/last flags', async function () {
    const uri = target.uri();
    const a = open(uri);
    const b = open(uri);
    try {
      const collectionId = await setUp(a);
      const id = `indicator--${randomUUID()}`;
      const batches = Array.from({ length: 10 }, (_, i) => [stixObject('indicator', { id, modified: `20${10 + i}-01-01T00:00:00.000Z` }), stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' })]);
      await Promise.all(batches.map((batch, i) => submit(i % 2 ? a : b, collectionId, batch)));
      const all = await a.queryManifest(collectionId, { versions: { all: true }, limit: 100 });
      const dates = all.items.map((e) => e.dateAdded);
      expect(new Set(dates).size).to.equal(20);
      expect([...dates].sort((x, y) => x - y)).to.deep.equal(dates);
      const last = await b.queryManifest(collectionId, { ids: [id], versions: { first: false, last: true, keys: [] }, limit: 10 });
      expect(last.items.map((e) => e.version)).to.deep.equal(['2019-01-01T00:00:00.000Z']);
      const first = await b.queryManifest(collectionId, { ids: [id], versions: { first: true, last: false, keys: [] }, limit: 10 });
      expect(first.items.map((e) => e.version)).to.deep.equal(['2010-01-01T00:00:00.000Z']);
    } finally {
      await b.close();
      await dispose(a);
    }
  });

  it('logs each version of an ingest batch a crash interrupted between objects and changes once: the resumed batch writes the lost changes', async function () {
    const uri = target.uri();
    const a = open(uri);
    try {
      const collectionId = await setUp(a);
      const id = `indicator--${randomUUID()}`;
      const objects = [stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' }), stixObject('indicator', { id, modified: '2021-02-01T00:00:00.000Z' }), stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' })];
      const items = objects.map((object, index) => ({ index, id: object.id, version: object.version!, object }));
      const sub = randomUUID();
      await a.createSubmission({ id: sub, apiRoot: 'fr', collectionId, accountId: 'a', requestTimestamp: Date.now() * 1000, body: Buffer.from('{}'), totalCount: 3 });
      // The process "dies" at the change log's insert: the objects are in, their changes are not.
      const collection = (a as unknown as { conn: mongoose.Connection }).conn.models.Change!.collection as unknown as Record<string, unknown>;
      const original = collection.insertMany;
      collection.insertMany = async () => {
        collection.insertMany = original;
        throw new Error('simulated crash');
      };
      let error: unknown;
      try {
        await a.ingest(sub, items);
      } catch (err) {
        error = err;
      }
      expect((error as Error | undefined)?.message).to.equal('simulated crash');
      expect(await a.countObjects(collectionId)).to.equal(3);
      expect((await a.readChanges(collectionId, 0, 10)).items).to.deep.equal([]);
      // Start-up of another instance resumes the submission; a second resume changes nothing.
      const b = open(uri);
      try {
        const [pending] = await b.pendingSubmissions();
        expect(pending?.pendingIndexes).to.deep.equal([0, 1, 2]);
        await b.ingest(sub, items);
        await b.ingest(sub, items);
        const stored = (await b.queryManifest(collectionId, { versions: { all: true }, limit: 10 })).items;
        const changes = (await b.readChanges(collectionId, 0, 10)).items;
        expect(changes.map((c) => [c.type, c.objectId, c.version])).to.deep.equal([
          ['object.published', id, objects[0]!.version], ['object.updated', id, objects[1]!.version], ['object.published', objects[2]!.id, objects[2]!.version],
        ]);
        expect(changes[0]!.dateAdded).to.be.greaterThan(Math.max(...stored.map((o) => o.dateAdded)));
        expect(new Set(changes.map((c) => c.id)).size).to.equal(3);
        expect((await b.submissionItems(sub)).map((i) => i.outcome)).to.deep.equal(['success', 'success', 'success']);
      } finally {
        await b.close();
      }
    } finally {
      await dispose(a);
    }
  });

  it('finishes decisions a crash interrupted (roll forward), and drops one whose entries changed meanwhile', async function () {
    const uri = target.uri();
    const a = open(uri);
    try {
      await a.createApiRoot({ path: 'fr', title: 'France', maxContentLength: 1_000_000 });
      const intake = randomUUID();
      const pub = randomUUID();
      await a.createCollection({ id: intake, apiRoot: 'fr', title: 'Intake', purpose: 'intake', mediaTypes: [] });
      await a.createCollection({ id: pub, apiRoot: 'fr', title: 'Published', purpose: 'published', mediaTypes: [] });
      const objects = [1, 2, 3].map(() => stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' }));
      const id = randomUUID();
      await a.createSubmission({ id, apiRoot: 'fr', collectionId: intake, accountId: 'a', requestTimestamp: Date.now() * 1000, totalCount: 3 });
      await a.ingest(id, objects.map((object, index) => ({ index, id: object.id, version: object.version!, object })));
      const [e1, e2, e3] = (await a.queryQueue({ intakeIds: [intake], limit: 10 })).items as [QueueEntry, QueueEntry, QueueEntry];
      const planFor = (e: QueueEntry, o: NewObject, state: 'approved' | 'rejected' = 'approved'): DecisionPlan => {
        const at = Date.now() * 1000;
        return {
          id: randomUUID(), kind: 'approve', actorKind: 'desk', accountId: 'c1', actorName: 'cur1', at, entries: [{ entryId: e.id, rev: e.rev, state }],
          publications: state === 'approved' ? [{ collectionId: pub, entryId: e.id, object: { ...o, versionKey: e.versionKey }, changeType: 'object.published', provenance: { submission: id } }] : [],
          withdrawals: [], audit: { at, actor: 'cur1', action: `curation.${state}`, outcome: 'success', target: e.id },
        };
      };
      // The process "dies" at one write: the next call of that method throws once.
      const models = (a as unknown as { conn: mongoose.Connection }).conn.models;
      const crashOnce = (model: string, method: 'insertMany' | 'bulkWrite') => {
        const collection = models[model]!.collection as unknown as Record<string, unknown>;
        const original = collection[method];
        collection[method] = async () => {
          collection[method] = original;
          throw new Error('simulated crash');
        };
      };
      const crashed = async (plan: DecisionPlan) => {
        let error: unknown;
        try {
          await a.applyDecision(plan);
        } catch (err) {
          error = err;
        }
        expect((error as Error | undefined)?.message).to.equal('simulated crash');
      };
      crashOnce('Publication', 'insertMany'); // after the entries moved and the objects were copied
      const p1 = planFor(e1, objects[0]!);
      await crashed(p1);
      crashOnce('QueueEntry', 'bulkWrite'); // while the entries move
      const p2 = planFor(e2, objects[1]!);
      await crashed(p2);
      crashOnce('QueueEntry', 'bulkWrite');
      const p3 = planFor(e3, objects[2]!);
      await crashed(p3);
      // Meanwhile another curator decides on e3 (its rev is still the one read): p3 is stale now.
      await a.applyDecision(planFor(e3, objects[2]!, 'rejected'));
      expect((await a.listDecisions({ limit: 10 })).map((d) => d.id)).to.not.include.members([p1.id, p2.id, p3.id]);
      expect(await a.listPublications({ collectionId: pub })).to.deep.equal([]);
      // Start-up of another instance.
      const b = open(uri);
      try {
        expect(await b.resumeDecisions()).to.equal(2);
        expect(await b.resumeDecisions()).to.equal(0);
        const pubs = await b.listPublications({ collectionId: pub });
        expect(pubs.map((x) => [x.objectId, x.decisionId])).to.have.deep.members([[objects[0]!.id, p1.id], [objects[1]!.id, p2.id]]);
        expect((await b.queryObjects(pub, { versions: { all: true }, limit: 10 })).items.map((o) => o.id)).to.have.members([objects[0]!.id, objects[1]!.id]);
        expect((await b.readChanges(pub, 0, 10)).items.map((c) => c.objectId)).to.have.members([objects[0]!.id, objects[1]!.id]);
        const entries = await b.getQueueEntries([e1.id, e2.id, e3.id]);
        expect(entries.map((e) => [e.state, e.rev])).to.deep.equal([['approved', e1.rev + 1], ['approved', e2.rev + 1], ['rejected', e3.rev + 1]]);
        const decisions = await b.listDecisions({ limit: 10 });
        expect(decisions.map((d) => d.id)).to.include.members([p1.id, p2.id]);
        expect(decisions.map((d) => d.id)).to.not.include(p3.id);
        expect(decisions.find((d) => d.id === p1.id)?.publications).to.equal(1);
        const audit = await b.queryAudit({ action: 'curation.approved', limit: 10 });
        expect(audit.map((e) => e.detail?.decision)).to.have.members([p1.id, p2.id]);
      } finally {
        await b.close();
      }
    } finally {
      await dispose(a);
    }
  });

  it('fails fast with StoreUnavailableError while MongoDB is away and recovers by itself, losing nothing acknowledged', async function () {
    if (!target.outage) {
      console.log('      (skipped: the outage test stops the in-process stand-in; a real MongoDB is not stopped by the tests)');
      this.skip();
    }
    const store = open();
    try {
      const collectionId = await setUp(store);
      const before = await submit(store, collectionId, [stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' })]);
      await target.outage.stop();
      const started = Date.now();
      let error: unknown;
      try {
        await submit(store, collectionId, [stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' })]);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(StoreUnavailableError);
      expect(Date.now() - started).to.be.below(5000);
      await target.outage.start();
      // The driver finds the server again on its own (heartbeat); no reconnect call.
      let after: Awaited<ReturnType<typeof submit>> | undefined;
      for (let i = 0; i < 100 && !after; i++) {
        try {
          after = await submit(store, collectionId, [stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })]);
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(after?.[0]?.outcome).to.equal('success');
      const ids = (await store.queryObjects(collectionId, { versions: { all: true }, limit: 10 })).items.map((o) => o.id);
      expect(ids).to.include(before[0]!.id);
      expect(ids).to.include(after![0]!.id);
    } finally {
      await dispose(store);
    }
  });

  it('serves one store from two app instances: status and next tokens from one work on the other', async function () {
    const uri = target.uri();
    const storeA = open(uri);
    const storeB = open(uri);
    try {
      const a = await testServer({}, storeA);
      const b = await testServer({}, storeB);
      await a.root('api1');
      const c = await a.collection('api1', { title: 'Shared' });
      const who = await a.account([], 'rw');
      await a.grant(who, c.id, { read: true, write: true });
      const objects = [indicator(), indicator(), indicator()];
      const posted = await request(a.app).post(`/api1/collections/${c.id}/objects/`).set('Accept', TAXII).set('Content-Type', TAXII).set('Authorization', who.auth).send(JSON.stringify({ objects }));
      expect(posted.status).to.equal(202);
      await a.service.idle();
      const status = await request(b.app).get(`/api1/status/${posted.body.id}/`).set('Accept', TAXII).set('Authorization', who.auth);
      expect([status.status, status.body.status, status.body.success_count]).to.deep.equal([200, 'complete', 3]);
      const seen: string[] = [];
      let next: string | undefined;
      for (let i = 0; i < 5; i++) {
        const app = i % 2 ? a.app : b.app; // each page from the other instance
        const page = await request(app).get(`/api1/collections/${c.id}/objects/?limit=1${next ? `&next=${encodeURIComponent(next)}` : ''}`).set('Accept', TAXII).set('Authorization', who.auth);
        expect(page.status).to.equal(200);
        seen.push(...page.body.objects.map((o: { id: string }) => o.id));
        next = page.body.next;
        if (!page.body.more) break;
      }
      expect(seen).to.deep.equal(objects.map((o) => o.id));
    } finally {
      await storeB.close();
      await dispose(storeA);
    }
  });

  it('migrates an embedded store into MongoDB, keeping date_added, resumably, with verified counts', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'meridian-migrate-'));
    const uri = target.uri();
    try {
      const sqlite = new SqliteStore({ location: dir });
      const collectionId = await setUp(sqlite);
      const id = `indicator--${randomUUID()}`;
      await submit(sqlite, collectionId, [stixObject('indicator', { id, modified: '2020-01-01T00:00:00.000Z' }), stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' }), stixObject('ipv4-addr', { extra: { value: '198.51.100.7' } })]);
      await sqlite.appendAudit({ at: 1, actor: 'admin', action: 'collection.add', outcome: 'success' });
      const before = (await sqlite.queryManifest(collectionId, { versions: { all: true }, limit: 10 })).items;
      await sqlite.close();
      const lines: string[] = [];
      const progress = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
      const first = await migrate({ from: dir, to: uri, progress, batchSize: 2 });
      expect(first.ok, JSON.stringify(first.counts)).to.equal(true);
      expect(lines.join('')).to.match(/objects: 3\/3/);
      const again = await migrate({ from: dir, to: uri, batchSize: 2 }); // a resumed (here: repeated) run adds nothing
      expect(again.ok, JSON.stringify(again.counts)).to.equal(true);
      const mongo = open(uri);
      try {
        const after = (await mongo.queryManifest(collectionId, { versions: { all: true }, limit: 10 })).items;
        expect(after).to.deep.equal(before);
        const last = await mongo.queryManifest(collectionId, { ids: [id], versions: { first: false, last: true, keys: [] }, limit: 10 });
        expect(last.items.map((e) => e.version)).to.deep.equal(['2021-01-01T00:00:00.000Z']);
        // New objects continue after the migrated date_added values.
        const added = await submit(mongo, collectionId, [stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })]);
        expect(added[0]!.dateAdded).to.be.greaterThan(before[before.length - 1]!.dateAdded);
      } finally {
        await dispose(mongo);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports StoreUnavailableError (not a hang) when MongoDB never answers at start-up', async function () {
    const store = new MongoStore({ uri: 'mongodb://127.0.0.1:1/none', serverSelectionTimeoutMs: 100, startupTimeoutMs: 300, retryDelayMs: 50 });
    let error: unknown;
    try {
      await store.listApiRoots();
    } catch (err) {
      error = err;
    } finally {
      await store.close();
    }
    expect(error).to.be.instanceOf(StoreUnavailableError);
  });

  it('orders strings in binary order (only a real MongoDB can show this)', async function () {
    if (!target.real) {
      console.log('      (skipped: the CongoDB stand-in sorts strings locale-like; runs only with a real MongoDB)');
      this.skip();
    }
    const store = open();
    try {
      for (const name of ['b', 'B', 'a', 'C']) await store.createAccount({ id: randomUUID(), name, passwordHash: 'x', roles: [], curatorRoots: [], disabled: false });
      expect((await store.listAccounts()).map((a) => a.name)).to.deep.equal(['B', 'C', 'a', 'b']);
    } finally {
      await dispose(store);
    }
  });
});
