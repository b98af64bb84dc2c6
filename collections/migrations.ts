// Versioned schema migrations, shared by both stores. Each store records the schema version it is at
// (SQLite: PRAGMA user_version; MongoDB: a document in `meta`) and keeps an ordered list of
// migrations next to its schema. At open, the migrations after the recorded version run in order
// and the version moves past each one; a store at a version this code does not know is refused.
// A store that records no version is at the baseline, version 1 (the schema before migrations).

/**
 * One step of a store's schema. `up` must be idempotent: a crash may leave it half-applied on
 * MongoDB (SQLite runs it in a transaction, so there it is synchronous).
 */
export interface Migration<Target, Result extends void | Promise<void> = void | Promise<void>> {
  version: number;
  /** What it changes, for an operator (migrate-schema --dry-run, the start-up log). */
  description: string;
  up(target: Target): Result;
}

/** The baseline every store that records no version is at. */
export const BASELINE_VERSION = 1;

export interface SchemaState {
  /** The version the store records (BASELINE_VERSION when it records none). */
  current: number;
  /** The newest version this code knows. */
  latest: number;
  /** What would run, in order. */
  pending: Array<{ version: number; description: string }>;
}

/** The store was written by a newer Meridian: this code must not touch it. */
export class SchemaTooNewError extends Error {
  constructor(readonly storeKind: string, readonly found: number, readonly known: number) {
    super(`the ${storeKind} store is at schema version ${found}, newer than this Meridian knows (${known}): it was written by a newer release; run that release (or newer), or restore a backup taken before the upgrade`);
  }
}

/** The newest version of a list of migrations (the baseline when the list is empty). */
export function latestVersion(migrations: ReadonlyArray<Migration<any>>): number {
  return migrations.reduce((top, m) => Math.max(top, m.version), BASELINE_VERSION);
}

/**
 * The migrations after `current`, in order; refuses a store newer than the list. The list itself
 * must number its steps BASELINE_VERSION + 1, + 2, … without gaps (a mistake in code, thrown as such).
 */
export function pendingMigrations<M extends Migration<any>>(storeKind: string, migrations: readonly M[], current: number): { state: SchemaState; steps: M[] } {
  migrations.forEach((m, i) => {
    if (m.version !== BASELINE_VERSION + 1 + i) throw new Error(`${storeKind} migrations must be numbered ${BASELINE_VERSION + 1}, ${BASELINE_VERSION + 2}, … in order; found ${m.version} at position ${i + 1}`);
  });
  const latest = latestVersion(migrations);
  if (current > latest) throw new SchemaTooNewError(storeKind, current, latest);
  const steps = migrations.filter((m) => m.version > current);
  return { state: { current, latest, pending: steps.map(({ version, description }) => ({ version, description })) }, steps };
}
