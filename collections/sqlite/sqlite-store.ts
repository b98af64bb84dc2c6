// The embedded store on better-sqlite3: one file, WAL, prepared statements, one transaction per
// batch. Every filter, order and page is done in SQL (docs/architecture.md §5).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type ApiRootRecord,
  type AuditEvent,
  type AuditQuery,
  type ChangeRecord,
  type CollectionRecord,
  type CurationStats,
  type DecisionOutcome,
  type DecisionPlan,
  type DecisionRecord,
  type DeskRules,
  type GrantRecord,
  type ImportedObject,
  type IngestItem,
  type ManifestEntry,
  type NewObject,
  type NewSubmission,
  type ObjectFilter,
  type OrganisationRecord,
  type ObjectQuery,
  type Page,
  type PublicationRecord,
  type QueueEntry,
  type QueueQuery,
  type Role,
  type Store,
  type StoredObject,
  type SubmissionItem,
  type SubmissionRecord,
  type SubmissionsPerDay,
  MICROS_PER_DAY,
  StaleDecisionError,
  StoreConflictError,
  TLP_RANK,
  ingestChangeType,
  intakeFacts,
  rejectedFailure,
  scanLimitedPage,
  versionFlags,
  versionKeyFromMicros,
  writerKind,
} from '../store.js';
import { Checkpointer } from './checkpointer.js';
import { DecisionWriter } from './decision-writer.js';
import { SqliteWebhooks } from './webhooks.js';
import type { Migration } from '../migrations.js';
import { migrateSqlite } from './schema-migrations.js';

type Row = Record<string, any>;
type Statement = Database.Statement<unknown[], Row>;
/** What storing one object came to: its date_added, or a failure; `fresh` when this call stored it (first: no other version was there). */
type StoreOutcome = { dateAdded?: number; failure?: string; fresh?: { first: boolean } };

const MANIFEST_COLUMNS = 'id, type, date_added, version, spec_version, media_type';

export interface SqliteStoreOptions {
  /** A directory (the file is `meridian.sqlite` in it) or ':memory:'. */
  location: string;
  /**
   * WAL checkpoints in a worker thread (the server), not inside commits (default: inline);
   * 'backstop': another connection's thread runs them, this one only past the backstop (the decision writer).
   */
  checkpoints?: 'background' | 'inline' | 'backstop';
  /**
   * With background checkpoints, the priority of their thread on Linux (0, the default, … 19): a
   * lowered one leaves the CPU to readers while large writes run, and on a saturated machine lets
   * the WAL grow until a commit checkpoints past the backstop.
   */
  checkpointNice?: number;
  /** Told of problems the store recovers from by itself (a failed background checkpoint). */
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
  /** The schema's steps (default SQLITE_MIGRATIONS); tests give their own. */
  migrations?: ReadonlyArray<Migration<Database.Database, void>>;
  /** Large decisions written by a worker thread (default for a file), or on this thread (always for ':memory:'). */
  decisions?: 'worker' | 'inline';
}

/** WAL pages (4 KiB) past which a commit checkpoints by itself when a worker thread does it normally. */
const BACKSTOP_CHECKPOINT_PAGES = 16384;
const BACKGROUND_CHECKPOINT_MS = 250;
/** A decision with more publications than this is large: a first transaction records it, then its publications follow in transactions of their own. */
const DECISION_CHUNK = 1000;
/**
 * Milliseconds one transaction of a large decision's publications may run: a writer on another
 * connection (or, on this thread, a poll) waits at most about this long; longer transactions
 * commit less often (each commit costs about as much as tens of publications).
 */
const DECISION_SLICE_MS = 50;

// Change ids in date_added order (the UUIDv7 layout: ms, the µs within it, then this process's salt
// and a counter): an id names its row's date_added, so a stream resuming from one finds it by the
// primary key, and no index of ids is written with every change. date_added is unique per
// collection, the counter per process.
const CHANGE_ID_SALT = randomBytes(4).readUInt32BE(0) & 0x3fffffff;
let changeIdCounter = 0;

function changeId(dateAdded: number): string {
  const ms = Math.floor(dateAdded / 1000);
  const hex = ms.toString(16).padStart(12, '0');
  changeIdCounter = (changeIdCounter + 1) >>> 0;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${(dateAdded - ms * 1000).toString(16).padStart(3, '0')}-${(0x8000 | (CHANGE_ID_SALT & 0x3fff)).toString(16)}-`
    + `${(CHANGE_ID_SALT >>> 14).toString(16).padStart(4, '0')}${changeIdCounter.toString(16).padStart(8, '0')}`;
}

/** The date_added a change id of this store encodes (changeId), or undefined for an id of another layout. */
function dateAddedOfChange(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7([0-9a-f]{3})-/.exec(id);
  if (!m) return undefined;
  const micros = parseInt(m[3]!, 16);
  return micros < 1000 ? parseInt(m[1]! + m[2]!, 16) * 1000 + micros : undefined;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;
}

function toApiRoot(r: Row): ApiRootRecord {
  return {
    path: r.path,
    ...(r.country != null ? { country: r.country } : {}),
    title: r.title,
    ...(r.description != null ? { description: r.description } : {}),
    maxContentLength: r.max_content_length,
    ...(r.taxii20 ? { taxii20: true } : {}),
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
    purpose: r.purpose,
    mediaTypes: JSON.parse(r.media_types),
    ...(r.enrichment != null ? { enrichment: JSON.parse(r.enrichment) } : {}),
    createdAt: r.created_at,
  };
}

function toAccount(r: Row): AccountRecord {
  return {
    id: r.id,
    name: r.name,
    ...(r.organisation_id != null ? { organisationId: r.organisation_id } : {}),
    passwordHash: r.password_hash,
    roles: JSON.parse(r.roles) as Role[],
    curatorRoots: JSON.parse(r.curator_roots) as string[],
    disabled: r.disabled === 1,
    credentialVersion: r.credential_version,
    createdAt: r.created_at,
  };
}

function toOrganisation(r: Row): OrganisationRecord {
  return { id: r.id, name: r.name, kind: r.kind, ...(r.country != null ? { country: r.country } : {}), disabled: r.disabled === 1, createdAt: r.created_at };
}

function toGrant(r: Row): GrantRecord {
  return {
    id: r.id,
    collectionId: r.collection_id,
    ...(r.account_id != null ? { accountId: r.account_id } : {}),
    ...(r.organisation_id != null ? { organisationId: r.organisation_id } : {}),
    ...(r.role != null ? { role: r.role } : {}),
    canRead: r.can_read === 1,
    canWrite: r.can_write === 1,
    maxTlp: r.max_tlp,
    createdAt: r.created_at,
  };
}

function toApiKey(r: Row): ApiKeyRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    createdAt: r.created_at,
    ...(r.expires_at != null ? { expiresAt: r.expires_at } : {}),
    ...(r.last_used_at != null ? { lastUsedAt: r.last_used_at } : {}),
    ...(r.revoked_at != null ? { revokedAt: r.revoked_at } : {}),
  };
}

function toAudit(r: Row): AuditEvent {
  return {
    seq: r.seq,
    at: r.at,
    ...(r.actor != null ? { actor: r.actor } : {}),
    action: r.action,
    outcome: r.outcome,
    ...(r.target != null ? { target: r.target } : {}),
    ...(r.remote != null ? { remote: r.remote } : {}),
    ...(r.detail != null ? { detail: JSON.parse(r.detail) } : {}),
  };
}

/** The uniqueness key of a grant's subject. */
function grantSubject(g: { accountId?: string; organisationId?: string; role?: string }): string {
  return `${g.accountId ?? ''}|${g.organisationId ?? ''}|${g.role ?? ''}`;
}

/** WHERE clause for audit queries (named parameters). */
function auditWhere(q: Omit<AuditQuery, 'limit'>): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  for (const key of ['actor', 'action', 'outcome', 'remote', 'target'] as const) {
    if (q[key] !== undefined) {
      parts.push(`${key} = @${key}`);
      params[key] = q[key];
    }
  }
  if (q.since !== undefined) {
    parts.push('at >= @since');
    params.since = q.since;
  }
  if (q.until !== undefined) {
    parts.push('at <= @until');
    params.until = q.until;
  }
  if (q.afterSeq !== undefined) {
    parts.push('seq > @afterSeq');
    params.afterSeq = q.afterSeq;
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** A row of MANIFEST_COLUMNS as an array (raw statements: the paging hot path builds no row objects). */
function toManifest(r: unknown[]): ManifestEntry {
  const e: ManifestEntry = { id: r[0] as string, type: r[1] as string, dateAdded: r[2] as number, specVersion: r[4] as string, mediaType: r[5] as string };
  if (r[3] != null) e.version = r[3] as string;
  return e;
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

function toChange(r: Row, collectionId: string): ChangeRecord {
  return {
    id: r.id, collectionId, dateAdded: r.date_added, type: r.type, objectType: r.object_type, objectId: r.object_id, ...(r.version != null ? { version: r.version } : {}),
    actorKind: r.actor_kind, ...(r.reason != null ? { reason: r.reason } : {}), ...(r.last_version != null ? { lastVersion: r.last_version } : {}), tlp: r.tlp,
  };
}

/**
 * The queue's columns as toQueueEntry reads them, by position: rows come as arrays, since a row
 * object of this many named columns costs better-sqlite3 about three times as much to build (a
 * decision on 10,000 entries reads them all).
 */
const QUEUE_COLUMNS = 'seq, id, intake_id, api_root, object_id, object_type, version, version_key, date_added, submission_id, account_id, organisation_id, tlp, revoked, findings, state, rev, reason, requested_changes, superseded_by, approvals, created_at, updated_at';

function toQueueEntry(r: unknown[]): QueueEntry {
  const [seq, id, intakeId, apiRoot, objectId, objectType, version, versionKey, dateAdded, submissionId, accountId, organisationId, tlp, revoked, findings, state, rev, reason, requested, supersededBy, approvals, createdAt, updatedAt] = r as [
    number, string, string, string, string, string, string | null, string, number, string, string, string | null, number, number, string, QueueEntry['state'], number, string | null, string | null, string | null, string, number, number,
  ];
  return {
    id, seq, intakeId, apiRoot, objectId, objectType, ...(version != null ? { version } : {}), versionKey, dateAdded, submissionId,
    accountId, ...(organisationId != null ? { organisationId } : {}), tlp, revoked: revoked === 1,
    findings: JSON.parse(findings), state, rev, ...(reason != null ? { reason } : {}),
    ...(requested != null ? { requestedChanges: JSON.parse(requested) } : {}), ...(supersededBy != null ? { supersededBy } : {}),
    approvals: JSON.parse(approvals), createdAt, updatedAt,
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
  if (filter.maxTlp !== undefined) {
    parts.push('tlp <= ?');
    params.push(filter.maxTlp);
  }
  const v = filter.versions;
  if (!v.all) {
    const alternatives: string[] = [];
    // Under a marking cap, first/last are the caller's: the masks hold them per cap (versionFlags).
    const capped = filter.maxTlp !== undefined && filter.maxTlp < TLP_RANK.red;
    if (v.last) alternatives.push(capped ? `(last_mask & ${1 << filter.maxTlp!}) != 0` : 'is_last = 1');
    if (v.first) alternatives.push(capped ? `(first_mask & ${1 << filter.maxTlp!}) != 0` : 'is_first = 1');
    if (v.keys.length > 0) {
      alternatives.push('version_key IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(v.keys));
    }
    // A single flag is written bare so the partial indexes objects_page_last / _first apply.
    parts.push(alternatives.length === 0 ? '0' : alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/** The SQL of one queue page (Store.queryQueue; the bench times the same). */
export function queueSql(q: QueueQuery): { sql: string; params: Record<string, unknown> } {
  // One intake or one state is an equality, so queue_by_intake_state / queue_by_intake give seq order without a sort.
  const parts = [q.intakeIds.length === 1 ? 'intake_id = @intakes' : 'intake_id IN (SELECT value FROM json_each(@intakes))'];
  const params: Record<string, unknown> = { intakes: q.intakeIds.length === 1 ? q.intakeIds[0] : JSON.stringify(q.intakeIds), limit: q.limit + 1 };
  const add = (sql: string, key: string, value: unknown) => {
    if (value === undefined) return;
    parts.push(sql);
    params[key] = value;
  };
  if (q.states?.length === 1) add('state = @states', 'states', q.states[0]);
  else add('state IN (SELECT value FROM json_each(@states))', 'states', q.states ? JSON.stringify(q.states) : undefined);
  add('organisation_id = @organisation', 'organisation', q.organisationId);
  add('submission_id = @submission', 'submission', q.submissionId);
  add('object_type IN (SELECT value FROM json_each(@types))', 'types', q.types ? JSON.stringify(q.types) : undefined);
  add('EXISTS (SELECT 1 FROM json_each(finding_codes) WHERE value = @code)', 'code', q.findingCode);
  add('tlp <= @maxTlp', 'maxTlp', q.maxTlp);
  add('created_at < @before', 'before', q.createdBefore);
  add('created_at > @after', 'after', q.createdAfter);
  add('object_id = @objectId', 'objectId', q.objectId);
  add('revoked = @revoked', 'revoked', q.revoked === undefined ? undefined : q.revoked ? 1 : 0);
  const desc = q.order === 'desc';
  add(desc ? 'seq < @afterSeq' : 'seq > @afterSeq', 'afterSeq', q.afterSeq);
  // One vendor in one state of one intake has its own index; left alone, the planner walks the
  // intake's state and reads every vendor's rows. The same indexes serve newest first, walked backwards.
  const table = q.intakeIds.length === 1 && q.organisationId !== undefined && q.states?.length === 1 ? 'queue INDEXED BY queue_by_intake_organisation_state' : 'queue';
  return { sql: `SELECT ${QUEUE_COLUMNS} FROM ${table} WHERE ${parts.join(' AND ')} ORDER BY seq${desc ? ' DESC' : ''} LIMIT @limit`, params };
}

/**
 * A large decision's publications by object id (then target and version): each of its transactions
 * then touches one stretch of the indexes keyed by object id (the publications key, and
 * objects_by_id of each target), not pages all over them, so a page is written once, not once per
 * transaction. Their date_added follow this order; versions of one object stay in version order.
 */
function inKeyOrder(publications: DecisionPlan['publications']): DecisionPlan['publications'] {
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return [...publications].sort((a, b) => order(a.object.id, b.object.id) || order(a.collectionId, b.collectionId) || order(a.object.versionKey ?? '', b.object.versionKey ?? ''));
}

type PackedObject = NewObject | (Omit<NewObject, 'json'> & { source: string });
/** [target collection, entry id, change type, provenance, object]: the last three as indexes into the lists beside. */
type PackedRow = [number, string | null, number, number, number];

/**
 * A large decision's publications as decision_plans keeps them: each object, target, change type
 * and provenance once (one version goes to several targets; the entries of one decision mostly
 * share their provenance), and an object copied from a collection (an intake) without its JSON,
 * which is read from there again if the plan is ever resumed: a plan of 30,000 publications is a
 * few hundred kB, not tens of MB.
 */
function packPublications(publications: DecisionPlan['publications']): string {
  const lists = { collections: [] as string[], changeTypes: [] as string[], provenances: [] as string[], objects: [] as PackedObject[] };
  const indexes = { collections: new Map<string, number>(), changeTypes: new Map<string, number>(), provenances: new Map<string, number>(), objects: new Map<NewObject, number>() };
  const serialised = new Map<Record<string, unknown>, string>();
  const indexOf = <K, V>(map: Map<K, number>, list: V[], key: K, value: () => V) => {
    let i = map.get(key);
    if (i === undefined) map.set(key, (i = list.push(value()) - 1));
    return i;
  };
  const rows = publications.map(({ collectionId, entryId, changeType, provenance, object, source }): PackedRow => {
    let json = serialised.get(provenance);
    if (json === undefined) serialised.set(provenance, (json = JSON.stringify(provenance)));
    return [
      indexOf(indexes.collections, lists.collections, collectionId, () => collectionId),
      entryId ?? null,
      indexOf(indexes.changeTypes, lists.changeTypes, changeType, () => changeType),
      indexOf(indexes.provenances, lists.provenances, json, () => json),
      indexOf(indexes.objects, lists.objects, object, () => {
        const { json: text, ...bare } = object;
        return source !== undefined && object.versionKey !== undefined ? { ...bare, source } : { ...bare, json: text };
      }),
    ];
  });
  return JSON.stringify({ v: 2, ...lists, rows });
}

/** The publications of a kept plan; `jsonOf` reads a referenced object's JSON (undefined: it is no longer there, and neither is its copy). */
function unpackPublications(text: string, jsonOf: (source: string, id: string, versionKey: string) => string | undefined): DecisionPlan['publications'] {
  type Publication = DecisionPlan['publications'][number];
  const packed = JSON.parse(text) as
    | Publication[] // written before objects were kept once
    | { objects: NewObject[]; publications: Array<Omit<Publication, 'object'> & { object: number }> } // before rows were packed
    | { v: 2; collections: string[]; changeTypes: Array<Publication['changeType']>; provenances: string[]; objects: PackedObject[]; rows: PackedRow[] };
  if (Array.isArray(packed)) return packed;
  if (!('v' in packed)) return packed.publications.map((p) => ({ ...p, object: packed.objects[p.object]! }));
  const objects = packed.objects.map((o): NewObject | undefined => {
    if (!('source' in o)) return o;
    const { source, ...bare } = o;
    const json = jsonOf(source, bare.id, bare.versionKey!);
    return json === undefined ? undefined : { ...bare, json };
  });
  const provenances = packed.provenances.map((p) => JSON.parse(p) as Record<string, unknown>);
  return packed.rows.flatMap(([c, entryId, t, p, o]) => {
    const object = objects[o];
    return object ? [{ collectionId: packed.collections[c]!, ...(entryId !== null ? { entryId } : {}), changeType: packed.changeTypes[t]!, provenance: provenances[p]!, object }] : [];
  });
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly checkpointer: Checkpointer | undefined;
  private readonly decisionWriter: DecisionWriter | undefined;
  /** Set by close(): a large decision stops between two of its transactions (rolled forward at the next start). */
  private closing = false;
  readonly webhooks: SqliteWebhooks;
  /** How a thread opens its own connection to this database (undefined in memory, which a thread cannot share). */
  readonly companion: { location: string; checkpoints: 'backstop' | 'inline' } | undefined;

  constructor(options: SqliteStoreOptions) {
    let file = options.location;
    if (file !== ':memory:') {
      mkdirSync(file, { recursive: true });
      file = path.join(file, 'meridian.sqlite');
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: commits survive a crash of the process; the commits a 202 stands on are
    // forced to disk (durably: a retained submission body, a completed submission), and the WAL is
    // replayed in order, so a power cut never keeps a later commit without the earlier ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // A big envelope can grow the WAL to hundreds of MB; once checkpointed and restarted, it is cut
    // back to this instead of keeping its largest size on disk.
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.db.pragma('foreign_keys = ON');
    // Brought to the current schema (a file from a newer Meridian is refused: SchemaTooNewError).
    try {
      for (const step of migrateSqlite(this.db, options.migrations)) options.log?.('info', `schema migration ${step.version} applied: ${step.description}`, { schemaVersion: step.version });
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.webhooks = new SqliteWebhooks(this.db);
    // Another thread checkpoints the WAL in the background: a companion's commits need only the backstop.
    this.companion = file === ':memory:' ? undefined : { location: options.location, checkpoints: options.checkpoints === 'background' ? 'backstop' : 'inline' };
    if (this.companion && options.decisions !== 'inline') this.decisionWriter = new DecisionWriter(this.companion.location, this.companion.checkpoints);
    if (options.checkpoints === 'backstop') this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    if (options.checkpoints === 'background' && file !== ':memory:') {
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      this.checkpointer = new Checkpointer(file, BACKGROUND_CHECKPOINT_MS, options.checkpointNice ?? 0, (message) =>
        message === undefined
          ? options.log?.('info', 'background WAL checkpoints work again')
          : options.log?.('warn', 'background WAL checkpoints fail; commits checkpoint past the backstop', { error: message }));
    }
  }

  /** Prepared once per SQL text and reused (the filter builder yields a bounded set of shapes). */
  private stmt(sql: string): Statement {
    return this.prepared(sql, false) as Statement;
  }

  /** Like stmt, but rows come as arrays (no object per row: a third faster on a page of 100). */
  private rawStmt(sql: string): Database.Statement<unknown[], unknown[]> {
    return this.prepared(sql, true) as Database.Statement<unknown[], unknown[]>;
  }

  private prepared(sql: string, raw: boolean): Database.Statement {
    const key = raw ? `raw:${sql}` : sql;
    let s = this.statements.get(key);
    if (!s) {
      s = this.db.prepare(sql);
      if (raw) s.raw(true);
      this.statements.set(key, s);
    }
    return s;
  }

  /**
   * Runs `write`, made on another connection to this file that checkpoints what it writes itself
   * (the decision thread, at its lower priority), with this store's background checkpoints held
   * meanwhile: that work then takes the CPU the writer's thread gets, not the readers'.
   */
  async checkpointsHeldDuring<T>(write: () => Promise<T>): Promise<T> {
    const release = this.checkpointer?.hold();
    try {
      return await write();
    } finally {
      release?.();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.decisionWriter?.close();
    await this.checkpointer?.close();
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

  // ---- organisations ------------------------------------------------------------------------

  async createOrganisation(org: Omit<OrganisationRecord, 'createdAt'>): Promise<OrganisationRecord> {
    const createdAt = Date.now() * 1000;
    try {
      this.stmt('INSERT INTO organisations (id, name, kind, country, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(org.id, org.name, org.kind, org.country ?? null, org.disabled ? 1 : 0, createdAt);
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`organisation "${org.name}" already exists`);
      throw err;
    }
    return { ...org, createdAt };
  }

  async getOrganisation(id: string): Promise<OrganisationRecord | undefined> {
    const r = this.stmt('SELECT * FROM organisations WHERE id = ?').get(id);
    return r ? toOrganisation(r) : undefined;
  }

  async getOrganisationByName(name: string): Promise<OrganisationRecord | undefined> {
    const r = this.stmt('SELECT * FROM organisations WHERE name = ?').get(name);
    return r ? toOrganisation(r) : undefined;
  }

  async listOrganisations(): Promise<OrganisationRecord[]> {
    return this.stmt('SELECT * FROM organisations ORDER BY name').all().map(toOrganisation);
  }

  async updateOrganisation(id: string, changes: Partial<Pick<OrganisationRecord, 'disabled' | 'country'>>): Promise<OrganisationRecord | undefined> {
    const current = await this.getOrganisation(id);
    if (!current) return undefined;
    const next = { ...current, ...changes };
    this.db.transaction(() => {
      this.stmt('UPDATE organisations SET disabled = ?, country = ? WHERE id = ?').run(next.disabled ? 1 : 0, next.country ?? null, id);
      // What members may do changed: drop their cached verifications and tokens.
      this.stmt('UPDATE accounts SET credential_version = credential_version + 1 WHERE organisation_id = ?').run(id);
    }).immediate();
    return next;
  }

  async deleteOrganisation(id: string): Promise<boolean> {
    if (this.stmt('SELECT 1 FROM accounts WHERE organisation_id = ? LIMIT 1').get(id)) {
      throw new StoreConflictError('the organisation still has accounts');
    }
    return this.stmt('DELETE FROM organisations WHERE id = ?').run(id).changes > 0;
  }

  // ---- API roots ----------------------------------------------------------------------------

  async createApiRoot(root: Omit<ApiRootRecord, 'createdAt'>): Promise<ApiRootRecord> {
    const createdAt = Date.now() * 1000;
    try {
      this.stmt('INSERT INTO api_roots (path, country, title, description, max_content_length, taxii20, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(root.path, root.country ?? null, root.title, root.description ?? null, root.maxContentLength, root.taxii20 ? 1 : 0, createdAt);
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
    this.stmt('UPDATE api_roots SET country = ?, title = ?, description = ?, max_content_length = ?, taxii20 = ? WHERE path = ?')
      .run(next.country ?? null, next.title, next.description ?? null, next.maxContentLength, next.taxii20 ? 1 : 0, rootPath);
    return toApiRoot(this.stmt('SELECT * FROM api_roots WHERE path = ?').get(rootPath)!);
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
      this.stmt('INSERT INTO collections (id, api_root, title, description, alias, purpose, media_types, enrichment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.id, c.apiRoot, c.title, c.description ?? null, c.alias ?? null, c.purpose, JSON.stringify(c.mediaTypes), c.enrichment ? JSON.stringify(c.enrichment) : null, createdAt);
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

  async updateCollection(id: string, changes: Partial<Pick<CollectionRecord, 'title' | 'description' | 'purpose' | 'enrichment'>>): Promise<CollectionRecord | undefined> {
    const r = this.stmt('SELECT * FROM collections WHERE id = ?').get(id);
    if (!r) return undefined;
    const next = { ...toCollection(r), ...changes };
    this.stmt('UPDATE collections SET title = ?, description = ?, purpose = ?, enrichment = ? WHERE id = ?')
      .run(next.title, next.description ?? null, next.purpose, next.enrichment ? JSON.stringify(next.enrichment) : null, id);
    return next;
  }

  async deleteCollection(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const c = this.stmt('SELECT pk FROM collections WHERE id = ?').get(id);
      if (!c) return false;
      this.stmt('DELETE FROM objects WHERE coll = ?').run(c.pk);
      this.stmt('DELETE FROM changes WHERE coll = ?').run(c.pk);
      this.stmt('DELETE FROM publications WHERE collection_id = ?').run(id);
      this.stmt('DELETE FROM queue WHERE intake_id = ?').run(id);
      this.stmt('DELETE FROM desk_rules WHERE collection_id = ?').run(id);
      this.stmt('DELETE FROM grants WHERE collection_id = ?').run(id);
      this.stmt('DELETE FROM collections WHERE pk = ?').run(c.pk);
      return true;
    }).immediate();
  }

  // ---- accounts and grants ------------------------------------------------------------------

  async createAccount(a: Omit<AccountRecord, 'createdAt' | 'credentialVersion'>): Promise<AccountRecord> {
    const createdAt = Date.now() * 1000;
    try {
      this.stmt('INSERT INTO accounts (id, name, organisation_id, password_hash, roles, curator_roots, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(a.id, a.name, a.organisationId ?? null, a.passwordHash, JSON.stringify(a.roles), JSON.stringify(a.curatorRoots), a.disabled ? 1 : 0, createdAt);
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

  async updateAccount(id: string, changes: Partial<Pick<AccountRecord, 'passwordHash' | 'roles' | 'disabled' | 'curatorRoots' | 'organisationId'>>): Promise<AccountRecord | undefined> {
    const current = await this.getAccount(id);
    if (!current) return undefined;
    const next = { ...current, ...changes, credentialVersion: current.credentialVersion + 1 };
    this.stmt('UPDATE accounts SET organisation_id = ?, password_hash = ?, roles = ?, curator_roots = ?, disabled = ?, credential_version = credential_version + 1 WHERE id = ?')
      .run(next.organisationId ?? null, next.passwordHash, JSON.stringify(next.roles), JSON.stringify(next.curatorRoots), next.disabled ? 1 : 0, id);
    return next;
  }

  async deleteAccount(id: string): Promise<boolean> {
    return this.stmt('DELETE FROM accounts WHERE id = ?').run(id).changes > 0;
  }

  async putGrant(g: Omit<GrantRecord, 'id' | 'createdAt'>): Promise<GrantRecord | undefined> {
    const subject = grantSubject(g);
    return this.db.transaction(() => {
      const existing = this.stmt('SELECT * FROM grants WHERE collection_id = ? AND subject = ?').get(g.collectionId, subject);
      let result: GrantRecord | undefined;
      if (!g.canRead && !g.canWrite) {
        if (existing) this.stmt('DELETE FROM grants WHERE id = ?').run(existing.id);
      } else if (existing) {
        this.stmt('UPDATE grants SET can_read = ?, can_write = ?, max_tlp = ? WHERE id = ?').run(g.canRead ? 1 : 0, g.canWrite ? 1 : 0, g.maxTlp, existing.id);
        result = { ...toGrant(existing), canRead: g.canRead, canWrite: g.canWrite, maxTlp: g.maxTlp };
      } else {
        result = { ...g, id: randomUUID(), createdAt: Date.now() * 1000 };
        this.stmt(`INSERT INTO grants (id, collection_id, account_id, organisation_id, role, can_read, can_write, max_tlp, created_at, subject)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(result.id, g.collectionId, g.accountId ?? null, g.organisationId ?? null, g.role ?? null, g.canRead ? 1 : 0, g.canWrite ? 1 : 0, g.maxTlp, result.createdAt, subject);
      }
      this.touchGrantSubject(g);
      return result;
    }).immediate();
  }

  /** Grants are part of what an authenticated caller may do: drop cached verifications. */
  private touchGrantSubject(g: { accountId?: string; organisationId?: string }): void {
    if (g.accountId) this.stmt('UPDATE accounts SET credential_version = credential_version + 1 WHERE id = ?').run(g.accountId);
    if (g.organisationId) this.stmt('UPDATE accounts SET credential_version = credential_version + 1 WHERE organisation_id = ?').run(g.organisationId);
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    const r = this.stmt('SELECT * FROM grants WHERE id = ?').get(id);
    return r ? toGrant(r) : undefined;
  }

  async deleteGrant(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.stmt('SELECT * FROM grants WHERE id = ?').get(id);
      if (!r) return false;
      this.stmt('DELETE FROM grants WHERE id = ?').run(id);
      this.touchGrantSubject(toGrant(r));
      return true;
    }).immediate();
  }

  async listGrants(filter: { collectionId?: string; accountId?: string; organisationId?: string }): Promise<GrantRecord[]> {
    return this.stmt(`SELECT * FROM grants WHERE (@collection IS NULL OR collection_id = @collection)
        AND (@account IS NULL OR account_id = @account) AND (@organisation IS NULL OR organisation_id = @organisation)
        ORDER BY created_at, id`)
      .all({ collection: filter.collectionId ?? null, account: filter.accountId ?? null, organisation: filter.organisationId ?? null })
      .map(toGrant);
  }

  async grantsForAccount(account: Pick<AccountRecord, 'id' | 'organisationId' | 'roles'>): Promise<GrantRecord[]> {
    // grants_by_account, grants_by_organisation
    return this.stmt(`SELECT * FROM grants WHERE account_id = @account
        OR (organisation_id = @organisation AND (role IS NULL OR role IN (SELECT value FROM json_each(@roles))))`)
      .all({ account: account.id, organisation: account.organisationId ?? null, roles: JSON.stringify(account.roles) })
      .map(toGrant);
  }

  // ---- API keys -----------------------------------------------------------------------------

  async createApiKey(k: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKeyRecord> {
    try {
      this.stmt('INSERT INTO api_keys (id, account_id, name, prefix, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(k.id, k.accountId, k.name, k.prefix, k.hash, k.createdAt, k.expiresAt ?? null);
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('an API key with this prefix already exists');
      throw err;
    }
    return { ...k };
  }

  async getApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined> {
    const r = this.stmt('SELECT * FROM api_keys WHERE prefix = ?').get(prefix);
    return r ? toApiKey(r) : undefined;
  }

  async listApiKeys(accountId?: string): Promise<ApiKeyRecord[]> {
    return this.stmt('SELECT * FROM api_keys WHERE @account IS NULL OR account_id = @account ORDER BY created_at, id').all({ account: accountId ?? null }).map(toApiKey);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return this.stmt('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    this.stmt('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  // ---- audit --------------------------------------------------------------------------------

  async appendAudit(e: Omit<AuditEvent, 'seq'>): Promise<AuditEvent> {
    const seq = this.stmt('INSERT INTO audit (at, actor, action, outcome, target, remote, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.at, e.actor ?? null, e.action, e.outcome, e.target ?? null, e.remote ?? null, e.detail ? JSON.stringify(e.detail) : null).lastInsertRowid;
    return { ...e, seq: Number(seq) };
  }

  async queryAudit(q: AuditQuery): Promise<AuditEvent[]> {
    const { sql, params } = auditWhere(q);
    return this.stmt(`SELECT * FROM audit${sql} ORDER BY seq LIMIT @limit`).all({ ...params, limit: q.limit }).map(toAudit);
  }

  async countAudit(q: Omit<AuditQuery, 'limit' | 'afterSeq'>): Promise<number> {
    const { sql, params } = auditWhere(q);
    return this.stmt(`SELECT count(*) AS n FROM audit${sql}`).get(params)!.n as number;
  }

  // ---- objects ------------------------------------------------------------------------------

  private collectionPk(collectionId: string): number | undefined {
    return this.stmt('SELECT pk FROM collections WHERE id = ?').get(collectionId)?.pk;
  }

  private async page<T>(collectionId: string, columns: string, query: ObjectQuery, map: (r: unknown[]) => T): Promise<Page<T>> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) return { items: [], more: false };
    const { sql, params } = filterSql(query);
    // match[id] (and the object and versions endpoints) select a few versions: look them up by id.
    // Left alone, the planner walks the date_added index of the whole collection to avoid a sort.
    const table = query.ids ? 'objects INDEXED BY objects_by_id' : 'objects';
    const page = await scanLimitedPage(
      query,
      // A walk of objects_page alone.
      (n) => {
        const window = this.stmt('SELECT date_added FROM objects WHERE coll = ? AND date_added > ? ORDER BY date_added LIMIT 2 OFFSET ?').all(pk, query.addedAfter ?? -1, n - 1);
        return window.length === 2 ? (window[0]!.date_added as number) : undefined;
      },
      (ceiling) =>
        this.rawStmt(`SELECT ${columns} FROM ${table} WHERE coll = ?${sql}${ceiling === undefined ? '' : ' AND date_added <= ?'} ORDER BY date_added LIMIT ?`).all(pk, ...params, ...(ceiling === undefined ? [] : [ceiling]), query.limit + 1),
    );
    return { ...page, items: page.items.map(map) };
  }

  async queryObjects(collectionId: string, query: ObjectQuery): Promise<Page<StoredObject>> {
    return this.page(collectionId, `${MANIFEST_COLUMNS}, json`, query, (r) => {
      const o = toManifest(r) as StoredObject;
      o.json = r[6] as string;
      return o;
    });
  }

  async queryManifest(collectionId: string, query: ObjectQuery): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, MANIFEST_COLUMNS, query, toManifest);
  }

  async queryVersions(collectionId: string, objectId: string, query: Omit<ObjectQuery, 'ids' | 'types' | 'versions'>): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, MANIFEST_COLUMNS, { ...query, ids: [objectId], versions: { all: true } }, toManifest);
  }

  async hasObject(collectionId: string, objectId: string, maxTlp = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    const pk = this.collectionPk(collectionId);
    return pk !== undefined && this.stmt('SELECT 1 FROM objects WHERE coll = ? AND id = ? AND tlp <= ? LIMIT 1').get(pk, objectId, maxTlp) !== undefined;
  }

  async countObjects(collectionId: string): Promise<number> {
    const pk = this.collectionPk(collectionId);
    return pk === undefined ? 0 : (this.stmt('SELECT count(*) AS n FROM objects WHERE coll = ?').get(pk)!.n as number);
  }

  async importObjects(collectionId: string, objects: ImportedObject[]): Promise<void> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) throw new Error(`collection ${collectionId} does not exist`);
    this.db.transaction(() => {
      // A version already there (objects_by_id) or a date_added taken (objects_page) is left as it is: a resumed import repeats nothing.
      const insert = this.stmt(`INSERT OR IGNORE INTO objects (coll, date_added, id, type, version, version_key, spec_version, media_type, is_first, is_last, is_latest_spec, tlp, submission_id, warnings, json)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?)`);
      for (const o of objects) insert.run(pk, o.dateAdded, o.id, o.type, o.version ?? null, o.versionKey, o.specVersion, o.mediaType, o.tlp, o.submissionId ?? null, o.warnings ?? null, o.json);
      for (const id of new Set(objects.map((o) => o.id))) this.refreshFlags(pk, id);
      if (objects.length > 0) this.stmt('UPDATE collections SET last_date_added = max(last_date_added, ?) WHERE pk = ?').run(Math.max(...objects.map((o) => o.dateAdded)), pk);
    }).immediate();
  }

  /** Recomputes the version flags of one object after its versions changed (versionFlags). */
  private refreshFlags(pk: number, objectId: string): void {
    const rows = this.stmt('SELECT pk, version_key, tlp, spec_version, is_first, is_last, is_latest_spec, first_mask, last_mask FROM objects WHERE coll = ? AND id = ?').all(pk, objectId);
    const flags = versionFlags(rows.map((r) => ({ versionKey: r.version_key, tlp: r.tlp, specVersion: r.spec_version })));
    const update = this.stmt('UPDATE objects SET is_first = ?, is_last = ?, is_latest_spec = ?, first_mask = ?, last_mask = ? WHERE pk = ?');
    rows.forEach((r, i) => {
      const f = flags[i]!;
      const next = [f.isFirst ? 1 : 0, f.isLast ? 1 : 0, f.isLatestSpec ? 1 : 0, f.firstMask, f.lastMask];
      const now = [r.is_first, r.is_last, r.is_latest_spec, r.first_mask, r.last_mask];
      if (next.some((x, k) => x !== now[k])) update.run(...next, r.pk);
    });
  }

  async deleteObject(collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'versions' | 'specVersions' | 'maxTlp'>, actor: { kind: ChangeRecord['actorKind'] } = { kind: 'desk' }): Promise<number> {
    const c = this.stmt('SELECT pk, purpose FROM collections WHERE id = ?').get(collectionId);
    if (!c) return 0;
    const pk = c.pk as number;
    const { sql, params } = filterSql({ ...filter, ids: [objectId] });
    return this.db.transaction(() => {
      // The newest version about to go is the withdrawal's last version (published collections log it).
      const last = c.purpose === 'published' ? this.stmt(`SELECT version, type, tlp FROM objects WHERE coll = ?${sql} ORDER BY version_key DESC LIMIT 1`).get(pk, ...params) : undefined;
      const deleted = this.stmt(`DELETE FROM objects WHERE coll = ?${sql}`).run(pk, ...params).changes;
      if (deleted > 0) this.refreshFlags(pk, objectId);
      if (deleted > 0 && last) {
        const marks = new Map<number, number>();
        const version = (last.version as string | null) ?? undefined;
        this.appendChange(pk, this.ticker(marks)(pk), { type: 'object.withdrawn', objectType: last.type, objectId, version, actorKind: actor.kind, reason: 'deleted', lastVersion: version, tlp: last.tlp });
        for (const [k, v] of marks) this.stmt('UPDATE collections SET last_date_added = max(last_date_added, ?) WHERE pk = ?').run(v, k);
      }
      return deleted;
    }).immediate();
  }

  /** Stores one object, or finds its exact duplicate; returns the outcome for the status resource. */
  private storeObject(pk: number, next: () => number, o: NewObject, submissionId: string): StoreOutcome {
    // One look at the object's versions (objects_by_id; usually none) answers both questions:
    // is this version already stored, and is it the object's only version?
    const versions = this.stmt('SELECT version, version_key, json, date_added FROM objects WHERE coll = ? AND id = ?').all(pk, o.id);
    const existing = versions.find((v) => (o.versionKey !== undefined ? v.version_key === o.versionKey : v.version === null));
    if (existing) {
      // §5.5: an exact duplicate is not an error; the same version with other content is refused.
      return existing.json === o.json
        ? { dateAdded: existing.date_added }
        : { failure: 'a different object with this id and version is already in the collection' };
    }
    const dateAdded = next();
    const versionKey = o.versionKey ?? versionKeyFromMicros(dateAdded);
    const alone = versions.length === 0;
    const [f] = versionFlags([{ versionKey, tlp: o.tlp, specVersion: o.specVersion }]);
    this.stmt(`INSERT INTO objects (coll, date_added, id, type, version, version_key, spec_version, media_type, is_first, is_last, is_latest_spec, tlp, first_mask, last_mask, submission_id, warnings, json)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(pk, dateAdded, o.id, o.type, o.version ?? null, versionKey, o.specVersion, o.mediaType, 1, 1, 1, o.tlp, f!.firstMask, f!.lastMask, submissionId, o.warnings ?? null, o.json);
    if (!alone) this.refreshFlags(pk, o.id);
    return { dateAdded, fresh: { first: alone } };
  }

  // ---- submissions --------------------------------------------------------------------------

  /** Runs a write with synchronous=FULL: its commit (and every earlier one) is on disk when it returns. */
  private durably<T>(write: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return write();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  async createSubmission(s: NewSubmission): Promise<void> {
    const write = () =>
      this.db.transaction(() => {
        this.stmt(`INSERT INTO submissions (id, api_root, collection_id, account_id, request_timestamp, status, total_count, pending_count)
                   VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`)
          .run(s.id, s.apiRoot, s.collectionId, s.accountId, s.requestTimestamp, s.totalCount, s.totalCount);
        if (s.body) this.stmt('INSERT INTO submission_bodies (submission_id, body) VALUES (?, ?)').run(s.id, s.body);
      }).immediate();
    // A retained body is the promise of a 202 sent before processing (TAXII 2.1 §5.5): on disk first.
    if (s.body) this.durably(write);
    else write();
  }

  async ingest(submissionId: string, items: IngestItem[]): Promise<void> {
    this.db.transaction(() => {
      const sub = this.stmt('SELECT s.collection_id, s.account_id, a.organisation_id, a.roles FROM submissions s LEFT JOIN accounts a ON a.id = s.account_id WHERE s.id = ?').get(submissionId);
      if (!sub) throw new Error(`unknown submission ${submissionId}`);
      const pk = this.collectionPk(sub.collection_id);
      const c = pk === undefined ? undefined : this.stmt('SELECT last_date_added, api_root, purpose FROM collections WHERE pk = ?').get(pk);
      const intake = c?.purpose === 'intake' ? { id: sub.collection_id as string, apiRoot: c.api_root as string, accountId: sub.account_id as string, organisationId: sub.organisation_id as string | null } : undefined;
      let last = Math.max(c?.last_date_added ?? 0, Math.floor((performance.timeOrigin + performance.now()) * 1000) - 1);
      const next = () => ++last;
      // A direct write to a published collection is logged (ChangeRecord) right after each version it
      // stores, from the same date_added sequence, in this transaction.
      const actorKind = c?.purpose === 'published' ? writerKind(sub.roles ? (JSON.parse(sub.roles) as Role[]) : []) : undefined;
      const store = (p: number, o: NewObject): StoreOutcome => {
        const stored = this.storeObject(p, next, o, submissionId);
        if (actorKind && stored.fresh) {
          this.appendChange(p, next(), { type: ingestChangeType(o, stored.fresh.first), objectType: o.type, objectId: o.id, version: o.version, actorKind, tlp: o.tlp });
        }
        return stored;
      };
      const setItem = this.stmt(`INSERT INTO submission_items (submission_id, idx, object_id, version, outcome, message, date_added)
                                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (submission_id, idx) DO NOTHING`);
      let successes = 0;
      let failures = 0;
      for (const item of items) {
        let outcome: StoreOutcome;
        if ('failure' in item) outcome = { failure: item.failure };
        else if (pk === undefined) outcome = { failure: 'the collection no longer exists' };
        else {
          const rejected = intake && item.object.versionKey !== undefined ? this.rejectedEntry(item.object.id, item.object.versionKey) : undefined;
          if (rejected) outcome = { failure: rejectedFailure(rejected) };
          else {
            outcome = store(pk, item.object);
            if (intake && outcome.dateAdded !== undefined) this.enqueue(intake, item.object, outcome.dateAdded, submissionId);
            // Derived SCOs have deterministic ids: one already stored is the same observable.
            if (!outcome.failure) {
              for (const d of item.derived ?? []) {
                const stored = store(pk, d);
                if (intake && stored.dateAdded !== undefined) this.enqueue(intake, d, stored.dateAdded, submissionId);
              }
            }
          }
        }
        const changed = setItem.run(submissionId, item.index, item.id, item.version, outcome.failure ? 'failure' : 'success', outcome.failure ?? null, outcome.dateAdded ?? null).changes;
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
    this.durably(() => this.db.transaction(() => {
      this.stmt("UPDATE submissions SET status = 'complete', completed_at = ? WHERE id = ?").run(Date.now() * 1000, submissionId);
      this.stmt('DELETE FROM submission_bodies WHERE submission_id = ?').run(submissionId);
    }).immediate());
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
    return this.stmt("SELECT * FROM submissions WHERE status = 'pending' ORDER BY request_timestamp").all().map((r) => {
      const done = new Set(this.stmt('SELECT idx FROM submission_items WHERE submission_id = ?').all(r.id).map((i) => i.idx as number));
      return {
        ...toSubmission(r),
        body: (this.stmt('SELECT body FROM submission_bodies WHERE submission_id = ?').get(r.id)?.body ?? Buffer.alloc(0)) as Buffer,
        pendingIndexes: Array.from({ length: r.total_count as number }, (_, i) => i).filter((i) => !done.has(i)),
      };
    });
  }

  async purgeSubmissions(completedBefore: number): Promise<number> {
    return this.db.transaction(() => {
      this.stmt("DELETE FROM submission_items WHERE submission_id IN (SELECT id FROM submissions WHERE status = 'complete' AND completed_at < ?)").run(completedBefore);
      return this.stmt("DELETE FROM submissions WHERE status = 'complete' AND completed_at < ?").run(completedBefore).changes;
    }).immediate();
  }

  // ---- the desk -----------------------------------------------------------------------------

  private rejectedEntry(objectId: string, versionKey: string): QueueEntry | undefined {
    const r = this.rawStmt(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE object_id = ? AND version_key = ? AND state = 'rejected' ORDER BY seq DESC LIMIT 1`).get(objectId, versionKey);
    return r ? toQueueEntry(r) : undefined;
  }

  /** The queue entry of an object stored in an intake (once), superseding older undecided versions. */
  private enqueue(intake: { id: string; apiRoot: string; accountId: string; organisationId: string | null }, o: NewObject, dateAdded: number, submissionId: string): void {
    const versionKey = o.versionKey ?? versionKeyFromMicros(dateAdded);
    const facts = intakeFacts(o);
    const now = Date.now() * 1000;
    const id = randomUUID();
    const inserted = this.stmt(`INSERT INTO queue (id, intake_id, api_root, object_id, object_type, version, version_key, date_added, submission_id, account_id, organisation_id,
                                  tlp, revoked, findings, finding_codes, state, created_at, updated_at)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (intake_id, object_id, version_key) DO NOTHING`)
      .run(id, intake.id, intake.apiRoot, o.id, o.type, o.version ?? null, versionKey, dateAdded, submissionId, intake.accountId, intake.organisationId, o.tlp, facts.revoked ? 1 : 0,
        JSON.stringify(facts.findings), JSON.stringify(facts.codes), now, now).changes;
    if (inserted === 0) return;
    this.stmt(`UPDATE queue SET state = 'superseded', superseded_by = ?, rev = rev + 1, updated_at = ?
               WHERE object_id = ? AND intake_id = ? AND version_key < ? AND state IN ('pending', 'changes_requested')`)
      .run(id, now, o.id, intake.id, versionKey);
  }

  async getDeskRules(collectionId: string): Promise<DeskRules> {
    const r = this.stmt('SELECT policy, release FROM desk_rules WHERE collection_id = ?').get(collectionId);
    return { ...(r?.policy ? { policy: JSON.parse(r.policy) } : {}), ...(r?.release ? { release: JSON.parse(r.release) } : {}) };
  }

  async putDeskRules(collectionId: string, rules: DeskRules): Promise<void> {
    if (!this.stmt('SELECT 1 FROM collections WHERE id = ?').get(collectionId)) throw new StoreConflictError(`collection ${collectionId} does not exist`);
    if (!rules.policy && !rules.release) {
      this.stmt('DELETE FROM desk_rules WHERE collection_id = ?').run(collectionId);
      return;
    }
    this.stmt('INSERT INTO desk_rules (collection_id, policy, release) VALUES (?, ?, ?) ON CONFLICT (collection_id) DO UPDATE SET policy = excluded.policy, release = excluded.release')
      .run(collectionId, rules.policy ? JSON.stringify(rules.policy) : null, rules.release ? JSON.stringify(rules.release) : null);
  }

  async queryQueue(q: QueueQuery): Promise<Page<QueueEntry>> {
    if (q.intakeIds.length === 0) return { items: [], more: false };
    const { sql, params } = queueSql(q);
    const rows = this.rawStmt(sql).all(params);
    const more = rows.length > q.limit;
    return { items: (more ? rows.slice(0, q.limit) : rows).map(toQueueEntry), more };
  }

  async getQueueEntries(ids: string[]): Promise<QueueEntry[]> {
    return this.rawStmt(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq`).all(JSON.stringify(ids)).map(toQueueEntry);
  }

  async rejectionOf(objectId: string, versionKey: string): Promise<QueueEntry | undefined> {
    return this.rejectedEntry(objectId, versionKey);
  }

  async applyDecision(plan: DecisionPlan): Promise<DecisionOutcome> {
    // A large decision is applied as a short transaction (entries, withdrawals, the decision with
    // its publications to come) and then its publications in chunks, by the worker thread when
    // there is one; resumeDecisions rolls an interrupted one forward. A small one is a single transaction.
    const chunked = plan.publications.length > DECISION_CHUNK;
    if (chunked && this.decisionWriter) return this.decisionWriter.apply(plan);
    const later = chunked ? inKeyOrder(plan.publications) : [];
    const first = this.db.transaction(() => {
      const marks = new Map<number, number>();
      const tick = this.ticker(marks);
      const updateEntry = this.stmt(`UPDATE queue SET state = coalesce(@state, state), reason = coalesce(@reason, reason), requested_changes = coalesce(@requested, requested_changes),
                                       approvals = @approvals, rev = rev + 1, updated_at = @at WHERE id = @id AND rev = @rev`);
      // Most entries record no approval (their targets publish at once): those need no read first,
      // and are updated by one statement (the rev of each checked by its join condition).
      const plain = plan.entries.filter((e) => !e.approvals?.length);
      if (plain.length > 0) {
        const rows = JSON.stringify(plain.map((e) => [e.entryId, e.rev, e.state ?? null, e.reason ?? null, e.requestedChanges ? JSON.stringify(e.requestedChanges) : null]));
        const changed = this.stmt(`UPDATE queue SET state = coalesce(e.value ->> 2, state), reason = coalesce(e.value ->> 3, reason), requested_changes = coalesce(e.value ->> 4, requested_changes),
                                     rev = rev + 1, updated_at = @at FROM json_each(@rows) AS e WHERE queue.id = e.value ->> 0 AND queue.rev = e.value ->> 1`).run({ rows, at: plan.at }).changes;
        if (changed !== plain.length) {
          // The first entry this statement did not update (rolled back with the rest when thrown).
          const stale = this.stmt(`SELECT e.value ->> 0 AS id FROM json_each(@rows) AS e LEFT JOIN queue q ON q.id = e.value ->> 0
                                   WHERE q.id IS NULL OR NOT (q.rev = (e.value ->> 1) + 1 AND q.updated_at = @at) ORDER BY e.key LIMIT 1`).get({ rows, at: plan.at });
          throw new StaleDecisionError((stale?.id as string | undefined) ?? plain[0]!.entryId);
        }
      }
      for (const e of plan.entries) {
        if (!e.approvals?.length) continue;
        const row = this.stmt('SELECT approvals, organisation_id FROM queue WHERE id = ?').get(e.entryId);
        const approvals = JSON.parse((row?.approvals as string | undefined) ?? '[]') as QueueEntry['approvals'];
        // Policy decisions have no account: they approve as their actor name, once like anyone.
        const approver = plan.accountId ?? plan.actorName;
        for (const targetId of e.approvals ?? []) {
          if (!approvals.some((a) => a.targetId === targetId && a.accountId === approver)) {
            approvals.push({ targetId, accountId: approver, ...(plan.organisationId ? { organisationId: plan.organisationId } : {}), at: plan.at });
          }
        }
        const changed = row === undefined ? 0 : updateEntry.run({
          id: e.entryId, rev: e.rev, at: plan.at, state: e.state ?? null, reason: e.reason ?? null,
          requested: e.requestedChanges ? JSON.stringify(e.requestedChanges) : null, approvals: JSON.stringify(approvals),
        }).changes;
        if (changed === 0) throw new StaleDecisionError(e.entryId);
      }
      const published = chunked ? 0 : this.publish(plan.publications, 0, plan.id, plan.actorKind, plan.at, tick, new Map()).published;
      let withdrawn = 0;
      for (const w of plan.withdrawals) {
        const pk = this.collectionPk(w.collectionId);
        if (pk === undefined) continue;
        const versions = this.stmt('SELECT version, version_key, type, tlp FROM objects WHERE coll = ? AND id = ? ORDER BY version_key').all(pk, w.objectId);
        if (versions.length === 0) continue;
        const last = versions[versions.length - 1]!;
        withdrawn += this.stmt('DELETE FROM objects WHERE coll = ? AND id = ?').run(pk, w.objectId).changes;
        this.stmt('UPDATE publications SET withdrawn_at = ? WHERE collection_id = ? AND object_id = ? AND withdrawn_at IS NULL').run(plan.at, w.collectionId, w.objectId);
        this.stmt('INSERT INTO withdrawals (id, collection_id, object_id, last_version, reason_code, reason, decision_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(randomUUID(), w.collectionId, w.objectId, last.version ?? null, w.reasonCode, w.reason, plan.id, plan.at);
        this.appendChange(pk, tick(pk), {
          type: 'object.withdrawn', objectType: last.type, objectId: w.objectId, version: last.version ?? undefined, actorKind: plan.actorKind,
          reason: `${w.reasonCode}: ${w.reason}`, lastVersion: last.version ?? undefined, tlp: last.tlp,
        });
      }
      for (const [pk, last] of marks) this.stmt('UPDATE collections SET last_date_added = max(last_date_added, ?) WHERE pk = ?').run(last, pk);
      this.stmt('INSERT INTO decisions (id, kind, actor_kind, account_id, actor_name, at, entries, publications, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(plan.id, plan.kind, plan.actorKind, plan.accountId ?? null, plan.actorName, plan.at, plan.entries.length, published, chunked ? 'applying' : 'applied');
      if (chunked) this.stmt('INSERT INTO decision_plans (decision_id, plan) VALUES (?, ?)').run(plan.id, packPublications(later));
      const a = plan.audit;
      const counts = chunked ? { planned: plan.publications.length } : { published };
      this.stmt('INSERT INTO audit (at, actor, action, outcome, target, remote, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(a.at, a.actor ?? null, a.action, a.outcome, a.target ?? null, a.remote ?? null, JSON.stringify({ ...a.detail, decision: plan.id, ...counts, withdrawn }));
      return { published, withdrawn };
    }).immediate();
    if (!chunked) return first;
    return { published: await this.finishDecision(plan.id, later, plan.actorKind, plan.at), withdrawn: first.withdrawn };
  }

  /** Next date_added of a collection within one transaction: its high-water mark, written back by the caller from `marks`. */
  private ticker(marks: Map<number, number>): (pk: number) => number {
    return (pk) => {
      let last = marks.get(pk);
      if (last === undefined) last = Math.max(this.stmt('SELECT last_date_added FROM collections WHERE pk = ?').get(pk)!.last_date_added as number, Math.floor((performance.timeOrigin + performance.now()) * 1000) - 1);
      marks.set(pk, ++last);
      return last;
    };
  }

  /**
   * Writes publications (objects, publication records, change log) not already there, from index
   * `from` until all are written or the clock passes `until`; inside a transaction. Returns the
   * publications written and the index to go on from.
   */
  private publish(
    publications: DecisionPlan['publications'], from: number, decisionId: string, actorKind: DecisionPlan['actorKind'], at: number, tick: (pk: number) => number,
    provenances: Map<Record<string, unknown>, number>, until = Infinity,
  ): { published: number; next: number } {
      let published = 0;
      const pks = new Map<string, number | undefined>();
      const insertPublication = this.stmt(`INSERT INTO publications (collection_id, object_id, object_type, version, version_key, date_added, entry_id, provenance)
                                           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
      // A decision gives an entry's targets one provenance object (mostly, all its entries): one row.
      const provenanceOf = (provenance: Record<string, unknown>): number => {
        let pk = provenances.get(provenance);
        if (pk === undefined) {
          pk = Number(this.stmt('INSERT INTO provenances (decision_id, json) VALUES (?, ?)').run(decisionId, JSON.stringify(provenance)).lastInsertRowid);
          provenances.set(provenance, pk);
        }
        return pk;
      };
      let i = from;
      while (i < publications.length) {
        // Looked at often: a thread kept waiting by the scheduler must not hold the write lock for many turns.
        if ((i - from) % 10 === 9 && performance.now() > until) break;
        const p = publications[i++]!;
        if (!pks.has(p.collectionId)) pks.set(p.collectionId, this.collectionPk(p.collectionId));
        const pk = pks.get(p.collectionId);
        if (pk === undefined) throw new StoreConflictError(`collection ${p.collectionId} does not exist`);
        const o = p.object;
        const versionKey = o.versionKey ?? versionKeyFromMicros(at);
        const record = (dateAdded: number) => insertPublication.run(
          p.collectionId, o.id, o.type, o.version ?? null, versionKey, dateAdded, p.entryId ?? null, provenanceOf(p.provenance)).changes;
        const submissionId = (p.provenance.submission as string | undefined) ?? decisionId;
        let dateAdded: number;
        if (o.version === undefined) {
          // An object without a version has one version only: its key here is the intake's date_added,
          // which differs per intake, so it is known by having no version (in publications and objects).
          if (this.stmt('SELECT 1 FROM publications WHERE collection_id = ? AND object_id = ? AND version IS NULL').get(p.collectionId, o.id)) continue;
          const stored = this.storeObject(pk, () => tick(pk), { ...o, versionKey: undefined }, submissionId);
          if (stored.failure) throw new StoreConflictError(`${o.id} (no version) in collection ${p.collectionId}: ${stored.failure}`);
          dateAdded = stored.dateAdded!;
          record(dateAdded);
        } else {
          // The publication's primary key claims (target, id, version) first: one already published
          // (a retried or resumed decision) is skipped without a lookup of its own.
          dateAdded = tick(pk);
          if (record(dateAdded) === 0) continue;
          const stored = this.storeObject(pk, () => dateAdded, { ...o, versionKey }, submissionId);
          if (stored.failure) throw new StoreConflictError(`${o.id} (${o.version}) in collection ${p.collectionId}: ${stored.failure}`);
          // The same version was already in the collection (written there directly): the publication is of that copy.
          if (stored.dateAdded !== dateAdded) {
            this.stmt('UPDATE publications SET date_added = ? WHERE collection_id = ? AND object_id = ? AND version_key = ?').run(stored.dateAdded!, p.collectionId, o.id, versionKey);
          }
        }
        this.appendChange(pk, tick(pk), { type: p.changeType, objectType: o.type, objectId: o.id, version: o.version, actorKind, tlp: o.tlp });
        published++;
      }
      return { published, next: i };
  }

  /** The publications of a chunked decision, chunk by chunk (each its own transaction), then the decision marked applied. */
  private async finishDecision(decisionId: string, publications: DecisionPlan['publications'], actorKind: DecisionPlan['actorKind'], at: number): Promise<number> {
    let published = 0;
    // The provenance rows written by earlier chunks (a failed chunk fails the decision, map and all).
    const provenances = new Map<Record<string, unknown>, number>();
    for (let i = 0; i < publications.length; ) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.closing) throw new Error('the store closed in the middle of a decision; it is finished at the next start');
      const chunk = this.db.transaction(() => {
        const marks = new Map<number, number>();
        const written = this.publish(publications, i, decisionId, actorKind, at, this.ticker(marks), provenances, performance.now() + DECISION_SLICE_MS);
        for (const [pk, last] of marks) this.stmt('UPDATE collections SET last_date_added = max(last_date_added, ?) WHERE pk = ?').run(last, pk);
        this.stmt('UPDATE decisions SET publications = publications + ? WHERE id = ?').run(written.published, decisionId);
        return written;
      }).immediate();
      published += chunk.published;
      i = chunk.next;
    }
    this.db.transaction(() => {
      this.stmt("UPDATE decisions SET status = 'applied' WHERE id = ?").run(decisionId);
      this.stmt('DELETE FROM decision_plans WHERE decision_id = ?').run(decisionId);
    }).immediate();
    return published;
  }

  private appendChange(pk: number, dateAdded: number, c: Omit<ChangeRecord, 'id' | 'collectionId' | 'dateAdded'>): void {
    this.stmt(`INSERT INTO changes (coll, date_added, id, type, object_type, object_id, version, actor_kind, reason, last_version, tlp)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(pk, dateAdded, changeId(dateAdded), c.type, c.objectType, c.objectId, c.version ?? null, c.actorKind, c.reason ?? null, c.lastVersion ?? null, c.tlp);
  }

  async resumeDecisions(): Promise<number> {
    // Usually there is none: the worker thread starts only for one.
    if (this.decisionWriter) return this.stmt("SELECT 1 FROM decisions WHERE status = 'applying' LIMIT 1").get() ? this.decisionWriter.resume() : 0;
    const open = this.stmt("SELECT d.id, d.actor_kind, d.at, p.plan FROM decisions d JOIN decision_plans p ON p.decision_id = d.id WHERE d.status = 'applying' ORDER BY d.at").all();
    const jsonOf = (source: string, id: string, versionKey: string) => {
      const pk = this.collectionPk(source);
      return pk === undefined ? undefined : (this.stmt('SELECT json FROM objects WHERE coll = ? AND id = ? AND version_key = ?').get(pk, id, versionKey)?.json as string | undefined);
    };
    for (const d of open) await this.finishDecision(d.id, unpackPublications(d.plan, jsonOf), d.actor_kind, d.at);
    return open.length;
  }

  async listPublications(filter: { objectId?: string; objectIds?: string[]; collectionId?: string; entryId?: string }): Promise<PublicationRecord[]> {
    // Only the given conditions: by object id(s), the way the desk asks, this walks the primary key
    // (object first); by collection or entry alone it reads the whole table (the server never asks so).
    const conditions = { object_id: filter.objectId, collection_id: filter.collectionId, entry_id: filter.entryId };
    const given = Object.entries(conditions).filter((c): c is [string, string] => c[1] !== undefined);
    const parts = given.map(([column]) => `${column} = @${column}`);
    const params: Record<string, string> = Object.fromEntries(given);
    if (filter.objectIds) {
      parts.push('object_id IN (SELECT value FROM json_each(@object_ids))');
      params.object_ids = JSON.stringify(filter.objectIds);
    }
    return this.stmt(`SELECT p.collection_id, p.object_id, p.object_type, p.version, p.version_key, p.date_added, p.entry_id, p.withdrawn_at, v.decision_id, v.json AS provenance FROM publications p JOIN provenances v ON v.pk = p.provenance
                      ${parts.length ? ` WHERE ${parts.join(' AND ')}` : ''} ORDER BY p.date_added`)
      .all(params)
      .map((r) => ({
        collectionId: r.collection_id, objectId: r.object_id, objectType: r.object_type, ...(r.version != null ? { version: r.version } : {}), versionKey: r.version_key,
        dateAdded: r.date_added, ...(r.entry_id != null ? { entryId: r.entry_id } : {}), decisionId: r.decision_id, provenance: JSON.parse(r.provenance),
        ...(r.withdrawn_at != null ? { withdrawnAt: r.withdrawn_at } : {}),
      }));
  }

  async readChanges(collectionId: string, afterDateAdded: number, limit: number): Promise<Page<ChangeRecord>> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) return { items: [], more: false };
    const rows = this.stmt('SELECT * FROM changes WHERE coll = ? AND date_added > ? ORDER BY date_added LIMIT ?').all(pk, afterDateAdded, limit + 1);
    const more = rows.length > limit;
    return { items: (more ? rows.slice(0, limit) : rows).map((r) => toChange(r, collectionId)), more };
  }

  async getChange(collectionId: string, changeId: string): Promise<ChangeRecord | undefined> {
    const pk = this.collectionPk(collectionId);
    if (pk === undefined) return undefined;
    const at = dateAddedOfChange(changeId);
    // An id of another layout (this store writes none) is looked for along the collection's log.
    const r = at !== undefined
      ? this.stmt('SELECT * FROM changes WHERE coll = ? AND date_added = ? AND id = ?').get(pk, at, changeId)
      : this.stmt('SELECT * FROM changes WHERE coll = ? AND id = ?').get(pk, changeId);
    return r ? toChange(r, collectionId) : undefined;
  }

  async purgeChanges(before: number): Promise<number> {
    let purged = 0;
    // One short transaction per collection (entries dropped with the horizon that tells readers so),
    // each walking the primary key (coll, date_added) instead of the whole table.
    for (const pk of this.stmt('SELECT pk FROM collections ORDER BY pk').all().map((r) => r.pk as number)) {
      await new Promise((resolve) => setImmediate(resolve));
      purged += this.db.transaction(() => {
        const newest = this.stmt('SELECT max(date_added) AS d FROM changes WHERE coll = ? AND date_added < ?').get(pk, before)?.d as number | null | undefined;
        if (newest == null) return 0;
        this.stmt('UPDATE collections SET change_horizon = max(change_horizon, ?) WHERE pk = ?').run(newest, pk);
        return this.stmt('DELETE FROM changes WHERE coll = ? AND date_added < ?').run(pk, before).changes;
      }).immediate();
    }
    return purged;
  }

  async changeHorizon(collectionId: string): Promise<number> {
    return (this.stmt('SELECT change_horizon FROM collections WHERE id = ?').get(collectionId)?.change_horizon as number | undefined) ?? 0;
  }

  async listDecisions(filter: { accountId?: string; limit: number }): Promise<DecisionRecord[]> {
    return this.stmt('SELECT * FROM decisions WHERE @account IS NULL OR account_id = @account ORDER BY at DESC, id LIMIT @limit')
      .all({ account: filter.accountId ?? null, limit: filter.limit })
      .map((r) => ({ id: r.id, kind: r.kind, actorKind: r.actor_kind, ...(r.account_id != null ? { accountId: r.account_id } : {}), actorName: r.actor_name, at: r.at, entries: r.entries, publications: r.publications }));
  }

  async curationStats(intakeIds: string[]): Promise<CurationStats> {
    const intakes = JSON.stringify(intakeIds);
    const queues = intakeIds.map((intakeId) => {
      const depth = this.stmt("SELECT count(*) AS n FROM queue WHERE intake_id = ? AND state = 'pending'").get(intakeId)!.n as number;
      if (depth === 0) return { intakeId, depth };
      // queue_by_intake_state walks pending entries in seq order, which is createdAt order.
      const at = (k: number) => this.stmt("SELECT created_at FROM queue WHERE intake_id = ? AND state = 'pending' ORDER BY seq LIMIT 1 OFFSET ?").get(intakeId, k)!.created_at as number;
      return { intakeId, depth, oldest: at(0), p50: at(Math.floor((depth - 1) * 0.5)), p95: at(Math.floor((depth - 1) * 0.05)) };
    });
    const decisionsPerAccount = this.stmt("SELECT account_id, actor_name, count(*) AS n FROM decisions WHERE actor_kind = 'desk' GROUP BY account_id, actor_name ORDER BY n DESC")
      .all().map((r) => ({ accountId: r.account_id, actorName: r.actor_name, decisions: r.n }));
    // Only an approved entry has publications, and stays approved: its publications are found
    // through the primary key by object id, from queue_by_intake_state (wait null: it published nothing).
    const waits = this.stmt(`SELECT q.organisation_id AS org, (SELECT min(p.date_added) FROM publications p WHERE p.object_id = q.object_id AND p.entry_id = q.id) - q.created_at AS wait
                             FROM queue q WHERE q.intake_id IN (SELECT value FROM json_each(?)) AND q.state = 'approved'`).all(intakes);
    const byOrg = new Map<string | null, number[]>();
    for (const w of waits) {
      if (w.wait === null) continue;
      const list = byOrg.get(w.org);
      if (list) list.push(w.wait as number);
      else byOrg.set(w.org, [w.wait as number]);
    }
    const timeToPublish = [...byOrg].map(([org, list]) => {
      list.sort((x, y) => x - y);
      return { ...(org != null ? { organisationId: org } : {}), publications: list.length, p50: list[Math.floor((list.length - 1) / 2)]! };
    });
    return { queues, decisionsPerAccount, timeToPublish };
  }

  async submissionsPerDay(intakeIds: string[], since: number): Promise<SubmissionsPerDay[]> {
    // audit_submissions covers the window's POSTs (nothing else); counted per account name first, so an
    // account is looked up once per day, not once per POST. The organisation is the account's.
    return this.stmt(`SELECT a.organisation_id AS org, g.day, sum(g.n) AS n FROM
                        (SELECT actor, at - at % ${MICROS_PER_DAY} AS day, count(*) AS n FROM audit
                         WHERE at >= ? AND action = 'objects.add' AND target IN (SELECT value FROM json_each(?)) GROUP BY actor, day) g
                      LEFT JOIN accounts a ON a.name = g.actor GROUP BY g.day, org ORDER BY g.day, org`)
      .all(since, JSON.stringify(intakeIds))
      .map((r) => ({ ...(r.org != null ? { organisationId: r.org as string } : {}), day: r.day as number, submissions: r.n as number }));
  }
}
