// The benchmark's limits measure what the store does: for each store kind, the raw query
// the bench times behind a GET returns exactly the rows of the store's own page, and the bench's
// bulk load and raw insert work. On MongoDB this runs where the other MongoDB tests run (see
// test/helpers/mongo.ts: a real server with MERIDIAN_TEST_MONGO_URL, else the stand-in).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Store } from '../../collections/store.js';
import { type Backend, type RawShape, bulkLoad, mongoBackend, sqliteBackend } from '../../bench/backends.js';
import { generateObjects } from '../../bench/dataset.js';
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

    it('runs the query the store runs for objects/, manifest/, match[type] and match[id]', async function () {
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
