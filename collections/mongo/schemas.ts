// The MongoDB store's documents and indexes (docs/architecture.md §5). Every index is named
// after the endpoint that needs it and is created at start-up (objects_<root> when the root is first
// used). Identities live in `_id` (a hash, see identityId) as well as in unique indexes: `_id` is
// enforced by every MongoDB-compatible server, secondary unique indexes guard the rest on real MongoDB.
import { createHash } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import type { Migration } from '../migrations.js';

/** A deterministic ObjectId for an identity: a second insert of the same identity fails with 11000. */
export function identityId(...parts: string[]): mongoose.Types.ObjectId {
  return new mongoose.Types.ObjectId(createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 12));
}

/** Writes every MongoDB document of the store waits for: acknowledged by a majority of the replica set. */
export const MAJORITY = { writeConcern: { w: 'majority' as const } };
export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === DUPLICATE_KEY;
}

/** Now, in microseconds since the epoch (sub-millisecond from the monotonic clock). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** `{ key: value }`, or nothing when the value is absent (optional document fields). */
export function opt<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The database a URI names (its path), "meridian" when it names none. */
export function databaseName(uri: string): string {
  return new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.slice(1) || 'meridian';
}

/** `uri` naming database `db` instead of its own (options kept). */
export function withDatabase(uri: string, db: string): string {
  const u = new URL(uri);
  u.pathname = `/${db}`;
  return u.toString();
}

/** The MongoDB collection holding the STIX objects of one API root (paths are [a-z0-9_-]). */
export function objectsCollectionName(apiRoot: string): string {
  return `objects_${apiRoot}`;
}

/** `vid` of an object that carries no version: it has one version only, whatever its date_added. */
export const UNVERSIONED = '-';

export interface ObjectDoc {
  _id: mongoose.Types.ObjectId;
  collectionId: string;
  /** µs since the epoch; exact as a double up to 2^53. */
  dateAdded: number;
  id: string;
  type: string;
  version?: string;
  versionKey: string;
  /** Duplicate identity: versionKey, or UNVERSIONED for objects without modified/created. */
  vid: string;
  specVersion: string;
  mediaType: string;
  isFirst: boolean;
  isLast: boolean;
  isLatestSpec: boolean;
  /** TLP caps (ranks) under which this version is the caller's first / last (versionFlags masks as lists). */
  firstAt: number[];
  lastAt: number[];
  /** TLP rank of the object's markings (TLP_RANK); queries under a grant's cap filter on it. */
  tlp: number;
  submissionId: string;
  /** Pipeline warnings (JSON list of findings), kept as provenance. */
  warnings?: string;
  /** The normalised STIX object exactly as serialised at ingest, returned byte for byte. */
  json: string;
}

export interface Lease {
  token: string;
  /** First date_added of the allocated range: readers see nothing at or after it until released. */
  start: number;
  /** When it was taken (µs); a lease older than LEASE_US is a crashed writer's and is ignored. */
  at: number;
}

export interface CollectionDoc {
  _id: mongoose.Types.ObjectId;
  id: string;
  apiRoot: string;
  seq: number;
  title: string;
  description?: string;
  alias?: string;
  purpose: string;
  /** JSON of CollectionRecord.enrichment, kept exact. */
  enrichment?: string;
  /** `<apiRoot>/<alias>`, only when there is an alias: a sparse single-field unique key. */
  aliasKey?: string;
  mediaTypes: string[];
  createdAt: number;
  /** High-water mark of date_added, advanced atomically by compare-and-set. */
  lastDateAdded: number;
  leases: Lease[];
  /** Newest date_added dropped from the change log by retention (Store.changeHorizon); absent = 0. */
  changeHorizon?: number;
}

// strict: false on every schema: a field this version does not know is kept, never silently dropped.
const base = { strict: false, versionKey: false, autoIndex: false, autoCreate: false } as const;

export const objectSchema = new Schema<ObjectDoc>({
  collectionId: { type: String, required: true },
  dateAdded: { type: Number, required: true },
  id: { type: String, required: true },
  type: { type: String, required: true },
  version: String,
  versionKey: { type: String, required: true },
  vid: { type: String, required: true },
  specVersion: { type: String, required: true },
  mediaType: { type: String, required: true },
  isFirst: Boolean,
  isLast: Boolean,
  isLatestSpec: Boolean,
  firstAt: [Number],
  lastAt: [Number],
  tlp: Number,
  submissionId: String,
  warnings: String,
  json: { type: String, required: true },
}, base);
// GET objects/ and manifest/ (§5.3, §5.4) with match[version]=all or exact versions: keyset on date_added
objectSchema.index({ collectionId: 1, dateAdded: 1 }, { name: 'objects_page', unique: true });
// GET objects/ and manifest/ with the default match[version]=last: the polling hot path
objectSchema.index({ collectionId: 1, isLast: 1, dateAdded: 1 }, { name: 'objects_page_last' });
// GET objects/ and manifest/ with match[version]=first
objectSchema.index({ collectionId: 1, isFirst: 1, dateAdded: 1 }, { name: 'objects_page_first' });
// GET objects/{id}/, versions/, DELETE (§5.6–5.8), match[id]; duplicate detection on POST (§5.5)
objectSchema.index({ collectionId: 1, id: 1, vid: 1 }, { name: 'objects_by_id', unique: true });
// match[type] on objects/ and manifest/
objectSchema.index({ collectionId: 1, type: 1, dateAdded: 1 }, { name: 'objects_by_type' });

export const organisationSchema = new Schema({
  id: { type: String, required: true },
  name: { type: String, required: true },
  kind: String,
  country: String,
  disabled: Boolean,
  createdAt: Number,
}, base);
// Admin organisation lookups by name and listing in name order
organisationSchema.index({ name: 1 }, { name: 'organisations_by_name', unique: true });

export const apiRootSchema = new Schema({
  path: { type: String, required: true },
  country: String,
  seq: Number,
  title: String,
  description: String,
  maxContentLength: Number,
  taxii20: Boolean,
  createdAt: Number,
}, base);
// GET /{api-root}/ (§4.2): one document per path
apiRootSchema.index({ path: 1 }, { name: 'api_roots_by_path', unique: true });
// GET /taxii2/ (§4.1): API roots in creation order
apiRootSchema.index({ seq: 1 }, { name: 'api_roots_discovery' });

export const collectionSchema = new Schema<CollectionDoc>({
  id: { type: String, required: true },
  apiRoot: { type: String, required: true },
  seq: Number,
  title: String,
  description: String,
  alias: String,
  purpose: String,
  enrichment: String,
  aliasKey: String,
  mediaTypes: [String],
  createdAt: Number,
  lastDateAdded: Number,
  leases: [{ _id: false, token: String, start: Number, at: Number }],
  changeHorizon: Number,
}, base);
// GET {api-root}/collections/{alias}/ (§5.2): an alias is unique within its API root
collectionSchema.index({ aliasKey: 1 }, { name: 'collections_by_alias', unique: true, sparse: true });
// GET {api-root}/collections/ (§5.1): stable (creation) order
collectionSchema.index({ apiRoot: 1, seq: 1 }, { name: 'collections_by_root' });

export const accountSchema = new Schema({
  id: { type: String, required: true },
  name: { type: String, required: true },
  organisationId: String,
  passwordHash: String,
  roles: [String],
  curatorRoots: [String],
  disabled: Boolean,
  credentialVersion: Number,
  createdAt: Number,
}, base);
// Basic authentication on every request; admin account listing by name
accountSchema.index({ name: 1 }, { name: 'accounts_by_name', unique: true });
// Organisation changes (credential bumps of its members) and organisation deletes
accountSchema.index({ organisationId: 1 }, { name: 'accounts_by_organisation' });

/** `_id` is identityId('grant', collectionId, subject): one grant per collection and subject. */
export const grantSchema = new Schema({
  id: { type: String, required: true },
  collectionId: { type: String, required: true },
  accountId: String,
  organisationId: String,
  role: String,
  canRead: Boolean,
  canWrite: Boolean,
  maxTlp: String,
  createdAt: Number,
}, base);
// Admin grant endpoints by grant id
grantSchema.index({ id: 1 }, { name: 'grants_by_id', unique: true });
// Access checks on every request: an account's own grants
grantSchema.index({ accountId: 1, createdAt: 1 }, { name: 'grants_by_account' });
// Access checks on every request: the grants of an account's organisation (and its roles there)
grantSchema.index({ organisationId: 1, role: 1 }, { name: 'grants_by_organisation' });
// Collection deletes and per-collection grant listings
grantSchema.index({ collectionId: 1, createdAt: 1 }, { name: 'grants_by_collection' });

export const apiKeySchema = new Schema({
  id: { type: String, required: true },
  accountId: { type: String, required: true },
  name: String,
  prefix: { type: String, required: true },
  hash: String,
  createdAt: Number,
  expiresAt: Number,
  lastUsedAt: Number,
  revokedAt: Number,
}, base);
// Authentication by API key: the public prefix finds the key
apiKeySchema.index({ prefix: 1 }, { name: 'api_keys_by_prefix', unique: true });
// Admin key listing per account; account deletes
apiKeySchema.index({ accountId: 1, createdAt: 1 }, { name: 'api_keys_by_account' });

export const auditSchema = new Schema({
  seq: { type: Number, required: true },
  at: Number,
  actor: String,
  action: String,
  outcome: String,
  target: String,
  remote: String,
  /** JSON, kept exact. */
  detail: String,
}, base);
// GET /admin/v1/audit in order, paging by afterSeq
auditSchema.index({ seq: 1 }, { name: 'audit_by_seq', unique: true });
// GET /admin/v1/audit by actor, and login throttling (failures of one account name in a window)
auditSchema.index({ actor: 1, action: 1, at: 1 }, { name: 'audit_by_actor' });
// Login throttling by client address
auditSchema.index({ remote: 1, action: 1, at: 1 }, { name: 'audit_by_remote' });
// GET /admin/v1/audit by time range
auditSchema.index({ at: 1 }, { name: 'audit_by_at' });
// GET /admin/v1/curation/stats submissions per day: POSTs only, so logins and other events cost it nothing
auditSchema.index({ action: 1, at: 1 }, { name: 'audit_submissions', partialFilterExpression: { action: 'objects.add' } });

export const submissionSchema = new Schema({
  id: { type: String, required: true },
  apiRoot: String,
  collectionId: String,
  accountId: String,
  requestTimestamp: Number,
  status: String,
  totalCount: Number,
  successCount: Number,
  failureCount: Number,
  pendingCount: Number,
  completedAt: Number,
}, base);
// Crash recovery at start-up: submissions still pending, oldest first
submissionSchema.index({ status: 1, requestTimestamp: 1 }, { name: 'submissions_pending' });
// Status retention purge (§4.3)
submissionSchema.index({ status: 1, completedAt: 1 }, { name: 'submissions_completed' });

export const submissionItemSchema = new Schema({
  submissionId: { type: String, required: true },
  idx: { type: Number, required: true },
  objectId: String,
  version: String,
  outcome: String,
  message: String,
  dateAdded: Number,
}, base);
// GET {api-root}/status/{status-id}/ (§4.3): processed items in envelope order; resumption skips them
submissionItemSchema.index({ submissionId: 1, idx: 1 }, { name: 'submission_items_by_submission', unique: true });

/** The retained request body of a pending submission, in chunks; dropped when it completes. */
export const submissionBodySchema = new Schema({
  submissionId: { type: String, required: true },
  n: { type: Number, required: true },
  data: Buffer,
}, base);
// Crash recovery (pending submissions' bodies) and body removal on completion
submissionBodySchema.index({ submissionId: 1, n: 1 }, { name: 'submission_bodies_by_submission', unique: true });

/** Counters (creation order of API roots and collections) and server-wide secrets, by `_id`. */
export const metaSchema = new Schema({
  value: Schema.Types.Mixed,
}, base);

// ---- the desk ------------------------------------------------------------------------------------
// No transactions: every desk document has an identity `_id`, so a retried or resumed write meets
// the one already there (11000) instead of duplicating it, and a decision is rolled forward from its
// recorded plan (see curation.ts).

/** `_id` is identityId('desk-rules', collectionId). Policy and release rules as JSON, kept exact. */
export const deskRulesSchema = new Schema({
  collectionId: { type: String, required: true },
  policy: String,
  release: String,
}, base);

/** One object version stored in an intake: `_id` is identityId('queue', intakeId, objectId, versionKey). */
export const queueSchema = new Schema({
  id: { type: String, required: true },
  seq: { type: Number, required: true },
  intakeId: { type: String, required: true },
  apiRoot: String,
  objectId: { type: String, required: true },
  objectType: String,
  version: String,
  versionKey: { type: String, required: true },
  dateAdded: Number,
  submissionId: String,
  accountId: String,
  organisationId: String,
  tlp: Number,
  revoked: Boolean,
  /** JSON of the findings, kept exact; their codes beside it for the findingCode filter. */
  findings: String,
  findingCodes: [String],
  state: String,
  rev: Number,
  reason: String,
  requestedChanges: String,
  supersededBy: String,
  approvals: [{ _id: false, targetId: String, accountId: String, organisationId: String, at: Number }],
  /** The decision that last moved the entry (undo of a stale decision matches on it). */
  decisionId: String,
  /** Set at insert until older versions were superseded: a resumed ingest finishes the job. */
  superseding: Boolean,
  createdAt: Number,
  updatedAt: Number,
}, base);
// Decisions and GET /admin/v1/curation/queue/{id}: entries by their id
queueSchema.index({ id: 1 }, { name: 'queue_by_id', unique: true });
// GET /admin/v1/curation/queue by intake (and state: the review listing), keyset on seq
queueSchema.index({ intakeId: 1, state: 1, seq: 1 }, { name: 'queue_by_intake_state' });
queueSchema.index({ intakeId: 1, seq: 1 }, { name: 'queue_by_intake' });
// Queue listing by vendor organisation (a vendor's own entries)
queueSchema.index({ organisationId: 1, seq: 1 }, { name: 'queue_by_organisation' });
// Decisions on a whole submission, queue listing by submission
queueSchema.index({ submissionId: 1, seq: 1 }, { name: 'queue_by_submission' });
// Supersession on ingest, sticky rejections (POST to an intake), an entry's earlier versions
queueSchema.index({ objectId: 1, versionKey: 1 }, { name: 'queue_by_object' });

/**
 * A published copy of an approved version: `_id` is identityId('publication', collectionId,
 * objectId, versionKey, or UNVERSIONED for objects without a version).
 */
export const publicationSchema = new Schema({
  collectionId: { type: String, required: true },
  objectId: { type: String, required: true },
  objectType: String,
  version: String,
  versionKey: String,
  dateAdded: Number,
  entryId: String,
  decisionId: String,
  /** JSON, kept exact. */
  provenance: String,
  withdrawnAt: Number,
}, base);
// Approvals and the revocation fast path: where is this object published?
publicationSchema.index({ objectId: 1, dateAdded: 1 }, { name: 'publications_by_object' });
// An entry's publications; time to publish in the curation statistics
publicationSchema.index({ entryId: 1 }, { name: 'publications_by_entry', sparse: true });
// A collection's publications (listing, collection deletes)
publicationSchema.index({ collectionId: 1, dateAdded: 1 }, { name: 'publications_by_collection' });
// Decision outcomes (publications written by one decision, also when it was resumed)
publicationSchema.index({ decisionId: 1 }, { name: 'publications_by_decision' });

/**
 * One entry of a published collection's change log: `_id` is identityId('change', decisionId, what
 * changed) for the desk's, identityId('change', collectionId, objectId, vid, date_added of the
 * version) for a version stored by ingest, and with 'withdrawn' after it for a DELETE.
 */
export const changeSchema = new Schema({
  id: { type: String, required: true },
  collectionId: { type: String, required: true },
  dateAdded: { type: Number, required: true },
  type: String,
  objectType: String,
  objectId: String,
  version: String,
  actorKind: String,
  reason: String,
  lastVersion: String,
  tlp: Number,
}, base);
// The change log of a collection (GET .../changes), keyset on date_added; collection deletes
changeSchema.index({ collectionId: 1, dateAdded: 1 }, { name: 'changes_page', unique: true });
// A live stream resuming from Last-Event-ID (a change id)
changeSchema.index({ collectionId: 1, id: 1 }, { name: 'changes_by_id' });

/** `_id` is identityId('withdrawal', decisionId, collectionId, objectId): what was there when it was withdrawn. */
export const withdrawalSchema = new Schema({
  id: String,
  collectionId: String,
  objectId: String,
  objectType: String,
  lastVersion: String,
  tlp: Number,
  versions: Number,
  reasonCode: String,
  reason: String,
  decisionId: String,
  at: Number,
}, base);
// Withdrawal history of an object
withdrawalSchema.index({ objectId: 1, at: 1 }, { name: 'withdrawals_by_object' });

/**
 * A decision: `_id` is identityId('decision', id). Written before anything it decides ('preparing'),
 * then 'applying' once every entry moved, then 'applied'; the plan itself is in decision_plans.
 */
export const decisionSchema = new Schema({
  id: { type: String, required: true },
  kind: String,
  actorKind: String,
  accountId: String,
  actorName: String,
  at: Number,
  entries: Number,
  publications: Number,
  status: String,
  /** Chunks of the plan in decision_plans. */
  chunks: Number,
  /** When it was first recorded (µs): a decision still 'recording' long after was abandoned. */
  startedAt: Number,
  /** Sequence number of its audit event, taken once so that a resumed decision writes the same one. */
  auditSeq: Number,
}, base);
// GET /admin/v1/curation/decisions, newest first; decisions per curator
decisionSchema.index({ status: 1, at: -1 }, { name: 'decisions_by_at' });
decisionSchema.index({ accountId: 1, at: -1 }, { name: 'decisions_by_account' });

/** The plan of a decision (entries' revs and pre-images, publications with their objects), in chunks. */
export const decisionPlanSchema = new Schema({
  decisionId: { type: String, required: true },
  n: { type: Number, required: true },
  data: String,
}, base);

/**
 * The documents' and indexes' numbered steps after the baseline (collections/migrations.ts), in
 * order; changing existing databases is one entry here. A step runs before the indexes are ensured
 * (so it may drop or rebuild one whose definition changed) and must be idempotent: there are no
 * transactions to undo half a step, and several server instances may start at once.
 */
export const MONGO_MIGRATIONS: ReadonlyArray<Migration<mongoose.Connection, Promise<void>>> = [];
