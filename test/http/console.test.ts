// The console's assets at /console/ (strict CSP, public, no data) and GET /admin/v1/me, the one
// call it needs to show only what applies to the signed-in account.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { buildConsole } from '../../console/build.js';
import { CONSOLE_CSP } from '../../server/console.js';
import { OPENAPI_DOCUMENT } from '../../server/openapi.js';
import { testServer } from '../helpers/server.js';

describe('the web console: assets and the account it is signed in as', function () {
  this.timeout(60_000);
  before(async function () {
    await buildConsole();
  });

  it('serves the page and its bundle without credentials, under a strict Content-Security-Policy', async function () {
    const s = await testServer();
    const page = await request(s.app).get('/console/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.headers['content-security-policy']).to.equal(CONSOLE_CSP);
    expect(CONSOLE_CSP).to.include("script-src 'self'").and.not.include('unsafe-inline');
    expect(page.headers['x-frame-options']).to.equal('DENY');
    // no inline script or style: the page only names files of its own origin
    expect(page.text).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/i).and.not.match(/<style|style=/i).and.not.match(/https?:\/\//);
    const bundle = await request(s.app).get('/console/app.js');
    expect(bundle.status).to.equal(200);
    expect(bundle.headers['content-type']).to.match(/javascript/);
    expect((await request(s.app).get('/console/app.css')).status).to.equal(200);
    const bare = await request(s.app).get('/console');
    expect(bare.status).to.equal(301);
    expect(bare.headers.location).to.equal('/console/');
    const missing = await request(s.app).get('/console/nothing-here.js');
    expect(missing.status).to.equal(404);
    expect(missing.headers['content-security-policy']).to.equal(CONSOLE_CSP);
  });

  it('tells every account its own name, organisation, roles and curated roots, and nobody else', async function () {
    const s = await testServer();
    await s.admin.addApiRoot({ path: 'fr', title: 'France' });
    await s.admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
    const sub = await s.account(['subscriber'], 'officer', { organisation: 'fr-police' });
    const cur = await s.account(['curator'], 'alice', { curatorRoots: ['fr'] });
    const mine = await request(s.app).get('/admin/v1/me').set('Authorization', sub.auth);
    expect(mine.status).to.equal(200);
    expect(mine.body).to.include({ name: 'officer', organisation: 'fr-police' });
    expect(mine.body.roles).to.deep.equal(['subscriber']);
    const curator = await request(s.app).get('/admin/v1/me').set('Authorization', cur.auth);
    expect(curator.body.curator_roots).to.deep.equal(['fr']);
    expect((await request(s.app).get('/admin/v1/me')).status).to.equal(401);
    expect((await request(s.app).get('/admin/v1/me?x=1').set('Authorization', sub.auth)).status).to.equal(400);
    // the rest of the admin API still does not exist for a subscriber
    expect((await request(s.app).get('/admin/v1/accounts').set('Authorization', sub.auth)).status).to.equal(404);
  });

  it('calls only admin, curation and token endpoints that the OpenAPI description documents', function () {
    const files = readdirSync('console/src', { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    const called = new Set<string>();
    for (const f of files) {
      const text = readFileSync(path.join('console/src', f), 'utf8');
      for (const m of text.matchAll(/[`'](\/(?:admin\/v1|auth)\/[^`']*)[`']/g)) {
        // a parameter is `${…}` after a slash; anything else from the first `${` or `?` is a query
        const p = m[1]!.replace(/\/\$\{[^}]*\}/g, '/{p}').replace(/(\$\{|\?).*$/, '').replace(/\/$/, '');
        called.add(p);
      }
    }
    expect(called.size).to.be.greaterThan(10);
    const documented = Object.keys(OPENAPI_DOCUMENT.paths).map((d) => new RegExp(`^${d.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}$`));
    const missing = [...called].filter((p) => !documented.some((d) => d.test(p)));
    expect(missing, 'paths the console calls that /openapi.json does not document').to.deep.equal([]);
  });
});
