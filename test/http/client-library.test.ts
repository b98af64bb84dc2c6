// The client library against an in-process Meridian over real HTTP (the app factory on a listening
// socket): discovery, collections by id/alias/title, paging, add with status, get/delete, versions,
// the change feed and the live stream, each auth form, and typed errors.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type Collection, TaxiiClient, TaxiiError, type ChangeEvent } from '../../client/index.js';
import { type TestAccount, indicator, testServer } from '../helpers/server.js';

describe('client library against Meridian over HTTP', function () {
  let server: Server;
  let base: string;
  let analyst: TestAccount;
  let key: string;
  let collectionId: string;
  const clients: TaxiiClient[] = [];
  const client = (auth: ConstructorParameters<typeof TaxiiClient>[1] = {}, path = '/taxii2/') => {
    const c = new TaxiiClient(`${base}${path}`, { retries: 1, baseDelayMs: 10, ...auth });
    clients.push(c);
    return c;
  };

  before(async function () {
    const t = await testServer({ streamHeartbeatSeconds: 1 } as never);
    await t.root('fr');
    const col = await t.collection('fr', { title: 'Published indicators', alias: 'published' });
    collectionId = col.id;
    analyst = await t.account(['subscriber'], 'analyst');
    await t.grant(analyst, col.id, { read: true, write: true });
    key = (await t.admin.addApiKey('analyst', { name: 'client tests' })).secret;
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const basic = () => ({ auth: { type: 'basic' as const, username: analyst.name, password: analyst.password } });

  it('finds the API root from discovery and the collection by id, alias and title', async function () {
    const root = await client(basic()).apiRoot();
    expect(root.url.href).to.equal(`${base}/fr/`);
    for (const ref of [collectionId, 'published', 'Published indicators']) expect((await root.collection(ref)).id).to.equal(collectionId);
    const e = await root.collection('nope').catch((x: unknown) => x);
    expect(e).to.be.instanceOf(TaxiiError).and.to.include({ http_status: 404, error_code: 'TAXII_ERR_NOT_FOUND' });
    expect((e as TaxiiError).error_id).to.be.a('string');
  });

  it('adds objects, waits for the status, pages them back with next and by added_after, reads versions, gets and deletes one', async function () {
    const col: Collection = await (await client(basic(), '/fr/').apiRoot()).collection('published');
    const objects = Array.from({ length: 25 }, (_, i) => indicator({ name: `ind ${i}` }));
    const status = await col.add(objects);
    expect(status).to.include({ status: 'complete', success_count: 25, failure_count: 0 });
    const pages = [];
    for await (const page of col.objectPages({ limit: 7 })) pages.push(page);
    expect(pages.map((p) => p.items.length)).to.deep.equal([7, 7, 7, 4]);
    expect(pages.flatMap((p) => p.items.map((o) => o.id)).sort()).to.deep.equal(objects.map((o) => o.id).sort());
    const after = pages[1]!.dateAddedLast!;
    let rest = 0;
    for await (const _ of col.objects({ addedAfter: after, limit: 5 })) rest++;
    expect(rest).to.equal(11);
    const manifest = [];
    for await (const m of col.manifest({ type: 'indicator' })) manifest.push(m);
    expect(manifest).to.have.length(25);
    const one = objects[3]!;
    const versions = [];
    for await (const v of col.versions(one.id)) versions.push(v);
    expect(versions).to.have.length(1);
    expect((await col.getObject(one.id)).map((o) => o.id)).to.deep.equal([one.id]);
    await col.deleteObject(one.id);
    expect(await col.getObject(one.id).catch((x: unknown) => (x as TaxiiError).http_status)).to.equal(404);
  });

  it('reads the change feed, withdrawals included', async function () {
    const col = await (await client(basic()).apiRoot()).collection('published');
    const types = new Map<string, number>();
    for await (const c of col.changes({ limit: 10 })) types.set(c.type, (types.get(c.type) ?? 0) + 1);
    expect(types.get('object.published')).to.equal(25);
    expect(types.get('object.withdrawn')).to.equal(1);
    let withdrawn = 0;
    for await (const _ of col.changes({ changeTypes: 'object.withdrawn' })) withdrawn++;
    expect(withdrawn).to.equal(1);
  });

  it('follows the live stream and stops on abort', async function () {
    const col = await (await client(basic()).apiRoot()).collection('published');
    const ac = new AbortController();
    const seen: ChangeEvent[] = [];
    const done = (async () => {
      for await (const e of col.stream({ addedAfter: '1970-01-01T00:00:00Z', signal: ac.signal })) {
        seen.push(e);
        if (seen.length === 27) ac.abort();
      }
    })();
    await col.add([indicator({ name: 'live' })]);
    await done;
    expect(seen).to.have.length(27);
    expect(seen[26]!.entry.type).to.equal('object.published');
    expect(seen[26]!.id).to.equal(seen[26]!.entry.id);
  });

  it('authenticates with an API key in each form, and with a token from POST /auth/token', async function () {
    for (const form of ['token', 'bearer', 'basic'] as const) {
      expect((await client({ auth: { type: 'api-key', key, form } }).discovery()).api_roots).to.have.length(1);
    }
    expect((await client({ auth: { type: 'token', username: analyst.name, password: analyst.password } }).discovery()).api_roots).to.have.length(1);
    expect((await client({ auth: { type: 'token', apiKey: key } }).discovery()).api_roots).to.have.length(1);
    const e = await client({ auth: { type: 'basic', username: analyst.name, password: 'wrong password!' } }).discovery().catch((x: unknown) => x);
    expect(e).to.be.instanceOf(TaxiiError).and.to.include({ http_status: 401, error_code: 'TAXII_ERR_UNAUTHENTICATED' });
  });
});
