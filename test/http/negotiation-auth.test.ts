// TAXII 2.1 §1.6.8 / §3.1 content negotiation, §1.6.9 authentication, §3.6 errors everywhere,
// and the resource schemas themselves (they must be able to reject).
import { Admin } from '../../server/admin/admin.js';
import { expect } from 'chai';
import request from 'supertest';
import { conforms, expectError, expectResource, expectTaxiiContentType, json } from '../helpers/taxii-schemas.js';
import { TAXII_MEDIA_TYPE, type World, indicator, world } from './support.js';

describe('HTTP §1.6.8 / §3.1 content negotiation', () => {
  let w: World;
  before(async () => {
    w = await world();
    await w.add([indicator()]);
  });

  const acceptable = [
    'application/taxii+json;version=2.1',
    'application/taxii+json',
    'application/taxii+json; version=2.1',
    'application/taxii+json;version="2.1"',
    'APPLICATION/TAXII+JSON;VERSION=2.1',
    'application/json, application/taxii+json;version=2.1;q=0.5',
    'application/taxii+json;version=2.0, application/taxii+json;version=2.1',
    'application/taxii+json;q=0.9',
    'application/*',
    '*/*',
    'text/html;q=0.9, */*;q=0.1',
  ];
  for (const accept of acceptable) {
    it(`§1.6.8.2 Accept "${accept}" → 200, answered as ${TAXII_MEDIA_TYPE}`, async () => {
      for (const path of ['/taxii2/', `${w.base()}/objects/`]) {
        const res = await w.get(path, w.rw, accept);
        expect(res.status, path).to.equal(200);
        expectTaxiiContentType(res);
      }
    });
  }

  it('§3.1: an absent Accept header is taken as */* (RFC 7231 §5.3.2) and answered in TAXII 2.1', async () => {
    const res = await w.get('/api1/', w.rw, null);
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
  });

  const unacceptable = [
    'application/json',
    'application/taxii+json;version=2.0',
    'application/taxii+json;version=3.0',
    'application/stix+json;version=2.1',
    'text/html',
    'application/taxii+json;version=2.1;q=0',
    'application/taxii+json;q=0, application/xml',
    '*/*;q=0',
  ];
  for (const accept of unacceptable) {
    it(`§3.1 406: Accept "${accept}"`, async () => {
      for (const path of ['/taxii2/', '/api1/', `${w.base()}/objects/`, `${w.base()}/manifest/`]) {
        expectError(await w.get(path, w.rw, accept), 406, 'TAXII_ERR_NOT_ACCEPTABLE');
      }
    });
  }

  it('RFC 7231 §5.3.2: a q=0 on the TAXII range beats a wildcard range (the more specific range wins) → 406', async () => {
    expectError(await w.get('/api1/', w.rw, 'application/taxii+json;q=0, */*;q=0.1'), 406);
  });

  it('§3.1 406 on POST too (a POST must carry a valid Accept)', async () => {
    const res = await request(w.app).post(`${w.base()}/objects/`).set('Authorization', w.rw.auth).set('Accept', 'application/json').set('Content-Type', TAXII_MEDIA_TYPE).send(JSON.stringify({ objects: [indicator()] }));
    expectError(res, 406);
  });

  for (const ct of ['application/taxii+json;version=2.1', 'application/taxii+json', 'application/taxii+json; version=2.1', 'Application/TAXII+json;Version=2.1']) {
    it(`§5.5 Content-Type "${ct}" → 202`, async () => {
      const res = await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.rw, ct);
      expect(res.status).to.equal(202);
      expectTaxiiContentType(res);
      expectResource('status', json(res));
    });
  }

  for (const ct of ['application/json', 'application/taxii+json;version=2.0', 'application/stix+json;version=2.1', 'text/plain', null]) {
    it(`§5.5 415: Content-Type ${ct === null ? '(none)' : `"${ct}"`}`, async () => {
      const res = await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.rw, ct);
      expectError(res, 415, 'TAXII_ERR_UNSUPPORTED_MEDIA_TYPE');
    });
  }
});

describe('HTTP §1.6.9 authentication (HTTP Basic)', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  function basic(user: string, password: string) {
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  async function withAuth(header: string | null, path = '/api1/collections/') {
    const r = request(w.app).get(path).set('Accept', TAXII_MEDIA_TYPE);
    if (header !== null) r.set('Authorization', header);
    return r;
  }

  const failures: Array<[string, () => string | null]> = [
    ['no Authorization header', () => null],
    ['a wrong password', () => basic('rw', 'not-the-password')],
    ['an unknown account', () => basic('nobody', 'whatever-password')],
    ['an empty password', () => basic('rw', '')],
    ['malformed Basic credentials', () => 'Basic !!!not-base64!!!'],
    ['Basic without credentials', () => 'Basic'],
    ['an unsupported scheme', () => `Digest username="rw"`],
  ];
  for (const [what, header] of failures) {
    it(`§1.6.9 401 with WWW-Authenticate: ${what}`, async () => {
      for (const path of ['/taxii2/', '/api1/', `${w.base()}/objects/`, '/api1/status/00000000-0000-4000-8000-000000000000/']) {
        const res = await withAuth(header(), path);
        expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
        expect(res.headers['www-authenticate'], 'WWW-Authenticate').to.match(/^Basic realm="[^"]+"/);
      }
    });
  }

  for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
    it(`§6a the scheme name is case-insensitive: "${scheme}"`, async () => {
      const header = w.rw.auth.replace(/^Basic/, scheme);
      const res = await withAuth(header);
      expect(res.status).to.equal(200);
      expectResource('collections', json(res));
    });
  }

  it('a disabled account → 401, also right after a cached successful login', async () => {
    const victim = await w.account([], 'soon-disabled');
    await w.grant(victim, w.main.id, { read: true });
    expect((await withAuth(victim.auth)).status).to.equal(200);
    const record = await w.store.getAccountByName('soon-disabled');
    await w.store.updateAccount(record!.id, { disabled: true });
    const res = await withAuth(victim.auth);
    expectError(res, 401);
    expect(res.headers['www-authenticate']).to.be.a('string');
  });

  it('a changed password → the old one is refused at once', async () => {
    const acc = await w.account([], 'rotating');
    await w.grant(acc, w.main.id, { read: true });
    expect((await withAuth(acc.auth)).status).to.equal(200);
    await new Admin(w.store, { name: 'test-operator' }).updateAccount('rotating', { password: 'a-brand-new-password' });
    expectError(await withAuth(acc.auth), 401);
    expect((await withAuth(basic('rotating', 'a-brand-new-password'))).status).to.equal(200);
  });

  it('nothing secret is logged: no password and no Authorization header in the logs', async () => {
    await withAuth(w.rw.auth);
    await withAuth(basic('rw', 'wrong-password-xyz'));
    const logs = w.logs.join('\n');
    expect(logs).to.not.include(w.rw.password);
    expect(logs).to.not.include('wrong-password-xyz');
    expect(logs).to.not.include(w.rw.auth.slice(6));
  });
});

describe('HTTP §3.6 errors are TAXII error resources everywhere', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it('404 for a path that is no TAXII endpoint, as JSON, never HTML', async () => {
    for (const path of ['/api1/collections/main/objects/a/b/c/', '/api1/nothing/', '/taxii2/extra/']) {
      expectError(await w.get(path), 404, 'TAXII_ERR_NOT_FOUND');
    }
  });

  it('400 for an undecodable path, as JSON, never HTML', async () => {
    const res = await w.get('/api1/collections/%E0%A4%A/');
    expect(res.status).to.be.oneOf([400, 404]);
    expectError(res, res.status);
  });

  it('405 on every endpoint for a method it does not define, with Allow', async () => {
    const paths: Array<[string, string, string]> = [
      ['put', '/taxii2/', 'GET'],
      ['put', '/api1/', 'GET'],
      ['post', '/api1/status/00000000-0000-4000-8000-000000000000/', 'GET'],
      ['patch', '/api1/collections/', 'GET'],
      ['post', '/api1/collections/main/', 'GET'],
      ['post', '/api1/collections/main/manifest/', 'GET'],
      ['delete', '/api1/collections/main/objects/', 'POST'],
      ['put', `/api1/collections/main/objects/indicator--${crypto.randomUUID()}/`, 'DELETE'],
      ['post', `/api1/collections/main/objects/indicator--${crypto.randomUUID()}/versions/`, 'GET'],
    ];
    for (const [method, path, allowed] of paths) {
      const res = await (request(w.app) as any)[method](path).set('Accept', TAXII_MEDIA_TYPE).set('Authorization', w.rw.auth).set('Content-Type', TAXII_MEDIA_TYPE).send('{}');
      expectError(res, 405, 'TAXII_ERR_METHOD_NOT_ALLOWED');
      expect(res.headers.allow, `${method} ${path}`).to.include(allowed);
    }
  });
});

describe('the TAXII resource schemas reject what the spec forbids', () => {
  it('§2 timestamp: six fractional digits and Z are required', () => {
    const rec = { id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', date_added: '2024-01-01T00:00:00.123456Z', version: '2024-01-01T00:00:00.000Z' };
    expect(conforms('manifest-record', rec)).to.equal(true);
    expect(conforms('manifest-record', { ...rec, date_added: '2024-01-01T00:00:00.123Z' })).to.equal(false);
    expect(conforms('manifest-record', { ...rec, date_added: '2024-01-01T00:00:00.123456+00:00' })).to.equal(false);
    expect(conforms('manifest-record', { ...rec, extra: 1 })).to.equal(false);
  });

  it('§3.6.1 error: title required, http_status a string of three digits', () => {
    expect(conforms('error', { title: 'x', http_status: '404' })).to.equal(true);
    expect(conforms('error', { title: 'x', http_status: 404 })).to.equal(false);
    expect(conforms('error', { http_status: '404' })).to.equal(false);
    expect(conforms('error', { title: 'x', stack: 'at foo' })).to.equal(false);
  });

  it('§2 lists are never empty; §5.1.1 no collections = the empty object', () => {
    expect(conforms('collections', {})).to.equal(true);
    expect(conforms('collections', { collections: [] })).to.equal(false);
    expect(conforms('envelope', { objects: [] })).to.equal(false);
    expect(conforms('versions', { versions: [] })).to.equal(false);
  });

  it('§4.2.1 versions must include TAXII 2.1; max_content_length positive', () => {
    const root = { title: 't', versions: [TAXII_MEDIA_TYPE], max_content_length: 1 };
    expect(conforms('api-root', root)).to.equal(true);
    expect(conforms('api-root', { ...root, versions: ['application/taxii+json;version=2.0'] })).to.equal(false);
    expect(conforms('api-root', { ...root, max_content_length: 0 })).to.equal(false);
  });

  it('§4.3.1 status: status is complete or pending; counts are non-negative integers; id a UUIDv4', () => {
    const s = { id: '2d086da7-4bdc-4f91-900e-d77486753710', status: 'complete', total_count: 0, success_count: 0, failure_count: 0, pending_count: 0 };
    expect(conforms('status', s)).to.equal(true);
    expect(conforms('status', { ...s, status: 'done' })).to.equal(false);
    expect(conforms('status', { ...s, total_count: -1 })).to.equal(false);
    expect(conforms('status', { ...s, id: 'not-a-uuid' })).to.equal(false);
  });

  it('§4.1.1 discovery: API root URLs are HTTPS absolute or single-slash relative, without query', () => {
    expect(conforms('discovery', { title: 't', api_roots: ['https://a.example/api1/', '/api2/'] })).to.equal(true);
    expect(conforms('discovery', { title: 't', api_roots: ['http://a.example/api1/'] })).to.equal(false);
    expect(conforms('discovery', { title: 't', api_roots: ['//a.example/api1/'] })).to.equal(false);
    expect(conforms('discovery', { title: 't', api_roots: ['https://a.example/api1/?x=1'] })).to.equal(false);
  });

  it('§3.7 envelope: next only with more true', () => {
    expect(conforms('envelope', { more: true, next: 'abc' })).to.equal(true);
    expect(conforms('envelope', { more: false, next: 'abc' })).to.equal(false);
    expect(conforms('manifest', { next: 'abc' })).to.equal(false);
  });

  it('expectResource fails with the violations', () => {
    expect(() => expectResource('collection', { id: 'x' })).to.throw(/collection resource invalid/);
  });
});
