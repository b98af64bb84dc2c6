// Property-based fuzzing (fast-check) of query strings, headers, paths and bodies against the TAXII,
// admin, curation and token endpoints: never a 5xx, every error a well-formed error resource with
// a media type of its API, nothing internal (paths, stacks, SQL) in a body. Bounded: a few hundred
// requests in all, so the suite stays fast; a failure prints the seed to replay it.
import { expect } from 'chai';
import fc from 'fast-check';
import request from 'supertest';
import { type World, world } from './support.js';

const TAXII21 = 'application/taxii+json;version=2.1';
const TAXII20 = 'application/vnd.oasis.taxii+json; version=2.0';
const ADMIN = 'application/json; charset=utf-8';
/** Runs per property; MERIDIAN_FUZZ_RUNS=5000 for a long hunt by hand. */
const RUNS = Number(process.env.MERIDIAN_FUZZ_RUNS ?? 60);
/** What a body must never show a client. */
const INTERNALS = /(\/work\/|node_modules|\bat [\w.<>]+ \(|\.ts:\d+|SQLITE_|sqlite3?|MongoServerError|E11000|TypeError|ReferenceError|Cannot read propert)/i;

/** The invariant every answer keeps. */
function wellFormed(res: request.Response, what: string): void {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).to.be.below(500);
  expect(res.text, what).not.to.match(INTERNALS);
  if (res.status < 400) return;
  const type = String(res.headers['content-type'] ?? '');
  expect([TAXII21, TAXII20, ADMIN], `${what}: media type ${type}`).to.include(type);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body.http_status, what).to.equal(String(res.status));
  expect(body.error_code, what).to.be.a('string').and.match(/^TAXII_ERR_[A-Z_]+$/);
  expect(body.title, what).to.be.a('string');
}

const anyPath = () => fc.constantFrom(...paths);
/** Text with what breaks parsers: percent signs, brackets, unicode, control characters, long runs. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('%', '%zz', '%00', '%C0%AF', '%ED%A0%80', '[]', 'match[', 'match[id]', 'limit', 'next', 'added_after', '__proto__', 'constructor', '\u0000', '../..', "' OR 1=1 --", '{"$gt":""}', 'a'.repeat(5000), '-1', '1e999', 'NaN'),
);

let w: World;
let paths: string[];

describe('fuzzing: never a 5xx, always a well-formed error', function () {
  this.timeout(120_000);

  before(async function () {
    // Budgets and login throttles off: the fuzzer sends hundreds of requests and bad credentials from one address.
    w = await world({ rateLimitAddressPerMinute: 0, rateLimitReadsPerMinute: 0, rateLimitWritesPerMinute: 0, rateLimitLoginsPerMinute: 0, loginFailureLimit: 10000, loginAddressFailureLimit: 100000 });
    await w.add([{ type: 'indicator', spec_version: '2.1', id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z' }]);
    const c = w.base();
    paths = [
      '/taxii2/', '/api1/', '/api1/collections/', `${c}/`, `${c}/objects/`, `${c}/manifest/`, `${c}/changes/`,
      `${c}/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/`, `${c}/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/versions/`,
      '/api1/status/00000000-0000-4000-8000-000000000000/', '/admin/v1/accounts', '/admin/v1/organisations', '/admin/v1/api-roots',
      '/admin/v1/collections', '/admin/v1/grants', '/admin/v1/audit', '/admin/v1/curation/queue', '/admin/v1/subscriptions', '/auth/token',
    ];
  });

  it('query strings', async function () {
    await fc.assert(
      fc.asyncProperty(anyPath(), fc.array(fc.tuple(nasty, nasty), { maxLength: 6 }), fc.boolean(), async (path, pairs, raw) => {
        const query = pairs.map(([k, v]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
        const url = `${path}?${query}`.replace(/[\s#]/g, (c) => encodeURIComponent(c));
        const res = await request(w.app).get(url).set('Accept', TAXII21).set('Authorization', w.admin.auth);
        wellFormed(res, `GET ${url}`);
      }),
      { numRuns: RUNS },
    );
  });

  // Live streams (Accept: text/event-stream) stay open by design: test/http/changes.test.ts covers them.
  it('headers: Accept, Authorization, Range, X-Request-Id, Last-Event-ID', async function () {
    const header = fc.oneof(nasty, fc.constantFrom(TAXII21, TAXII20, '*/*', 'application/json', 'Basic', 'Bearer', 'Bearer a.b.c', 'Basic Og==', 'Basic !!!', 'Token mrd_', 'items 0-', 'items=5-1'));
    const printable = header.map((s) => s.replace(/[^\t\x20-\x7e]/g, ''));
    await fc.assert(
      fc.asyncProperty(anyPath(), fc.record({ accept: printable, authorization: printable, range: printable, id: printable, last: printable }), fc.boolean(), async (path, h, asAdmin) => {
        const r = request(w.app).get(path).set('Accept', h.accept).set('Range', h.range).set('X-Request-Id', h.id).set('Last-Event-ID', h.last);
        r.set('Authorization', asAdmin ? w.admin.auth : h.authorization);
        const res = await r;
        wellFormed(res, `GET ${path} with ${JSON.stringify(h)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('paths', async function () {
    const segment = fc.oneof(nasty.map((s) => encodeURIComponent(s)), fc.constantFrom('..', '.', '%2e%2e', '%2F', 'collections', 'objects', 'versions', 'manifest', 'status', 'admin', 'v1', 'api1', w ? w.main.id : 'x', '%', '%zz'));
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'), async (segments, method) => {
        const url = `/${segments.join('/')}/`;
        const res = await request(w.app)[method.toLowerCase() as 'get'](url).set('Accept', TAXII21).set('Content-Type', TAXII21).set('Authorization', w.admin.auth).send('{}');
        wellFormed(res, `${method} ${url}`);
      }),
      { numRuns: RUNS },
    );
  });

  /** Bodies that break JSON handling: deep nesting, __proto__ and duplicate keys, huge strings, bad UTF-8. */
  const body = fc.oneof(
    fc.json({ depthSize: 'medium' }).map((s) => Buffer.from(s)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ objects: [v] }))),
    fc.integer({ min: 1, max: 5000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
    fc.integer({ min: 1, max: 5000 }).map((n) => Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
    fc.constantFrom(
      Buffer.from('{"__proto__":{"polluted":true},"objects":[{"__proto__":{"type":"indicator"}}]}'),
      Buffer.from('{"objects":[],"objects":[{"type":"x"}],"username":"a","username":"b"}'),
      Buffer.from('{"constructor":{"prototype":{"polluted":true}}}'),
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]),
      Buffer.from(`{"objects":[{"type":"indicator","name":"${'x'.repeat(200_000)}"}]}`),
      Buffer.from(''),
      Buffer.from('null'),
      Buffer.from('\ufeff{"objects":[]}'),
    ),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  );

  it('bodies: TAXII objects, the token endpoint, the admin and curation APIs', async function () {
    const target = fc.constantFrom(
      { path: () => `${w.base()}/objects/`, type: TAXII21 },
      { path: () => '/auth/token', type: 'application/json' },
      { path: () => '/auth/token', type: 'application/x-www-form-urlencoded' },
      { path: () => '/admin/v1/accounts', type: 'application/json' },
      { path: () => '/admin/v1/grants', type: 'application/json' },
      { path: () => '/admin/v1/collections', type: 'application/json' },
      { path: () => '/admin/v1/curation/decisions', type: 'application/json' },
    );
    await fc.assert(
      fc.asyncProperty(target, body, fc.boolean(), async (t, payload, asAdmin) => {
        const r = request(w.app).post(t.path()).set('Accept', TAXII21).set('Content-Type', t.type);
        if (asAdmin) r.set('Authorization', w.admin.auth);
        const res = await r.send(payload);
        wellFormed(res, `POST ${t.path()} (${t.type}) with ${payload.length} bytes: ${payload.subarray(0, 80).toString('latin1')}`);
      }),
      { numRuns: RUNS },
    );
    await w.service.idle();
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
