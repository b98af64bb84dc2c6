// Brings a MongoDB database to the current documents and indexes (collections/migrations.ts): the
// version is a document in `meta` (none, a new database or one from before versions, is the baseline).
import type { Connection } from 'mongoose';
import { BASELINE_VERSION, type Migration, type SchemaState, pendingMigrations } from '../migrations.js';
import { MAJORITY, MONGO_MIGRATIONS, identityId, isDuplicateKey } from './schemas.js';

type MongoMigrations = ReadonlyArray<Migration<Connection, Promise<void>>>;

const VERSION_ID = identityId('schema-version');

interface VersionDoc {
  value: number;
  /** Each step applied: when and by which step. */
  history?: Array<{ version: number; description: string; at: Date }>;
}

async function recordedVersion(conn: Connection): Promise<number> {
  const doc = await conn.collection<VersionDoc>('meta').findOne({ _id: VERSION_ID }); // _id
  return Math.max(doc?.value ?? 0, BASELINE_VERSION);
}

/**
 * Moves the recorded version up to `version` (with the step in the history); nothing when it is there
 * already, so instances starting together record each step once: the update misses a document at or
 * past `version`, and the insert of a first document then collides on `_id` (11000).
 */
async function record(conn: Connection, version: number, step?: Migration<Connection, Promise<void>>): Promise<void> {
  const meta = conn.collection('meta');
  const entry = step ? [{ version, description: step.description, at: new Date() }] : [];
  const moved = await meta.updateOne({ _id: VERSION_ID, value: { $lt: version } } as never, { $set: { value: version }, $push: { history: { $each: entry } } } as never, MAJORITY); // _id
  if (moved.matchedCount === 1) return;
  try {
    await meta.insertOne({ _id: VERSION_ID, value: version, history: entry } as never, MAJORITY);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** Where the database stands, changing nothing; throws SchemaTooNewError for one from a newer Meridian. */
export async function mongoSchemaState(conn: Connection, migrations: MongoMigrations = MONGO_MIGRATIONS): Promise<SchemaState> {
  return pendingMigrations('MongoDB', migrations, await recordedVersion(conn)).state;
}

/**
 * Runs the pending steps in order, recording the version after each (a crash resumes with the step
 * it interrupted, which is idempotent), then records the latest version. Returns the steps applied.
 */
export async function migrateMongo(conn: Connection, migrations: MongoMigrations = MONGO_MIGRATIONS): Promise<SchemaState['pending']> {
  const { state, steps } = pendingMigrations('MongoDB', migrations, await recordedVersion(conn));
  const applied: SchemaState['pending'] = [];
  for (const step of steps) {
    await step.up(conn);
    await record(conn, step.version, step);
    applied.push({ version: step.version, description: step.description });
  }
  await record(conn, state.latest);
  return applied;
}
