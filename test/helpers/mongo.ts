// Which MongoDB the MongoDB-store tests run against (docs/architecture.md §9, ../shared/notes/mongo-stand-in.md):
// a real one from MERIDIAN_TEST_MONGO_URL (npm test sets it to its testcontainers MongoDB when it
// started one), else testcontainers where a container engine exists, else the in-process CongoDB
// stand-in, whose storage we wrap so that secondary unique indexes are enforced.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { withDatabase } from '../../collections/mongo/schemas.js';

export interface MongoTarget {
  /** What the tests ran against, printed at the start of the suite. */
  description: string;
  /** True for a real mongod (binary string order, transactions, unique indexes of its own). */
  real: boolean;
  /** A fresh database on the target. */
  uri(): string;
  /**
   * A fresh database on the target, as a URI that carries the options the target needs (for
   * another process: `MERIDIAN_STORE`, `meridian migrate --to`), e.g. `serverMonitoringMode=poll`.
   */
  processUri(): string;
  /** Extra MongoStore options the target needs. */
  storeOptions: { serverMonitoringMode?: 'poll' };
  /** Stop and restart the server (the stand-in only): outage tests. */
  outage?: { stop(): Promise<void>; start(): Promise<void> };
  shutdown(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

type Indexes = Array<{ name: string; key: Record<string, unknown>; unique?: boolean; sparse?: boolean }>;

/**
 * Makes CongoDB enforce unique secondary indexes (it lists them but only enforces `_id`): every
 * insert and update is checked against the collection's unique indexes, one write at a time.
 */
function enforceUniqueIndexes(storage: any): void {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const keyOf = (doc: Record<string, unknown>, key: Record<string, unknown>, sparse: boolean) => {
    const fields = Object.keys(key);
    const values = fields.map((f) => f.split('.').reduce<any>((v, p) => (v == null ? undefined : v[p]), doc));
    if (sparse && values.every((v) => v === undefined)) return undefined;
    return JSON.stringify(values.map((v) => v ?? null));
  };
  const check = async (db: string, coll: string, doc: Record<string, unknown>, self?: string) => {
    const indexes = ((await storage.getIndexes(db, coll)) as Indexes).filter((i) => i.unique && i.name !== '_id_');
    if (indexes.length === 0) return;
    const all = (await storage.findAll(db, coll)) as Array<Record<string, any>>;
    for (const index of indexes) {
      const k = keyOf(doc, index.key, Boolean(index.sparse));
      if (k === undefined) continue;
      const clash = all.find((d) => d._id.toHexString() !== self && keyOf(d, index.key, Boolean(index.sparse)) === k);
      if (clash) throw Object.assign(new Error(`E11000 Duplicate key error collection: ${db}.${coll} index: ${index.name}`), { code: 11000 });
    }
  };
  const insertOne = storage.insertOne.bind(storage);
  const updateById = storage.updateById.bind(storage);
  storage.insertOne = (db: string, coll: string, doc: Record<string, unknown>) => serial(async () => {
    await check(db, coll, doc);
    return insertOne(db, coll, doc);
  });
  storage.updateById = (db: string, coll: string, id: any, doc: Record<string, unknown>) => serial(async () => {
    await check(db, coll, doc, id.toHexString());
    return updateById(db, coll, id, doc);
  });
}

/**
 * A CongoDB stand-in of its own, in this process, listening on 127.0.0.1 (a real TCP port, so other
 * processes can use it too). mongoTarget() shares one per test process; tests that stop it (outages
 * seen by server processes) may start their own.
 */
export async function startStandIn(): Promise<MongoTarget> {
  const { CongoServer } = await import('@push.rocks/smartmongo/dist_ts/congodb/index.js');
  // A fixed port, so a restarted server is found at the same address by the running client.
  const port = await freePort();
  const server = new CongoServer({ port, host: '127.0.0.1' });
  enforceUniqueIndexes(server.getStorage());
  await server.start();
  let running = true;
  const db = () => `t${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  return {
    description: `the CongoDB stand-in (@push.rocks/smartmongo 2.2.0, in process, 127.0.0.1:${port}) with unique indexes enforced by the test harness — NOT a real MongoDB; set MERIDIAN_TEST_MONGO_URL to run on one`,
    real: false,
    // CongoDB announces a topologyVersion but answers a streaming hello once: the driver must poll.
    storeOptions: { serverMonitoringMode: 'poll' },
    uri: () => `mongodb://127.0.0.1:${port}/${db()}`,
    processUri: () => `mongodb://127.0.0.1:${port}/${db()}?serverMonitoringMode=poll`,
    // The memory storage outlives stop(): a restart models mongod coming back with its data.
    outage: {
      stop: async () => { if (running) { running = false; await server.stop(); } },
      start: async () => { if (!running) { await server.start(); running = true; } },
    },
    shutdown: async () => { if (running) { running = false; await server.stop(); } },
  };
}

/** A testcontainers MongoDB (test/helpers/mongo-container.mjs), or why there is none. */
async function container(): Promise<MongoTarget | string> {
  // npm test looked once already (test/run-all.mjs) and found none.
  if (process.env.MERIDIAN_TEST_CONTAINERS === 'off') return 'no container engine (test/run-all.mjs found none)';
  const { containerMongo } = await import('./mongo-container.mjs');
  const c = await containerMongo();
  if (c.skipped !== undefined) return c.skipped;
  const uri = () => withDatabase(c.url, `t${randomUUID().slice(0, 8)}`);
  let stopped: Promise<void> | undefined;
  return { description: `a real MongoDB (${c.description})`, real: true, storeOptions: {}, uri, processUri: uri, shutdown: () => (stopped ??= c.stop().then(() => undefined)) };
}

let target: Promise<MongoTarget> | undefined;

/** The MongoDB for this test run, chosen once. */
export function mongoTarget(): Promise<MongoTarget> {
  return (target ??= (async () => {
    const url = process.env.MERIDIAN_TEST_MONGO_URL;
    if (url) {
      const uri = () => withDatabase(url, `meridian_test_${randomUUID().slice(0, 8)}`);
      const source = process.env.MERIDIAN_TEST_MONGO_SOURCE ?? 'MERIDIAN_TEST_MONGO_URL';
      return { description: `a real MongoDB at ${url.replace(/\/\/[^@/]*@/, '//***@')} (${source})`, real: true, storeOptions: {}, uri, processUri: uri, shutdown: async () => undefined };
    }
    const found = await container();
    if (typeof found !== 'string') return found;
    const standIn = await startStandIn();
    return { ...standIn, description: `${standIn.description} (testcontainers lane skipped: ${found})` };
  })());
}
