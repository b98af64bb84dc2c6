// Brings an embedded store's file to the current schema (collections/migrations.ts): the version
// is PRAGMA user_version (0 in a file from before versions: the baseline; 0 in a new, empty file:
// SCHEMA creates it whole at the latest version, so no step runs).
import type Database from 'better-sqlite3';
import { BASELINE_VERSION, type Migration, type SchemaState, latestVersion, pendingMigrations } from '../migrations.js';
import { SCHEMA, SQLITE_MIGRATIONS } from './schema.js';

type SqliteMigrations = ReadonlyArray<Migration<Database.Database, void>>;

function recordedVersion(db: Database.Database, migrations: SqliteMigrations): number {
  const recorded = db.pragma('user_version', { simple: true }) as number;
  if (recorded === 0 && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").get() === undefined) return latestVersion(migrations);
  return Math.max(recorded, BASELINE_VERSION);
}

/** Where the file stands, changing nothing; throws SchemaTooNewError for a file from a newer Meridian. */
export function sqliteSchemaState(db: Database.Database, migrations: SqliteMigrations = SQLITE_MIGRATIONS): SchemaState {
  return pendingMigrations('embedded (SQLite)', migrations, recordedVersion(db, migrations)).state;
}

/**
 * Runs the pending steps, each in its own transaction with the version it reaches (a crash keeps
 * the steps done), then creates what SCHEMA adds (new tables and indexes) and records the latest
 * version. Another process migrating at the same time is waited for (busy_timeout) and not repeated.
 * Returns the steps this call applied.
 */
export function migrateSqlite(db: Database.Database, migrations: SqliteMigrations = SQLITE_MIGRATIONS): SchemaState['pending'] {
  const { state, steps } = pendingMigrations('embedded (SQLite)', migrations, recordedVersion(db, migrations));
  const applied: SchemaState['pending'] = [];
  for (const step of steps) {
    db.transaction(() => {
      if (recordedVersion(db, migrations) >= step.version) return;
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
      applied.push({ version: step.version, description: step.description });
    }).immediate();
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    if ((db.pragma('user_version', { simple: true }) as number) < state.latest) db.pragma(`user_version = ${state.latest}`);
  }).immediate();
  return applied;
}
