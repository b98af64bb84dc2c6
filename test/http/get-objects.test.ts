// TAXII 2.1 §5.3 manifest, §5.4 objects, §5.6 an object, §5.7 delete, §5.8 versions, with the
// §3.4 filters and the §3.2 date_added headers.
import { expect } from 'chai';
import { TAXII_TIMESTAMP, expectDateAddedHeaders, expectError, expectResource, expectTaxiiContentType, json } from '../helpers/taxii-schemas.js';
import { type World, ids, indicator, world } from './support.js';

const V1 = '2024-01-01T00:00:00.000Z';
const V2 = '2024-02-01T00:00:00.000Z';
const V3 = '2024-03-01T00:00:00.000Z';

function malware() {
  return { type: 'malware', spec_version: '2.1', id: `malware--${crypto.randomUUID()}`, created: V1, modified: V1, name: 'Evil', is_family: false };
}

/** x has three versions; order of date_added: x@V1, i2, mal, x@V2, x@V3. */
async function populated() {
  const w = await world();
  const xid = `indicator--${crypto.randomUUID()}`;
  const x1 = indicator({ id: xid, created: V1, modified: V1 });
  const i2 = indicator();
  const mal = malware();
  const x2 = { ...x1, modified: V2 };
  const x3 = { ...x1, modified: V3 };
  for (const o of [x1, i2, mal, x2, x3]) {
    const s = await w.add([o]);
    if (s.success_count !== 1) throw new Error(`fixture rejected: ${JSON.stringify(s)}`);
  }
  return { w, xid, x1, i2, mal, x2, x3 };
}

/** id@version of each object of an envelope. */
function iv(body: { objects?: Array<{ id: string; modified?: string }> }): string[] {
  return (body.objects ?? []).map((o) => `${o.id}@${o.modified}`);
}

describe('HTTP §5.4 GET …/objects/ and §5.3 GET …/manifest/ with §3.4 filters', () => {
  let f: Awaited<ReturnType<typeof populated>>;
  let w: World;
  before(async () => {
    f = await populated();
    w = f.w;
  });
  const at = (o: { id: string; modified: string }) => `${o.id}@${o.modified}`;

  async function objects(query: string) {
    const res = await w.get(`${w.base()}/objects/${query}`);
    expect(res.status, `${query}: ${res.text}`).to.equal(200);
    expectTaxiiContentType(res);
    expectDateAddedHeaders(res);
    const body = json(res);
    expectResource('envelope', body);
    return body;
  }
  async function manifest(query: string) {
    const res = await w.get(`${w.base()}/manifest/${query}`);
    expect(res.status, `${query}: ${res.text}`).to.equal(200);
    expectTaxiiContentType(res);
    const headers = expectDateAddedHeaders(res);
    const body = json(res);
    expectResource('manifest', body);
    if (body.objects) {
      expect(headers.first).to.equal(body.objects[0].date_added);
      expect(headers.last).to.equal(body.objects[body.objects.length - 1].date_added);
    }
    return body;
  }

  const cases: Array<[string, (x: typeof f) => string[]]> = [
    ['', (x) => [at(x.i2), at(x.mal), at(x.x3)]],
    ['?match[version]=last', (x) => [at(x.i2), at(x.mal), at(x.x3)]],
    ['?match[version]=all', (x) => [at(x.x1), at(x.i2), at(x.mal), at(x.x2), at(x.x3)]],
    ['?match[version]=first', (x) => [at(x.x1), at(x.i2), at(x.mal)]],
    [`?match[version]=${V2}`, (x) => [at(x.x2)]],
    [`?match[version]=${V1},${V3}`, (x) => [at(x.x1), at(x.i2), at(x.mal), at(x.x3)]],
    ['?match[version]=first,last', (x) => [at(x.x1), at(x.i2), at(x.mal), at(x.x3)]],
    [`?match[version]=first,${V2}`, (x) => [at(x.x1), at(x.i2), at(x.mal), at(x.x2)]],
    ['?match[id]=ID_X,ID_MAL', (x) => [at(x.mal), at(x.x3)]],
    ['?match[id]=ID_X&match[version]=all', (x) => [at(x.x1), at(x.x2), at(x.x3)]],
    ['?match[type]=malware', (x) => [at(x.mal)]],
    ['?match[type]=malware,indicator', (x) => [at(x.i2), at(x.mal), at(x.x3)]],
    ['?match[type]=malware&match[id]=ID_X', () => []],
    ['?match[type]=campaign', () => []],
    ['?match[spec_version]=2.1', (x) => [at(x.i2), at(x.mal), at(x.x3)]],
    ['?match[spec_version]=2.0,2.1&match[version]=all', (x) => [at(x.x1), at(x.i2), at(x.mal), at(x.x2), at(x.x3)]],
    ['?match[spec_version]=2.0', () => []],
    ['?match[foo]=bar', (x) => [at(x.i2), at(x.mal), at(x.x3)]],
  ];
  const fill = (q: string) => q.replace('ID_X', f.xid).replace('ID_MAL', f.mal.id);

  for (const [query, expected] of cases) {
    it(`§3.4 objects${query || ' (no filter: latest version of each, by date_added)'}`, async () => {
      const body = await objects(fill(query));
      expect(iv(body)).to.deep.equal(expected(f));
      expect(body.more ?? false).to.equal(false);
      if (!expected(f).length) expect(body).to.not.have.property('objects');
    });
    it(`§5.3 manifest${query || ' (no filter)'} lists the same versions, date_added with six digits`, async () => {
      const body = await manifest(fill(query));
      const records: Array<{ id: string; version: string; date_added: string; media_type: string }> = body.objects ?? [];
      expect(records.map((r) => `${r.id}@${r.version}`)).to.deep.equal(expected(f));
      for (const r of records) {
        expect(r.date_added).to.match(TAXII_TIMESTAMP);
        expect(r.media_type).to.equal('application/stix+json;version=2.1');
      }
      if (!records.length) expect(body).to.deep.equal({});
    });
  }

  it('§3.3 date_added is unique and strictly increasing; the headers name the first and last', async () => {
    const body = await manifest('?match[version]=all');
    const added = body.objects.map((r: { date_added: string }) => r.date_added);
    expect([...added].sort()).to.deep.equal(added);
    expect(new Set(added).size).to.equal(added.length);
    const res = await w.get(`${w.base()}/objects/?match[version]=all`);
    expect(expectDateAddedHeaders(res)).to.deep.equal({ first: added[0], last: added[added.length - 1] });
  });

  it('§3.4 added_after is exclusive, on date_added', async () => {
    const all = (await manifest('?match[version]=all')).objects;
    const after = all[1].date_added; // i2
    const body = await objects(`?match[version]=all&added_after=${after}`);
    expect(iv(body)).to.deep.equal([at(f.mal), at(f.x2), at(f.x3)]);
    const last = await objects(`?match[version]=all&added_after=${all[4].date_added}`);
    expect(last).to.not.have.property('objects');
    expect(iv(await objects('?match[version]=all&added_after=2000-01-01T00:00:00Z'))).to.have.length(5);
  });

  it('§3.4 added_after with fewer fractional digits and with an offset', async () => {
    expect(iv(await objects('?added_after=2000-01-01T00:00:00.1Z'))).to.have.length(3);
    expect(iv(await objects('?added_after=2000-01-01T01:00:00%2B01:00'))).to.have.length(3);
    expect(await objects('?added_after=2999-01-01T00:00:00Z')).to.not.have.property('objects');
  });

  it('§3.2 an empty page still carries both headers (the added_after lower bound)', async () => {
    const res = await w.get(`${w.base()}/objects/?added_after=2999-01-01T00:00:00.000000Z`);
    expect(expectDateAddedHeaders(res)).to.deep.equal({ first: '2999-01-01T00:00:00.000000Z', last: '2999-01-01T00:00:00.000000Z' });
  });

  it('§3.4 limit: no more objects than asked, more = true and a next', async () => {
    const body = await objects('?match[version]=all&limit=2');
    expect(iv(body)).to.deep.equal([at(f.x1), at(f.i2)]);
    expect(body.more).to.equal(true);
    expect(body.next).to.be.a('string');
    const m = await manifest('?match[version]=all&limit=2');
    expect(m.objects).to.have.length(2);
    expect(m.more).to.equal(true);
  });

  const malformed = [
    '?limit=0',
    '?limit=-1',
    '?limit=abc',
    '?limit=1.5',
    '?added_after=yesterday',
    '?added_after=2024-13-01T00:00:00Z',
    '?added_after=2024-02-30T00:00:00Z',
    '?added_after=2024-01-01T00:00:00Z&added_after=2024-01-02T00:00:00Z',
    '?match[type]=indicator&match[type]=malware',
    '?match[id]=not-an-id',
    '?match[id]=indicator--x,ID_X',
    '?match[type]=Indicator!',
    '?match[version]=all,first',
    '?match[version]=all,last',
    '?match[version]=last,last',
    `?match[version]=${V1},${V1}`,
    '?match[version]=yesterday',
    '?match[version]=',
    '?match[spec_version]=two',
    '?match[spec_version]=2.1&match[spec_version]=2.0',
    '?limit=1&limit=2',
    '?next=',
  ];
  for (const query of malformed) {
    it(`§3.4 400: ${query}`, async () => {
      expectError(await w.get(`${w.base()}/objects/${fill(query)}`), 400);
      expectError(await w.get(`${w.base()}/manifest/${fill(query)}`), 400);
    });
  }

  it('§5.4/§5.3 403 for a write-only caller; 404 for no grant, unknown collection or root; 401; 406; 405', async () => {
    for (const ep of ['objects', 'manifest']) {
      expectError(await w.get(`${w.base()}/${ep}/`, w.writer), 403, 'TAXII_ERR_FORBIDDEN');
      expectError(await w.get(`${w.base()}/${ep}/`, w.stranger), 404);
      expectError(await w.get(`/api1/collections/${crypto.randomUUID()}/${ep}/`), 404);
      expectError(await w.get(`/nope/collections/${w.main.id}/${ep}/`), 404);
      expectError(await w.get(`${w.base()}/${ep}/`, null), 401);
      expectError(await w.get(`${w.base()}/${ep}/`, w.rw, 'application/stix+json'), 406);
    }
    expectError(await w.del(`${w.base()}/manifest/`), 405);
    expectError(await w.del(`${w.base()}/objects/`), 405);
  });

  it('§5.4 by alias and without the trailing slash', async () => {
    const res = await w.get('/api1/collections/main/objects');
    expect(res.status).to.equal(200);
    expectDateAddedHeaders(res);
    expect(iv(json(res))).to.deep.equal([at(f.i2), at(f.mal), at(f.x3)]);
    const m = await w.get('/api1/collections/main/manifest');
    expect(m.status).to.equal(200);
    expectResource('manifest', json(m));
  });

  it('§5.4 an empty collection: 200, no objects, both headers', async () => {
    for (const ep of ['objects', 'manifest']) {
      const res = await w.get(`${w.base(w.other)}/${ep}/`);
      expect(res.status).to.equal(200);
      expectDateAddedHeaders(res);
      const body = json(res);
      expectResource(ep === 'objects' ? 'envelope' : 'manifest', body);
      expect(body).to.not.have.property('objects');
    }
  });

  describe('§5.6 GET …/objects/{object-id}/', () => {
    async function object(id: string, query = '') {
      const res = await w.get(`${w.base()}/objects/${id}/${query}`);
      expect(res.status, res.text).to.equal(200);
      expectTaxiiContentType(res);
      expectDateAddedHeaders(res);
      const body = json(res);
      expectResource('envelope', body);
      return body;
    }

    it('§5.6 200: the latest version by default; all, first, exact and several versions', async () => {
      expect(iv(await object(f.xid))).to.deep.equal([at(f.x3)]);
      expect(iv(await object(f.xid, '?match[version]=all'))).to.deep.equal([at(f.x1), at(f.x2), at(f.x3)]);
      expect(iv(await object(f.xid, '?match[version]=first'))).to.deep.equal([at(f.x1)]);
      expect(iv(await object(f.xid, `?match[version]=${V2}`))).to.deep.equal([at(f.x2)]);
      expect(iv(await object(f.xid, `?match[version]=${V1},last`))).to.deep.equal([at(f.x1), at(f.x3)]);
      expect(await object(f.xid, '?match[version]=2020-01-01T00:00:00.000Z')).to.not.have.property('objects');
      expect(iv(await object(f.xid, '?match[version]=all&match[spec_version]=2.1'))).to.have.length(3);
    });

    it('§5.6 paging within one object: limit, more, next, added_after', async () => {
      const p1 = await object(f.xid, '?match[version]=all&limit=2');
      expect(iv(p1)).to.deep.equal([at(f.x1), at(f.x2)]);
      expect(p1.more).to.equal(true);
      const p2 = await object(f.xid, `?next=${encodeURIComponent(p1.next)}`);
      expect(iv(p2)).to.deep.equal([at(f.x3)]);
      expect(p2.more).to.equal(false);
      const res = await w.get(`${w.base()}/objects/${f.xid}/?match[version]=all&limit=2`);
      const last = expectDateAddedHeaders(res).last;
      expect(iv(await object(f.xid, `?match[version]=all&added_after=${last}`))).to.deep.equal([at(f.x3)]);
    });

    it('§5.6 the object as stored: every property round-trips', async () => {
      const body = await object(f.mal.id);
      expect(body.objects[0]).to.deep.equal(f.mal);
    });

    it('§5.6 404 unknown object, 400 malformed filter, 403 write-only, 404 no grant, 401, 406', async () => {
      expectError(await w.get(`${w.base()}/objects/indicator--${crypto.randomUUID()}/`), 404);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/?match[version]=all,first`), 400);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/?limit=0`), 400);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/`, w.writer), 403);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/`, w.stranger), 404);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/`, null), 401);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/`, w.rw, 'application/json'), 406);
    });
  });

  describe('§5.8 GET …/objects/{object-id}/versions/', () => {
    it('§5.8 200: every version, by date_added, with the headers', async () => {
      for (const path of [`${w.base()}/objects/${f.xid}/versions/`, `/api1/collections/main/objects/${f.xid}/versions`]) {
        const res = await w.get(path);
        expect(res.status).to.equal(200);
        expectTaxiiContentType(res);
        expectDateAddedHeaders(res);
        const body = json(res);
        expectResource('versions', body);
        expect(body.versions).to.deep.equal([V1, V2, V3]);
      }
    });

    it('§5.8 limit and next; spec_version filter; added_after', async () => {
      const p1 = json(await w.get(`${w.base()}/objects/${f.xid}/versions/?limit=2`));
      expectResource('versions', p1);
      expect(p1).to.include({ more: true });
      expect(p1.versions).to.deep.equal([V1, V2]);
      const p2 = json(await w.get(`${w.base()}/objects/${f.xid}/versions/?next=${encodeURIComponent(p1.next)}`));
      expectResource('versions', p2);
      expect(p2.versions).to.deep.equal([V3]);
      const none = await w.get(`${w.base()}/objects/${f.xid}/versions/?match[spec_version]=2.0`);
      expect(none.status).to.equal(200);
      expectDateAddedHeaders(none);
      expectResource('versions', json(none));
      expect(json(none)).to.not.have.property('versions');
      const res = await w.get(`${w.base()}/objects/${f.xid}/versions/?limit=1`);
      const after = json(await w.get(`${w.base()}/objects/${f.xid}/versions/?added_after=${expectDateAddedHeaders(res).last}`));
      expect(after.versions).to.deep.equal([V2, V3]);
    });

    it('§5.8 404 unknown object, 400 malformed, 403 write-only, 404 no grant, 401, 406, 405', async () => {
      expectError(await w.get(`${w.base()}/objects/indicator--${crypto.randomUUID()}/versions/`), 404);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/?limit=x`), 400);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/?match[spec_version]=x`), 400);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/`, w.writer), 403);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/`, w.stranger), 404);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/`, null), 401);
      expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/`, w.rw, 'text/plain'), 406);
      expectError(await w.del(`${w.base()}/objects/${f.xid}/versions/`), 405);
    });
  });
});

describe('HTTP §5.7 DELETE …/objects/{object-id}/', () => {
  let f: Awaited<ReturnType<typeof populated>>;
  let w: World;
  beforeEach(async () => {
    f = await populated();
    w = f.w;
  });

  async function versionsOf(id: string) {
    const res = await w.get(`${w.base()}/objects/${id}/versions/`);
    return res.status === 200 ? (json(res).versions ?? []) : res.status;
  }

  it('§5.7 permission matrix: no rights 404, read only 403, write only 403, read+write 200', async () => {
    const path = `${w.base()}/objects/${f.xid}/?match[version]=${V1}`;
    expectError(await w.del(path, w.stranger), 404);
    expectError(await w.del(path, w.reader), 403, 'TAXII_ERR_FORBIDDEN');
    expectError(await w.del(path, w.writer), 403, 'TAXII_ERR_FORBIDDEN');
    expect(await versionsOf(f.xid)).to.deep.equal([V1, V2, V3]);
    const res = await w.del(path, w.rw);
    expect(res.status).to.equal(200);
    expectTaxiiContentType(res);
    expect(await versionsOf(f.xid)).to.deep.equal([V2, V3]);
  });

  it('§5.7 a deleted version disappears from objects, the object, manifest and versions', async () => {
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=${V2}`)).status).to.equal(200);
    const all = json(await w.get(`${w.base()}/objects/?match[version]=all`));
    expect(iv(all)).to.not.include(`${f.xid}@${V2}`);
    expect(iv(all)).to.have.length(4);
    const manifest = json(await w.get(`${w.base()}/manifest/?match[version]=all`));
    expectResource('manifest', manifest);
    expect(manifest.objects.map((r: { id: string; version: string }) => `${r.id}@${r.version}`)).to.not.include(`${f.xid}@${V2}`);
    expect(await versionsOf(f.xid)).to.deep.equal([V1, V3]);
    expect(json(await w.get(`${w.base()}/objects/${f.xid}/?match[version]=${V2}`))).to.not.have.property('objects');
  });

  it('§5.7 deleting the latest version makes the previous one the latest (match[version]=last)', async () => {
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=last`)).status).to.equal(200);
    expect(iv(json(await w.get(`${w.base()}/objects/${f.xid}/`)))).to.deep.equal([`${f.xid}@${V2}`]);
    expect(await versionsOf(f.xid)).to.deep.equal([V1, V2]);
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=first`)).status).to.equal(200);
    expect(await versionsOf(f.xid)).to.deep.equal([V2]);
  });

  it('§5.7 match[version]=all removes the object: then 404 on the object and its versions (§5.7 MUST)', async () => {
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=all`)).status).to.equal(200);
    expectError(await w.get(`${w.base()}/objects/${f.xid}/`), 404);
    expectError(await w.get(`${w.base()}/objects/${f.xid}/versions/`), 404);
    const manifest = json(await w.get(`${w.base()}/manifest/?match[version]=all`));
    expect(manifest.objects.map((r: { id: string }) => r.id)).to.not.include(f.xid);
    expect(ids(json(await w.get(`${w.base()}/objects/`)))).to.deep.equal([f.i2.id, f.mal.id]);
  });

  it('§5.7 match[spec_version]: 2.0 matches nothing (404, nothing deleted); 2.1 with all deletes every version', async () => {
    expectError(await w.del(`${w.base()}/objects/${f.xid}/?match[spec_version]=2.0&match[version]=all`), 404);
    expect(await versionsOf(f.xid)).to.deep.equal([V1, V2, V3]);
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[spec_version]=2.1&match[version]=all`)).status).to.equal(200);
    expect(await versionsOf(f.xid)).to.equal(404);
  });

  it('§5.7 a DELETE in a published collection logs one withdrawal, as the vendor for a grant holder and as the desk for an admin', async () => {
    const changes = async () => (await w.store.readChanges(w.main.id, 0, 100)).items.map((c) => [c.type, c.objectId, c.version, c.lastVersion, c.actorKind]);
    const posted = await changes();
    expect(posted.map((c) => c[0])).to.deep.equal(['object.published', 'object.published', 'object.published', 'object.updated', 'object.updated']);
    expect(posted.every((c) => c[4] === 'vendor')).to.equal(true);
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=${V1}`)).status).to.equal(200);
    expect((await w.del(`${w.base()}/objects/${f.xid}/?match[version]=all`, w.admin)).status).to.equal(200);
    expectError(await w.del(`${w.base()}/objects/${f.xid}/?match[version]=all`), 404);
    expect((await changes()).slice(posted.length)).to.deep.equal([
      ['object.withdrawn', f.xid, V1, V1, 'vendor'],
      ['object.withdrawn', f.xid, V3, V3, 'desk'],
    ]);
  });

  it('§5.7 404 unknown object or collection; 400 malformed filter; 401; 406', async () => {
    expectError(await w.del(`${w.base()}/objects/indicator--${crypto.randomUUID()}/`), 404);
    expectError(await w.del(`/api1/collections/${crypto.randomUUID()}/objects/${f.xid}/`), 404);
    expectError(await w.del(`${w.base()}/objects/${f.xid}/?match[version]=all,last`), 400);
    expectError(await w.del(`${w.base()}/objects/${f.xid}/?match[version]=bad`), 400);
    expectError(await w.del(`${w.base()}/objects/${f.xid}/?match[spec_version]=2.1&match[spec_version]=2.0`), 400);
    expectError(await w.del(`${w.base()}/objects/${f.xid}/`, null), 401);
    const res = await w.del(`${w.base()}/objects/${f.xid}/`).set('Accept', 'application/json');
    expectError(res, 406);
    expect(await versionsOf(f.xid)).to.deep.equal([V1, V2, V3]);
  });
});
