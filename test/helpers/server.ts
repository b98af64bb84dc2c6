// An in-process Meridian for tests: the real app factory on an in-memory SQLite store
// (STYLE habits 3 and 4), with helpers to set up accounts, API roots, collections and grants.
import { Writable } from 'node:stream';
import type { CollectionPurpose, Role, Store, TlpLevel } from '../../collections/store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { Admin } from '../../server/admin/admin.js';
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
  /** The operator's administration, as at the CLI. */
  const admin = new Admin(store, { name: 'test-operator' });
  return {
    app,
    store,
    service,
    config,
    admin,
    /** Every line the server logged, for assertions that nothing secret is logged. */
    logs,
    async account(roles: Role[] = [], name = `user${++counter}`, opts: { organisation?: string; curatorRoots?: string[] } = {}): Promise<TestAccount> {
      const password = `pw-${name}-long-enough`;
      await admin.addAccount({ name, password, roles, ...opts });
      return { name, password, auth: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
    },
    async root(path = 'api1', maxContentLength?: number) {
      return admin.addApiRoot({ path, title: `Root ${path}`, ...(maxContentLength ? { maxContentLength } : {}) });
    },
    async collection(apiRoot = 'api1', opts: { title?: string; alias?: string; id?: string; purpose?: CollectionPurpose } = {}) {
      return admin.addCollection({ apiRoot, title: opts.title ?? `Collection ${++counter}`, ...opts });
    },
    async grant(account: TestAccount, collectionId: string, rights: { read?: boolean; write?: boolean; maxTlp?: TlpLevel }) {
      await admin.grant({ collection: collectionId, account: account.name, read: Boolean(rights.read), write: Boolean(rights.write), ...(rights.maxTlp ? { maxTlp: rights.maxTlp } : {}) });
    },
  };
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
