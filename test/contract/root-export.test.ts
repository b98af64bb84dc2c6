// meridian export / restore of one API root (server/commands/root-export.ts) through the Store
// interface: export → wipe → restore gives the same objects, versions, date_added, manifest, flags,
// desk rules and grants, on each store and from one store into the other; a file cut short or
// damaged is reported with its line.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type NewObject, type Store, TLP_RANK } from '../../collections/store.js';
import { ExportError, exportRoot, importRoot, isRootExport } from '../../server/commands/root-export.js';
import { mongoTarget } from '../helpers/mongo.js';
import { stixObject } from './store-contract.js';

const AMBER = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421'; // TLP 2.0 amber

// Root-level (idempotent): the shared MongoDB stand-in must not keep the process alive.
after(async function () {
  await (await mongoTarget()).shutdown();
});

interface Harness {
  name: string;
  open(): Promise<Store>;
  dispose(store: Store): Promise<void>;
}

const sqlite: Harness = { name: 'sqlite', open: async () => new SqliteStore({ location: ':memory:' }), dispose: (s) => s.close() };
const mongoUris = new WeakMap<Store, string>();
const mongo: Harness = {
  name: 'mongodb',
  open: async () => {
    const target = await mongoTarget();
    const uri = target.uri();
    const store = new MongoStore({ uri, serverSelectionTimeoutMs: 500, startupTimeoutMs: 5000, retryDelayMs: 100, ...target.storeOptions });
    mongoUris.set(store, uri);
    return store;
  },
  dispose: async (store) => {
    await store.close();
    const conn = await mongoose.createConnection(mongoUris.get(store)!, { serverSelectionTimeoutMS: 2000 }).asPromise();
    await conn.dropDatabase();
    await conn.close();
  },
};

/** A root with a published and an intake collection, desk rules, a grant, and objects of every shape. */
async function populate(store: Store): Promise<{ published: string; intake: string; accountId: string }> {
  await store.createApiRoot({ path: 'fr', title: 'France', description: 'Exported', maxContentLength: 1_000_000, taxii20: true });
  const published = randomUUID();
  const intake = randomUUID();
  await store.createCollection({ id: published, apiRoot: 'fr', title: 'Published', alias: 'pub', purpose: 'published', mediaTypes: ['application/stix+json;version=2.1'], enrichment: { defaultMarkingRefs: [AMBER] } });
  await store.createCollection({ id: intake, apiRoot: 'fr', title: 'Intake', purpose: 'intake', mediaTypes: [] });
  await store.putDeskRules(published, { release: { maxTlp: 'amber' } });
  const account = await store.createAccount({ id: randomUUID(), name: `reader-${randomUUID().slice(0, 6)}`, passwordHash: 'x', roles: ['subscriber'], curatorRoots: [], disabled: false });
  await store.putGrant({ collectionId: published, accountId: account.id, canRead: true, canWrite: false, maxTlp: 'amber' });
  const id = `indicator--${randomUUID()}`;
  const versions = ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.123456Z'].map((modified) => stixObject('indicator', { id, created: '2024-01-01T00:00:00.000Z', modified, extra: { name: 'ünïcode ✓', pattern: "[ipv4-addr:value = '10.0.0.1']" } }));
  const marked: NewObject = { ...stixObject('malware', { modified: '2024-01-05T00:00:00Z', created: '2024-01-05T00:00:00Z', extra: { object_marking_refs: [AMBER] } }), tlp: TLP_RANK.amber };
  const versionless = stixObject('ipv4-addr', { extra: { value: '10.0.0.1' } });
  const old = stixObject('indicator', { modified: '2016-01-01T00:00:00.000Z', created: '2016-01-01T00:00:00.000Z', specVersion: '2.0' });
  let n = 0;
  for (const [collectionId, objects] of [[published, [...versions, marked, versionless, old]], [intake, [stixObject('report', { modified: '2024-04-01T00:00:00Z', created: '2024-04-01T00:00:00Z' })]]] as const) {
    for (const o of objects) {
      const sid = `s${n++}-${randomUUID()}`;
      await store.createSubmission({ id: sid, apiRoot: 'fr', collectionId, accountId: account.id, requestTimestamp: 1, body: Buffer.from('{}'), totalCount: 1 });
      await store.ingest(sid, [{ index: 0, id: o.id, version: o.version ?? '', object: o }]);
      await store.completeSubmission(sid);
    }
  }
  return { published, intake, accountId: account.id };
}

/** What a reader can see of a collection: every version, the last ones, the first ones, by date_added. */
async function snapshot(store: Store, collectionId: string) {
  const all = { versions: { all: true as const }, specVersions: ['2.0', '2.1'], limit: 1000 };
  const pick = (v: { id: string; dateAdded: number; version?: string; specVersion: string; mediaType: string }) => [v.id, v.dateAdded, v.version, v.specVersion, v.mediaType];
  return {
    objects: (await store.queryObjects(collectionId, all)).items.map((o) => [...pick(o), o.json]),
    manifest: (await store.queryManifest(collectionId, { versions: { first: false, last: true, keys: [] }, limit: 1000 })).items.map(pick),
    first: (await store.queryManifest(collectionId, { versions: { first: true, last: false, keys: [] }, limit: 1000 })).items.map(pick),
    amberHidden: (await store.queryManifest(collectionId, { versions: { all: true }, maxTlp: TLP_RANK.green, limit: 1000 })).items.length,
    count: await store.countObjects(collectionId),
  };
}

async function wipe(store: Store, root: string): Promise<void> {
  for (const c of await store.listCollections(root)) await store.deleteCollection(c.id);
  await store.deleteApiRoot(root);
}

describe('logical export of one API root (meridian export / restore)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'meridian-export-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const [from, to] of [[sqlite, sqlite], [mongo, mongo], [sqlite, mongo], [mongo, sqlite]] as const) {
    it(`round-trips from ${from.name} into ${to.name}: objects, versions, date_added, manifest, flags, markings, desk rules, grants`, async function () {
      const source = await from.open();
      const target = from === to ? source : await to.open();
      try {
        const { published, intake, accountId } = await populate(source);
        const before = { published: await snapshot(source, published), intake: await snapshot(source, intake), root: await source.getApiRoot('fr'), collections: await source.listCollections('fr') };
        expect(before.published.count).to.equal(6);
        const file = path.join(dir, 'fr.jsonl');
        expect(await exportRoot(source, 'fr', file)).to.deep.equal({ collections: 2, objects: 7, grants: 1 });
        expect(await isRootExport(file)).to.equal(true);
        if (target === source) await wipe(source, 'fr');
        else {
          // Accounts are server-wide, not in the export: the reader exists in the target too.
          const a = (await source.getAccount(accountId))!;
          await target.createAccount({ id: a.id, name: a.name, passwordHash: a.passwordHash, roles: a.roles, curatorRoots: a.curatorRoots, disabled: false });
        }
        expect(await target.getApiRoot('fr')).to.equal(undefined);

        expect(await importRoot(target, file)).to.deep.equal({ apiRoot: 'fr', collections: 2, objects: 7, grants: 1, grantsSkipped: 0 });
        const strip = <T extends { createdAt: number }>(r: T) => ({ ...r, createdAt: 0 });
        expect(strip((await target.getApiRoot('fr'))!)).to.deep.equal(strip(before.root!));
        expect((await target.listCollections('fr')).map(strip)).to.deep.equal(before.collections.map(strip));
        expect(await snapshot(target, published)).to.deep.equal(before.published);
        expect(await snapshot(target, intake)).to.deep.equal(before.intake);
        expect(await target.getDeskRules(published)).to.deep.equal({ release: { maxTlp: 'amber' } });
        expect((await target.listGrants({ collectionId: published })).map((g) => [g.accountId, g.canRead, g.canWrite, g.maxTlp])).to.deep.equal([[accountId, true, false, 'amber']]);

        // Again: nothing doubles (a resumed restore).
        await importRoot(target, file);
        expect(await snapshot(target, published)).to.deep.equal(before.published);
        // A new version lands after the restored ones: the high-water mark moved past them.
        const next = stixObject('indicator', { modified: '2025-01-01T00:00:00Z', created: '2025-01-01T00:00:00Z' });
        await target.createSubmission({ id: 'after-restore', apiRoot: 'fr', collectionId: published, accountId, requestTimestamp: 1, body: Buffer.from('{}'), totalCount: 1 });
        await target.ingest('after-restore', [{ index: 0, id: next.id, version: next.version!, object: next }]);
        const all = (await snapshot(target, published)).objects;
        expect(all.at(-1)![0]).to.equal(next.id);
        expect(all.at(-1)![1]).to.be.greaterThan(before.published.objects.at(-1)![1] as number);
      } finally {
        await from.dispose(source);
        if (target !== source) await to.dispose(target);
      }
    });
  }

  it('refuses a damaged or cut-short file with its line, and leaves no partial export behind', async function () {
    const store = await sqlite.open();
    try {
      await populate(store);
      const file = path.join(dir, 'fr.jsonl');
      await exportRoot(store, 'fr', file);
      try {
        await exportRoot(store, 'fr', file);
        expect.fail('an existing file must not be replaced');
      } catch (err) {
        expect(err).to.be.instanceOf(ExportError);
      }
      try {
        await exportRoot(store, 'nowhere', path.join(dir, 'x.jsonl'));
        expect.fail('an unknown root');
      } catch (err) {
        expect((err as Error).message).to.equal('no API root "nowhere"');
      }
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      await wipe(store, 'fr');
      const cut = path.join(dir, 'cut.jsonl');
      writeFileSync(cut, `${lines.slice(0, -1).join('\n')}\n`);
      await importRoot(store, cut).then(() => expect.fail('a file without its end line'), (err: Error) => expect(err.message).to.match(/ends before its end line \(cut short\?\): restored what it held \(2 collections, 7 versions\)/));
      const damaged = path.join(dir, 'damaged.jsonl');
      writeFileSync(damaged, `${lines.slice(0, 4).join('\n')}\n{"type":"object","collection_id":"nope"}\n`);
      await importRoot(store, damaged).then(() => expect.fail('an object of no collection'), (err: Error) => expect(err.message).to.equal('line 5: an object line must follow its collection'));
      const other = path.join(dir, 'other.jsonl');
      writeFileSync(other, '{"objects": []}\n');
      await importRoot(store, other).then(() => expect.fail('not an export'), (err: Error) => expect(err.message).to.match(/^line 1: not a Meridian API root export/));
      appendFileSync(file, '{"type":"object"}\n');
      await importRoot(store, file).then(() => expect.fail('content after the end'), (err: Error) => expect(err.message).to.equal(`line ${lines.length + 1}: content after the end line`));
      expect(await isRootExport(other)).to.equal(false);
    } finally {
      await store.close();
    }
  });
});
