// Scale-out: two real `meridian serve` processes on one MongoDB store. Status resources,
// `next` tokens and failed-login counts work whichever process a request reaches; concurrent
// bursts to both get unique, increasing date_added and lose nothing; when MongoDB goes away both
// answer 503 (TAXII error, Retry-After) and /readyz says not ready, and they recover by themselves.
// MongoDB: a CongoDB stand-in of this file's own, in this process on 127.0.0.1 (a real TCP port),
// so that it can be stopped and restarted; a real one when MERIDIAN_TEST_MONGO_URL is set (then the
// outage test is skipped: the test cannot stop that server).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import request from 'supertest';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { Admin } from '../../server/admin/admin.js';
import { type MongoTarget, mongoTarget, startStandIn } from '../helpers/mongo.js';
import { type ServerProcess, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';
import { TAXII_TIMESTAMP, expectError, json } from '../helpers/taxii-schemas.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORD = 'two instances, long enough';

type Instance = ServerProcess & { name: string };

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('two meridian processes on one MongoDB store', function () {
  this.timeout(90_000);
  let target: MongoTarget;
  let uri: string;
  let dir: string;
  let a: Instance;
  let b: Instance;
  let collectionId: string;
  const auth = `Basic ${Buffer.from(`analyst:${PASSWORD}`).toString('base64')}`;
  const get = (i: Instance, p: string) => request(i.base).get(p).set('Accept', TAXII).set('Authorization', auth);
  const post = (i: Instance, objects: unknown[]) =>
    request(i.base).post(`/api1/collections/${collectionId}/objects/`).set('Accept', TAXII).set('Content-Type', TAXII).set('Authorization', auth).send(JSON.stringify({ objects }));

  /** Waits for a submission to complete (asking the other instance than the one that took it). */
  async function completed(i: Instance, statusId: string) {
    return until(`status ${statusId}`, async () => {
      const res = await get(i, `/api1/status/${statusId}/`);
      expect(res.status, res.text).to.equal(200);
      const body = json(res);
      return body.status === 'complete' ? body : undefined;
    });
  }

  /** Every manifest entry of the collection, following `next` and alternating the instances. */
  async function manifest(limit = 100) {
    const entries: Array<{ id: string; date_added: string; version: string }> = [];
    let query = `?limit=${limit}`;
    for (let page = 0; ; page++) {
      const res = await get(page % 2 ? a : b, `/api1/collections/${collectionId}/manifest/${query}`);
      expect(res.status, res.text).to.equal(200);
      const body = json(res);
      entries.push(...(body.objects ?? []));
      if (!body.more) return entries;
      query = `?next=${encodeURIComponent(body.next)}`;
      expect(page).to.be.below(200);
    }
  }

  before(async function () {
    const real = Boolean(process.env.MERIDIAN_TEST_MONGO_URL);
    target = real ? await mongoTarget() : await startStandIn();
    uri = target.processUri();
    console.log(`    two instances run against ${target.description}`);
    // Set up through a MongoStore in the test (the CLI on MERIDIAN_STORE is tested in cli-migrate).
    const store = new MongoStore({ uri, serverSelectionTimeoutMs: 2000, startupTimeoutMs: 10_000, ...target.storeOptions });
    try {
      const admin = new Admin(store, { name: 'test-operator' });
      await admin.addApiRoot({ path: 'api1', title: 'Shared root' });
      collectionId = (await admin.addCollection({ apiRoot: 'api1', title: 'Shared', alias: 'shared' })).id;
      await admin.addAccount({ name: 'analyst', password: PASSWORD });
      await admin.addAccount({ name: 'victim', password: PASSWORD });
      await admin.grant({ collection: collectionId, account: 'analyst', read: true, write: true });
    } finally {
      await store.close();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-two-'));
    const env = { MERIDIAN_STORE: uri, MERIDIAN_DATA_DIR: dir, MERIDIAN_LOG_LEVEL: 'info' };
    const named = async (name: string): Promise<Instance> => ({ ...(await startServer(env)), name });
    [a, b] = await Promise.all([named('A'), named('B')]);
  });

  after(async function () {
    await Promise.all([a, b].filter(Boolean).map((i) => stopServer(i.child)));
    if (!process.env.MERIDIAN_TEST_MONGO_URL) await target?.shutdown();
    else if (uri) {
      // A real MongoDB keeps what it is given: drop this test's database.
      const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
      await conn.dropDatabase();
      await conn.close();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a POST through A: its status read through B, its objects paged with `next` alternating B and A', async function () {
    const objects = Array.from({ length: 25 }, () => indicator());
    const res = await post(a, objects);
    expect(res.status, res.text).to.equal(202);
    const status = await completed(b, json(res).id);
    expect(status).to.include({ total_count: 25, success_count: 25, failure_count: 0, pending_count: 0 });
    const seen: string[] = [];
    let query = '?limit=10';
    for (let page = 0; ; page++) {
      const r = await get(page % 2 ? a : b, `/api1/collections/${collectionId}/objects/${query}`);
      expect(r.status, r.text).to.equal(200);
      const body = json(r);
      seen.push(...body.objects.map((o: { id: string }) => o.id));
      if (!body.more) break;
      query = `?next=${encodeURIComponent(body.next)}`;
    }
    expect(seen).to.deep.equal(objects.map((o) => o.id));
  });

  it('failed logins counted by one instance throttle the name on the other', async function () {
    const wrong = `Basic ${Buffer.from('victim:not the password at all').toString('base64')}`;
    for (let n = 0; n < 5; n++) {
      const r = await request(n % 2 ? a.base : b.base).get('/taxii2/').set('Accept', TAXII).set('Authorization', wrong);
      expect(r.status).to.equal(401);
    }
    const right = `Basic ${Buffer.from(`victim:${PASSWORD}`).toString('base64')}`;
    for (const i of [a, b]) {
      const r = await request(i.base).get('/taxii2/').set('Accept', TAXII).set('Authorization', right);
      expectError(r, 429, 'TAXII_ERR_RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
    }
  });

  it('concurrent bursts to both instances: every object stored once, date_added unique and increasing in page order', async function () {
    const before = (await manifest()).length;
    const bursts = Array.from({ length: 12 }, () => Array.from({ length: 20 }, () => indicator()));
    const responses = await Promise.all(bursts.map((objects, n) => post(n % 2 ? a : b, objects)));
    for (const r of responses) expect(r.status, r.text).to.equal(202);
    const statuses = await Promise.all(responses.map((r, n) => completed(n % 2 ? b : a, json(r).id)));
    for (const s of statuses) expect(s).to.include({ success_count: 20, failure_count: 0 });

    const entries = await manifest(50);
    expect(entries.length).to.equal(before + 240);
    const added = entries.map((e) => e.date_added);
    for (const d of added) expect(d).to.match(TAXII_TIMESTAMP);
    expect(new Set(added).size, 'date_added unique').to.equal(added.length);
    const ms = added.map((d) => d.replace(/Z$/, '').padEnd(26, '0'));
    for (let n = 1; n < ms.length; n++) expect(ms[n]! > ms[n - 1]!, `date_added increasing at ${n}: ${added[n - 1]} then ${added[n]}`).to.equal(true);
    const ids = new Set(entries.map((e) => e.id));
    for (const objects of bursts) for (const o of objects) expect(ids.has(o.id), `${o.id} stored`).to.equal(true);
  });

  it('MongoDB away: both answer 503 with Retry-After and /readyz says not ready; it comes back: they recover, nothing acknowledged lost', async function () {
    if (!target.outage) {
      console.log('      (skipped: the outage needs the in-process stand-in; MERIDIAN_TEST_MONGO_URL points at a server this test cannot stop)');
      this.skip();
    }
    const stored = (await manifest()).length;
    for (const i of [a, b]) expect((await request(i.base).get('/readyz')).body).to.include({ status: 'ready', store: 'mongodb' });

    await target.outage!.stop();
    try {
      for (const i of [a, b]) {
        const r = await get(i, `/api1/collections/${collectionId}/objects/`);
        expectError(r, 503, 'TAXII_ERR_UNAVAILABLE');
        expect(r.headers['retry-after']).to.equal('5');
        const p = await post(i, [indicator()]);
        expectError(p, 503, 'TAXII_ERR_UNAVAILABLE');
        const ready = await request(i.base).get('/readyz');
        expect(ready.status).to.equal(503);
        expect(ready.headers['content-type']).to.match(/^application\/json/);
        expect(ready.body).to.include({ status: 'not ready', store: 'mongodb' });
      }
    } finally {
      await target.outage!.start(); // same port: the drivers find it again by themselves
    }
    for (const i of [a, b]) {
      await until(`${i.name} ready again`, async () => ((await request(i.base).get('/readyz')).status === 200 ? true : undefined));
      const r = await until(`${i.name} serving again`, async () => {
        const res = await get(i, `/api1/collections/${collectionId}/objects/?limit=1`);
        return res.status === 200 ? res : undefined;
      });
      expect(json(r).objects).to.have.length(1);
    }
    const res = await post(b, [indicator()]);
    expect(res.status, res.text).to.equal(202);
    await completed(a, json(res).id);
    expect((await manifest()).length).to.equal(stored + 1);
    for (const i of [a, b]) expect(i.log()).to.match(/MongoDB connection lost|MongoDB is not reachable/);
  });
});
