// The store contract (ARCHITECTURE §5, STYLE habit 2): one suite that every backend must pass,
// called once per backend harness. It pins what two backends would otherwise silently disagree on:
// ordering, added_after exclusivity, duplicates, µs precision, version flags, paging without loss.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type NewObject,
  type ObjectQuery,
  type Store,
  StoreConflictError,
  versionKeyFromMicros,
} from '../../collections/store.js';
import { timestampKey } from '../../stix-schemas/timestamp.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Called after each test with the store it opened. */
  close?(store: Store): Promise<void>;
}

const LAST = { first: false, last: true, keys: [] as string[] };
const ALL = { all: true } as const;

export function stixObject(type: string, opts: { id?: string; modified?: string; created?: string; specVersion?: string; extra?: Record<string, unknown> } = {}): NewObject {
  const id = opts.id ?? `${type}--${randomUUID()}`;
  const version = opts.modified ?? opts.created;
  const body: Record<string, unknown> = { type, spec_version: opts.specVersion ?? '2.1', id };
  if (opts.created) body.created = opts.created;
  if (opts.modified) body.modified = opts.modified;
  Object.assign(body, opts.extra ?? {});
  return {
    id,
    type,
    specVersion: opts.specVersion ?? '2.1',
    ...(version ? { version, versionKey: timestampKey(version)! } : {}),
    mediaType: 'application/stix+json;version=2.1',
    json: JSON.stringify(body),
  };
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, function () {
    let store: Store;
    let collectionId: string;
    let accountId: string;

    beforeEach(async function () {
      store = await harness.open();
      await store.createApiRoot({ path: 'fr', title: 'France', maxContentLength: 1_000_000 });
      collectionId = randomUUID();
      await store.createCollection({ id: collectionId, apiRoot: 'fr', title: 'Published', alias: 'published', mediaTypes: ['application/stix+json;version=2.1'] });
      accountId = randomUUID();
      await store.createAccount({ id: accountId, name: 'vendor', passwordHash: 'x', roles: ['publisher'], disabled: false });
    });

    afterEach(async function () {
      await harness.close?.(store);
    });

    let submissionCounter = 0;
    /** Stores objects through a submission, as the POST endpoint does; returns the item outcomes. */
    async function add(objects: NewObject[], collection = collectionId) {
      const id = `sub-${++submissionCounter}-${randomUUID()}`;
      await store.createSubmission({
        id,
        apiRoot: 'fr',
        collectionId: collection,
        accountId,
        requestTimestamp: Date.now() * 1000,
        body: Buffer.from('{}'),
        items: objects.map((o) => ({ id: o.id, version: o.version ?? '' })),
      });
      await store.ingest(id, objects.map((object, index) => ({ index, object })));
      await store.completeSubmission(id);
      return { id, items: await store.submissionItems(id) };
    }

    function query(q: Partial<ObjectQuery> = {}): ObjectQuery {
      return { versions: LAST, limit: 1000, ...q };
    }

    describe('API roots, collections, accounts, grants', function () {
      it('keeps API roots and collections in creation order, finds collections by id or alias (§5.1, §5.2)', async function () {
        await store.createApiRoot({ path: 'de', title: 'Germany', maxContentLength: 10 });
        expect((await store.listApiRoots()).map((r) => r.path)).to.deep.equal(['fr', 'de']);
        const second = randomUUID();
        await store.createCollection({ id: second, apiRoot: 'fr', title: 'Intake', mediaTypes: ['application/stix+json;version=2.1'] });
        expect((await store.listCollections('fr')).map((c) => c.id)).to.deep.equal([collectionId, second]);
        expect((await store.getCollection('fr', 'published'))?.id).to.equal(collectionId);
        expect((await store.getCollection('fr', collectionId))?.alias).to.equal('published');
        expect(await store.getCollection('de', collectionId)).to.equal(undefined);
      });

      it('refuses a duplicate alias within an API root', async function () {
        let error: unknown;
        try {
          await store.createCollection({ id: randomUUID(), apiRoot: 'fr', title: 'Other', alias: 'published', mediaTypes: [] });
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StoreConflictError);
      });

      it('refuses a duplicate account name and bumps credentialVersion on change', async function () {
        let error: unknown;
        try {
          await store.createAccount({ id: randomUUID(), name: 'vendor', passwordHash: 'y', roles: [], disabled: false });
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StoreConflictError);
        const before = (await store.getAccount(accountId))!;
        const after = (await store.updateAccount(accountId, { disabled: true }))!;
        expect(after.disabled).to.equal(true);
        expect(after.credentialVersion).to.be.greaterThan(before.credentialVersion);
        expect((await store.getAccountByName('vendor'))?.disabled).to.equal(true);
      });

      it('sets, replaces and removes grants', async function () {
        await store.setGrant({ accountId, collectionId, canRead: true, canWrite: false });
        expect(await store.getGrant(accountId, collectionId)).to.deep.equal({ accountId, collectionId, canRead: true, canWrite: false });
        await store.setGrant({ accountId, collectionId, canRead: true, canWrite: true });
        expect((await store.getGrant(accountId, collectionId))?.canWrite).to.equal(true);
        expect(await store.listGrants({ collectionId })).to.have.length(1);
        await store.setGrant({ accountId, collectionId, canRead: false, canWrite: false });
        expect(await store.getGrant(accountId, collectionId)).to.equal(undefined);
      });

      it('keeps a secret stable across calls', async function () {
        const a = await store.secret('paging');
        expect(a.length).to.be.at.least(32);
        expect((await store.secret('paging')).equals(a)).to.equal(true);
      });
    });

    describe('objects', function () {
      it('assigns unique, strictly increasing µs date_added, also within one batch (ARCHITECTURE §6)', async function () {
        const { items } = await add(Array.from({ length: 50 }, () => stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' })));
        const dates = items.map((i) => i.dateAdded!);
        for (let i = 1; i < dates.length; i++) expect(dates[i]).to.be.greaterThan(dates[i - 1]!);
        const more = await add([stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' })]);
        expect(more.items[0]!.dateAdded).to.be.greaterThan(dates[dates.length - 1]!);
        expect(Number.isInteger(dates[0])).to.equal(true);
      });

      it('orders by date_added and treats added_after as exclusive (§3.3, §3.4)', async function () {
        const { items } = await add([stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' }), stixObject('malware', { modified: '2019-01-01T00:00:00.000Z' }), stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })]);
        const page = await store.queryObjects(collectionId, query());
        expect(page.items.map((o) => o.id)).to.deep.equal(items.map((i) => i.id));
        const after = await store.queryObjects(collectionId, query({ addedAfter: items[0]!.dateAdded }));
        expect(after.items.map((o) => o.id)).to.deep.equal([items[1]!.id, items[2]!.id]);
        const none = await store.queryObjects(collectionId, query({ addedAfter: items[2]!.dateAdded }));
        expect(none.items).to.have.length(0);
        expect(none.more).to.equal(false);
      });

      it('treats an exact duplicate as a success stored once, and refuses other content under the same version (§5.5)', async function () {
        const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' });
        await add([obj]);
        const again = await add([obj]);
        expect(again.items[0]!.outcome).to.equal('success');
        const clash = await add([{ ...obj, json: obj.json.replace('}', ',"name":"other"}') }]);
        expect(clash.items[0]!.outcome).to.equal('failure');
        expect(clash.items[0]!.message).to.match(/already/);
        expect(await store.countObjects(collectionId)).to.equal(1);
        const sub = (await store.getSubmission(clash.id))!;
        expect([sub.successCount, sub.failureCount, sub.pendingCount, sub.status]).to.deep.equal([0, 1, 0, 'complete']);
      });

      it('treats versions with the same instant in other precision as one version', async function () {
        const id = `indicator--${randomUUID()}`;
        const a = stixObject('indicator', { id, modified: '2020-01-01T00:00:00Z' });
        await add([a]);
        const b = { ...a, version: '2020-01-01T00:00:00.000Z', versionKey: timestampKey('2020-01-01T00:00:00.000Z')! };
        const r = await add([b]);
        expect(r.items[0]!.outcome).to.equal('success');
        expect(await store.countObjects(collectionId)).to.equal(1);
      });

      it('selects first, last, all and exact versions by version, not by arrival (§3.4.1)', async function () {
        const id = `indicator--${randomUUID()}`;
        // Arrive out of order: middle, newest, oldest.
        await add([stixObject('indicator', { id, modified: '2020-06-01T00:00:00.000Z' })]);
        await add([stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' })]);
        await add([stixObject('indicator', { id, modified: '2019-01-01T00:00:00.000Z' })]);
        const versions = async (v: ObjectQuery['versions']) => (await store.queryManifest(collectionId, query({ versions: v }))).items.map((e) => e.version);
        expect(await versions(LAST)).to.deep.equal(['2021-01-01T00:00:00.000Z']);
        expect(await versions({ first: true, last: false, keys: [] })).to.deep.equal(['2019-01-01T00:00:00.000Z']);
        expect(await versions({ first: true, last: true, keys: [] })).to.deep.equal(['2021-01-01T00:00:00.000Z', '2019-01-01T00:00:00.000Z']);
        expect(await versions(ALL)).to.deep.equal(['2020-06-01T00:00:00.000Z', '2021-01-01T00:00:00.000Z', '2019-01-01T00:00:00.000Z']);
        expect(await versions({ first: false, last: false, keys: [timestampKey('2020-06-01T00:00:00Z')!] })).to.deep.equal(['2020-06-01T00:00:00.000Z']);
        expect(await versions({ first: true, last: false, keys: [timestampKey('2020-06-01T00:00:00.000Z')!] })).to.deep.equal(['2020-06-01T00:00:00.000Z', '2019-01-01T00:00:00.000Z']);
      });

      it('filters by id, type and spec_version, ANDed, lists ORed (§3.4)', async function () {
        const a = stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' });
        const b = stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' });
        const c = stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' });
        await add([a, b, c]);
        const ids = async (q: Partial<ObjectQuery>) => (await store.queryObjects(collectionId, query(q))).items.map((o) => o.id);
        expect(await ids({ types: ['malware', 'tool'] })).to.deep.equal([b.id, c.id]);
        expect(await ids({ ids: [a.id, c.id] })).to.deep.equal([a.id, c.id]);
        expect(await ids({ ids: [a.id, c.id], types: ['tool'] })).to.deep.equal([c.id]);
        expect(await ids({ specVersions: ['2.0'] })).to.deep.equal([]);
        expect(await ids({ specVersions: ['2.0', '2.1'] })).to.deep.equal([a.id, b.id, c.id]);
      });

      it('returns only the latest spec version by default (§3.4.1 spec_version)', async function () {
        const id = `indicator--${randomUUID()}`;
        await add([stixObject('indicator', { id, modified: '2020-01-01T00:00:00.000Z', specVersion: '2.0' })]);
        await add([stixObject('indicator', { id, modified: '2019-01-01T00:00:00.000Z', specVersion: '2.1' })]);
        const byDefault = await store.queryManifest(collectionId, query({ versions: ALL }));
        expect(byDefault.items.map((e) => e.specVersion)).to.deep.equal(['2.1']);
        const both = await store.queryManifest(collectionId, query({ versions: ALL, specVersions: ['2.0', '2.1'] }));
        expect(both.items).to.have.length(2);
      });

      it('gives objects without modified or created one stable version: their date_added', async function () {
        const sco = stixObject('ipv4-addr', { extra: { value: '198.51.100.3' } });
        const first = await add([sco]);
        const second = await add([sco]);
        expect(second.items[0]!.dateAdded).to.equal(first.items[0]!.dateAdded);
        const [entry] = (await store.queryManifest(collectionId, query())).items;
        expect(entry!.version).to.equal(undefined);
        expect(entry!.dateAdded).to.equal(first.items[0]!.dateAdded);
        const exact = await store.queryManifest(collectionId, query({ versions: { first: false, last: false, keys: [versionKeyFromMicros(entry!.dateAdded)] } }));
        expect(exact.items).to.have.length(1);
      });

      it('pages with limit and more, losing and repeating nothing, ties in one request included (§3.5)', async function () {
        const objects = Array.from({ length: 257 }, (_, i) => stixObject(i % 2 ? 'indicator' : 'malware', { modified: '2020-01-01T00:00:00.000Z' }));
        for (let i = 0; i < objects.length; i += 100) await add(objects.slice(i, i + 100));
        const seen: string[] = [];
        let after: number | undefined;
        for (;;) {
          const page = await store.queryObjects(collectionId, query({ limit: 20, ...(after !== undefined ? { addedAfter: after } : {}) }));
          seen.push(...page.items.map((o) => o.id));
          if (!page.more) break;
          expect(page.items).to.have.length(20);
          after = page.items[page.items.length - 1]!.dateAdded;
        }
        expect(seen).to.deep.equal(objects.map((o) => o.id));
      });

      it('returns the versions of one object in date_added order (§5.8)', async function () {
        const id = `indicator--${randomUUID()}`;
        await add([stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' }), stixObject('indicator', { id, modified: '2020-01-01T00:00:00.000Z' })]);
        await add([stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' })]);
        const page = await store.queryVersions(collectionId, id, { limit: 10 });
        expect(page.items.map((e) => e.version)).to.deep.equal(['2021-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z']);
        expect(await store.hasObject(collectionId, id)).to.equal(true);
        expect(await store.hasObject(collectionId, `indicator--${randomUUID()}`)).to.equal(false);
      });

      it('deletes chosen versions and moves the first/last flags (§5.7)', async function () {
        const id = `indicator--${randomUUID()}`;
        await add(['2019', '2020', '2021'].map((y) => stixObject('indicator', { id, modified: `${y}-01-01T00:00:00.000Z` })));
        expect(await store.deleteObject(collectionId, id, { versions: LAST })).to.equal(1);
        const last = await store.queryObjects(collectionId, query({ ids: [id] }));
        expect(last.items.map((o) => o.version)).to.deep.equal(['2020-01-01T00:00:00.000Z']);
        expect(await store.deleteObject(collectionId, id, { versions: { first: false, last: false, keys: [timestampKey('2030-01-01T00:00:00Z')!] } })).to.equal(0);
        expect(await store.deleteObject(collectionId, id, { versions: ALL })).to.equal(2);
        expect(await store.hasObject(collectionId, id)).to.equal(false);
        expect((await store.queryManifest(collectionId, query({ versions: ALL }))).items).to.have.length(0);
      });

      it('keeps collections apart', async function () {
        const other = randomUUID();
        await store.createCollection({ id: other, apiRoot: 'fr', title: 'Intake', mediaTypes: [] });
        const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' });
        await add([obj], other);
        expect((await store.queryObjects(collectionId, query())).items).to.have.length(0);
        expect((await store.queryObjects(other, query())).items).to.have.length(1);
        expect(await store.hasObject(collectionId, obj.id)).to.equal(false);
      });

      it('streams the stored JSON back byte for byte', async function () {
        const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.123456Z', extra: { name: 'ünïcode ✓', x_custom: { nested: [1, 2] } } });
        await add([obj]);
        const [stored] = (await store.queryObjects(collectionId, query())).items;
        expect(stored!.json).to.equal(obj.json);
      });
    });

    describe('submissions', function () {
      it('records a submission with pending items and completes it (§4.3)', async function () {
        const id = randomUUID();
        const objects = [stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' }), stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' })];
        await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId, requestTimestamp: 123, body: Buffer.from('{"objects":[]}'), items: objects.map((o) => ({ id: o.id, version: o.version! })) });
        let sub = (await store.getSubmission(id))!;
        expect([sub.status, sub.totalCount, sub.pendingCount, sub.successCount]).to.deep.equal(['pending', 2, 2, 0]);
        const pending = await store.pendingSubmissions();
        expect(pending.map((p) => p.id)).to.include(id);
        expect(pending.find((p) => p.id === id)!.pendingIndexes).to.deep.equal([0, 1]);
        expect(pending.find((p) => p.id === id)!.body.toString()).to.equal('{"objects":[]}');
        await store.ingest(id, [{ index: 0, object: objects[0]! }, { index: 1, failure: 'bad' }]);
        // Re-processing an item (a resumed submission) changes nothing.
        await store.ingest(id, [{ index: 0, object: objects[0]! }]);
        sub = (await store.getSubmission(id))!;
        expect([sub.successCount, sub.failureCount, sub.pendingCount]).to.deep.equal([1, 1, 0]);
        await store.completeSubmission(id);
        expect((await store.getSubmission(id))!.status).to.equal('complete');
        expect((await store.pendingSubmissions()).map((p) => p.id)).to.not.include(id);
        const items = await store.submissionItems(id);
        expect(items.map((i) => i.outcome)).to.deep.equal(['success', 'failure']);
        expect(items[1]!.message).to.equal('bad');
      });

      it('purges complete submissions older than the retention time', async function () {
        const { id } = await add([stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' })]);
        expect(await store.purgeSubmissions(Date.now() * 1000 - 3_600_000_000)).to.equal(0);
        expect(await store.getSubmission(id)).to.not.equal(undefined);
        expect(await store.purgeSubmissions(Date.now() * 1000 + 1_000_000)).to.equal(1);
        expect(await store.getSubmission(id)).to.equal(undefined);
        expect(await store.submissionItems(id)).to.deep.equal([]);
      });
    });
  });
}
