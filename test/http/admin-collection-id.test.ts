// The admin API holds explicit collection ids to the same UUIDv4 rule as the CLI and layout files.
import { expect } from 'chai';
import request from 'supertest';
import { testServer } from '../helpers/server.js';

describe('admin API: collection ids must be UUIDv4', () => {
  it('refuses a version-1 id (400, naming the rule), accepts a version-4 id', async () => {
    const t = await testServer();
    await t.admin.addApiRoot({ path: 'fr', title: 'France' });
    const admin = await t.account(['admin'], 'id-admin');
    const post = (body: unknown) => request(t.app).post('/admin/v1/collections').set('Authorization', admin.auth).set('Content-Type', 'application/json').send(JSON.stringify(body));
    const refused = await post({ api_root: 'fr', title: 'One', id: 'c0ffee00-1234-11ee-8000-000000000001' });
    expect(refused.status).to.equal(400);
    expect(JSON.parse(refused.text).description).to.match(/must be a UUIDv4 .*Microsoft Sentinel/);
    const made = await post({ api_root: 'fr', title: 'Two', id: '4d7c5e4a-9a0b-4c3d-8e2f-1a2b3c4d5e6f' });
    expect(made.status).to.equal(201);
    expect(JSON.parse(made.text).id).to.equal('4d7c5e4a-9a0b-4c3d-8e2f-1a2b3c4d5e6f');
  });
});
