// An in-process Meridian for tests: the real app factory on an in-memory SQLite store
//, with helpers to set up accounts, API roots, collections and grants.
// With MERIDIAN_TEST_STORE=mongo (the MongoDB lane of `npm test`) every testServer gets a MongoStore
// on a fresh database of the test MongoDB instead (test/helpers/mongo.ts: the CongoDB stand-in, or
// a real MongoDB from MERIDIAN_TEST_MONGO_URL).
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import type { CollectionPurpose, Role, Store, TlpLevel } from '../../collections/store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { Admin } from '../../server/admin/admin.js';
import { composeApp } from '../../server/compose.js';
import { type Config, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { type MongoTarget, mongoTarget } from './mongo.js';

export const TAXII = 'application/taxii+json;version=2.1';

export interface TestAccount {
  name: string;
  password: string;
  /** The Authorization header value. */
  auth: string;
}

/** Which store the tests' servers use: 'sqlite' (default) or 'mongo' (MERIDIAN_TEST_STORE=mongo). */
export const TEST_STORE: 'sqlite' | 'mongo' = process.env.MERIDIAN_TEST_STORE === 'mongo' ? 'mongo' : 'sqlite';

/** The MongoDB lane's servers, closed (and their databases dropped) after their test or the run. */
interface Opened { store: MongoStore; db: string; close: () => Promise<void>; inTest: boolean }
const opened: Opened[] = [];
let inTest = false;
let mongo: MongoTarget | undefined;
let dropper: mongoose.Connection | undefined;

async function dispose(list: Opened[]): Promise<void> {
  for (const o of list.splice(0)) {
    await o.close().catch(() => undefined);
    await o.store.close();
    // One shared connection drops the test databases (memory of the stand-in; a real MongoDB's disk).
    dropper ??= await mongoose.createConnection(mongo!.uri(), { serverSelectionTimeoutMS: 2000, ...mongo!.storeOptions }).asPromise();
    await dropper.useDb(o.db, { useCache: false }).dropDatabase().catch(() => undefined);
  }
}

if (TEST_STORE === 'mongo') {
  mongo = await mongoTarget();
  console.log(`    HTTP tests run with the MongoDB store (MERIDIAN_TEST_STORE=mongo) against ${mongo.description}`);
  // Root hooks: a server made inside a test (or its beforeEach) is closed after that test; one made
  // in a suite's before() lives until the end of the run.
  beforeEach(function () {
    inTest = true;
  });
  afterEach(async function () {
    inTest = false;
    const mine = opened.filter((o) => o.inTest);
    await dispose(mine);
    opened.splice(0, opened.length, ...opened.filter((o) => !o.inTest));
  });
  after(async function () {
    await dispose(opened);
    await dropper?.close();
    await mongo?.shutdown();
  });
}

/** A store for one test server: in-memory SQLite, or a MongoStore on a fresh database in the MongoDB lane. */
function defaultStore(): { store: Store; mongo?: { store: MongoStore; db: string } } {
  if (TEST_STORE !== 'mongo') return { store: new SqliteStore({ location: ':memory:' }) };
  const uri = mongo!.uri();
  const store = new MongoStore({ uri, serverSelectionTimeoutMs: 2000, startupTimeoutMs: 10_000, retryDelayMs: 100, ...mongo!.storeOptions });
  return { store, mongo: { store, db: new URL(uri).pathname.slice(1) } };
}

export async function testServer(overrides: Partial<Config> = {}, given?: Store) {
  const chosen = given ? { store: given } : defaultStore();
  const store = chosen.store;
  const config = loadConfig({ env: {}, overrides: { dataDir: ':memory:', logLevel: 'silent', ...overrides } });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel === 'silent' ? 'info' : config.logLevel, new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } }));
  let composed: Awaited<ReturnType<typeof composeApp>>;
  try {
    composed = await composeApp(config, store, logger);
  } catch (err) {
    if (chosen.mongo) opened.push({ ...chosen.mongo, close: async () => undefined, inTest }); // refused at start-up: still close it
    throw err;
  }
  const { app, service } = composed;
  if (chosen.mongo) opened.push({ ...chosen.mongo, close: () => service.close(), inTest });
  let counter = 0;
  /** The operator's administration, as at the CLI. */
  const admin = new Admin(store, { name: 'test-operator' });
  return {
    app,
    store,
    service,
    /** The webhook worker and subscriptions (the worker runs only when a test starts it). */
    webhooks: composed.webhooks,
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
