// `meridian backup` while the server ingests, `meridian restore`, `meridian check`: a backup taken
// under load is consistent, restores into a store that serves, and check names what it finds.
// Schema migrations on real processes: a baseline store upgrades, a newer one is refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { identityId } from '../../collections/mongo/schemas.js';
import { SQLITE_MIGRATIONS } from '../../collections/sqlite/schema.js';
import { MaintenanceError, backup, check, restore } from '../../server/commands/maintenance.js';
import { mongoTarget } from '../helpers/mongo.js';
import { type ServerProcess, runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORD = 'maintenance password, long enough';
/** The embedded store's current schema version. */
const LATEST = SQLITE_MIGRATIONS.at(-1)!.version;

describe('end to end: backup, restore and check of the embedded store', function () {
  this.timeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;
  let collectionId: string;
  const auth = `Basic ${Buffer.from(`vendor:${PASSWORD}`).toString('base64')}`;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-backup-'));
    env = { MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info' };
    expect((await runCli(['account', 'add', 'vendor', '--password-stdin'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await runCli(['root', 'add', 'fr', '--title', 'France'], env)).code).to.equal(0);
    collectionId = (await runCli(['collection', 'add', '--root', 'fr', '--title', 'Published'], env)).stdout.trim();
    expect((await runCli(['grant', 'vendor', '--collection', collectionId, '--read', '--write'], env)).code).to.equal(0);
    server = await startServer(env);
  });
  after(async function () {
    if (server) await stopServer(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (n: number) =>
    fetch(`${server!.base}/fr/collections/${collectionId}/objects/`, {
      method: 'POST',
      headers: { Authorization: auth, Accept: TAXII, 'Content-Type': TAXII },
      body: JSON.stringify({ objects: Array.from({ length: n }, () => indicator()) }),
    });

  it('backs up while the server ingests: the copy is consistent, restores, checks clean and serves', async function () {
    const during = path.join(dir, 'during.sqlite');
    const posts = Array.from({ length: 12 }, () => post(50));
    const [cli] = await Promise.all([runCli(['backup', '--to', during], env), ...posts]);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/^backed up to .*during\.sqlite \(\d+ bytes\): .*objects \d+/);
    for (const res of await Promise.all(posts)) expect(res.status).to.equal(202);
    // Taken mid-ingest, the copy is one committed state: whole batches, flags and counts consistent.
    const midway = path.join(dir, 'midway');
    restore(during, midway);
    const midCheck = check(midway);
    expect(midCheck.findings.filter((f) => !f.ok)).to.deep.equal([]);

    const after = path.join(dir, 'after.sqlite');
    expect((await runCli(['backup', '--to', after], env)).code).to.equal(0);
    const restored = path.join(dir, 'restored');
    const r = await runCli(['restore', '--from', after, '--data', restored], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('objects 600');
    const c = await runCli(['check', '--data', restored], env);
    expect(c.code, c.stdout).to.equal(0);
    expect(c.stdout).to.include('the store is consistent');

    const second = await startServer({ ...env, MERIDIAN_DATA_DIR: restored });
    try {
      const page = await fetch(`${second.base}/fr/collections/${collectionId}/manifest/?limit=1000`, { headers: { Authorization: auth, Accept: TAXII } });
      expect(page.status).to.equal(200);
      expect(((await page.json()) as { objects: unknown[] }).objects).to.have.length(600);
    } finally {
      await stopServer(second.child);
    }
  });

  it('refuses to overwrite: an existing backup file, an existing store (kept beside it with --force), a file that is not a store', async function () {
    const file = path.join(dir, 'twice.sqlite');
    await backup(env.MERIDIAN_DATA_DIR!, file);
    try {
      await backup(env.MERIDIAN_DATA_DIR!, file);
      expect.fail('a second backup to the same file must be refused');
    } catch (err) {
      expect(err).to.be.instanceOf(MaintenanceError);
    }
    const target = path.join(dir, 'target');
    restore(file, target);
    expect(() => restore(file, target)).to.throw(MaintenanceError, /--force/);
    const done = restore(file, target, { force: true });
    expect(done.kept).to.match(/meridian\.sqlite\.before-restore-/);
    expect(existsSync(done.kept!)).to.equal(true);
    const junk = path.join(dir, 'junk.sqlite');
    writeFileSync(junk, 'not a database');
    expect(() => restore(junk, path.join(dir, 'junk-target'))).to.throw(MaintenanceError);
    expect(existsSync(path.join(dir, 'junk-target', 'meridian.sqlite'))).to.equal(false);
    const cli = await runCli(['backup', '--to', file], env);
    expect([cli.code, cli.stderr]).to.deep.equal([1, `meridian: ${file} exists; give --force to replace it\n`]);
  });

  it('check names wrong version flags, orphaned rows and bad submission counts, says what it would repair, and changes nothing', async function () {
    const file = path.join(dir, 'to-break.sqlite');
    await backup(env.MERIDIAN_DATA_DIR!, file);
    const broken = path.join(dir, 'broken');
    restore(file, broken);
    const db = new Database(path.join(broken, 'meridian.sqlite'));
    db.exec('UPDATE objects SET is_last = 0 WHERE pk IN (SELECT pk FROM objects LIMIT 3)');
    db.exec("UPDATE submissions SET success_count = success_count + 1 WHERE id = (SELECT id FROM submissions LIMIT 1)");
    db.pragma('foreign_keys = OFF');
    db.exec("INSERT INTO api_keys (id, account_id, name, prefix, hash, created_at) VALUES ('k1', 'no-such-account', 'x', 'pfx', 'h', 0)");
    db.close();
    const report = check(broken);
    expect(report.ok).to.equal(false);
    const problems = Object.fromEntries(report.findings.filter((f) => !f.ok).map((f) => [f.check, f.problem]));
    expect(problems).to.include({ 'first/last version flags': '3 versions of 3 objects have wrong flags', 'API keys without their account': '1 found', 'complete submissions whose counts do not add up': '1 found' });
    const cli = await runCli(['check', '--data', broken], env);
    expect(cli.code, cli.stderr).to.equal(1);
    expect(cli.stdout).to.match(/PROBLEM {2}first\/last version flags: 3 versions of 3 objects have wrong flags\n {9}would repair: recompute the flags/);
    expect(cli.stdout).to.include('problems found (nothing was changed)');
    // Still broken: check repaired nothing.
    expect(check(broken).findings.find((f) => f.check === 'first/last version flags')!.ok).to.equal(false);
    expect(readdirSync(broken).filter((f) => f.endsWith('-wal'))).to.deep.equal([]);
  });

  it('check names a low date_added mark, a missing index and a pending schema step; --repair recomputes flags and marks only, migrate-schema brings the rest', async function () {
    const file = path.join(dir, 'to-repair.sqlite');
    await backup(env.MERIDIAN_DATA_DIR!, file);
    const broken = path.join(dir, 'repair');
    restore(file, broken);
    const db = new Database(path.join(broken, 'meridian.sqlite'));
    db.exec('UPDATE objects SET is_last = 1 - is_last WHERE pk IN (SELECT pk FROM objects LIMIT 2)');
    db.exec('UPDATE collections SET last_date_added = 5');
    db.exec('DROP INDEX objects_by_type');
    db.pragma('user_version = 1');
    db.pragma('foreign_keys = OFF');
    db.exec("INSERT INTO api_keys (id, account_id, name, prefix, hash, created_at) VALUES ('k2', 'no-such-account', 'x', 'pfx2', 'h', 0)");
    db.close();
    const problems = (r: ReturnType<typeof check>) => Object.fromEntries(r.findings.filter((f) => !f.ok).map((f) => [f.check, f.problem]));
    expect(problems(check(broken))).to.deep.equal({
      'foreign keys': '1 rows reference a missing row',
      'schema version': `at version 1, this release is at ${LATEST}`,
      'named indexes': 'missing: objects_by_type',
      'API keys without their account': '1 found',
      'first/last version flags': '2 versions of 2 objects have wrong flags',
      'collection date_added high-water marks': '1 collections hold a date_added above their mark (the next write there would collide)',
    });
    const repaired = await runCli(['check', '--repair', '--data', broken], env);
    expect(repaired.code).to.equal(1); // the orphaned key, the index and the schema step remain
    expect(repaired.stdout).to.match(/^repaired first\/last version flags: 2 versions of 2 objects recomputed\nrepaired collection date_added high-water marks: 1 raised to the newest date_added they hold\n/);
    expect(repaired.stdout).to.include('problems remain that --repair does not change');
    expect(Object.keys(problems(check(broken)))).to.deep.equal(['foreign keys', 'schema version', 'named indexes', 'API keys without their account']);
    expect((await runCli(['migrate-schema', '--data', broken], env)).code).to.equal(0);
    expect(Object.keys(problems(check(broken)))).to.deep.equal(['foreign keys', 'API keys without their account']);
    const again = await runCli(['check', '--repair', '--data', broken], env);
    expect(again.stdout).to.match(/^nothing to repair\n/);
  });

  it('export of one API root while serving, restored into a new embedded store and into MongoDB: the same root comes back', async function () {
    const file = path.join(dir, 'fr.jsonl');
    const exported = await runCli(['export', '--root', 'fr', '--to', file], env);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stdout).to.match(/^exported API root fr to .*fr\.jsonl: collections 1, objects \d+, grants 1\n$/);
    const body = (f: string) => readFileSync(f, 'utf8').split('\n').slice(1); // all but the header (its time)

    const other = path.join(dir, 'from-export');
    const restored = await runCli(['restore', '--from', file, '--data', other], env);
    expect(restored.code, restored.stderr).to.equal(0);
    expect(restored.stdout).to.match(/^restored API root fr from .*: collections 1, objects \d+, grants 0\n$/);
    expect(restored.stderr).to.equal('1 grants were left out: their account or organisation is not in this store\n');
    const again = path.join(dir, 'again.jsonl');
    expect((await runCli(['export', '--root', 'fr', '--to', again, '--data', other], env)).code).to.equal(0);
    // Same collections, versions, date_added and bytes (the grant stayed behind with its account).
    expect(body(again)).to.deep.equal(body(file).filter((l) => !l.startsWith('{"type":"grant"')).map((l) => l.replace(/"grants":1\}/, '"grants":0}')));

    const mongoEnv = { ...env, MERIDIAN_STORE: (await mongoTarget()).processUri() };
    const intoMongo = await runCli(['restore', '--from', file], mongoEnv);
    expect(intoMongo.code, intoMongo.stderr).to.equal(0);
    const fromMongo = path.join(dir, 'from-mongo.jsonl');
    expect((await runCli(['export', '--root', 'fr', '--to', fromMongo], mongoEnv)).code).to.equal(0);
    expect(body(fromMongo)).to.deep.equal(body(again));
  });

  it('on a MongoDB store, backup points to mongodump and export (exit 2)', async function () {
    const r = await runCli(['backup', '--to', path.join(dir, 'x.sqlite')], { ...env, MERIDIAN_STORE: 'mongodb://127.0.0.1:1/x' });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('mongodump');
  });

  it('check on a MongoDB store: consistent after a restore; names wrong flags, a low date_added mark, an orphaned grant and a missing index', async function () {
    const uri = (await mongoTarget()).processUri();
    const mongoEnv = { ...env, MERIDIAN_STORE: uri };
    expect((await post(5)).status).to.equal(202);
    const file = path.join(dir, 'for-mongo-check.jsonl');
    const exported = await runCli(['export', '--root', 'fr', '--to', file], env);
    expect(exported.code, exported.stderr).to.equal(0);
    const restored = await runCli(['restore', '--from', file], mongoEnv);
    expect(restored.code, restored.stderr).to.equal(0);
    const clean = await runCli(['check'], mongoEnv);
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);
    expect(clean.stdout).to.match(/^counts: .*objects \d+/);
    expect(clean.stdout).to.include('the store is consistent');
    const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
    try {
      const objects = conn.collection('objects_fr');
      const two = await objects.find({ isLast: true }).limit(2).toArray();
      await objects.updateMany({ _id: { $in: two.map((d) => d._id) } }, { $set: { isLast: false } });
      await conn.collection('collections').updateMany({}, { $set: { lastDateAdded: 5 } });
      await conn.collection('grants').insertOne({ id: 'orphan', collectionId: 'no-such-collection', canRead: true, canWrite: false, maxTlp: 'red', createdAt: 0 });
      if ((await mongoTarget()).real) await objects.dropIndex('objects_by_type'); // the stand-in keeps dropped indexes listed
      const r = await runCli(['check', '--json'], mongoEnv);
      expect(r.code).to.equal(1);
      const problems = Object.fromEntries((JSON.parse(r.stdout) as { findings: Array<{ check: string; ok: boolean; problem?: string }> }).findings.filter((f) => !f.ok).map((f) => [f.check, f.problem]));
      expect(problems).to.deep.include({
        'first/last version flags': '2 versions of 2 objects have wrong flags',
        'collection date_added high-water marks': '1 collections hold a date_added above their mark (the next write there would collide)',
        'grants without their collection': '1 found',
      });
      if ((await mongoTarget()).real) expect(problems['named indexes of the objects collections']).to.equal('missing: objects_fr.objects_by_type');
      const repair = await runCli(['check', '--repair'], mongoEnv);
      expect([repair.code, repair.stderr]).to.deep.equal([2, 'meridian: --repair works on the embedded store; on MongoDB, check reports what a repair would do\n']);
    } finally {
      await conn.dropDatabase();
      await conn.close();
    }
  });
});

describe('end to end: schema migrations at start-up and by meridian migrate-schema', function () {
  this.timeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const file = () => path.join(env.MERIDIAN_DATA_DIR!, 'meridian.sqlite');
  const pragma = (sql: string) => {
    const db = new Database(file());
    try {
      return db.pragma(sql, { simple: true });
    } finally {
      db.close();
    }
  };
  const columns = () => {
    const db = new Database(file());
    try {
      return (db.prepare('PRAGMA table_info(api_roots)').all() as Array<{ name: string }>).map((c) => c.name);
    } finally {
      db.close();
    }
  };

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-schema-e2e-'));
    env = { MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info' };
    expect((await runCli(['root', 'add', 'fr', '--title', 'France'], env)).code).to.equal(0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a store at the baseline: --dry-run lists the step and changes nothing; serve applies it, logs it and serves', async function () {
    // As a store of the release before schema versions: version 1, a column it may lack.
    const db = new Database(file());
    db.pragma('user_version = 1');
    db.exec('ALTER TABLE api_roots DROP COLUMN taxii20');
    db.close();

    const dry = await runCli(['migrate-schema', '--dry-run'], env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal(`schema version 1 (the baseline); this release is at ${LATEST}\n`
      + SQLITE_MIGRATIONS.map((m) => `would apply ${m.version}: ${m.description}\n`).join('')
      + 'nothing was changed (--dry-run)\n');
    expect(pragma('user_version')).to.equal(1);
    expect(columns()).not.to.include('taxii20');

    const server = await startServer(env);
    try {
      expect(server.log()).to.match(/"schemaVersion":2.*"msg":"schema migration 2 applied: columns added/);
      const res = await fetch(`${server.base}/healthz`);
      expect(res.status).to.equal(200);
    } finally {
      await stopServer(server.child);
    }
    expect(pragma('user_version')).to.equal(LATEST);
    expect(columns()).to.include('taxii20');
    const update = await runCli(['root', 'update', 'fr', '--taxii20'], env);
    expect(update.code, update.stderr).to.equal(0);
    const again = await runCli(['migrate-schema'], env);
    expect([again.code, again.stdout]).to.deep.equal([0, `schema version ${LATEST}; this release is at ${LATEST}\nnothing to do: the store is at the current schema\n`]);
  });

  it('migrate-schema applies the steps itself (before the first start of the new release)', async function () {
    pragma('user_version = 1');
    const r = await runCli(['migrate-schema'], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`schema version 1 (the baseline); this release is at ${LATEST}\n`
      + SQLITE_MIGRATIONS.map((m) => `applied ${m.version}: ${m.description}\n`).join('') + `schema version now ${LATEST}\n`);
    expect(pragma('user_version')).to.equal(LATEST);
  });

  it('a store marked newer than the code: serve, the admin commands and migrate-schema refuse it with one clear line, exit 2, and leave it as it was', async function () {
    pragma('user_version = 7');
    const line = `meridian: the embedded (SQLite) store is at schema version 7, newer than this Meridian knows (${LATEST}): it was written by a newer release; run that release (or newer), or restore a backup taken before the upgrade\n`;
    for (const args of [['serve', '--port', '0'], ['root', 'list'], ['migrate-schema', '--dry-run']]) {
      const r = await runCli(args, env);
      expect([r.code, r.stderr], args.join(' ')).to.deep.equal([2, line]);
    }
    expect(pragma('user_version')).to.equal(7);
  });

  it('a MongoDB database marked newer: serve refuses it the same way', async function () {
    const target = await mongoTarget();
    const uri = target.processUri();
    const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
    try {
      await conn.collection('meta').insertOne({ _id: identityId('schema-version'), value: 5 } as never);
      const r = await runCli(['serve', '--port', '0'], { ...env, MERIDIAN_STORE: uri, MERIDIAN_LOG_LEVEL: 'warn' });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/^meridian: the MongoDB store is at schema version 5, newer than this Meridian knows \(1\): it was written by a newer release/m);
      expect(r.stderr).not.to.match(/\n\s+at /); // no stack trace
      expect((await conn.db!.listCollections().toArray()).map((c) => c.name)).to.deep.equal(['meta']);
    } finally {
      await conn.dropDatabase();
      await conn.close();
    }
  });
});

// Root-level (idempotent): the shared MongoDB stand-in must not keep the process alive.
after(async function () {
  await (await mongoTarget()).shutdown();
});
