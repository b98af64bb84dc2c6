// The desk's part of the store contract (docs/architecture.md §5): queue entries written by ingest
// into intake collections, desk rules, decisions (all or nothing, idempotent publications),
// withdrawals, the change log and statistics. Called once per backend harness, like storeContract.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type DecisionPlan,
  type DeskRules,
  type FindingRecord,
  type NewObject,
  type QueueEntry,
  type QueueQuery,
  type Store,
  StaleDecisionError,
  StoreConflictError,
  TLP_RANK,
  rejectedFailure,
  versionKeyFromMicros,
} from '../../collections/store.js';
import { type StoreHarness, stixObject } from './store-contract.js';

const ALL = { all: true } as const;
const LAST = { first: false, last: true, keys: [] as string[] };
const MEDIA = ['application/stix+json;version=2.1'];

function nowMicros(): number {
  return Date.now() * 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function finding(code: string, path = '/name'): FindingRecord {
  return { code, severity: 'warning', path, message: `${code} at ${path}` };
}

function withFindings(o: NewObject, findings: FindingRecord[]): NewObject {
  return { ...o, warnings: JSON.stringify(findings) };
}

export function curationContract(name: string, harness: StoreHarness): void {
  describe(`curation contract: ${name}`, function () {
    this.timeout(30_000);
    let store: Store;
    /** Intake collections (fr, de) and published collections (fr, de, global). */
    let intake: string;
    let intake2: string;
    let pubA: string;
    let pubB: string;
    let pubC: string;
    let vendorOrg: string;
    let otherVendorOrg: string;
    let deskOrg: string;
    let vendor: string;
    let otherVendor: string;
    let cur1: string;
    let cur2: string;

    beforeEach(async function () {
      store = await harness.open();
      for (const path of ['fr', 'de', 'global']) await store.createApiRoot({ path, title: path, maxContentLength: 1_000_000 });
      intake = randomUUID();
      intake2 = randomUUID();
      pubA = randomUUID();
      pubB = randomUUID();
      pubC = randomUUID();
      await store.createCollection({ id: intake, apiRoot: 'fr', title: 'Intake', alias: 'intake', purpose: 'intake', mediaTypes: MEDIA });
      await store.createCollection({ id: intake2, apiRoot: 'de', title: 'Intake', purpose: 'intake', mediaTypes: MEDIA });
      await store.createCollection({ id: pubA, apiRoot: 'fr', title: 'Published', purpose: 'published', mediaTypes: MEDIA });
      await store.createCollection({ id: pubB, apiRoot: 'de', title: 'Published', purpose: 'published', mediaTypes: MEDIA });
      await store.createCollection({ id: pubC, apiRoot: 'global', title: 'Published', purpose: 'published', mediaTypes: MEDIA });
      vendorOrg = (await store.createOrganisation({ id: randomUUID(), name: 'acme-labs', kind: 'vendor', disabled: false })).id;
      otherVendorOrg = (await store.createOrganisation({ id: randomUUID(), name: 'globex', kind: 'vendor', disabled: false })).id;
      deskOrg = (await store.createOrganisation({ id: randomUUID(), name: 'interpol-desk', kind: 'desk', disabled: false })).id;
      vendor = (await store.createAccount({ id: randomUUID(), name: 'acme-bot', organisationId: vendorOrg, passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false })).id;
      otherVendor = (await store.createAccount({ id: randomUUID(), name: 'globex-bot', organisationId: otherVendorOrg, passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false })).id;
      cur1 = (await store.createAccount({ id: randomUUID(), name: 'cur1', organisationId: deskOrg, passwordHash: 'x', roles: ['curator'], curatorRoots: ['fr'], disabled: false })).id;
      cur2 = (await store.createAccount({ id: randomUUID(), name: 'cur2', organisationId: deskOrg, passwordHash: 'x', roles: ['curator'], curatorRoots: ['fr'], disabled: false })).id;
    });

    afterEach(async function () {
      await harness.close?.(store);
    });

    /** Posts objects as the POST endpoint does; returns the submission id and item outcomes. */
    async function submit(objects: NewObject[], opts: { collection?: string; account?: string } = {}) {
      const id = randomUUID();
      const collectionId = opts.collection ?? intake;
      const apiRoot = collectionId === intake || collectionId === pubA ? 'fr' : collectionId === pubC ? 'global' : 'de';
      await store.createSubmission({ id, apiRoot, collectionId, accountId: opts.account ?? vendor, requestTimestamp: nowMicros(), body: Buffer.from('{}'), totalCount: objects.length });
      await store.ingest(id, objects.map((object, index) => ({ index, id: object.id, version: object.version ?? '', object })));
      await store.completeSubmission(id);
      return { id, items: await store.submissionItems(id) };
    }

    async function queue(q: Partial<QueueQuery> = {}): Promise<QueueEntry[]> {
      return (await store.queryQueue({ intakeIds: [intake], limit: 10_000, ...q })).items;
    }

    async function entryOf(o: NewObject, intakeId = intake): Promise<QueueEntry> {
      const found = (await queue({ intakeIds: [intakeId], objectId: o.id })).filter((e) => o.versionKey === undefined || e.versionKey === o.versionKey);
      expect(found, `queue entry of ${o.id} ${o.version ?? ''}`).to.have.length(1);
      return found[0]!;
    }

    async function fresh(e: QueueEntry): Promise<QueueEntry> {
      const [now] = await store.getQueueEntries([e.id]);
      expect(now, `queue entry ${e.id}`).to.not.equal(undefined);
      return now!;
    }

    function plan(p: Partial<DecisionPlan> = {}): DecisionPlan {
      const at = p.at ?? nowMicros();
      return {
        id: randomUUID(), kind: 'approve', actorKind: 'desk', accountId: cur1, organisationId: deskOrg, actorName: 'cur1', at,
        entries: [], publications: [], withdrawals: [],
        audit: { at, actor: p.actorName ?? 'cur1', action: `curation.${p.kind ?? 'approve'}`, outcome: 'success' },
        ...p,
      };
    }

    function publication(e: QueueEntry, o: NewObject, collectionId: string, changeType: DecisionPlan['publications'][number]['changeType'] = 'object.published'): DecisionPlan['publications'][number] {
      return {
        collectionId, entryId: e.id, object: { ...o, versionKey: e.versionKey, tlp: e.tlp }, changeType,
        provenance: { vendor: e.organisationId, submission: e.submissionId, curators: ['cur1'], policy: null },
      };
    }

    /** Approves one pending entry to targets (state approved, one approval each, publications). */
    async function approve(o: NewObject, targets: string[], extra: Partial<DecisionPlan> = {}) {
      const e = await entryOf(o);
      const p = plan({ entries: [{ entryId: e.id, rev: e.rev, state: 'approved', approvals: targets }], publications: targets.map((t) => publication(e, o, t)), ...extra });
      return { plan: p, entry: e, outcome: await store.applyDecision(p) };
    }

    describe('desk rules', function () {
      it('puts, gets, replaces and removes the rules of a collection', async function () {
        expect(await store.getDeskRules(intake)).to.deep.equal({});
        const rules: DeskRules = {
          policy: { mode: 'auto-publish', targets: [pubA, pubB], rules: [{ targets: [pubA], when: { organisations: [vendorOrg], types: ['indicator'], maxTlp: 'green', noWarnings: true } }], revocationFastPath: false },
          release: { allowedMarkings: ['marking-definition--a'], requiredMarkings: [], maxTlp: 'amber', forbiddenTypes: ['malware'], requireCreatedByRef: true, blockingFindings: ['W-1'], approvalsRequired: 2 },
        };
        await store.putDeskRules(intake, rules);
        expect(await store.getDeskRules(intake)).to.deep.equal(rules);
        expect(await store.getDeskRules(pubA)).to.deep.equal({});
        await store.putDeskRules(intake, { release: { maxTlp: 'green' } });
        expect(await store.getDeskRules(intake)).to.deep.equal({ release: { maxTlp: 'green' } });
        await store.putDeskRules(intake, {});
        expect(await store.getDeskRules(intake)).to.deep.equal({});
      });

      it('refuses rules for a collection that does not exist', async function () {
        expect(await rejection(store.putDeskRules(randomUUID(), { release: { maxTlp: 'red' } }))).to.be.instanceOf(StoreConflictError);
      });
    });

    describe('ingest into an intake', function () {
      it('queues one pending entry per stored version, with findings, TLP, revocation and the vendor', async function () {
        const findings = [finding('W-NAME'), finding('W-REF', '/object_refs/0')];
        const ind = withFindings(stixObject('indicator', { modified: '2021-03-01T00:00:00.000Z', tlp: TLP_RANK.amber }), findings);
        const mal = stixObject('malware', { modified: '2021-03-02T00:00:00.000Z', extra: { revoked: true } });
        const sco = stixObject('ipv4-addr', { extra: { value: '198.51.100.9' } });
        const before = nowMicros();
        const { id: submissionId, items } = await submit([ind, mal, sco]);
        expect(items.map((i) => i.outcome)).to.deep.equal(['success', 'success', 'success']);
        const entries = await queue();
        expect(entries.map((e) => e.objectId)).to.deep.equal([ind.id, mal.id, sco.id]);
        for (let i = 1; i < entries.length; i++) expect(entries[i]!.seq).to.be.greaterThan(entries[i - 1]!.seq);
        const [a, b, c] = entries as [QueueEntry, QueueEntry, QueueEntry];
        expect(a).to.include({
          intakeId: intake, apiRoot: 'fr', objectId: ind.id, objectType: 'indicator', version: ind.version, versionKey: ind.versionKey, dateAdded: items[0]!.dateAdded,
          submissionId, accountId: vendor, organisationId: vendorOrg, tlp: TLP_RANK.amber, revoked: false, state: 'pending',
        });
        expect(a.findings).to.deep.equal(findings);
        expect(a.approvals).to.deep.equal([]);
        expect(a.reason).to.equal(undefined);
        expect(a.supersededBy).to.equal(undefined);
        expect(a.rev).to.be.a('number');
        expect(a.createdAt).to.be.at.least(before - 1000);
        expect(a.updatedAt).to.be.at.least(a.createdAt);
        expect(b).to.include({ objectType: 'malware', revoked: true, tlp: 0, state: 'pending' });
        expect(b.findings).to.deep.equal([]);
        expect(c.version).to.equal(undefined);
        expect(c.versionKey).to.equal(versionKeyFromMicros(items[2]!.dateAdded!));
        expect(await store.getQueueEntries([c.id, a.id, randomUUID()])).to.deep.equal([a, c]);
      });

      it('queues objects derived from an item too', async function () {
        const od = stixObject('observed-data', { modified: '2021-01-01T00:00:00.000Z' });
        const derived = stixObject('ipv4-addr', { extra: { value: '203.0.113.4' } });
        const id = randomUUID();
        await store.createSubmission({ id, apiRoot: 'fr', collectionId: intake, accountId: vendor, requestTimestamp: nowMicros(), totalCount: 1 });
        await store.ingest(id, [{ index: 0, id: od.id, version: od.version!, object: od, derived: [derived] }]);
        expect((await queue()).map((e) => [e.objectId, e.submissionId])).to.deep.equal([[od.id, id], [derived.id, id]]);
      });

      it('does not queue an exact re-post of the same version a second time', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        const sco = stixObject('ipv4-addr', { extra: { value: '198.51.100.10' } });
        await submit([o, sco]);
        const again = await submit([o, sco, o]);
        expect(again.items.map((i) => i.outcome)).to.deep.equal(['success', 'success', 'success']);
        expect((await queue()).map((e) => e.objectId)).to.deep.equal([o.id, sco.id]);
      });

      it('supersedes older pending and changes-requested entries of the same intake, never decided ones', async function () {
        const v1 = (id: string, type = 'indicator') => stixObject(type, { id, modified: '2021-01-01T00:00:00.000Z' });
        const v2 = (id: string, type = 'indicator') => stixObject(type, { id, modified: '2021-06-01T00:00:00.000Z' });
        const [o, p, q, r] = [0, 1, 2, 3].map(() => `indicator--${randomUUID()}`) as [string, string, string, string];
        await submit([v1(o), v1(p), v1(q), v1(r)]);
        await submit([v1(o)], { collection: intake2 });
        const [eo, ep, eq, er] = await queue();
        await store.applyDecision(plan({ kind: 'request-changes', entries: [{ entryId: ep!.id, rev: ep!.rev, state: 'changes_requested', reason: 'add a description' }] }));
        await store.applyDecision(plan({ entries: [{ entryId: eq!.id, rev: eq!.rev, state: 'approved' }] }));
        await store.applyDecision(plan({ kind: 'reject', entries: [{ entryId: er!.id, rev: er!.rev, state: 'rejected', reason: 'noise' }] }));
        const before = await store.getQueueEntries([eo!.id, ep!.id, eq!.id, er!.id]);
        await submit([v2(o), v2(p), v2(q), v2(r)]);
        const after = await store.getQueueEntries(before.map((e) => e.id));
        const newer = async (id: string) => (await entryOf(v2(id))).id;
        expect(after[0]).to.include({ state: 'superseded', supersededBy: await newer(o), rev: before[0]!.rev + 1 });
        expect(after[1]).to.include({ state: 'superseded', supersededBy: await newer(p), rev: before[1]!.rev + 1, reason: 'add a description' });
        expect(after[2]).to.deep.equal(before[2]);
        expect(after[3]).to.deep.equal(before[3]);
        expect((await entryOf(v2(o))).state).to.equal('pending');
        // Another intake's entry of the same object is its own queue's business.
        expect((await entryOf(v1(o), intake2)).state).to.equal('pending');
        // An older version arriving later supersedes nothing newer.
        await submit([stixObject('indicator', { id: o, modified: '2020-01-01T00:00:00.000Z' })]);
        expect((await entryOf(v2(o))).state).to.equal('pending');
      });

      it('refuses a version the desk rejected, in any intake, with the rejection as the message, and stores nothing', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([o]);
        const e = await entryOf(o);
        expect(await store.rejectionOf(o.id, o.versionKey!)).to.equal(undefined);
        await store.applyDecision(plan({ kind: 'reject', entries: [{ entryId: e.id, rev: e.rev, state: 'rejected', reason: 'test data, not intelligence' }] }));
        const rejected = (await store.rejectionOf(o.id, o.versionKey!))!;
        expect(rejected).to.include({ id: e.id, state: 'rejected', reason: 'test data, not intelligence' });
        expect(await store.rejectionOf(o.id, '000000000001.000000000')).to.equal(undefined);
        const elsewhere = await submit([o], { collection: intake2 });
        expect(elsewhere.items[0]).to.include({ outcome: 'failure', message: rejectedFailure(rejected) });
        expect(await store.countObjects(intake2)).to.equal(0);
        expect(await queue({ intakeIds: [intake2] })).to.deep.equal([]);
        expect(await store.getSubmission(elsewhere.id)).to.include({ successCount: 0, failureCount: 1 });
        const again = await submit([o]);
        expect(again.items[0]).to.include({ outcome: 'failure', message: rejectedFailure(rejected) });
        expect(await queue()).to.have.length(1);
        // A newer version is a new question; a published collection is no intake.
        const v2 = stixObject('indicator', { id: o.id, modified: '2021-02-01T00:00:00.000Z' });
        expect((await submit([v2])).items[0]!.outcome).to.equal('success');
        expect((await fresh(e)).state).to.equal('rejected');
        expect((await submit([o], { collection: pubA })).items[0]!.outcome).to.equal('success');
      });

      it('queues nothing for objects posted to a published collection', async function () {
        await submit([stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubA });
        expect(await queue({ intakeIds: [pubA, intake] })).to.deep.equal([]);
      });
    });

    describe('queue listing', function () {
      /** Every entry of a query, page by page through the cursor: each page but the last full, at most `maxPages` of them. */
      async function walkQueue(q: Omit<QueueQuery, 'limit' | 'afterSeq'>, limit: number, maxPages: number): Promise<QueueEntry[]> {
        const seen: QueueEntry[] = [];
        let afterSeq: number | undefined;
        for (let pages = 0; ; pages++) {
          expect(pages).to.be.below(maxPages);
          const page = await store.queryQueue({ ...q, limit, ...(afterSeq !== undefined ? { afterSeq } : {}) });
          seen.push(...page.items);
          if (!page.more) break;
          expect(page.items).to.have.length(limit);
          afterSeq = page.items.at(-1)!.seq;
        }
        return seen;
      }

      it('filters by intake, state, vendor, submission, type, finding, TLP, creation time and object', async function () {
        const a1 = withFindings(stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z', tlp: TLP_RANK.green }), [finding('W-A')]);
        const a2 = withFindings(stixObject('malware', { modified: '2021-01-01T00:00:00.000Z', tlp: TLP_RANK.red }), [finding('W-B'), finding('W-A', '/x')]);
        const first = await submit([a1, a2]);
        await sleep(5);
        const b1 = stixObject('tool', { modified: '2021-01-01T00:00:00.000Z', tlp: TLP_RANK.amber });
        const b2 = withFindings(stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' }), [finding('W-B')]);
        const second = await submit([b1, b2], { account: otherVendor });
        await sleep(5);
        const c1 = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([c1], { collection: intake2 });
        const all = await queue({ intakeIds: [intake, intake2] });
        expect(all.map((e) => e.objectId)).to.deep.equal([a1.id, a2.id, b1.id, b2.id, c1.id]);
        const ids = async (q: Partial<QueueQuery>) => (await queue(q)).map((e) => e.objectId);
        expect(await ids({ intakeIds: [] })).to.deep.equal([]);
        expect(await ids({ intakeIds: [intake2] })).to.deep.equal([c1.id]);
        expect(await ids({ organisationId: otherVendorOrg })).to.deep.equal([b1.id, b2.id]);
        expect(await ids({ submissionId: first.id })).to.deep.equal([a1.id, a2.id]);
        expect(await ids({ submissionId: second.id, types: ['indicator'] })).to.deep.equal([b2.id]);
        expect(await ids({ types: ['tool', 'malware'] })).to.deep.equal([a2.id, b1.id]);
        expect(await ids({ findingCode: 'W-A' })).to.deep.equal([a1.id, a2.id]);
        expect(await ids({ findingCode: 'W-B' })).to.deep.equal([a2.id, b2.id]);
        expect(await ids({ findingCode: 'W-NONE' })).to.deep.equal([]);
        expect(await ids({ maxTlp: TLP_RANK.green })).to.deep.equal([a1.id, b2.id]);
        expect(await ids({ maxTlp: TLP_RANK.amber })).to.deep.equal([a1.id, b1.id, b2.id]);
        expect(await ids({ objectId: b1.id })).to.deep.equal([b1.id]);
        const cut = all[2]!.createdAt;
        const older = all.filter((e) => e.intakeId === intake && e.createdAt < cut).map((e) => e.objectId);
        const newer = all.filter((e) => e.intakeId === intake && e.createdAt > all[0]!.createdAt).map((e) => e.objectId);
        expect(older).to.include(a1.id);
        expect(newer).to.include(b2.id);
        expect(await ids({ createdBefore: cut })).to.deep.equal(older);
        expect(await ids({ createdAfter: all[0]!.createdAt })).to.deep.equal(newer);
        const b1e = all[2]!;
        await store.applyDecision(plan({ kind: 'reject', entries: [{ entryId: b1e.id, rev: b1e.rev, state: 'rejected', reason: 'r' }] }));
        expect(await ids({ states: ['rejected'] })).to.deep.equal([b1.id]);
        expect(await ids({ states: ['pending', 'approved'] })).to.deep.equal([a1.id, a2.id, b2.id]);
        expect(await ids({ states: ['pending'], organisationId: otherVendorOrg })).to.deep.equal([b2.id]);
        expect(await ids({ revoked: true })).to.deep.equal([]);
        expect(await ids({ revoked: false })).to.deep.equal([a1.id, a2.id, b1.id, b2.id]);
        const r1 = stixObject('indicator', { modified: '2021-02-01T00:00:00.000Z', extra: { revoked: true } });
        await submit([r1]);
        expect(await ids({ revoked: true })).to.deep.equal([r1.id]);
      });

      it('pages by seq with more, losing and repeating nothing over a few hundred entries', async function () {
        const objects = Array.from({ length: 301 }, (_, i) => stixObject(i % 3 ? 'indicator' : 'malware', { modified: '2021-01-01T00:00:00.000Z' }));
        for (let i = 0; i < objects.length; i += 100) await submit(objects.slice(i, i + 100));
        const walk = (q: Partial<QueueQuery>, limit: number) => walkQueue({ intakeIds: [intake], ...q }, limit, 1000);
        const seen = await walk({}, 7);
        expect(seen.map((e) => e.objectId)).to.deep.equal(objects.map((o) => o.id));
        for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).to.be.greaterThan(seen[i - 1]!.seq);
        const malware = await walk({ types: ['malware'] }, 10);
        expect(malware.map((e) => e.objectId)).to.deep.equal(objects.filter((o) => o.type === 'malware').map((o) => o.id));
        const exact = await store.queryQueue({ intakeIds: [intake], limit: 301 });
        expect([exact.items.length, exact.more]).to.deep.equal([301, false]);
        const last = await store.queryQueue({ intakeIds: [intake], limit: 5, afterSeq: seen.at(-1)!.seq });
        expect([last.items.length, last.more]).to.deep.equal([0, false]);
      });

      it('pages newest first (order desc) by seq, the cursor continuing to lower seqs, losing and repeating nothing', async function () {
        const objects = Array.from({ length: 61 }, (_, i) => stixObject(i % 3 ? 'indicator' : 'malware', { modified: '2021-01-01T00:00:00.000Z' }));
        for (let i = 0; i < objects.length; i += 20) await submit(objects.slice(i, i + 20));
        const walk = (q: Partial<QueueQuery>, limit: number) => walkQueue({ intakeIds: [intake, intake2], order: 'desc', ...q }, limit, 100);
        const seen = await walk({}, 7);
        expect(seen.map((e) => e.objectId)).to.deep.equal(objects.map((o) => o.id).reverse());
        for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).to.be.below(seen[i - 1]!.seq);
        const malware = await walk({ types: ['malware'], states: ['pending'] }, 4);
        expect(malware.map((e) => e.objectId)).to.deep.equal(objects.filter((o) => o.type === 'malware').map((o) => o.id).reverse());
        // From the middle: the entries below that seq, newest first; asc from there gives the others.
        const middle = seen[30]!.seq;
        const below = await store.queryQueue({ intakeIds: [intake], limit: 100, order: 'desc', afterSeq: middle });
        expect(below.items.map((e) => e.seq)).to.deep.equal(seen.slice(31).map((e) => e.seq));
        const above = await store.queryQueue({ intakeIds: [intake], limit: 100, order: 'asc', afterSeq: middle });
        expect(above.items.map((e) => e.seq)).to.deep.equal(seen.slice(0, 30).map((e) => e.seq).reverse());
        const first = await store.queryQueue({ intakeIds: [intake], limit: 5, order: 'desc', afterSeq: seen.at(-1)!.seq });
        expect([first.items.length, first.more]).to.deep.equal([0, false]);
      });
    });

    describe('decisions', function () {
      it('writes nothing for a stale rev: no state, approval, publication, change, withdrawal, decision or audit', async function () {
        const a = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        const b = stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([a, b]);
        const direct = stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([direct], { collection: pubB });
        const [ea, eb] = await queue();
        const withdrawals = [{ collectionId: pubB, objectId: direct.id, reasonCode: 'other' as const, reason: 'r' }];
        const action = `curation.stale-${randomUUID()}`;
        const stale = plan({
          entries: [{ entryId: ea!.id, rev: ea!.rev, state: 'approved', reason: 'ok', approvals: [pubA] }, { entryId: eb!.id, rev: eb!.rev + 1, state: 'approved', approvals: [pubA] }],
          publications: [publication(ea!, a, pubA), publication(eb!, b, pubA)], withdrawals,
          audit: { at: nowMicros(), actor: 'cur1', action, outcome: 'success' },
        });
        const err = await rejection(store.applyDecision(stale));
        expect(err).to.be.instanceOf(StaleDecisionError);
        expect((err as StaleDecisionError).entryId).to.equal(eb!.id);
        // The first entry moves first in any backend that checks one by one: it must be back as it was.
        expect(await store.getQueueEntries([ea!.id, eb!.id])).to.deep.equal([ea, eb]);
        const missing = plan({ entries: [{ entryId: ea!.id, rev: ea!.rev, state: 'approved' }, { entryId: randomUUID(), rev: 1, state: 'approved' }], publications: [publication(ea!, a, pubA)], audit: { at: nowMicros(), action, outcome: 'success' } });
        expect(await rejection(store.applyDecision(missing))).to.be.instanceOf(StaleDecisionError);
        expect(await store.getQueueEntries([ea!.id, eb!.id])).to.deep.equal([ea, eb]);
        expect(await store.countObjects(pubA)).to.equal(0);
        expect(await store.hasObject(pubB, direct.id)).to.equal(true);
        expect(await store.listPublications({})).to.deep.equal([]);
        expect((await store.readChanges(pubA, 0, 10)).items).to.deep.equal([]);
        // Only the direct write's own change: no withdrawal.
        expect((await store.readChanges(pubB, 0, 10)).items.map((c) => [c.type, c.objectId])).to.deep.equal([['object.published', direct.id]]);
        expect(await store.listDecisions({ limit: 10 })).to.deep.equal([]);
        expect(await store.queryAudit({ action, limit: 10 })).to.deep.equal([]);
        expect(await store.resumeDecisions()).to.equal(0);
        expect(await store.getQueueEntries([ea!.id, eb!.id])).to.deep.equal([ea, eb]);
        // A decision on the current revs goes through, and makes the old rev stale.
        await store.applyDecision(plan({ entries: [{ entryId: eb!.id, rev: eb!.rev, state: 'approved' }] }));
        expect(await rejection(store.applyDecision(plan({ entries: [{ entryId: eb!.id, rev: eb!.rev, state: 'rejected' }] })))).to.be.instanceOf(StaleDecisionError);
        expect((await fresh(eb!)).state).to.equal('approved');
      });

      it('updates state, reason and requested changes, and bumps rev', async function () {
        const [a, b, c] = [0, 1, 2].map(() => stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' })) as [NewObject, NewObject, NewObject];
        await submit([a, b, c]);
        const [ea, eb, ec] = (await queue()) as [QueueEntry, QueueEntry, QueueEntry];
        const changes = [finding('C-DESC', '/description')];
        const at = nowMicros() + 5;
        await store.applyDecision(plan({
          kind: 'request-changes', at,
          entries: [{ entryId: ea.id, rev: ea.rev, state: 'changes_requested', reason: 'needs a description', requestedChanges: changes }, { entryId: eb.id, rev: eb.rev, state: 'rejected', reason: 'duplicate' }],
        }));
        expect(await fresh(ea)).to.deep.include({ state: 'changes_requested', reason: 'needs a description', requestedChanges: changes, rev: ea.rev + 1, updatedAt: at });
        expect(await fresh(eb)).to.include({ state: 'rejected', reason: 'duplicate', rev: eb.rev + 1 });
        expect(await fresh(ec)).to.deep.equal(ec);
        // An annotation changes no state; later decisions keep what they do not set.
        await store.applyDecision(plan({ kind: 'annotate', entries: [{ entryId: ea.id, rev: ea.rev + 1, reason: 'asked the vendor by mail' }] }));
        expect(await fresh(ea)).to.deep.include({ state: 'changes_requested', reason: 'asked the vendor by mail', requestedChanges: changes, rev: ea.rev + 2 });
      });

      it('records approvals per target and account, once each', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z', tlp: TLP_RANK.red });
        await submit([o]);
        const e = await entryOf(o);
        const at = nowMicros();
        await store.applyDecision(plan({ at, entries: [{ entryId: e.id, rev: e.rev, approvals: [pubA, pubB] }] }));
        let now = await fresh(e);
        expect(now.state).to.equal('pending');
        expect(now.approvals).to.deep.equal([{ targetId: pubA, accountId: cur1, organisationId: deskOrg, at }, { targetId: pubB, accountId: cur1, organisationId: deskOrg, at }]);
        await store.applyDecision(plan({ entries: [{ entryId: e.id, rev: now.rev, approvals: [pubA] }] }));
        now = await fresh(e);
        expect(now.approvals).to.have.length(2);
        expect(now.rev).to.equal(e.rev + 2);
        await store.applyDecision(plan({ accountId: cur2, actorName: 'cur2', entries: [{ entryId: e.id, rev: now.rev, approvals: [pubA] }] }));
        now = await fresh(e);
        expect(now.approvals.filter((a) => a.targetId === pubA).map((a) => a.accountId)).to.deep.equal([cur1, cur2]);
        const policy = { actorKind: 'policy' as const, accountId: undefined, organisationId: undefined, actorName: 'policy', kind: 'auto-publish' as const };
        await store.applyDecision(plan({ ...policy, entries: [{ entryId: e.id, rev: now.rev, approvals: [pubC] }] }));
        now = await fresh(e);
        await store.applyDecision(plan({ ...policy, entries: [{ entryId: e.id, rev: now.rev, approvals: [pubC] }] }));
        now = await fresh(e);
        expect(now.approvals.filter((a) => a.targetId === pubC)).to.have.length(1);
        expect(now.approvals).to.have.length(4);
      });

      it('publishes copies readable in each target, with new increasing date_added, provenance and a change each', async function () {
        const earlier = await submit([stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })], { collection: pubA });
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z', tlp: TLP_RANK.amber });
        await submit([o]);
        const { plan: p, entry: e, outcome } = await approve(o, [pubA, pubB]);
        expect(outcome).to.deep.equal({ published: 2, withdrawn: 0 });
        expect(await fresh(e)).to.include({ state: 'approved', rev: e.rev + 1 });
        const copy = (await store.queryObjects(pubA, { ids: [o.id], versions: ALL, limit: 10 })).items;
        expect(copy.map((c) => [c.json, c.version, c.type])).to.deep.equal([[o.json, o.version, 'indicator']]);
        expect(copy[0]!.dateAdded).to.be.greaterThan(earlier.items[0]!.dateAdded!);
        expect(await store.queryObjects(pubA, { versions: LAST, limit: 10, maxTlp: TLP_RANK.green })).to.have.property('items').with.length(1);
        const inB = (await store.queryObjects(pubB, { ids: [o.id], versions: ALL, limit: 10 })).items;
        expect(inB.map((c) => c.json)).to.deep.equal([o.json]);
        const pubs = await store.listPublications({ objectId: o.id });
        expect(pubs.map((x) => x.collectionId).sort()).to.deep.equal([pubA, pubB].sort());
        const inA = pubs.find((x) => x.collectionId === pubA)!;
        expect(inA).to.deep.equal({
          collectionId: pubA, objectId: o.id, objectType: 'indicator', version: o.version, versionKey: o.versionKey, dateAdded: copy[0]!.dateAdded,
          entryId: e.id, decisionId: p.id, provenance: { vendor: vendorOrg, submission: e.submissionId, curators: ['cur1'], policy: null },
        });
        expect(pubs.find((x) => x.collectionId === pubB)!.dateAdded).to.equal(inB[0]!.dateAdded);
        expect(await store.listPublications({ collectionId: pubA })).to.deep.equal([inA]);
        expect((await store.listPublications({ entryId: e.id })).map((x) => x.collectionId).sort()).to.deep.equal([pubA, pubB].sort());
        expect(await store.listPublications({ entryId: randomUUID() })).to.deep.equal([]);
        // The tool posted straight to pubA is logged first (a direct write), then the decision's copy.
        const logged = (await store.readChanges(pubA, 0, 10)).items;
        expect(logged.map((c) => [c.type, c.objectId, c.actorKind])).to.deep.equal([['object.published', earlier.items[0]!.id, 'vendor'], ['object.published', o.id, 'desk']]);
        const changes = logged.slice(1);
        expect(changes[0]).to.include({ collectionId: pubA, type: 'object.published', objectType: 'indicator', objectId: o.id, version: o.version, actorKind: 'desk', tlp: TLP_RANK.amber });
        expect(changes[0]!.id).to.be.a('string');
        expect(changes[0]!.dateAdded).to.be.greaterThan(earlier.items[0]!.dateAdded!);
        // Objects posted later come after everything the decision wrote (one date_added sequence).
        const later = await submit([stixObject('tool', { modified: '2020-01-01T00:00:00.000Z' })], { collection: pubA });
        expect(later.items[0]!.dateAdded).to.be.greaterThan(Math.max(changes[0]!.dateAdded, copy[0]!.dateAdded));
        const decisions = await store.listDecisions({ limit: 10 });
        expect(decisions).to.deep.equal([{ id: p.id, kind: 'approve', actorKind: 'desk', accountId: cur1, actorName: 'cur1', at: p.at, entries: 1, publications: 2 }]);
        const audit = await store.queryAudit({ action: 'curation.approve', limit: 10 });
        expect(audit).to.have.length(1);
        expect(audit[0]!.detail).to.include({ decision: p.id });
      });

      it('skips a publication already present (same collection, id and version) and counts only new ones', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([o]);
        const { entry: e, plan: first } = await approve(o, [pubA]);
        const before = await store.queryObjects(pubA, { versions: ALL, limit: 10 });
        const again = plan({ at: first.at + 1, publications: [publication(e, o, pubA), publication(e, o, pubC)] });
        expect(await store.applyDecision(again)).to.deep.equal({ published: 1, withdrawn: 0 });
        expect(await store.queryObjects(pubA, { versions: ALL, limit: 10 })).to.deep.equal(before);
        expect((await store.readChanges(pubA, 0, 10)).items).to.have.length(1);
        expect((await store.readChanges(pubC, 0, 10)).items).to.have.length(1);
        expect((await store.listPublications({ objectId: o.id })).find((x) => x.collectionId === pubA)!.decisionId).to.not.equal(again.id);
        expect((await store.listDecisions({ limit: 1 }))[0]).to.include({ id: again.id, publications: 1 });
        // A version without modified/created: its queue version is its intake date_added.
        const sco = stixObject('ipv4-addr', { extra: { value: '198.51.100.77' } });
        await submit([sco]);
        const es = await entryOf(sco);
        expect(await store.applyDecision(plan({ publications: [publication(es, sco, pubA)] }))).to.deep.equal({ published: 1, withdrawn: 0 });
        expect(await store.applyDecision(plan({ publications: [publication(es, sco, pubA)] }))).to.deep.equal({ published: 0, withdrawn: 0 });
        const copies = (await store.queryObjects(pubA, { ids: [sco.id], versions: ALL, limit: 10 })).items;
        expect(copies.map((c) => [c.json, c.version])).to.deep.equal([[sco.json, undefined]]);
        expect((await store.listPublications({ objectId: sco.id }))[0]).to.include({ versionKey: es.versionKey, entryId: es.id });
        // The same version-less object from another intake (another date_added) is the same version there.
        await submit([sco], { collection: intake2 });
        const es2 = await entryOf(sco, intake2);
        expect(es2.versionKey).to.not.equal(es.versionKey);
        expect(await store.applyDecision(plan({ publications: [publication(es2, sco, pubA), publication(es2, sco, pubB)] }))).to.deep.equal({ published: 1, withdrawn: 0 });
        expect((await store.queryObjects(pubA, { ids: [sco.id], versions: ALL, limit: 10 })).items).to.have.length(1);
        expect((await store.listPublications({ objectId: sco.id })).map((x) => x.collectionId).sort()).to.deep.equal([pubA, pubB].sort());
        // Posted straight to a target first, it is not copied there a second time either.
        const direct = stixObject('ipv4-addr', { extra: { value: '198.51.100.78' } });
        await submit([direct], { collection: pubC });
        await submit([direct]);
        const ed = await entryOf(direct);
        expect(await store.applyDecision(plan({ publications: [publication(ed, direct, pubC)] }))).to.deep.equal({ published: 1, withdrawn: 0 });
        expect((await store.queryObjects(pubC, { ids: [direct.id], versions: ALL, limit: 10 })).items).to.have.length(1);
      });

      it('keeps the change log in date_added order: publications, updates, revocations, by actor kind, paged', async function () {
        const id = `indicator--${randomUUID()}`;
        const v1 = stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' });
        const v2 = stixObject('indicator', { id, modified: '2021-02-01T00:00:00.000Z', tlp: TLP_RANK.green });
        const v3 = stixObject('indicator', { id, modified: '2021-03-01T00:00:00.000Z', extra: { revoked: true } });
        await submit([v1]);
        await approve(v1, [pubA]);
        await submit([v2]);
        const e2 = await entryOf(v2);
        await store.applyDecision(plan({ entries: [{ entryId: e2.id, rev: e2.rev, state: 'approved' }], publications: [publication(e2, v2, pubA, 'object.updated')] }));
        await submit([v3]);
        const e3 = await entryOf(v3);
        expect(e3.revoked).to.equal(true);
        await store.applyDecision(plan({
          kind: 'revocation', actorKind: 'policy', accountId: undefined, organisationId: undefined, actorName: 'policy',
          entries: [{ entryId: e3.id, rev: e3.rev, state: 'approved' }], publications: [publication(e3, v3, pubA, 'object.revoked')],
        }));
        const all = (await store.readChanges(pubA, 0, 100)).items;
        expect(all.map((c) => [c.type, c.version, c.actorKind, c.tlp])).to.deep.equal([
          ['object.published', v1.version, 'desk', 0], ['object.updated', v2.version, 'desk', TLP_RANK.green], ['object.revoked', v3.version, 'policy', 0],
        ]);
        expect(new Set(all.map((c) => c.id)).size).to.equal(3);
        for (let i = 1; i < all.length; i++) expect(all[i]!.dateAdded).to.be.greaterThan(all[i - 1]!.dateAdded);
        // The target serves the latest version after each publication (version flags kept).
        expect((await store.queryObjects(pubA, { ids: [id], versions: LAST, limit: 10 })).items.map((o) => o.version)).to.deep.equal([v3.version]);
        expect((await store.queryVersions(pubA, id, { limit: 10 })).items).to.have.length(3);
        const paged: string[] = [];
        let after = 0;
        for (;;) {
          const page = await store.readChanges(pubA, after, 1);
          paged.push(...page.items.map((c) => c.id));
          if (!page.more) break;
          after = page.items.at(-1)!.dateAdded;
        }
        expect(paged).to.deep.equal(all.map((c) => c.id));
        expect((await store.readChanges(pubA, all[1]!.dateAdded, 10)).items.map((c) => c.id)).to.deep.equal([all[2]!.id]);
        expect((await store.readChanges(randomUUID(), 0, 10)).items).to.deep.equal([]);
      });

      it('withdraws every version of an object from one target only, and logs the last version', async function () {
        const id = `indicator--${randomUUID()}`;
        const v1 = stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' });
        const v2 = stixObject('indicator', { id, modified: '2021-02-01T00:00:00.000Z', tlp: TLP_RANK.amber });
        const other = stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([v1, other]);
        await approve(v1, [pubA, pubB]);
        await approve(other, [pubA]);
        await submit([v2]);
        await approve(v2, [pubA, pubB]);
        const at = nowMicros() + 7;
        const w = plan({ kind: 'withdraw', at, withdrawals: [{ collectionId: pubA, objectId: id, reasonCode: 'false_positive', reason: 'benign scanner' }] });
        expect(await store.applyDecision(w)).to.deep.equal({ published: 0, withdrawn: 2 });
        expect((await store.queryObjects(pubA, { ids: [id], versions: ALL, limit: 10 })).items).to.deep.equal([]);
        expect((await store.queryVersions(pubA, id, { limit: 10 })).items).to.deep.equal([]);
        expect(await store.hasObject(pubA, id)).to.equal(false);
        expect(await store.hasObject(pubA, other.id)).to.equal(true);
        expect(await store.hasObject(pubB, id)).to.equal(true);
        expect((await store.queryVersions(pubB, id, { limit: 10 })).items).to.have.length(2);
        expect((await store.queryObjects(pubB, { ids: [id], versions: LAST, limit: 10 })).items.map((o) => o.version)).to.deep.equal([v2.version]);
        const pubs = await store.listPublications({ objectId: id });
        expect(pubs.filter((x) => x.collectionId === pubA).map((x) => x.withdrawnAt)).to.deep.equal([at, at]);
        expect(pubs.filter((x) => x.collectionId === pubB).map((x) => x.withdrawnAt)).to.deep.equal([undefined, undefined]);
        const changes = (await store.readChanges(pubA, 0, 100)).items;
        const last = changes.at(-1)!;
        expect(last).to.include({ type: 'object.withdrawn', objectId: id, objectType: 'indicator', version: v2.version, lastVersion: v2.version, actorKind: 'desk', tlp: TLP_RANK.amber });
        expect(last.reason).to.contain('benign scanner');
        expect(last.dateAdded).to.be.greaterThan(changes.at(-2)!.dateAdded);
        expect((await store.readChanges(pubB, 0, 100)).items.map((c) => c.type)).to.deep.equal(['object.published', 'object.published']);
        // Nothing left to withdraw: nothing happens, nothing is logged.
        expect(await store.applyDecision(plan({ kind: 'withdraw', withdrawals: w.withdrawals }))).to.deep.equal({ published: 0, withdrawn: 0 });
        expect((await store.readChanges(pubA, 0, 100)).items).to.have.length(changes.length);
        const audit = await store.queryAudit({ action: 'curation.withdraw', limit: 10 });
        expect(audit.map((a) => a.detail?.decision)).to.include(w.id);
        expect((await store.listDecisions({ limit: 10 })).map((d) => d.kind)).to.include('withdraw');
      });

      it('lists decisions newest first, by account, limited', async function () {
        const t = nowMicros();
        const d1 = plan({ at: t - 30, kind: 'annotate' });
        const d2 = plan({ at: t - 20, kind: 'reject', accountId: cur2, actorName: 'cur2' });
        const d3 = plan({ at: t - 10, kind: 'auto-publish', actorKind: 'policy', accountId: undefined, organisationId: undefined, actorName: 'policy' });
        for (const d of [d1, d2, d3]) await store.applyDecision(d);
        const all = await store.listDecisions({ limit: 10 });
        expect(all.map((d) => d.id)).to.deep.equal([d3.id, d2.id, d1.id]);
        expect(all[0]).to.deep.equal({ id: d3.id, kind: 'auto-publish', actorKind: 'policy', actorName: 'policy', at: t - 10, entries: 0, publications: 0 });
        expect((await store.listDecisions({ accountId: cur2, limit: 10 })).map((d) => d.id)).to.deep.equal([d2.id]);
        expect((await store.listDecisions({ limit: 1 })).map((d) => d.id)).to.deep.equal([d3.id]);
      });

      it('applies a large decision (more publications than one SQLite chunk) wholly: every publication once, counted, nothing left to resume', async function () {
        this.timeout(90_000); // over a thousand publications, twice: the in-process MongoDB stand-in is slow
        const objects = Array.from({ length: 350 }, (_, i) => stixObject('indicator', { modified: `2021-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}Z` }));
        await submit(objects);
        const entries = await queue();
        const byId = new Map(objects.map((o) => [o.id, o]));
        const targets = [pubA, pubB, pubC];
        const p = plan({
          entries: entries.map((e) => ({ entryId: e.id, rev: e.rev, state: 'approved' as const })),
          publications: entries.flatMap((e) => targets.map((t) => publication(e, byId.get(e.objectId)!, t))),
        });
        // A stale entry among them: the large decision writes nothing either (on SQLite: told by the worker thread, as the same error).
        const stale = plan({ entries: p.entries.map((e, i) => (i === 200 ? { ...e, rev: e.rev + 1 } : e)), publications: p.publications });
        const err = await rejection(store.applyDecision(stale));
        expect(err).to.be.instanceOf(StaleDecisionError);
        expect((err as StaleDecisionError).entryId).to.equal(entries[200]!.id);
        expect(await store.listPublications({})).to.deep.equal([]);
        expect(await store.listDecisions({ limit: 1 })).to.deep.equal([]);
        expect(await store.applyDecision(p)).to.deep.equal({ published: 1050, withdrawn: 0 });
        // The publications of some objects at once (the desk reads those of a decision's objects so), in date_added order.
        const some = entries.slice(0, 3).map((e) => e.objectId);
        const ofSome = await store.listPublications({ objectIds: [...some, 'indicator--00000000-0000-4000-8000-000000000000'] });
        expect(ofSome.map((x) => [x.objectId, x.collectionId]).sort()).to.deep.equal(some.flatMap((id) => targets.map((t) => [id, t])).sort());
        expect(ofSome.map((x) => x.dateAdded)).to.deep.equal(ofSome.map((x) => x.dateAdded).sort((a, b) => a - b));
        expect(await store.listPublications({ objectIds: [] })).to.deep.equal([]);
        for (const t of targets) {
          const manifest = (await store.queryManifest(t, { versions: ALL, limit: 1000 })).items;
          expect(manifest).to.have.length(350);
          expect(new Set(manifest.map((m) => m.dateAdded)).size).to.equal(350);
          expect((await store.readChanges(t, 0, 1000)).items).to.have.length(350);
        }
        expect((await store.listDecisions({ limit: 1 }))[0]).to.include({ id: p.id, entries: 350, publications: 1050 });
        expect((await queue({ states: ['approved'] })).length).to.equal(350);
        expect(await store.resumeDecisions()).to.equal(0);
        // the same plan's publications again (a retry under a new decision id) publish nothing
        const again = plan({ publications: p.publications });
        expect(await store.applyDecision(again)).to.deep.equal({ published: 0, withdrawn: 0 });
      });

      it('finishes nothing when nothing was interrupted', async function () {
        expect(await store.resumeDecisions()).to.equal(0);
      });
    });

    describe('change log of direct writes', function () {
      /** Every version and change of a published collection, merged in date_added order. */
      async function timeline(collectionId: string): Promise<string[]> {
        const objects = (await store.queryManifest(collectionId, { versions: ALL, specVersions: ['2.0', '2.1'], limit: 1000 })).items.map((o) => ({ at: o.dateAdded, what: `object ${o.id} ${o.version ?? '-'}` }));
        const changes = (await store.readChanges(collectionId, 0, 1000)).items.map((c) => ({ at: c.dateAdded, what: `${c.type} ${c.objectId} ${c.version ?? '-'}` }));
        const all = [...objects, ...changes].sort((a, b) => a.at - b.at);
        expect(new Set(all.map((x) => x.at)).size, 'date_added unique across objects and changes').to.equal(all.length);
        return all.map((x) => x.what);
      }

      it('logs published, updated and revoked right after each version stored, derived objects too, from the objects\' date_added sequence', async function () {
        const id = `indicator--${randomUUID()}`;
        const v1 = stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' });
        const v2 = stixObject('indicator', { id, modified: '2021-02-01T00:00:00.000Z', tlp: TLP_RANK.green });
        const v3 = stixObject('indicator', { id, modified: '2021-03-01T00:00:00.000Z', extra: { revoked: true } });
        const tool = stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' });
        const before = nowMicros();
        await submit([v1, tool], { collection: pubA });
        await submit([v2, v3], { collection: pubA });
        // An upgraded 2.0 observed-data brings derived SCOs (no version): each is a version stored.
        const od = stixObject('observed-data', { modified: '2021-01-01T00:00:00.000Z' });
        const sco = stixObject('ipv4-addr', { extra: { value: '198.51.100.90' } });
        const sub = randomUUID();
        await store.createSubmission({ id: sub, apiRoot: 'fr', collectionId: pubA, accountId: vendor, requestTimestamp: nowMicros(), totalCount: 1 });
        await store.ingest(sub, [{ index: 0, id: od.id, version: od.version!, object: od, derived: [sco] }]);
        await store.completeSubmission(sub);
        expect(await timeline(pubA)).to.deep.equal([
          `object ${id} ${v1.version}`, `object.published ${id} ${v1.version}`,
          `object ${tool.id} ${tool.version}`, `object.published ${tool.id} ${tool.version}`,
          `object ${id} ${v2.version}`, `object.updated ${id} ${v2.version}`,
          `object ${id} ${v3.version}`, `object.revoked ${id} ${v3.version}`,
          `object ${od.id} ${od.version}`, `object.published ${od.id} ${od.version}`,
          `object ${sco.id} -`, `object.published ${sco.id} -`,
        ]);
        const changes = (await store.readChanges(pubA, 0, 100)).items;
        expect(changes.map((c) => [c.type, c.objectType, c.version, c.actorKind, c.tlp, c.collectionId])).to.deep.equal([
          ['object.published', 'indicator', v1.version, 'vendor', 0, pubA], ['object.published', 'tool', tool.version, 'vendor', 0, pubA],
          ['object.updated', 'indicator', v2.version, 'vendor', TLP_RANK.green, pubA], ['object.revoked', 'indicator', v3.version, 'vendor', 0, pubA],
          ['object.published', 'observed-data', od.version, 'vendor', 0, pubA], ['object.published', 'ipv4-addr', undefined, 'vendor', 0, pubA],
        ]);
        expect(new Set(changes.map((c) => c.id)).size).to.equal(changes.length);
        expect(changes[0]!.dateAdded).to.be.greaterThan(before);
        expect(changes.every((c) => c.reason === undefined && c.lastVersion === undefined)).to.equal(true);
        expect(await store.getChange(pubA, changes[2]!.id)).to.deep.equal(changes[2]);
        // Not a change of this collection: one of another collection, an id of another layout, nothing.
        expect(await store.getChange(pubB, changes[2]!.id)).to.equal(undefined);
        expect(await store.getChange(pubA, randomUUID())).to.equal(undefined);
        expect(await store.getChange(pubA, 'not-an-id')).to.equal(undefined);
        // Objects posted later come after every change (one sequence), and the desk's publications interleave with them.
        const later = await submit([stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubA });
        expect(later.items[0]!.dateAdded).to.be.greaterThan(changes.at(-1)!.dateAdded);
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([o]);
        await approve(o, [pubA]);
        const after = await submit([stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubA });
        const tail = (await timeline(pubA)).slice(12);
        expect(tail).to.deep.equal([
          `object ${later.items[0]!.id} 2021-01-01T00:00:00.000Z`, `object.published ${later.items[0]!.id} 2021-01-01T00:00:00.000Z`,
          `object ${o.id} ${o.version}`, `object.published ${o.id} ${o.version}`,
          `object ${after.items[0]!.id} 2021-01-01T00:00:00.000Z`, `object.published ${after.items[0]!.id} 2021-01-01T00:00:00.000Z`,
        ]);
      });

      it('adds nothing for exact duplicates, refused versions or intake collections', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([o, o], { collection: pubA });
        const once = (await store.readChanges(pubA, 0, 100)).items;
        expect(once.map((c) => c.type)).to.deep.equal(['object.published']);
        expect((await submit([o], { collection: pubA })).items[0]!.outcome).to.equal('success');
        const clash = { ...o, json: JSON.stringify({ ...JSON.parse(o.json), name: 'other' }) };
        expect((await submit([clash], { collection: pubA })).items[0]!.outcome).to.equal('failure');
        expect((await store.readChanges(pubA, 0, 100)).items).to.deep.equal(once);
        await submit([o, stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' })]);
        await submit([o], { collection: intake2, account: cur1 });
        expect((await store.readChanges(intake, 0, 100)).items).to.deep.equal([]);
        expect((await store.readChanges(intake2, 0, 100)).items).to.deep.equal([]);
        expect((await store.readChanges(pubA, 0, 100)).items).to.deep.equal(once);
      });

      it('logs one withdrawal per DELETE that deleted something, with the newest version deleted and the caller\'s actor kind', async function () {
        const id = `indicator--${randomUUID()}`;
        const v1 = stixObject('indicator', { id, modified: '2021-01-01T00:00:00.000Z' });
        const v2 = stixObject('indicator', { id, modified: '2021-02-01T00:00:00.000Z', tlp: TLP_RANK.green });
        const v3 = stixObject('indicator', { id, modified: '2021-03-01T00:00:00.000Z', tlp: TLP_RANK.amber });
        await submit([v1, v2, v3], { collection: pubA });
        const start = (await store.readChanges(pubA, 0, 100)).items;
        const newest = (await store.queryManifest(pubA, { versions: ALL, limit: 100 })).items.at(-1)!.dateAdded;
        // The first version only: its own last version.
        expect(await store.deleteObject(pubA, id, { versions: { first: true, last: false, keys: [] } })).to.equal(1);
        // Every version a reader capped at green sees (v2; v3 is above the cap): the default actor is the desk.
        expect(await store.deleteObject(pubA, id, { versions: ALL, maxTlp: TLP_RANK.green })).to.equal(1);
        // Nothing matches: nothing is logged.
        expect(await store.deleteObject(pubA, id, { versions: ALL, maxTlp: TLP_RANK.green })).to.equal(0);
        expect(await store.deleteObject(pubA, `indicator--${randomUUID()}`, { versions: ALL })).to.equal(0);
        expect(await store.deleteObject(pubA, id, { versions: ALL }, { kind: 'vendor' })).to.equal(1);
        const withdrawals = (await store.readChanges(pubA, 0, 100)).items.slice(start.length);
        expect(withdrawals.map((c) => [c.type, c.objectId, c.objectType, c.version, c.lastVersion, c.reason, c.actorKind, c.tlp])).to.deep.equal([
          ['object.withdrawn', id, 'indicator', v1.version, v1.version, 'deleted', 'desk', 0],
          ['object.withdrawn', id, 'indicator', v2.version, v2.version, 'deleted', 'desk', TLP_RANK.green],
          ['object.withdrawn', id, 'indicator', v3.version, v3.version, 'deleted', 'vendor', TLP_RANK.amber],
        ]);
        expect(withdrawals[0]!.dateAdded).to.be.greaterThan(Math.max(newest, start.at(-1)!.dateAdded));
        for (let i = 1; i < withdrawals.length; i++) expect(withdrawals[i]!.dateAdded).to.be.greaterThan(withdrawals[i - 1]!.dateAdded);
        // Several versions in one DELETE: one change, the newest of them as the last version.
        const p = `tool--${randomUUID()}`;
        const p1 = stixObject('tool', { id: p, modified: '2021-01-01T00:00:00.000Z' });
        const p2 = stixObject('tool', { id: p, modified: '2021-02-01T00:00:00.000Z' });
        await submit([p2, p1], { collection: pubA });
        const mark = (await store.readChanges(pubA, 0, 100)).items.at(-1)!.dateAdded;
        expect(await store.deleteObject(pubA, p, { versions: ALL })).to.equal(2);
        expect((await store.readChanges(pubA, mark, 100)).items.map((c) => [c.type, c.lastVersion, c.actorKind])).to.deep.equal([['object.withdrawn', p2.version, 'desk']]);
        // Stored again after the DELETE: a first version again.
        await submit([p1], { collection: pubA });
        expect((await store.readChanges(pubA, mark, 100)).items.map((c) => c.type)).to.deep.equal(['object.withdrawn', 'object.published']);
        // An intake collection has no change log.
        await submit([v1]);
        expect(await store.deleteObject(intake, id, { versions: ALL })).to.equal(1);
        expect((await store.readChanges(intake, 0, 100)).items).to.deep.equal([]);
      });

      it('logs curators and admins as the desk, anyone else as the vendor', async function () {
        const admin = (await store.createAccount({ id: randomUUID(), name: 'root', passwordHash: 'x', roles: ['admin'], curatorRoots: [], disabled: false })).id;
        const both = (await store.createAccount({ id: randomUUID(), name: 'feed-curator', organisationId: deskOrg, passwordHash: 'x', roles: ['publisher', 'curator'], curatorRoots: ['de'], disabled: false })).id;
        const kinds: Array<[string, string]> = [[vendor, 'vendor'], [otherVendor, 'vendor'], [cur1, 'desk'], [admin, 'desk'], [both, 'desk']];
        for (const [account] of kinds) await submit([stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubB, account });
        expect((await store.readChanges(pubB, 0, 100)).items.map((c) => c.actorKind)).to.deep.equal(kinds.map(([, k]) => k));
      });

      it('purges entries older than a time in every collection, and reports per collection the newest dropped', async function () {
        await submit([stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' }), stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubA });
        await submit([stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubB });
        const oldA = (await store.readChanges(pubA, 0, 100)).items;
        const oldB = (await store.readChanges(pubB, 0, 100)).items;
        await sleep(5);
        const cutoff = Math.max(oldA.at(-1)!.dateAdded, oldB.at(-1)!.dateAdded) + 1;
        await sleep(5);
        await submit([stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubA });
        await submit([stixObject('malware', { modified: '2021-01-01T00:00:00.000Z' })], { collection: pubB });
        const keptA = (await store.readChanges(pubA, 0, 100)).items.slice(oldA.length);
        const keptB = (await store.readChanges(pubB, 0, 100)).items.slice(oldB.length);
        expect(keptA.concat(keptB).every((c) => c.dateAdded >= cutoff)).to.equal(true);
        for (const c of [pubA, pubB, pubC, intake]) expect(await store.changeHorizon(c)).to.equal(0);
        expect(await store.purgeChanges(cutoff)).to.equal(3);
        expect((await store.readChanges(pubA, 0, 100)).items).to.deep.equal(keptA);
        expect((await store.readChanges(pubB, 0, 100)).items).to.deep.equal(keptB);
        expect(await store.getChange(pubA, oldA[0]!.id)).to.equal(undefined);
        expect(await store.getChange(pubA, keptA[0]!.id)).to.deep.equal(keptA[0]);
        expect(await store.changeHorizon(pubA)).to.equal(oldA.at(-1)!.dateAdded);
        expect(await store.changeHorizon(pubB)).to.equal(oldB.at(-1)!.dateAdded);
        expect(await store.changeHorizon(pubC)).to.equal(0);
        expect(await store.changeHorizon(randomUUID())).to.equal(0);
        // Nothing older left: nothing dropped, horizons unmoved; an earlier time never moves them back.
        expect(await store.purgeChanges(cutoff)).to.equal(0);
        expect(await store.purgeChanges(oldA[0]!.dateAdded)).to.equal(0);
        expect(await store.changeHorizon(pubA)).to.equal(oldA.at(-1)!.dateAdded);
        // Past everything: the horizon is the newest entry dropped.
        const end = Math.max(keptA.at(-1)!.dateAdded, keptB.at(-1)!.dateAdded) + 1;
        expect(await store.purgeChanges(end)).to.equal(2);
        expect(await store.changeHorizon(pubA)).to.equal(keptA.at(-1)!.dateAdded);
        expect(await store.changeHorizon(pubB)).to.equal(keptB.at(-1)!.dateAdded);
        expect((await store.readChanges(pubA, 0, 100)).items).to.deep.equal([]);
        // A collection deleted and created again starts with no horizon.
        await store.deleteCollection(pubB);
        await store.createCollection({ id: pubB, apiRoot: 'de', title: 'Again', purpose: 'published', mediaTypes: MEDIA });
        expect(await store.changeHorizon(pubB)).to.equal(0);
      });
    });

    describe('statistics', function () {
      it('reports queue depth and ages, decisions per curator, and time to publish per vendor', async function () {
        const objects = Array.from({ length: 6 }, () => stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' }));
        for (const [i, o] of objects.entries()) {
          await submit([o], { account: i === 5 ? otherVendor : vendor });
          await sleep(3);
        }
        const rejected = stixObject('tool', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([rejected], { collection: intake2 });
        const er = await entryOf(rejected, intake2);
        await store.applyDecision(plan({ kind: 'reject', accountId: cur2, actorName: 'cur2', entries: [{ entryId: er.id, rev: er.rev, state: 'rejected', reason: 'r' }] }));
        await sleep(3);
        await approve(objects[0]!, [pubA, pubB]);
        await approve(objects[1]!, [pubA]);
        await approve(objects[5]!, [pubA], { accountId: cur2, actorName: 'cur2' });
        const e2 = await entryOf(objects[2]!);
        await store.applyDecision(plan({ kind: 'auto-publish', actorKind: 'policy', accountId: undefined, organisationId: undefined, actorName: 'policy', entries: [{ entryId: e2.id, rev: e2.rev, state: 'approved' }], publications: [publication(e2, objects[2]!, pubC)] }));
        const stats = await store.curationStats([intake, intake2]);
        const pending = (await queue({ states: ['pending'] })).map((e) => e.createdAt).sort((x, y) => x - y);
        expect(pending).to.have.length(2);
        const q = stats.queues.find((x) => x.intakeId === intake)!;
        expect(q).to.include({ depth: 2, oldest: pending[0], p50: pending[0] });
        expect(q.p95).to.be.within(pending[0]!, q.p50!);
        expect(stats.queues.find((x) => x.intakeId === intake2)).to.deep.equal({ intakeId: intake2, depth: 0 });
        expect(stats.queues).to.have.length(2);
        const perAccount = Object.fromEntries(stats.decisionsPerAccount.map((d) => [d.actorName, d]));
        expect(perAccount.cur1).to.deep.equal({ accountId: cur1, actorName: 'cur1', decisions: 2 });
        expect(perAccount.cur2).to.deep.equal({ accountId: cur2, actorName: 'cur2', decisions: 2 });
        expect(perAccount.policy).to.equal(undefined);
        const waits = async (os: NewObject[]) => {
          const list: number[] = [];
          for (const o of os) {
            const e = await entryOf(o);
            list.push(Math.min(...(await store.listPublications({ entryId: e.id })).map((x) => x.dateAdded)) - e.createdAt);
          }
          return list.sort((x, y) => x - y);
        };
        const acme = await waits([objects[0]!, objects[1]!, objects[2]!]);
        const globex = await waits([objects[5]!]);
        const ttp = Object.fromEntries(stats.timeToPublish.map((t) => [t.organisationId ?? '', t]));
        expect(ttp[vendorOrg]).to.deep.equal({ organisationId: vendorOrg, publications: 3, p50: acme[1] });
        expect(ttp[otherVendorOrg]).to.deep.equal({ organisationId: otherVendorOrg, publications: 1, p50: globex[0] });
        expect(acme[0]).to.be.greaterThan(0);
        // Only the intakes asked about.
        const none = await store.curationStats([intake2]);
        expect(none.timeToPublish).to.deep.equal([]);
        expect(none.queues).to.deep.equal([{ intakeId: intake2, depth: 0 }]);
      });

      it('counts submissions to intakes per organisation and UTC day from the objects.add audit events, since a time', async function () {
        const DAY = 86_400_000_000;
        const today = nowMicros() - (nowMicros() % DAY);
        await store.createAccount({ id: randomUUID(), name: 'acme-lab-2', organisationId: vendorOrg, passwordHash: 'x', roles: ['publisher'], curatorRoots: [], disabled: false });
        const post = (actor: string, target: string, at: number, action = 'objects.add') => store.appendAudit({ at, actor, action, outcome: 'success', target, detail: { submission: randomUUID(), objects: 1, bytes: 100 } });
        await post('acme-bot', intake, today - 3 * DAY + 5); // before the window
        await post('acme-bot', intake, today - 2 * DAY); // the window's first microsecond
        await post('acme-bot', intake2, today - 2 * DAY + DAY - 1); // the same UTC day's last
        await post('globex-bot', intake, today - 2 * DAY + 1000);
        await post('acme-lab-2', intake, today - DAY + 7); // another account of the same vendor
        await post('acme-bot', intake, today - DAY + 9);
        await post('acme-bot', pubA, today - DAY + 11); // a published collection: not asked about
        await post('acme-bot', intake, today - DAY + 13, 'object.delete'); // not a submission
        await post('gone-account', intake, today + 1); // no account (any more): no organisation
        await post('globex-bot', intake, today + 2);
        const days = await store.submissionsPerDay([intake, intake2], today - 2 * DAY);
        const sorted = [vendorOrg, otherVendorOrg].sort();
        const row = (day: number, org: string | undefined, submissions: number) => ({ ...(org ? { organisationId: org } : {}), day, submissions });
        const expected = [
          ...sorted.map((org) => row(today - 2 * DAY, org, org === vendorOrg ? 2 : 1)),
          row(today - DAY, vendorOrg, 2),
          row(today, undefined, 1),
          row(today, otherVendorOrg, 1),
        ];
        expect(days).to.deep.equal(expected);
        expect(await store.submissionsPerDay([intake2], today - 2 * DAY)).to.deep.equal([row(today - 2 * DAY, vendorOrg, 1)]);
        expect(await store.submissionsPerDay([intake, intake2], today + 3)).to.deep.equal([]);
        expect(await store.submissionsPerDay([], today - 2 * DAY)).to.deep.equal([]);
      });
    });

    describe('deleting collections', function () {
      it('removes an intake\'s queue and rules, and a target\'s publications, change log and rules', async function () {
        const o = stixObject('indicator', { modified: '2021-01-01T00:00:00.000Z' });
        await submit([o]);
        await store.putDeskRules(intake, { policy: { mode: 'review' } });
        await store.putDeskRules(pubA, { release: { maxTlp: 'amber' } });
        const { entry: e } = await approve(o, [pubA, pubB]);
        expect(await store.deleteCollection(pubA)).to.equal(true);
        expect(await store.listPublications({ collectionId: pubA })).to.deep.equal([]);
        expect((await store.listPublications({ objectId: o.id })).map((x) => x.collectionId)).to.deep.equal([pubB]);
        expect((await store.readChanges(pubA, 0, 10)).items).to.deep.equal([]);
        expect(await store.getDeskRules(pubA)).to.deep.equal({});
        // A collection created again under the same id starts empty.
        await store.createCollection({ id: pubA, apiRoot: 'fr', title: 'Again', purpose: 'published', mediaTypes: MEDIA });
        expect(await store.getDeskRules(pubA)).to.deep.equal({});
        expect((await store.readChanges(pubA, 0, 10)).items).to.deep.equal([]);
        expect(await store.listPublications({ collectionId: pubA })).to.deep.equal([]);
        expect(await store.applyDecision(plan({ publications: [publication(e, o, pubA)] }))).to.deep.equal({ published: 1, withdrawn: 0 });
        expect(await store.deleteCollection(intake)).to.equal(true);
        expect(await queue()).to.deep.equal([]);
        expect(await store.getQueueEntries([e.id])).to.deep.equal([]);
        expect(await store.getDeskRules(intake)).to.deep.equal({});
        expect(await store.curationStats([intake])).to.deep.include({ queues: [{ intakeId: intake, depth: 0 }] });
      });
    });
  });
}
