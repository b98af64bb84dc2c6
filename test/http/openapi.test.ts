// /openapi.json against the app: public; every route the app mounts is documented and every
// documented route answers (no routing 404, no 405); real responses validate against its schemas;
// /openapi.html shows every operation and schema, with no script and a CSP that allows only its style.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OPENAPI_DOCUMENT } from '../../server/openapi.js';
import { operationAnchor } from '../../server/openapi-page.js';
import { type TestAccount, indicator, testServer } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const ROUTING_404 = /No (TAXII|TAXII 2\.0|admin API|curation API) endpoint at this path/;
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
const doc = OPENAPI_DOCUMENT as unknown as Doc;

/** Every route of an express app and its routers, as "METHOD /path/{param}" without trailing slash. */
function mounted(stack: any[], prefix = '', out = new Set<string>()): Set<string> {
  for (const layer of stack) {
    if (layer.route) {
      for (const m of Object.keys(layer.route.methods).filter((x) => x !== '_all')) out.add(`${m.toUpperCase()} ${norm(prefix + layer.route.path)}`);
    } else if (layer.handle?.stack) mounted(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''), out);
  }
  return out;
}
const norm = (p: string) => p.replace(/:(\w+)/g, '{$1}').replace(/\/+$/, '') || '/';

describe('OpenAPI description at /openapi.json', function () {
  let t: Awaited<ReturnType<typeof testServer>>;
  let admin: TestAccount;
  let statusId: string;
  const objectId = `indicator--${crypto.randomUUID()}`;

  before(async function () {
    t = await testServer();
    await t.root('fr');
    const col = await t.collection('fr', { title: 'Published', alias: 'published' });
    admin = await t.account(['admin'], 'boss');
    await t.grant(admin, col.id, { read: true, write: true });
    const res = await request(t.app).post('/fr/collections/published/objects/').set('Authorization', admin.auth).set('Accept', TAXII).set('Content-Type', TAXII).send(JSON.stringify({ objects: [indicator({ id: objectId })] }));
    expect(res.status).to.equal(202);
    statusId = res.body.id;
  });

  it('is served without authentication as OpenAPI 3.1', async function () {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.body.openapi).to.equal('3.1.0');
    expect(res.body.paths['/taxii2/']).to.be.an('object');
  });

  it('documents every mounted route, and mounts every documented one', function () {
    const routes = mounted((t.app as any).router.stack);
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${norm(p)}`)));
    expect([...routes].filter((r) => !documented.has(r)), 'mounted but not documented').to.deep.equal([]);
    expect([...documented].filter((r) => !routes.has(r)), 'documented but not mounted').to.deep.equal([]);
  });

  it('validates real responses against the documented schemas', async function () {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'oa', ...OPENAPI_DOCUMENT } as object);
    const check = async (template: string, url: string, status: string, opts: { method?: 'get' | 'post'; body?: string; auth?: string; accept?: string; type?: string } = {}) => {
      const method = opts.method ?? 'get';
      let req = request(t.app)[method](url).set('Accept', opts.accept ?? TAXII);
      if (opts.auth !== '') req = req.set('Authorization', opts.auth ?? admin.auth);
      if (opts.body !== undefined) req = req.set('Content-Type', opts.type ?? TAXII).send(opts.body);
      const res = await req;
      expect(String(res.status), `${method} ${url}: ${res.text.slice(0, 200)}`).to.equal(status);
      const content = doc.paths[template]![method]!.responses[status]!.content!;
      const media = Object.keys(content).find((m) => res.headers['content-type']!.replace(/\s/g, '').startsWith(m.replace(/\s/g, '')));
      expect(media, `${url}: ${res.headers['content-type']} is not documented`).to.be.a('string');
      const validate = ajv.compile({ $ref: `oa#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/${media!.replace(/~/g, '~0').replace(/\//g, '~1')}/schema` });
      expect(validate(JSON.parse(res.text)), `${url}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    };
    await check('/taxii2/', '/taxii2/', '200');
    await check('/{apiRoot}/', '/fr/', '200');
    await check('/{apiRoot}/collections/', '/fr/collections/', '200');
    await check('/{apiRoot}/collections/{collectionId}/', '/fr/collections/published/', '200');
    await check('/{apiRoot}/collections/{collectionId}/objects/', '/fr/collections/published/objects/', '200');
    await check('/{apiRoot}/collections/{collectionId}/manifest/', '/fr/collections/published/manifest/', '200');
    await check('/{apiRoot}/collections/{collectionId}/objects/{objectId}/', `/fr/collections/published/objects/${objectId}/`, '200');
    await check('/{apiRoot}/collections/{collectionId}/objects/{objectId}/versions/', `/fr/collections/published/objects/${objectId}/versions/`, '200');
    await check('/{apiRoot}/collections/{collectionId}/changes/', '/fr/collections/published/changes/', '200');
    await check('/{apiRoot}/status/{statusId}/', `/fr/status/${statusId}/`, '200');
    await check('/{apiRoot}/collections/{collectionId}/objects/', '/fr/collections/published/objects/', '202', { method: 'post', body: JSON.stringify({ objects: [indicator()] }) });
    await check('/{apiRoot}/collections/', '/nowhere/collections/', '404');
    await check('/taxii2/', '/taxii2/', '401', { auth: '' });
    await check('/auth/token', '/auth/token', '200', { method: 'post', accept: 'application/json' });
    await check('/admin/v1/me', '/admin/v1/me', '200', { accept: 'application/json' });
    for (const kind of ['organisations', 'accounts', 'api-roots', 'collections', 'grants', 'audit', 'curation/queue']) await check(`/admin/v1/${kind}`, `/admin/v1/${kind}`, '200', { accept: 'application/json' });
    await check('/admin/v1/accounts/{name}/api-keys', '/admin/v1/accounts/boss/api-keys', '200', { accept: 'application/json' });
  });

  it('is rendered at /openapi.html: every operation and schema, no script, nothing from elsewhere, a CSP allowing only its style sheet', async function () {
    const res = await request(t.app).get('/openapi.html');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/html; charset=utf-8/);
    const page = res.text;
    const pathOf = (p: string) => p.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    let operations = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        operations++;
        const heading = new RegExp(`<h3 id="${operationAnchor(method, template).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"><span class="m ${method}">${method}</span><code>([^<]*)</code></h3>`).exec(page);
        expect(heading?.[1], `${method.toUpperCase()} ${template} is not on the page`).to.equal(pathOf(template));
      }
    }
    expect(operations).to.be.above(40);
    expect(new Set([...page.matchAll(/<h3 id="([^"]+)"><span class="m /g)].map((m) => m[1])).size, 'one anchor per operation').to.equal(operations);
    for (const name of Object.keys((OPENAPI_DOCUMENT.components.schemas))) expect(page, name).to.include(`id="schema-${name}"`);
    expect(page).to.not.match(/<script|<link|<img|<iframe|\son\w+=|src=|https?:\/\/(?!json-schema\.org)/i);
    const style = /<style>([\s\S]*)<\/style>/.exec(page)![1]!;
    const csp = String(res.headers['content-security-policy']);
    expect(csp).to.include("default-src 'none'").and.include(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(csp).to.not.match(/script-src|unsafe/);
  });

  it('answers on every documented route (no routing 404, no 405)', async function () {
    const values: Record<string, string> = { apiRoot: 'fr', collectionId: 'published', objectId, statusId, name: 'boss', path: 'fr', root: 'fr', collection: 'published' };
    const failures: string[] = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        // Deletes name things that do not exist, so nothing the other requests need goes away.
        const url = template.replace(/\{(\w+)\}/g, (_, p: string) => (method === 'delete' ? 'does-not-exist' : values[p] ?? 'does-not-exist'));
        const admin_ = template.startsWith('/admin/');
        let req = (request(t.app) as any)[method](url).set('Authorization', admin.auth).set('Accept', admin_ || template === '/auth/token' ? 'application/json' : `${TAXII}, text/html;q=0.5, */*;q=0.1`);
        if (['post', 'put', 'patch'].includes(method)) req = req.set('Content-Type', admin_ || template === '/auth/token' ? 'application/json' : TAXII).send(template.includes('/objects/') ? '{"objects": []}' : '{}');
        const res = await req;
        const description = (() => {
          try {
            return String(JSON.parse(res.text).description ?? '');
          } catch {
            return '';
          }
        })();
        if (res.status === 405 || (res.status === 404 && ROUTING_404.test(description))) failures.push(`${method.toUpperCase()} ${url}: ${res.status} ${description}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });
});
