// The store under test and the limits measured on it in the same run: a raw batch insert
// of the same rows into the same indexes, and the raw query the store runs behind each GET. One
// Backend per store kind; `npm run bench` uses SQLite, `--store mongodb://…` a MongoDB server.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mongoose from 'mongoose';
import { MongoStore, objectFilter } from '../collections/mongo/mongo-store.js';
import { UNVERSIONED, identityId, objectSchema, objectsCollectionName, withDatabase } from '../collections/mongo/schemas.js';
import { SCHEMA } from '../collections/sqlite/schema.js';
import { SqliteStore, queueSql } from '../collections/sqlite/sqlite-store.js';
import { type IngestItem, type NewObject, type QueueState, type Store, versionFlags, versionKeyFromMicros } from '../collections/store.js';
import { timestampKey } from 'stix2-validator-ts/timestamp';
import { type Summary, summarise } from './client.js';
import type { Obj } from './dataset.js';

/** The GETs whose raw query is timed: objects/ and manifest/ with added_after, match[type], match[id]. */
export type RawShape = 'poll' | 'manifest' | 'matchType' | 'matchId' | 'changes';
export interface RawParams {
  after?: number;
  type?: string;
  id?: string;
}
/** Rows per raw query: a page of 100 and the one that tells whether there is more. */
const PAGE_ROWS = 101;

export interface CollectionInfo {
  id: string;
  first: number;
  last: number;
  count: number;
}

export interface RawReader {
  collection(apiRoot: string, alias: string): Promise<CollectionInfo>;
  sampleIds(c: CollectionInfo, n: number): Promise<string[]>;
  /** Runs the raw query once; the ids of its rows in order (the tests compare them with the store's page). */
  run(shape: RawShape, c: CollectionInfo, params: RawParams): Promise<string[]>;
  /** Runs the raw query up to `n` times (at most 2 s), sequentially, with fresh parameters; latency in ms. */
  time(shape: RawShape, c: CollectionInfo, n: number, params: () => RawParams): Promise<Summary & { plan: string }>;
  close(): Promise<void>;
}

export interface Backend {
  /** For the table and results: the store and how it is set up. */
  readonly label: string;
  /** Environment for the server and the CLI. */
  readonly env: Record<string, string>;
  /** The store itself, for bulk loading through its API. */
  open(dataDir: string): Store;
  /** The raw batch insert of the same rows (the ingest limit). */
  rawInsert(objects: Obj[]): Promise<{ objectsPerSecond: number; seconds: number }>;
  reader(dataDir: string): Promise<RawReader>;
  /** The desk's limits; absent where the store has no desk yet (MongoDB). */
  readonly desk?: DeskBackend;
  /** Removes what the run created outside the data directory. */
  drop(): Promise<void>;
}

/** One queue listing as the store runs it for GET /admin/v1/curation/queue (Store.queryQueue). */
export interface QueueParams {
  intakeIds: string[];
  states?: QueueState[];
  organisationId?: string;
  maxTlp?: number;
  afterSeq?: number;
  limit: number;
}

export interface QueueReader {
  /** Entries of an intake and the range of their seqs (the cursor of queue pages). */
  intake(intakeId: string): Promise<{ count: number; firstSeq: number; lastSeq: number }>;
  /** Runs the raw queue query once; the ids of its rows in order (the tests compare them with the store's page). */
  run(params: QueueParams): Promise<string[]>;
  /** The seqs of the rows, in order (the bench checks its cursors against the server's). */
  seqs(params: QueueParams): Promise<number[]>;
  /** Runs it up to `n` times (at most 2 s), sequentially, with fresh parameters; latency in ms. */
  time(n: number, params: () => QueueParams): Promise<Summary & { plan: string }>;
  close(): Promise<void>;
}

export interface DeskBackend {
  reader(dataDir: string): Promise<QueueReader>;
  /**
   * The approval limit: the rows publishing `objects` to `targets` published collections writes
   * (a copy in objects, a publications row and a change-log row per object and target), inserted
   * raw in one transaction. `inspect` sees the database before it is dropped (tests).
   */
  rawPublish(objects: Obj[], targets: number, inspect?: (db: Database.Database) => void): Promise<{ rowsPerSecond: number; rows: number; seconds: number }>;
  /**
   * The same rows, publishing `objects` to the collections `targetIds`, inserted into a copy of the
   * store in `dataDir` (the server may be running): what the rows cost in a database of that size.
   */
  rawPublishInto(dataDir: string, objects: Obj[], targetIds: string[]): Promise<{ rowsPerSecond: number; rows: number; seconds: number }>;
}

/** Times `run` the way every raw figure is: a warm-up, then sequential runs for at most 2 s. */
async function timeQueries(n: number, run: (p: RawParams) => Promise<unknown>, params: () => RawParams): Promise<Summary> {
  for (let i = 0; i < Math.min(50, n); i++) await run(params()); // warm the cache like the server's
  const samples: number[] = [];
  const deadline = performance.now() + 2000;
  for (let i = 0; i < n && performance.now() < deadline; i++) {
    const p = params();
    const t = process.hrtime.bigint();
    await run(p);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return summarise(samples);
}

/** The stored form of a bench object: its version, version key (from date_added when it has none) and JSON. */
function rowOf(o: Obj, dateAdded: number) {
  const version = (o.modified ?? o.created) as string | undefined;
  const versionKey = version ? timestampKey(version)! : versionKeyFromMicros(dateAdded);
  return { id: o.id as string, type: o.type as string, version, versionKey, vid: version ? versionKey : UNVERSIONED, specVersion: (o.spec_version as string) ?? '2.1', json: JSON.stringify(o) };
}

/**
 * Loads objects straight through the store API (Store.ingest), bypassing HTTP and validation,
 * `chunk` per submission; `progress` is told every 100,000.
 */
export async function bulkLoad(
  store: Store,
  apiRoot: string,
  collectionId: string,
  objects: Iterable<Obj>,
  progress?: (count: number) => void,
  chunk = 5000,
  /** The submitting account of the n-th submission (in an intake, its organisation is the entries' vendor). */
  accountOf: (n: number) => string = () => 'bench',
): Promise<{ count: number; seconds: number }> {
  const t = performance.now();
  let count = 0;
  let submissions = 0;
  let batch: Obj[] = [];
  const flush = async () => {
    const id = `bulk-${randomBytes(8).toString('hex')}`;
    await store.createSubmission({ id, apiRoot, collectionId, accountId: accountOf(submissions++), requestTimestamp: Date.now() * 1000, body: Buffer.alloc(0), totalCount: batch.length });
    const items: IngestItem[] = batch.map((o, index) => {
      const version = (o.modified ?? o.created) as string | undefined;
      // tlp: the TLP rank the store keeps beside each object (0: TLP:CLEAR, as every generated object is marked).
      const object: NewObject = { id: o.id as string, type: o.type as string, specVersion: '2.1', ...(version ? { version, versionKey: timestampKey(version)! } : {}), mediaType: 'application/stix+json;version=2.1', tlp: 0, json: JSON.stringify(o) };
      return { index, id: object.id, version: version ?? '', object };
    });
    await store.ingest(id, items);
    await store.completeSubmission(id);
    count += batch.length;
    batch = [];
  };
  for (const o of objects) {
    batch.push(o);
    if (batch.length >= chunk) {
      await flush();
      if (count % 100_000 === 0) progress?.(count);
    }
  }
  if (batch.length) await flush();
  return { count, seconds: (performance.now() - t) / 1000 };
}

// ---- SQLite -------------------------------------------------------------------------------------

/** The SQL shapes the SQLite store runs for each figure (collections/sqlite/sqlite-store.ts `page`). */
const COLUMNS = 'id, type, date_added, version, spec_version, media_type';
const SQLITE_QUERIES: Record<RawShape, string> = {
  poll: `SELECT ${COLUMNS}, json FROM objects WHERE coll = ? AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  manifest: `SELECT ${COLUMNS} FROM objects WHERE coll = ? AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  matchType: `SELECT ${COLUMNS}, json FROM objects WHERE coll = ? AND date_added > ? AND type = ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  matchId: `SELECT ${COLUMNS}, json FROM objects INDEXED BY objects_by_id WHERE coll = ? AND id IN (SELECT value FROM json_each(?)) AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  // The change feed (GET …/changes/): SqliteStore.readChanges; `run` answers change ids.
  changes: 'SELECT id, date_added, type, object_type, object_id, version, actor_kind, reason, last_version, tlp FROM changes WHERE coll = ? AND date_added > ? ORDER BY date_added LIMIT ?',
};

const sqliteDesk: DeskBackend = {
  async reader(dataDir) {
    const db = new Database(path.join(dataDir, 'meridian.sqlite'), { readonly: true, fileMustExist: true });
    const statements = new Map<string, Database.Statement>();
    // Rows as arrays, as the store reads queue pages (queueSql's columns: seq, id, …).
    const all = (q: QueueParams) => {
      const { sql, params } = queueSql(q);
      const statement = statements.get(sql) ?? statements.set(sql, db.prepare(sql).raw(true)).get(sql)!;
      return (statement.all(params) as Array<[number, string]>).map(([seq, id]) => ({ seq, id }));
    };
    return {
      async intake(intakeId) {
        const r = db.prepare('SELECT count(*) AS count, min(seq) AS firstSeq, max(seq) AS lastSeq FROM queue WHERE intake_id = ?').get(intakeId) as { count: number; firstSeq: number; lastSeq: number };
        return r;
      },
      async run(q) {
        return all(q).map((r) => r.id);
      },
      async seqs(q) {
        return all(q).map((r) => r.seq);
      },
      async time(n, params) {
        const summary = await timeQueries(n, async () => all(params()), () => ({}));
        const { sql, params: p } = queueSql(params());
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(p) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        return { ...summary, plan };
      },
      async close() {
        db.close();
      },
    };
  },

  /**
   * What SqliteStore.applyDecision writes per publication (storeObject's objects row, the
   * publications row, appendChange's changes row), with one date_added per row from each
   * collection's counter, one prepared statement per table, one transaction. No duplicate or
   * version lookups, no queue updates, no decision or audit rows.
   */
  async rawPublish(objects, targets, inspect) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-raw-'));
    try {
      const db = openRaw(path.join(dir, 'raw.sqlite'));
      db.exec(SCHEMA);
      const collections: Array<{ pk: number; id: string }> = [];
      for (let t = 1; t <= targets; t++) {
        db.prepare("INSERT INTO api_roots (path, title, max_content_length, created_at) VALUES (?, 'raw', 1, 0)").run(`raw${t}`);
        const pk = Number(db.prepare("INSERT INTO collections (id, api_root, title, media_types, created_at) VALUES (?, ?, 'raw', '[]', 0)").run(`raw${t}`, `raw${t}`).lastInsertRowid);
        collections.push({ pk, id: `raw${t}` });
      }
      return insertPublicationRows(db, collections, objects, inspect);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async rawPublishInto(dataDir, objects, targetIds) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-raw-'));
    try {
      // A consistent copy while the server runs (its WAL content included), page for page (VACUUM INTO
      // would pack the pages full, and every insert would split one), then the same rows as rawPublish.
      const copy = path.join(dir, 'raw.sqlite');
      const source = new Database(path.join(dataDir, 'meridian.sqlite'), { readonly: true });
      await source.backup(copy);
      source.close();
      const db = openRaw(copy);
      const collections = targetIds.map((id) => ({ pk: (db.prepare('SELECT pk FROM collections WHERE id = ?').get(id) as { pk: number }).pk, id }));
      return insertPublicationRows(db, collections, objects);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function openRaw(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

/** The rows publishing `objects` to `collections` (rawPublish), timed; the database is closed after `inspect`. */
function insertPublicationRows(db: Database.Database, collections: Array<{ pk: number; id: string }>, objects: Obj[], inspect?: (db: Database.Database) => void) {
  const insertObject = db.prepare(`INSERT INTO objects (coll, date_added, id, type, version, version_key, spec_version, media_type, is_first, is_last, is_latest_spec, tlp, first_mask, last_mask, submission_id, warnings, json)
                                   VALUES (?, ?, ?, ?, ?, ?, ?, 'application/stix+json;version=2.1', 1, 1, 1, 0, ?, ?, ?, NULL, ?)`);
  const insertPublication = db.prepare(`INSERT INTO publications (collection_id, object_id, object_type, version, version_key, date_added, entry_id, provenance)
                                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertChange = db.prepare(`INSERT INTO changes (coll, date_added, id, type, object_type, object_id, version, actor_kind, reason, last_version, tlp)
                                   VALUES (?, ?, ?, 'object.published', ?, ?, ?, 'desk', NULL, NULL, 0)`);
  // The rows are made before the clock starts: the limit is the insert alone.
  const [flags] = versionFlags([{ versionKey: '', tlp: 0, specVersion: '2.1' }]);
  // Ids and provenance as long as a decision's (UUIDs); the decision's one provenance row, as there.
  const submission = randomUUID();
  // In the order a decision writes them (SqliteStore's inKeyOrder: object id, then target), each
  // collection's date_added rising in that order.
  const pairs = collections.flatMap((c) => objects.map((o) => ({ c, o, id: o.id as string })));
  pairs.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : x.c.id < y.c.id ? -1 : x.c.id > y.c.id ? 1 : 0));
  let clock = Date.now() * 1000;
  const rows = pairs.map(({ c, o }) => {
    const r = rowOf(o, clock);
    return {
      object: [c.pk, ++clock, r.id, r.type, r.version ?? null, r.versionKey, r.specVersion, flags!.firstMask, flags!.lastMask, submission, r.json],
      publication: [c.id, r.id, r.type, r.version ?? null, r.versionKey, clock, randomUUID()],
      change: [c.pk, ++clock, randomUUID(), r.type, r.id, r.version ?? null],
    };
  });
  const started = performance.now();
  db.transaction(() => {
    const provenance = JSON.stringify({ vendor: randomUUID(), vendor_name: 'vendor-1', submission, intake: randomUUID(), curators: [randomUUID()], decided_at: new Date().toISOString(), policy: 'review' });
    const provenancePk = db.prepare('INSERT INTO provenances (decision_id, json) VALUES (?, ?)').run(randomUUID(), provenance).lastInsertRowid;
    for (const r of rows) {
      insertObject.run(...r.object);
      insertPublication.run(...r.publication, provenancePk);
      insertChange.run(...r.change);
    }
  }).immediate();
  const seconds = (performance.now() - started) / 1000;
  inspect?.(db);
  db.close();
  return { rowsPerSecond: rows.length / seconds, rows: rows.length, seconds };
}

export const sqliteBackend: Backend = {
  label: 'sqlite (better-sqlite3, WAL, synchronous=NORMAL; FULL for submission records; WAL checkpoints in a worker thread)',
  env: {},
  desk: sqliteDesk,
  open: (dataDir) => new SqliteStore({ location: dataDir }),

  /**
   * The same rows the store writes, one prepared statement, 1,000 rows per transaction, into the
   * real schema (all its indexes) with the store's pragmas. No duplicate checks, no version flags,
   * no submission bookkeeping.
   */
  async rawInsert(objects, batch = 1000) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-raw-'));
    try {
      const db = new Database(path.join(dir, 'raw.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      db.prepare("INSERT INTO api_roots (path, title, max_content_length, created_at) VALUES ('raw', 'raw', 1, 0)").run();
      db.prepare("INSERT INTO collections (id, api_root, title, media_types, created_at) VALUES ('raw', 'raw', 'raw', '[]', 0)").run();
      const insert = db.prepare(`INSERT OR IGNORE INTO objects (coll, date_added, id, type, version, version_key, spec_version, media_type, is_first, is_last, is_latest_spec, submission_id, json)
                                 VALUES (1, ?, ?, ?, ?, ?, ?, 'application/stix+json;version=2.1', 1, 1, 1, 'raw', ?)`);
      // The rows are made before the clock starts: the limit is the insert alone.
      let dateAdded = Date.now() * 1000;
      const rows = objects.map((o) => {
        const d = ++dateAdded;
        const r = rowOf(o, d);
        return [d, r.id, r.type, r.version ?? null, r.versionKey, r.specVersion, r.json];
      });
      const started = performance.now();
      const tx = db.transaction((batchRows: unknown[][]) => {
        for (const r of batchRows) insert.run(...r);
      });
      for (let i = 0; i < rows.length; i += batch) tx.immediate(rows.slice(i, i + batch));
      const seconds = (performance.now() - started) / 1000;
      db.close();
      return { objectsPerSecond: objects.length / seconds, seconds };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async reader(dataDir) {
    const db = new Database(path.join(dataDir, 'meridian.sqlite'), { readonly: true, fileMustExist: true });
    const pks = new Map<string, number>();
    const args = (shape: RawShape, pk: number, p: RawParams): unknown[] =>
      shape === 'matchId' ? [pk, JSON.stringify([p.id]), PAGE_ROWS] : shape === 'matchType' ? [pk, p.after, p.type, PAGE_ROWS] : [pk, p.after, PAGE_ROWS];
    const statements = new Map<RawShape, Database.Statement>();
    // Rows as arrays, as the store reads its pages.
    const statement = (shape: RawShape) => statements.get(shape) ?? statements.set(shape, db.prepare(SQLITE_QUERIES[shape]).raw(true)).get(shape)!;
    return {
      async collection(apiRoot, alias) {
        const { pk, id } = db.prepare('SELECT pk, id FROM collections WHERE api_root = ? AND alias = ?').get(apiRoot, alias) as { pk: number; id: string };
        pks.set(id, pk);
        const r = db.prepare('SELECT min(date_added) AS first, max(date_added) AS last, count(*) AS count FROM objects WHERE coll = ?').get(pk) as { first: number; last: number; count: number };
        return { id, ...r };
      },
      async sampleIds(c, n) {
        return db.prepare('SELECT id FROM objects WHERE coll = ? ORDER BY random() LIMIT ?').pluck().all(pks.get(c.id), n) as string[];
      },
      async run(shape, c, p) {
        return (statement(shape).all(...args(shape, pks.get(c.id)!, p)) as unknown[][]).map((r) => r[0] as string);
      },
      async time(shape, c, n, params) {
        const pk = pks.get(c.id)!;
        const summary = await timeQueries(n, async (p) => statement(shape).all(...args(shape, pk, p)), params);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SQLITE_QUERIES[shape]}`).all(...args(shape, pk, params())) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        return { ...summary, plan };
      },
      async close() {
        db.close();
      },
    };
  },

  async drop() {},
};

// ---- MongoDB ------------------------------------------------------------------------------------

/** A MongoDB backend on a fresh database of the server at `uri`, dropped at the end (unless kept). */
export function mongoBackend(uri: string): Backend {
  const run = randomBytes(4).toString('hex');
  const storeUri = withDatabase(uri, `meridian_bench_${run}`);
  const rawUri = withDatabase(uri, `meridian_bench_raw_${run}`);
  const dbOf = async (u: string) => {
    const client = await new mongoose.mongo.MongoClient(u).connect();
    return { client, db: client.db() };
  };
  return {
    label: `mongodb (${new URL(uri).host}, database meridian_bench_${run}; majority writes)`,
    env: { MERIDIAN_STORE: storeUri },
    open: () => new MongoStore({ uri: storeUri }),

    /**
     * The same documents the store writes (collections/mongo `storeObjects`), inserted unordered
     * 1,000 per insertMany into a collection with the objects indexes, majority write concern. No
     * duplicate lookups, no date_added lease, no version flags, no submission bookkeeping.
     */
    async rawInsert(objects, batch = 1000) {
      const { client, db } = await dbOf(rawUri);
      try {
        const objectsOfRaw = db.collection(objectsCollectionName('raw'));
        for (const [fields, options] of objectSchema.indexes()) await objectsOfRaw.createIndex(fields as Record<string, 1>, options as mongoose.mongo.CreateIndexesOptions);
        let dateAdded = Date.now() * 1000;
        const docs = objects.map((o) => {
          const d = ++dateAdded;
          const r = rowOf(o, d);
          return {
            _id: identityId('object', 'raw', r.id, r.vid), collectionId: 'raw', dateAdded: d, id: r.id, type: r.type, ...(r.version ? { version: r.version } : {}),
            versionKey: r.versionKey, vid: r.vid, specVersion: r.specVersion, mediaType: 'application/stix+json;version=2.1',
            isFirst: true, isLast: true, isLatestSpec: true, firstAt: [], lastAt: [], tlp: 0, submissionId: 'raw', json: r.json,
          };
        });
        const started = performance.now();
        for (let i = 0; i < docs.length; i += batch) {
          await objectsOfRaw.insertMany(docs.slice(i, i + batch), { ordered: false, writeConcern: { w: 'majority' } }).catch((err: { code?: number }) => {
            if (err.code !== 11000) throw err; // repeated versions in the mix: stored once, like the store
          });
        }
        const seconds = (performance.now() - started) / 1000;
        return { objectsPerSecond: objects.length / seconds, seconds };
      } finally {
        await db.dropDatabase().catch(() => undefined);
        await client.close();
      }
    },

    async reader() {
      const { client, db } = await dbOf(storeUri);
      const roots = new Map<string, string>();
      const objectsOf = (collectionId: string) => db.collection(objectsCollectionName(roots.get(collectionId)!));
      const query = (shape: RawShape, c: CollectionInfo, p: RawParams) => {
        // MongoStore.readChanges, without mongoose (changes_page).
        if (shape === 'changes') return db.collection('changes').find({ collectionId: c.id, dateAdded: { $gt: p.after! } }, { projection: { _id: 0 } }).sort({ dateAdded: 1 }).limit(PAGE_ROWS);
        // The filter, projection, order and limit of MongoStore.page, without mongoose.
        const versions = { all: false, first: false, last: true, keys: [] };
        const filter = objectFilter(c.id, shape === 'matchId' ? { ids: [p.id!], versions } : { addedAfter: p.after!, versions, ...(shape === 'matchType' ? { types: [p.type!] } : {}) })!;
        return objectsOf(c.id).find(filter, { projection: shape === 'manifest' ? { _id: 0, json: 0 } : { _id: 0, vid: 0 } }).sort({ dateAdded: 1 }).limit(PAGE_ROWS);
      };
      return {
        async collection(apiRoot, alias) {
          const meta = await db.collection('collections').findOne({ apiRoot, alias });
          if (!meta) throw new Error(`no collection ${apiRoot}/${alias}`);
          const id = meta.id as string;
          roots.set(id, apiRoot);
          const objects = objectsOf(id);
          const [first] = await objects.find({ collectionId: id }).sort({ dateAdded: 1 }).limit(1).toArray();
          const [last] = await objects.find({ collectionId: id }).sort({ dateAdded: -1 }).limit(1).toArray();
          return { id, first: first?.dateAdded ?? 0, last: last?.dateAdded ?? 0, count: await objects.countDocuments({ collectionId: id }) };
        },
        async sampleIds(c, n) {
          return (await objectsOf(c.id).aggregate([{ $match: { collectionId: c.id } }, { $sample: { size: n } }, { $project: { _id: 0, id: 1 } }]).toArray()).map((d) => d.id as string);
        },
        async run(shape, c, p) {
          return (await query(shape, c, p).toArray()).map((d) => d.id as string);
        },
        async time(shape, c, n, params) {
          const summary = await timeQueries(n, (p) => query(shape, c, p).toArray(), params);
          let plan = 'n/a';
          try {
            const explained = (await query(shape, c, params()).explain('queryPlanner')) as { queryPlanner?: { winningPlan?: unknown } };
            plan = JSON.stringify(explained.queryPlanner?.winningPlan ?? explained).match(/"indexName":"([^"]+)"/g)?.join(', ') ?? 'no index';
          } catch (err) {
            plan = `explain failed: ${(err as Error).message}`;
          }
          return { ...summary, plan };
        },
        async close() {
          await client.close();
        },
      };
    },

    async drop() {
      const { client, db } = await dbOf(storeUri);
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
