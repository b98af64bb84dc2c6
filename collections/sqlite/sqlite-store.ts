// The embedded store on better-sqlite3: one file, WAL, prepared statements, one transaction per
// batch. Every filter, order and page is done in SQL (ARCHITECTURE §5).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  type AccountRecord,
  type ApiRootRecord,
  type CollectionRecord,
  type GrantRecord,
  type IngestItem,
  type ManifestEntry,
  type NewObject,
  type NewSubmission,
  type ObjectFilter,
  type ObjectQuery,
  type Page,
  type Role,
  type Store,
  type StoredObject,
  type SubmissionItem,
  type SubmissionRecord,
  StoreConflictError,
  versionKeyFromMicros,
} from '../store.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';

type Row = Record<string, any>;
type Statement = Database.Statement<unknown[], Row>;

const MANIFEST_COLUMNS = 'id, type, date_added, version, spec_version, media_type';

export interface SqliteStoreOptions {
  /** A directory (the file is `meridian.sqlite` in it) or ':memory:'. */
  location: string;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;
}

function toApiRoot(r: Row): ApiRootRecord {
  return {
    path: r.path,
    title: r.title,
    ...(r.description != null ? { description: r.description } : {}),
    maxContentLength: r.max_content_length,
    createdAt: r.created_at,
  };
}

function toCollection(r: Row): CollectionRecord {
  return {
    id: r.id,
    apiRoot: r.api_root,
    title: r.title,
    ...(r.description != null ? { description: r.description } : {}),
    ...(r.alias != null ? { alias: r.alias } : {}),
    mediaTypes: JSON.parse(r.media_types),
    createdAt: r.created_at,
  };
}

function toAccount(r: Row): AccountRecord {
  return {
    id: r.id,
    name: r.name,
    passwordHash: r.password_hash,
    roles: JSON.parse(r.roles) as Role[],
    disabled: r.disabled === 1,
    credentialVersion: r.credential_version,
    createdAt: r.created_at,
  };
}

function toManifest(r: Row): ManifestEntry {
  return {
    id: r.id,
    type: r.type,
    dateAdded: r.date_added,
    ...(r.version != null ? { version: r.version } : {}),
    specVersion: r.spec_version,
    mediaType: r.media_type,
  };
}

function toSubmission(r: Row): SubmissionRecord {
  return {
    id: r.id,
    apiRoot: r.api_root,
    collectionId: r.collection_id,
    accountId: r.account_id,
    requestTimestamp: r.request_timestamp,
    status: r.status,
    totalCount: r.total_count,
    successCount: r.success_count,
    failureCount: r.failure_count,
    pendingCount: r.pending_count,
  };
}

/** WHERE clause and parameters for an object filter; lists travel as one JSON parameter. */
function filterSql(filter: Omit<ObjectFilter, 'ids' | 'types'> & Partial<Pick<ObjectFilter, 'ids' | 'types'>>): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.addedAfter !== undefined) {
    parts.push('date_added > ?');
    params.push(filter.addedAfter);
  }
  if (filter.ids) {
    parts.push('id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filter.ids));
  }
  if (filter.types?.length === 1) {
    // One type is an equality, so the planner walks objects_by_type in date_added order (a rare
    // type would otherwise be searched for along the whole collection's date_added index).
    parts.push('type = ?');
    params.push(filter.types[0]);
  } else if (filter.types) {
    parts.push('type IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filter.types));
  }
  if (filter.specVersions) {
    parts.push('spec_version IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filter.specVersions));
  } else {
    parts.push('is_latest_spec = 1');
  }
  const v = filter.versions;
  if (!v.all) {
    const alternatives: string[] = [];
    if (v.last) alternatives.push('is_last = 1');
    if (v.first) alternatives.push('is_first = 1');
    if (v.keys.length > 0) {
      alternatives.push('version_key IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(v.keys));
    }
    // A single flag is written bare so the partial indexes objects_page_last / _first apply.
    parts.push(alternatives.length === 0 ? '0' : alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();

  constructor(options: SqliteStoreOptions) {
    let file = options.location;
    if (file !== ':memory:') {
      mkdirSync(file, { recursive: true });
      file = path.join(file, 'meridian.sqlite');
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: every commit is on disk before it returns, so a 202 never promises what a power cut loses.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const version = this.db.prepare('PRAGMA user_version').pluck().get() as number;
    if (version === 0) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    else if (version > SCHEMA_VERSION) throw new Error(`the data directory was written by a newer Meridian (schema ${version} > ${SCHEMA_VERSION})`);
  }

  /** Prepared once per SQL text and reused (the filter builder yields a bounded set of shapes). */
  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql) as Statement;
      this.statements.set(sql, s);
    }
    return s;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async secret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    return this.db.transaction(() => {
      const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key);
      if (row) return row.value as Buffer;
      const value = randomBytes(32);
      this.stmt('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
      return value;
    }).immediate();
  }

  // ---- API roots ----------------------------------------------------------------------------

  async createApiRoot(root: Omit<ApiRootRecord, 'createdAt'>): Promise<ApiRootRecord> {
    const createdAt = Date.now() * 1000;
    try {
      this.stmt('INSERT INTO api_roots (path, title, description, max_content_length, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(root.path, root.title, root.description ?? null, root.maxContentLength, createdAt);
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`API root "${root.path}" already exists`);
      throw err;
    }
    return { ...root, createdAt };
  }

  async updateApiRoot(rootPath: string, changes: Partial<Omit<ApiRootRecord, 'path' | 'createdAt'>>): Promise<ApiRootRecord | undefined> {
    const current = await this.getApiRoot(rootPath);
    if (!current) return undefined;
    const next = { ...current, ...changes };
    this.stmt('UPDATE api_roots SET title = ?, description = ?, max_content_length = ? WHERE path = ?')
      .run(next.title, next.description ?? null, next.maxContentLength, rootPath);
    return next;
  }

  async getApiRoot(rootPath: string): Promise<ApiRootRecord | undefined> {
    const r = this.stmt('SELECT * FROM api_roots WHERE path = ?').get(rootPath);
    return r ? toApiRoot(r) : undefined;
  }

  async listApiRoots(): Promise<ApiRootRecord[]> {
    return this.stmt('SELECT * FROM api_roots ORDER BY seq').all().map(toApiRoot);
  }

  async deleteApiRoot(rootPath: string): Promise<boolean> {
    const inUse = this.stmt('SELECT 1 FROM collections WHERE api_root = ? LIMIT 1').get(rootPath);
    if (inUse) throw new StoreConflictError(`API root "${rootPath}" still has collections`);
    return this.stmt('DELETE FROM api_roots WHERE path = ?').run(rootPath).changes > 0;
  }

  // ---- collections --------------------------------------------------------------------------

  async createCollection(c: Omit<CollectionRecord, 'createdAt'>): Promise<CollectionRecord> {
    const createdAt = Date.now() * 1000;
    if (!(await this.getApiRoot(c.apiRoot))) throw new StoreConflictError(`API root "${c.apiRoot}" does not exist`);
    try {
      this.stmt('INSERT INTO collections (id, api_root, title, description, alias, media_types, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(c.id, c.apiRoot, c.title, c.description ?? null, c.alias ?? null, JSON.stringify(c.mediaTypes), createdAt);
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(c.alias ? `a collection with id ${c.id} or alias "${c.alias}" already exists` : `collection ${c.id} already exists`);
      throw err;
    }
    return { ...c, createdAt };
  }

  async getCollection(apiRoot: string, idOrAlias: string): Promise<CollectionRecord | undefined> {
    const r = this.stmt('SELECT * FROM collections WHERE api_root = ? AND (id = ? OR alias = ?) ORDER BY id = ? DESC LIMIT 1')
      .get(apiRoot, idOrAlias, idOrAlias, idOrAlias);
    return r ? toCollection(r) : undefined;
  }

  async listCollections(apiRoot: string): Promise<CollectionRecord[]> {
    return this.stmt('SELECT * FROM collections WHERE api_root = ? ORDER BY pk').all(apiRoot).map(toCollection);
  }

  async deleteCollection(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const c = this.stmt('SELECT pk FROM collections WHERE id = ?').get(id);
      if (!c) return false;
      this.stmt('DELETE FROM objects WHERE coll = ?').run(c.pk);
      this.stmt('DELETE FROM grants WHERE collection_id = ?').run(id);
      this.stmt('DELETE FROM collections WHERE pk = ?').run(c.pk);
      return true;
    }).immediate();
  }

  // ---- accounts and grants ------------------------------------------------------------------

  async createAccount(a: Omit<AccountRecord, 'createdAt' | 'credentialVersion'>): Promise<AccountRecord> {
    const createdAt = Date.now() * 1000;
    try {
      this.stmt('INSERT INTO accounts (id, name, password_hash, roles, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(a.id, a.name, a.passwordHash, JSON.stringify(a.roles), a.disabled ? 1 : 0, createdAt);
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`account "${a.name}" already exists`);
      throw err;
    }
    return { ...a, createdAt, credentialVersion: 1 };
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const r = this.stmt('SELECT * FROM accounts WHERE id = ?').get(id);
    return r ? toAccount(r) : undefined;
  }

  async getAccountByName(name: string): Promise<AccountRecord | undefined> {
    const r = this.stmt('SELECT * FROM accounts WHERE name = ?').get(name);
    return r ? toAccount(r) : undefined;
  }

  async listAccounts(): Promise<AccountRecord[]> {
    return this.stmt('SELECT * FROM accounts ORDER BY name').all().map(toAccount);
  }

  async updateAccount(id: string, changes: Partial<Pick<AccountRecord, 'passwordHash' | 'roles' | 'disabled'>>): Promise<AccountRecord | undefined> {
    const current = await this.getAccount(id);
    if (!current) return undefined;
    const next = { ...current, ...changes, credentialVersion: current.credentialVersion + 1 };
    this.stmt('UPDATE accounts SET password_hash = ?, roles = ?, disabled = ?, credential_version = ? WHERE id = ?')
      .run(next.passwordHash, JSON.stringify(next.roles), next.disabled ? 1 : 0, next.credentialVersion, id);
    return next;
  }

  async deleteAccount(id: string): Promise<boolean> {
    return this.stmt('DELETE FROM accounts WHERE id = ?').run(id).changes > 0;
  }

  async setGrant(g: GrantRecord): Promise<void> {
    this.db.transaction(() => {
      if (!g.canRead && !g.canWrite) {
        this.stmt('DELETE FROM grants WHERE account_id = ? AND collection_id = ?').run(g.accountId, g.collectionId);
      } else {
        this.stmt(`INSERT INTO grants (account_id, collection_id, can_read, can_write) VALUES (?, ?, ?, ?)
                   ON CONFLICT (account_id, collection_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write`)
          .run(g.accountId, g.collectionId, g.canRead ? 1 : 0, g.canWrite ? 1 : 0);
      }
      // Grants are part of what an authenticated caller may do: drop cached verifications.
      this.stmt('UPDATE accounts SET credential_version = credential_version + 1 WHERE id = ?').run(g.accountId);
    }).immediate();
  }

  async getGrant(accountId: string, collectionId: string): Promise<GrantRecord | undefined> {
    const r = this.stmt('SELECT * FROM grants WHERE account_id = ? AND collection_id = ?').get(accountId, collectionId);
    return r ? { accountId: r.account_id, collectionId: r.collection_id, canRead: r.can_read === 1, canWrite: r.can_write === 1 } : undefined;
  }

  async listGrants(filter: { accountId?: string; collectionId?: string }): Promise<GrantRecord[]> {
    return this.stmt('SELECT * FROM grants WHERE (@account IS NULL OR account_id = @account) AND (@collection IS NULL OR collection_id = @collection) ORDER BY account_id, collection_id')
      .all({ account: filter.accountId ?? null, collection: filter.collectionId ?? null })
      .map((r) => ({ accountId: r.account_id, collectionId: r.collection_id, canRead: r.can_read === 1, canWrite: r.can_write === 1 }));
  }

  // ---- objects ------------------------------------------------------------------------------

  private collectionPk(collectionId: string): number | undefined {
    return this.stmt('SELECT pk FROM collections WHERE id = ?').get(collectionId)?.pk;
  }

  private page<T>(collectionId: string, columns: string, query: ObjectQuery, map: (r: Row) => T): Page<T> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) return { items: [], more: false };
    const { sql, params } = filterSql(query);
    // match[id] (and the object and versions endpoints) select a few versions: look them up by id.
    // Left alone, the planner walks the date_added index of the whole collection to avoid a sort.
    const table = query.ids ? 'objects INDEXED BY objects_by_id' : 'objects';
    const rows = this.stmt(`SELECT ${columns} FROM ${table} WHERE coll = ?${sql} ORDER BY date_added LIMIT ?`).all(pk, ...params, query.limit + 1);
    const more = rows.length > query.limit;
    return { items: (more ? rows.slice(0, query.limit) : rows).map(map), more };
  }

  async queryObjects(collectionId: string, query: ObjectQuery): Promise<Page<StoredObject>> {
    return this.page(collectionId, `${MANIFEST_COLUMNS}, json`, query, (r) => ({ ...toManifest(r), json: r.json }));
  }

  async queryManifest(collectionId: string, query: ObjectQuery): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, MANIFEST_COLUMNS, query, toManifest);
  }

  async queryVersions(collectionId: string, objectId: string, query: Omit<ObjectQuery, 'ids' | 'types' | 'versions'>): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, MANIFEST_COLUMNS, { ...query, ids: [objectId], versions: { all: true } }, toManifest);
  }

  async hasObject(collectionId: string, objectId: string): Promise<boolean> {
    const pk = this.collectionPk(collectionId);
    return pk !== undefined && this.stmt('SELECT 1 FROM objects WHERE coll = ? AND id = ? LIMIT 1').get(pk, objectId) !== undefined;
  }

  async countObjects(collectionId: string): Promise<number> {
    const pk = this.collectionPk(collectionId);
    return pk === undefined ? 0 : (this.stmt('SELECT count(*) AS n FROM objects WHERE coll = ?').get(pk)!.n as number);
  }

  /** Recomputes the first/last/latest-spec flags of one object after its versions changed. */
  private refreshFlags(pk: number, objectId: string): void {
    this.stmt(`UPDATE objects SET
        is_first = (version_key = (SELECT min(version_key) FROM objects WHERE coll = @pk AND id = @id)),
        is_last = (version_key = (SELECT max(version_key) FROM objects WHERE coll = @pk AND id = @id)),
        is_latest_spec = (spec_version = (SELECT max(spec_version) FROM objects WHERE coll = @pk AND id = @id))
      WHERE coll = @pk AND id = @id`).run({ pk, id: objectId });
  }

  async deleteObject(collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'versions' | 'specVersions'>): Promise<number> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) return 0;
    const { sql, params } = filterSql({ ...filter, ids: [objectId] });
    return this.db.transaction(() => {
      const deleted = this.stmt(`DELETE FROM objects WHERE coll = ?${sql}`).run(pk, ...params).changes;
      if (deleted > 0) this.refreshFlags(pk, objectId);
      return deleted;
    }).immediate();
  }

  /** Stores one object, or finds its exact duplicate; returns the outcome for the status resource. */
  private storeObject(pk: number, next: () => number, o: NewObject, submissionId: string): { dateAdded?: number; failure?: string } {
    const existing = o.versionKey !== undefined
      ? this.stmt('SELECT json, date_added FROM objects WHERE coll = ? AND id = ? AND version_key = ?').get(pk, o.id, o.versionKey)
      : this.stmt('SELECT json, date_added FROM objects WHERE coll = ? AND id = ? AND version IS NULL LIMIT 1').get(pk, o.id);
    if (existing) {
      // §5.5: an exact duplicate is not an error; the same version with other content is refused.
      return existing.json === o.json
        ? { dateAdded: existing.date_added }
        : { failure: 'a different object with this id and version is already in the collection' };
    }
    const dateAdded = next();
    const versionKey = o.versionKey ?? versionKeyFromMicros(dateAdded);
    const bounds = this.stmt('SELECT min(version_key) AS lo, max(version_key) AS hi, max(spec_version) AS spec FROM objects WHERE coll = ? AND id = ?').get(pk, o.id)!;
    const isFirst = bounds.lo === null || versionKey < bounds.lo;
    const isLast = bounds.hi === null || versionKey > bounds.hi;
    const isLatestSpec = bounds.spec === null || o.specVersion >= bounds.spec;
    if (isFirst && bounds.lo !== null) this.stmt('UPDATE objects SET is_first = 0 WHERE coll = ? AND id = ? AND is_first = 1').run(pk, o.id);
    if (isLast && bounds.hi !== null) this.stmt('UPDATE objects SET is_last = 0 WHERE coll = ? AND id = ? AND is_last = 1').run(pk, o.id);
    if (bounds.spec !== null && o.specVersion > bounds.spec) this.stmt('UPDATE objects SET is_latest_spec = 0 WHERE coll = ? AND id = ?').run(pk, o.id);
    this.stmt(`INSERT INTO objects (coll, date_added, id, type, version, version_key, spec_version, media_type, is_first, is_last, is_latest_spec, submission_id, json)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(pk, dateAdded, o.id, o.type, o.version ?? null, versionKey, o.specVersion, o.mediaType, isFirst ? 1 : 0, isLast ? 1 : 0, isLatestSpec ? 1 : 0, submissionId, o.json);
    return { dateAdded };
  }

  // ---- submissions --------------------------------------------------------------------------

  async createSubmission(s: NewSubmission): Promise<void> {
    this.db.transaction(() => {
      this.stmt(`INSERT INTO submissions (id, api_root, collection_id, account_id, request_timestamp, status, total_count, pending_count, body)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`)
        .run(s.id, s.apiRoot, s.collectionId, s.accountId, s.requestTimestamp, s.items.length, s.items.length, s.body);
      const item = this.stmt("INSERT INTO submission_items (submission_id, idx, object_id, version, outcome) VALUES (?, ?, ?, ?, 'pending')");
      s.items.forEach((it, idx) => item.run(s.id, idx, it.id, it.version));
    }).immediate();
  }

  async ingest(submissionId: string, items: IngestItem[]): Promise<void> {
    this.db.transaction(() => {
      const sub = this.stmt('SELECT collection_id FROM submissions WHERE id = ?').get(submissionId);
      if (!sub) throw new Error(`unknown submission ${submissionId}`);
      const pk = this.collectionPk(sub.collection_id);
      const c = pk === undefined ? undefined : this.stmt('SELECT last_date_added FROM collections WHERE pk = ?').get(pk);
      let last = Math.max(c?.last_date_added ?? 0, Math.floor((performance.timeOrigin + performance.now()) * 1000) - 1);
      const next = () => ++last;
      const setItem = this.stmt("UPDATE submission_items SET outcome = ?, message = ?, date_added = ? WHERE submission_id = ? AND idx = ? AND outcome = 'pending'");
      let successes = 0;
      let failures = 0;
      for (const item of items) {
        let outcome: { dateAdded?: number; failure?: string };
        if ('failure' in item) outcome = { failure: item.failure };
        else if (pk === undefined) outcome = { failure: 'the collection no longer exists' };
        else outcome = this.storeObject(pk, next, item.object, submissionId);
        const changed = setItem.run(outcome.failure ? 'failure' : 'success', outcome.failure ?? null, outcome.dateAdded ?? null, submissionId, item.index).changes;
        if (changed === 0) continue; // already processed (resumed after a crash)
        if (outcome.failure) failures++;
        else successes++;
      }
      if (pk !== undefined) this.stmt('UPDATE collections SET last_date_added = max(last_date_added, ?) WHERE pk = ?').run(last, pk);
      this.stmt('UPDATE submissions SET success_count = success_count + ?, failure_count = failure_count + ?, pending_count = pending_count - ? WHERE id = ?')
        .run(successes, failures, successes + failures, submissionId);
    }).immediate();
  }

  async completeSubmission(submissionId: string): Promise<void> {
    this.stmt("UPDATE submissions SET status = 'complete', completed_at = ?, body = NULL WHERE id = ?").run(Date.now() * 1000, submissionId);
  }

  async getSubmission(submissionId: string): Promise<SubmissionRecord | undefined> {
    const r = this.stmt('SELECT * FROM submissions WHERE id = ?').get(submissionId);
    return r ? toSubmission(r) : undefined;
  }

  async submissionItems(submissionId: string): Promise<SubmissionItem[]> {
    return this.stmt('SELECT * FROM submission_items WHERE submission_id = ? ORDER BY idx').all(submissionId).map((r) => ({
      index: r.idx,
      id: r.object_id,
      version: r.version,
      outcome: r.outcome,
      ...(r.message != null ? { message: r.message } : {}),
      ...(r.date_added != null ? { dateAdded: r.date_added } : {}),
    }));
  }

  async pendingSubmissions(): Promise<Array<SubmissionRecord & { body: Buffer; pendingIndexes: number[] }>> {
    return this.stmt("SELECT * FROM submissions WHERE status = 'pending' ORDER BY request_timestamp").all().map((r) => ({
      ...toSubmission(r),
      body: r.body as Buffer,
      pendingIndexes: this.stmt("SELECT idx FROM submission_items WHERE submission_id = ? AND outcome = 'pending' ORDER BY idx").all(r.id).map((i) => i.idx as number),
    }));
  }

  async purgeSubmissions(completedBefore: number): Promise<number> {
    return this.db.transaction(() => {
      this.stmt("DELETE FROM submission_items WHERE submission_id IN (SELECT id FROM submissions WHERE status = 'complete' AND completed_at < ?)").run(completedBefore);
      return this.stmt("DELETE FROM submissions WHERE status = 'complete' AND completed_at < ?").run(completedBefore).changes;
    }).immediate();
  }
}
