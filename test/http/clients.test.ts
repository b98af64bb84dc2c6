// The TAXII clients subscribers really run (docs/architecture.md §6a, docs/clients.md), emulated
// request by request: how each authenticates, builds its URLs, picks its collection and pages.
// Every style must end with exactly the object set a plain TAXII 2.1 poll returns.
import { expect } from 'chai';
import request from 'supertest';
import { Admin } from '../../server/admin/admin.js';
import { TAXII_TIMESTAMP, expectDateAddedHeaders, expectResource, json } from '../helpers/taxii-schemas.js';
import { TAXII_MEDIA_TYPE, type World, indicator, world } from './support.js';

const ENVELOPES = 3;
const PER_ENVELOPE = 7;
const PAGE = 4;

type Body = { more?: boolean; next?: string; objects?: Array<{ id: string; modified?: string }> };

describe('HTTP clients: every client style polls the same objects as a plain TAXII 2.1 poll', function () {
  this.timeout(60_000);
  let w: World;
  let key: string;
  /** id@modified of every object a plain poll returns. */
  let reference: string[];

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const versionOf = (o: { id: string; modified?: string }) => `${o.id}@${o.modified ?? ''}`;

  before(async () => {
    w = await world({ apiKeyHeader: 'X-API-Key', maxPageSize: 1000 });
    key = (await new Admin(w.store, { name: 'test-operator' }).addApiKey('reader', { name: 'siem' })).secret;
    for (let e = 0; e < ENVELOPES; e++) {
      const objects = Array.from({ length: PER_ENVELOPE }, (_, i) => indicator({ created: `2024-0${e + 1}-0${i + 1}T10:00:00.000Z` }));
      // Splunk CTIS posts a STIX bundle with the TAXII media type (the writer's own API key here).
      if (e === 1) {
        const writerKey = (await new Admin(w.store, { name: 'test-operator' }).addApiKey('rw', { name: 'splunk' })).secret;
        const res = await request(w.app).post(`${w.base()}/objects/`).set('Accept', TAXII_MEDIA_TYPE).set('Content-Type', TAXII_MEDIA_TYPE)
          .set('Authorization', `Bearer ${writerKey}`).send(JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects }));
        expect(res.status, res.text).to.equal(202);
        expect(json(res)).to.include({ success_count: PER_ENVELOPE, failure_count: 0 });
        await w.service.idle();
      } else {
        await w.add(objects);
      }
    }
    // A second version of one object: `last` by default, as in a plain poll.
    const first = json(await w.get(`${w.base()}/objects/?limit=1`, w.reader)).objects[0];
    await w.add([{ ...first, modified: '2025-06-01T00:00:00.000Z' }]);
    const plain = json(await w.get(`${w.base()}/objects/?limit=1000`, w.reader)) as Body;
    expect(plain.more).to.equal(false);
    reference = plain.objects!.map(versionOf).sort();
    expect(reference).to.have.length(ENVELOPES * PER_ENVELOPE);
  });

  /** A GET as a client sends it; every 200 of a paged endpoint must carry well-formed date headers. */
  async function get(path: string, auth: Record<string, string>) {
    const r = request(w.app).get(path).set('Accept', TAXII_MEDIA_TYPE);
    for (const [name, value] of Object.entries(auth)) r.set(name, value);
    const res = await r;
    expect(res.status, `${path}: ${res.text.slice(0, 300)}`).to.equal(200);
    if (/\/(objects|manifest|versions)\/?(\?|$)/.test(path)) expectDateAddedHeaders(res);
    return res;
  }

  /** Pages an objects URL; `follow` builds the next request from the last response. */
  async function pages(first: string, auth: Record<string, string>, follow: (body: Body, headers: { first: string; last: string }) => string) {
    const seen: string[] = [];
    let path = first;
    for (let n = 0; n < 50; n++) {
      const res = await get(path, auth);
      const body = json(res) as Body;
      expectResource('envelope', body);
      if (body.more) expect(body.next, 'never more: true without next').to.be.a('string');
      seen.push(...(body.objects ?? []).map(versionOf));
      if (!body.more) return seen;
      path = follow(body, expectDateAddedHeaders(res));
    }
    throw new Error('paging did not end');
  }

  /** Discovery → API root → collections, as a client walks them; returns the chosen collection URL path. */
  async function walk(discoveryPath: string, auth: Record<string, string>, pick: (c: { id: string; title: string }) => boolean, join = (base: string, p: string) => `${base}${p}`) {
    const discovery = json(await get(discoveryPath, auth));
    const rootUrl: string = discovery.default ?? discovery.api_roots[0];
    expect(discovery.api_roots).to.include(rootUrl);
    const rootPath = new URL(rootUrl).pathname;
    expectResource('api-root', json(await get(rootPath, auth)));
    const collections = json(await get(join(rootPath, '/collections/'), auth)).collections as Array<{ id: string; title: string }>;
    const chosen = collections.find(pick);
    expect(chosen, 'the collection is listed').to.not.equal(undefined);
    // Clients check the id in the collection resource against the one they asked for.
    const resource = json(await get(join(rootPath, `/collections/${chosen!.id}/`), auth));
    expect(resource.id).to.equal(chosen!.id);
    return join(rootPath, `/collections/${chosen!.id}`);
  }

  it('python taxii2-client TokenAuth (Cortex XSOAR, OpenCTI connector): Token <key>, discovery default, `next` alone', async () => {
    const auth = { Authorization: `Token ${key}` };
    const collection = await walk('/taxii2/', auth, (c) => c.id === w.main.id);
    const seen = await pages(`${collection}/objects/?limit=${PAGE}`, auth, (b) => `${collection}/objects/?next=${encodeURIComponent(b.next!)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('Bearer with an API key (Elastic, OpenCTI built-in, Cisco): base/ + /root joins, `next` with the original filters', async () => {
    const auth = { Authorization: `Bearer ${key}` };
    const collection = await walk('//taxii2/', auth, (c) => c.title === 'Main', (base, p) => `${base}/${p}`);
    expect(collection).to.include('//');
    const filters = `limit=${PAGE}&match[type]=indicator`;
    const seen = await pages(`${collection}/objects/?${filters}`, auth, (b) => `${collection}/objects/?${filters}&next=${encodeURIComponent(b.next!)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('Microsoft Sentinel / QRadar 2.1 style: Basic with the key as password and an empty user-id, by title, added_after = X-TAXII-Date-Added-Last', async () => {
    const auth = { Authorization: basic('', key) };
    const collection = await walk('/taxii2', auth, (c) => c.title === 'Main');
    const seen = await pages(`${collection}/objects/?limit=${PAGE}`, auth, (_b, h) => `${collection}/objects/?limit=${PAGE}&added_after=${encodeURIComponent(h.last)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('MISP / EclecticIQ: lower-case `basic` scheme, the key as password beside any user-id, paths without trailing slashes', async () => {
    const auth = { Authorization: basic('apikey', key).replace('Basic', 'basic') };
    const seen = await pages(`/api1/collections/${w.main.id}/objects?limit=${PAGE}`, auth, (b) => `/api1/collections/${w.main.id}/objects?next=${encodeURIComponent(b.next!)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('Splunk / Sumo Logic: the key as Basic user-id with an empty password, the collection by alias and percent-encoded', async () => {
    const auth = { Authorization: basic(key, '') };
    const collection = `/api1/collections/${encodeURIComponent('main')}`;
    const seen = await pages(`${collection}/objects/?limit=${PAGE}`, auth, (_b, h) => `${collection}/objects/?limit=${PAGE}&added_after=${encodeURIComponent(h.last)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('ThreatConnect / Google SecOps: the configured API-key header, discovery probed at /taxii/', async () => {
    const auth = { 'X-API-Key': key };
    const collection = await walk('/taxii/', auth, (c) => c.id === w.main.id);
    const seen = await pages(`${collection}/objects/?limit=${PAGE}`, auth, (b) => `${collection}/objects/?next=${encodeURIComponent(b.next!)}`);
    expect(seen.sort()).to.deep.equal(reference);
  });

  it('Cortex XSOAR feed cursor: added_after = the largest STIX `modified` seen, across polls, loses nothing', async () => {
    const auth = { Authorization: `Token ${key}` };
    const collection = `/api1/collections/${w.main.id}`;
    const poll = async (after: string | undefined) => {
      const body = json(await get(`${collection}/objects/?limit=1000${after ? `&added_after=${encodeURIComponent(after)}` : ''}`, auth)) as Body;
      return body.objects ?? [];
    };
    const cursorOf = (objects: Array<{ modified?: string }>) => objects.map((o) => o.modified!).sort().at(-1)!;
    const firstPoll = await poll('2020-01-01T00:00:00.000Z');
    const cursor = cursorOf(firstPoll);
    expect(cursor).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Objects that arrive between polls with a newer `modified` come in the next poll.
    const late = [indicator({ created: '2025-07-01T00:00:00.000Z' }), indicator({ created: '2025-07-02T00:00:00.000Z' })];
    await w.add(late);
    const secondPoll = await poll(cursor);
    const union = new Set([...firstPoll, ...secondPoll].map(versionOf));
    const plainNow = (json(await get(`${collection}/objects/?limit=1000`, auth)) as Body).objects!.map(versionOf);
    expect([...union].sort()).to.deep.equal([...plainNow].sort());
    for (const o of late) expect(secondPoll.map((s) => s.id)).to.include(o.id);
    // Undo: the other tests compare against the reference taken before.
    for (const o of late) await w.del(`${collection}/objects/${o.id}/`, w.rw).expect(200);
  });
});

describe('HTTP clients: added_after in every precision clients send', () => {
  let w: World;
  let dates: string[];
  before(async () => {
    w = await world();
    await w.add([indicator(), indicator(), indicator()]);
    dates = (json(await w.get(`${w.base()}/manifest/`)).objects as Array<{ date_added: string }>).map((r) => r.date_added);
  });

  /** Spellings of the instant `iso` (six fractional digits, Z) truncated or extended as clients send it. */
  function spellings(iso: string): Array<[string, string]> {
    const [head, frac] = iso.slice(0, -1).split('.') as [string, string];
    return [
      ['no fraction', `${head}Z`],
      ['1 digit', `${head}.${frac.slice(0, 1)}Z`],
      ['3 digits', `${head}.${frac.slice(0, 3)}Z`],
      ['6 digits', `${head}.${frac}Z`],
      ['9 digits', `${head}.${frac}999Z`],
      ['+00:00', `${head}.${frac}+00:00`],
      ['lower-case z', `${head}.${frac}z`],
      ['lower-case t', `${head.replace('T', 't')}.${frac}Z`],
    ];
  }

  it('each spelling selects exactly the objects added strictly after the instant it names', async () => {
    const micros = (s: string) => Date.parse(s.slice(0, 19) + 'Z') * 1000 + Number((s.split('.')[1] ?? '').replace(/[^0-9].*$/, '').slice(0, 6).padEnd(6, '0'));
    for (const [what, value] of spellings(dates[1]!)) {
      const res = await w.get(`${w.base()}/manifest/?added_after=${encodeURIComponent(value)}`);
      expect(res.status, `${what}: ${res.text}`).to.equal(200);
      const got = (json(res).objects ?? []).map((r: { date_added: string }) => r.date_added);
      const expected = dates.filter((d) => micros(d) > micros(value.replace('+00:00', 'Z').replace(/z$/, 'Z')));
      expect(got, what).to.deep.equal(expected);
      expectDateAddedHeaders(res);
    }
  });

  it('an unencoded "+" (read as a space) is still the offset', async () => {
    const value = `${dates[0]!.slice(0, -1)}+00:00`;
    const res = await w.get(`${w.base()}/manifest/?added_after=${value}`);
    expect(res.status, res.text).to.equal(200);
    expect(json(res).objects.map((r: { date_added: string }) => r.date_added)).to.deep.equal(dates.slice(1));
  });

  it('a value that is no RFC 3339 timestamp is a 400 naming added_after, never a 500', async () => {
    for (const bad of ['2024-13-01T00:00:00Z', 'yesterday', '2024-01-01', '2024-01-01T00:00:00', '1704067200']) {
      const res = await w.get(`${w.base()}/objects/?added_after=${encodeURIComponent(bad)}`);
      expect(res.status, bad).to.equal(400);
      expect(json(res).description).to.match(/added_after/);
    }
  });

  it('every 200 carries both date headers with six fractional digits; empty pages too, with no objects and no next', async () => {
    const empty = [`${w.base()}/objects/?added_after=2999-01-01T00:00:00Z`, `${w.base()}/manifest/?match[type]=malware`, `${w.base()}/objects/?match[id]=indicator--00000000-0000-4000-8000-000000000000`];
    for (const path of [`${w.base()}/objects/`, `${w.base()}/manifest/?limit=1`, ...empty]) {
      const res = await w.get(path);
      expect(res.status).to.equal(200);
      const { first, last } = expectDateAddedHeaders(res);
      expect(first, path).to.match(TAXII_TIMESTAMP);
      expect(last, path).to.match(TAXII_TIMESTAMP);
      expect(first <= last).to.equal(true);
      if (empty.includes(path)) {
        const body = json(res);
        expect(body.objects, path).to.equal(undefined);
        expect(body.next, path).to.equal(undefined);
        expect(body.more ?? false, path).to.equal(false);
      }
    }
  });
});

describe('HTTP clients: discovery as clients use it', () => {
  it('`default` is the caller’s only root; absent when the caller sees several and none is configured', async () => {
    const w = await world();
    await w.root('api2');
    const c2 = await w.collection('api2', { title: 'Second' });
    await w.grant(w.reader, c2.id, { read: true });
    const one = json(await w.get('/taxii2/', w.rw));
    expect(one.api_roots).to.deep.equal(['https://taxii.example.org/api1/']);
    expect(one.default).to.equal('https://taxii.example.org/api1/');
    const two = json(await w.get('/taxii2/', w.reader));
    expect(two.api_roots).to.have.length(2);
    expect(two).to.not.have.property('default');
  });

  it('behind a proxy with a path prefix: absolute URLs under --public-base-url, and the API root answers at them', async () => {
    const w = await world({ publicBaseUrl: 'https://gw.example.org/cti' });
    const discovery = json(await w.get('/taxii2/'));
    expect(discovery.api_roots).to.deep.equal(['https://gw.example.org/cti/api1/']);
    // The proxy strips its prefix; what reaches Meridian is the rest of the advertised path.
    const forwarded = new URL(discovery.api_roots[0]).pathname.replace(/^\/cti/, '');
    expectResource('api-root', json(await w.get(forwarded)));
  });

  it('discovery aliases are configurable: none, or others than /taxii/', async () => {
    const none = await world({ discoveryAliases: '' });
    expect((await none.get('/taxii/')).status).to.equal(404);
    const other = await world({ discoveryAliases: 'taxii,discovery' });
    for (const path of ['/taxii', '/taxii/', '/discovery/', '//discovery']) expectResource('discovery', json(await other.get(path)));
    // An alias only stands for discovery, never for an API root's paths.
    expect((await other.get('/discovery/collections/')).status).to.equal(404);
  });
});
