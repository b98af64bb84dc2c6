// TAXII 2.1 §4.1 discovery, §4.2 API root, §5.1 collections, §5.2 collection (by id and by alias).
import { expect } from 'chai';
import request from 'supertest';
import { expectError, expectResource, expectTaxiiContentType, json } from '../helpers/taxii-schemas.js';
import { PUBLIC_BASE, TAXII_MEDIA_TYPE, type World, world } from './support.js';

describe('HTTP §4.1 discovery GET /taxii2/', () => {
  let w: World;
  before(async () => {
    w = await world({ defaultApiRoot: 'api1', description: 'Test server', contact: 'soc@example.org' });
    await w.root('api2');
  });

  it('§4.1: 200 with the discovery resource, absolute HTTPS API root URLs and default among them', async () => {
    const res = await w.get('/taxii2/');
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
    const body = json(res);
    expectResource('discovery', body);
    expect(body.title).to.be.a('string');
    expect(body.description).to.equal('Test server');
    expect(body.contact).to.equal('soc@example.org');
    expect(body.api_roots).to.deep.equal([`${PUBLIC_BASE}api1/`]);
    expect(body.default).to.equal(`${PUBLIC_BASE}api1/`);
    expect(body.api_roots).to.include(body.default);
  });

  it('§4.1: api_roots is filtered per client; an admin sees every root', async () => {
    const res = await w.get('/taxii2/', w.admin);
    expect(res.status).to.equal(200);
    const body = json(res);
    expectResource('discovery', body);
    expect(body.api_roots).to.deep.equal([`${PUBLIC_BASE}api1/`, `${PUBLIC_BASE}api2/`]);
  });

  it('§4.1: a caller with no visible root gets a discovery resource without api_roots (empty lists are omitted, §2)', async () => {
    const lonely = await w.account([], 'lonely');
    const res = await w.get('/taxii2/', lonely);
    expect(res.status).to.equal(200);
    const body = json(res);
    expectResource('discovery', body);
    expect(body).to.not.have.property('api_roots');
    expect(body).to.not.have.property('default');
  });

  it('§3.1: the trailing slash is optional', async () => {
    const res = await w.get('/taxii2');
    expect(res.status).to.equal(200);
    expectResource('discovery', json(res));
  });

  it('§4.1 401: no credentials → error resource with WWW-Authenticate', async () => {
    const res = await w.get('/taxii2/', null);
    expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).to.match(/^Basic realm=/);
  });

  it('§4.1 406: an Accept without any TAXII 2.1 media range', async () => {
    expectError(await w.get('/taxii2/', w.rw, 'application/json'), 406, 'TAXII_ERR_NOT_ACCEPTABLE');
  });

  it('§3.1 405: a method the endpoint does not define, with Allow', async () => {
    const res = await w.post('/taxii2/', {});
    expectError(res, 405, 'TAXII_ERR_METHOD_NOT_ALLOWED');
    expect(res.headers.allow).to.include('GET');
  });

  it('§4.1 without a publicBaseUrl the URLs are built from the request host', async () => {
    const { testServer } = await import('../helpers/server.js');
    const t = await testServer();
    await t.root('root1');
    const admin = await t.account(['admin'], 'root-admin');
    const res = await request(t.app).get('/taxii2/').set('Accept', TAXII_MEDIA_TYPE).set('Authorization', admin.auth);
    expect(res.status).to.equal(200);
    expect(json(res).api_roots).to.have.length(1);
    expect(json(res).api_roots[0]).to.match(/^https?:\/\/127\.0\.0\.1:\d+\/root1\/$/);
  });
});

describe('HTTP §4.2 API root GET /{api-root}/', () => {
  let w: World;
  before(async () => {
    w = await world({}, 4096);
  });

  it('§4.2: 200 with the api-root resource: versions include TAXII 2.1, max_content_length as configured', async () => {
    const res = await w.get('/api1/');
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
    const body = json(res);
    expectResource('api-root', body);
    expect(body.versions).to.include(TAXII_MEDIA_TYPE);
    expect(body.max_content_length).to.equal(4096);
    expect(body.title).to.equal('Root api1');
  });

  it('§3.1: without the trailing slash', async () => {
    const res = await w.get('/api1');
    expect(res.status).to.equal(200);
    expectResource('api-root', json(res));
  });

  it('§4.2 404: an unknown API root', async () => {
    expectError(await w.get('/nope/'), 404, 'TAXII_ERR_NOT_FOUND');
  });

  it('§4.2 404: an API root where the caller sees no collection is indistinguishable from a missing one', async () => {
    const lonely = await w.account([], 'lonely2');
    const missing = await w.get('/nope/', lonely);
    const hidden = await w.get('/api1/', lonely);
    expectError(hidden, 404, 'TAXII_ERR_NOT_FOUND');
    expect(json(hidden).description).to.equal(json(missing).description);
  });

  it('§4.2 401: wrong password, with WWW-Authenticate', async () => {
    const bad = { ...w.rw, auth: `Basic ${Buffer.from('rw:wrong-password-here').toString('base64')}` };
    const res = await w.get('/api1/', bad);
    expectError(res, 401);
    expect(res.headers['www-authenticate']).to.match(/Basic/);
  });

  it('§4.2 406: Accept of TAXII 2.0 only', async () => {
    expectError(await w.get('/api1/', w.rw, 'application/taxii+json;version=2.0'), 406);
  });

  it('§3.1 405: DELETE on the API root', async () => {
    expectError(await w.del('/api1/'), 405, 'TAXII_ERR_METHOD_NOT_ALLOWED');
  });
});

describe('HTTP §5.1 collections GET /{api-root}/collections/', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it('§5.1: 200 with the collections the caller may read or write, can_read/can_write computed for the caller', async () => {
    const res = await w.get('/api1/collections/', w.rw);
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
    const body = json(res);
    expectResource('collections', body);
    expect(body.collections.map((c: { id: string }) => c.id)).to.deep.equal([w.main.id, w.other.id]);
    expect(body.collections[0]).to.include({ can_read: true, can_write: true, alias: 'main', title: 'Main' });
  });

  it('§5.1: a write-only caller sees can_read false, can_write true', async () => {
    const body = json(await w.get('/api1/collections/', w.writer));
    expectResource('collections', body);
    expect(body.collections).to.have.length(1);
    expect(body.collections[0]).to.include({ id: w.main.id, can_read: false, can_write: true });
  });

  it('§5.1: the admin sees every collection, in the same order on every request (§3.3)', async () => {
    const a = json(await w.get('/api1/collections/', w.admin));
    const b = json(await w.get('/api1/collections', w.admin));
    expectResource('collections', a);
    expect(a.collections.map((c: { id: string }) => c.id)).to.deep.equal([w.main.id, w.other.id, w.hidden.id]);
    expect(b).to.deep.equal(a);
  });

  it('§5.1 404: unknown API root', async () => {
    expectError(await w.get('/nope/collections/'), 404);
  });

  it('§5.1 401: missing credentials', async () => {
    const res = await w.get('/api1/collections/', null);
    expectError(res, 401);
    expect(res.headers['www-authenticate']).to.be.a('string');
  });

  it('§5.1 406: Accept application/xml', async () => {
    expectError(await w.get('/api1/collections/', w.rw, 'application/xml'), 406);
  });

  it('§3.1 405: POST on collections', async () => {
    expectError(await w.post('/api1/collections/', {}), 405);
  });
});

describe('HTTP §5.2 collection GET /{api-root}/collections/{id}/', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it('§5.2: 200 by id, with the collection resource', async () => {
    const res = await w.get(`/api1/collections/${w.main.id}/`);
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
    const body = json(res);
    expectResource('collection', body);
    expect(body).to.include({ id: w.main.id, title: 'Main', alias: 'main', can_read: true, can_write: true });
    expect(body.media_types).to.deep.equal(['application/stix+json;version=2.1']);
  });

  it('§5.2.1 alias: the same collection by its alias, with or without the trailing slash', async () => {
    const byId = json(await w.get(`/api1/collections/${w.main.id}/`));
    for (const path of ['/api1/collections/main/', '/api1/collections/main']) {
      const res = await w.get(path);
      expect(res.status).to.equal(200);
      expectResource('collection', json(res));
      expect(json(res)).to.deep.equal(byId);
    }
  });

  it('§5.2: read-only caller sees can_write false', async () => {
    const body = json(await w.get('/api1/collections/main/', w.reader));
    expectResource('collection', body);
    expect(body).to.include({ can_read: true, can_write: false });
  });

  it('§5.2 404: unknown id, and a collection the caller has no grant on (same answer)', async () => {
    const unknown = await w.get(`/api1/collections/${crypto.randomUUID()}/`);
    expectError(unknown, 404);
    const hidden = await w.get(`/api1/collections/${w.hidden.id}/`, w.rw);
    expectError(hidden, 404);
    expect(json(hidden).description).to.equal(json(unknown).description);
  });

  it('§5.2 404: a collection of another API root is not found under this one', async () => {
    await w.root('api2');
    const c2 = await w.collection('api2', { title: 'Elsewhere', alias: 'elsewhere' });
    await w.grant(w.rw, c2.id, { read: true });
    expect((await w.get(`/api2/collections/${c2.id}/`)).status).to.equal(200);
    expectError(await w.get(`/api1/collections/${c2.id}/`), 404);
    expectError(await w.get('/api1/collections/elsewhere/'), 404);
  });

  it('§5.2 401 / 406 / 405', async () => {
    expectError(await w.get('/api1/collections/main/', null), 401);
    expectError(await w.get('/api1/collections/main/', w.rw, 'text/html'), 406);
    expectError(await w.del('/api1/collections/main/'), 405);
  });
});
