// The change feed (GET …/changes/) and the live stream (the same URL as text/event-stream): one
// change log, one cursor, one access check. Changes are made through the desk (publish, update,
// revoke, withdraw) and read as a subscriber of each country would. The stream is read with the
// `eventsource` package, a real SSE client (WHATWG HTML §9.2). Runs on both stores.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import request from 'supertest';
import { TLP2_IDS } from 'stix2-validator-ts/markings';
import { type TestAccount, TAXII, indicator, testServer } from '../helpers/server.js';

type S = Awaited<ReturnType<typeof testServer>>;

async function world(overrides: Parameters<typeof testServer>[0] = {}) {
  const s = await testServer(overrides);
  const { admin } = s;
  for (const [path, country] of [['desk', undefined], ['fr', 'fr'], ['de', 'de']] as const) await admin.addApiRoot({ path, title: path, ...(country ? { country } : {}) });
  await admin.addOrganisation({ name: 'acme-labs', kind: 'vendor' });
  await admin.addOrganisation({ name: 'interpol-desk', kind: 'desk' });
  await admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
  await admin.addOrganisation({ name: 'de-police', kind: 'member-agency', country: 'de' });
  const intake = await s.collection('desk', { alias: 'intake', purpose: 'intake' });
  const fr = await s.collection('fr', { alias: 'published' });
  const de = await s.collection('de', { alias: 'published' });
  const vendor = await s.account(['publisher'], 'acme-bot', { organisation: 'acme-labs' });
  const curator = await s.account(['curator'], 'alice', { organisation: 'interpol-desk', curatorRoots: ['desk', 'fr', 'de'] });
  const subFr = await s.account(['subscriber'], 'fr-analyst', { organisation: 'fr-police' });
  const subDe = await s.account(['subscriber'], 'de-analyst', { organisation: 'de-police' });
  await admin.grant({ collection: intake.id, apiRoot: 'desk', account: vendor.name, read: false, write: true });
  await admin.grant({ collection: fr.id, apiRoot: 'fr', organisation: 'fr-police', read: true, write: false, maxTlp: 'green' });
  await admin.grant({ collection: de.id, apiRoot: 'de', organisation: 'de-police', read: true, write: false });
  return { s, intake, fr, de, vendor, curator, subFr, subDe };
}

type W = Awaited<ReturnType<typeof world>>;

/** A vendor post to the intake, approved by the curator to the targets; returns the object. */
async function publish(w: W, object: Record<string, unknown>, targets: string[]) {
  const post = await request(w.s.app).post('/desk/collections/intake/objects/').set('Authorization', w.vendor.auth).set('Accept', TAXII).set('Content-Type', TAXII).send(JSON.stringify({ objects: [object] }));
  expect(post.body.success_count, JSON.stringify(post.body)).to.equal(1);
  const queue = await request(w.s.app).get(`/admin/v1/curation/queue?object=${String(object.id)}&state=pending`).set('Authorization', w.curator.auth);
  const entry = queue.body.entries.at(-1);
  if (!entry) return object; // published by policy (a revocation)
  const done = await request(w.s.app).post('/admin/v1/curation/decisions').set('Authorization', w.curator.auth).set('Content-Type', 'application/json')
    .send({ action: 'approve', entries: [{ id: entry.id, rev: entry.rev }], targets });
  expect(done.status, JSON.stringify(done.body)).to.equal(201);
  return object;
}

function feed(s: S, who: TestAccount, root: string, query = '') {
  return request(s.app).get(`/${root}/collections/published/changes/${query}`).set('Authorization', who.auth).set('Accept', TAXII);
}

const summary = (changes: Array<{ type: string; object: { id: string } }> = []) => changes.map((c) => `${c.type} ${c.object.id}`);

describe('change feed and live stream (an extension of TAXII 2.1 §5)', function () {
  this.timeout(30_000);

  it('lists publications, updates, revocations and withdrawals in order, with TAXII paging and headers', async function () {
    const w = await world();
    const a = await publish(w, indicator({ name: 'a' }), ['fr', 'de']);
    const b = await publish(w, indicator({ name: 'b' }), ['de']);
    await publish(w, { ...a, modified: '2024-02-01T00:00:00.000Z', name: 'a2' }, ['de']);
    await publish(w, { ...a, modified: '2024-03-01T00:00:00.000Z', revoked: true }, []);
    const withdrawn = await request(w.s.app).post('/admin/v1/curation/decisions').set('Authorization', w.curator.auth).set('Content-Type', 'application/json')
      .send({ action: 'withdraw', object_id: b.id, targets: ['de'], reason_code: 'false_positive', reason: 'sinkhole' });
    expect(withdrawn.status).to.equal(201);

    const de = await feed(w.s, w.subDe, 'de');
    expect(de.status).to.equal(200);
    expect(de.headers['content-type']).to.equal(TAXII);
    expect(summary(de.body.changes)).to.deep.equal([
      `object.published ${a.id}`, `object.published ${b.id}`, `object.updated ${a.id}`, `object.revoked ${a.id}`, `object.withdrawn ${b.id}`,
    ]);
    const last = de.body.changes.at(-1);
    expect(last).to.include({ type: 'object.withdrawn', actor: 'desk', last_version: '2024-01-01T00:00:00.000Z' });
    expect(last.reason).to.match(/false_positive: sinkhole/);
    expect(de.body.changes[3].actor).to.equal('policy');
    expect(de.headers['x-taxii-date-added-first']).to.equal(de.body.changes[0].date_added);
    expect(de.headers['x-taxii-date-added-last']).to.equal(last.date_added);
    expect(de.body.changes[0].date_added).to.match(/\.\d{6}Z$/);

    // paging: limit + next, and added_after = X-TAXII-Date-Added-Last, lose and repeat nothing
    const ids: string[] = [];
    let next: string | undefined;
    do {
      const page = await feed(w.s, w.subDe, 'de', `?limit=2${next ? `&next=${encodeURIComponent(next)}` : ''}`);
      ids.push(...page.body.changes.map((c: { id: string }) => c.id));
      next = page.body.next;
      if (page.body.more) expect(next).to.be.a('string');
    } while (next);
    expect(ids).to.deep.equal(de.body.changes.map((c: { id: string }) => c.id));
    const after = await feed(w.s, w.subDe, 'de', `?added_after=${de.body.changes[1].date_added}`);
    expect(after.body.changes.map((c: { id: string }) => c.id)).to.deep.equal(ids.slice(2));
    const empty = await feed(w.s, w.subDe, 'de', `?added_after=${last.date_added}`);
    expect(empty.body).to.deep.equal({ more: false });
    expect(empty.headers['x-taxii-date-added-last']).to.equal(last.date_added);

    // filters: change types and object types
    expect(summary((await feed(w.s, w.subDe, 'de', '?types=object.withdrawn,object.revoked')).body.changes)).to.deep.equal([`object.revoked ${a.id}`, `object.withdrawn ${b.id}`]);
    expect((await feed(w.s, w.subDe, 'de', '?match[type]=malware')).body).to.deep.equal({ more: false });
    expect((await feed(w.s, w.subDe, 'de', '?types=object.exploded')).status).to.equal(400);
    expect((await feed(w.s, w.subDe, 'de', '?limit=0')).status).to.equal(400);
    expect((await feed(w.s, w.subDe, 'de', '?next=forged')).status).to.equal(400);

    // another country's feed does not exist for a subscriber; nor does an intake's
    expect((await feed(w.s, w.subDe, 'fr')).status).to.equal(404);
    expect((await request(w.s.app).get('/desk/collections/intake/changes/').set('Authorization', w.curator.auth).set('Accept', TAXII)).status).to.equal(404);
  });

  it('shows a subscriber only changes of objects under its TLP cap', async function () {
    const w = await world();
    const green = await publish(w, { ...indicator({ name: 'g' }), object_marking_refs: [TLP2_IDS.green!] }, ['fr']);
    await publish(w, { ...indicator({ name: 'amber' }), object_marking_refs: [TLP2_IDS.amber!] }, ['fr']);
    const fr = await feed(w.s, w.subFr, 'fr');
    expect(summary(fr.body.changes)).to.deep.equal([`object.published ${green.id}`]);
    const all = await feed(w.s, w.curator, 'fr');
    expect(all.body.changes).to.have.length(2);
  });

  it('tells a reader behind the retention to resync (410), with what to do', async function () {
    const w = await world();
    await publish(w, indicator({ name: 'old' }), ['de']);
    const first = await feed(w.s, w.subDe, 'de');
    const cursor = first.body.changes[0].date_added;
    await publish(w, indicator({ name: 'newer' }), ['de']);
    await w.s.store.purgeChanges(Date.now() * 1000 + 1_000_000);
    const behind = await feed(w.s, w.subDe, 'de', `?added_after=${cursor}`);
    expect(behind.status).to.equal(410);
    expect(behind.body.error_code).to.equal('TAXII_ERR_RESYNC');
    expect(behind.body.details.resync).to.equal(true);
    expect(behind.body.description).to.match(/Re-poll the collection's objects/);
  });

  describe('live stream (text/event-stream)', function () {
    let http: Server | undefined;
    const sources: EventSource[] = [];

    afterEach(async function () {
      for (const e of sources.splice(0)) e.close();
      await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
      http = undefined;
    });

    async function listen(w: W): Promise<string> {
      http = w.s.app.listen(0, '127.0.0.1');
      await new Promise((r) => http!.once('listening', r));
      return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    }

    function open(base: string, who: TestAccount, path: string, lastEventId?: string) {
      const es = new EventSource(`${base}${path}`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), Authorization: who.auth, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }),
      });
      sources.push(es);
      const events: Array<{ id: string; type: string; data: { object: { id: string } } }> = [];
      for (const type of ['object.published', 'object.updated', 'object.revoked', 'object.withdrawn']) {
        es.addEventListener(type, (e) => events.push({ id: e.lastEventId, type: e.type, data: JSON.parse(e.data) }));
      }
      return { es, events };
    }

    async function until(check: () => boolean, what: string, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    it('sends each change once, in order, as it happens; resumes after Last-Event-ID with exactly what was missed', async function () {
      const w = await world();
      const base = await listen(w);
      const first = open(base, w.subDe, '/de/collections/published/changes/');
      await until(() => first.es.readyState === EventSource.OPEN, 'the stream to open');
      const a = await publish(w, indicator({ name: 'a' }), ['de']);
      const b = await publish(w, indicator({ name: 'b' }), ['de', 'fr']);
      await until(() => first.events.length === 2, 'two events');
      expect(first.events.map((e) => `${e.type} ${e.data.object.id}`)).to.deep.equal([`object.published ${a.id}`, `object.published ${b.id}`]);
      const feedIds = (await feed(w.s, w.subDe, 'de')).body.changes.map((c: { id: string }) => c.id);
      expect(first.events.map((e) => e.id)).to.deep.equal(feedIds);
      first.es.close();

      // disconnected: two more changes; a reconnect with Last-Event-ID gets exactly those two
      const c = await publish(w, indicator({ name: 'c' }), ['de']);
      await publish(w, { ...c, modified: '2024-05-01T00:00:00.000Z', name: 'c2' }, ['de']);
      const resumed = open(base, w.subDe, '/de/collections/published/changes/', first.events.at(-1)!.id);
      await until(() => resumed.events.length === 2, 'the two missed events');
      await new Promise((r) => setTimeout(r, 300));
      expect(resumed.events.map((e) => e.type)).to.deep.equal(['object.published', 'object.updated']);
      expect(resumed.events.every((e) => e.data.object.id === c.id)).to.equal(true);
      // a browser passes the cursor in the query string instead
      const viaQuery = open(base, w.subDe, `/de/collections/published/changes/?last_event_id=${first.events[0]!.id}`);
      await until(() => viaQuery.events.length === 3, 'the events after the first');
    });

    it('hands streams of different rights and filters on one collection each exactly the events the feed shows them, in order', async function () {
      const w = await world();
      const base = await listen(w);
      // One watcher serves them all: a TLP cap (fr-police: green), no cap (the curator), change and object type filters.
      const readers = [
        { who: w.subFr, query: '' },
        { who: w.subFr, query: '?types=object.updated' },
        { who: w.curator, query: '' },
        { who: w.curator, query: '?match[type]=malware' },
        { who: w.curator, query: '?types=object.published,object.updated' },
      ].map((r) => ({ ...r, stream: open(base, r.who, `/fr/collections/published/changes/${r.query}`) }));
      await until(() => readers.every((r) => r.stream.es.readyState === EventSource.OPEN), 'the streams to open');
      const green = await publish(w, { ...indicator({ name: 'g' }), object_marking_refs: [TLP2_IDS.green!] }, ['fr']);
      await publish(w, { ...indicator({ name: 'amber' }), object_marking_refs: [TLP2_IDS.amber!] }, ['fr']);
      await publish(w, { ...green, modified: '2024-06-01T00:00:00.000Z', name: 'g2' }, ['fr']);
      const expected = await Promise.all(readers.map(async (r) => ((await feed(w.s, r.who, 'fr', r.query)).body.changes ?? []).map((c: { id: string }) => c.id)));
      expect(expected.map((ids) => ids.length)).to.deep.equal([2, 1, 3, 0, 3]);
      await until(() => readers.every((r, i) => r.stream.events.length >= expected[i]!.length), 'every stream\'s events');
      await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
      expect(readers.map((r) => r.stream.events.map((e) => e.id))).to.deep.equal(expected);
    });

    it('closes the stream when the grant is revoked, and refuses what it may not open', async function () {
      const w = await world({ streamsPerAccount: 2 });
      const base = await listen(w);
      const s1 = open(base, w.subDe, '/de/collections/published/changes/');
      await until(() => s1.es.readyState === EventSource.OPEN, 'the stream to open');
      const s2 = open(base, w.subDe, '/de/collections/published/changes/');
      await until(() => s2.es.readyState === EventSource.OPEN, 'the second stream');
      // the per-account cap: a third gets 429 with Retry-After
      const third = await fetch(`${base}/de/collections/published/changes/`, { headers: { Authorization: w.subDe.auth, Accept: 'text/event-stream' } });
      expect(third.status).to.equal(429);
      expect(third.headers.get('retry-after')).to.equal('30');
      s2.es.close();
      // another country's stream, an unknown Last-Event-ID: refused before anything is streamed
      expect((await fetch(`${base}/fr/collections/published/changes/`, { headers: { Authorization: w.subDe.auth, Accept: 'text/event-stream' } })).status).to.equal(404);
      const unknown = await fetch(`${base}/de/collections/published/changes/`, { headers: { Authorization: w.subDe.auth, Accept: 'text/event-stream', 'Last-Event-ID': 'not-a-change' } });
      expect(unknown.status).to.equal(410);

      let closedByServer = false;
      s1.es.onerror = () => {
        closedByServer = true;
      };
      const grant = (await w.s.store.listGrants({ collectionId: w.de.id }))[0]!;
      await w.s.admin.removeGrant(grant.id);
      await publish(w, indicator({ name: 'after revocation' }), ['de']);
      await until(() => closedByServer, 'the server to end the stream');
      expect(s1.events).to.have.length(0);
    });
  });
});
