// Shared setup of the HTTP suite: one in-process server with an API root, collections and the
// accounts of the §5.7 permission matrix, and request helpers that send the TAXII headers.
import request from 'supertest';
import type { Config } from '../../server/config.js';
import { type TestAccount, indicator, testServer } from '../helpers/server.js';
import { TAXII_MEDIA_TYPE, json } from '../helpers/taxii-schemas.js';

export { indicator, TAXII_MEDIA_TYPE, json };

export const PUBLIC_BASE = 'https://taxii.example.org/';

export type World = Awaited<ReturnType<typeof world>>;

/**
 * api1 with collections `main` (alias "main"), `other`, and `hidden`; accounts with read+write,
 * read only, write only and no grant on `main`, an admin, and an account with nothing at all.
 */
export async function world(overrides: Partial<Config> = {}, maxContentLength?: number) {
  const t = await testServer({ publicBaseUrl: PUBLIC_BASE, ...overrides });
  await t.root('api1', maxContentLength);
  const main = await t.collection('api1', { title: 'Main', alias: 'main' });
  const other = await t.collection('api1', { title: 'Other' });
  const hidden = await t.collection('api1', { title: 'Hidden' });
  const rw = await t.account([], 'rw');
  const reader = await t.account([], 'reader');
  const writer = await t.account([], 'writer');
  const stranger = await t.account([], 'stranger');
  const admin = await t.account(['admin'], 'admin');
  await t.grant(rw, main.id, { read: true, write: true });
  await t.grant(rw, other.id, { read: true, write: true });
  await t.grant(reader, main.id, { read: true });
  await t.grant(writer, main.id, { write: true });
  // The stranger may read `other` only: it sees api1, but not `main` or `hidden`.
  await t.grant(stranger, other.id, { read: true });

  const base = (c: { id: string } = main) => `/api1/collections/${c.id}`;

  function get(path: string, who: TestAccount | null = rw, accept: string | null = TAXII_MEDIA_TYPE) {
    const r = request(t.app).get(path);
    if (accept !== null) r.set('Accept', accept);
    if (who) r.set('Authorization', who.auth);
    return r;
  }
  function del(path: string, who: TestAccount | null = rw) {
    const r = request(t.app).delete(path).set('Accept', TAXII_MEDIA_TYPE);
    if (who) r.set('Authorization', who.auth);
    return r;
  }
  function post(path: string, body: unknown, who: TestAccount | null = rw, contentType: string | null = TAXII_MEDIA_TYPE) {
    const r = request(t.app).post(path).set('Accept', TAXII_MEDIA_TYPE);
    if (contentType !== null) r.set('Content-Type', contentType);
    if (who) r.set('Authorization', who.auth);
    return r.send(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  }
  /** POSTs objects to a collection, expects the 202 and returns the status resource. */
  async function add(objects: unknown[], collection: { id: string } = main, who: TestAccount = rw) {
    const res = await post(`${base(collection)}/objects/`, { objects }, who);
    if (res.status !== 202) throw new Error(`POST failed: ${res.status} ${res.text}`);
    await t.service.idle();
    return json(res);
  }

  return { ...t, main, other, hidden, rw, reader, writer, stranger, admin, base, get, del, post, add };
}

/** Every object of an envelope page, following nothing. */
export function ids(body: { objects?: Array<{ id: string }> }): string[] {
  return (body.objects ?? []).map((o) => o.id);
}
