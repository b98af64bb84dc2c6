// POST /auth/token and Bearer JWTs (docs/architecture.md §7): the OAuth 2.0 token response,
// every way of presenting credentials, clear errors for bad requests, pinned algorithms, and the
// tokens that must stop working (alg none, wrong key, expired, wrong iss/aud, disabled account,
// changed password, revoked key).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { Admin } from '../../server/admin/admin.js';
import { passwordVersion } from '../../server/auth/access-tokens.js';
import type { Config } from '../../server/config.js';
import { TAXII_MEDIA_TYPE, expectError, expectResource, json } from '../helpers/taxii-schemas.js';
import { type World, world } from './support.js';

function basic(user: string, password: string) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function unsignedToken(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

function setup(overrides: Partial<Config> = {}) {
  let w: World;
  const ctx = {
    get w() {
      return w;
    },
    async init() {
      w = await world({ trustProxy: true, ...overrides });
    },
    ops: () => new Admin(w.store, { name: 'test-operator' }),
    token: (auth: string | null, body?: unknown, contentType = 'application/json') => {
      const r = request(w.app).post('/auth/token').set('X-Forwarded-For', '192.0.2.44');
      if (auth !== null) r.set('Authorization', auth);
      if (body === undefined) return r.send();
      return r.set('Content-Type', contentType).send(typeof body === 'string' ? body : JSON.stringify(body));
    },
    bearer: (token: string, path = '/api1/collections/') => request(w.app).get(path).set('Accept', TAXII_MEDIA_TYPE).set('Authorization', `Bearer ${token}`),
    async tokenOf(auth: string): Promise<string> {
      const res = await ctx.token(auth);
      expect(res.status, res.text).to.equal(200);
      return (res.body as { access_token: string }).access_token;
    },
  };
  return ctx;
}

/** A 401 for a Bearer token: both challenges, the Bearer one with error="invalid_token" (RFC 6750 §3). */
function expectInvalidToken(res: request.Response, description?: RegExp) {
  expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
  const challenge = res.headers['www-authenticate'] as string;
  expect(challenge).to.match(/^Basic realm="meridian", charset="UTF-8", Bearer realm="meridian", error="invalid_token"/);
  if (description) expect(challenge).to.match(description);
}

describe('HTTP auth: POST /auth/token', () => {
  const t = setup();
  before(() => t.init());

  it('HTTP Basic → the OAuth 2.0 token response (application/json, no-store), a token that works', async () => {
    const res = await t.token(t.w.rw.auth);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.have.all.keys('access_token', 'token_type', 'expires_in');
    expect(res.body.token_type).to.equal('Bearer');
    expect(res.body.expires_in).to.equal(900);
    const decoded = jwt.decode(res.body.access_token as string, { complete: true })!;
    expect(decoded.header.alg).to.equal('HS256');
    const claims = decoded.payload as jwt.JwtPayload;
    const rw = await t.w.store.getAccountByName('rw');
    expect(claims).to.include({ sub: rw!.id, iss: 'meridian', aud: 'meridian-taxii' });
    expect(claims.exp! - claims.iat!).to.equal(900);
    const use = await t.bearer(res.body.access_token as string);
    expect(use.status).to.equal(200);
    expectResource('collections', json(use));
  });

  it('a JSON body {username, password}, {api_key}, and an OAuth form', async () => {
    expect((await t.token(null, { username: 'reader', password: t.w.reader.password })).status).to.equal(200);
    const { secret } = await t.ops().addApiKey('reader', { name: 'ci' });
    const byKey = await t.token(null, { api_key: secret });
    expect(byKey.status).to.equal(200);
    expect((await t.bearer(byKey.body.access_token as string)).status).to.equal(200);
    expect((await t.token(null, { username: 'reader', api_key: secret })).status).to.equal(200);
    expectError(await t.token(null, { username: 'rw', api_key: secret }), 401);
    const form = await t.token(null, `grant_type=password&username=reader&password=${encodeURIComponent(t.w.reader.password)}`, 'application/x-www-form-urlencoded');
    expect(form.status).to.equal(200);
    expect((await t.token(basic('reader', secret))).status).to.equal(200);
    expect((await t.token(basic(secret, ''))).status).to.equal(200);
  });

  it('audits the login and the token issuance', async () => {
    const res = await t.token(t.w.writer.auth);
    expect(res.status).to.equal(200);
    const jti = (jwt.decode(res.body.access_token as string) as jwt.JwtPayload).jti;
    const [issued] = await t.w.store.queryAudit({ action: 'token.issue', actor: 'writer', limit: 10 });
    expect(issued).to.deep.include({ outcome: 'success', remote: '192.0.2.44' });
    expect(issued?.detail).to.deep.include({ via: 'password', jti });
    expect(await t.w.store.countAudit({ action: 'login', actor: 'writer', outcome: 'success' })).to.equal(1);
    expectError(await t.token(basic('writer', 'not-the-password')), 401);
    expect(await t.w.store.countAudit({ action: 'login', actor: 'writer', outcome: 'failure' })).to.equal(1);
    expect(await t.w.store.countAudit({ action: 'token.issue', actor: 'writer' })).to.equal(1);
  });

  it('wrong credentials → 401 with both challenges; no credentials → 401', async () => {
    for (const res of [await t.token(basic('rw', 'wrong-password-1')), await t.token(null, { username: 'rw', password: 'wrong-password-2' }), await t.token(null)]) {
      expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
      expect(res.headers['www-authenticate']).to.match(/^Basic realm="meridian", charset="UTF-8", Bearer realm="meridian"/);
    }
  });

  it('a Bearer token is not exchanged for another', async () => {
    const token = await t.tokenOf(t.w.rw.auth);
    expectError(await t.token(`Bearer ${token}`), 401);
  });

  it('GET, PUT, DELETE → 405 with Allow: POST', async () => {
    for (const method of ['get', 'put', 'delete'] as const) {
      const res = await request(t.w.app)[method]('/auth/token').set('Authorization', t.w.rw.auth);
      expectError(res, 405, 'TAXII_ERR_METHOD_NOT_ALLOWED');
      expect(res.headers.allow).to.equal('POST');
    }
  });

  const bad: Array<[string, unknown, string, number, RegExp]> = [
    ['invalid JSON', '{"username": "rw", "password": ', 'application/json', 400, /not valid JSON/],
    ['a JSON array', ['rw', 'pw'], 'application/json', 400, /JSON object/],
    ['a missing password', { username: 'rw' }, 'application/json', 400, /"username" and "password" are required/],
    ['a non-string password', { username: 'rw', password: 12345 }, 'application/json', 400, /"password" must be a string/],
    ['an empty username', { username: '', password: 'x' }, 'application/json', 400, /must not be empty/],
    ['api_key with a password', { api_key: 'mrd_x', password: 'y' }, 'application/json', 400, /either "api_key" or "password"/],
    ['an unknown field', { username: 'rw', pasword: 'x' }, 'application/json', 400, /Unknown field: "pasword"/],
    ['an unsupported grant_type', { grant_type: 'authorization_code', username: 'rw', password: 'x' }, 'application/json', 400, /grant_type/],
    ['a text body', 'rw:secret', 'text/plain', 415, /application\/json/],
    ['a body over 16 KiB', { username: 'rw', password: 'x'.repeat(20_000) }, 'application/json', 413, /at most/],
  ];
  for (const [what, body, type, status, message] of bad) {
    it(`${what} → ${status} with a clear error`, async () => {
      const res = await t.token(null, body, type);
      const error = expectError(res, status);
      expect(error.description).to.match(message);
      // The body is never echoed back.
      if (typeof body === 'string') expect(res.text).to.not.include(body);
    });
  }

  it('credentials in both the header and the body → 400', async () => {
    const res = await t.token(t.w.rw.auth, { username: 'rw', password: t.w.rw.password });
    expect(expectError(res, 400).description).to.match(/either in the Authorization header or in the body/);
  });

  it('the token endpoint logs no body, password or token', async () => {
    const res = await t.token(null, { username: 'rw', password: t.w.rw.password });
    await t.token(null, { username: 'rw', password: 'logged-password-zz' });
    const logs = t.w.logs.join('\n');
    expect(logs).to.not.include(t.w.rw.password);
    expect(logs).to.not.include('logged-password-zz');
    expect(logs).to.not.include(res.body.access_token as string);
  });

  it('failed exchanges are throttled like Basic logins', async () => {
    const acc = await t.w.account([], 'hammered');
    for (let i = 0; i < 5; i++) expectError(await t.token(null, { username: 'hammered', password: `wrong-password-${i}` }), 401);
    const res = await t.token(null, { username: 'hammered', password: acc.password });
    expectError(res, 429, 'TAXII_ERR_RATE_LIMITED');
    expect(res.headers['retry-after']).to.equal('10');
    expect((await t.token(t.w.reader.auth)).status).to.equal(200);
  });
});

describe('HTTP auth: Bearer tokens that must not work', () => {
  const t = setup();
  before(() => t.init());

  async function claimsFor(name: string): Promise<Record<string, unknown>> {
    const account = (await t.w.store.getAccountByName(name))!;
    const now = Math.floor(Date.now() / 1000);
    return { sub: account.id, pwv: passwordVersion(account.passwordHash), jti: 'test', iat: now, exp: now + 600, iss: 'meridian', aud: 'meridian-taxii' };
  }
  async function sign(claims: Record<string, unknown>, secret?: Buffer | string): Promise<string> {
    // jsonwebtoken keeps a given iat, and adds one unless told not to.
    return jwt.sign(claims, secret ?? (await t.w.store.secret('jwt')), { algorithm: 'HS256', noTimestamp: !('iat' in claims) });
  }

  it('a token signed by the test with the store secret works (the fixture is right)', async () => {
    expect((await t.bearer(await sign(await claimsFor('rw')))).status).to.equal(200);
  });

  it('alg "none" → 401 invalid_token', async () => {
    expectInvalidToken(await t.bearer(unsignedToken(await claimsFor('rw'))));
  });

  it('a token signed with another key → 401', async () => {
    expectInvalidToken(await t.bearer(await sign(await claimsFor('rw'), 'another-secret-of-at-least-32-characters!')));
  });

  it('an expired token → 401 saying so', async () => {
    const claims = await claimsFor('rw');
    const past = Math.floor(Date.now() / 1000) - 3600;
    expectInvalidToken(await t.bearer(await sign({ ...claims, iat: past, exp: past + 600 })), /error_description="The access token expired\."/);
  });

  it('a wrong audience, a wrong issuer, no exp, no iat, a future iat → 401', async () => {
    const claims = await claimsFor('rw');
    const { exp: _exp, ...noExp } = claims;
    const { iat: _iat, ...noIat } = claims;
    for (const bad of [{ ...claims, aud: 'another-service' }, { ...claims, iss: 'https://evil.example' }, noExp, noIat, { ...claims, iat: (claims.iat as number) + 3600, exp: (claims.iat as number) + 4000 }]) {
      expectInvalidToken(await t.bearer(await sign(bad)));
    }
  });

  it('a token longer-lived than tokenTtlSeconds → 401', async () => {
    const claims = await claimsFor('rw');
    expectInvalidToken(await t.bearer(await sign({ ...claims, iat: (claims.iat as number) - 1000, exp: (claims.iat as number) + 86400 })));
  });

  it('RS256 and ES256 tokens, and garbage → 401 under the pinned HS256', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectInvalidToken(await t.bearer(jwt.sign(await claimsFor('rw'), privateKey, { algorithm: 'ES256' })));
    expectInvalidToken(await t.bearer('not.a.jwt'));
    expectInvalidToken(await t.bearer(''));
  });

  it('a since-disabled account → 401, also its organisation; re-enabled → works again', async () => {
    const ops = t.ops();
    await ops.addOrganisation({ name: 'acme', kind: 'vendor' });
    const acc = await t.w.account([], 'soon-disabled', { organisation: 'acme' });
    await t.w.grant(acc, t.w.main.id, { read: true });
    const token = await t.tokenOf(acc.auth);
    expect((await t.bearer(token)).status).to.equal(200);
    await ops.updateAccount('soon-disabled', { disabled: true });
    expectInvalidToken(await t.bearer(token));
    await ops.updateAccount('soon-disabled', { disabled: false });
    expect((await t.bearer(token)).status).to.equal(200);
    await ops.setOrganisationDisabled('acme', true);
    expectInvalidToken(await t.bearer(token));
  });

  it('a changed password ends older tokens; a grant change does not (grants are read on every request)', async () => {
    const acc = await t.w.account([], 'rotating');
    await t.w.grant(acc, t.w.main.id, { read: true });
    const token = await t.tokenOf(acc.auth);
    await t.w.grant(acc, t.w.other.id, { read: true });
    expect((await t.bearer(token, `${t.w.base(t.w.other)}/`)).status).to.equal(200);
    await t.w.grant(acc, t.w.other.id, {});
    expectError(await t.bearer(token, `${t.w.base(t.w.other)}/`), 404);
    await t.ops().updateAccount('rotating', { password: 'a-brand-new-password' });
    expectInvalidToken(await t.bearer(token));
    expect((await t.bearer(await t.tokenOf(basic('rotating', 'a-brand-new-password')))).status).to.equal(200);
  });

  it('a deleted account → 401', async () => {
    const acc = await t.w.account([], 'deleted-later');
    const token = await t.tokenOf(acc.auth);
    await t.ops().removeAccount('deleted-later');
    expectInvalidToken(await t.bearer(token));
  });

  it('a token from a since-revoked API key → 401; its lifetime never exceeds the key\'s', async () => {
    const ops = t.ops();
    const { key, secret } = await ops.addApiKey('reader', { name: 'revoked-later' });
    const token = await t.tokenOf(basic(secret, ''));
    expect((await t.bearer(token)).status).to.equal(200);
    await ops.revokeApiKey('reader', key.id);
    expectInvalidToken(await t.bearer(token));
    const short = await ops.addApiKey('reader', { name: 'expiring', expiresAt: (Date.now() + 120_000) * 1000 });
    const res = await t.token(null, { api_key: short.secret });
    expect(res.body.expires_in).to.be.within(118, 120);
  });

  it('the scheme name is case-insensitive', async () => {
    const token = await t.tokenOf(t.w.rw.auth);
    const res = await request(t.w.app).get('/api1/collections/').set('Accept', TAXII_MEDIA_TYPE).set('Authorization', `bearer ${token}`);
    expect(res.status).to.equal(200);
  });

  it('a token in the query string is not accepted', async () => {
    const token = await t.tokenOf(t.w.rw.auth);
    expectError(await request(t.w.app).get(`/api1/collections/?access_token=${token}`).set('Accept', TAXII_MEDIA_TYPE), 401);
  });
});

describe('HTTP auth: configured token settings and key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-jwt-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = (name: string, pem: string) => {
    const path = join(dir, name);
    writeFileSync(path, pem);
    return path;
  };
  const rsaPrivate = file('rsa.key', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const rsaPublic = file('rsa.pub', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const ecPrivate = file('ec.key', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);

  it('RS256 with key files: tokens verify; an HS256 token keyed with the public key (algorithm confusion) does not', async () => {
    const t = setup({ jwtAlgorithm: 'RS256', jwtPrivateKeyFile: rsaPrivate, jwtPublicKeyFile: rsaPublic, jwtIssuer: 'https://taxii.example.org', jwtAudience: 'taxii-clients', tokenTtlSeconds: 120 });
    await t.init();
    const res = await t.token(t.w.rw.auth);
    expect(res.body.expires_in).to.equal(120);
    const decoded = jwt.decode(res.body.access_token as string, { complete: true })!;
    expect(decoded.header.alg).to.equal('RS256');
    expect(decoded.payload).to.include({ iss: 'https://taxii.example.org', aud: 'taxii-clients' });
    expect((await t.bearer(res.body.access_token as string)).status).to.equal(200);
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { createHmac } = await import('node:crypto');
    const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(decoded.payload)}`;
    const confused = `${input}.${createHmac('sha256', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string).update(input).digest('base64url')}`;
    expectInvalidToken(await t.bearer(confused));
  });

  it('ES256 with a private key file only (the public key is derived)', async () => {
    const t = setup({ jwtAlgorithm: 'ES256', jwtPrivateKeyFile: ecPrivate });
    await t.init();
    const token = await t.tokenOf(t.w.rw.auth);
    expect(jwt.decode(token, { complete: true })!.header.alg).to.equal('ES256');
    expect((await t.bearer(token)).status).to.equal(200);
  });

  it('a configured jwtSecret: another instance with the same secret accepts the token', async () => {
    const jwtSecret = 'a-configured-secret-of-more-than-32-chars';
    const a = setup({ jwtSecret });
    await a.init();
    const token = await a.tokenOf(a.w.rw.auth);
    const claims = jwt.verify(token, jwtSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims.sub).to.equal((await a.w.store.getAccountByName('rw'))!.id);
  });

  it('an unreadable key file or a key of the wrong type fails at start-up', async () => {
    let failed: unknown;
    try {
      await setup({ jwtAlgorithm: 'ES256', jwtPrivateKeyFile: join(dir, 'missing.key') }).init();
    } catch (err) {
      failed = err;
    }
    expect(String(failed)).to.match(/cannot read the JWT private key file/);
    failed = undefined;
    try {
      await setup({ jwtAlgorithm: 'ES256', jwtPrivateKeyFile: rsaPrivate }).init();
    } catch (err) {
      failed = err;
    }
    expect(String(failed)).to.match(/ES256 needs EC keys/);
  });
});
