// The limits each figure is set against, measured in the same run on the same machine: a raw
// better-sqlite3 batch insert of the same rows, the raw SQL query behind each GET, and JSON.parse
// of the same bytes the pipeline validates.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA } from '../collections/sqlite/schema.js';
import { versionKeyFromMicros } from '../collections/store.js';
import { processObjects } from '../stix-schemas/pipeline.js';
import { timestampKey } from '../stix-schemas/timestamp.js';
import { type Summary, summarise } from './client.js';
import type { Obj } from './dataset.js';

/**
 * The same rows the store writes for these objects, inserted with one prepared statement, 1,000 rows
 * per transaction, into the real schema (all its indexes) with the store's pragmas (WAL,
 * synchronous=NORMAL, as the store's object writes). No duplicate checks, no version flags, no submission bookkeeping.
 */
export function rawInsert(objects: Obj[], batch = 1000): { objectsPerSecond: number; seconds: number } {
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
      const version = (o.modified ?? o.created) as string | undefined;
      const d = ++dateAdded;
      return [d, o.id, o.type, version ?? null, version ? timestampKey(version) : versionKeyFromMicros(d), o.spec_version ?? '2.1', JSON.stringify(o)];
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
}

/** JSON.parse of the envelope bytes vs the pipeline (validate + normalise) over the parsed objects. */
export function validationVsParse(bodies: Buffer[]): { parseObjectsPerSecond: number; parseMBps: number; validateObjectsPerSecond: number; objects: number; failures: number } {
  let objects = 0;
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  let t = performance.now();
  const parsed = bodies.map((b) => (JSON.parse(b.toString('utf8')) as { objects: unknown[] }).objects);
  const parseSeconds = (performance.now() - t) / 1000;
  for (const p of parsed) objects += p.length;
  let failures = 0;
  t = performance.now();
  for (const p of parsed) for (const o of processObjects(p)) if (!o.ok) failures++;
  const validateSeconds = (performance.now() - t) / 1000;
  return { parseObjectsPerSecond: objects / parseSeconds, parseMBps: bytes / 1048576 / parseSeconds, validateObjectsPerSecond: objects / validateSeconds, objects, failures };
}

/** The SQL shapes the SQLite store runs for each figure (collections/sqlite/sqlite-store.ts `page`). */
const COLUMNS = 'id, type, date_added, version, spec_version, media_type';
export const RAW_QUERIES = {
  poll: `SELECT ${COLUMNS}, json FROM objects WHERE coll = ? AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  manifest: `SELECT ${COLUMNS} FROM objects WHERE coll = ? AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  matchType: `SELECT ${COLUMNS}, json FROM objects WHERE coll = ? AND date_added > ? AND type = ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
  matchId: `SELECT ${COLUMNS}, json FROM objects INDEXED BY objects_by_id WHERE coll = ? AND id IN (SELECT value FROM json_each(?)) AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT ?`,
};

export class RawReader {
  private readonly db: Database.Database;
  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, 'meridian.sqlite'), { readonly: true, fileMustExist: true });
  }

  collection(apiRoot: string, alias: string): { pk: number; first: number; last: number; count: number } {
    const pk = (this.db.prepare('SELECT pk FROM collections WHERE api_root = ? AND alias = ?').get(apiRoot, alias) as { pk: number }).pk;
    const r = this.db.prepare('SELECT min(date_added) AS first, max(date_added) AS last, count(*) AS count FROM objects WHERE coll = ?').get(pk) as { first: number; last: number; count: number };
    return { pk, ...r };
  }

  sampleIds(pk: number, n: number): string[] {
    return (this.db.prepare('SELECT id FROM objects WHERE coll = ? ORDER BY random() LIMIT ?').pluck().all(pk, n) as string[]);
  }

  plan(sql: string, params: unknown[]): string {
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  }

  /** Runs the query up to `n` times (and at most `seconds`) with fresh parameters; per-query latency in ms. */
  time(sql: string, n: number, params: () => unknown[], seconds = 2): Summary & { plan: string } {
    const stmt = this.db.prepare(sql);
    for (let i = 0; i < Math.min(50, n); i++) stmt.all(...params()); // warm the cache like the server's
    const samples: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    for (let i = 0; i < n && performance.now() < deadline; i++) {
      const p = params();
      const t = process.hrtime.bigint();
      stmt.all(...p);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return { ...summarise(samples), plan: this.plan(sql, params()) };
  }

  close(): void {
    this.db.close();
  }
}
