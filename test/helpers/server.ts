// An in-process Meridian for tests: the real app factory on an in-memory SQLite store
// (STYLE habits 3 and 4), with helpers to set up accounts, API roots, collections and grants.
import { Writable } from 'node:stream';
import type { Role, Store } from '../../collections/store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { addAccount, addApiRoot, addCollection, grant } from '../../server/admin-ops.js';
import { composeApp } from '../../server/compose.js';
import { type Config, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';

export const TAXII = 'application/taxii+json;version=2.1';

export interface TestAccount {
  name: string;
  password: string;
  /** The Authorization header value. */
  auth: string;
}

export async function testServer(overrides: Partial<Config> = {}, store: Store = new SqliteStore({ location: ':memory:' })) {
  const config = loadConfig({ env: {}, overrides: { dataDir: ':memory:', logLevel: 'silent', ...overrides } });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel === 'silent' ? 'info' : config.logLevel, new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } }));
  const { app, service } = await composeApp(config, store, logger);
  let counter = 0;
  return {
    app,
    store,
    service,
    config,
    /** Every line the server logged, for assertions that nothing secret is logged. */
    logs,
    async account(roles: Role[] = [], name = `user${++counter}`): Promise<TestAccount> {
      const password = `pw-${name}-long-enough`;
      await addAccount(store, name, password, roles);
      return { name, password, auth: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
    },
    async root(path = 'api1', maxContentLength?: number) {
      return addApiRoot(store, { path, title: `Root ${path}`, ...(maxContentLength ? { maxContentLength } : {}) });
    },
    async collection(apiRoot = 'api1', opts: { title?: string; alias?: string; id?: string } = {}) {
      return addCollection(store, { apiRoot, title: opts.title ?? `Collection ${++counter}`, ...(opts.alias ? { alias: opts.alias } : {}), ...(opts.id ? { id: opts.id } : {}) });
    },
    async grant(account: TestAccount, collectionId: string, rights: { read?: boolean; write?: boolean }) {
      const c = await findById(store, collectionId);
      if (!c) throw new Error(`no collection ${collectionId}`);
      await grant(store, account.name, c, { read: Boolean(rights.read), write: Boolean(rights.write) });
    },
  };
}

async function findById(store: Store, id: string) {
  for (const r of await store.listApiRoots()) {
    const c = await store.getCollection(r.path, id);
    if (c) return c;
  }
  return undefined;
}

/** A valid STIX 2.1 indicator (STIX 2.1 §4.7) with a fresh id unless one is given. */
export function indicator(opts: { id?: string; modified?: string; created?: string; name?: string } = {}) {
  const created = opts.created ?? '2024-01-01T00:00:00.000Z';
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: opts.id ?? `indicator--${crypto.randomUUID()}`,
    created,
    modified: opts.modified ?? created,
    name: opts.name ?? 'Bad IP',
    indicator_types: ['malicious-activity'],
    pattern: "[ipv4-addr:value = '198.51.100.1']",
    pattern_type: 'stix',
    valid_from: created,
  };
}
