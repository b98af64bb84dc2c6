// The store contract (docs/architecture.md §5): one suite that every backend must pass,
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
import { timestampKey } from 'stix2-validator-ts/timestamp';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Called after each test with the store it opened. */
  close?(store: Store): Promise<void>;
}

const LAST = { first: false, last: true, keys: [] as string[] };
const ALL = { all: true } as const;

export function stixObject(type: string, opts: { id?: string; modified?: string; created?: string; specVersion?: string; tlp?: number; extra?: Record<string, unknown> } = {}): NewObject {
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
    tlp: opts.tlp ?? 0,
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
      await store.createCollection({ id: collectionId, apiRoot: 'fr', title: 'Published', alias: 'published', purpose: 'published', mediaTypes: ['application/stix+json;version=2.1'] });
      accountId = randomUUID();
      await store.createAccount({ id: accountId, name: 'vendor', passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false });
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
        totalCount: objects.length,
      });
      await store.ingest(id, objects.map((object, index) => ({ index, id: object.id, version: object.version ?? '', object })));
      await store.completeSubmission(id);
      return { id, items: await store.submissionItems(id) };
    }

    function query(q: Partial<ObjectQuery> = {}): ObjectQuery {
      return { versions: LAST, limit: 1000, ...q };
    }

    describe('API roots, collections, accounts, grants', function () {
      it('keeps an API root\'s TAXII 2.0 view flag: off by default, set on create, switched on and off by update', async function () {
        expect((await store.getApiRoot('fr'))?.taxii20 ?? false).to.equal(false);
        await store.createApiRoot({ path: 'qr', title: 'QRadar feed', maxContentLength: 10, taxii20: true });
        expect((await store.getApiRoot('qr'))?.taxii20).to.equal(true);
        expect((await store.listApiRoots()).find((r) => r.path === 'qr')?.taxii20).to.equal(true);
        expect((await store.updateApiRoot('qr', { taxii20: false }))?.taxii20 ?? false).to.equal(false);
        expect((await store.getApiRoot('qr'))?.taxii20 ?? false).to.equal(false);
        const on = await store.updateApiRoot('fr', { taxii20: true });
        expect([on?.taxii20, on?.title, on?.maxContentLength]).to.deep.equal([true, 'France', 1_000_000]);
        expect((await store.updateApiRoot('fr', { title: 'France' }))?.taxii20).to.equal(true);
        await store.updateApiRoot('fr', { taxii20: false });
        await store.deleteApiRoot('qr');
      });

      it('keeps API roots and collections in creation order, finds collections by id or alias (§5.1, §5.2)', async function () {
        await store.createApiRoot({ path: 'de', title: 'Germany', maxContentLength: 10 });
        expect((await store.listApiRoots()).map((r) => r.path)).to.deep.equal(['fr', 'de']);
        const second = randomUUID();
        await store.createCollection({ id: second, apiRoot: 'fr', title: 'Intake', purpose: 'intake', mediaTypes: ['application/stix+json;version=2.1'], enrichment: { defaultMarkingRefs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'] } });
        expect((await store.listCollections('fr')).map((c) => c.id)).to.deep.equal([collectionId, second]);
        expect((await store.getCollection('fr', 'published'))?.id).to.equal(collectionId);
        expect((await store.getCollection('fr', collectionId))?.alias).to.equal('published');
        expect(await store.getCollection('de', collectionId)).to.equal(undefined);
        const intake = (await store.getCollection('fr', second))!;
        expect(intake.purpose).to.equal('intake');
        expect(intake.enrichment).to.deep.equal({ defaultMarkingRefs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'] });
        const renamed = await store.updateCollection(second, { title: 'Vendor intake', purpose: 'published' });
        expect([renamed?.title, (await store.getCollection('fr', second))?.purpose]).to.deep.equal(['Vendor intake', 'published']);
      });

      it('refuses a duplicate alias within an API root', async function () {
        let error: unknown;
        try {
          await store.createCollection({ id: randomUUID(), apiRoot: 'fr', title: 'Other', alias: 'published', purpose: 'published', mediaTypes: [] });
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StoreConflictError);
      });

      it('refuses a duplicate account name and bumps credentialVersion on change', async function () {
        let error: unknown;
        try {
          await store.createAccount({ id: randomUUID(), name: 'vendor', passwordHash: 'y', roles: [], curatorRoots: [], disabled: false });
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

      it('puts one grant per collection and subject, replaces it, and removes it when it gives nothing', async function () {
        const before = (await store.getAccount(accountId))!.credentialVersion;
        const g = (await store.putGrant({ accountId, collectionId, canRead: true, canWrite: false, maxTlp: 'amber' }))!;
        expect(g).to.include({ accountId, collectionId, canRead: true, canWrite: false, maxTlp: 'amber' });
        expect((await store.getAccount(accountId))!.credentialVersion).to.be.greaterThan(before);
        const replaced = (await store.putGrant({ accountId, collectionId, canRead: true, canWrite: true, maxTlp: 'red' }))!;
        expect(replaced.id).to.equal(g.id);
        expect(await store.getGrant(g.id)).to.include({ canWrite: true, maxTlp: 'red' });
        expect(await store.listGrants({ collectionId })).to.have.length(1);
        expect(await store.putGrant({ accountId, collectionId, canRead: false, canWrite: false, maxTlp: 'red' })).to.equal(undefined);
        expect(await store.getGrant(g.id)).to.equal(undefined);
      });

      it('finds the grants that apply to an account: its own, its organisation\'s, and its role\'s there', async function () {
        const org = await store.createOrganisation({ id: randomUUID(), name: 'fr-police', kind: 'member-agency', country: 'fr', disabled: false });
        const other = await store.createOrganisation({ id: randomUUID(), name: 'acme', kind: 'vendor', disabled: false });
        const member = await store.createAccount({ id: randomUUID(), name: 'officer', organisationId: org.id, passwordHash: 'x', roles: ['subscriber'], curatorRoots: [], disabled: false });
        const own = (await store.putGrant({ accountId: member.id, collectionId, canRead: true, canWrite: false, maxTlp: 'green' }))!;
        const byOrg = (await store.putGrant({ organisationId: org.id, collectionId, canRead: true, canWrite: false, maxTlp: 'amber' }))!;
        const byRole = (await store.putGrant({ organisationId: org.id, role: 'subscriber', collectionId, canRead: true, canWrite: false, maxTlp: 'red' }))!;
        await store.putGrant({ organisationId: org.id, role: 'publisher', collectionId, canRead: false, canWrite: true, maxTlp: 'clear' });
        await store.putGrant({ organisationId: other.id, collectionId, canRead: true, canWrite: true, maxTlp: 'red' });
        const applicable = await store.grantsForAccount(member);
        expect(applicable.map((g) => g.id).sort()).to.deep.equal([own.id, byOrg.id, byRole.id].sort());
        expect(await store.listGrants({ organisationId: org.id })).to.have.length(3);
        expect(await store.deleteGrant(byOrg.id)).to.equal(true);
        expect(await store.deleteGrant(byOrg.id)).to.equal(false);
      });

      it('keeps organisations, and refuses to delete one that still has accounts', async function () {
        const org = await store.createOrganisation({ id: randomUUID(), name: 'de-bka', kind: 'member-agency', country: 'de', disabled: false });
        expect(await store.getOrganisationByName('de-bka')).to.deep.equal(org);
        let error: unknown;
        try {
          await store.createOrganisation({ id: randomUUID(), name: 'de-bka', kind: 'vendor', disabled: false });
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StoreConflictError);
        const member = await store.createAccount({ id: randomUUID(), name: 'kommissar', organisationId: org.id, passwordHash: 'x', roles: [], curatorRoots: [], disabled: false });
        const version = member.credentialVersion;
        expect((await store.updateOrganisation(org.id, { disabled: true }))?.disabled).to.equal(true);
        expect((await store.getAccount(member.id))!.credentialVersion).to.be.greaterThan(version);
        error = undefined;
        try {
          await store.deleteOrganisation(org.id);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StoreConflictError);
        await store.deleteAccount(member.id);
        expect(await store.deleteOrganisation(org.id)).to.equal(true);
        expect((await store.listOrganisations()).map((o) => o.name)).to.not.include('de-bka');
      });

      it('keeps API keys by prefix, records use and revocation', async function () {
        const key = await store.createApiKey({ id: randomUUID(), accountId, name: 'ci', prefix: '0123456789abcdef', hash: 'h', createdAt: 1, expiresAt: 99 });
        expect(await store.getApiKeyByPrefix('0123456789abcdef')).to.deep.equal(key);
        await store.touchApiKey(key.id, 5);
        expect((await store.getApiKeyByPrefix(key.prefix))?.lastUsedAt).to.equal(5);
        expect(await store.revokeApiKey(key.id, 7)).to.equal(true);
        expect(await store.revokeApiKey(key.id, 8)).to.equal(false);
        expect((await store.listApiKeys(accountId))[0]?.revokedAt).to.equal(7);
        await store.deleteAccount(accountId);
        expect(await store.getApiKeyByPrefix(key.prefix)).to.equal(undefined);
      });

      it('appends to the audit log and queries it by actor, action, outcome, address and time', async function () {
        const a = await store.appendAudit({ at: 100, actor: 'alice', action: 'login', outcome: 'failure', remote: '10.0.0.1' });
        const b = await store.appendAudit({ at: 200, actor: 'alice', action: 'login', outcome: 'success', remote: '10.0.0.1', detail: { via: 'password' } });
        await store.appendAudit({ at: 300, actor: 'bob', action: 'grant.set', outcome: 'success', target: collectionId });
        expect(b.seq).to.be.greaterThan(a.seq);
        expect((await store.queryAudit({ actor: 'alice', limit: 10 })).map((e) => e.at)).to.deep.equal([100, 200]);
        expect((await store.queryAudit({ action: 'login', outcome: 'success', limit: 10 }))[0]).to.deep.equal(b);
        expect(await store.countAudit({ remote: '10.0.0.1', action: 'login', outcome: 'failure', since: 50 })).to.equal(1);
        expect(await store.countAudit({ actor: 'alice', since: 150, until: 250 })).to.equal(1);
        expect((await store.queryAudit({ afterSeq: a.seq, limit: 1 })).map((e) => e.seq)).to.deep.equal([b.seq]);
        expect((await store.queryAudit({ target: collectionId, limit: 10 }))[0]?.actor).to.equal('bob');
      });

      it('keeps a secret stable across calls', async function () {
        const a = await store.secret('paging');
        expect(a.length).to.be.at.least(32);
        expect((await store.secret('paging')).equals(a)).to.equal(true);
      });
    });

    describe('objects', function () {
      it('a scan limit bounds the versions one page examines: a short page with more and resumeAfter, and paging from it loses and repeats nothing', async function () {
        // 3 green objects among 20 amber ones; a reader capped at green (TLP rank 1), 5 versions examined per page.
        const green = [2, 9, 21].map(() => stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z', tlp: 1 }));
        const objects = Array.from({ length: 20 }, () => stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z', tlp: 2 }));
        objects.splice(2, 0, green[0]!);
        objects.splice(9, 0, green[1]!);
        objects.push(green[2]!);
        await add(objects);
        const seen: string[] = [];
        let after: number | undefined;
        let pages = 0;
        for (let more = true; more && pages < 50; pages++) {
          const page = await store.queryManifest(collectionId, query({ maxTlp: 1, scanLimit: 5, limit: 10, ...(after !== undefined ? { addedAfter: after } : {}) }));
          expect(page.items.length).to.be.at.most(5);
          seen.push(...page.items.map((i) => i.id));
          if (page.resumeAfter !== undefined) {
            expect(page.more).to.equal(true);
            if (page.items.length) expect(page.resumeAfter).to.be.at.least(page.items.at(-1)!.dateAdded);
          }
          more = page.more;
          after = page.resumeAfter ?? page.items.at(-1)?.dateAdded;
        }
        expect(seen).to.deep.equal(green.map((g) => g.id));
        expect(pages).to.be.within(5, 6); // 23 versions, 5 at a time
        // Unbounded, or a query that examines little more than it returns (by id, the default last
        // versions uncapped), is never cut short.
        expect((await store.queryManifest(collectionId, query({ maxTlp: 1, limit: 10 }))).items.map((i) => i.id)).to.deep.equal(green.map((g) => g.id));
        const uncapped = await store.queryManifest(collectionId, query({ scanLimit: 5, limit: 100 }));
        expect(uncapped.items).to.have.length(23);
        expect(uncapped).to.include({ more: false }).and.not.have.property('resumeAfter');
      });

      it('assigns unique, strictly increasing µs date_added, also within one batch (docs/architecture.md §6)', async function () {
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
        await store.createCollection({ id: other, apiRoot: 'fr', title: 'Intake', purpose: 'intake', mediaTypes: [] });
        const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' });
        await add([obj], other);
        expect((await store.queryObjects(collectionId, query())).items).to.have.length(0);
        expect((await store.queryObjects(other, query())).items).to.have.length(1);
        expect(await store.hasObject(collectionId, obj.id)).to.equal(false);
      });

      it('hides objects marked above the TLP cap from every query (the marking filter)', async function () {
        const id = `indicator--${randomUUID()}`;
        await add([stixObject('indicator', { id, modified: '2020-01-01T00:00:00.000Z', tlp: 0 }), stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z', tlp: 4 })]);
        const red = stixObject('malware', { modified: '2020-01-01T00:00:00.000Z', tlp: 4 });
        const amber = stixObject('tool', { modified: '2020-01-01T00:00:00.000Z', tlp: 2 });
        await add([red, amber]);
        const seen = async (maxTlp?: number) => (await store.queryObjects(collectionId, query({ versions: ALL, ...(maxTlp !== undefined ? { maxTlp } : {}) }))).items.map((o) => `${o.type}@${o.version}`);
        expect(await seen()).to.have.length(4);
        expect(await seen(3)).to.deep.equal(['indicator@2020-01-01T00:00:00.000Z', 'tool@2020-01-01T00:00:00.000Z']);
        expect(await seen(1)).to.deep.equal(['indicator@2020-01-01T00:00:00.000Z']);
        // The indicator's newest version is hidden, so its older visible version is the caller's last.
        expect((await store.queryManifest(collectionId, query({ maxTlp: 3 }))).items.map((e) => e.id)).to.deep.equal([id, amber.id]);
        expect((await store.queryVersions(collectionId, id, { limit: 10, maxTlp: 3 })).items.map((e) => e.version)).to.deep.equal(['2020-01-01T00:00:00.000Z']);
        expect(await store.hasObject(collectionId, red.id, 3)).to.equal(false);
        expect(await store.hasObject(collectionId, red.id)).to.equal(true);
        expect(await store.deleteObject(collectionId, id, { versions: ALL, maxTlp: 3 })).to.equal(1);
        expect(await store.hasObject(collectionId, id)).to.equal(true);
      });

      it('makes first and last the caller\'s under a marking cap: a hidden newer version never hides an older visible one', async function () {
        const id = `indicator--${randomUUID()}`;
        await add([stixObject('indicator', { id, modified: '2020-01-01T00:00:00.000Z', tlp: 1 })]);
        await add([stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z', tlp: 2 })]);
        await add([stixObject('indicator', { id, modified: '2022-01-01T00:00:00.000Z', tlp: 4 })]);
        await add([stixObject('indicator', { id, modified: '2019-01-01T00:00:00.000Z', tlp: 3 })]);
        const pick = async (v: ObjectQuery['versions'], maxTlp?: number) =>
          (await store.queryManifest(collectionId, query({ versions: v, ...(maxTlp !== undefined ? { maxTlp } : {}) }))).items.map((e) => e.version!.slice(0, 4));
        const FIRST = { first: true, last: false, keys: [] };
        expect(await pick(LAST)).to.deep.equal(['2022']);
        expect(await pick(LAST, 3)).to.deep.equal(['2021']);
        expect(await pick(LAST, 1)).to.deep.equal(['2020']);
        expect(await pick(LAST, 0)).to.deep.equal([]);
        expect(await pick(FIRST)).to.deep.equal(['2019']);
        expect(await pick(FIRST, 2)).to.deep.equal(['2020']);
        expect(await store.deleteObject(collectionId, id, { versions: LAST, maxTlp: 2 })).to.equal(1);
        expect(await pick(LAST, 2)).to.deep.equal(['2020']);
        expect(await pick(LAST)).to.deep.equal(['2022']);
      });

      it('stores derived objects beside their parent', async function () {
        const parent = stixObject('observed-data', { modified: '2020-01-01T00:00:00.000Z' });
        const sco = stixObject('ipv4-addr', { extra: { value: '203.0.113.9' } });
        const id = `sub-derived-${randomUUID()}`;
        await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId, requestTimestamp: 1, body: Buffer.from('{}'), totalCount: 1 });
        await store.ingest(id, [{ index: 0, id: parent.id, version: parent.version!, object: parent, derived: [sco] }]);
        expect((await store.queryObjects(collectionId, query())).items.map((o) => o.id)).to.deep.equal([parent.id, sco.id]);
        expect((await store.getSubmission(id))!.successCount).to.equal(1);
      });

      it('streams the stored JSON back byte for byte', async function () {
        const obj = stixObject('indicator', { modified: '2020-01-01T00:00:00.123456Z', extra: { name: 'ünïcode ✓', x_custom: { nested: [1, 2] } } });
        await add([obj]);
        const [stored] = (await store.queryObjects(collectionId, query())).items;
        expect(stored!.json).to.equal(obj.json);
      });
    });

    describe('submissions', function () {
      it('records a submission, its processed items and counts, and completes it (§4.3)', async function () {
        const id = randomUUID();
        const objects = [stixObject('indicator', { modified: '2020-01-01T00:00:00.000Z' }), stixObject('malware', { modified: '2020-01-01T00:00:00.000Z' }), stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })];
        await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId, requestTimestamp: 123, body: Buffer.from('{"objects":[]}'), totalCount: 3 });
        let sub = (await store.getSubmission(id))!;
        expect([sub.status, sub.totalCount, sub.pendingCount, sub.successCount, sub.requestTimestamp]).to.deep.equal(['pending', 3, 3, 0, 123]);
        const pendingOf = async () => (await store.pendingSubmissions()).find((p) => p.id === id);
        expect((await pendingOf())!.pendingIndexes).to.deep.equal([0, 1, 2]);
        expect((await pendingOf())!.body.toString()).to.equal('{"objects":[]}');
        await store.ingest(id, [{ index: 0, id: objects[0]!.id, version: objects[0]!.version!, object: objects[0]! }, { index: 2, id: 'objects[2]', version: '', failure: 'bad' }]);
        expect((await pendingOf())!.pendingIndexes).to.deep.equal([1]);
        // Re-processing an item (a resumed submission) changes nothing.
        await store.ingest(id, [{ index: 0, id: objects[0]!.id, version: objects[0]!.version!, object: objects[0]! }]);
        sub = (await store.getSubmission(id))!;
        expect([sub.successCount, sub.failureCount, sub.pendingCount]).to.deep.equal([1, 1, 1]);
        await store.ingest(id, [{ index: 1, id: objects[1]!.id, version: objects[1]!.version!, object: objects[1]! }]);
        await store.completeSubmission(id);
        sub = (await store.getSubmission(id))!;
        expect([sub.status, sub.successCount, sub.failureCount, sub.pendingCount]).to.deep.equal(['complete', 2, 1, 0]);
        expect(await pendingOf()).to.equal(undefined);
        const items = await store.submissionItems(id);
        expect(items.map((i) => [i.index, i.id, i.outcome])).to.deep.equal([[0, objects[0]!.id, 'success'], [1, objects[1]!.id, 'success'], [2, 'objects[2]', 'failure']]);
        expect(items[2]!.message).to.equal('bad');
        expect(items[0]!.dateAdded).to.be.a('number');
      });

      it('keeps a body that sits in shared memory (as POST bodies do) byte for byte, only its own bytes', async function () {
        const id = randomUUID();
        // A view on part of a SharedArrayBuffer, as server/http/body.ts hands it over; megabytes, so
        // a store that chunks bodies does.
        const shared = Buffer.from(new SharedArrayBuffer(3_000_100));
        for (let i = 0; i < shared.length; i++) shared[i] = (i * 7919) % 251;
        const body = shared.subarray(50, 3_000_050);
        await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId, requestTimestamp: 1, body, totalCount: 1 });
        const pending = (await store.pendingSubmissions()).find((p) => p.id === id)!;
        expect(pending.body.length).to.equal(3_000_000);
        expect(Buffer.compare(pending.body, body)).to.equal(0);
        await store.completeSubmission(id);
      });

      it('keeps no body when none is given (a submission processed before its 202)', async function () {
        const id = randomUUID();
        await store.createSubmission({ id, apiRoot: 'fr', collectionId, accountId, requestTimestamp: 1, totalCount: 2 });
        const pending = (await store.pendingSubmissions()).find((p) => p.id === id)!;
        expect(pending.body.length).to.equal(0);
        expect(pending.pendingIndexes).to.deep.equal([0, 1]);
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
