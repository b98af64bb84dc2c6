// TAXII 2.1 §5.5 Add Objects (POST …/objects/) and §4.3 Get Status.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMicros } from '../../taxii/time.js';
import { expectError, expectResource, expectTaxiiContentType, json } from '../helpers/taxii-schemas.js';
import { type World, ids, indicator, world } from './support.js';

describe('HTTP §5.5 POST …/collections/{id}/objects/', () => {
  let w: World;
  beforeEach(async () => {
    w = await world({}, 8192);
  });

  it('§5.5 202: the status resource, complete, one success per object with its version', async () => {
    const a = indicator({ modified: '2024-02-01T00:00:00.000Z' });
    const b = indicator();
    const res = await w.post(`${w.base()}/objects/`, { objects: [a, b] });
    expect(res.status).to.equal(202);
    expectTaxiiContentType(res);
    const status = json(res);
    expectResource('status', status);
    expect(status).to.include({ status: 'complete', total_count: 2, success_count: 2, failure_count: 0, pending_count: 0 });
    expect(status.successes).to.deep.equal([
      { id: a.id, version: '2024-02-01T00:00:00.000Z' },
      { id: b.id, version: b.modified },
    ]);
    const got = json(await w.get(`${w.base()}/objects/`));
    expect(ids(got)).to.deep.equal([a.id, b.id]);
  });

  it('§5.5 by alias as well as by id; trailing slash optional', async () => {
    const res = await w.post('/api1/collections/main/objects', { objects: [indicator()] });
    expect(res.status).to.equal(202);
    expectResource('status', json(res));
  });

  it('§4.3.1 one bad object does not reject the others: per-object failure with a message', async () => {
    const good1 = indicator();
    const good2 = indicator();
    const badId = { ...indicator(), id: 'indicator--not-a-uuid' };
    // "2.0" would be upgraded like a missing spec_version (docs/stix-findings.md); "2.2" is no STIX version.
    const badSpec = { ...indicator(), spec_version: '2.2' };
    const res = await w.post(`${w.base()}/objects/`, { objects: [good1, badId, 'not an object', good2, badSpec] });
    expect(res.status).to.equal(202);
    const status = json(res);
    expectResource('status', status);
    expect(status).to.include({ total_count: 5, success_count: 2, failure_count: 3, pending_count: 0 });
    expect(status.successes.map((s: { id: string }) => s.id)).to.deep.equal([good1.id, good2.id]);
    expect(status.failures).to.have.length(3);
    for (const f of status.failures) expect(f.message, JSON.stringify(f)).to.be.a('string').and.not.equal('');
    expect(status.failures.map((f: { id: string }) => f.id)).to.include.members(['indicator--not-a-uuid', badSpec.id]);
    expect(ids(json(await w.get(`${w.base()}/objects/`)))).to.deep.equal([good1.id, good2.id]);
  });

  it('§5.5 an exact duplicate (same id and version) is a success and is stored once', async () => {
    const a = indicator();
    const first = json(await w.post(`${w.base()}/objects/`, { objects: [a, a] }));
    expect(first).to.include({ success_count: 2, failure_count: 0 });
    const again = json(await w.post(`${w.base()}/objects/`, { objects: [a] }));
    expectResource('status', again);
    expect(again).to.include({ success_count: 1, failure_count: 0 });
    const manifest = json(await w.get(`${w.base()}/manifest/?match[version]=all`));
    expect(manifest.objects).to.have.length(1);
    expect(ids(json(await w.get(`${w.base()}/objects/${a.id}/?match[version]=all`)))).to.deep.equal([a.id]);
  });

  it('§5.5 a STIX bundle is accepted like an envelope', async () => {
    const a = indicator();
    const res = await w.post(`${w.base()}/objects/`, { type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [a] });
    expect(res.status).to.equal(202);
    expect(json(res)).to.include({ success_count: 1 });
    expect(ids(json(await w.get(`${w.base()}/objects/`)))).to.deep.equal([a.id]);
  });

  it('§3.7 an empty envelope is accepted with total_count 0', async () => {
    const res = await w.post(`${w.base()}/objects/`, {});
    expect(res.status).to.equal(202);
    expectResource('status', json(res));
    expect(json(res)).to.include({ total_count: 0, status: 'complete' });
  });

  it('§5.5 400: invalid JSON', async () => {
    for (const body of ['{"objects": [', 'not json', '']) {
      expectError(await w.post(`${w.base()}/objects/`, body), 400, 'TAXII_ERR_BAD_JSON');
    }
  });

  it('§5.5 422: JSON that is not an envelope', async () => {
    for (const body of [[indicator()], { foo: 1 }, { objects: 'x' }, { objects: { a: 1 } }, 42, 'a string', null]) {
      expectError(await w.post(`${w.base()}/objects/`, JSON.stringify(body)), 422, 'TAXII_ERR_UNPROCESSABLE');
    }
    expect(json(await w.get(`${w.base()}/objects/`))).to.not.have.property('objects');
  });

  it('§5.5 413: a body over the API root\'s max_content_length (8192)', async () => {
    const big = { objects: Array.from({ length: 40 }, () => indicator({ name: 'x'.repeat(200) })) };
    expect(JSON.stringify(big).length).to.be.greaterThan(8192);
    expectError(await w.post(`${w.base()}/objects/`, big), 413, 'TAXII_ERR_TOO_LARGE');
    expect(json(await w.get(`${w.base()}/objects/`))).to.not.have.property('objects');
  });

  it('§5.5 a body of exactly max_content_length is accepted', async () => {
    const base = JSON.stringify({ objects: [indicator()] });
    const padded = base.slice(0, -1) + ' '.repeat(8192 - base.length) + '}';
    expect(Buffer.byteLength(padded)).to.equal(8192);
    expect((await w.post(`${w.base()}/objects/`, padded)).status).to.equal(202);
  });

  it('§5.5 413 with chunked transfer encoding and no Content-Length (64 KiB streamed in 1 KiB chunks)', async () => {
    const server = w.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `${w.base()}/objects/`, headers: { Accept: 'application/taxii+json;version=2.1', 'Content-Type': 'application/taxii+json;version=2.1', Authorization: w.rw.auth, 'Transfer-Encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        });
        req.on('error', (err) => (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err));
        req.write('{"objects":[');
        // 1 KiB chunks well past the limit, then the end of the body.
        let sent = 0;
        const timer = setInterval(() => {
          if (req.destroyed) return clearInterval(timer);
          if (sent > 64 * 1024) {
            clearInterval(timer);
            req.end(']}');
            return;
          }
          req.write(`${JSON.stringify(indicator({ name: 'y'.repeat(700) }))},`);
          sent += 1024;
        }, 1);
      });
      expect(result.status).to.equal(413);
      expect(result.headers['content-type']).to.equal('application/taxii+json;version=2.1');
      const body = JSON.parse(result.body);
      expectResource('error', body);
      expect(body).to.include({ http_status: '413', error_code: 'TAXII_ERR_TOO_LARGE' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('§5.5 403: a caller who can read but not write', async () => {
    expectError(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.reader), 403, 'TAXII_ERR_FORBIDDEN');
  });

  it('§5.5 404: unknown collection, and a collection the caller has no grant on', async () => {
    expectError(await w.post(`/api1/collections/${crypto.randomUUID()}/objects/`, { objects: [indicator()] }), 404);
    expectError(await w.post(`${w.base(w.hidden)}/objects/`, { objects: [indicator()] }), 404);
    expectError(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.stranger), 404);
    expectError(await w.post(`/nope/collections/${w.main.id}/objects/`, { objects: [indicator()] }), 404);
  });

  it('§5.5 401: missing credentials, with WWW-Authenticate', async () => {
    const res = await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, null);
    expectError(res, 401);
    expect(res.headers['www-authenticate']).to.be.a('string');
  });

  it('§5.5 write-only caller: 202 on POST, 403 on GET objects', async () => {
    expect((await w.post(`${w.base()}/objects/`, { objects: [indicator()] }, w.writer)).status).to.equal(202);
    expectError(await w.get(`${w.base()}/objects/`, w.writer), 403, 'TAXII_ERR_FORBIDDEN');
  });
});

describe('HTTP §4.3 GET /{api-root}/status/{status-id}/', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it('§4.3 200: the same status resource as the POST answer, with and without trailing slash', async () => {
    const posted = json(await w.post(`${w.base()}/objects/`, { objects: [indicator(), { type: 'x' }] }));
    for (const path of [`/api1/status/${posted.id}/`, `/api1/status/${posted.id}`]) {
      const res = await w.get(path);
      expect(res.status).to.equal(200);
      expectTaxiiContentType(res);
      expectResource('status', json(res));
      expect(json(res)).to.deep.equal(posted);
    }
    expect(posted.request_timestamp).to.match(/\.\d{6}Z$/);
  });

  it('§4.3 404: unknown status id, a malformed one, and another account\'s submission', async () => {
    expectError(await w.get(`/api1/status/${crypto.randomUUID()}/`), 404, 'TAXII_ERR_NOT_FOUND');
    expectError(await w.get('/api1/status/not-a-uuid/'), 404);
    const posted = json(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }));
    expectError(await w.get(`/api1/status/${posted.id}/`, w.reader), 404);
    expectError(await w.get(`/api1/status/${posted.id}/`, w.stranger), 404);
  });

  it('§4.3 404: a status id under another API root', async () => {
    await w.root('api2');
    const c2 = await w.collection('api2', { title: 'Two' });
    await w.grant(w.rw, c2.id, { read: true, write: true });
    const posted = json(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }));
    expect((await w.get(`/api1/status/${posted.id}/`)).status).to.equal(200);
    expectError(await w.get(`/api2/status/${posted.id}/`), 404);
  });

  it('§4.3 retained for 24 hours, then 404 after purgeStatuses', async () => {
    const posted = json(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }));
    await w.service.purgeStatuses(nowMicros() + 23 * 3600e6);
    expect((await w.get(`/api1/status/${posted.id}/`)).status).to.equal(200);
    await w.service.purgeStatuses(nowMicros() + 25 * 3600e6);
    expectError(await w.get(`/api1/status/${posted.id}/`), 404);
  });

  it('§4.3 401 / 406 / 405', async () => {
    const posted = json(await w.post(`${w.base()}/objects/`, { objects: [indicator()] }));
    expectError(await w.get(`/api1/status/${posted.id}/`, null), 401);
    expectError(await w.get(`/api1/status/${posted.id}/`, w.rw, 'application/json'), 406);
    expectError(await w.del(`/api1/status/${posted.id}/`), 405);
  });
});
