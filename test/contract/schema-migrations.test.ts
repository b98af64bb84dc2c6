// Versioned schema migrations (collections/migrations.ts) on both stores: a store without a recorded
// version is the baseline and is brought forward in order, each step once; a failed step leaves the
// version before it (SQLite: and none of its changes); a store from a newer Meridian is refused untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { type Migration, SchemaTooNewError, pendingMigrations } from '../../collections/migrations.js';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { mongoSchemaState } from '../../collections/mongo/schema-migrations.js';
import { MONGO_MIGRATIONS, identityId } from '../../collections/mongo/schemas.js';
import { SQLITE_MIGRATIONS } from '../../collections/sqlite/schema.js';
import { sqliteSchemaState } from '../../collections/sqlite/schema-migrations.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { mongoTarget } from '../helpers/mongo.js';

// Root-level (idempotent): the shared MongoDB stand-in must not keep the process alive.
after(async function () {
  await (await mongoTarget()).shutdown();
});

describe('schema migrations: the ordered list', function () {
  const step = (version: number) => ({ version, description: `step ${version}`, up: () => undefined });

  it('runs the steps after the recorded version, in order; the baseline is 1', function () {
    const { state, steps } = pendingMigrations('test', [step(2), step(3), step(4)], 2);
    expect(state).to.deep.equal({ current: 2, latest: 4, pending: [{ version: 3, description: 'step 3' }, { version: 4, description: 'step 4' }] });
    expect(steps.map((s) => s.version)).to.deep.equal([3, 4]);
    expect(pendingMigrations('test', [], 1).state).to.deep.equal({ current: 1, latest: 1, pending: [] });
  });

  it('refuses a store newer than the list, and a list with a gap or out of order', function () {
    expect(() => pendingMigrations('test', [step(2)], 3)).to.throw(SchemaTooNewError, 'the test store is at schema version 3, newer than this Meridian knows (2)');
    expect(() => pendingMigrations('test', [step(2), step(4)], 1)).to.throw(/numbered 2, 3, … in order; found 4 at position 2/);
    expect(() => pendingMigrations('test', [step(3), step(2)], 1)).to.throw(/found 3 at position 1/);
  });

  it('the stores\' own lists are well numbered', function () {
    expect(() => pendingMigrations('sqlite', SQLITE_MIGRATIONS, 1)).not.to.throw();
    expect(() => pendingMigrations('mongodb', MONGO_MIGRATIONS, 1)).not.to.throw();
  });
});

describe('schema migrations: the embedded (SQLite) store', function () {
  const PUBLISHED = { id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', version: '2026-01-01T00:00:00.000Z', versionKey: '20260101000000000000' };
  const OTHER = { id: 'indicator--0b2c1f5e-5a8e-4f52-9d0c-2e1f6b9a7c31', version: '2026-02-01T00:00:00.000Z', versionKey: '20260201000000000000' };
  const LATEST = SQLITE_MIGRATIONS.at(-1)!.version;
  let dir: string;
  const file = () => path.join(dir, 'meridian.sqlite');
  const version = () => {
    const db = new Database(file());
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  };
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'meridian-schema-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A store at the baseline: version 1 recorded, made before api_roots.taxii20 existed, with the change log's id index and the publications' layout of then. */
  function baseline(): void {
    const db = new Database(file());
    db.exec('CREATE TABLE api_roots (seq INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, country TEXT, title TEXT NOT NULL, description TEXT, max_content_length INTEGER NOT NULL, created_at INTEGER NOT NULL)');
    db.exec('CREATE TABLE changes (coll INTEGER NOT NULL, date_added INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL, version TEXT, actor_kind TEXT NOT NULL, reason TEXT, last_version TEXT, tlp INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (coll, date_added)) WITHOUT ROWID');
    db.exec('CREATE INDEX changes_by_id ON changes(coll, id)');
    db.exec(`CREATE TABLE publications (collection_id TEXT NOT NULL, object_id TEXT NOT NULL, object_type TEXT NOT NULL, version TEXT, version_key TEXT NOT NULL, date_added INTEGER NOT NULL,
             entry_id TEXT, decision_id TEXT NOT NULL, provenance TEXT NOT NULL, withdrawn_at INTEGER, PRIMARY KEY (collection_id, object_id, version_key)) WITHOUT ROWID`);
    db.exec('CREATE INDEX publications_by_object ON publications(object_id, date_added)');
    db.exec('CREATE INDEX publications_by_entry ON publications(entry_id) WHERE entry_id IS NOT NULL');
    const insert = db.prepare('INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('fr-published', PUBLISHED.id, 'indicator', PUBLISHED.version, PUBLISHED.versionKey, 7, 'entry-1', 'decision-1', '{"vendor_name":"lab"}', null);
    // Two publications of one decision share a provenance; another decision has its own.
    insert.run('de-published', PUBLISHED.id, 'indicator', PUBLISHED.version, PUBLISHED.versionKey, 8, 'entry-1', 'decision-1', '{"vendor_name":"lab"}', 9);
    insert.run('fr-published', OTHER.id, 'indicator', OTHER.version, OTHER.versionKey, 10, 'entry-2', 'decision-2', '{"vendor_name":"other lab"}', null);
    db.prepare('INSERT INTO api_roots (path, title, max_content_length, created_at) VALUES (?, ?, ?, ?)').run('fr', 'France', 10, 1);
    db.pragma('user_version = 1');
    db.close();
  }

  it('a new store is created at the latest version, with no step to apply or report', async function () {
    const logged: string[] = [];
    const store = new SqliteStore({ location: dir, log: (_level, message) => logged.push(message) });
    await store.close();
    expect(version()).to.equal(SQLITE_MIGRATIONS.at(-1)!.version);
    expect(logged).to.deep.equal([]);
  });

  it('a baseline store is brought to the latest version at open, its data kept, and reports it', async function () {
    baseline();
    const logged: string[] = [];
    const store = new SqliteStore({ location: dir, log: (_level, message) => logged.push(message) });
    try {
      expect(logged).to.deep.include(`schema migration 2 applied: ${SQLITE_MIGRATIONS[0]!.description}`);
      expect(await store.getApiRoot('fr')).to.include({ title: 'France' });
      expect((await store.updateApiRoot('fr', { taxii20: true }))?.taxii20).to.equal(true);
    } finally {
      await store.close();
    }
    expect(version()).to.equal(LATEST);
    expect(logged).to.deep.include(`schema migration 3 applied: ${SQLITE_MIGRATIONS[1]!.description}`);
    expect(logged).to.deep.include(`schema migration 4 applied: ${SQLITE_MIGRATIONS[2]!.description}`);
    expect(logged).to.deep.include(`schema migration 5 applied: ${SQLITE_MIGRATIONS[3]!.description}`);
    const db = new Database(file());
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'changes_by_id'").get()).to.equal(undefined);
    // The publications keep their rows, keyed by object first, without the two indexes of before.
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('publications_by_object', 'publications_by_entry')").all()).to.deep.equal([]);
    const key = (db.prepare('PRAGMA table_info(publications)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    expect(key).to.deep.equal(['object_id', 'collection_id', 'version_key']);
    // Their provenance and decision moved to a row of their own, one per distinct pair.
    expect(db.prepare('SELECT decision_id, json FROM provenances').all()).to.deep.equal([
      { decision_id: 'decision-1', json: '{"vendor_name":"lab"}' }, { decision_id: 'decision-2', json: '{"vendor_name":"other lab"}' },
    ]);
    expect(db.prepare('SELECT count(*) AS n FROM publications').get()).to.deep.equal({ n: 3 });
    db.close();
    const reopened = new SqliteStore({ location: dir });
    try {
      const published = { objectId: PUBLISHED.id, objectType: 'indicator', version: PUBLISHED.version, versionKey: PUBLISHED.versionKey, entryId: 'entry-1', decisionId: 'decision-1', provenance: { vendor_name: 'lab' } };
      expect(await reopened.listPublications({ objectId: PUBLISHED.id })).to.deep.equal([
        { collectionId: 'fr-published', ...published, dateAdded: 7 },
        { collectionId: 'de-published', ...published, dateAdded: 8, withdrawnAt: 9 },
      ]);
      expect(await reopened.listPublications({ objectId: OTHER.id })).to.deep.equal([{
        collectionId: 'fr-published', objectId: OTHER.id, objectType: 'indicator', version: OTHER.version, versionKey: OTHER.versionKey,
        dateAdded: 10, entryId: 'entry-2', decisionId: 'decision-2', provenance: { vendor_name: 'other lab' },
      }]);
    } finally {
      await reopened.close();
    }
    // Opened again: nothing left to apply.
    const again: string[] = [];
    await new SqliteStore({ location: dir, log: (_level, message) => again.push(message) }).close();
    expect(again.filter((m) => m.startsWith('schema migration'))).to.deep.equal([]);
  });

  it('runs given steps in order, each once; a failing step is rolled back whole and retried at the next open', async function () {
    await new SqliteStore({ location: dir }).close();
    const ran: number[] = [];
    let fail = true;
    const steps: Array<Migration<Database.Database, void>> = [
      ...SQLITE_MIGRATIONS,
      { version: LATEST + 1, description: 'a table', up: (db) => { ran.push(LATEST + 1); db.exec('CREATE TABLE IF NOT EXISTS extra (k TEXT PRIMARY KEY)'); } },
      {
        version: LATEST + 2,
        description: 'a row, then a failure',
        up: (db) => {
          ran.push(LATEST + 2);
          db.exec("INSERT OR IGNORE INTO extra (k) VALUES ('four')");
          if (fail) throw new Error('the last step failed');
        },
      },
    ];
    expect(() => new SqliteStore({ location: dir, migrations: steps })).to.throw('the last step failed');
    expect(version()).to.equal(LATEST + 1);
    const db = new Database(file());
    expect(db.prepare('SELECT count(*) AS n FROM extra').get()).to.deep.equal({ n: 0 }); // the failed step's row rolled back
    expect(sqliteSchemaState(db, steps)).to.deep.equal({ current: LATEST + 1, latest: LATEST + 2, pending: [{ version: LATEST + 2, description: 'a row, then a failure' }] });
    db.close();
    fail = false;
    await new SqliteStore({ location: dir, migrations: steps }).close();
    expect(ran).to.deep.equal([LATEST + 1, LATEST + 2, LATEST + 2]);
    expect(version()).to.equal(LATEST + 2);
  });

  it('refuses a store from a newer Meridian and changes nothing in it', function () {
    const db = new Database(file());
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore({ location: dir })).to.throw(SchemaTooNewError, `schema version 99, newer than this Meridian knows (${LATEST})`);
    const after = new Database(file());
    expect(after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).to.deep.equal({ n: 0 });
    expect(after.pragma('user_version', { simple: true })).to.equal(99);
    after.close();
  });
});

describe('schema migrations: the MongoDB store', function () {
  this.timeout(30_000);
  const VERSION_ID = identityId('schema-version');
  let uri: string;
  let conn: Connection;
  const open = async (migrations?: ReadonlyArray<Migration<Connection, Promise<void>>>) => {
    const target = await mongoTarget();
    return new MongoStore({ uri, serverSelectionTimeoutMs: 500, startupTimeoutMs: 5000, retryDelayMs: 100, ...target.storeOptions, ...(migrations ? { migrations } : {}) });
  };
  const recorded = async () => (await conn.collection('meta').findOne({ _id: VERSION_ID } as never)) as { value: number; history?: Array<{ version: number; description: string }> } | null;

  beforeEach(async function () {
    uri = (await mongoTarget()).uri();
    conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
  });
  afterEach(async function () {
    await conn.dropDatabase();
    await conn.close();
  });

  it('a database without a recorded version (the baseline) keeps its data and gets the version recorded', async function () {
    const first = await open();
    await first.createApiRoot({ path: 'fr', title: 'France', maxContentLength: 10 });
    await first.close();
    await conn.collection('meta').deleteOne({ _id: VERSION_ID } as never); // as the previous release left it
    expect(await mongoSchemaState(conn)).to.deep.equal({ current: 1, latest: 1, pending: [] });
    const store = await open();
    try {
      expect(await store.getApiRoot('fr')).to.include({ title: 'France' });
    } finally {
      await store.close();
    }
    expect((await recorded())?.value).to.equal(1);
  });

  it('runs given steps in order, records each with its history, once; a failed step is retried at the next start', async function () {
    const ran: number[] = [];
    let fail = true;
    const steps: Array<Migration<Connection, Promise<void>>> = [
      { version: 2, description: 'fill a default', up: async (c) => { ran.push(2); await c.collection('api_roots').updateMany({ note: { $exists: false } }, { $set: { note: 'none' } }); } },
      { version: 3, description: 'fails once', up: async () => { ran.push(3); if (fail) throw new Error('step 3 failed'); } },
    ];
    const failing = await open(steps);
    try {
      await failing.listApiRoots();
      expect.fail('the store must not start when a step fails');
    } catch (err) {
      expect((err as Error).message).to.equal('step 3 failed');
    } finally {
      await failing.close();
    }
    expect(await recorded()).to.deep.include({ value: 2 });
    fail = false;
    const store = await open(steps);
    try {
      expect(await store.listApiRoots()).to.deep.equal([]);
    } finally {
      await store.close();
    }
    expect(ran).to.deep.equal([2, 3, 3]);
    const doc = await recorded();
    expect(doc?.value).to.equal(3);
    expect(doc?.history?.map((h) => [h.version, h.description])).to.deep.equal([[2, 'fill a default'], [3, 'fails once']]);
    const again = await open(steps);
    await again.listApiRoots();
    await again.close();
    expect(ran).to.have.length(3);
  });

  it('refuses a database from a newer Meridian: every operation fails with SchemaTooNewError and nothing is created', async function () {
    await conn.collection('meta').insertOne({ _id: VERSION_ID, value: 99 } as never);
    const store = await open();
    try {
      await store.listApiRoots();
      expect.fail('a newer database must be refused');
    } catch (err) {
      expect(err).to.be.instanceOf(SchemaTooNewError);
      expect((err as Error).message).to.match(/the MongoDB store is at schema version 99, newer than this Meridian knows \(1\)/);
    } finally {
      await store.close();
    }
    expect((await conn.db!.listCollections().toArray()).map((c) => c.name)).to.deep.equal(['meta']);
    expect((await recorded())?.value).to.equal(99);
  });
});
