// /admin/v1/subscriptions (docs/webhooks.md): who may manage which subscription (own organisation,
// another organisation, admin, vendor, nobody), what is refused with a clear 4xx, secrets shown
// once and never logged, and a test delivery verified by the standardwebhooks package.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { type Receiver, type TestCa, makeCa, startReceiver } from '../helpers/webhook-receiver.js';
import { type TestAccount, TAXII, indicator, testServer } from '../helpers/server.js';

const JSON_TYPE = 'application/json';

describe('webhook subscriptions API', function () {
  this.timeout(30_000);
  let dir: string;
  let ca: TestCa;
  let receiver: Receiver;
  let s: Awaited<ReturnType<typeof testServer>>;
  let admin: TestAccount;
  let fr: TestAccount;
  let fr2: TestAccount;
  let de: TestAccount;
  let vendor: TestAccount;
  let loner: TestAccount;
  let frPub: string;
  let dePub: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-webhooks-http-'));
    ca = makeCa(dir);
    receiver = await startReceiver(ca);
  });
  after(async function () {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async function () {
    s = await testServer({ webhookAllowTargets: '127.0.0.1', webhookCaFile: ca.caFile });
    await s.admin.addApiRoot({ path: 'fr', title: 'France', country: 'fr' });
    await s.admin.addApiRoot({ path: 'de', title: 'Germany', country: 'de' });
    await s.admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
    await s.admin.addOrganisation({ name: 'de-police', kind: 'member-agency', country: 'de' });
    await s.admin.addOrganisation({ name: 'acme-labs', kind: 'vendor' });
    frPub = (await s.admin.addCollection({ apiRoot: 'fr', title: 'Published', alias: 'published' })).id;
    dePub = (await s.admin.addCollection({ apiRoot: 'de', title: 'Published', alias: 'published' })).id;
    await s.admin.grant({ collection: frPub, organisation: 'fr-police', read: true, write: false });
    await s.admin.grant({ collection: dePub, organisation: 'de-police', read: true, write: false });
    admin = await s.account(['admin'], 'root-admin');
    fr = await s.account(['subscriber'], 'fr-analyst', { organisation: 'fr-police' });
    fr2 = await s.account(['subscriber'], 'fr-analyst-2', { organisation: 'fr-police' });
    de = await s.account(['subscriber'], 'de-analyst', { organisation: 'de-police' });
    vendor = await s.account(['publisher'], 'acme-bot', { organisation: 'acme-labs' });
    loner = await s.account(['subscriber'], 'no-org');
  });

  const create = (who: TestAccount, body: unknown) => request(s.app).post('/admin/v1/subscriptions').set('Authorization', who.auth).set('Content-Type', JSON_TYPE).send(JSON.stringify(body));

  it('an organisation creates its own subscription; the secret is shown once, never listed, never logged', async function () {
    const res = await create(fr, { url: receiver.url, collections: ['fr/published'], description: 'SIEM' });
    expect(res.status, res.text).to.equal(201);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.secret).to.match(/^whsec_[A-Za-z0-9+/=]{44}$/);
    expect(res.body).to.include({ organisation: 'fr-police', url: receiver.url, state: 'enabled' });
    expect(res.body.collections).to.deep.equal([frPub]);
    expect(res.body.event_types).to.deep.equal(['object.published', 'object.updated', 'object.revoked', 'object.withdrawn']);
    const got = await request(s.app).get(`/admin/v1/subscriptions/${res.body.id}`).set('Authorization', fr2.auth);
    expect(got.status).to.equal(200);
    expect(got.body).to.not.have.property('secret');
    const listed = await request(s.app).get('/admin/v1/subscriptions').set('Authorization', fr.auth);
    expect(JSON.stringify(listed.body)).to.not.include(res.body.secret);
    const rotated = await request(s.app).post(`/admin/v1/subscriptions/${res.body.id}/rotate-secret`).set('Authorization', fr.auth);
    expect(rotated.status).to.equal(200);
    expect(rotated.body.secret).to.match(/^whsec_/).and.not.equal(res.body.secret);
    expect(rotated.body.previous_secret_until).to.be.a('string');
    const secret = res.body.secret as string;
    const stored = JSON.stringify(await s.store.webhooks.getSubscription(res.body.id));
    expect(stored).to.not.include(secret.slice(6)); // encrypted at rest
    const audit = JSON.stringify(await s.store.queryAudit({ limit: 1000 }));
    expect(audit).to.include('subscription.create').and.include('subscription.rotate-secret');
    for (const text of [audit, s.logs.join('')]) {
      expect(text).to.not.include(secret.slice(6));
      expect(text).to.not.include((rotated.body.secret as string).slice(6));
    }
  });

  it('authorisation matrix: own organisation, another organisation, admin, vendor, no organisation', async function () {
    const mine = (await create(fr, { url: receiver.url, collections: [frPub] })).body.id as string;
    const paths: Array<[string, string, unknown?]> = [
      ['get', `/admin/v1/subscriptions/${mine}`],
      ['patch', `/admin/v1/subscriptions/${mine}`, { description: 'x' }],
      ['post', `/admin/v1/subscriptions/${mine}/disable`, {}],
      ['post', `/admin/v1/subscriptions/${mine}/enable`, {}],
      ['post', `/admin/v1/subscriptions/${mine}/rotate-secret`, {}],
      ['get', `/admin/v1/subscriptions/${mine}/deliveries`],
      ['post', `/admin/v1/subscriptions/${mine}/redeliver`, { from: '2020-01-01T00:00:00Z' }],
    ];
    const call = (who: TestAccount, [method, url, body]: [string, string, unknown?]) => {
      const r = (request(s.app) as any)[method](url).set('Authorization', who.auth);
      return body === undefined ? r : r.set('Content-Type', JSON_TYPE).send(JSON.stringify(body));
    };
    for (const p of paths) {
      expect((await call(fr2, p)).status, `own organisation ${p[0]} ${p[1]}`).to.equal(200);
      expect((await call(admin, p)).status, `admin ${p[0]} ${p[1]}`).to.equal(200);
      for (const other of [de, vendor, loner]) {
        const res = await call(other, p);
        expect(res.status, `${other.name} ${p[0]} ${p[1]}`).to.equal(404);
        expect(res.body.error_code).to.equal('TAXII_ERR_NOT_FOUND');
      }
    }
    expect((await request(s.app).delete(`/admin/v1/subscriptions/${mine}`).set('Authorization', de.auth)).status).to.equal(404);
    expect((await request(s.app).get('/admin/v1/subscriptions').set('Authorization', loner.auth)).status).to.equal(404);
    expect((await request(s.app).get('/admin/v1/subscriptions')).status).to.equal(401);
    expect((await request(s.app).get('/admin/v1/subscriptions').set('Authorization', de.auth)).body.subscriptions).to.deep.equal([]);
    expect((await request(s.app).get('/admin/v1/subscriptions').set('Authorization', admin.auth)).body.subscriptions).to.have.length(1);
    // Another country's collection, an intake, or one never granted: one answer, no probing.
    expect((await create(de, { url: receiver.url, collections: ['fr/published'] })).body.description).to.match(/no published collection "fr\/published" that de-police can read/);
    expect((await create(de, { url: receiver.url, collections: ['nope'] })).body.description).to.match(/no published collection "nope"/);
    // An admin names the organisation; others cannot act for another one.
    expect((await create(admin, { url: receiver.url, collections: [dePub] })).status).to.equal(400);
    expect((await create(admin, { url: receiver.url, collections: [dePub], organisation: 'de-police' })).status).to.equal(201);
    expect((await create(fr, { url: receiver.url, collections: [frPub], organisation: 'de-police' })).status).to.equal(404);
    expect((await request(s.app).delete(`/admin/v1/subscriptions/${mine}`).set('Authorization', fr.auth)).status).to.equal(204);
  });

  it('vendors subscribe to curation events of their own submissions; member agencies cannot', async function () {
    const ok = await create(vendor, { url: receiver.url, event_types: ['curation.approved', 'curation.rejected', 'curation.changes_requested', 'curation.withdrawn'] });
    expect(ok.status, ok.text).to.equal(201);
    expect(ok.body.collections).to.deep.equal([]);
    const no = await create(fr, { url: receiver.url, event_types: ['curation.approved'] });
    expect(no.status).to.equal(400);
    expect(no.body.description).to.match(/not a vendor/);
  });

  it('bad input is a clear 400 (never a 500): URL rules, unknown fields, bad JSON, bad types, bad query', async function () {
    const cases: Array<[unknown, RegExp]> = [
      [{ url: 'http://hooks.example.com/x', collections: [frPub] }, /https/],
      [{ url: 'https://169.254.169.254/latest', collections: [frPub] }, /private, loopback/],
      [{ url: 'https://10.0.0.5/x', collections: [frPub] }, /private, loopback/],
      [{ url: 'https://localhost/x', collections: [frPub] }, /internal/],
      [{ url: 'https://u:p@hooks.example.com/', collections: [frPub] }, /credentials/],
      [{ url: 'not a url', collections: [frPub] }, /not a valid/],
      [{ url: receiver.url, collections: [frPub], colour: 'blue' }, /unknown property "colour"/],
      [{ url: receiver.url, collections: [frPub], event_types: ['object.exploded'] }, /must be one of/],
      [{ url: receiver.url }, /object events need at least one published collection/],
      [{ url: receiver.url, collections: [frPub], max_tlp: 'purple' }, /must be one of/],
      [{ url: receiver.url, collections: [frPub], secret: 'hunter2' }, /whsec_/],
      [{ collections: [frPub] }, /must have required property 'url'/],
    ];
    for (const [body, why] of cases) {
      const res = await create(fr, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.description, JSON.stringify(body)).to.match(why);
    }
    const bad = await request(s.app).post('/admin/v1/subscriptions').set('Authorization', fr.auth).set('Content-Type', JSON_TYPE).send('{"url":');
    expect(bad.status).to.equal(400);
    expect(bad.body.error_code).to.equal('TAXII_ERR_BAD_JSON');
    const wrongType = await request(s.app).post('/admin/v1/subscriptions').set('Authorization', fr.auth).set('Content-Type', 'text/plain').send('x');
    expect(wrongType.status).to.equal(415);
    const id = (await create(fr, { url: receiver.url, collections: [frPub] })).body.id as string;
    expect((await request(s.app).get(`/admin/v1/subscriptions/${id}/deliveries?limit=0`).set('Authorization', fr.auth)).status).to.equal(400);
    expect((await request(s.app).get(`/admin/v1/subscriptions/${id}/deliveries?before=yesterday`).set('Authorization', fr.auth)).status).to.equal(400);
    expect((await request(s.app).get(`/admin/v1/subscriptions/${id}/deliveries?x=1`).set('Authorization', fr.auth)).status).to.equal(400);
    const both = await request(s.app).post(`/admin/v1/subscriptions/${id}/redeliver`).set('Authorization', fr.auth).set('Content-Type', JSON_TYPE).send('{"delivery":"a","from":"2020-01-01T00:00:00Z"}');
    expect(both.status).to.equal(400);
    expect((await request(s.app).post(`/admin/v1/subscriptions/${id}/redeliver`).set('Authorization', fr.auth).set('Content-Type', JSON_TYPE).send('{"delivery":"nope"}')).status).to.equal(404);
    expect((await request(s.app).patch(`/admin/v1/subscriptions/${id}`).set('Authorization', fr.auth).set('Content-Type', JSON_TYPE).send('{}')).status).to.equal(400);
    expect((await request(s.app).get('/admin/v1/subscriptions/no-such-id').set('Authorization', admin.auth)).status).to.equal(404);
  });

  it('a test delivery is signed per Standard Webhooks (verified by the standardwebhooks package) and logged', async function () {
    const created = await create(fr, { url: receiver.url, collections: [frPub] });
    receiver.secrets = [created.body.secret];
    receiver.received.length = 0;
    const res = await request(s.app).post(`/admin/v1/subscriptions/${created.body.id}/test`).set('Authorization', fr.auth);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ success: true, status_code: 204 });
    expect(receiver.received).to.have.length(1);
    const got = receiver.received[0]!;
    expect(got.verified).to.equal(true);
    expect(got.payload.type).to.equal('webhook.test');
    expect(got.id).to.match(/^test_/);
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).to.be.below(30);
    const log = await request(s.app).get(`/admin/v1/subscriptions/${created.body.id}/deliveries`).set('Authorization', fr.auth);
    expect(log.body.deliveries[0]).to.include({ webhook_id: got.id, kind: 'test', outcome: 'success', status_code: 204, attempt: 1 });
    expect(log.body.deliveries[0].duration_ms).to.be.a('number');
    // Rotation: both secrets sign for a day, so a receiver still on the old one verifies.
    const rotated = await request(s.app).post(`/admin/v1/subscriptions/${created.body.id}/rotate-secret`).set('Authorization', fr.auth);
    receiver.secrets = [created.body.secret];
    await request(s.app).post(`/admin/v1/subscriptions/${created.body.id}/test`).set('Authorization', fr.auth);
    receiver.secrets = [rotated.body.secret];
    await request(s.app).post(`/admin/v1/subscriptions/${created.body.id}/test`).set('Authorization', fr.auth);
    expect(receiver.received.slice(1).map((r) => r.verified)).to.deep.equal([true, true]);
    expect(receiver.received[1]!.signature.split(' ')).to.have.length(2);
  });

  it('tells a subscription behind the change log\'s retention to resync, once, then delivers what follows', async function () {
    const created = await create(fr, { url: receiver.url, collections: [frPub] });
    expect(created.status, created.text).to.equal(201);
    receiver.secrets = [created.body.secret];
    receiver.received.length = 0;
    const post = (o: unknown) => request(s.app).post('/fr/collections/published/objects/').set('Authorization', admin.auth).set('Accept', TAXII).set('Content-Type', TAXII).send(JSON.stringify({ objects: [o] }));
    const dropped = indicator({ name: 'dropped before delivery' });
    const kept = indicator({ name: 'after the purge' });
    expect((await post(dropped)).body.success_count).to.equal(1);
    await s.store.purgeChanges(Date.now() * 1000 + 1000);
    expect((await post(kept)).body.success_count).to.equal(1);
    s.webhooks.worker.start();
    try {
      const deadline = Date.now() + 10_000;
      while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await s.webhooks.worker.stop();
    }
    expect(receiver.received.map((r) => r.payload.type)).to.deep.equal(['collection.resync', 'object.published']);
    expect(receiver.received.every((r) => r.verified)).to.equal(true);
    expect(receiver.received[0]!.id).to.match(/^resync_/);
    expect((receiver.received[1]!.payload.data as { object: { id: string } }).object.id).to.equal(kept.id);
  });
});
