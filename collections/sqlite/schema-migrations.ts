// Brings an embedded store's file to the current schema (collections/migrations.ts): the version
// is PRAGMA user_version (0, a new file or one from before versions, is the baseline).
import type Database from 'better-sqlite3';
import { BASELINE_VERSION, type Migration, type SchemaState, pendingMigrations } from '../migrations.js';
import { SCHEMA, SQLITE_MIGRATIONS } from './schema.js';

function recordedVersion(db: Database.Database): number {
  return Math.max(db.pragma('user_version', { simple: true }) as number, BASELINE_VERSION);
}

/** Where the file stands, changing nothing; throws SchemaTooNewError for a file from a newer Meridian. */
export function sqliteSchemaState(db: Database.Database, migrations: ReadonlyArray<Migration<Database.Database, void>> = SQLITE_MIGRATIONS): SchemaState {
  return pendingMigrations('embedded (SQLite)', migrations, recordedVersion(db)).state;
}

/**
 * Runs the pending steps, each in its own transaction with the version it reaches (a crash keeps
 * the steps done), then creates what SCHEMA adds (new tables and indexes) and records the latest
 * version. Another process migrating at the same time is waited for (busy_timeout) and not repeated.
 * Returns the steps this call applied.
 */
export function migrateSqlite(db: Database.Database, migrations: ReadonlyArray<Migration<Database.Database, void>> = SQLITE_MIGRATIONS): SchemaState['pending'] {
  const { state, steps } = pendingMigrations('embedded (SQLite)', migrations, recordedVersion(db));
  const applied: SchemaState['pending'] = [];
  for (const step of steps) {
    db.transaction(() => {
      if (recordedVersion(db) >= step.version) return;
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
