// The desk workflow over HTTP (docs/architecture.md §3): a vendor posts to an intake, curators
// review and publish to member countries, subscribers read only what they are entitled to.
// Runs on both stores (the MongoDB lane of `npm test` runs test/http again on MongoDB).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import type { Store } from '../../collections/store.js';
import { TLP2_IDS } from 'stix2-validator-ts/markings';
import { type TestAccount, TAXII, indicator, testServer } from '../helpers/server.js';

const JSON_TYPE = 'application/json';
const RED = TLP2_IDS.red!;

type Server = Awaited<ReturnType<typeof testServer>>;

async function world(store?: Store, overrides: Parameters<typeof testServer>[0] = {}) {
  const s = await testServer(overrides, store);
  const { admin } = s;
  for (const [path, country] of [['desk', undefined], ['fr', 'fr'], ['de', 'de'], ['global', undefined]] as const) {
    await admin.addApiRoot({ path, title: path, ...(country ? { country } : {}) });
  }
  await admin.addOrganisation({ name: 'acme-labs', kind: 'vendor' });
  await admin.addOrganisation({ name: 'interpol-desk', kind: 'desk' });
  await admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
  await admin.addOrganisation({ name: 'de-police', kind: 'member-agency', country: 'de' });
  const intake = await s.collection('desk', { alias: 'intake', purpose: 'intake', title: 'Vendor intake' });
  const fr = await s.collection('fr', { alias: 'published', title: 'France' });
  const de = await s.collection('de', { alias: 'published', title: 'Germany' });
  const global = await s.collection('global', { alias: 'published', title: 'Everyone' });
  const vendor = await s.account(['publisher'], 'acme-bot', { organisation: 'acme-labs' });
  const acmeCurator = await s.account(['curator'], 'acme-curator', { organisation: 'acme-labs', curatorRoots: ['desk', 'fr'] });
  const cur1 = await s.account(['curator'], 'alice', { organisation: 'interpol-desk', curatorRoots: ['desk', 'fr', 'de', 'global'] });
  const cur2 = await s.account(['curator'], 'bob', { organisation: 'interpol-desk', curatorRoots: ['desk', 'fr', 'de', 'global'] });
  const frOnly = await s.account(['curator'], 'claire', { organisation: 'interpol-desk', curatorRoots: ['fr'] });
  const subFr = await s.account(['subscriber'], 'fr-analyst', { organisation: 'fr-police' });
  const subDe = await s.account(['subscriber'], 'de-analyst', { organisation: 'de-police' });
  await admin.grant({ collection: intake.id, apiRoot: 'desk', account: vendor.name, read: false, write: true });
  await admin.grant({ collection: fr.id, apiRoot: 'fr', organisation: 'fr-police', read: true, write: false, maxTlp: 'red' });
  await admin.grant({ collection: de.id, apiRoot: 'de', organisation: 'de-police', read: true, write: false });
  await admin.grant({ collection: global.id, apiRoot: 'global', organisation: 'fr-police', read: true, write: false });
  await admin.grant({ collection: global.id, apiRoot: 'global', organisation: 'de-police', read: true, write: false });
  return { s, intake, fr, de, global, vendor, acmeCurator, cur1, cur2, frOnly, subFr, subDe };
}

function post(s: Server, who: TestAccount, root: string, collection: string, objects: unknown[]) {
  return request(s.app).post(`/${root}/collections/${collection}/objects/`).set('Authorization', who.auth).set('Accept', TAXII).set('Content-Type', TAXII).send(JSON.stringify({ objects }));
}

function poll(s: Server, who: TestAccount, root: string) {
  return request(s.app).get(`/${root}/collections/published/objects/`).set('Authorization', who.auth).set('Accept', TAXII);
}

function queue(s: Server, who: TestAccount, query = '') {
  return request(s.app).get(`/admin/v1/curation/queue${query}`).set('Authorization', who.auth);
}

function decide(s: Server, who: TestAccount, body: Record<string, unknown>) {
  return request(s.app).post('/admin/v1/curation/decisions').set('Authorization', who.auth).set('Content-Type', JSON_TYPE).send(body);
}

const ids = (res: request.Response) => ((res.body.objects ?? []) as Array<{ id: string }>).map((o) => o.id).sort();

describe('the desk: intake → review → publication (§5.5 status, curation API)', function () {
  this.timeout(60_000);

  it('runs a vendor report from POST to the countries entitled to it, and nothing more', async function () {
    const w = await world();
    const { s } = w;
    const a = indicator({ name: 'A' });
    const b = indicator({ name: 'B' });
    const warned = { ...indicator({ name: 'W' }), indicator_types: ['not-in-the-vocabulary'] };
    const invalid = { ...indicator({ name: 'bad' }), pattern: "[ipv4-addr:value = '1.2.3.4'" };
    const red = { ...indicator({ name: 'R' }), object_marking_refs: [RED] };
    const e = indicator({ name: 'E' });

    // 1. intake: per-object outcomes, complete at once (§4.3.1), never pending for review
    const status = await post(s, w.vendor, 'desk', 'intake', [a, b, warned, invalid, red, e]);
    expect(status.status).to.equal(202);
    expect(status.body.status).to.equal('complete');
    expect(status.body.success_count).to.equal(5);
    expect(status.body.failure_count).to.equal(1);
    expect(status.body.failures[0].id).to.equal(invalid.id);

    // 2. review: a curator of another organisation sees the queue with the findings
    const listed = await queue(s, w.cur1, '?state=pending');
    expect(listed.status).to.equal(200);
    expect(listed.body.entries).to.have.length(5);
    const entry = (id: string) => (listed.body.entries as Array<{ id: string; object_id: string; rev: number; findings: Array<{ code: string }> }>).find((x) => x.object_id === id)!;
    expect(entry(warned.id).findings.map((f) => f.code)).to.include('STIX_VOCAB_VALUE');
    expect(entry(a.id).findings).to.deep.equal([]);
    const byFinding = await queue(s, w.cur1, '?finding=STIX_VOCAB_VALUE');
    expect(byFinding.body.entries.map((x: { object_id: string }) => x.object_id)).to.deep.equal([warned.id]);
    const detail = await request(s.app).get(`/admin/v1/curation/queue/${entry(a.id).id}`).set('Authorization', w.cur1.auth);
    expect(detail.status).to.equal(200);
    expect(detail.body.object.id).to.equal(a.id);
    expect(detail.body.submission_status.status).to.equal('complete');

    // 3. decisions: approve A to fr and de (one approval each), and to global (two approvals)
    const approveA = await decide(s, w.cur1, { action: 'approve', entries: [{ id: entry(a.id).id, rev: entry(a.id).rev }], targets: ['fr', 'de', 'global'] });
    expect(approveA.status, JSON.stringify(approveA.body)).to.equal(201);
    expect(approveA.body.published).to.equal(2);
    const globalReport = approveA.body.targets.find((t: { target: string }) => t.target === 'global');
    expect(globalReport.awaiting_approval).to.deep.equal([{ entry: entry(a.id).id, approvals: 1, required: 2 }]);
    expect(ids(await poll(s, w.subFr, 'global'))).to.deep.equal([]);
    // a stale rev is refused (409) and changes nothing
    const stale = await decide(s, w.cur2, { action: 'approve', entries: [{ id: entry(a.id).id, rev: entry(a.id).rev }], targets: ['global'] });
    expect(stale.status).to.equal(409);
    const fresh = (await request(s.app).get(`/admin/v1/curation/queue/${entry(a.id).id}`).set('Authorization', w.cur2.auth)).body;
    expect(fresh.state).to.equal('approved');
    // the same curator cannot give the second approval
    const again = await decide(s, w.cur1, { action: 'approve', entries: [{ id: fresh.id, rev: fresh.rev }], targets: ['global'] });
    expect(again.status).to.equal(409);
    const second = await decide(s, w.cur2, { action: 'approve', entries: [{ id: fresh.id, rev: fresh.rev }], targets: ['global'] });
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    expect(second.body.published).to.equal(1);

    // reject B, request changes on E
    const rejectB = await decide(s, w.cur1, { action: 'reject', entries: [{ id: entry(b.id).id, rev: entry(b.id).rev }] });
    expect(rejectB.status).to.equal(400);
    expect(rejectB.body.description).to.match(/reason/);
    expect((await decide(s, w.cur1, { action: 'reject', entries: [{ id: entry(b.id).id, rev: entry(b.id).rev }], reason: 'sinkholed address, not malicious' })).status).to.equal(201);
    const changes = await decide(s, w.cur1, {
      action: 'request-changes', entries: [{ id: entry(e.id).id, rev: entry(e.id).rev }], reason: 'name the campaign',
      changes: [{ code: 'DESK_NAME_VAGUE', severity: 'warning', path: '/name', message: 'say which campaign' }],
    });
    expect(changes.status).to.equal(201);

    // refusals: self-approval (403), RED to a root without RED recipients (422), a curator outside their roots (404)
    const self = await decide(s, w.acmeCurator, { action: 'approve', entries: [{ id: entry(warned.id).id, rev: entry(warned.id).rev }], targets: ['fr'] });
    expect(self.status).to.equal(403);
    const redToDe = await decide(s, w.cur1, { action: 'approve', entries: [{ id: entry(red.id).id, rev: entry(red.id).rev }], targets: ['de'] });
    expect(redToDe.status).to.equal(422);
    expect(redToDe.body.description).to.match(/red_recipients/);
    const outside = await decide(s, w.frOnly, { action: 'approve', entries: [{ id: entry(warned.id).id, rev: entry(warned.id).rev }], targets: ['de'] });
    expect(outside.status).to.equal(404);
    // RED to fr (named RED recipients) needs two approvals
    expect((await decide(s, w.cur1, { action: 'approve', entries: [{ id: entry(red.id).id, rev: entry(red.id).rev }], targets: ['fr'] })).body.published).to.equal(0);
    const redNow = (await request(s.app).get(`/admin/v1/curation/queue/${entry(red.id).id}`).set('Authorization', w.cur2.auth)).body;
    expect((await decide(s, w.cur2, { action: 'approve', entries: [{ id: redNow.id, rev: redNow.rev }], targets: ['fr'] })).body.published).to.equal(1);

    // subscribers: exactly what they are entitled to, nothing of the other country
    expect(ids(await poll(s, w.subFr, 'fr'))).to.deep.equal([a.id, red.id].sort());
    expect(ids(await poll(s, w.subDe, 'de'))).to.deep.equal([a.id]);
    expect(ids(await poll(s, w.subFr, 'global'))).to.deep.equal([a.id]);
    expect((await poll(s, w.subDe, 'fr')).status).to.equal(404);
    // subscribers and anyone outside the desk: the curation API does not exist (404)
    expect((await queue(s, w.subFr)).status).to.equal(404);

    // the vendor sees its own entries, states and reasons, but not who decided
    const mine = await queue(s, w.vendor);
    expect(mine.status).to.equal(200);
    const rejected = mine.body.entries.find((x: { object_id: string }) => x.object_id === b.id);
    expect(rejected.state).to.equal('rejected');
    expect(rejected.reason).to.equal('sinkholed address, not malicious');
    expect(rejected).to.not.have.property('approvals');
    expect((await decide(s, w.vendor, { action: 'reject', entries: [{ id: rejected.id, rev: rejected.rev }], reason: 'x' })).status).to.equal(404);

    // sticky rejection: the same version again fails with the earlier reason
    const repost = await post(s, w.vendor, 'desk', 'intake', [b]);
    expect(repost.body.failure_count).to.equal(1);
    expect(repost.body.failures[0].message).to.match(/sinkholed address/);
    // a corrected version of E supersedes the entry and is approved
    const e2 = { ...e, modified: '2024-03-01T00:00:00.000Z', name: 'E (Campaign X)' };
    expect((await post(s, w.vendor, 'desk', 'intake', [e2])).body.success_count).to.equal(1);
    const versions = (await queue(s, w.cur1, `?object=${e.id}`)).body.entries as Array<{ id: string; state: string; rev: number; version: string }>;
    expect(versions.map((x) => x.state)).to.deep.equal(['superseded', 'pending']);
    const e2Entry = versions[1]!;
    const e2Detail = await request(s.app).get(`/admin/v1/curation/queue/${e2Entry.id}`).set('Authorization', w.cur1.auth);
    expect(e2Detail.body.other_versions.map((x: { state: string }) => x.state)).to.deep.equal(['superseded']);
    expect((await decide(s, w.cur1, { action: 'approve', entries: [{ id: e2Entry.id, rev: e2Entry.rev }], targets: ['de'] })).body.published).to.equal(1);

    // the vendor revokes A: published to the same targets at once by policy, no curator
    const revoked = { ...a, modified: '2024-04-01T00:00:00.000Z', revoked: true };
    expect((await post(s, w.vendor, 'desk', 'intake', [revoked])).body.success_count).to.equal(1);
    for (const [who, root] of [[w.subFr, 'fr'], [w.subDe, 'de'], [w.subFr, 'global']] as const) {
      const got = await poll(s, who, root);
      expect(got.body.objects.find((o: { id: string }) => o.id === a.id).revoked, root).to.equal(true);
    }
    const changesFr = await s.store.readChanges(w.fr.id, 0, 100);
    expect(changesFr.items.map((c) => `${c.type}:${c.actorKind}`)).to.deep.equal(['object.published:desk', 'object.published:desk', 'object.revoked:policy']);

    // withdraw A from fr only: gone from every read endpoint there, still in de
    const withdraw = await decide(s, w.cur1, { action: 'withdraw', object_id: a.id, targets: ['fr'], reason_code: 'false_positive', reason: 'blocks a CDN' });
    expect(withdraw.status, JSON.stringify(withdraw.body)).to.equal(201);
    expect(withdraw.body.withdrawn).to.equal(2);
    const object = await request(s.app).get(`/fr/collections/published/objects/${a.id}/`).set('Authorization', w.subFr.auth).set('Accept', TAXII);
    expect(object.status).to.equal(404);
    const versionsFr = await request(s.app).get(`/fr/collections/published/objects/${a.id}/versions/`).set('Authorization', w.subFr.auth).set('Accept', TAXII);
    expect(versionsFr.status).to.equal(404);
    expect(ids(await poll(s, w.subFr, 'fr'))).to.deep.equal([red.id]);
    expect(ids(await poll(s, w.subDe, 'de'))).to.include(a.id);
    const log = (await s.store.readChanges(w.fr.id, 0, 100)).items.at(-1)!;
    expect(log).to.include({ type: 'object.withdrawn', objectId: a.id, lastVersion: '2024-04-01T00:00:00.000Z', actorKind: 'desk' });

    // every decision is in the audit log
    const audit = await s.store.queryAudit({ action: 'curation.withdraw', limit: 10 });
    expect(audit).to.have.length(1);
    expect(audit[0]!.actor).to.equal('alice');
  });

  it('dry_run says what would be published, the references that would dangle and the new recipients, and writes nothing', async function () {
    const w = await world();
    const { s } = w;
    const identity = { type: 'identity', spec_version: '2.1', id: 'identity--0f8a1f6e-51e5-4a5e-9d35-2c1e5b0b8a11', created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z', name: 'ACME', identity_class: 'organization' };
    const a = { ...indicator({ name: 'A' }), created_by_ref: identity.id };
    await post(s, w.vendor, 'desk', 'intake', [identity, a]);
    const entries = (await queue(s, w.cur1, '?type=indicator')).body.entries as Array<{ id: string; rev: number }>;
    const dry = await decide(s, w.cur1, { action: 'approve', entries: entries.map((x) => ({ id: x.id, rev: x.rev })), targets: ['fr'], dry_run: true });
    expect(dry.status).to.equal(200);
    expect(dry.body.dry_run).to.equal(true);
    const fr = dry.body.targets[0];
    expect(fr.publish.map((p: { id: string }) => p.id)).to.deep.equal([a.id]);
    expect(fr.dangling_refs).to.deep.equal([identity.id]);
    expect(fr.new_recipients).to.deep.equal(['fr-police']);
    expect(ids(await poll(s, w.subFr, 'fr'))).to.deep.equal([]);
    // include_refs publishes the identity along
    const done = await decide(s, w.cur1, { action: 'approve', entries: entries.map((x) => ({ id: x.id, rev: x.rev })), targets: ['fr'], include_refs: true });
    expect(done.body.published).to.equal(2);
    expect(ids(await poll(s, w.subFr, 'fr'))).to.deep.equal([a.id, identity.id].sort());
  });

  it('auto-publish by intake policy, within release rules; a blocked entry waits for a curator', async function () {
    const w = await world();
    const { s } = w;
    const put = (path: string, body: unknown) => request(s.app).put(`/admin/v1/curation/rules/${path}`).set('Authorization', w.cur1.auth).set('Content-Type', JSON_TYPE).send(JSON.stringify(body));
    const policy = await put('desk/intake', { policy: { mode: 'auto-publish', rules: [{ targets: ['fr'], when: { organisations: ['acme-labs'], types: ['indicator'], no_warnings: true } }] } });
    expect(policy.status, JSON.stringify(policy.body)).to.equal(200);
    expect(policy.body.policy.rules[0].targets).to.deep.equal(['fr/published']);
    expect((await put('fr/published', { release: { forbidden_types: ['malware'], max_tlp: 'amber' } })).status).to.equal(200);
    expect((await put('fr/published', { policy: { mode: 'review' } })).status).to.equal(400);
    const ok = indicator({ name: 'auto' });
    const warned = { ...indicator({ name: 'warned' }), indicator_types: ['odd'] };
    const red = { ...indicator({ name: 'red' }), object_marking_refs: [RED] };
    await post(s, w.vendor, 'desk', 'intake', [ok, warned, red]);
    expect(ids(await poll(s, w.subFr, 'fr'))).to.deep.equal([ok.id]);
    const pending = (await queue(s, w.cur1, '?state=pending')).body.entries.map((x: { object_id: string }) => x.object_id).sort();
    expect(pending).to.deep.equal([warned.id, red.id].sort());
    const refused = await s.store.queryAudit({ action: 'curation.auto-publish', outcome: 'failure', limit: 10 });
    expect(refused.map((x) => String(x.detail?.refused))).to.satisfy((list: string[]) => list.some((r) => /red_recipients|max_tlp/.test(r)));
    const changes = await s.store.readChanges(w.fr.id, 0, 10);
    expect(changes.items.map((c) => c.actorKind)).to.deep.equal(['policy']);
  });

  it('answers bad input with a clear error, never a 500', async function () {
    const w = await world();
    const { s } = w;
    expect((await decide(s, w.cur1, { action: 'approve' })).status).to.equal(400);
    expect((await decide(s, w.cur1, { action: 'explode', entries: [] })).status).to.equal(400);
    expect((await decide(s, w.cur1, { action: 'approve', entries: [{ id: 'nope', rev: 1 }], targets: ['fr'] })).status).to.equal(404);
    expect((await queue(s, w.cur1, '?limit=0')).status).to.equal(400);
    expect((await queue(s, w.cur1, '?next=garbage')).status).to.equal(400);
    expect((await queue(s, w.cur1, '?colour=red')).status).to.equal(400);
    const res = await request(s.app).post('/admin/v1/curation/decisions').set('Authorization', w.cur1.auth).set('Content-Type', JSON_TYPE).send('{not json');
    expect(res.status).to.equal(400);
    expect((await request(s.app).get('/admin/v1/curation/queue').set('Authorization', 'Basic eDp5')).status).to.equal(401);
  });

  it('pages through the queue with a stable cursor, losing and repeating nothing', async function () {
    const w = await world();
    const { s } = w;
    const objects = Array.from({ length: 45 }, (_, i) => indicator({ name: `n${i}` }));
    await post(s, w.vendor, 'desk', 'intake', objects);
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await queue(s, w.cur1, `?limit=10${next ? `&next=${next}` : ''}`);
      expect(page.status).to.equal(200);
      seen.push(...page.body.entries.map((x: { object_id: string }) => x.object_id));
      next = page.body.next;
      if (page.body.more) expect(next).to.be.a('string');
    } while (next);
    expect(seen).to.have.length(45);
    expect(new Set(seen).size).to.equal(45);
    expect([...seen].sort()).to.deep.equal(objects.map((o) => o.id).sort());
  });

  it('lists newest first with order=desc across pages; a cursor is refused with the other order', async function () {
    const w = await world();
    const { s } = w;
    const objects = Array.from({ length: 25 }, (_, i) => indicator({ name: `n${i}` }));
    for (let i = 0; i < objects.length; i += 5) await post(s, w.vendor, 'desk', 'intake', objects.slice(i, i + 5));
    const walk = async (order: string, who = w.cur1) => {
      const seen: string[] = [];
      let next: string | undefined;
      do {
        const page = await queue(s, who, `?limit=4&order=${order}${next ? `&next=${next}` : ''}`);
        expect(page.status, JSON.stringify(page.body)).to.equal(200);
        seen.push(...page.body.entries.map((x: { object_id: string }) => x.object_id));
        next = page.body.next;
      } while (next);
      return seen;
    };
    expect(await walk('desc')).to.deep.equal(objects.map((o) => o.id).reverse());
    expect(await walk('asc')).to.deep.equal(objects.map((o) => o.id));
    const desc = (await queue(s, w.cur1, '?limit=4&order=desc')).body.next as string;
    const asc = (await queue(s, w.cur1, '?limit=4')).body.next as string;
    for (const [cursor, order] of [[desc, 'asc'], [desc, ''], [asc, 'desc']] as const) {
      const refused = await queue(s, w.cur1, `?limit=4&next=${cursor}${order ? `&order=${order}` : ''}`);
      expect(refused.status).to.equal(400);
      expect(refused.body.description).to.match(/continues a listing with order=(asc|desc)/);
    }
    // Intakes with different TLP caps for the caller (a curator of fr, outside the desk root, with a
    // read grant on one of them) are listed apart and merged: newest first still, across pages.
    const second = await s.collection('desk', { alias: 'intake-2', purpose: 'intake', title: 'Second intake' });
    await s.admin.grant({ collection: second.id, apiRoot: 'desk', account: w.vendor.name, read: false, write: true });
    await s.admin.grant({ collection: second.id, apiRoot: 'desk', account: w.frOnly.name, read: true, write: false, maxTlp: 'red' });
    const mixed = Array.from({ length: 6 }, (_, i) => indicator({ name: `m${i}` }));
    for (const [i, o] of mixed.entries()) await post(s, w.vendor, 'desk', i % 2 ? 'intake-2' : 'intake', [o]);
    const everything = [...objects, ...mixed].map((o) => o.id);
    expect(await walk('desc', w.frOnly)).to.deep.equal([...everything].reverse());
    expect(await walk('asc', w.frOnly)).to.deep.equal(everything);
    const bad = await queue(s, w.cur1, '?order=sideways');
    expect(bad.status).to.equal(400);
    expect(bad.body.description).to.match(/order must be one of asc, desc/);
  });

  it('counts submissions per vendor and UTC day over a bounded window, fully failed ones too, in the caller\'s scope', async function () {
    const w = await world();
    const { s } = w;
    const { admin } = s;
    await admin.addOrganisation({ name: 'globex', kind: 'vendor' });
    const globex = await s.account(['publisher'], 'globex-bot', { organisation: 'globex' });
    const intakeDe = await s.collection('desk', { alias: 'intake-de', purpose: 'intake', title: 'German intake' });
    await admin.grant({ collection: intakeDe.id, apiRoot: 'desk', account: globex.name, read: false, write: true });
    // Only de curators (and desk curators) see this intake: its policy names de as its only target.
    const rules = await request(s.app).put('/admin/v1/curation/rules/desk/intake-de').set('Authorization', w.cur1.auth).set('Content-Type', JSON_TYPE).send({ policy: { mode: 'review', targets: ['de'] } });
    expect(rules.status, JSON.stringify(rules.body)).to.equal(200);

    expect((await post(s, w.vendor, 'desk', 'intake', [indicator({ name: 'ok' })])).status).to.equal(202);
    const failed = await post(s, w.vendor, 'desk', 'intake', [{ ...indicator({ name: 'bad' }), pattern: "[ipv4-addr:value = '1.2.3.4'" }]);
    expect([failed.status, failed.body.success_count, failed.body.failure_count]).to.deep.equal([202, 0, 1]);
    // The queue has no entry of it: counted from the queue, it would be missing.
    expect((await queue(s, w.cur1, '?intake=desk/intake')).body.entries).to.have.length(1);
    expect((await post(s, globex, 'desk', 'intake-de', [indicator({ name: 'de' })])).status).to.equal(202);
    // A published collection is no intake: not counted.
    await admin.grant({ collection: w.fr.id, apiRoot: 'fr', account: w.vendor.name, read: false, write: true });
    expect((await post(s, w.vendor, 'fr', 'published', [indicator({ name: 'direct' })])).status).to.equal(202);
    // Earlier days, as the audit log has them: 3 and 20 days ago (UTC).
    const DAY = 86_400_000_000;
    const now = Date.now() * 1000;
    const today = now - (now % DAY);
    for (const ago of [3, 20]) await s.store.appendAudit({ at: today - ago * DAY + 5, actor: 'acme-bot', action: 'objects.add', outcome: 'success', target: w.intake.id, detail: {} });
    const dayOf = (ago: number) => new Date((today - ago * DAY) / 1000).toISOString().slice(0, 10);

    const stats = (who: TestAccount, q = '') => request(s.app).get(`/admin/v1/curation/stats${q}`).set('Authorization', who.auth);
    const all = await stats(w.cur1);
    expect(all.status).to.equal(200);
    expect(all.body.days).to.equal(14);
    expect(all.body.submissions_per_day).to.deep.equal([
      { day: dayOf(3), vendor: 'acme-labs', submissions: 1 },
      { day: dayOf(0), vendor: 'acme-labs', submissions: 2 },
      { day: dayOf(0), vendor: 'globex', submissions: 1 },
    ]);
    expect((await stats(w.cur1, '?days=30')).body.submissions_per_day[0]).to.deep.equal({ day: dayOf(20), vendor: 'acme-labs', submissions: 1 });
    expect((await stats(w.cur1, '?days=1')).body.submissions_per_day.map((d: { day: string }) => d.day)).to.deep.equal([dayOf(0), dayOf(0)]);
    // A curator of fr only does not see the de intake's submissions.
    const frOnly = await stats(w.frOnly);
    expect(frOnly.body.submissions_per_day).to.deep.equal([{ day: dayOf(3), vendor: 'acme-labs', submissions: 1 }, { day: dayOf(0), vendor: 'acme-labs', submissions: 2 }]);
    // A vendor sees its own submissions only, and none of the desk's figures.
    const own = await stats(globex);
    expect(own.status).to.equal(200);
    expect(own.body).to.deep.equal({ queues: [], decisions_per_curator: [], time_to_publish: [], days: 14, submissions_per_day: [{ day: dayOf(0), vendor: 'globex', submissions: 1 }] });
    expect((await stats(w.subFr)).status).to.equal(404);
    for (const q of ['?days=0', '?days=91', '?days=abc', '?days=1.5', '?days=7&days=8', '?weeks=2']) {
      const refused = await stats(w.cur1, q);
      expect(refused.status, q).to.equal(400);
      expect(refused.body.description, q).to.match(/days|weeks/);
    }
  });
});

// On a SQLite file, decisions selecting by submission or filter (or listing over 100 entries) are
// made by the decision thread (desk/decision-thread.ts) with its own connection; in memory, and on
// MongoDB, on the event loop. The MongoDB lane runs the suite above; this one is about SQLite files.
if (process.env.MERIDIAN_TEST_STORE !== 'mongo') {
  describe('the desk: large decisions made by the decision thread (SQLite file)', function () {
    this.timeout(60_000);
    let dir: string;
    let store: SqliteStore;
    const mainThreadDecisions: string[] = [];
    const original = SqliteStore.prototype.applyDecision;

    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), 'meridian-desk-thread-'));
      store = new SqliteStore({ location: dir });
      // This thread's store only: the decision thread loads its own copy of the module.
      SqliteStore.prototype.applyDecision = function (plan) {
        mainThreadDecisions.push(plan.kind);
        return original.call(this, plan);
      };
      mainThreadDecisions.length = 0;
    });

    afterEach(async function () {
      SqliteStore.prototype.applyDecision = original;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('approves a whole submission there: published to every target, seen by the countries, and nothing decided on this thread', async function () {
      const w = await world(store, { decisionThreadNice: 12 });
      const objects = Array.from({ length: 150 }, (_, i) => indicator({ name: `bulk ${i}` }));
      const posted = await post(w.s, w.vendor, 'desk', 'intake', objects);
      expect(posted.body.success_count).to.equal(150);
      const approved = await decide(w.s, w.cur1, { action: 'approve', submission: posted.body.id, targets: ['fr', 'de'] });
      expect(approved.status).to.equal(201);
      expect(approved.body).to.include({ action: 'approve', entries: 150, published: 300 });
      expect(approved.body.targets.map((t: { publish: unknown[] }) => t.publish.length)).to.deep.equal([150, 150]);
      const seen = await request(w.s.app).get('/de/collections/published/manifest/?limit=1000').set('Authorization', w.subDe.auth).set('Accept', TAXII);
      expect(seen.body.objects).to.have.length(150);
      // The same decision again: every entry is approved and published already; nothing is published twice.
      const again = await decide(w.s, w.cur1, { action: 'approve', submission: posted.body.id, targets: ['fr', 'de'] });
      expect(again.body.published).to.equal(0);
      expect(mainThreadDecisions).to.deep.equal([]);
      // A single entry is decided on this thread (no hop for one entry).
      const [one] = (await queue(w.s, w.cur1, '?state=approved&limit=1')).body.entries;
      expect((await decide(w.s, w.cur1, { action: 'reject', entries: [{ id: one.id, rev: one.rev }], reason: 'no' })).status).to.equal(409); // approved: not rejectable
      const single = indicator({ name: 'single' });
      await post(w.s, w.vendor, 'desk', 'intake', [single]);
      const [pending] = (await queue(w.s, w.cur1, '?state=pending')).body.entries;
      expect((await decide(w.s, w.cur1, { action: 'approve', entries: [{ id: pending.id, rev: pending.rev }], targets: ['fr'] })).status).to.equal(201);
      expect(mainThreadDecisions).to.deep.equal(['approve']);
      // Linux: the decision thread alone runs at the configured lower priority, the main thread as before.
      if (process.platform === 'linux') {
        const nice = (task: string) => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
        const tasks = readdirSync('/proc/self/task');
        expect(nice(String(process.pid))).to.equal(0);
        expect(tasks.filter((t) => nice(t) === 12)).to.have.length(1);
      }
    });

    it('answers its refusals as the event loop would: self-approval 403, a release rule 422 with the violations, a stale entry 409, a target outside the curator\'s roots 404', async function () {
      const w = await world(store);
      const red = Array.from({ length: 3 }, (_, i) => ({ ...indicator({ name: `red ${i}` }), object_marking_refs: [RED] }));
      const posted = await post(w.s, w.vendor, 'desk', 'intake', [...red, ...Array.from({ length: 120 }, (_, i) => indicator({ name: `n ${i}` }))]);
      const self = await decide(w.s, w.acmeCurator, { action: 'approve', submission: posted.body.id, targets: ['fr'] });
      expect(self.status).to.equal(403);
      expect(self.body.description).to.match(/your own organisation/);
      const redToDe = await decide(w.s, w.cur1, { action: 'approve', submission: posted.body.id, targets: ['de'] });
      expect(redToDe.status).to.equal(422);
      expect(redToDe.body.description).to.match(/red_recipients/);
      expect(redToDe.body.details.violations).to.have.length(3);
      const outside = await decide(w.s, w.frOnly, { action: 'approve', submission: posted.body.id, targets: ['de'] });
      expect(outside.status).to.equal(404);
      const entries = (await queue(w.s, w.cur1, '?limit=200')).body.entries as Array<{ id: string; rev: number }>;
      expect(entries).to.have.length(123);
      const stale = await decide(w.s, w.cur1, { action: 'reject', entries: entries.map((e, i) => ({ id: e.id, rev: i === 7 ? e.rev + 1 : e.rev })), reason: 'duplicates' });
      expect(stale.status).to.equal(409);
      expect(stale.body.details).to.deep.equal({ entry: entries[7]!.id, rev: entries[7]!.rev });
      // Nothing was written by the refused decisions.
      expect((await queue(w.s, w.cur1, '?state=pending&limit=200')).body.entries).to.have.length(123);
      expect(mainThreadDecisions).to.deep.equal([]);
    });
  });
}
