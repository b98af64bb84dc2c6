// Authentication over HTTP Basic (docs/architecture.md §6a, §7): passwords and API keys (as the
// password or the user-id), revoked/expired keys, the caller's organisation, the verification
// cache, WWW-Authenticate with both schemes, failed-login throttling and the login audit trail.
import { expect } from 'chai';
import request from 'supertest';
import { Admin } from '../../server/admin/admin.js';
import { nowMicros } from '../../taxii/time.js';
import { TAXII_MEDIA_TYPE, expectError, expectResource, json } from '../helpers/taxii-schemas.js';
import { type World, world } from './support.js';

const BOTH_SCHEMES = 'Basic realm="meridian", charset="UTF-8", Bearer realm="meridian"';

function basic(user: string, password: string) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('HTTP auth: Basic with passwords and API keys', () => {
  let w: World;
  before(async () => {
    w = await world({ trustProxy: true });
  });

  const ops = () => new Admin(w.store, { name: 'test-operator' });
  function get(header: string | null, path = '/api1/collections/', from = '192.0.2.10') {
    const r = request(w.app).get(path).set('Accept', TAXII_MEDIA_TYPE).set('X-Forwarded-For', from);
    if (header !== null) r.set('Authorization', header);
    return r;
  }

  it('every 401 advertises both schemes (Basic with charset, Bearer)', async () => {
    for (const header of [null, basic('rw', 'wrong-password-123'), 'Digest username="rw"', 'Bearer not-a-jwt', 'Basic']) {
      const res = await get(header);
      expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
      expect(res.headers['www-authenticate'], String(header)).to.match(/^Basic realm="meridian", charset="UTF-8", Bearer realm="meridian"/);
    }
    expect((await get(null)).headers['www-authenticate']).to.equal(BOTH_SCHEMES);
  });

  it('a password containing colons is whole (RFC 7617: split at the first colon only)', async () => {
    const admin = new Admin(w.store, { name: 'test-operator' });
    await admin.addAccount({ name: 'colon', password: 'pass:word:with:colons', roles: [] });
    await w.grant({ name: 'colon', password: '', auth: '' }, w.main.id, { read: true });
    expect((await get(basic('colon', 'pass:word:with:colons'))).status).to.equal(200);
    expectError(await get(basic('colon', 'pass')), 401);
  });

  it('an API key as the password (user-id = its account) and as the user-id (empty password)', async () => {
    const { secret } = await ops().addApiKey('rw', { name: 'sentinel' });
    const asPassword = await get(basic('rw', secret));
    expect(asPassword.status).to.equal(200);
    expectResource('collections', json(asPassword));
    expect((await get(basic(secret, ''))).status).to.equal(200);
    // Another account's name beside a valid key is refused (a client set up with the wrong key),
    // and counted under the key's account, not the name tried.
    expectError(await get(basic('reader', secret)), 401);
    const failure = (await w.store.queryAudit({ action: 'login', actor: 'rw', outcome: 'failure', limit: 10 })).at(-1);
    expect(failure?.detail).to.deep.include({ via: 'api-key', reason: 'key-of-another-account' });
    // The secret never reaches the audit log.
    expect(JSON.stringify(await w.store.queryAudit({ limit: 1000 }))).to.not.include(secret.slice(22));
  });

  it('an API key alone: Token, Bearer and the API-key header work; a revoked key, a non-key or an empty user-id with a password do not', async () => {
    const k = await world({ apiKeyHeader: 'X-API-Key' });
    const { secret, key: record } = await new Admin(k.store, { name: 'test-operator' }).addApiKey('rw', { name: 'feed' });
    const as = (headers: Record<string, string>) => {
      const r = request(k.app).get('/api1/collections/').set('Accept', TAXII_MEDIA_TYPE);
      for (const [n, v] of Object.entries(headers)) r.set(n, v);
      return r;
    };
    const forms: Array<Record<string, string>> = [{ Authorization: `Token ${secret}` }, { Authorization: `token ${secret}` }, { Authorization: `Bearer ${secret}` }, { 'X-API-Key': secret }, { Authorization: basic('', secret) }, { Authorization: basic('any-word', secret) }];
    for (const headers of forms) {
      expect((await as(headers)).status, JSON.stringify(headers).slice(0, 40)).to.equal(200);
    }
    const refused: Array<Record<string, string>> = [{ Authorization: 'Token not-a-key' }, { 'X-API-Key': 'not-a-key' }, { 'X-API-Key': `${secret}x` }, { Authorization: basic('', k.rw.password) }];
    for (const headers of refused) {
      const res = await as(headers);
      expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
      expect(res.text).to.not.include(secret.slice(22));
    }
    await new Admin(k.store, { name: 'test-operator' }).revokeApiKey('rw', record.id);
    for (const headers of forms.slice(2, 4)) expectError(await as(headers), 401);
    expectError(await as(forms[0]!), 401);
    // The key's uses are audited under its account, whatever form carried it.
    expect(await k.store.countAudit({ action: 'login', actor: 'rw', outcome: 'success' })).to.be.at.least(1);
    expect(await k.store.countAudit({ action: 'login', actor: 'rw', outcome: 'failure' })).to.be.at.least(3);
  });

  it('a wrong secret with a real key prefix → 401', async () => {
    const { secret } = await ops().addApiKey('rw', { name: 'tampered' });
    const forged = `${secret.slice(0, 22)}${'A'.repeat(43)}`;
    expectError(await get(basic('rw', forged)), 401);
    expectError(await get(basic(forged, '')), 401);
  });

  it('a revoked API key → 401 at once, although the same header was just cached', async () => {
    const { key, secret } = await ops().addApiKey('rw', { name: 'to-revoke' });
    const header = basic('rw', secret);
    expect((await get(header)).status).to.equal(200);
    expect((await get(header)).status).to.equal(200); // served from the cache
    await ops().revokeApiKey('rw', key.id);
    const res = await get(header);
    expectError(res, 401, 'TAXII_ERR_UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).to.equal(BOTH_SCHEMES);
    expectError(await get(basic(secret, '')), 401);
    const failure = (await w.store.queryAudit({ action: 'login', actor: 'rw', outcome: 'failure', limit: 100 })).at(-1);
    expect(failure?.detail).to.deep.include({ reason: 'revoked-key', key: key.id });
  });

  it('an expired API key → 401 (also from the cache once it expires)', async () => {
    const { key, secret } = await ops().addApiKey('rw', { name: 'short-lived', expiresAt: nowMicros() + 1_500_000 });
    expect((await get(basic('rw', secret))).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 1600));
    expectError(await get(basic('rw', secret)), 401);
    const failures = await w.store.queryAudit({ action: 'login', outcome: 'failure', limit: 1000 });
    expect(failures.some((e) => e.detail?.key === key.id && e.detail?.reason === 'expired-key')).to.equal(true);
  });

  it('records lastUsedAt, at most once a minute per key', async () => {
    const { key, secret } = await ops().addApiKey('rw', { name: 'used' });
    expect((await w.store.getApiKeyByPrefix(key.prefix))?.lastUsedAt).to.equal(undefined);
    expect((await get(basic('rw', secret))).status).to.equal(200);
    const first = (await w.store.getApiKeyByPrefix(key.prefix))?.lastUsedAt;
    expect(first).to.be.a('number');
    expect((await get(basic(secret, ''))).status).to.equal(200); // a different header: verified again
    expect((await get(basic('rw', secret))).status).to.equal(200); // cached
    expect((await w.store.getApiKeyByPrefix(key.prefix))?.lastUsedAt).to.equal(first);
  });

  it('the cache drops a disabled account at once, and an account whose organisation is disabled', async () => {
    const admin = new Admin(w.store, { name: 'test-operator' });
    await admin.addOrganisation({ name: 'acme-labs', kind: 'vendor' });
    const member = await w.account([], 'acme-analyst', { organisation: 'acme-labs' });
    await w.grant(member, w.main.id, { read: true });
    const { secret } = await ops().addApiKey('acme-analyst', { name: 'k' });
    expect((await get(member.auth)).status).to.equal(200);
    expect((await get(basic(secret, ''))).status).to.equal(200);
    await admin.setOrganisationDisabled('acme-labs', true);
    expectError(await get(member.auth), 401);
    expectError(await get(basic(secret, '')), 401);
    await admin.setOrganisationDisabled('acme-labs', false);
    expect((await get(member.auth)).status).to.equal(200);
    await admin.updateAccount('acme-analyst', { disabled: true });
    expectError(await get(member.auth), 401);
    expectError(await get(basic(secret, '')), 401);
  });

  it('the caller carries its organisation: a member agency is fenced to its own country', async () => {
    const admin = new Admin(w.store, { name: 'test-operator' });
    await admin.addApiRoot({ path: 'de', title: 'Germany' });
    const german = await admin.addCollection({ apiRoot: 'de', title: 'DE shared' });
    await admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
    const officer = await w.account([], 'fr-officer', { organisation: 'fr-police' });
    const lone = await w.account([], 'no-org-officer');
    // Admin refuses such a grant; written straight to the store, the fence must still hold.
    const officerRecord = await w.store.getAccountByName(officer.name);
    await w.store.putGrant({ collectionId: german.id, accountId: officerRecord!.id, canRead: true, canWrite: false, maxTlp: 'amber' });
    await w.grant(lone, german.id, { read: true });
    expect((await get(lone.auth, `/de/collections/${german.id}/`)).status).to.equal(200);
    expectError(await get(officer.auth, `/de/collections/${german.id}/`), 404);
  });

  it('audits one login success per verification (not per cached request), and every failure', async () => {
    const acc = await w.account([], 'audited');
    await w.grant(acc, w.main.id, { read: true });
    const successes = () => w.store.countAudit({ action: 'login', actor: 'audited', outcome: 'success' });
    for (let i = 0; i < 3; i++) expect((await get(acc.auth, '/api1/collections/', '198.51.100.7')).status).to.equal(200);
    expect(await successes()).to.equal(1);
    expectError(await get(basic('audited', 'not-the-password'), '/api1/collections/', '198.51.100.7'), 401);
    const [success] = await w.store.queryAudit({ action: 'login', actor: 'audited', outcome: 'success', limit: 1 });
    expect(success).to.deep.include({ remote: '198.51.100.7' });
    expect(success?.detail).to.deep.equal({ via: 'password' });
    const [failure] = await w.store.queryAudit({ action: 'login', actor: 'audited', outcome: 'failure', limit: 1 });
    expect(failure).to.deep.include({ remote: '198.51.100.7' });
    expect(failure?.detail).to.deep.equal({ via: 'password', reason: 'bad-password' });
    const unknown = await get(basic('no-such-person', 'whatever-password'), '/api1/collections/', '198.51.100.7');
    expectError(unknown, 401);
    const [tried] = await w.store.queryAudit({ action: 'login', actor: 'no-such-person', limit: 1 });
    expect(tried).to.deep.include({ outcome: 'failure' });
    expect(tried?.detail).to.deep.equal({ via: 'password', reason: 'unknown-account' });
  });

  it('logs no password, API key or Authorization header', async () => {
    const { secret } = await ops().addApiKey('rw', { name: 'logged?' });
    await get(basic('rw', secret));
    await get(basic('rw', 'wrong-password-xyz'));
    const logs = w.logs.join('\n');
    expect(logs).to.not.include(secret);
    expect(logs).to.not.include('wrong-password-xyz');
    expect(logs).to.not.include(w.rw.password);
  });
});

describe('HTTP auth: failed logins are slowed down (429 + Retry-After), not locked out for others', () => {
  let w: World;
  beforeEach(async () => {
    w = await world({ trustProxy: true });
  });

  function get(header: string, from: string) {
    return request(w.app).get('/api1/collections/').set('Accept', TAXII_MEDIA_TYPE).set('X-Forwarded-For', from).set('Authorization', header);
  }

  it('5 failures for a name → 429 even with the right password, before the password is checked; other names and addresses log in', async () => {
    for (let i = 0; i < 5; i++) expectError(await get(basic('reader', `wrong-password-${i}`), `203.0.113.${i + 1}`), 401);
    const failuresBefore = await w.store.countAudit({ action: 'login', actor: 'reader', outcome: 'failure' });
    const res = await get(w.reader.auth, '203.0.113.99');
    const body = expectError(res, 429, 'TAXII_ERR_RATE_LIMITED');
    expect(body.description).to.match(/failed logins/);
    expect(Number(res.headers['retry-after'])).to.equal(10);
    // Refused before verification: no new audit event, so no secret was checked.
    expect(await w.store.countAudit({ action: 'login', actor: 'reader', outcome: 'failure' })).to.equal(failuresBefore);
    // Another user from the same addresses is unaffected.
    expect((await get(w.rw.auth, '203.0.113.1')).status).to.equal(200);
    expect((await get(w.rw.auth, '203.0.113.99')).status).to.equal(200);
  });

  it('a correct password verified a moment ago (cached) is refused too while its name is throttled', async () => {
    // The owner polls: the correct password is verified once and cached.
    expect((await get(w.reader.auth, '203.0.113.7')).status).to.equal(200);
    expect((await get(w.reader.auth, '203.0.113.7')).status).to.equal(200);
    // An attacker guesses from elsewhere until the name is throttled.
    for (let i = 0; i < 5; i++) expectError(await get(basic('reader', `wrong-password-${i}`), `198.51.100.${i + 1}`), 401);
    // The cached correct password gets the same 429 as a wrong guess: no oracle.
    const right = await get(w.reader.auth, '203.0.113.7');
    const wrong = await get(basic('reader', 'another-wrong-guess'), '198.51.100.9');
    expectError(right, 429, 'TAXII_ERR_RATE_LIMITED');
    expectError(wrong, 429, 'TAXII_ERR_RATE_LIMITED');
    expect(right.headers['retry-after']).to.equal(wrong.headers['retry-after']);
  });

  it('a cached correct password from a throttled address is refused too', async () => {
    expect((await get(w.rw.auth, '198.51.100.66')).status).to.equal(200);
    for (let i = 0; i < 20; i++) expectError(await get(basic(`guess-${i}`, 'some-password-here'), '198.51.100.66'), 401);
    expectError(await get(w.rw.auth, '198.51.100.66'), 429, 'TAXII_ERR_RATE_LIMITED');
    expect((await get(w.rw.auth, '198.51.100.67')).status).to.equal(200);
  });

  it('the cached correct password is accepted again once the wait is over, and refused again after a new failure', async () => {
    expect((await get(w.reader.auth, '203.0.113.7')).status).to.equal(200);
    // Twenty failures from its address 11 s ago: over the limit, but the first wait (10 s) has passed.
    const past = nowMicros() - 11e6;
    for (let i = 0; i < 20; i++) await w.store.appendAudit({ at: past, actor: `guess-${i}`, action: 'login', outcome: 'failure', remote: '203.0.113.7' });
    expect((await get(w.reader.auth, '203.0.113.7')).status).to.equal(200);
    await w.store.appendAudit({ at: nowMicros(), actor: 'guess-20', action: 'login', outcome: 'failure', remote: '203.0.113.7' });
    const res = await get(w.reader.auth, '203.0.113.7');
    expectError(res, 429, 'TAXII_ERR_RATE_LIMITED');
    expect(res.headers['retry-after']).to.equal('20');
  });

  it('Retry-After grows with the count of failures (failures recorded by other instances count too)', async () => {
    for (let i = 0; i < 5; i++) expectError(await get(basic('reader', `wrong-password-${i}`), '203.0.113.1'), 401);
    expect((await get(w.reader.auth, '203.0.113.1')).headers['retry-after']).to.equal('10');
    for (let i = 0; i < 2; i++) await w.store.appendAudit({ at: nowMicros(), actor: 'reader', action: 'login', outcome: 'failure', remote: '203.0.113.50' });
    expect((await get(w.reader.auth, '203.0.113.1')).headers['retry-after']).to.equal('40');
    for (let i = 0; i < 10; i++) await w.store.appendAudit({ at: nowMicros(), actor: 'reader', action: 'login', outcome: 'failure', remote: '203.0.113.50' });
    expect((await get(w.reader.auth, '203.0.113.1')).headers['retry-after']).to.equal('900'); // capped at the window
  });

  it('a successful login resets the count of its name', async () => {
    for (let i = 0; i < 4; i++) expectError(await get(basic('reader', `wrong-password-${i}`), '203.0.113.1'), 401);
    expect((await get(w.reader.auth, '203.0.113.1')).status).to.equal(200);
    for (let i = 0; i < 4; i++) expectError(await get(basic('reader', `wrong-again-${i}`), '203.0.113.1'), 401);
    expect((await get(basic('reader', w.reader.password), '203.0.113.2')).status).to.equal(200);
  });

  it('failures older than the window do not count', async () => {
    const old = nowMicros() - 16 * 60 * 1e6;
    for (let i = 0; i < 30; i++) await w.store.appendAudit({ at: old, actor: 'reader', action: 'login', outcome: 'failure', remote: '203.0.113.1' });
    expect((await get(w.reader.auth, '203.0.113.1')).status).to.equal(200);
  });

  it('20 failures from one address → 429 for any name from it; other addresses are unaffected', async () => {
    for (let i = 0; i < 20; i++) expectError(await get(basic(`guess-${i}`, 'some-password-here'), '198.51.100.66'), 401);
    const res = await get(w.rw.auth, '198.51.100.66');
    expectError(res, 429, 'TAXII_ERR_RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).to.be.at.least(10);
    expect((await get(w.rw.auth, '198.51.100.67')).status).to.equal(200);
    expect((await get(w.reader.auth, '198.51.100.67')).status).to.equal(200);
  });

  it('the limits are configuration', async () => {
    w = await world({ trustProxy: true, loginFailureLimit: 2 });
    for (let i = 0; i < 2; i++) expectError(await get(basic('reader', `wrong-password-${i}`), '203.0.113.1'), 401);
    expectError(await get(w.reader.auth, '203.0.113.2'), 429);
  });
});
