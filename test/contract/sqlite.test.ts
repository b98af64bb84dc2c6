// The store contract on the embedded SQLite store (in memory).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import type { DecisionPlan } from '../../collections/store.js';
import { curationContract } from './curation-contract.js';
import { stixObject, storeContract } from './store-contract.js';
import { webhookContract } from './webhook-contract.js';

storeContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});

describe('SQLite store: a data directory from before a column existed', function () {
  it('gets the API root taxii20 column at open, off for the roots it holds', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'meridian-old-'));
    try {
      const old = new Database(path.join(dir, 'meridian.sqlite'));
      old.exec('CREATE TABLE api_roots (seq INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, country TEXT, title TEXT NOT NULL, description TEXT, max_content_length INTEGER NOT NULL, created_at INTEGER NOT NULL)');
      old.prepare('INSERT INTO api_roots (path, title, max_content_length, created_at) VALUES (?, ?, ?, ?)').run('fr', 'France', 10, 1);
      old.pragma('user_version = 1');
      old.close();
      const store = new SqliteStore({ location: dir });
      try {
        expect((await store.getApiRoot('fr'))?.taxii20 ?? false).to.equal(false);
        expect((await store.updateApiRoot('fr', { taxii20: true }))?.taxii20).to.equal(true);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

curationContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});

webhookContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});

// The same contract on a file: there, large decisions are written by a worker thread with its own connection.
const directories = new WeakMap<object, string>();
curationContract('sqlite file (large decisions in a worker thread)', {
  open: async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meridian-curation-'));
    const store = new SqliteStore({ location: dir });
    directories.set(store, dir);
    return store;
  },
  close: async (store) => {
    await store.close();
    rmSync(directories.get(store)!, { recursive: true, force: true });
  },
});

describe('SQLite store: a large decision written by the worker thread', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;
  let targets: string[];

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-decision-'));
    store = new SqliteStore({ location: dir });
    await store.createApiRoot({ path: 'fr', title: 'fr', maxContentLength: 1_000_000 });
    targets = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of targets) await store.createCollection({ id, apiRoot: 'fr', title: id, purpose: 'published', mediaTypes: ['application/stix+json;version=2.1'] });
  });

  afterEach(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A decision publishing `count` new objects to every target. */
  function bigPlan(count: number): DecisionPlan {
    const objects = Array.from({ length: count }, (_, i) => stixObject('indicator', { modified: `2021-01-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z` }));
    const at = Date.now() * 1000;
    return {
      id: randomUUID(), kind: 'approve', actorKind: 'desk', actorName: 'cur1', at, entries: [], withdrawals: [],
      publications: objects.flatMap((object) => targets.map((collectionId) => ({ collectionId, object, changeType: 'object.published' as const, provenance: { curators: ['cur1'] } }))),
      audit: { at, actor: 'cur1', action: 'curation.approve', outcome: 'success' },
    };
  }

  it('lets this thread write to the same collections meanwhile: both land, date_added and the change log stay strictly increasing', async function () {
    const account = (await store.createAccount({ id: randomUUID(), name: 'analyst', passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false })).id;
    let done = false;
    const applying = store.applyDecision(bigPlan(4000)).finally(() => {
      done = true;
    });
    let direct = 0;
    while (!done) {
      // A POST's ingest into a target while the worker holds or waits for the write lock (busy_timeout).
      const id = randomUUID();
      const o = stixObject('malware', { modified: '2022-02-02T00:00:00.000Z' });
      await store.createSubmission({ id, apiRoot: 'fr', collectionId: targets[0]!, accountId: account, requestTimestamp: Date.now() * 1000, body: Buffer.from('{}'), totalCount: 1 });
      await store.ingest(id, [{ index: 0, id: o.id, version: o.version!, object: o }]);
      await store.completeSubmission(id);
      direct++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await applying).to.deep.equal({ published: 12_000, withdrawn: 0 });
    expect(direct).to.be.greaterThan(0);
    const versions = (await store.queryManifest(targets[0]!, { versions: { all: true }, limit: 10_000 })).items;
    expect(versions).to.have.length(4000 + direct);
    const log = (await store.readChanges(targets[0]!, 0, 10_000)).items;
    expect(log).to.have.length(4000 + direct);
    const stamps = [...versions.map((v) => v.dateAdded), ...log.map((c) => c.dateAdded)];
    expect(new Set(stamps).size, 'no two versions or changes share a date_added').to.equal(stamps.length);
    expect(log.map((c) => c.dateAdded)).to.deep.equal(log.map((c) => c.dateAdded).sort((a, b) => a - b));
  });

  for (const copies of [false, true]) {
    it(`stops between two transactions when the store closes; the next open rolls the decision forward, every publication once${copies ? ' (copies of a collection\'s objects: the kept plan refers to them, and the resumed one reads their JSON there)' : ''}`, async function () {
      const plan = bigPlan(4000);
      if (copies) {
        // The objects are in a collection of their own first, as an intake's are; the plan names it as their source.
        const source = randomUUID();
        await store.createCollection({ id: source, apiRoot: 'fr', title: 'source', purpose: 'intake', mediaTypes: ['application/stix+json;version=2.1'] });
        const account = (await store.createAccount({ id: randomUUID(), name: 'vendor', passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false })).id;
        const submission = randomUUID();
        const objects = [...new Set(plan.publications.map((p) => p.object))];
        await store.createSubmission({ id: submission, apiRoot: 'fr', collectionId: source, accountId: account, requestTimestamp: Date.now() * 1000, totalCount: objects.length });
        await store.ingest(submission, objects.map((o, index) => ({ index, id: o.id, version: o.version!, object: o })));
        for (const p of plan.publications) p.source = source;
      }
      const applying = store.applyDecision(plan).then(() => 'applied', (err: Error) => err.message);
      // Closed as soon as the decision is recorded: its publications are still being written.
      while ((await store.listDecisions({ limit: 1 })).length === 0) await new Promise((r) => setTimeout(r, 2));
      await store.close();
      const outcome = await applying;
      store = new SqliteStore({ location: dir });
      const resumed = await store.resumeDecisions();
      if (outcome !== 'applied') {
        expect(outcome).to.match(/finished at the next start/);
        expect(resumed).to.equal(1);
      }
      for (const id of targets) {
        expect(await store.countObjects(id)).to.equal(4000);
        expect((await store.listPublications({ collectionId: id })).length).to.equal(4000);
        expect((await store.readChanges(id, 0, 10_000)).items.length).to.equal(4000);
      }
      const last = plan.publications.at(-1)!.object;
      const [copy] = (await store.queryObjects(targets[2]!, { ids: [last.id], versions: { all: true }, limit: 10 })).items;
      expect(copy?.json).to.equal(last.json);
      expect((await store.listDecisions({ limit: 1 }))[0]).to.include({ id: plan.id, publications: 12_000 });
      expect(await store.resumeDecisions()).to.equal(0);
    });
  }
});
