// The benchmark's limits measure what the store does: for each store kind, the raw query
// the bench times behind a GET returns exactly the rows of the store's own page, and the bench's
// bulk load and raw insert work; the desk's raw queue query and raw publication insert likewise. On MongoDB this runs where the other MongoDB tests run (see
// test/helpers/mongo.ts: a real server with MERIDIAN_TEST_MONGO_URL, else the stand-in).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { Store } from '../../collections/store.js';
import { DeskService } from '../../desk/service.js';
import { type Backend, type QueueParams, type RawShape, bulkLoad, mongoBackend, sqliteBackend } from '../../bench/backends.js';
import { distinctObjects, generateObjects } from '../../bench/dataset.js';
import { mongoTarget } from '../helpers/mongo.js';

const target = await mongoTarget();
const backends: Array<[string, Backend]> = [
  ['sqlite', sqliteBackend],
  [`mongodb on ${target.real ? 'a real MongoDB' : 'the CongoDB stand-in (NOT a real MongoDB)'}`, mongoBackend(target.processUri())],
];
after(() => target.shutdown());

const LAST = { all: false, first: false, last: true, keys: [] };

for (const [name, backend] of backends) {
  describe(`bench backend: ${name}`, function () {
    this.timeout(60_000);
    let dir: string;
    let store: Store;
    const objects = [...generateObjects(7, 400, { prefix: 'raw' })];

    before(async function () {
      dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-backend-'));
      store = backend.open(dir);
      await store.createApiRoot({ path: 'bench', title: 'bench', maxContentLength: 1 << 20 });
      await store.createCollection({ id: 'c1', apiRoot: 'bench', title: 'c', alias: 'c', purpose: 'published', mediaTypes: [] });
      const loaded = await bulkLoad(store, 'bench', 'c1', objects, undefined, 150);
      expect(loaded.count).to.equal(400);
    });
    after(async function () {
      await store.close();
      await backend.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs the query the store runs for objects/, manifest/, match[type], match[id] and changes/', async function () {
      const reader = await backend.reader(dir);
      try {
        const c = await reader.collection('bench', 'c');
        // 400 objects, some of them new versions of earlier ones (one row per version).
        expect(c.count).to.equal(400);
        expect(c.last).to.be.greaterThan(c.first);
        const ids = await reader.sampleIds(c, 20);
        expect(ids).to.have.length(20);
        for (const id of ids) expect(objects.some((o) => o.id === id)).to.equal(true);
        const cases: Array<[RawShape, { after?: number; type?: string; id?: string }, (q: { addedAfter?: number }) => Promise<string[]>]> = [];
        for (const after of [c.first - 1, c.first + Math.floor((c.last - c.first) / 2), c.last - 5]) {
          cases.push(['poll', { after }, async () => (await store.queryObjects('c1', { addedAfter: after, versions: LAST, limit: 100 })).items.map((o) => o.id)]);
          cases.push(['manifest', { after }, async () => (await store.queryManifest('c1', { addedAfter: after, versions: LAST, limit: 100 })).items.map((o) => o.id)]);
          cases.push(['matchType', { after, type: 'indicator' }, async () => (await store.queryObjects('c1', { addedAfter: after, types: ['indicator'], versions: LAST, limit: 100 })).items.map((o) => o.id)]);
          // the change feed: every stored version wrote one change (its ids are the change ids)
          cases.push(['changes', { after }, async () => (await store.readChanges('c1', after, 100)).items.map((x) => x.id)]);
        }
        for (const id of ids.slice(0, 5)) cases.push(['matchId', { id }, async () => (await store.queryObjects('c1', { ids: [id], versions: LAST, limit: 100 })).items.map((o) => o.id)]);
        for (const [shape, params, page] of cases) {
          // The raw query fetches one row more than a page of 100 (to learn whether there is more).
          const raw = await reader.run(shape, c, params);
          expect(raw.slice(0, 100), `${shape} ${JSON.stringify(params)}`).to.deep.equal(await page({}));
        }
        const timed = await reader.time('poll', c, 5, () => ({ after: c.first }));
        expect(timed.count).to.equal(5);
        expect(timed.plan).to.be.a('string').and.not.equal('');
      } finally {
        await reader.close();
      }
    });

    it('inserts the same rows raw and reports a rate', async function () {
      const r = await backend.rawInsert(objects);
      expect(r.objectsPerSecond).to.be.greaterThan(0);
      expect(r.seconds).to.be.greaterThan(0);
    });
  });
}

// The desk's limits (SQLite only: the desk is not yet on MongoDB): the raw queue query returns the
// store's own queue page, and the raw publication insert writes the rows an approval writes.
describe('bench desk backend: sqlite', function () {
  this.timeout(60_000);
  const desk = sqliteBackend.desk!;
  let dir: string;
  let store: Store;
  const objects = distinctObjects(11, 300, { prefix: 'desk' });
  const vendors: string[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-desk-'));
    store = sqliteBackend.open(dir);
    for (const root of ['desk', 'fr', 'de', 'global']) await store.createApiRoot({ path: root, title: root, maxContentLength: 1 << 20 });
    await store.createCollection({ id: 'intake', apiRoot: 'desk', title: 'intake', alias: 'intake', purpose: 'intake', mediaTypes: [] });
    for (const root of ['fr', 'de', 'global']) {
      await store.createCollection({ id: `${root}-published`, apiRoot: root, title: 'published', alias: 'published', purpose: 'published', mediaTypes: [] });
      await store.putDeskRules(`${root}-published`, { release: { approvalsRequired: 1 } });
    }
    for (const n of [1, 2]) {
      const org = await store.createOrganisation({ id: `org-${n}`, name: `vendor-${n}`, kind: 'vendor', disabled: false });
      vendors.push((await store.createAccount({ id: `acct-${n}`, name: `vendor-${n}-feed`, organisationId: org.id, passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false })).id);
    }
    // Later versions in the second batch supersede entries of the first: several states to filter on.
    const later = objects.filter((o) => o.type === 'indicator').slice(0, 20).map((o) => ({ ...o, modified: '2030-01-01T00:00:00.000Z' }));
    const loaded = await bulkLoad(store, 'desk', 'intake', [...objects, ...later], undefined, 160, (n) => vendors[n % 2]!);
    expect(loaded.count).to.equal(320);
  });
  after(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the query the store runs for queue pages: all, by state, by vendor, deep', async function () {
    const reader = await desk.reader(dir);
    try {
      const info = await reader.intake('intake');
      expect(info.count).to.equal(320);
      expect(info.lastSeq).to.be.greaterThan(info.firstSeq);
      const middle = info.firstSeq + Math.floor((info.lastSeq - info.firstSeq) / 2);
      const shapes: QueueParams[] = [];
      for (const afterSeq of [undefined, middle, info.lastSeq - 3]) {
        for (const filter of [{}, { states: ['pending' as const] }, { states: ['superseded' as const] }, { organisationId: 'org-2' }, { states: ['pending' as const], organisationId: 'org-1' }]) {
          shapes.push({ intakeIds: ['intake'], maxTlp: 4, limit: 100, ...filter, ...(afterSeq !== undefined ? { afterSeq } : {}) });
        }
      }
      let superseded = 0;
      for (const q of shapes) {
        const page = await store.queryQueue(q);
        const raw = await reader.run(q);
        expect(raw.slice(0, 100), JSON.stringify(q)).to.deep.equal(page.items.map((e) => e.id));
        expect(raw.length > 100, JSON.stringify(q)).to.equal(page.more);
        expect(await reader.seqs(q)).to.deep.equal([...page.items.map((e) => e.seq), ...(page.more ? [(await reader.seqs(q))[100]!] : [])]);
        if (q.states?.[0] === 'superseded') superseded += page.items.length;
      }
      expect(superseded).to.be.greaterThan(0);
      const timed = await reader.time(5, () => ({ intakeIds: ['intake'], limit: 100 }));
      expect(timed.count).to.equal(5);
      expect(timed.plan).to.be.a('string').and.not.equal('');
    } finally {
      await reader.close();
    }
  });

  it('inserts raw the rows an approval to three targets writes', async function () {
    const admin = await store.createAccount({ id: 'admin', name: 'admin', passwordHash: 'x', roles: ['admin'], curatorRoots: [], disabled: false });
    const [first] = (await store.queryQueue({ intakeIds: ['intake'], limit: 1 })).items;
    const result = await new DeskService(store).decide({ account: admin }, { action: 'approve', submission: first!.submissionId, targets: ['fr', 'de', 'global'] });
    expect(result.published).to.equal(3 * result.entries);
    const published = (await store.listPublications({ collectionId: 'fr-published' })).map((p) => p.objectId);
    const approved = objects.filter((o) => published.includes(o.id as string));
    expect(approved).to.have.length(result.entries);

    // The store's rows, per target, without what differs by nature (keys, times, provenance).
    const storeDb = new Database(path.join(dir, 'meridian.sqlite'), { readonly: true });
    const shape = (db: Database.Database, coll: number | string, collectionId: string) => ({
      objects: db.prepare('SELECT id, type, version, CASE WHEN version IS NULL THEN NULL ELSE version_key END AS version_key, spec_version, media_type, is_first, is_last, is_latest_spec, tlp, first_mask, last_mask, warnings, json FROM objects WHERE coll = ? ORDER BY id').all(coll),
      publications: db.prepare('SELECT object_id, object_type, version, CASE WHEN version IS NULL THEN NULL ELSE version_key END AS version_key FROM publications WHERE collection_id = ? ORDER BY object_id').all(collectionId),
      changes: db.prepare('SELECT type, object_type, object_id, version, actor_kind, reason, last_version, tlp FROM changes WHERE coll = ? ORDER BY object_id').all(coll),
      // One date_added per row, and none shared by an object and a change.
      dates: (db.prepare('SELECT count(DISTINCT date_added) AS n FROM (SELECT date_added FROM objects WHERE coll = ? UNION ALL SELECT date_added FROM changes WHERE coll = ?)').get(coll, coll) as { n: number }).n,
    });
    const fromStore = ['fr', 'de', 'global'].map((root) => {
      const c = storeDb.prepare('SELECT pk, id FROM collections WHERE id = ?').get(`${root}-published`) as { pk: number; id: string };
      return shape(storeDb, c.pk, c.id);
    });
    storeDb.close();
    // The raw insert of the same objects, as the intake stored them (normalised JSON).
    const intakeJson = new Map((await store.queryObjects('intake', { ids: approved.map((o) => o.id as string), versions: { all: true }, limit: 10_000 })).items.map((o) => [`${o.id}|${o.version ?? ''}`, JSON.parse(o.json) as Record<string, unknown>]));
    const same = approved.map((o) => intakeJson.get(`${o.id as string}|${(o.modified ?? o.created ?? '') as string}`)!);
    let fromRaw: Array<ReturnType<typeof shape>> = [];
    const r = await desk.rawPublish(same, 3, (db) => {
      fromRaw = [1, 2, 3].map((n) => {
        const c = db.prepare('SELECT pk, id FROM collections WHERE id = ?').get(`raw${n}`) as { pk: number; id: string };
        return shape(db, c.pk, c.id);
      });
    });
    expect(r.rows).to.equal(3 * approved.length);
    expect(r.rowsPerSecond).to.be.greaterThan(0);
    for (let t = 0; t < 3; t++) {
      expect(fromRaw[t]!.objects, `objects of target ${t}`).to.deep.equal(fromStore[t]!.objects);
      expect(fromRaw[t]!.publications, `publications of target ${t}`).to.deep.equal(fromStore[t]!.publications);
      expect(fromRaw[t]!.changes, `changes of target ${t}`).to.deep.equal(fromStore[t]!.changes);
      expect(fromRaw[t]!.dates).to.equal(fromStore[t]!.dates).and.equal(2 * approved.length);
    }

    // The same rows into a copy of this store: its collections get them, the store itself nothing.
    const fresh = same.map((o) => ({ ...o, id: `${(o.id as string).split('--')[0]}--${randomUUID()}` }));
    const count = (table: string, column: string, value: string) => {
      const db = new Database(path.join(dir, 'meridian.sqlite'), { readonly: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(value) as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const before = count('publications', 'collection_id', 'fr-published');
    const into = await desk.rawPublishInto(dir, fresh, ['fr-published', 'de-published', 'global-published']);
    expect(into.rows).to.equal(3 * fresh.length);
    expect(into.rowsPerSecond).to.be.greaterThan(0);
    expect(count('publications', 'collection_id', 'fr-published')).to.equal(before);
  });
});
