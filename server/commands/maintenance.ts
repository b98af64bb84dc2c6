// `meridian backup` and `meridian restore` of the embedded (SQLite) store's file (docs/operations.md
// "Backup and restore"; MongoDB is backed up with its own tools); on both stores `meridian check`
// (MongoDB: mongo-check.ts), `meridian export` / `restore` of one API root (root-export.ts) and
// `meridian migrate-schema` (docs/operations.md "Upgrade").
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import mongoose from 'mongoose';
import type { SchemaState } from '../../collections/migrations.js';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { migrateMongo, mongoSchemaState } from '../../collections/mongo/schema-migrations.js';
import { databaseName } from '../../collections/mongo/schemas.js';
import { SCHEMA } from '../../collections/sqlite/schema.js';
import { migrateSqlite, sqliteSchemaState } from '../../collections/sqlite/schema-migrations.js';
import { type Store, versionFlags } from '../../collections/store.js';
import { openStore } from '../compose.js';
import type { Config } from '../config.js';
import { checkMongo } from './mongo-check.js';
import { ExportError, exportRoot, importRoot, isRootExport } from './root-export.js';

export const DB_FILE = 'meridian.sqlite';

export class MaintenanceError extends Error {}

function dbPath(dataDir: string): string {
  return path.join(dataDir, DB_FILE);
}

/** Tables whose rows a backup, a restore and a check report, in this order. */
const COUNTED = ['organisations', 'accounts', 'api_keys', 'grants', 'api_roots', 'collections', 'objects', 'submissions', 'queue', 'publications', 'changes', 'audit'];

function counts(db: Database.Database): Record<string, number> {
  const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
  const out: Record<string, number> = {};
  for (const table of COUNTED) if (present.has(table)) out[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return out;
}

/** "ok", or the first problems SQLite's quick check finds (structure, not the flags: see check). */
function quickCheck(db: Database.Database): string[] {
  const rows = db.pragma('quick_check(20)') as Array<{ quick_check: string }>;
  return rows.map((r) => r.quick_check);
}

/**
 * Opens a store file for reading. Not SQLite's read-only mode: a read-only connection cannot remove
 * the WAL when it closes, and a WAL left behind looks like a running server to restore.
 */
function openExisting(file: string): Database.Database {
  if (!existsSync(file)) throw new MaintenanceError(`no embedded store at ${file}`);
  try {
    const db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    db.pragma('query_only = ON');
    return db;
  } catch (err) {
    throw new MaintenanceError(`cannot open ${file}: ${(err as Error).message}`);
  }
}

export interface BackupReport {
  file: string;
  bytes: number;
  counts: Record<string, number>;
}

/**
 * SQLite's online backup of the store into `to`: consistent at one point in time while the server
 * keeps serving (WAL content included). Written next to `to` and renamed when complete and checked,
 * so a failed backup never leaves a file that looks like one.
 */
export async function backup(dataDir: string, to: string, options: { force?: boolean } = {}): Promise<BackupReport> {
  if (existsSync(to) && !options.force) throw new MaintenanceError(`${to} exists; give --force to replace it`);
  const source = openExisting(dbPath(dataDir));
  const partial = `${to}.partial`;
  try {
    rmSync(partial, { force: true });
    await source.backup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new MaintenanceError(`backup failed: ${(err as Error).message}`);
  } finally {
    source.close();
  }
  const copy = openExisting(partial);
  let report: Record<string, number>;
  try {
    const problems = quickCheck(copy);
    if (problems.join() !== 'ok') throw new MaintenanceError(`the copy fails SQLite's check: ${problems.join('; ')}`);
    report = counts(copy);
  } finally {
    copy.close();
  }
  renameSync(partial, to);
  return { file: to, bytes: statSync(to).size, counts: report };
}

/**
 * Puts a backup in place as the store of `dataDir` (the server stopped). The backup is checked
 * first; a store already there is kept beside it as meridian.sqlite.before-restore-<time> (and
 * replaced only with `force`).
 */
export function restore(from: string, dataDir: string, options: { force?: boolean; now?: Date } = {}): { kept?: string; counts: Record<string, number> } {
  const backupDb = openExisting(from);
  let found: Record<string, number>;
  try {
    let problems: string[];
    try {
      problems = quickCheck(backupDb);
    } catch (err) {
      throw new MaintenanceError(`${from} cannot be read as a store: ${(err as Error).message}`);
    }
    if (problems.join() !== 'ok') throw new MaintenanceError(`${from} fails SQLite's check: ${problems.join('; ')}`);
    const isMeridian = backupDb.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'objects', 'collections')").all().length === 3;
    if (!isMeridian) throw new MaintenanceError(`${from} is not a Meridian store (no meta, collections and objects tables)`);
    found = counts(backupDb);
  } finally {
    backupDb.close();
  }
  const target = dbPath(dataDir);
  // A clean stop removes the WAL; its presence means a server is running (or crashed: start and stop it once).
  if (existsSync(`${target}-wal`) && !options.force) throw new MaintenanceError(`${target}-wal exists: stop the server first (after a crash, start and stop it once), or give --force`);
  let kept: string | undefined;
  if (existsSync(target)) {
    if (!options.force) throw new MaintenanceError(`${target} exists; give --force to replace it (the current store is kept beside it)`);
    kept = `${target}.before-restore-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, kept);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
  const partial = `${target}.partial`;
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(from, partial);
  renameSync(partial, target);
  return { ...(kept ? { kept } : {}), counts: found };
}

export interface CheckFinding {
  check: string;
  ok: boolean;
  /** What is wrong, with a count. */
  problem?: string;
  /** What a repair would do; nothing is changed by `check`. */
  repair?: string;
}

export interface CheckReport {
  ok: boolean;
  counts: Record<string, number>;
  findings: CheckFinding[];
}

/** Rows of `table` whose reference has no target: [label, SQL counting them, what a repair would do]. */
const ORPHANS: Array<[string, string, string]> = [
  ['objects without their collection', 'SELECT count(*) AS n FROM objects o WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.pk = o.coll)', 'delete those object rows'],
  ['collections without their API root', 'SELECT count(*) AS n FROM collections c WHERE NOT EXISTS (SELECT 1 FROM api_roots r WHERE r.path = c.api_root)', 're-create the API root or delete the collections (and their objects)'],
  ['grants without their collection', 'SELECT count(*) AS n FROM grants g WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.id = g.collection_id)', 'delete those grants'],
  ['grants without their account', 'SELECT count(*) AS n FROM grants g WHERE g.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = g.account_id)', 'delete those grants'],
  ['API keys without their account', 'SELECT count(*) AS n FROM api_keys k WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = k.account_id)', 'delete those keys'],
  ['submission items without their submission', 'SELECT count(*) AS n FROM submission_items i WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = i.submission_id)', 'delete those items'],
  ['submission bodies without their submission', 'SELECT count(*) AS n FROM submission_bodies b WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = b.submission_id)', 'delete those bodies'],
  ['pending submissions without their body', "SELECT count(*) AS n FROM submissions s WHERE s.status = 'pending' AND NOT EXISTS (SELECT 1 FROM submission_bodies b WHERE b.submission_id = s.id)", 'none needed: the next start fails their pending objects with "send it again" (they were never acknowledged)'],
  ['complete submissions whose counts do not add up', 'SELECT count(*) AS n FROM submissions WHERE status = \'complete\' AND (pending_count <> 0 OR success_count + failure_count <> total_count)', 'recount them from their items'],
  ['change-log entries without their collection', 'SELECT count(*) AS n FROM changes ch WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.pk = ch.coll)', 'delete those entries'],
];

interface FlagRow {
  pk: number;
  coll: number;
  id: string;
  version_key: string;
  tlp: number;
  spec_version: string;
  is_first: number;
  is_last: number;
  is_latest_spec: number;
  first_mask: number;
  last_mask: number;
}

/** The stored versions whose first/last flags differ from what versionFlags computes, with the right ones. */
function wrongFlags(db: Database.Database): { objects: number; fixes: Array<[pk: number, isFirst: number, isLast: number, isLatestSpec: number, firstMask: number, lastMask: number]> } {
  const rows = db.prepare('SELECT pk, coll, id, version_key, tlp, spec_version, is_first, is_last, is_latest_spec, first_mask, last_mask FROM objects ORDER BY coll, id').iterate() as IterableIterator<FlagRow>;
  let objects = 0;
  const fixes: ReturnType<typeof wrongFlags>['fixes'] = [];
  let group: FlagRow[] = [];
  const settle = () => {
    if (group.length === 0) return;
    const flags = versionFlags(group.map((r) => ({ versionKey: r.version_key, tlp: r.tlp, specVersion: r.spec_version })));
    let bad = false;
    group.forEach((r, i) => {
      const f = flags[i]!;
      const want = [r.pk, f.isFirst ? 1 : 0, f.isLast ? 1 : 0, f.isLatestSpec ? 1 : 0, f.firstMask, f.lastMask] as const;
      if (r.is_first !== want[1] || r.is_last !== want[2] || r.is_latest_spec !== want[3] || r.first_mask !== want[4] || r.last_mask !== want[5]) {
        fixes.push([...want]);
        bad = true;
      }
    });
    if (bad) objects++;
    group = [];
  };
  for (const row of rows) {
    if (group.length > 0 && (group[0]!.coll !== row.coll || group[0]!.id !== row.id)) settle();
    group.push(row);
  }
  settle();
  return { objects, fixes };
}

/**
 * Collections whose high-water mark of date_added is below a date_added they hold: the next write
 * would take a date_added already used (they would collide on objects_page or changes' key).
 */
const LOW_HIGH_WATER = `SELECT c.pk, max(coalesce((SELECT max(date_added) FROM objects o WHERE o.coll = c.pk), 0), coalesce((SELECT max(date_added) FROM changes ch WHERE ch.coll = c.pk), 0)) AS top
                        FROM collections c WHERE c.last_date_added < top`;

/** The indexes SCHEMA declares, by name. */
const SCHEMA_INDEXES = [...SCHEMA.matchAll(/CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

const FLAGS_CHECK = 'first/last version flags';
const HIGH_WATER_CHECK = 'collection date_added high-water marks';
/** What --repair changes: the checks whose repair recomputes what every write maintains. */
const REPAIRABLE = new Set([FLAGS_CHECK, HIGH_WATER_CHECK]);

/**
 * Verifies a store: SQLite's integrity check, foreign keys, the schema version and its named
 * indexes, orphaned rows, submission counts, every object's first/last version flags and each
 * collection's date_added high-water mark. Without `repair` it changes nothing and is safe while
 * the server runs (it reads one snapshot). With `repair` it fixes, in one transaction, what every
 * write maintains and can be recomputed exactly (the flags, the high-water marks), then checks again.
 */
export function check(dataDir: string, options: { repair?: boolean } = {}): CheckReport & { repaired?: string[] } {
  if (options.repair) {
    const db = openExisting(dbPath(dataDir));
    let repaired: string[];
    try {
      db.pragma('query_only = OFF');
      repaired = db.transaction(() => {
        const done: string[] = [];
        const flags = wrongFlags(db);
        if (flags.fixes.length > 0) {
          const update = db.prepare('UPDATE objects SET is_first = ?, is_last = ?, is_latest_spec = ?, first_mask = ?, last_mask = ? WHERE pk = ?');
          for (const [pk, ...values] of flags.fixes) update.run(...values, pk);
          done.push(`${FLAGS_CHECK}: ${flags.fixes.length} versions of ${flags.objects} objects recomputed`);
        }
        const low = db.prepare(LOW_HIGH_WATER).all() as Array<{ pk: number; top: number }>;
        for (const c of low) db.prepare('UPDATE collections SET last_date_added = ? WHERE pk = ?').run(c.top, c.pk);
        if (low.length > 0) done.push(`${HIGH_WATER_CHECK}: ${low.length} raised to the newest date_added they hold`);
        return done;
      }).immediate();
    } finally {
      db.close();
    }
    return { ...check(dataDir), repaired };
  }
  const db = openExisting(dbPath(dataDir));
  try {
    const findings: CheckFinding[] = [];
    const integrity = (db.pragma('integrity_check(20)') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    findings.push(integrity.join() === 'ok' ? { check: 'SQLite integrity (pages, indexes)', ok: true } : { check: 'SQLite integrity (pages, indexes)', ok: false, problem: integrity.join('; '), repair: 'restore the latest good backup; REINDEX fixes index-only damage' });
    const fk = (db.pragma('foreign_key_check') as unknown[]).length;
    findings.push(fk === 0 ? { check: 'foreign keys', ok: true } : { check: 'foreign keys', ok: false, problem: `${fk} rows reference a missing row`, repair: 'delete the rows PRAGMA foreign_key_check lists' });
    const schema = sqliteSchemaState(db);
    findings.push(schema.pending.length === 0
      ? { check: 'schema version', ok: true }
      : { check: 'schema version', ok: false, problem: `at version ${schema.current}, this release is at ${schema.latest}`, repair: 'meridian migrate-schema (or start the server): it applies the pending steps' });
    const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as Array<{ name: string }>).map((r) => r.name));
    const missing = SCHEMA_INDEXES.filter((name) => !present.has(name));
    findings.push(missing.length === 0
      ? { check: 'named indexes', ok: true }
      : { check: 'named indexes', ok: false, problem: `missing: ${missing.join(', ')}`, repair: 'meridian migrate-schema (or start the server): it creates the missing indexes' });
    db.exec('BEGIN'); // one snapshot for the counts below
    try {
      for (const [label, sql, repair] of ORPHANS) {
        const n = (db.prepare(sql).get() as { n: number }).n;
        findings.push(n === 0 ? { check: label, ok: true } : { check: label, ok: false, problem: `${n} found`, repair });
      }
      const flags = wrongFlags(db);
      findings.push(
        flags.objects === 0
          ? { check: FLAGS_CHECK, ok: true }
          : { check: FLAGS_CHECK, ok: false, problem: `${flags.fixes.length} versions of ${flags.objects} objects have wrong flags`, repair: 'recompute the flags of those objects (as every write does): meridian check --repair' },
      );
      const low = (db.prepare(LOW_HIGH_WATER).all() as unknown[]).length;
      findings.push(low === 0
        ? { check: HIGH_WATER_CHECK, ok: true }
        : { check: HIGH_WATER_CHECK, ok: false, problem: `${low} collections hold a date_added above their mark (the next write there would collide)`, repair: 'raise each mark to the newest date_added the collection holds: meridian check --repair' });
      const found = counts(db);
      return { ok: findings.every((f) => f.ok || f.repair?.startsWith('none needed') === true), counts: found, findings };
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

const isMongo = (store: string) => /^mongodb(\+srv)?:\/\//.test(store);

export interface SchemaReport {
  /** Where the store stood before. */
  before: SchemaState;
  /** The steps applied (none with dryRun). */
  applied: SchemaState['pending'];
}

/**
 * `meridian migrate-schema`: the pending schema steps of the configured store, applied unless
 * `dryRun` (SchemaTooNewError for a store from a newer Meridian). On MongoDB the indexes are then
 * ensured as a start would, so that their builds happen now rather than at the next start.
 */
export async function migrateSchema(c: Pick<Config, 'dataDir' | 'store'>, options: { dryRun: boolean }): Promise<SchemaReport> {
  if (isMongo(c.store)) {
    const conn = await mongoose.createConnection(c.store, { dbName: databaseName(c.store), serverSelectionTimeoutMS: 10_000, autoIndex: false, autoCreate: false }).asPromise()
      .catch((err: Error) => { throw new MaintenanceError(`MongoDB is not reachable: ${err.message}`); });
    let report: SchemaReport;
    try {
      const before = await mongoSchemaState(conn);
      report = { before, applied: options.dryRun ? [] : await migrateMongo(conn) };
    } finally {
      await conn.close();
    }
    if (!options.dryRun) {
      const store = new MongoStore({ uri: c.store, serverSelectionTimeoutMs: 10_000 });
      try {
        await store.listApiRoots(); // waits for start-up: the indexes of every collection
      } finally {
        await store.close();
      }
    }
    return report;
  }
  const file = dbPath(c.dataDir);
  if (!existsSync(file)) throw new MaintenanceError(`no embedded store at ${file}`);
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    const before = sqliteSchemaState(db);
    return { before, applied: options.dryRun ? [] : migrateSqlite(db) };
  } finally {
    db.close();
  }
}

interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * The commands at the CLI: `backup --to FILE`, `restore --from FILE`, `check [--json] [--repair]`,
 * `export --root R --to FILE`, `migrate-schema [--dry-run]`. Exit codes: 0 done (check: nothing
 * wrong), 1 a refusal or a finding, 2 not possible on this store (or a store from a newer Meridian).
 */
export function maintenanceCommands(program: Command, configOf: (cmd: Command) => Readonly<Pick<Config, 'dataDir' | 'store'>>, io: Out, exit: (code: number) => void): void {
  /** Runs a command on the embedded store; a MongoDB store gets the procedure to follow instead. */
  const embedded = (action: (dataDir: string, ...args: any[]) => Promise<void> | void) =>
    async function (this: Command, ...args: any[]) {
      const c = configOf(this);
      if (c.store !== 'sqlite') {
        io.stderr('meridian: this command works on the embedded store; for MongoDB use mongodump/mongorestore, or meridian export / restore of one API root (docs/operations.md)\n');
        exit(2);
        return;
      }
      try {
        await action(c.dataDir, ...args);
      } catch (err) {
        if (!(err instanceof MaintenanceError)) throw err;
        io.stderr(`meridian: ${err.message}\n`);
        exit(1);
      }
    };
  const countLine = (n: Record<string, number>) => Object.entries(n).map(([k, v]) => `${k} ${v}`).join(', ');

  program
    .command('migrate-schema')
    .description('bring the store (embedded or MongoDB) to the schema of this release, as a start does; --dry-run lists the steps')
    .option('--dry-run', 'list the steps that would run and change nothing')
    .action(async function (this: Command, o: { dryRun?: boolean }) {
      let r: SchemaReport;
      try {
        r = await migrateSchema(configOf(this), { dryRun: o.dryRun === true });
      } catch (err) {
        if (!(err instanceof MaintenanceError)) throw err;
        io.stderr(`meridian: ${err.message}\n`);
        exit(1);
        return;
      }
      const { current, latest, pending } = r.before;
      io.stdout(`schema version ${current}${current === 1 ? ' (the baseline)' : ''}; this release is at ${latest}\n`);
      if (pending.length === 0) io.stdout('nothing to do: the store is at the current schema\n');
      else if (o.dryRun) {
        for (const step of pending) io.stdout(`would apply ${step.version}: ${step.description}\n`);
        io.stdout('nothing was changed (--dry-run)\n');
      } else {
        for (const step of r.applied) io.stdout(`applied ${step.version}: ${step.description}\n`);
        io.stdout(`schema version now ${latest}\n`);
      }
    });

  program
    .command('backup')
    .description('copy the embedded store to a file while the server keeps serving (SQLite online backup, consistent, checked)')
    .requiredOption('--to <file>', 'the backup file to write')
    .option('--force', 'replace the file if it exists')
    .action(
      embedded(async (dataDir: string, o: { to: string; force?: boolean }) => {
        const r = await backup(dataDir, o.to, { force: o.force === true });
        io.stdout(`backed up to ${r.file} (${r.bytes} bytes): ${countLine(r.counts)}\n`);
      }),
    );

  /** Runs an action on the configured store (either kind); an export's problems exit 1. */
  const onStore = (action: (store: Store, ...args: any[]) => Promise<void>) =>
    async function (this: Command, ...args: any[]) {
      const store = openStore(configOf(this));
      try {
        await action(store, ...args);
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        io.stderr(`meridian: ${err.message}\n`);
        exit(1);
      } finally {
        await store.close();
      }
    };
  const restoreBackup = embedded((dataDir: string, o: { from: string; force?: boolean }) => {
    const r = restore(o.from, dataDir, { force: o.force === true });
    if (r.kept) io.stderr(`the previous store is kept as ${r.kept}\n`);
    io.stdout(`restored ${o.from} into ${dataDir}: ${countLine(r.counts)}\n`);
  });
  const restoreExport = onStore(async (store: Store, o: { from: string }) => {
    const r = await importRoot(store, o.from);
    io.stdout(`restored API root ${r.apiRoot} from ${o.from}: collections ${r.collections}, objects ${r.objects}, grants ${r.grants - r.grantsSkipped}\n`);
    if (r.grantsSkipped > 0) io.stderr(`${r.grantsSkipped} grants were left out: their account or organisation is not in this store\n`);
  });

  program
    .command('export')
    .description('write one API root (collections, desk rules, grants, every object version with its date_added) to a JSON Lines file, from either store; meridian restore reads it')
    .requiredOption('--root <path>', 'the API root')
    .requiredOption('--to <file>', 'the file to write')
    .option('--force', 'replace the file if it exists')
    .action(
      onStore(async (store: Store, o: { root: string; to: string; force?: boolean }) => {
        const n = await exportRoot(store, o.root, o.to, { force: o.force === true });
        io.stdout(`exported API root ${o.root} to ${o.to}: collections ${n.collections}, objects ${n.objects}, grants ${n.grants}\n`);
      }),
    );

  program
    .command('restore')
    .description('put a backup in place as the embedded store (stop the server first; the current store is kept beside it), or restore an API root from a file of meridian export into either store')
    .requiredOption('--from <file>', 'the backup file, or an export of one API root')
    .option('--force', 'replace an existing store (it is renamed, not deleted)')
    .action(async function (this: Command, o: { from: string; force?: boolean }) {
      if (existsSync(o.from) && (await isRootExport(o.from))) await restoreExport.call(this, o);
      else await restoreBackup.call(this, o);
    });

  program
    .command('check')
    .description('verify the store (integrity, schema version, named indexes, orphaned rows, submission counts, version flags, date_added marks; on MongoDB the same where it applies) and say what a repair would do; changes nothing unless --repair')
    .option('--json', 'print one machine-readable report')
    .option('--repair', `embedded store: fix what can be recomputed exactly (${[...REPAIRABLE].join(', ')}) in one transaction, then check again`)
    .action(async function (this: Command, o: { json?: boolean; repair?: boolean }) {
      const c = configOf(this);
      if (isMongo(c.store) && o.repair) {
        io.stderr('meridian: --repair works on the embedded store; on MongoDB, check reports what a repair would do\n');
        exit(2);
        return;
      }
      let r: CheckReport & { repaired?: string[] };
      try {
        r = isMongo(c.store) ? await checkMongo(c.store) : check(c.dataDir, { repair: o.repair === true });
      } catch (err) {
        if (!(err instanceof MaintenanceError)) throw err;
        io.stderr(`meridian: ${err.message}\n`);
        exit(1);
        return;
      }
      if (o.json) io.stdout(`${JSON.stringify(r, null, 2)}\n`);
      else {
        for (const line of r.repaired ?? []) io.stdout(`repaired ${line}\n`);
        if (r.repaired?.length === 0) io.stdout('nothing to repair\n');
        io.stdout(`counts: ${countLine(r.counts)}\n`);
        for (const f of r.findings) io.stdout(f.ok ? `ok       ${f.check}\n` : `PROBLEM  ${f.check}: ${f.problem}\n         would repair: ${f.repair}\n`);
        io.stdout(r.ok ? 'the store is consistent\n' : o.repair ? 'problems remain that --repair does not change\n' : 'problems found (nothing was changed)\n');
      }
      if (!r.ok) exit(1);
    });
}
