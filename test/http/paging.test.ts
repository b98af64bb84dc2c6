// TAXII 2.1 §3.5 pagination through thousands of objects with both continuation methods, and the
// `next` token rules of docs/architecture.md §6/§6a.
import { expect } from 'chai';
import { TAXII_TIMESTAMP, expectDateAddedHeaders, expectError, expectResource, json } from '../helpers/taxii-schemas.js';
import { type World, indicator, world } from './support.js';

const TOTAL = 2500;
const PER_ENVELOPE = 500;
const LIMIT = 100;

describe('HTTP §3.5 paging through 2,500 objects (5 envelopes of 500, limit 100)', function () {
  this.timeout(120_000);
  let w: World;
  let posted: string[];

  before(async () => {
    w = await world({ maxPageSize: 1000, defaultPageSize: 100 });
    posted = [];
    for (let e = 0; e < TOTAL / PER_ENVELOPE; e++) {
      const objects = Array.from({ length: PER_ENVELOPE }, () => indicator());
      posted.push(...objects.map((o) => o.id));
      const status = await w.add(objects);
      expect(status).to.include({ total_count: PER_ENVELOPE, success_count: PER_ENVELOPE, failure_count: 0 });
    }
    // A few in the `other` collection, to use its tokens against `main`.
    await w.add([indicator(), indicator(), indicator()], w.other);
  });

  /** Follows one continuation method to the end; returns ids, date_added values, page count. */
  async function pageThrough(ep: 'objects' | 'manifest', method: 'next' | 'added_after', extra = '') {
    const seen: string[] = [];
    const added: string[] = [];
    let query = `?limit=${LIMIT}${extra}`;
    let pages = 0;
    for (;;) {
      const res = await w.get(`${w.base()}/${ep}/${query}`);
      expect(res.status, res.text.slice(0, 300)).to.equal(200);
      const headers = expectDateAddedHeaders(res);
      const body = json(res);
      expectResource(ep === 'objects' ? 'envelope' : 'manifest', body);
      const items: Array<{ id: string; date_added?: string }> = body.objects ?? [];
      expect(items.length).to.be.at.most(LIMIT);
      pages++;
      seen.push(...items.map((o) => o.id));
      if (ep === 'manifest') {
        for (const r of items) expect(r.date_added).to.match(TAXII_TIMESTAMP);
        added.push(...items.map((r) => r.date_added!));
        if (items.length) expect(headers.last).to.equal(items[items.length - 1]!.date_added);
      }
      if (!body.more) {
        expect(body).to.not.have.property('next');
        break;
      }
      expect(items.length, 'a page with more: true carries objects here').to.equal(LIMIT);
      expect(body.next, 'more: true comes with next (docs/architecture.md §6a)').to.be.a('string');
      query = method === 'next' ? `?next=${encodeURIComponent(body.next)}` : `?limit=${LIMIT}${extra}&added_after=${encodeURIComponent(headers.last)}`;
      expect(pages).to.be.below(100);
    }
    return { seen, added, pages };
  }

  for (const ep of ['objects', 'manifest'] as const) {
    for (const method of ['next', 'added_after'] as const) {
      it(`§3.5 ${ep} with ${method === 'next' ? '`next` (sent alone)' : 'added_after = X-TAXII-Date-Added-Last'}: all 2,500, in order, none lost, none repeated`, async () => {
        const { seen, added, pages } = await pageThrough(ep, method);
        expect(seen.length).to.equal(TOTAL);
        expect(new Set(seen).size, 'no repeats').to.equal(TOTAL);
        expect(seen, 'no loss, in date_added order (§3.3)').to.deep.equal(posted);
        expect(pages).to.equal(TOTAL / LIMIT);
        if (ep === 'manifest') {
          expect(new Set(added).size, 'date_added unique, also within one envelope').to.equal(TOTAL);
          expect([...added].sort(), 'strictly increasing').to.deep.equal(added);
        }
      });
    }
  }

  it('§3.5 `next` with the original filters repeated works; with different filters → 400', async () => {
    const first = json(await w.get(`${w.base()}/objects/?limit=${LIMIT}&match[type]=indicator`));
    const next = encodeURIComponent(first.next);
    const same = await w.get(`${w.base()}/objects/?limit=${LIMIT}&match[type]=indicator&next=${next}`);
    expect(same.status).to.equal(200);
    expect(json(same).objects[0].id).to.equal(posted[LIMIT]);
    expectError(await w.get(`${w.base()}/objects/?match[type]=malware&next=${next}`), 400);
    expectError(await w.get(`${w.base()}/objects/?match[version]=all&next=${next}`), 400);
    expectError(await w.get(`${w.base()}/objects/?added_after=2020-01-01T00:00:00Z&next=${next}`), 400);
    expectError(await w.get(`${w.base()}/objects/?match[id]=${posted[0]}&next=${next}`), 400);
  });

  it('§3.5 a tampered or garbage `next` → 400', async () => {
    const token: string = json(await w.get(`${w.base()}/objects/?limit=${LIMIT}`)).next;
    const [payload, mac] = token.split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    decoded.p = 0; // rewind to the start
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${mac}`;
    const flipped = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    for (const bad of [forged, flipped, 'garbage', `${token}.x`, token.split('.')[0]!]) {
      expectError(await w.get(`${w.base()}/objects/?next=${encodeURIComponent(bad)}`), 400, 'TAXII_ERR_BAD_NEXT');
    }
  });

  it('§3.5 a `next` of another caller, another collection or another endpoint → 400', async () => {
    const token: string = json(await w.get(`${w.base()}/objects/?limit=${LIMIT}`)).next;
    const next = encodeURIComponent(token);
    expectError(await w.get(`${w.base()}/objects/?next=${next}`, w.admin), 400, 'TAXII_ERR_BAD_NEXT');
    expectError(await w.get(`${w.base()}/objects/?next=${next}`, w.reader), 400, 'TAXII_ERR_BAD_NEXT');
    expectError(await w.get(`${w.base(w.other)}/objects/?next=${next}`), 400, 'TAXII_ERR_BAD_NEXT');
    expectError(await w.get(`${w.base()}/manifest/?next=${next}`), 400, 'TAXII_ERR_BAD_NEXT');
    const otherToken: string = json(await w.get(`${w.base(w.other)}/objects/?limit=1`)).next;
    expectError(await w.get(`${w.base()}/objects/?next=${encodeURIComponent(otherToken)}`), 400, 'TAXII_ERR_BAD_NEXT');
  });

  it('§3.4 limit above the server cap is capped; the default page size applies without limit', async () => {
    const capped = json(await w.get(`${w.base()}/manifest/?limit=5000`));
    expect(capped.objects).to.have.length(1000);
    expect(capped.more).to.equal(true);
    const dflt = json(await w.get(`${w.base()}/manifest/`));
    expect(dflt.objects).to.have.length(100);
    expect(dflt.more).to.equal(true);
  });

  it('§3.5 paging with a filter: match[id] of 3 ids, limit 1, by next', async () => {
    const chosen = [posted[7]!, posted[1234]!, posted[2499]!];
    let body = json(await w.get(`${w.base()}/objects/?limit=1&match[id]=${chosen.join(',')}`));
    const got = [body.objects[0].id];
    while (body.more) {
      body = json(await w.get(`${w.base()}/objects/?next=${encodeURIComponent(body.next)}`));
      expectResource('envelope', body);
      got.push(...(body.objects ?? []).map((o: { id: string }) => o.id));
    }
    expect(got).to.deep.equal(chosen);
  });
});
