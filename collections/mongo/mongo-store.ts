// The production store on MongoDB via mongoose (docs/architecture.md §5). One MongoDB collection of STIX
// objects per API root, shared collections for everything else. Correctness never rests on
// multi-document transactions: identities are unique keys (11000 = duplicate), date_added ranges are
// taken by compare-and-set on the collection document, and derived state (version flags, submission
// counts) is recomputed idempotently after each write.
import { randomBytes, randomUUID } from 'node:crypto';
import mongoose, { type Connection, type Model } from 'mongoose';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type ApiRootRecord,
  type AuditEvent,
  type AuditQuery,
  type CollectionRecord,
  type CurationStats,
  type DecisionOutcome,
  type DecisionPlan,
  type DecisionRecord,
  type DeskRules,
  type ChangeRecord,
  type GrantRecord,
  type ImportedObject,
  type IngestItem,
  type ManifestEntry,
  type NewObject,
  type NewSubmission,
  type ObjectFilter,
  type ObjectQuery,
  type OrganisationRecord,
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
  StoreConflictError,
  StoreUnavailableError,
  TLP_RANK,
  ingestChangeType,
  rejectedFailure,
  scanLimitedPage,
  versionFlags,
  versionKeyFromMicros,
  writerKind,
} from '../store.js';
import {
  type CollectionDoc,
  type ObjectDoc,
  UNVERSIONED,
  accountSchema,
  apiKeySchema,
  apiRootSchema,
  auditSchema,
  changeSchema,
  collectionSchema,
  decisionPlanSchema,
  databaseName,
  decisionSchema,
  deskRulesSchema,
  grantSchema,
  DUPLICATE_KEY,
  identityId,
  isDuplicateKey,
  MAJORITY,
  metaSchema,
  nowMicros,
  objectSchema,
  objectsCollectionName,
  opt,
  organisationSchema,
  publicationSchema,
  queueSchema,
  submissionBodySchema,
  submissionItemSchema,
  submissionSchema,
  withdrawalSchema,
} from './schemas.js';
import { MongoCuration, type StoredInIntake } from './curation.js';
import { MongoWebhooks } from './webhooks.js';
import { migrateMongo } from './schema-migrations.js';
import type { Migration } from '../migrations.js';

type Doc = Record<string, any>;
type Filter = Record<string, unknown>;

export type MongoLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface MongoStoreOptions {
  /** mongodb://… or mongodb+srv://…; the database is the URI's path (default "meridian"). */
  uri: string;
  /** How long an operation waits for a reachable server before StoreUnavailableError (fail fast). */
  serverSelectionTimeoutMs?: number;
  /** How long the first operations wait for the first connection (start-up), in ms. */
  startupTimeoutMs?: number;
  /** Pause between start-up connection attempts, in ms. */
  retryDelayMs?: number;
  /** Driver heartbeat mode; 'poll' for servers that announce but do not implement streaming hello. */
  serverMonitoringMode?: 'auto' | 'poll' | 'stream';
  log?: MongoLog;
  /** The schema's steps (default MONGO_MIGRATIONS); tests give their own. */
  migrations?: ReadonlyArray<Migration<Connection, Promise<void>>>;
}

/** Writes that a 202 or a status resource promises survive a primary failover. */
/** A writer holding a date_added range longer than this has crashed; readers stop waiting for it. */
const LEASE_US = 60_000_000;
/** Submission bodies are kept in chunks below MongoDB's 16 MB document limit. */
const BODY_CHUNK = 8 * 1024 * 1024;
const UNAVAILABLE = new Set([
  'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongooseServerSelectionError',
  'MongoNotConnectedError', 'MongoPoolClearedError', 'MongoTopologyClosedError',
]);
const CLASH = 'a different object with this id and version is already in the collection';

/** A version stored in a published collection, whose change the log needs. */
type Logged = { object: NewObject; dateAdded: number };

function isUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; hasErrorLabel?: (l: string) => boolean };
  return UNAVAILABLE.has(e.name ?? '') || e.hasErrorLabel?.('ResetPool') === true;
}

/** The URI without credentials, for log lines. */
function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  const b = v as { buffer?: Uint8Array };
  return Buffer.from(b.buffer ?? new Uint8Array());
}

function toApiRoot(d: Doc): ApiRootRecord {
  return { path: d.path, ...opt('country', d.country as string), title: d.title, ...opt('description', d.description as string), maxContentLength: d.maxContentLength, ...(d.taxii20 ? { taxii20: true } : {}), createdAt: d.createdAt };
}

function toCollection(d: Doc): CollectionRecord {
  return {
    id: d.id, apiRoot: d.apiRoot, title: d.title, ...opt('description', d.description as string), ...opt('alias', d.alias as string),
    purpose: d.purpose, mediaTypes: d.mediaTypes ?? [], ...opt('enrichment', d.enrichment ? JSON.parse(d.enrichment) : undefined), createdAt: d.createdAt,
  };
}

function toAccount(d: Doc): AccountRecord {
  return {
    id: d.id, name: d.name, ...opt('organisationId', d.organisationId as string), passwordHash: d.passwordHash, roles: (d.roles ?? []) as Role[],
    curatorRoots: d.curatorRoots ?? [], disabled: d.disabled === true, credentialVersion: d.credentialVersion, createdAt: d.createdAt,
  };
}

function toOrganisation(d: Doc): OrganisationRecord {
  return { id: d.id, name: d.name, kind: d.kind, ...opt('country', d.country as string), disabled: d.disabled === true, createdAt: d.createdAt };
}

function toGrant(d: Doc): GrantRecord {
  return {
    id: d.id, collectionId: d.collectionId, ...opt('accountId', d.accountId as string), ...opt('organisationId', d.organisationId as string), ...opt('role', d.role as Role),
    canRead: d.canRead === true, canWrite: d.canWrite === true, maxTlp: d.maxTlp, createdAt: d.createdAt,
  };
}

function toApiKey(d: Doc): ApiKeyRecord {
  return {
    id: d.id, accountId: d.accountId, name: d.name, prefix: d.prefix, hash: d.hash, createdAt: d.createdAt,
    ...opt('expiresAt', d.expiresAt as number), ...opt('lastUsedAt', d.lastUsedAt as number), ...opt('revokedAt', d.revokedAt as number),
  };
}

function toAudit(d: Doc): AuditEvent {
  return {
    seq: d.seq, at: d.at, ...opt('actor', d.actor as string), action: d.action, outcome: d.outcome, ...opt('target', d.target as string),
    ...opt('remote', d.remote as string), ...opt('detail', d.detail ? JSON.parse(d.detail) as Record<string, unknown> : undefined),
  };
}

function auditFilter(q: Omit<AuditQuery, 'limit'>): Filter {
  const f: Filter = {};
  for (const key of ['actor', 'action', 'outcome', 'remote', 'target'] as const) if (q[key] !== undefined) f[key] = q[key];
  if (q.since !== undefined || q.until !== undefined) f.at = { ...opt('$gte', q.since), ...opt('$lte', q.until) };
  if (q.afterSeq !== undefined) f.seq = { $gt: q.afterSeq };
  return f;
}

/** $set for the keys present in `changes`, $unset for those present but undefined (cleared). */
function setUnset(changes: Record<string, unknown>, keys: readonly string[], encode: (k: string, v: unknown) => unknown = (_k, v) => v): Doc {
  const $set: Doc = {};
  const $unset: Doc = {};
  for (const k of keys) {
    if (!(k in changes)) continue;
    if (changes[k] === undefined) $unset[k] = 1;
    else $set[k] = encode(k, changes[k]);
  }
  return { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) };
}

function toManifest(d: Doc): ManifestEntry {
  return { id: d.id, type: d.type, dateAdded: d.dateAdded, ...opt('version', d.version as string), specVersion: d.specVersion, mediaType: d.mediaType };
}

function toSubmission(d: Doc): SubmissionRecord {
  return {
    id: d.id, apiRoot: d.apiRoot, collectionId: d.collectionId, accountId: d.accountId, requestTimestamp: d.requestTimestamp, status: d.status,
    totalCount: d.totalCount, successCount: d.successCount, failureCount: d.failureCount, pendingCount: d.pendingCount,
  };
}

/** The MongoDB filter of an object query; undefined when nothing can match (exported for the bench's raw queries). */
export function objectFilter(collectionId: string, f: Omit<ObjectFilter, 'ids' | 'types'> & Partial<Pick<ObjectFilter, 'ids' | 'types'>>, visibleUpTo?: number): Filter | undefined {
  const q: Filter = { collectionId };
  const range: Record<string, number> = {};
  if (f.addedAfter !== undefined) range.$gt = f.addedAfter;
  if (visibleUpTo !== undefined) range.$lte = visibleUpTo;
  if (Object.keys(range).length > 0) q.dateAdded = range;
  if (f.ids) q.id = { $in: f.ids };
  if (f.types) q.type = { $in: f.types };
  if (f.specVersions) q.specVersion = { $in: f.specVersions };
  else q.isLatestSpec = true;
  if (f.maxTlp !== undefined) q.tlp = { $lte: f.maxTlp };
  const v = f.versions;
  if (!v.all) {
    const alternatives: Filter[] = [];
    // Under a marking cap, first/last are the caller's (versionFlags); uncapped, the plain flags.
    const cap = f.maxTlp !== undefined && f.maxTlp < TLP_RANK.red ? f.maxTlp : undefined;
    if (v.last) alternatives.push(cap === undefined ? { isLast: true } : { lastAt: cap });
    if (v.first) alternatives.push(cap === undefined ? { isFirst: true } : { firstAt: cap });
    if (v.keys.length > 0) alternatives.push({ versionKey: { $in: v.keys } });
    if (alternatives.length === 0) return undefined;
    // A single flag stays a top-level equality so objects_page_last / _first serve it.
    if (alternatives.length === 1) Object.assign(q, alternatives[0]);
    else q.$or = alternatives;
  }
  return q;
}

/** The TLP ranks whose bit is set in a versionFlags mask. */
function ranksOf(mask: number): number[] {
  const ranks: number[] = [];
  for (let rank = 0; rank <= TLP_RANK.red; rank++) if (mask & (1 << rank)) ranks.push(rank);
  return ranks;
}

export class MongoStore implements Store {
  readonly kind = 'mongodb';
  private readonly conn: Connection;
  private readonly log: MongoLog;
  private readonly ready: Promise<void>;
  private readonly startupTimeoutMs: number;
  private closed = false;
  private connectedOnce = false;
  private readonly ensuredRoots = new Map<string, Promise<void>>();

  private readonly organisations: Model<any>;
  private readonly apiKeys: Model<any>;
  private readonly audit: Model<any>;
  private readonly apiRoots: Model<any>;
  private readonly collections: Model<CollectionDoc>;
  private readonly accounts: Model<any>;
  private readonly grants: Model<any>;
  private readonly submissions: Model<any>;
  private readonly items: Model<any>;
  private readonly meta: Model<any>;
  private readonly bodies: Model<any>;
  private readonly deskModels: Model<any>[];
  private readonly curation: MongoCuration;
  private readonly changes: Model<any>;
  readonly webhooks: MongoWebhooks;

  constructor(private readonly options: MongoStoreOptions) {
    this.log = options.log ?? (() => undefined);
    this.startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
    this.conn = mongoose.createConnection();
    // No buffering: with MongoDB away an operation must fail fast (503), not queue for seconds.
    this.conn.set('bufferCommands', false);
    this.organisations = this.conn.model('Organisation', organisationSchema, 'organisations');
    this.apiKeys = this.conn.model('ApiKey', apiKeySchema, 'api_keys');
    this.audit = this.conn.model('Audit', auditSchema, 'audit');
    this.apiRoots = this.conn.model('ApiRoot', apiRootSchema, 'api_roots');
    this.collections = this.conn.model<CollectionDoc>('Collection', collectionSchema, 'collections');
    this.accounts = this.conn.model('Account', accountSchema, 'accounts');
    this.grants = this.conn.model('Grant', grantSchema, 'grants');
    this.submissions = this.conn.model('Submission', submissionSchema, 'submissions');
    this.items = this.conn.model('SubmissionItem', submissionItemSchema, 'submission_items');
    this.meta = this.conn.model('Meta', metaSchema, 'meta');
    this.bodies = this.conn.model('SubmissionBody', submissionBodySchema, 'submission_bodies');
    const desk = {
      deskRules: this.conn.model('DeskRules', deskRulesSchema, 'desk_rules'),
      queue: this.conn.model('QueueEntry', queueSchema, 'queue'),
      publications: this.conn.model('Publication', publicationSchema, 'publications'),
      changes: this.conn.model('Change', changeSchema, 'changes'),
      withdrawals: this.conn.model('Withdrawal', withdrawalSchema, 'withdrawals'),
      decisions: this.conn.model('Decision', decisionSchema, 'decisions'),
      decisionPlans: this.conn.model('DecisionPlan', decisionPlanSchema, 'decision_plans'),
    };
    this.changes = desk.changes;
    // Those with secondary indexes (desk rules and plans are read by _id only).
    this.deskModels = Object.values(desk).filter((m) => m.schema.indexes().length > 0);
    this.curation = new MongoCuration({
      ...desk, collections: this.collections, accounts: this.accounts, meta: this.meta, audit: this.audit,
      objectsFor: (apiRoot) => this.objectsFor(apiRoot),
      allocate: (collectionId, n) => this.allocate(collectionId, n),
      release: (collectionId, token) => this.release(collectionId, token),
      visibleUpTo: (c) => this.visibleUpTo(c),
      refreshFlags: (model, collectionId, objectIds) => this.refreshFlags(model, collectionId, objectIds),
      insertIgnoringDuplicates: async (model, docs) => (docs.length === 0 ? new Set<number>() : this.insertIgnoringDuplicates(model, docs)),
      nextSeq: (name) => this.nextSeq(name),
    });
    this.webhooks = new MongoWebhooks(this.conn, (fn) => this.op(fn), (model) => this.ensureModelIndexes(model));
    this.conn.on('disconnected', () => { if (this.connectedOnce && !this.closed) this.log('warn', 'MongoDB connection lost; requests get 503 until it returns', { uri: redact(options.uri) }); });
    this.conn.on('reconnected', () => this.log('info', 'MongoDB connection restored', { uri: redact(options.uri) }));
    this.ready = this.connect();
    this.ready.catch(() => undefined);
  }

  /** Start-up: retries until MongoDB answers, then migrates the schema and creates and verifies the indexes. */
  private async connect(): Promise<void> {
    const uri = this.options.uri;
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.conn.openUri(uri, {
          dbName: databaseName(uri),
          serverSelectionTimeoutMS: this.options.serverSelectionTimeoutMs ?? 2000,
          // Only when given: otherwise the URI's serverMonitoringMode (or the driver's 'auto') applies.
          ...(this.options.serverMonitoringMode ? { serverMonitoringMode: this.options.serverMonitoringMode } : {}),
          heartbeatFrequencyMS: 2000,
          autoIndex: false,
          autoCreate: false,
        });
        this.connectedOnce = true;
        // Documents and indexes brought to the current schema first (a newer database is refused: SchemaTooNewError).
        for (const step of await migrateMongo(this.conn, this.options.migrations)) this.log('info', `schema migration ${step.version} applied: ${step.description}`, { schemaVersion: step.version });
        await this.ensureIndexes();
        this.log('info', 'connected to MongoDB', { uri: redact(uri), attempt });
        return;
      } catch (err) {
        if (this.closed) break;
        if (!isUnavailable(err)) throw err;
        const delay = this.options.retryDelayMs ?? Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
        this.log('warn', `MongoDB not reachable (attempt ${attempt}), retrying in ${delay} ms`, { uri: redact(uri), error: (err as Error).message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    throw new StoreUnavailableError('the store was closed before MongoDB answered');
  }

  /** Creates the named indexes and checks that each one exists as declared. */
  private async ensureIndexes(): Promise<void> {
    for (const model of [this.organisations, this.apiRoots, this.collections, this.accounts, this.grants, this.apiKeys, this.audit, this.submissions, this.items, this.bodies, ...this.deskModels]) await this.ensureModelIndexes(model);
    for (const r of await this.apiRoots.find({}, { path: 1 }).lean<Doc[]>()) await this.objectsFor(r.path);
  }

  private async ensureModelIndexes(model: Model<any>): Promise<void> {
    await model.createIndexes();
    const present = new Set((await model.listIndexes()).map((i: { name: string }) => i.name));
    const missing = model.schema.indexes().map(([, o]) => String(o.name)).filter((n) => !present.has(n));
    if (missing.length > 0) throw new Error(`MongoDB collection ${model.collection.collectionName} lacks indexes ${missing.join(', ')}`);
  }

  /** The model of objects_<root>, its indexes ensured once per process. */
  private async objectsFor(apiRoot: string): Promise<Model<ObjectDoc>> {
    const name = objectsCollectionName(apiRoot);
    const model = (this.conn.models[name] as Model<ObjectDoc> | undefined) ?? this.conn.model<ObjectDoc>(name, objectSchema, name);
    let ensured = this.ensuredRoots.get(apiRoot);
    if (!ensured) {
      ensured = this.ensureModelIndexes(model);
      this.ensuredRoots.set(apiRoot, ensured);
      ensured.catch(() => this.ensuredRoots.delete(apiRoot));
    }
    await ensured;
    return model;
  }

  /** Runs one store operation: waits for start-up, fails fast while MongoDB is away. */
  private async op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    if (!this.connectedOnce) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreUnavailableError('MongoDB has not answered since start-up')), this.startupTimeoutMs);
      });
      try {
        await Promise.race([this.ready, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    // While MongoDB is away the driver's server selection gives up after serverSelectionTimeoutMs;
    // it also triggers the immediate re-check through which the store finds MongoDB again.
    try {
      return await fn();
    } catch (err) {
      if (isUnavailable(err)) throw new StoreUnavailableError(`MongoDB is not reachable: ${(err as Error).message}`);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.conn.close(true).catch(() => undefined);
  }

  /** The store's connection, for what keeps its own documents beside the store's (request budgets). */
  get connection(): Connection {
    return this.conn;
  }

  /** Whether MongoDB answers now (for /readyz); false at once while start-up is still connecting. */
  async ping(): Promise<boolean> {
    if (!this.connectedOnce || this.closed) return false;
    try {
      return await this.op(async () => (await this.conn.db!.admin().ping()).ok === 1);
    } catch {
      return false;
    }
  }

  async secret(name: string): Promise<Buffer> {
    return this.op(async () => {
      const _id = identityId('secret', name);
      try {
        // _id: meta by identity. First caller creates it; every instance then reads the same value.
        const doc = await this.meta.findOneAndUpdate({ _id }, { $setOnInsert: { value: randomBytes(32).toString('base64') } }, { upsert: true, new: true, ...MAJORITY }).lean<Doc>();
        return Buffer.from(doc!.value as string, 'base64');
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return Buffer.from((await this.meta.findById(_id).lean<Doc>())!.value as string, 'base64');
      }
    });
  }

  /** Next number of a named sequence (creation order across server instances). */
  private async nextSeq(name: string): Promise<number> {
    const _id = identityId('seq', name);
    for (;;) {
      try {
        // _id
        const doc = await this.meta.findOneAndUpdate({ _id }, { $inc: { value: 1 } }, { upsert: true, new: true, ...MAJORITY }).lean<Doc>();
        return doc!.value as number;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // two first upserts raced: the loser retries as an update
      }
    }
  }

  // ---- API roots ----------------------------------------------------------------------------

  async createApiRoot(root: Omit<ApiRootRecord, 'createdAt'>): Promise<ApiRootRecord> {
    return this.op(async () => {
      const createdAt = Date.now() * 1000;
      try {
        await this.apiRoots.collection.insertOne(
          { _id: identityId('api-root', root.path), path: root.path, ...opt('country', root.country), seq: await this.nextSeq('api-roots'), title: root.title, ...opt('description', root.description), maxContentLength: root.maxContentLength, ...(root.taxii20 ? { taxii20: true } : {}), createdAt },
          MAJORITY,
        );
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(`API root "${root.path}" already exists`);
        throw err;
      }
      await this.objectsFor(root.path);
      return { ...root, createdAt };
    });
  }

  async updateApiRoot(rootPath: string, changes: Partial<Omit<ApiRootRecord, 'path' | 'createdAt'>>): Promise<ApiRootRecord | undefined> {
    return this.op(async () => {
      // taxii20 false is stored as absent, like a root made before the flag existed.
      const update = setUnset({ ...changes, ...(changes.taxii20 === false ? { taxii20: undefined } : {}) }, ['country', 'title', 'description', 'maxContentLength', 'taxii20']);
      // api_roots_by_path
      const doc = await this.apiRoots.findOneAndUpdate({ path: rootPath }, update, { new: true, ...MAJORITY }).lean<Doc>();
      return doc ? toApiRoot(doc) : undefined;
    });
  }

  async getApiRoot(rootPath: string): Promise<ApiRootRecord | undefined> {
    return this.op(async () => {
      const doc = await this.apiRoots.findOne({ path: rootPath }).lean<Doc>(); // api_roots_by_path
      return doc ? toApiRoot(doc) : undefined;
    });
  }

  async listApiRoots(): Promise<ApiRootRecord[]> {
    return this.op(async () => (await this.apiRoots.find({}).sort({ seq: 1 }).lean<Doc[]>()).map(toApiRoot)); // api_roots_discovery
  }

  async deleteApiRoot(rootPath: string): Promise<boolean> {
    return this.op(async () => {
      if (await this.collections.exists({ apiRoot: rootPath })) throw new StoreConflictError(`API root "${rootPath}" still has collections`); // collections_by_root
      return (await this.apiRoots.deleteOne({ path: rootPath }, MAJORITY)).deletedCount > 0; // api_roots_by_path
    });
  }

  // ---- collections --------------------------------------------------------------------------

  async createCollection(c: Omit<CollectionRecord, 'createdAt'>): Promise<CollectionRecord> {
    return this.op(async () => {
      const createdAt = Date.now() * 1000;
      if (!(await this.apiRoots.exists({ path: c.apiRoot }))) throw new StoreConflictError(`API root "${c.apiRoot}" does not exist`); // api_roots_by_path
      const doc: Omit<CollectionDoc, 'seq'> & { seq: number } = {
        _id: identityId('collection', c.id), id: c.id, apiRoot: c.apiRoot, seq: await this.nextSeq('collections'), title: c.title,
        ...opt('description', c.description), ...opt('alias', c.alias), ...opt('aliasKey', c.alias === undefined ? undefined : `${c.apiRoot}/${c.alias}`),
        purpose: c.purpose, mediaTypes: c.mediaTypes, ...opt('enrichment', c.enrichment ? JSON.stringify(c.enrichment) : undefined), createdAt, lastDateAdded: 0, leases: [],
      };
      try {
        await this.collections.collection.insertOne(doc, MAJORITY);
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(c.alias ? `a collection with id ${c.id} or alias "${c.alias}" already exists` : `collection ${c.id} already exists`);
        throw err;
      }
      return { ...c, createdAt };
    });
  }

  async getCollection(apiRoot: string, idOrAlias: string): Promise<CollectionRecord | undefined> {
    return this.op(async () => {
      const doc = (await this.collections.findOne({ _id: identityId('collection', idOrAlias), apiRoot }).lean<Doc>()) // _id
        ?? (await this.collections.findOne({ aliasKey: `${apiRoot}/${idOrAlias}` }).lean<Doc>()); // collections_by_alias
      return doc ? toCollection(doc) : undefined;
    });
  }

  async listCollections(apiRoot: string): Promise<CollectionRecord[]> {
    return this.op(async () => (await this.collections.find({ apiRoot }).sort({ seq: 1 }).lean<Doc[]>()).map(toCollection)); // collections_by_root
  }

  async updateCollection(id: string, changes: Partial<Pick<CollectionRecord, 'title' | 'description' | 'purpose' | 'enrichment'>>): Promise<CollectionRecord | undefined> {
    return this.op(async () => {
      const update = setUnset(changes, ['title', 'description', 'purpose', 'enrichment'], (k, v) => (k === 'enrichment' ? JSON.stringify(v) : v));
      const doc = await this.collections.findOneAndUpdate({ _id: identityId('collection', id) }, update, { new: true, ...MAJORITY }).lean<Doc>(); // _id
      return doc ? toCollection(doc) : undefined;
    });
  }

  async deleteCollection(id: string): Promise<boolean> {
    return this.op(async () => {
      // The metadata goes first so that no ingest can allocate in it any more; objects follow.
      const doc = await this.collections.findOneAndDelete({ _id: identityId('collection', id) }, MAJORITY).lean<Doc>(); // _id
      if (!doc) return false;
      await (await this.objectsFor(doc.apiRoot)).deleteMany({ collectionId: id }, MAJORITY); // objects_page
      await this.grants.deleteMany({ collectionId: id }); // grants_by_collection
      await this.curation.collectionDeleted(id);
      return true;
    });
  }

  /** The collection document (by _id) with what readers and writers need. */
  private async collectionDoc(collectionId: string): Promise<CollectionDoc | null> {
    return this.collections.findOne({ _id: identityId('collection', collectionId) }, { apiRoot: 1, purpose: 1, lastDateAdded: 1, leases: 1 }).lean<CollectionDoc>(); // _id
  }

  // ---- accounts and grants ------------------------------------------------------------------

  async createAccount(a: Omit<AccountRecord, 'createdAt' | 'credentialVersion'>): Promise<AccountRecord> {
    return this.op(async () => {
      const createdAt = Date.now() * 1000;
      try {
        await this.accounts.collection.insertOne({ _id: identityId('account', a.id), id: a.id, name: a.name, ...opt('organisationId', a.organisationId), passwordHash: a.passwordHash, roles: a.roles, curatorRoots: a.curatorRoots, disabled: a.disabled, credentialVersion: 1, createdAt }, MAJORITY);
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(`account "${a.name}" already exists`);
        throw err;
      }
      return { ...a, createdAt, credentialVersion: 1 };
    });
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    return this.op(async () => {
      const doc = await this.accounts.findById(identityId('account', id)).lean<Doc>(); // _id
      return doc ? toAccount(doc) : undefined;
    });
  }

  async getAccountByName(name: string): Promise<AccountRecord | undefined> {
    return this.op(async () => {
      const doc = await this.accounts.findOne({ name }).lean<Doc>(); // accounts_by_name
      return doc ? toAccount(doc) : undefined;
    });
  }

  async listAccounts(): Promise<AccountRecord[]> {
    return this.op(async () => (await this.accounts.find({}).sort({ name: 1 }).lean<Doc[]>()).map(toAccount)); // accounts_by_name
  }

  async updateAccount(id: string, changes: Partial<Pick<AccountRecord, 'passwordHash' | 'roles' | 'disabled' | 'curatorRoots' | 'organisationId'>>): Promise<AccountRecord | undefined> {
    return this.op(async () => {
      const update = setUnset(changes, ['passwordHash', 'roles', 'disabled', 'curatorRoots', 'organisationId']);
      // _id; the version bump is in the same single-document update, so no cache can miss it.
      const doc = await this.accounts.findOneAndUpdate({ _id: identityId('account', id) }, { ...update, $inc: { credentialVersion: 1 } }, { new: true, ...MAJORITY }).lean<Doc>();
      return doc ? toAccount(doc) : undefined;
    });
  }

  async deleteAccount(id: string): Promise<boolean> {
    return this.op(async () => {
      const deleted = (await this.accounts.deleteOne({ _id: identityId('account', id) }, MAJORITY)).deletedCount > 0; // _id
      if (deleted) {
        await this.grants.deleteMany({ accountId: id }, MAJORITY); // grants_by_account
        await this.apiKeys.deleteMany({ accountId: id }, MAJORITY); // api_keys_by_account
      }
      return deleted;
    });
  }

  async putGrant(g: Omit<GrantRecord, 'id' | 'createdAt'>): Promise<GrantRecord | undefined> {
    return this.op(async () => {
      // _id is the (collection, subject) identity: concurrent puts of one subject meet on it.
      const _id = identityId('grant', g.collectionId, g.accountId ?? '', g.organisationId ?? '', g.role ?? '');
      let result: GrantRecord | undefined;
      if (!g.canRead && !g.canWrite) {
        await this.grants.deleteOne({ _id }, MAJORITY);
      } else {
        const insert = { id: randomUUID(), collectionId: g.collectionId, ...opt('accountId', g.accountId), ...opt('organisationId', g.organisationId), ...opt('role', g.role), createdAt: Date.now() * 1000 };
        const update = { $set: { canRead: g.canRead, canWrite: g.canWrite, maxTlp: g.maxTlp }, $setOnInsert: insert };
        let doc: Doc | null;
        try {
          doc = await this.grants.findOneAndUpdate({ _id }, update, { upsert: true, new: true, ...MAJORITY }).lean<Doc>();
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          doc = await this.grants.findOneAndUpdate({ _id }, { $set: update.$set }, { new: true, ...MAJORITY }).lean<Doc>(); // lost the first-insert race
        }
        result = toGrant(doc!);
      }
      await this.touchGrantSubject(g);
      return result;
    });
  }

  /** Grants are part of what an authenticated caller may do: drop cached verifications. */
  private async touchGrantSubject(g: { accountId?: string; organisationId?: string }): Promise<void> {
    if (g.accountId) await this.accounts.updateOne({ _id: identityId('account', g.accountId) }, { $inc: { credentialVersion: 1 } }, MAJORITY); // _id
    if (g.organisationId) await this.accounts.updateMany({ organisationId: g.organisationId }, { $inc: { credentialVersion: 1 } }, MAJORITY); // accounts_by_organisation
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    return this.op(async () => {
      const doc = await this.grants.findOne({ id }).lean<Doc>(); // grants_by_id
      return doc ? toGrant(doc) : undefined;
    });
  }

  async deleteGrant(id: string): Promise<boolean> {
    return this.op(async () => {
      const doc = await this.grants.findOneAndDelete({ id }, MAJORITY).lean<Doc>(); // grants_by_id
      if (!doc) return false;
      await this.touchGrantSubject(toGrant(doc));
      return true;
    });
  }

  async listGrants(filter: { collectionId?: string; accountId?: string; organisationId?: string }): Promise<GrantRecord[]> {
    return this.op(async () => {
      const q: Filter = {};
      for (const k of ['collectionId', 'accountId', 'organisationId'] as const) if (filter[k] !== undefined) q[k] = filter[k];
      // grants_by_collection, grants_by_account or grants_by_organisation, by which filter is given
      return (await this.grants.find(q).sort({ createdAt: 1, id: 1 }).lean<Doc[]>()).map(toGrant);
    });
  }

  async grantsForAccount(account: Pick<AccountRecord, 'id' | 'organisationId' | 'roles'>): Promise<GrantRecord[]> {
    return this.op(async () => {
      const branches: Filter[] = [{ accountId: account.id }]; // grants_by_account
      if (account.organisationId) {
        // grants_by_organisation: the organisation's own grants, and those for one of the account's roles
        branches.push({ organisationId: account.organisationId, role: { $exists: false } }, { organisationId: account.organisationId, role: { $in: account.roles } });
      }
      return (await this.grants.find({ $or: branches }).lean<Doc[]>()).map(toGrant);
    });
  }

  // ---- organisations ------------------------------------------------------------------------

  async createOrganisation(org: Omit<OrganisationRecord, 'createdAt'>): Promise<OrganisationRecord> {
    return this.op(async () => {
      const createdAt = Date.now() * 1000;
      try {
        await this.organisations.collection.insertOne({ _id: identityId('organisation', org.id), id: org.id, name: org.name, kind: org.kind, ...opt('country', org.country), disabled: org.disabled, createdAt }, MAJORITY);
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(`organisation "${org.name}" already exists`);
        throw err;
      }
      return { ...org, createdAt };
    });
  }

  async getOrganisation(id: string): Promise<OrganisationRecord | undefined> {
    return this.op(async () => {
      const doc = await this.organisations.findById(identityId('organisation', id)).lean<Doc>(); // _id
      return doc ? toOrganisation(doc) : undefined;
    });
  }

  async getOrganisationByName(name: string): Promise<OrganisationRecord | undefined> {
    return this.op(async () => {
      const doc = await this.organisations.findOne({ name }).lean<Doc>(); // organisations_by_name
      return doc ? toOrganisation(doc) : undefined;
    });
  }

  async listOrganisations(): Promise<OrganisationRecord[]> {
    return this.op(async () => (await this.organisations.find({}).sort({ name: 1 }).lean<Doc[]>()).map(toOrganisation)); // organisations_by_name
  }

  async updateOrganisation(id: string, changes: Partial<Pick<OrganisationRecord, 'disabled' | 'country'>>): Promise<OrganisationRecord | undefined> {
    return this.op(async () => {
      const update = setUnset(changes, ['disabled', 'country']);
      const doc = await this.organisations.findOneAndUpdate({ _id: identityId('organisation', id) }, update, { new: true, ...MAJORITY }).lean<Doc>(); // _id
      if (!doc) return undefined;
      // What members may do changed: drop their cached verifications and tokens.
      await this.accounts.updateMany({ organisationId: id }, { $inc: { credentialVersion: 1 } }, MAJORITY); // accounts_by_organisation
      return toOrganisation(doc);
    });
  }

  async deleteOrganisation(id: string): Promise<boolean> {
    return this.op(async () => {
      if (await this.accounts.exists({ organisationId: id })) throw new StoreConflictError('the organisation still has accounts'); // accounts_by_organisation
      const deleted = (await this.organisations.deleteOne({ _id: identityId('organisation', id) }, MAJORITY)).deletedCount > 0; // _id
      if (deleted) await this.grants.deleteMany({ organisationId: id }, MAJORITY); // grants_by_organisation
      return deleted;
    });
  }

  // ---- API keys -----------------------------------------------------------------------------

  async createApiKey(k: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKeyRecord> {
    return this.op(async () => {
      try {
        await this.apiKeys.collection.insertOne({ _id: identityId('api-key', k.id), id: k.id, accountId: k.accountId, name: k.name, prefix: k.prefix, hash: k.hash, createdAt: k.createdAt, ...opt('expiresAt', k.expiresAt) }, MAJORITY);
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError('an API key with this prefix already exists');
        throw err;
      }
      return { ...k };
    });
  }

  async getApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined> {
    return this.op(async () => {
      const doc = await this.apiKeys.findOne({ prefix }).lean<Doc>(); // api_keys_by_prefix
      return doc ? toApiKey(doc) : undefined;
    });
  }

  async listApiKeys(accountId?: string): Promise<ApiKeyRecord[]> {
    return this.op(async () => (await this.apiKeys.find(accountId === undefined ? {} : { accountId }).sort({ createdAt: 1, id: 1 }).lean<Doc[]>()).map(toApiKey)); // api_keys_by_account
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return this.op(async () => (await this.apiKeys.updateOne({ _id: identityId('api-key', id), revokedAt: { $exists: false } }, { $set: { revokedAt: at } }, MAJORITY)).modifiedCount > 0); // _id
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    return this.op(async () => {
      await this.apiKeys.updateOne({ _id: identityId('api-key', id) }, { $max: { lastUsedAt: at } }); // _id; w:1 is enough for a last-use hint
    });
  }

  // ---- audit --------------------------------------------------------------------------------

  async appendAudit(e: Omit<AuditEvent, 'seq'>): Promise<AuditEvent> {
    return this.op(async () => {
      const seq = await this.nextSeq('audit');
      await this.audit.collection.insertOne({
        _id: identityId('audit', String(seq)), seq, at: e.at, ...opt('actor', e.actor), action: e.action, outcome: e.outcome, ...opt('target', e.target),
        ...opt('remote', e.remote), ...opt('detail', e.detail ? JSON.stringify(e.detail) : undefined),
      }, MAJORITY);
      return { ...e, seq };
    });
  }

  async queryAudit(q: AuditQuery): Promise<AuditEvent[]> {
    // audit_by_actor / audit_by_remote / audit_by_at by the filter given, else audit_by_seq
    return this.op(async () => (await this.audit.find(auditFilter(q)).sort({ seq: 1 }).limit(q.limit).lean<Doc[]>()).map(toAudit));
  }

  async countAudit(q: Omit<AuditQuery, 'limit' | 'afterSeq'>): Promise<number> {
    return this.op(async () => this.audit.countDocuments(auditFilter(q))); // audit_by_actor / audit_by_remote / audit_by_at
  }

  // ---- objects ------------------------------------------------------------------------------

  /**
   * The highest date_added a reader may see: below the oldest live lease, so an object committed
   * late by a slower writer can never land behind a page a client already has.
   */
  private visibleUpTo(c: CollectionDoc): number {
    const cutoff = nowMicros() - LEASE_US;
    const live = (c.leases ?? []).filter((l) => l.at >= cutoff);
    return live.length === 0 ? c.lastDateAdded : Math.min(...live.map((l) => l.start)) - 1;
  }

  private async page<T>(collectionId: string, query: ObjectQuery, withBody: boolean, map: (d: Doc) => T): Promise<Page<T>> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      if (!c) return { items: [], more: false };
      const visibleUpTo = this.visibleUpTo(c);
      const filter = objectFilter(collectionId, query, visibleUpTo);
      if (!filter) return { items: [], more: false };
      const model = await this.objectsFor(c.apiRoot);
      const page = await scanLimitedPage<Doc>(
        query,
        async (n) => {
          const window = await model.find({ collectionId, dateAdded: { $gt: query.addedAfter ?? -1, $lte: visibleUpTo } }, { _id: 0, dateAdded: 1 }).sort({ dateAdded: 1 }).skip(n - 1).limit(2).lean<Doc[]>(); // objects_page
          return window.length === 2 ? (window[0]!.dateAdded as number) : undefined;
        },
        // objects_by_id with ids, objects_by_type with types, objects_page_last/_first for one flag,
        // else objects_page; date_added order is the keyset order.
        (ceiling) => {
          const bounded = ceiling === undefined ? filter : { ...filter, dateAdded: { ...(filter.dateAdded as Record<string, number>), $lte: ceiling } };
          return model.find(bounded, withBody ? { _id: 0, vid: 0 } : { _id: 0, json: 0 }).sort({ dateAdded: 1 }).limit(query.limit + 1).lean<Doc[]>();
        },
      );
      return { ...page, items: page.items.map(map) };
    });
  }

  async queryObjects(collectionId: string, query: ObjectQuery): Promise<Page<StoredObject>> {
    return this.page(collectionId, query, true, (d) => ({ ...toManifest(d), json: d.json }));
  }

  async queryManifest(collectionId: string, query: ObjectQuery): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, query, false, toManifest);
  }

  async queryVersions(collectionId: string, objectId: string, query: Omit<ObjectQuery, 'ids' | 'types' | 'versions'>): Promise<Page<ManifestEntry>> {
    return this.page(collectionId, { ...query, ids: [objectId], versions: { all: true } }, false, toManifest);
  }

  async hasObject(collectionId: string, objectId: string, maxTlp?: number): Promise<boolean> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      if (!c) return false;
      const q = { collectionId, id: objectId, ...opt('tlp', maxTlp === undefined ? undefined : { $lte: maxTlp }) };
      return (await (await this.objectsFor(c.apiRoot)).exists(q)) !== null; // objects_by_id
    });
  }

  async countObjects(collectionId: string): Promise<number> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      return c ? (await this.objectsFor(c.apiRoot)).countDocuments({ collectionId }) : 0; // objects_page
    });
  }

  async deleteObject(collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'versions' | 'specVersions' | 'maxTlp'>, actor: { kind: ChangeRecord['actorKind'] } = { kind: 'desk' }): Promise<number> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      const q = objectFilter(collectionId, { ...filter, ids: [objectId] });
      if (!c || !q) return 0;
      const model = await this.objectsFor(c.apiRoot);
      // Read before deleting: the newest version going is the withdrawal's last version (published collections log it).
      const last = c.purpose === 'published' ? await model.findOne(q, { type: 1, version: 1, vid: 1, tlp: 1, dateAdded: 1 }).sort({ versionKey: -1 }).lean<Doc>() : null; // objects_by_id
      const deleted = (await model.deleteMany(q, MAJORITY)).deletedCount; // objects_by_id
      if (deleted > 0) await this.refreshFlags(model, collectionId, [objectId]);
      if (deleted > 0 && last) {
        const lease = await this.allocate(collectionId, 1);
        if (lease) {
          try {
            await this.insertIgnoringDuplicates(this.changes, [{
              _id: identityId('change', collectionId, objectId, last.vid as string, String(last.dateAdded), 'withdrawn'), id: randomUUID(), collectionId, dateAdded: lease.start,
              type: 'object.withdrawn', objectType: last.type, objectId, ...opt('version', last.version as string), actorKind: actor.kind, reason: 'deleted',
              ...opt('lastVersion', last.version as string), tlp: last.tlp ?? 0,
            }]);
          } finally {
            await this.release(collectionId, lease.token);
          }
        }
      }
      return deleted;
    });
  }

  /**
   * Recomputes first/last/latest-spec of some objects from their stored versions. Without a
   * transaction a concurrent writer may overwrite us with flags computed from an older set of
   * versions, so after writing we re-read the version set and redo the objects whose set moved:
   * the last writer of any flag has then computed it from the final set.
   */
  private async refreshFlags(model: Model<ObjectDoc>, collectionId: string, objectIds: string[]): Promise<void> {
    let ids = [...new Set(objectIds)];
    for (let round = 0; ids.length > 0 && round < 10; round++) {
      const fields = { id: 1, versionKey: 1, specVersion: 1, tlp: 1, isFirst: 1, isLast: 1, isLatestSpec: 1, firstAt: 1, lastAt: 1 };
      const docs = await model.find({ collectionId, id: { $in: ids } }, fields).lean<Doc[]>(); // objects_by_id
      const byId = new Map<string, Doc[]>();
      for (const d of docs) byId.set(d.id, [...(byId.get(d.id) ?? []), d]);
      const ops: any[] = [];
      for (const versions of byId.values()) {
        const flags = versionFlags(versions.map((v) => ({ versionKey: v.versionKey, tlp: v.tlp ?? 0, specVersion: v.specVersion })));
        versions.forEach((v, i) => {
          const f = flags[i]!;
          const want = { isFirst: f.isFirst, isLast: f.isLast, isLatestSpec: f.isLatestSpec, firstAt: ranksOf(f.firstMask), lastAt: ranksOf(f.lastMask) };
          const same = want.isFirst === v.isFirst && want.isLast === v.isLast && want.isLatestSpec === v.isLatestSpec
            && String(want.firstAt) === String(v.firstAt ?? []) && String(want.lastAt) === String(v.lastAt ?? []);
          if (!same) ops.push({ updateOne: { filter: { _id: v._id }, update: { $set: want } } });
        });
      }
      if (ops.length === 0) return;
      await model.bulkWrite(ops, { ordered: false, ...MAJORITY });
      const seen = new Map([...byId].map(([id, vs]) => [id, vs.map((v) => String(v._id)).sort().join()]));
      const now = await model.find({ collectionId, id: { $in: ids } }, { id: 1 }).lean<Doc[]>(); // objects_by_id
      const current = new Map<string, string[]>();
      for (const d of now) current.set(d.id, [...(current.get(d.id) ?? []), String(d._id)]);
      ids = ids.filter((id) => (current.get(id) ?? []).sort().join() !== (seen.get(id) ?? ''));
    }
  }

  // ---- moving objects in (meridian migrate, meridian restore of a root's export) ----------------

  /** The highest date_added stored in the collection (0 when empty): where a resumed migrate continues (not in the Store interface). */
  async highestDateAdded(collectionId: string): Promise<number> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      if (!c) return 0;
      const top = await (await this.objectsFor(c.apiRoot)).findOne({ collectionId }, { dateAdded: 1 }).sort({ dateAdded: -1 }).lean<Doc>(); // objects_page
      return (top?.dateAdded as number | undefined) ?? 0;
    });
  }

  /** Store.importObjects: an upsert by identity (a version already there is replaced by the same content). */
  async importObjects(collectionId: string, objects: ImportedObject[]): Promise<void> {
    return this.op(async () => {
      const c = await this.collectionDoc(collectionId);
      if (!c) throw new Error(`collection ${collectionId} does not exist in MongoDB`);
      if (objects.length === 0) return;
      const model = await this.objectsFor(c.apiRoot);
      await model.bulkWrite(objects.map((o) => {
        const vid = o.version === undefined ? UNVERSIONED : o.versionKey;
        const doc = {
          collectionId, dateAdded: o.dateAdded, id: o.id, type: o.type, ...opt('version', o.version), versionKey: o.versionKey, vid, specVersion: o.specVersion,
          mediaType: o.mediaType, isFirst: false, isLast: false, isLatestSpec: false, firstAt: [], lastAt: [], tlp: o.tlp, submissionId: o.submissionId ?? 'migrated', ...opt('warnings', o.warnings), json: o.json,
        };
        return { replaceOne: { filter: { _id: identityId('object', collectionId, o.id, vid) }, replacement: doc, upsert: true } };
      }), { ordered: false, ...MAJORITY });
      const top = Math.max(...objects.map((o) => o.dateAdded));
      await this.collections.updateOne({ _id: identityId('collection', collectionId) }, { $max: { lastDateAdded: top } }, MAJORITY); // _id
      await this.refreshFlags(model, collectionId, objects.map((o) => o.id));
    });
  }

  /**
   * Takes `n` consecutive date_added values for the collection and a lease on them, by
   * compare-and-set on its document: unique and increasing across any number of server instances.
   */
  private async allocate(collectionId: string, n: number): Promise<{ start: number; token: string } | undefined> {
    const _id = identityId('collection', collectionId);
    const token = randomUUID();
    for (let attempt = 0; ; attempt++) {
      const c = await this.collectionDoc(collectionId);
      if (!c) return undefined;
      const now = nowMicros();
      const stale = (c.leases ?? []).filter((l) => l.at < now - LEASE_US);
      if (stale.length > 0) await this.collections.updateOne({ _id }, { $pull: { leases: { token: { $in: stale.map((l) => l.token) } } } }, MAJORITY);
      const start = Math.max(c.lastDateAdded ?? 0, now - 1) + 1;
      // _id; matches only if no other writer moved the high-water mark since we read it.
      const res = await this.collections.updateOne(
        { _id, lastDateAdded: c.lastDateAdded },
        { $set: { lastDateAdded: start + n - 1 }, $push: { leases: { token, start, at: now } } },
        MAJORITY,
      );
      if (res.modifiedCount === 1) return { start, token };
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
    }
  }

  private async release(collectionId: string, token: string): Promise<void> {
    await this.collections.updateOne({ _id: identityId('collection', collectionId) }, { $pull: { leases: { token } } }, MAJORITY); // _id
  }

  // ---- submissions --------------------------------------------------------------------------

  async createSubmission(s: NewSubmission): Promise<void> {
    return this.op(async () => {
      // The body goes in chunks (a document holds at most 16 MB; envelopes may be larger), before the
      // submission: a crash in between leaves only unreachable chunks, never a body-less submission.
      const body = s.body ?? Buffer.alloc(0);
      const chunks = Math.ceil(body.length / BODY_CHUNK);
      for (let n = 0; n < chunks; n++) {
        await this.bodies.collection.replaceOne(
          { _id: identityId('body', s.id, String(n)) },
          { submissionId: s.id, n, data: body.subarray(n * BODY_CHUNK, (n + 1) * BODY_CHUNK) },
          { upsert: true, ...MAJORITY },
        );
      }
      await this.submissions.collection.insertOne({
        _id: identityId('submission', s.id), id: s.id, apiRoot: s.apiRoot, collectionId: s.collectionId, accountId: s.accountId,
        requestTimestamp: s.requestTimestamp, status: 'pending', totalCount: s.totalCount, successCount: 0, failureCount: 0, pendingCount: s.totalCount,
      }, MAJORITY);
    });
  }

  async ingest(submissionId: string, items: IngestItem[]): Promise<void> {
    return this.op(async () => {
      const sub = await this.submissions.findById(identityId('submission', submissionId), { collectionId: 1, accountId: 1 }).lean<Doc>(); // _id
      if (!sub) throw new Error(`unknown submission ${submissionId}`);
      const collectionId = sub.collectionId as string;
      const c = await this.collectionDoc(collectionId);
      const outcomes = new Map<number, { dateAdded?: number; failure?: string }>();
      for (const item of items) if ('failure' in item) outcomes.set(item.index, { failure: item.failure });
      let objects = items.flatMap((i) => ('object' in i ? [i] : []));
      const intake = c?.purpose === 'intake';
      if (intake && objects.length > 0) {
        // Sticky rejections: a version the desk rejected is refused, not stored (Store.ingest).
        const rejected = await this.curation.rejections(objects.map((i) => i.object));
        objects = objects.filter((i) => {
          const key = MongoCuration.rejectionKey(i.object);
          const entry = key === undefined ? undefined : rejected.get(key);
          if (entry) outcomes.set(i.index, { failure: rejectedFailure(entry) });
          return !entry;
        });
      }
      if (!c) {
        for (const i of objects) outcomes.set(i.index, { failure: 'the collection no longer exists' });
      } else if (objects.length > 0) {
        const stored: StoredInIntake[] = [];
        // Direct writes to a published collection are logged as the desk for curators and admins, else as the vendor.
        const log = c.purpose === 'published'
          ? { actorKind: writerKind(((await this.accounts.findById(identityId('account', sub.accountId as string), { roles: 1 }).lean<Doc>())?.roles ?? []) as Role[]) } // _id
          : undefined;
        await this.storeObjects(await this.objectsFor(c.apiRoot), collectionId, submissionId, objects, outcomes, stored, log);
        // After the objects: a crash in between is resumed by ingesting again, which finds them as duplicates.
        if (intake) await this.curation.enqueue({ id: collectionId, apiRoot: c.apiRoot }, submissionId, sub.accountId as string, stored);
      }
      // _id per (submission, index): an item ingested before (a resumed batch) is a duplicate and keeps its outcome.
      const docs = items.map((item) => {
        const o = outcomes.get(item.index)!;
        return {
          _id: identityId('item', submissionId, String(item.index)), submissionId, idx: item.index, objectId: item.id, version: item.version,
          outcome: o.failure ? 'failure' : 'success', ...opt('message', o.failure), ...opt('dateAdded', o.dateAdded),
        };
      });
      await this.insertIgnoringDuplicates(this.items, docs);
      await this.recount(submissionId);
    });
  }

  /**
   * Stores new objects (or finds their duplicates) and records each item's outcome. Objects derived
   * from an item follow it (and get later date_added values); they have no outcome of their own.
   * `stored` receives every object stored or found as an exact duplicate, in envelope order (the queue of an intake).
   */
  private async storeObjects(model: Model<ObjectDoc>, collectionId: string, submissionId: string, items: Array<Extract<IngestItem, { object: unknown }>>, outcomes: Map<number, { dateAdded?: number; failure?: string }>, stored?: StoredInIntake[], log?: { actorKind: ChangeRecord['actorKind'] }): Promise<void> {
    type Entry = { index?: number; object: NewObject; order: number };
    const kept: Array<StoredInIntake & { order: number }> = [];
    let order = 0;
    const key = (o: NewObject) => String(identityId('object', collectionId, o.id, o.versionKey ?? UNVERSIONED));
    const duplicateOf = (existing: Doc, json: string) => (existing.json === json ? { dateAdded: existing.dateAdded as number } : { failure: CLASH });
    const all = items.flatMap((i) => [i.object, ...(i.derived ?? [])]);
    const existing = new Map((await model.find({ _id: { $in: all.map((o) => identityId('object', collectionId, o.id, o.versionKey ?? UNVERSIONED)) } }, { json: 1, dateAdded: 1, submissionId: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
    const fresh: Entry[] = [];
    const firstInBatch = new Map<string, Entry>();
    /** Versions this submission stored before (a resumed batch): their change may be the one a crash lost. */
    const ownEarlier: Logged[] = [];
    const consider = (e: Entry): boolean => {
      const k = key(e.object);
      const prior = existing.get(k);
      if (prior) {
        const o = duplicateOf(prior, e.object.json);
        if (e.index !== undefined) outcomes.set(e.index, o);
        if (o.dateAdded !== undefined) kept.push({ object: e.object, dateAdded: o.dateAdded, order: e.order });
        if (log && o.dateAdded !== undefined && prior.submissionId === submissionId) ownEarlier.push({ object: e.object, dateAdded: o.dateAdded });
        return !o.failure;
      }
      if (!firstInBatch.has(k)) {
        firstInBatch.set(k, e);
        fresh.push(e);
      }
      return true;
    };
    for (const item of items) {
      // Derived SCOs have deterministic ids: one already stored is the same observable.
      if (consider({ index: item.index, object: item.object, order: order++ })) for (const d of item.derived ?? []) consider({ object: d, order: order++ });
    }
    // A published collection's change log gets each version stored here right after it (ChangeRecord):
    // date_added from the same lease, one value after the object's, identity `_id`s so that a
    // resumed batch writes the ones a crash lost and none twice.
    const missing = log && ownEarlier.length > 0 ? await this.unloggedOf(collectionId, ownEarlier) : [];
    const step = log ? 2 : 1;
    if (fresh.length > 0 || missing.length > 0) {
      const lease = await this.allocate(collectionId, fresh.length * step + missing.length);
      if (!lease) {
        for (const e of fresh) if (e.index !== undefined) outcomes.set(e.index, { failure: 'the collection no longer exists' });
      } else {
        try {
          const docs: ObjectDoc[] = fresh.map(({ object: o }, n) => {
            const dateAdded = lease.start + n * step;
            return {
              _id: identityId('object', collectionId, o.id, o.versionKey ?? UNVERSIONED), collectionId, dateAdded, id: o.id, type: o.type, ...opt('version', o.version),
              versionKey: o.versionKey ?? versionKeyFromMicros(dateAdded), vid: o.versionKey ?? UNVERSIONED, specVersion: o.specVersion, mediaType: o.mediaType,
              isFirst: false, isLast: false, isLatestSpec: false, firstAt: [], lastAt: [], tlp: o.tlp, submissionId, ...opt('warnings', o.warnings), json: o.json,
            };
          });
          const lost = docs.length === 0 ? new Set<number>() : await this.insertIgnoringDuplicates(model, docs);
          const logged: Array<Logged & { at: number }> = [];
          fresh.forEach((e, n) => {
            if (lost.has(n)) return; // the concurrent writer that stored it first logs it
            if (e.index !== undefined) outcomes.set(e.index, { dateAdded: docs[n]!.dateAdded });
            kept.push({ object: e.object, dateAdded: docs[n]!.dateAdded, order: e.order });
            logged.push({ object: e.object, dateAdded: docs[n]!.dateAdded, at: docs[n]!.dateAdded + 1 });
          });
          missing.forEach((m, n) => logged.push({ ...m, at: lease.start + fresh.length * step + n }));
          if (lost.size > 0) {
            // A concurrent writer stored the same identity first: we are its duplicate (or clash).
            const winners = new Map((await model.find({ _id: { $in: [...lost].map((n) => docs[n]!._id) } }, { json: 1, dateAdded: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
            for (const n of lost) {
              const e = fresh[n]!;
              if (e.index === undefined) continue;
              const w = winners.get(String(docs[n]!._id));
              const o = w ? duplicateOf(w, e.object.json) : { failure: 'a concurrent delete removed this object; submit it again' };
              outcomes.set(e.index, o);
              if (o.dateAdded !== undefined) kept.push({ object: e.object, dateAdded: o.dateAdded, order: e.order });
            }
          }
          if (log && logged.length > 0) await this.logStored(model, collectionId, log.actorKind, logged);
          if (fresh.length > 0) await this.refreshFlags(model, collectionId, fresh.map((e) => e.object.id));
        } finally {
          await this.release(collectionId, lease.token);
        }
      }
    }
    if (stored) stored.push(...kept.sort((a, b) => a.order - b.order).map(({ object, dateAdded }) => ({ object, dateAdded })));
    // Repeats within the batch take the outcome of their first occurrence.
    for (const item of items) {
      if (outcomes.has(item.index)) continue;
      const first = firstInBatch.get(key(item.object))!;
      const o = (first.index !== undefined ? outcomes.get(first.index) : undefined) ?? { failure: 'not stored' };
      outcomes.set(item.index, o.failure || first.object.json === item.object.json ? o : { failure: CLASH });
    }
  }

  /** The identity of the change that logs one stored version: the version and its date_added (a version deleted and stored again is logged again). */
  private changeIdOf(collectionId: string, l: Logged): mongoose.Types.ObjectId {
    return identityId('change', collectionId, l.object.id, l.object.versionKey ?? UNVERSIONED, String(l.dateAdded));
  }

  /** Those of the versions whose change is not in the log (one query by `_id`). */
  private async unloggedOf(collectionId: string, versions: Logged[]): Promise<Logged[]> {
    const present = new Set((await this.changes.find({ _id: { $in: versions.map((v) => this.changeIdOf(collectionId, v)) } }, { _id: 1 }).lean<Doc[]>()).map((d) => String(d._id))); // _id
    return versions.filter((v) => !present.has(String(this.changeIdOf(collectionId, v))));
  }

  /**
   * Writes the changes of versions stored in a published collection, each at its `at`: published
   * when no version of the id was added before it, else updated; revoked for revoked: true.
   */
  private async logStored(model: Model<ObjectDoc>, collectionId: string, actorKind: ChangeRecord['actorKind'], logged: Array<Logged & { at: number }>): Promise<void> {
    const earliest = new Map<string, number>();
    for (const d of await model.find({ collectionId, id: { $in: [...new Set(logged.map((l) => l.object.id))] } }, { id: 1, dateAdded: 1 }).lean<Doc[]>()) { // objects_by_id
      earliest.set(d.id, Math.min(earliest.get(d.id) ?? Infinity, d.dateAdded as number));
    }
    await this.insertIgnoringDuplicates(this.changes, logged.map((l) => {
      const o = l.object;
      return {
        _id: this.changeIdOf(collectionId, l), id: randomUUID(), collectionId, dateAdded: l.at, type: ingestChangeType(o, (earliest.get(o.id) ?? l.dateAdded) >= l.dateAdded),
        objectType: o.type, objectId: o.id, ...opt('version', o.version), actorKind, tlp: o.tlp,
      };
    }));
  }

  /** Inserts unordered; returns the positions refused as duplicates (11000). */
  private async insertIgnoringDuplicates(model: Model<any>, docs: Doc[]): Promise<Set<number>> {
    try {
      await model.collection.insertMany(docs, { ordered: false, ...MAJORITY });
      return new Set();
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index: number; code: number }> | { index: number; code: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length === 0 || list.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      return new Set(list.map((e) => e.index));
    }
  }

  /** Sets the submission's counts from its items: idempotent, so a crash or a race leaves nothing off. */
  private async recount(submissionId: string): Promise<void> {
    const _id = identityId('submission', submissionId);
    const sub = await this.submissions.findById(_id, { totalCount: 1 }).lean<Doc>(); // _id
    const groups = await this.items.aggregate<{ _id: string; n: number }>([
      { $match: { submissionId } }, // submission_items_by_submission
      { $group: { _id: '$outcome', n: { $sum: 1 } } },
    ]);
    const n = (outcome: string) => groups.find((g) => g._id === outcome)?.n ?? 0;
    const pending = (sub?.totalCount ?? 0) - n('success') - n('failure');
    await this.submissions.updateOne({ _id }, { $set: { successCount: n('success'), failureCount: n('failure'), pendingCount: pending } }, MAJORITY);
  }

  async completeSubmission(submissionId: string): Promise<void> {
    return this.op(async () => {
      await this.submissions.updateOne({ _id: identityId('submission', submissionId) }, { $set: { status: 'complete', completedAt: Date.now() * 1000 } }, MAJORITY); // _id
      await this.bodies.deleteMany({ submissionId }); // submission_bodies_by_submission
    });
  }

  async getSubmission(submissionId: string): Promise<SubmissionRecord | undefined> {
    return this.op(async () => {
      const doc = await this.submissions.findById(identityId('submission', submissionId)).lean<Doc>(); // _id
      return doc ? toSubmission(doc) : undefined;
    });
  }

  async submissionItems(submissionId: string): Promise<SubmissionItem[]> {
    return this.op(async () => (await this.items.find({ submissionId }).sort({ idx: 1 }).lean<Doc[]>()).map((d) => ({ // submission_items_by_submission
      index: d.idx, id: d.objectId, version: d.version, outcome: d.outcome, ...opt('message', d.message as string), ...opt('dateAdded', d.dateAdded as number),
    })));
  }

  async pendingSubmissions(): Promise<Array<SubmissionRecord & { body: Buffer; pendingIndexes: number[] }>> {
    return this.op(async () => {
      const subs = await this.submissions.find({ status: 'pending' }).sort({ requestTimestamp: 1 }).lean<Doc[]>(); // submissions_pending
      const out: Array<SubmissionRecord & { body: Buffer; pendingIndexes: number[] }> = [];
      for (const s of subs) {
        const done = new Set((await this.items.find({ submissionId: s.id }, { idx: 1 }).lean<Doc[]>()).map((i) => i.idx as number)); // submission_items_by_submission
        const chunks = await this.bodies.find({ submissionId: s.id }).sort({ n: 1 }).lean<Doc[]>(); // submission_bodies_by_submission
        out.push({
          ...toSubmission(s),
          body: Buffer.concat(chunks.map((c) => toBuffer(c.data))),
          pendingIndexes: Array.from({ length: s.totalCount as number }, (_, i) => i).filter((i) => !done.has(i)),
        });
      }
      return out;
    });
  }

  async purgeSubmissions(completedBefore: number): Promise<number> {
    return this.op(async () => {
      const old = await this.submissions.find({ status: 'complete', completedAt: { $lt: completedBefore } }, { id: 1 }).lean<Doc[]>(); // submissions_completed
      if (old.length === 0) return 0;
      const ids = old.map((s) => s.id as string);
      // Items first: an interrupted purge leaves the submission, which the next purge finds again.
      await this.items.deleteMany({ submissionId: { $in: ids } }); // submission_items_by_submission
      return (await this.submissions.deleteMany({ _id: { $in: old.map((s) => s._id) } })).deletedCount; // _id
    });
  }

  // ---- the desk (collections/mongo/curation.ts) ---------------------------------------------

  async getDeskRules(collectionId: string): Promise<DeskRules> {
    return this.op(() => this.curation.getDeskRules(collectionId));
  }

  async putDeskRules(collectionId: string, rules: DeskRules): Promise<void> {
    return this.op(() => this.curation.putDeskRules(collectionId, rules));
  }

  async queryQueue(query: QueueQuery): Promise<Page<QueueEntry>> {
    return this.op(() => this.curation.queryQueue(query));
  }

  async getQueueEntries(ids: string[]): Promise<QueueEntry[]> {
    return this.op(() => this.curation.getQueueEntries(ids));
  }

  async rejectionOf(objectId: string, versionKey: string): Promise<QueueEntry | undefined> {
    return this.op(() => this.curation.rejectionOf(objectId, versionKey));
  }

  async applyDecision(plan: DecisionPlan): Promise<DecisionOutcome> {
    return this.op(() => this.curation.applyDecision(plan));
  }

  async resumeDecisions(): Promise<number> {
    return this.op(() => this.curation.resumeDecisions());
  }

  async listPublications(filter: { objectId?: string; collectionId?: string; entryId?: string }): Promise<PublicationRecord[]> {
    return this.op(() => this.curation.listPublications(filter));
  }

  async getChange(collectionId: string, changeId: string): Promise<ChangeRecord | undefined> {
    return this.op(() => this.curation.getChange(collectionId, changeId));
  }

  async readChanges(collectionId: string, afterDateAdded: number, limit: number): Promise<Page<ChangeRecord>> {
    return this.op(() => this.curation.readChanges(collectionId, afterDateAdded, limit));
  }

  async purgeChanges(before: number): Promise<number> {
    return this.op(() => this.curation.purgeChanges(before));
  }

  async changeHorizon(collectionId: string): Promise<number> {
    return this.op(() => this.curation.changeHorizon(collectionId));
  }

  async listDecisions(filter: { accountId?: string; limit: number }): Promise<DecisionRecord[]> {
    return this.op(() => this.curation.listDecisions(filter));
  }

  async curationStats(intakeIds: string[]): Promise<CurationStats> {
    return this.op(() => this.curation.curationStats(intakeIds));
  }

  async submissionsPerDay(intakeIds: string[], since: number): Promise<SubmissionsPerDay[]> {
    return this.op(() => this.curation.submissionsPerDay(intakeIds, since));
  }
}
