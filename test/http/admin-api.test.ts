// The admin REST API under /admin/v1/: every resource created, listed, read, updated and
// removed; validation errors that name the problem; the error resource shape as application/json;
// no password or key hash ever on the wire; curators scoped to their API roots; everyone else 404.
import { expect } from 'chai';
import request from 'supertest';
import { ERROR_CATALOGUE, type ErrorCode } from '../../taxii/errors.js';
import { type TestAccount, testServer } from '../helpers/server.js';
import { expectResource } from '../helpers/taxii-schemas.js';

type T = Awaited<ReturnType<typeof testServer>>;

interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** An admin API error: the §3.6.1 error resource shape, as application/json, with our code. */
export function expectAdminError(res: ResponseLike, status: number, code?: ErrorCode): any {
  expect(res.status, `status (body: ${res.text?.slice(0, 300)})`).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  const body = JSON.parse(res.text);
  expectResource('error', body);
  expect(body.http_status).to.equal(String(status));
  expect(ERROR_CATALOGUE[body.error_code as ErrorCode].status).to.equal(status);
  if (code) expect(body.error_code).to.equal(code);
  return body;
}

/** Nothing secret in a response: no scrypt hash, no key hash field, no password field. */
function expectNoSecrets(res: ResponseLike): void {
  expect(res.text).to.not.match(/scrypt\$/);
  expect(res.text).to.not.match(/"(password|password_hash|passwordHash|hash)"/);
}

function client(t: T) {
  const call = (method: 'get' | 'post' | 'patch' | 'delete', path: string, who: TestAccount | null, body?: unknown) => {
    const r = request(t.app)[method](`/admin/v1${path}`);
    if (who) r.set('Authorization', who.auth);
    if (body !== undefined) return r.set('Content-Type', 'application/json').send(JSON.stringify(body));
    return r;
  };
  return {
    get: (path: string, who: TestAccount | null) => call('get', path, who),
    post: (path: string, who: TestAccount | null, body: unknown) => call('post', path, who, body),
    patch: (path: string, who: TestAccount | null, body: unknown) => call('patch', path, who, body),
    del: (path: string, who: TestAccount | null) => call('delete', path, who),
  };
}

describe('admin API /admin/v1', () => {
  let t: T;
  let api: ReturnType<typeof client>;
  let admin: TestAccount;
  let curator: TestAccount;
  let nobody: TestAccount;

  before(async () => {
    t = await testServer();
    api = client(t);
    await t.admin.addApiRoot({ path: 'fr', title: 'France' });
    await t.admin.addApiRoot({ path: 'de', title: 'Germany' });
    admin = await t.account(['admin'], 'root-admin');
    curator = await t.account(['curator'], 'fr-curator', { curatorRoots: ['fr'] });
    nobody = await t.account(['subscriber'], 'plain-subscriber');
  });

  describe('organisations', () => {
    it('create (201), list, read, disable/enable (PATCH), delete (204), with audit entries', async () => {
      const created = await api.post('/organisations', admin, { name: 'fr-police', kind: 'member-agency', country: 'FR' });
      expect(created.status).to.equal(201);
      expect(created.headers['content-type']).to.match(/^application\/json/);
      expect(created.body).to.include({ name: 'fr-police', kind: 'member-agency', country: 'fr', disabled: false });
      expect((await api.get('/organisations', admin)).body.organisations.map((o: { name: string }) => o.name)).to.include('fr-police');
      expect((await api.get('/organisations/fr-police', admin)).body.name).to.equal('fr-police');
      expect((await api.patch('/organisations/fr-police', admin, { disabled: true })).body.disabled).to.equal(true);
      expect((await api.patch('/organisations/fr-police', admin, { disabled: false })).body.disabled).to.equal(false);
      expect((await api.del('/organisations/fr-police', admin)).status).to.equal(204);
      expectAdminError(await api.get('/organisations/fr-police', admin), 404, 'TAXII_ERR_NOT_FOUND');
      const audit = await t.store.queryAudit({ actor: 'root-admin', limit: 100 });
      expect(audit.map((e) => e.action)).to.include.members(['organisation.create', 'organisation.disable', 'organisation.enable', 'organisation.delete']);
    });

    it('validation: unknown kind, missing country, bad country, unknown property, duplicate (409), bad JSON, wrong content type', async () => {
      expect(expectAdminError(await api.post('/organisations', admin, { name: 'x', kind: 'bank' }), 400, 'TAXII_ERR_INVALID').description).to.match(/\/kind: must be one of member-agency, vendor, desk/);
      expect(expectAdminError(await api.post('/organisations', admin, { name: 'x', kind: 'member-agency' }), 400).description).to.match(/country/);
      expect(expectAdminError(await api.post('/organisations', admin, { name: 'x', kind: 'member-agency', country: 'xx' }), 400).description).to.match(/ISO 3166-1/);
      expect(expectAdminError(await api.post('/organisations', admin, { name: 'x', kind: 'vendor', colour: 'red' }), 400).description).to.match(/unknown property "colour"/);
      await api.post('/organisations', admin, { name: 'acme', kind: 'vendor' });
      expectAdminError(await api.post('/organisations', admin, { name: 'acme', kind: 'vendor' }), 409, 'TAXII_ERR_CONFLICT');
      const bad = await request(t.app).post('/admin/v1/organisations').set('Authorization', admin.auth).set('Content-Type', 'application/json').send('{"name":');
      expectAdminError(bad, 400, 'TAXII_ERR_BAD_JSON');
      const form = await request(t.app).post('/admin/v1/organisations').set('Authorization', admin.auth).set('Content-Type', 'text/plain').send('name=x');
      expectAdminError(form, 415, 'TAXII_ERR_UNSUPPORTED_MEDIA_TYPE');
      expectAdminError(await api.post('/organisations', admin, [1, 2]), 400, 'TAXII_ERR_INVALID');
    });

    it('an organisation that still has accounts cannot be deleted (409)', async () => {
      await api.post('/organisations', admin, { name: 'busy-org', kind: 'vendor' });
      await api.post('/accounts', admin, { name: 'busy-user', password: 'a long enough password', organisation: 'busy-org', roles: ['publisher'] });
      expectAdminError(await api.del('/organisations/busy-org', admin), 409, 'TAXII_ERR_CONFLICT');
    });
  });

  describe('accounts and API keys', () => {
    it('create, read, update, delete; never shows a password hash', async () => {
      await api.post('/organisations', admin, { name: 'de-bka', kind: 'member-agency', country: 'de' });
      const created = await api.post('/accounts', admin, { name: 'de-analyst', password: 'correct horse battery', roles: ['subscriber'], organisation: 'de-bka' });
      expect(created.status).to.equal(201);
      expectNoSecrets(created);
      expect(created.body).to.include({ name: 'de-analyst', organisation: 'de-bka', disabled: false });
      expect(created.body.roles).to.deep.equal(['subscriber']);
      for (const res of [await api.get('/accounts', admin), await api.get('/accounts/de-analyst', admin)]) {
        expect(res.status).to.equal(200);
        expectNoSecrets(res);
      }
      const updated = await api.patch('/accounts/de-analyst', admin, { roles: ['subscriber', 'publisher'], disabled: true, password: 'another long password' });
      expect(updated.status).to.equal(200);
      expectNoSecrets(updated);
      expect(updated.body).to.include({ disabled: true });
      expect(updated.body.roles).to.deep.equal(['subscriber', 'publisher']);
      expect((await api.del('/accounts/de-analyst', admin)).status).to.equal(204);
      expectAdminError(await api.get('/accounts/de-analyst', admin), 404);
      const audit = await t.store.queryAudit({ actor: 'root-admin', target: 'de-analyst', limit: 100 });
      expect(audit.map((e) => e.action)).to.deep.equal(['account.create', 'account.update', 'account.delete']);
      expect(JSON.stringify(audit)).to.not.include('another long password');
    });

    it('refuses short passwords, unknown roles, curator roots without the role, and a non-hash password_hash', async () => {
      expect(expectAdminError(await api.post('/accounts', admin, { name: 'short', password: 'short' }), 400).description).to.match(/at least 12/);
      expect(expectAdminError(await api.post('/accounts', admin, { name: 'r', password: 'long enough password', roles: ['king'] }), 400).description).to.match(/\/roles\/0: must be one of/);
      expect(expectAdminError(await api.post('/accounts', admin, { name: 'r', password: 'long enough password', curator_roots: ['fr'] }), 400).description).to.match(/curator role/);
      expect(expectAdminError(await api.post('/accounts', admin, { name: 'r', password_hash: 'plain text' }), 400).description).to.match(/scrypt hash/);
      expectAdminError(await api.post('/accounts', admin, { name: 'r', password: 'long enough password', organisation: 'no-such-org' }), 404);
    });

    it('API keys: the secret is returned once at creation, listed without it, revoked (204)', async () => {
      await api.post('/accounts', admin, { name: 'svc-feed', password: 'service password 1', roles: ['subscriber'] });
      const made = await api.post('/accounts/svc-feed/api-keys', admin, { name: 'siem', expires: '2099-01-01T00:00:00Z' });
      expect(made.status).to.equal(201);
      expect(made.headers['cache-control']).to.equal('no-store');
      expect(made.body.key).to.match(/^mrd_[0-9a-f]{16}_/);
      expect(made.body).to.include({ name: 'siem', expires: '2099-01-01T00:00:00.000000Z' });
      const listed = await api.get('/accounts/svc-feed/api-keys', admin);
      expect(listed.status).to.equal(200);
      expect(listed.text).to.not.include(made.body.key);
      expect(listed.text).to.not.include((await t.store.listApiKeys())[0]!.hash);
      expectNoSecrets(listed);
      expect(listed.body.api_keys).to.have.length(1);
      expect(listed.body.api_keys[0]).to.not.have.property('key');
      expect((await api.del(`/accounts/svc-feed/api-keys/${made.body.id}`, admin)).status).to.equal(204);
      expect((await api.get('/accounts/svc-feed/api-keys', admin)).body.api_keys[0].revoked).to.be.a('string');
      expectAdminError(await api.del('/accounts/svc-feed/api-keys/nope', admin), 404);
      expect(expectAdminError(await api.post('/accounts/svc-feed/api-keys', admin, { name: 'old', expires: '2001-01-01T00:00:00Z' }), 400).description).to.match(/future/);
      expect(expectAdminError(await api.post('/accounts/svc-feed/api-keys', admin, { name: 'bad', expires: 'tomorrow' }), 400).description).to.match(/RFC 3339/);
    });

    it('any account may manage its own API keys, and only its own (others are a 404)', async () => {
      const mine = await api.post(`/accounts/${nobody.name}/api-keys`, nobody, { name: 'laptop' });
      expect(mine.status).to.equal(201);
      expect((await api.get(`/accounts/${nobody.name}/api-keys`, nobody)).body.api_keys).to.have.length(1);
      expect((await api.del(`/accounts/${nobody.name}/api-keys/${mine.body.id}`, nobody)).status).to.equal(204);
      expectAdminError(await api.get(`/accounts/${admin.name}/api-keys`, nobody), 404);
      expectAdminError(await api.post(`/accounts/${admin.name}/api-keys`, nobody, { name: 'steal' }), 404);
      // A curator administers something, so it hears why: 403.
      expectAdminError(await api.get(`/accounts/${admin.name}/api-keys`, curator), 403, 'TAXII_ERR_FORBIDDEN');
    });
  });

  describe('API roots, collections and grants', () => {
    it('API roots: create (country from the two-letter path), read, update, refuse reserved and bad paths, delete', async () => {
      const it_ = await api.post('/api-roots', admin, { path: 'it', title: 'Italy', max_content_length: 1000 });
      expect(it_.status).to.equal(201);
      expect(it_.body).to.include({ path: 'it', country: 'it', title: 'Italy', max_content_length: 1000 });
      expect((await api.patch('/api-roots/it', admin, { title: 'Italia' })).body.title).to.equal('Italia');
      expect((await api.get('/api-roots/it', admin)).body.title).to.equal('Italia');
      expect(expectAdminError(await api.post('/api-roots', admin, { path: 'admin', title: 'x' }), 400).description).to.match(/reserved/);
      expect(expectAdminError(await api.post('/api-roots', admin, { path: 'zz', title: 'x' }), 400).description).to.match(/ISO 3166-1/);
      expect(expectAdminError(await api.post('/api-roots', admin, { path: 'ok', title: 'x', max_content_length: 0 }), 400).description).to.match(/max_content_length: must be >= 1/);
      expectAdminError(await api.post('/api-roots', admin, { path: 'it', title: 'again' }), 409);
      expect((await api.del('/api-roots/it', admin)).status).to.equal(204);
      expectAdminError(await api.get('/api-roots/it', admin), 404);
    });

    it('collections: create with purpose, alias and enrichment; read by id or alias; update; delete', async () => {
      const marking = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
      const made = await api.post('/collections', admin, { api_root: 'fr', title: 'FR intake', alias: 'intake', purpose: 'intake', enrichment: { default_marking_refs: [marking] } });
      expect(made.status).to.equal(201);
      expect(made.body).to.include({ api_root: 'fr', title: 'FR intake', alias: 'intake', purpose: 'intake' });
      expect(made.body.enrichment).to.deep.equal({ default_marking_refs: [marking] });
      expect((await api.get('/collections/intake?api_root=fr', admin)).body.id).to.equal(made.body.id);
      expect((await api.get(`/collections/${made.body.id}`, admin)).body.alias).to.equal('intake');
      expect((await api.get('/collections?api_root=fr', admin)).body.collections).to.have.length(1);
      expect((await api.patch(`/collections/${made.body.id}`, admin, { description: 'vendors write here' })).body.description).to.equal('vendors write here');
      expect(expectAdminError(await api.post('/collections', admin, { api_root: 'fr', title: 'x', purpose: 'archive' }), 400).description).to.match(/purpose: must be one of intake, published/);
      expect(expectAdminError(await api.post('/collections', admin, { api_root: 'fr', title: 'x', enrichment: { default_marking_refs: ['tlp:red'] } }), 400).description).to.match(/marking-definition/);
      expectAdminError(await api.post('/collections', admin, { api_root: 'fr', title: 'FR intake' }), 409);
      expectAdminError(await api.post('/collections', admin, { api_root: 'nowhere', title: 'x' }), 404);
      expect(expectAdminError(await api.get('/collections?colour=red', admin), 400).description).to.match(/unknown query parameter "colour"/);
      expectAdminError(await api.del('/api-roots/fr', admin), 409);
    });

    it('grants: to an account, an organisation, a role in one; TLP caps; update; delete; the tenancy rules', async () => {
      await api.post('/organisations', admin, { name: 'fr-police', kind: 'member-agency', country: 'fr' });
      await api.post('/accounts', admin, { name: 'fr-officer', password: 'fr officer password', roles: ['subscriber'], organisation: 'fr-police' });
      const pub = (await api.post('/collections', admin, { api_root: 'fr', title: 'FR published', alias: 'published' })).body;
      const g1 = await api.post('/grants', admin, { collection: 'published', api_root: 'fr', organisation: 'fr-police', role: 'subscriber', read: true, max_tlp: 'amber' });
      expect(g1.status).to.equal(201);
      expect(g1.body).to.include({ collection: pub.id, api_root: 'fr', organisation: 'fr-police', role: 'subscriber', read: true, write: false, max_tlp: 'amber' });
      const g2 = await api.post('/grants', admin, { collection: pub.id, account: 'fr-officer', read: true, max_tlp: 'red' });
      expect(g2.body).to.include({ account: 'fr-officer', max_tlp: 'red' });
      expect((await api.get(`/grants?collection=${pub.id}`, admin)).body.grants).to.have.length(2);
      expect((await api.get('/grants?account=fr-officer', admin)).body.grants).to.have.length(1);
      expect((await api.get(`/grants/${g1.body.id}`, admin)).body.max_tlp).to.equal('amber');
      const patched = await api.patch(`/grants/${g1.body.id}`, admin, { max_tlp: 'green' });
      expect(patched.status).to.equal(200);
      expect(patched.body).to.include({ id: g1.body.id, max_tlp: 'green', read: true });
      // Tenancy: a member agency never gets another country's root; subscribers never see intake.
      const deColl = (await api.post('/collections', admin, { api_root: 'de', title: 'DE published' })).body;
      expect(expectAdminError(await api.post('/grants', admin, { collection: deColl.id, organisation: 'fr-police', read: true }), 400).description).to.match(/member agency of fr/);
      expect(expectAdminError(await api.post('/grants', admin, { collection: 'intake', api_root: 'fr', account: 'fr-officer', read: true }), 400).description).to.match(/intake/);
      expect(expectAdminError(await api.post('/grants', admin, { collection: pub.id, account: 'fr-officer', organisation: 'fr-police', read: true }), 400).description).to.match(/exactly one/);
      expect(expectAdminError(await api.post('/grants', admin, { collection: pub.id, account: 'fr-officer' }), 400).description).to.match(/DELETE/);
      expect(expectAdminError(await api.post('/grants', admin, { collection: pub.id, account: 'fr-officer', read: true, max_tlp: 'purple' }), 400).description).to.match(/max_tlp: must be one of clear, green, amber, amber\+strict, red/);
      expect((await api.del(`/grants/${g2.body.id}`, admin)).status).to.equal(204);
      expectAdminError(await api.get(`/grants/${g2.body.id}`, admin), 404);
      const actions = (await t.store.queryAudit({ actor: 'root-admin', limit: 1000 })).map((e) => e.action);
      expect(actions).to.include.members(['grant.set', 'grant.delete']);
    });
  });

  describe('curators: the collections and grants of their API roots, nothing else', () => {
    it('may manage collections and grants in fr; other roots are 404; admin-only resources are 403', async () => {
      const made = await api.post('/collections', curator, { api_root: 'fr', title: 'Curated' });
      expect(made.status).to.equal(201);
      expect((await api.patch(`/collections/${made.body.id}`, curator, { description: 'ok' })).status).to.equal(200);
      const g = await api.post('/grants', curator, { collection: made.body.id, organisation: 'fr-police', read: true });
      expect(g.status).to.equal(201);
      expect((await api.get('/api-roots', curator)).body.api_roots.map((r: { path: string }) => r.path)).to.deep.equal(['fr']);
      const colls = (await api.get('/collections', curator)).body.collections as Array<{ api_root: string }>;
      expect(colls.length).to.be.greaterThan(0);
      expect(colls.every((c) => c.api_root === 'fr')).to.equal(true);
      const grants = (await api.get('/grants', curator)).body.grants as Array<{ api_root: string }>;
      expect(grants.every((x) => x.api_root === 'fr')).to.equal(true);
      // Another country's root and its collections do not exist for this curator.
      const de = (await t.admin.listCollections('de'))[0]!;
      const missing = expectAdminError(await api.get('/collections/00000000-0000-4000-8000-000000000000', curator), 404);
      const hidden = expectAdminError(await api.get(`/collections/${de.id}`, curator), 404);
      expect(Object.keys(hidden).sort()).to.deep.equal(Object.keys(missing).sort());
      expectAdminError(await api.get('/api-roots/de', curator), 404);
      expectAdminError(await api.post('/collections', curator, { api_root: 'de', title: 'nope' }), 403);
      expectAdminError(await api.del(`/collections/${de.id}`, curator), 404);
      for (const path of ['/organisations', '/accounts', '/audit']) expectAdminError(await api.get(path, curator), 403, 'TAXII_ERR_FORBIDDEN');
      expectAdminError(await api.post('/api-roots', curator, { path: 'es', title: 'Spain' }), 403);
      expect((await api.del(`/grants/${g.body.id}`, curator)).status).to.equal(204);
      expect((await api.del(`/collections/${made.body.id}`, curator)).status).to.equal(204);
    });
  });

  describe('grants by API root, and refused privileged requests in the audit log', () => {
    it('GET /grants?api_root=X lists the grants of that root only; an unknown root is a 404', async () => {
      await api.post('/organisations', admin, { name: 'de-police', kind: 'member-agency', country: 'de' });
      const frColl = (await api.post('/collections', admin, { api_root: 'fr', title: 'FR by root' })).body;
      const deColl = (await api.post('/collections', admin, { api_root: 'de', title: 'DE by root' })).body;
      await api.post('/grants', admin, { collection: deColl.id, organisation: 'de-police', read: true });
      await api.post('/grants', admin, { collection: frColl.id, account: curator.name, read: true });
      const fr = (await api.get('/grants?api_root=fr', admin)).body.grants as Array<{ api_root: string; collection: string }>;
      const de = (await api.get('/grants?api_root=de', admin)).body.grants as Array<{ api_root: string; collection: string }>;
      expect(fr.length).to.be.greaterThan(0);
      expect(de.length).to.be.greaterThan(0);
      expect(fr.every((g) => g.api_root === 'fr')).to.equal(true);
      expect(de.every((g) => g.api_root === 'de')).to.equal(true);
      expect(fr.map((g) => g.collection)).to.include(frColl.id);
      expect(de.map((g) => g.collection)).to.include(deColl.id);
      expectAdminError(await api.get('/grants?api_root=nowhere', admin), 404);
      // A curator of fr asking for de's grants: de does not exist for it.
      expectAdminError(await api.get('/grants?api_root=de', curator), 404);
      expect(((await api.get('/grants?api_root=fr', curator)).body.grants as unknown[]).length).to.equal(fr.length);
    });

    it('a curator making itself admin, widening its roots, or granting across the country fence is refused and audited', async () => {
      const before = await t.store.countAudit({ actor: curator.name, action: 'admin.refused' });
      expectAdminError(await api.patch(`/accounts/${curator.name}`, curator, { roles: ['curator', 'admin'] }), 403);
      expectAdminError(await api.patch(`/accounts/${curator.name}`, curator, { curator_roots: ['fr', 'de'] }), 403);
      await api.post('/organisations', admin, { name: 'de-agency', kind: 'member-agency', country: 'de' });
      const frColl = (await api.post('/collections', curator, { api_root: 'fr', title: 'FR fenced' })).body;
      expect(expectAdminError(await api.post('/grants', curator, { collection: frColl.id, organisation: 'de-agency', read: true }), 400).description).to.match(/member agency of de/);
      const refused = await t.store.queryAudit({ actor: curator.name, action: 'admin.refused', limit: 100 });
      expect(refused.length - before).to.equal(3);
      const last3 = refused.slice(-3);
      expect(last3.every((e) => e.outcome === 'failure' && typeof e.remote === 'string')).to.equal(true);
      expect(last3.map((e) => [e.target, e.detail?.method])).to.deep.equal([
        [`/admin/v1/accounts/${curator.name}`, 'PATCH'],
        [`/admin/v1/accounts/${curator.name}`, 'PATCH'],
        ['/admin/v1/grants', 'POST'],
      ]);
      expect(String(last3[2]!.detail?.reason)).to.match(/member agency of de/);
      // Mere mistakes (a bad value) are not refusals and are not audited as such.
      expectAdminError(await api.post('/collections', curator, { api_root: 'fr', title: 'x', purpose: 'archive' }), 400);
      expect(await t.store.countAudit({ actor: curator.name, action: 'admin.refused' })).to.equal(before + 3);
      // Admins read them like any event.
      const seen = (await api.get(`/audit?actor=${curator.name}&action=admin.refused`, admin)).body.events as unknown[];
      expect(seen.length).to.equal(before + 3);
    });
  });

  describe('everyone else', () => {
    it('a subscriber gets the same 404 for every admin path; anonymous callers a 401', async () => {
      const paths = ['/organisations', '/accounts', '/accounts/root-admin', '/api-roots', '/api-roots/fr', '/collections', '/grants', '/audit', '/nothing-here'];
      const bodies = new Set<string>();
      for (const path of paths) {
        const body = expectAdminError(await api.get(path, nobody), 404, 'TAXII_ERR_NOT_FOUND');
        delete body.error_id;
        bodies.add(JSON.stringify(body));
      }
      expect(bodies.size).to.equal(1);
      expectAdminError(await api.post('/organisations', nobody, { name: 'mine', kind: 'vendor' }), 404);
      const anon = await api.get('/organisations', null);
      expect(anon.status).to.equal(401);
      expect(anon.headers['www-authenticate']).to.match(/Basic/);
    });

    it('the admin API speaks JSON whatever the Accept header (no TAXII negotiation)', async () => {
      const res = await request(t.app).get('/admin/v1/api-roots').set('Authorization', admin.auth).set('Accept', 'application/json');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^application\/json/);
    });
  });

  describe('audit log', () => {
    it('GET /audit with filters and paging, admins only', async () => {
      const all = await api.get('/audit?actor=root-admin&outcome=success&limit=1000', admin);
      expect(all.status).to.equal(200);
      const events = all.body.events as Array<{ seq: number; actor: string; action: string; outcome: string; at: string; remote?: string }>;
      expect(events.length).to.be.greaterThan(5);
      expect(events.every((e) => e.actor === 'root-admin' && e.outcome === 'success')).to.equal(true);
      expect(events[0]!.remote).to.be.a('string');
      const creates = (await api.get('/audit?action=organisation.create', admin)).body.events as Array<{ action: string }>;
      expect(creates.length).to.be.greaterThan(0);
      expect(creates.every((e) => e.action === 'organisation.create')).to.equal(true);
      const page1 = (await api.get('/audit?limit=2', admin)).body;
      expect(page1.more).to.equal(true);
      expect(page1.events).to.have.length(2);
      const page2 = (await api.get(`/audit?limit=2&after=${page1.next_after}`, admin)).body;
      expect(page2.events[0].seq).to.be.greaterThan(page1.events[1].seq);
      const future = (await api.get('/audit?since=2999-01-01T00:00:00Z', admin)).body;
      expect(future).to.deep.equal({ more: false, events: [] });
      const past = (await api.get('/audit?until=2000-01-01T00:00:00Z', admin)).body;
      expect(past.events).to.deep.equal([]);
      expect(expectAdminError(await api.get('/audit?since=yesterday', admin), 400).description).to.match(/RFC 3339/);
      expect(expectAdminError(await api.get('/audit?limit=0', admin), 400).description).to.match(/limit/);
      expect(expectAdminError(await api.get('/audit?outcome=maybe', admin), 400).description).to.match(/outcome/);
      expect(expectAdminError(await api.get('/audit?actor=a&actor=b', admin), 400).description).to.match(/repeated/);
    });
  });
});
