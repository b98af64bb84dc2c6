// The read-only TAXII 2.0 view (docs/clients.md), driven with requests built from TAXII 2.0 CS01
// and the way python taxii2-client's v20 module sends them: 2.0 media types, discovery at /taxii/,
// Range paging to the end with as_pages' own arithmetic, 416 past the end, write methods refused,
// and every object sent checked against STIX 2.0's rules.
import { expect } from 'chai';
import request from 'supertest';
import { stix20Violations } from '../helpers/stix20-rules.js';
import { json } from '../helpers/taxii-schemas.js';
import { TAXII_MEDIA_TYPE, type World, indicator, world } from './support.js';

const TAXII20 = 'application/vnd.oasis.taxii+json; version=2.0';
const STIX20 = 'application/vnd.oasis.stix+json; version=2.0';
const uuid = () => crypto.randomUUID();
const TLP_RED = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';

describe('HTTP TAXII 2.0 view (read-only, per API root)', function () {
  this.timeout(60_000);
  let w: World;
  /** Objects posted that 2.0 can express, and those it cannot. */
  const expressible: string[] = [];
  const inexpressible: string[] = [];
  let observed: string;
  let red: string;

  const get20 = (path: string, who = w.reader, accept = TAXII20, headers: Record<string, string> = {}) => {
    const r = request(w.app).get(path).set('Accept', accept);
    if (who) r.set('Authorization', who.auth);
    for (const [n, v] of Object.entries(headers)) r.set(n, v);
    return r;
  };

  before(async () => {
    w = await world({ maxPageSize: 1000 });
    await w.grant(w.reader, w.main.id, { read: true, maxTlp: 'amber' });
    const indicators = Array.from({ length: 12 }, (_, i) => indicator({ created: `2024-02-${String(i + 1).padStart(2, '0')}T00:00:00.000Z` }));
    const ip = { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${uuid()}`, value: '198.51.100.7' };
    const domain = { type: 'domain-name', spec_version: '2.1', id: `domain-name--${uuid()}`, value: 'evil.example.com', resolves_to_refs: [ip.id] };
    const malware = { type: 'malware', spec_version: '2.1', id: `malware--${uuid()}`, created: '2024-03-01T00:00:00.000Z', modified: '2024-03-01T00:00:00.000Z', name: 'Dropper', malware_types: ['dropper'], is_family: true, aliases: ['Drp'] };
    const od = { type: 'observed-data', spec_version: '2.1', id: `observed-data--${uuid()}`, created: '2024-03-02T00:00:00.000Z', modified: '2024-03-02T00:00:00.000Z', first_observed: '2024-03-01T00:00:00Z', last_observed: '2024-03-01T01:00:00Z', number_observed: 3, object_refs: [domain.id, ip.id] };
    const identity = { type: 'identity', spec_version: '2.1', id: `identity--${uuid()}`, created: '2024-03-03T00:00:00.000Z', modified: '2024-03-03T00:00:00.000Z', name: 'ACME CERT', confidence: 80 };
    const location = { type: 'location', spec_version: '2.1', id: `location--${uuid()}`, created: '2024-03-04T00:00:00.000Z', modified: '2024-03-04T00:00:00.000Z', country: 'FR' };
    const uses = { type: 'relationship', spec_version: '2.1', id: `relationship--${uuid()}`, created: '2024-03-05T00:00:00.000Z', modified: '2024-03-05T00:00:00.000Z', relationship_type: 'indicates', source_ref: indicators[0]!.id, target_ref: malware.id };
    const located = { type: 'relationship', spec_version: '2.1', id: `relationship--${uuid()}`, created: '2024-03-06T00:00:00.000Z', modified: '2024-03-06T00:00:00.000Z', relationship_type: 'located-at', source_ref: identity.id, target_ref: location.id };
    const grouping = { type: 'grouping', spec_version: '2.1', id: `grouping--${uuid()}`, created: '2024-03-07T00:00:00.000Z', modified: '2024-03-07T00:00:00.000Z', context: 'suspicious-activity', object_refs: [malware.id] };
    const redIndicator = { ...indicator({ created: '2024-03-08T00:00:00.000Z' }), object_marking_refs: [TLP_RED] };
    await w.add([...indicators, ip, domain, malware, od, identity, location, uses, located, grouping, redIndicator]);
    expressible.push(...indicators.map((i) => i.id), malware.id, od.id, identity.id, uses.id);
    inexpressible.push(ip.id, domain.id, location.id, located.id, grouping.id);
    observed = od.id;
    red = redIndicator.id;
  });

  it('is off by default: a 2.0 request to the root is a 406 with a TAXII 2.0 error, and 2.0 discovery lists no root', async () => {
    const res = await get20('/api1/');
    expect(res.status).to.equal(406);
    expect(res.headers['content-type']).to.equal(TAXII20);
    expect(json(res)).to.include({ http_status: '406', error_code: 'TAXII_ERR_NOT_ACCEPTABLE' });
    expect(json(await get20('/taxii/'))).to.not.have.property('api_roots');
  });

  it('is enabled through the admin API (taxii20: true), and TAXII 2.1 answers as before', async () => {
    const res = await request(w.app).patch('/admin/v1/api-roots/api1').set('Authorization', w.admin.auth).set('Content-Type', 'application/json').send({ taxii20: true });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.taxii20).to.equal(true);
    const v21 = await get20('/api1/', w.reader, TAXII_MEDIA_TYPE);
    expect(v21.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
    expect(json(v21).versions).to.deep.equal([TAXII_MEDIA_TYPE]);
    // A wildcard or no Accept stays TAXII 2.1.
    expect((await get20('/api1/', w.reader, '*/*')).headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
  });

  it('TAXII 2.0 §4.1/§4.2/§5.1/§5.2: discovery at /taxii/, API root with versions ["taxii-2.0"], published readable collections, never writable', async () => {
    const discovery = await get20('/taxii/');
    expect(discovery.status).to.equal(200);
    expect(discovery.headers['content-type']).to.equal(TAXII20);
    expect(json(discovery)).to.deep.include({ api_roots: ['https://taxii.example.org/api1/'], default: 'https://taxii.example.org/api1/' });
    const root = json(await get20('/api1/'));
    expect(root).to.deep.equal({ title: 'Root api1', versions: ['taxii-2.0'], max_content_length: root.max_content_length });
    const collections = json(await get20('/api1/collections/')).collections;
    expect(collections).to.deep.equal([{ id: w.main.id, title: 'Main', can_read: true, can_write: false, media_types: [STIX20] }]);
    // By alias too; the resource gives the id.
    expect(json(await get20('/api1/collections/main/')).id).to.equal(w.main.id);
    // The read-write account sees `other` too, still read-only in 2.0.
    const rw = json(await get20('/api1/collections/', w.rw)).collections;
    expect(rw.map((c: { id: string }) => c.id)).to.deep.equal([w.main.id, w.other.id]);
    expect(rw.every((c: { can_write: boolean }) => c.can_write === false)).to.equal(true);
  });

  /** python taxii2-client v20 as_pages: Range items=a-b, totals from Content-Range, until start ≥ N. */
  async function asPages(path: string, perRequest: number, accept = STIX20) {
    const pages: Array<{ status: number; body: any; headers: Record<string, string> }> = [];
    let start = 0;
    let total = Infinity;
    while (start < total) {
      const res = await get20(path, w.reader, accept, { Range: `items=${start}-${start + perRequest - 1}` });
      expect([200, 206], res.text).to.include(res.status);
      expect(res.headers['content-type']).to.equal(accept);
      const m = /^items (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
      expect(m, res.headers['content-range']).to.not.equal(null);
      expect(Number(m![1])).to.equal(start);
      total = Number(m![3]);
      pages.push({ status: res.status, body: json(res), headers: res.headers as Record<string, string> });
      start += perRequest;
      expect(pages.length).to.be.below(100);
    }
    return pages;
  }

  it('TAXII 2.0 §5.3: objects paged with Range to the end (as_pages terminates), STIX 2.0 bundles of exactly what 2.0 can express', async () => {
    const pages = await asPages(`/api1/collections/${w.main.id}/objects/`, 5);
    const objects = pages.flatMap((p) => p.body.objects ?? []);
    for (const p of pages) {
      expect(p.body).to.include({ type: 'bundle', spec_version: '2.0' });
      expect(p.body.id).to.match(/^bundle--[0-9a-f-]{36}$/);
      expect(p.headers['x-taxii-date-added-first']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    expect(pages.at(-1)!.status).to.equal(206);
    const ids = objects.map((o: { id: string }) => o.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal([...expressible].sort());
    for (const id of inexpressible) expect(ids).to.not.include(id);
    expect(ids, 'above the TLP cap').to.not.include(red);
    expect(pages.map((p) => p.headers['x-meridian-stix20-skipped']).filter(Boolean).join(', ')).to.match(/type-not-in-stix-2.0=\d/);
    for (const o of objects) expect(stix20Violations(o), JSON.stringify(o)).to.deep.equal([]);
    // Down-conversion, object by object.
    const byId = new Map(objects.map((o: { id: string }) => [o.id, o]));
    const malware = objects.find((o: { type: string }) => o.type === 'malware');
    expect(malware).to.include({ name: 'Dropper' }).and.to.deep.include({ labels: ['dropper'] });
    expect(malware).to.not.have.any.keys('is_family', 'malware_types', 'aliases', 'spec_version');
    const ind = byId.get(expressible[0]!) as Record<string, unknown>;
    expect(ind.labels).to.deep.equal(['malicious-activity']);
    expect(ind).to.not.have.any.keys('indicator_types', 'pattern_type', 'spec_version');
    const od = byId.get(observed) as unknown as { objects: Record<string, Record<string, unknown>> };
    expect(od).to.not.have.property('object_refs');
    expect(od.objects['0']).to.deep.equal({ type: 'domain-name', value: 'evil.example.com', resolves_to_refs: ['1'] });
    expect(od.objects['1']).to.deep.equal({ type: 'ipv4-addr', value: '198.51.100.7' });
    const identity = objects.find((o: { type: string }) => o.type === 'identity');
    expect(identity).to.include({ identity_class: 'unknown' }).and.not.have.property('confidence');
  });

  it('TAXII 2.0 §3.4: a range past the end is a 416 with Content-Range items */N; "items a-b" with a space works; a malformed Range is a 400', async () => {
    const path = `/api1/collections/${w.main.id}/objects/`;
    const all = await get20(path, w.reader, STIX20);
    expect(all.status).to.equal(200);
    const total = Number(/\/(\d+)$/.exec(all.headers['content-range']!)![1]);
    const past = await get20(path, w.reader, STIX20, { Range: `items=${total}-${total + 9}` });
    expect(past.status).to.equal(416);
    expect(past.headers['content-range']).to.equal(`items */${total}`);
    expect(past.headers['content-type']).to.equal(TAXII20);
    expect(json(past)).to.include({ http_status: '416', error_code: 'TAXII_ERR_RANGE_NOT_SATISFIABLE' });
    const spaced = await get20(path, w.reader, STIX20, { Range: 'items 0-2' });
    expect(spaced.status).to.equal(206);
    expect(spaced.headers['content-range']).to.equal(`items 0-2/${total}`);
    for (const bad of ['items=5-2', 'items=x-3', 'items=-3']) {
      const res = await get20(path, w.reader, STIX20, { Range: bad });
      expect(res.status, bad).to.equal(400);
      expect(res.headers['content-type']).to.equal(TAXII20);
    }
    // Another unit is ignored (RFC 7233 §3.1): the whole selection.
    expect((await get20(path, w.reader, STIX20, { Range: 'bytes=0-10' })).status).to.equal(200);
  });

  it('an empty selection is a 200 with Content-Range items */0, so as_pages ends at once', async () => {
    const pages = await (async () => {
      const res = await get20(`/api1/collections/${w.main.id}/objects/?added_after=2999-01-01T00:00:00Z`, w.reader, STIX20, { Range: 'items=0-9' });
      return res;
    })();
    expect(pages.status).to.equal(200);
    expect(pages.headers['content-range']).to.equal('items */0');
    expect(json(pages)).to.include({ type: 'bundle', spec_version: '2.0' }).and.not.have.property('objects');
  });

  it('TAXII 2.0 §3.5 filters: added_after, match[type], match[id], match[version]; 2.1-only parameters are ignored', async () => {
    const path = `/api1/collections/${w.main.id}/objects/`;
    const malware = json(await get20(`${path}?match[type]=malware&limit=1&next=x&match[spec_version]=2.1`, w.reader, STIX20));
    expect(malware.objects.map((o: { type: string }) => o.type)).to.deep.equal(['malware']);
    const one = json(await get20(`${path}?match[id]=${expressible[3]}&match[version]=all`, w.reader, STIX20));
    expect(one.objects.map((o: { id: string }) => o.id)).to.deep.equal([expressible[3]]);
    const first = await get20(`${path}?match[type]=indicator`, w.reader, STIX20);
    const after = json(await get20(`${path}?match[type]=indicator&added_after=${encodeURIComponent(first.headers['x-taxii-date-added-first']!)}`, w.reader, STIX20));
    expect(after.objects).to.have.length(json(first).objects.length - 1);
    expect((await get20(`${path}?added_after=yesterday`, w.reader, STIX20)).status).to.equal(400);
  });

  it('TAXII 2.0 §5.5/§5.6: one object as a bundle; the manifest lists per object its versions and the 2.0 media type, only for what objects/ sends', async () => {
    const base = `/api1/collections/${w.main.id}`;
    const one = json(await get20(`${base}/objects/${observed}/`, w.reader, STIX20));
    expect(one.objects.map((o: { id: string }) => o.id)).to.deep.equal([observed]);
    expect((await get20(`${base}/objects/${inexpressible[4]}/`, w.reader, STIX20)).status).to.equal(404);
    expect((await get20(`${base}/objects/${red}/`, w.reader, STIX20)).status, 'above the TLP cap').to.equal(404);
    const pages = await asPages(`${base}/manifest/`, 7, TAXII20);
    const entries = pages.flatMap((p) => p.body.objects ?? []);
    expect(entries.map((e: { id: string }) => e.id).sort()).to.deep.equal([...expressible].sort());
    for (const e of entries) {
      expect(Object.keys(e).sort()).to.deep.equal(['date_added', 'id', 'media_types', 'versions']);
      expect(e.media_types).to.deep.equal([STIX20]);
      expect(e.versions).to.have.length(1);
    }
  });

  it('no writes: POST and DELETE are a 405 with a TAXII 2.0 error body and Allow: GET, HEAD', async () => {
    const base = `/api1/collections/${w.main.id}`;
    const post = await request(w.app).post(`${base}/objects/`).set('Accept', TAXII20).set('Content-Type', STIX20).set('Authorization', w.rw.auth)
      .send(JSON.stringify({ type: 'bundle', id: `bundle--${uuid()}`, spec_version: '2.0', objects: [] }));
    expect(post.status).to.equal(405);
    expect(post.headers['content-type']).to.equal(TAXII20);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect(json(post)).to.include({ http_status: '405', error_code: 'TAXII_ERR_METHOD_NOT_ALLOWED' });
    const del = await request(w.app).delete(`${base}/objects/${expressible[0]}/`).set('Accept', TAXII20).set('Authorization', w.rw.auth);
    expect(del.status).to.equal(405);
    // Nothing was deleted.
    expect(json(await get20(`${base}/objects/${expressible[0]}/`, w.reader, STIX20)).objects).to.have.length(1);
  });

  it('same authentication and grants as TAXII 2.1: 401 (as a 2.0 error), 404 without a grant, 403 for a write-only caller', async () => {
    const base = `/api1/collections/${w.main.id}`;
    const anonymous = await request(w.app).get(`${base}/objects/`).set('Accept', STIX20);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers['content-type']).to.equal(TAXII20);
    expect(anonymous.headers['www-authenticate']).to.match(/^Basic /);
    expect((await get20(`${base}/objects/`, w.stranger, STIX20)).status).to.equal(404);
    expect(json(await get20('/api1/collections/', w.stranger)).collections.map((c: { id: string }) => c.id)).to.deep.equal([w.other.id]);
    expect((await get20(`${base}/objects/`, w.writer, STIX20)).status).to.equal(403);
    expect(json(await get20('/api1/collections/', w.writer))).to.deep.equal({});
    // An intake collection is never in the 2.0 view, even for a reader of it.
    const intake = await w.collection('api1', { title: 'Intake', purpose: 'intake' });
    expect((await get20(`/api1/collections/${intake.id}/objects/`, w.admin, STIX20)).status).to.equal(404);
  });
});
