// Webhook building blocks: Standard Webhooks signatures checked by the standardwebhooks package
// (an independent implementation), secrets at rest, the SSRF guard's ranges, the retry schedule.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_RETRY_SECONDS, parseSchedule, retryAfterMs, retryDelayMs, scheduleExhausted } from '../../../webhooks/retry.js';
import { seal, unseal } from '../../../webhooks/secrets.js';
import { newSecret, secretKey, sign, webhookHeaders } from '../../../webhooks/signing.js';
import { TargetPolicy, isRefusedAddress } from '../../../webhooks/ssrf.js';

describe('webhooks: Standard Webhooks signatures', function () {
  it('signs id.timestamp.body so that the standardwebhooks package verifies it', function () {
    const secret = newSecret();
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'object.published', timestamp: '2026-01-01T00:00:00.000000Z', data: { id: 'x' } });
    const ts = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], 'f47ac10b-58cc-4372-a567-0e02b2c3d479', ts, body);
    expect(headers['webhook-signature']).to.match(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).to.deep.equal(JSON.parse(body));
  });

  it('signs with both secrets during a rotation: either verifies', function () {
    const [oldSecret, newer] = [newSecret(), newSecret()];
    const body = '{"type":"x"}';
    const headers = webhookHeaders([newer, oldSecret], 'abc', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature']!.split(' ')).to.have.length(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).to.not.throw();
    expect(() => new Webhook(newer).verify(body, headers)).to.not.throw();
    expect(() => new Webhook(newSecret()).verify(body, headers)).to.throw();
  });

  it('a changed body, id or timestamp fails verification', function () {
    const secret = newSecret();
    const ts = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], 'id1', ts, '{"a":1}');
    const wh = new Webhook(secret);
    expect(() => wh.verify('{"a":2}', headers)).to.throw();
    expect(() => wh.verify('{"a":1}', { ...headers, 'webhook-id': 'id2' })).to.throw();
    expect(() => wh.verify('{"a":1}', { ...headers, 'webhook-timestamp': String(ts + 1) })).to.throw();
  });

  it('matches the specification example vector form and refuses ids with a full stop', function () {
    // The same bytes the package signs with (base64 after whsec_).
    const key = randomBytes(24).toString('base64');
    const sig = sign(`whsec_${key}`, 'msg_1', 1674087231, '{}');
    const theirs = new Webhook(`whsec_${key}`).sign('msg_1', new Date(1674087231 * 1000), '{}');
    expect(sig).to.equal(theirs);
    expect(() => webhookHeaders([newSecret()], 'a.b', 1, '{}')).to.throw(/must not contain/);
  });

  it('accepts whsec_ secrets of 24 to 64 bytes only', function () {
    expect(secretKey(`whsec_${randomBytes(24).toString('base64')}`)).to.have.length(24);
    expect(secretKey(`whsec_${randomBytes(64).toString('base64')}`)).to.have.length(64);
    expect(secretKey(`whsec_${randomBytes(16).toString('base64')}`)).to.equal(undefined);
    expect(secretKey(randomBytes(32).toString('base64'))).to.equal(undefined);
    expect(secretKey('whsec_not base64!')).to.equal(undefined);
  });
});

describe('webhooks: secrets at rest (AES-256-GCM)', function () {
  it('round-trips, differs on every seal, and refuses another key or an altered text', function () {
    const key = randomBytes(32);
    const secret = newSecret();
    const a = seal(key, secret);
    expect(a).to.not.include(secret.slice(6, 20));
    expect(seal(key, secret)).to.not.equal(a);
    expect(unseal(key, a)).to.equal(secret);
    expect(() => unseal(randomBytes(32), a)).to.throw();
    const raw = Buffer.from(a, 'base64');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    expect(() => unseal(key, raw.toString('base64'))).to.throw();
  });
});

describe('webhooks: SSRF guard', function () {
  const refused = [
    '127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '169.254.0.1', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', 'not-an-ip',
  ];
  const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'];
  for (const a of refused) it(`refuses ${a} by default`, () => expect(isRefusedAddress(a)).to.equal(true));
  for (const a of allowed) it(`allows public ${a}`, () => expect(isRefusedAddress(a)).to.equal(false));

  it('takes https only, unless the allow-list names the host (then http and private addresses too)', function () {
    const none = new TargetPolicy([]);
    expect(none.checkUrl('https://hooks.example.com/x')).to.equal(undefined);
    expect(none.checkUrl('http://hooks.example.com/x')).to.match(/https/);
    expect(none.checkUrl('https://127.0.0.1:8443/x')).to.match(/private, loopback/);
    expect(none.checkUrl('https://[::1]/x')).to.match(/private, loopback/);
    expect(none.checkUrl('https://169.254.169.254/latest/meta-data')).to.match(/private, loopback/);
    expect(none.checkUrl('https://localhost/x')).to.match(/internal/);
    expect(none.checkUrl('https://user:pw@hooks.example.com/')).to.match(/credentials/);
    expect(none.checkUrl('ftp://hooks.example.com/')).to.match(/https/);
    expect(none.checkUrl('not a url')).to.match(/not a valid/);
    const local = new TargetPolicy(['localhost', '127.0.0.1:9443', '10.0.0.0/8']);
    expect(local.checkUrl('https://localhost:1234/x')).to.equal(undefined);
    expect(local.checkUrl('http://localhost:1234/x')).to.equal(undefined);
    expect(local.checkUrl('https://127.0.0.1:9443/x')).to.equal(undefined);
    expect(local.checkUrl('https://127.0.0.1:9444/x')).to.match(/private/);
    expect(local.checkUrl('https://10.2.3.4/x')).to.equal(undefined);
    expect(local.mayConnect(new URL('https://hooks.example.com/'), '10.9.9.9')).to.equal(true);
    expect(local.mayConnect(new URL('https://hooks.example.com/'), '192.168.0.1')).to.equal(false);
  });

  it('refuses a name that resolves only to refused addresses, when connecting', function (done) {
    const policy = new TargetPolicy([]);
    const url = new URL('https://localhost.test-meridian/');
    policy.lookupFor(url)('localhost', { all: true }, (err: NodeJS.ErrnoException | null) => {
      try {
        expect(err?.code).to.equal('EREFUSEDTARGET');
        done();
      } catch (e) {
        done(e);
      }
    });
  });
});

describe('webhooks: retry schedule', function () {
  it('follows the Standard Webhooks schedule (5 s … 24 h, the last at 75:35:05) within ±10 % jitter', function () {
    expect(DEFAULT_RETRY_SECONDS.reduce((a, b) => a + b, 0)).to.equal(75 * 3600 + 35 * 60 + 5); // 75:35:05, the last retry
    expect(retryDelayMs(1, DEFAULT_RETRY_SECONDS, () => 0.5)).to.equal(5000);
    expect(retryDelayMs(1, DEFAULT_RETRY_SECONDS, () => 0)).to.equal(4500);
    expect(retryDelayMs(1, DEFAULT_RETRY_SECONDS, () => 1)).to.equal(5500);
    expect(retryDelayMs(2, DEFAULT_RETRY_SECONDS, () => 0.5)).to.equal(300_000);
    expect(retryDelayMs(9, DEFAULT_RETRY_SECONDS, () => 0.5)).to.equal(86_400_000);
    expect(retryDelayMs(20, DEFAULT_RETRY_SECONDS, () => 0.5)).to.equal(86_400_000);
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(3, DEFAULT_RETRY_SECONDS);
      expect(d).to.be.within(1_620_000, 1_980_000);
    }
  });

  it('is used up after the first attempt and every retry failed', function () {
    expect(scheduleExhausted(9, DEFAULT_RETRY_SECONDS)).to.equal(false);
    expect(scheduleExhausted(10, DEFAULT_RETRY_SECONDS)).to.equal(true);
    expect(parseSchedule('0.5, 1,2')).to.deep.equal([0.5, 1, 2]);
  });

  it('reads Retry-After as seconds or an HTTP date, capped at a day', function () {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('120', now)).to.equal(120_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now)).to.equal(60_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).to.equal(0);
    expect(retryAfterMs('9999999', now)).to.equal(86_400_000);
    expect(retryAfterMs('soon', now)).to.equal(undefined);
    expect(retryAfterMs(undefined, now)).to.equal(undefined);
  });
});
