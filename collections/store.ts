// The store interface (docs/architecture.md §5): one method per TAXII need, typed query in, typed page out.
// Stores never see raw query strings and never build HTTP headers. All times are integer
// microseconds since the epoch; version keys are the sortable strings of stix-schemas timestampKey.
import type { WebhookStore } from './webhook-store.js';

export interface ApiRootRecord {
  /** The path segment, e.g. "fr" or "global". */
  path: string;
  /** ISO 3166-1 alpha-2 code (lowercase) of the member country this root belongs to, if any. */
  country?: string;
  title: string;
  description?: string;
  maxContentLength: number;
  /** Whether the root also serves the read-only TAXII 2.0 view (off unless enabled). */
  taxii20?: boolean;
  createdAt: number;
}

/** intake: vendors write, curators read, subscribers never see it; published: subscribers read. */
export type CollectionPurpose = 'intake' | 'published';

export interface CollectionRecord {
  id: string;
  apiRoot: string;
  title: string;
  description?: string;
  alias?: string;
  purpose: CollectionPurpose;
  mediaTypes: string[];
  /** Enrichment of objects posted here (hooks): markings and creator for objects that have none. */
  enrichment?: { defaultMarkingRefs?: string[]; defaultCreatedByRef?: string };
  createdAt: number;
}

export type Role = 'admin' | 'curator' | 'publisher' | 'subscriber';

export type OrganisationKind = 'member-agency' | 'vendor' | 'desk';

export interface OrganisationRecord {
  id: string;
  /** Unique, human-readable (e.g. "fr-police", "acme-labs", "interpol-desk"). */
  name: string;
  kind: OrganisationKind;
  /** ISO 3166-1 alpha-2 (lowercase); required for member agencies, absent otherwise. */
  country?: string;
  disabled: boolean;
  createdAt: number;
}

export interface AccountRecord {
  id: string;
  name: string;
  /** The organisation the account belongs to; absent only for operator accounts (e.g. the first admin). */
  organisationId?: string;
  passwordHash: string;
  roles: Role[];
  /** API roots a curator curates (the `curator` role is scoped to these). */
  curatorRoots: string[];
  disabled: boolean;
  /** Bumped whenever credentials, roles or grants change, so cached verifications are dropped. */
  credentialVersion: number;
  createdAt: number;
}

/** TLP levels (TLP 2.0 names; TLP 1.0 white = clear), ordered by TLP_RANK. */
export type TlpLevel = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
export const TLP_RANK: Readonly<Record<TlpLevel, number>> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

/**
 * Rights on one collection, given to exactly one subject: an account, an organisation, or a role
 * within an organisation. `maxTlp` caps what the grant shows: objects marked above it are hidden;
 * `red` names the subject a recipient of TLP:RED objects.
 */
export interface GrantRecord {
  id: string;
  collectionId: string;
  accountId?: string;
  organisationId?: string;
  role?: Role;
  canRead: boolean;
  canWrite: boolean;
  maxTlp: TlpLevel;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  accountId: string;
  name: string;
  /** Public part of the key, used to find it; the secret part is stored only as a hash. */
  prefix: string;
  hash: string;
  createdAt: number;
  expiresAt?: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

export interface AuditEvent {
  /** Increasing sequence number. */
  seq: number;
  at: number;
  /** Account name, or the name tried for failed logins; absent for the system itself. */
  actor?: string;
  action: string;
  outcome: 'success' | 'failure';
  /** What was acted on (a collection id, an account name, …). */
  target?: string;
  /** Client address. */
  remote?: string;
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  outcome?: AuditEvent['outcome'];
  remote?: string;
  target?: string;
  /** Inclusive bounds on `at` (µs). */
  since?: number;
  until?: number;
  /** Only events with seq greater than this (paging). */
  afterSeq?: number;
  limit: number;
}

/** match[version] (TAXII 2.1 §3.4.1): `all`, or any mix of first, last and exact version keys. */
export type VersionMatch = { all: true } | { all?: false; first: boolean; last: boolean; keys: string[] };

export interface ObjectFilter {
  /** Exclusive lower bound on date_added (µs): added_after, or the position of a `next` token. */
  addedAfter?: number;
  ids?: string[];
  types?: string[];
  versions: VersionMatch;
  /** Allowed spec versions; undefined = the latest spec version of each object. */
  specVersions?: string[];
  /** Hides objects whose TLP rank (TLP_RANK) is above this; undefined = no marking filter. */
  maxTlp?: number;
}

export interface ObjectQuery extends ObjectFilter {
  limit: number;
  /**
   * The work bound of one query: a filter that most versions fail (a marking cap, several types,
   * spec or exact versions; see scanBounded) examines at most this many stored versions for a page.
   * A page cut short by it has `more` and `resumeAfter`. Undefined: no bound.
   */
  scanLimit?: number;
}

export interface Page<T> {
  items: T[];
  /** More items match beyond this page. */
  more: boolean;
  /**
   * Set when the scan limit, not the page size, ended the page: the date_added of the last version
   * examined, where the next page starts (TAXII 2.1 §3.4 lets a page hold fewer items than asked).
   */
  resumeAfter?: number;
}

/**
 * Whether a query may need the scan limit: its filter can reject most of the versions the store
 * walks in date_added order. By id (a few versions each), the default polling query (only last
 * versions are walked) and one type (walked by type) examine little more than they return.
 */
export function scanBounded(q: ObjectQuery): boolean {
  if (q.scanLimit === undefined || q.ids) return false;
  const capped = q.maxTlp !== undefined && q.maxTlp < TLP_RANK.red;
  const exactVersions = !q.versions.all && q.versions.keys.length > 0;
  return capped || (q.types?.length ?? 0) > 1 || q.specVersions !== undefined || exactVersions;
}

/**
 * One page of a query under its scan limit, for every backend: `windowEnd(n)` is the date_added of
 * the n-th stored version after the page's start (undefined when none lies beyond it), `read(ceiling)`
 * the query's first limit + 1 rows up to that date_added. A window of a few pages comes first, where
 * a usual poll fills its page at little cost; only a filter that rejects most versions goes on to
 * the whole scan limit, and a page it ends there short has `more` and `resumeAfter`.
 */
export async function scanLimitedPage<R>(
  q: ObjectQuery,
  windowEnd: (versions: number) => Promise<number | undefined> | number | undefined,
  read: (ceiling: number | undefined) => Promise<R[]> | R[],
): Promise<Page<R>> {
  const sizes = scanBounded(q) ? [...new Set([Math.min(q.scanLimit!, 4 * (q.limit + 1)), q.scanLimit!])] : [undefined];
  for (const size of sizes) {
    const ceiling = size === undefined ? undefined : await windowEnd(size);
    const rows = await read(ceiling);
    const more = rows.length > q.limit;
    if (more || ceiling === undefined) return { items: more ? rows.slice(0, q.limit) : rows, more };
    if (size === q.scanLimit) return { items: rows, more: true, resumeAfter: ceiling };
  }
  throw new Error('unreachable: the last window is the scan limit');
}

export interface ManifestEntry {
  id: string;
  type: string;
  dateAdded: number;
  /** The version as the object states it (modified, else created), or undefined when it has none. */
  version?: string;
  specVersion: string;
  mediaType: string;
}

export interface StoredObject extends ManifestEntry {
  /** The normalised object, serialised once at ingest and streamed out as is. */
  json: string;
}

export interface NewObject {
  id: string;
  type: string;
  specVersion: string;
  /** modified, else created; undefined for objects that carry no version. */
  version?: string;
  /** Sortable key of `version` (stix-schemas timestampKey); undefined with version. */
  versionKey?: string;
  mediaType: string;
  /** TLP rank of the object's markings (TLP_RANK), 0 when unmarked. */
  tlp: number;
  json: string;
  /** Pipeline warnings about the object (JSON list of findings), kept as its provenance. */
  warnings?: string;
}

/** One stored version with the date_added it already has (a restored export, a store being moved). */
export interface ImportedObject extends NewObject {
  dateAdded: number;
  versionKey: string;
  submissionId?: string;
}

/** One item of a submission as processed: an object to store, or a failure with its reason. */
/**
 * One item of a submission as processed: an object to store (with the objects derived from it,
 * e.g. the SCOs of an upgraded 2.0 observed-data), or a failure with its reason. `id` and
 * `version` name the item in the status resource (§4.3.1 status-details).
 */
export type IngestItem =
  | { index: number; id: string; version: string; object: NewObject; derived?: NewObject[] }
  | { index: number; id: string; version: string; failure: string };

export type ItemOutcome = 'success' | 'failure';

export interface SubmissionItem {
  index: number;
  id: string;
  version: string;
  outcome: ItemOutcome;
  message?: string;
  /** date_added of the stored object (successes), so versionless objects can report a version. */
  dateAdded?: number;
}

export interface NewSubmission {
  id: string;
  apiRoot: string;
  collectionId: string;
  accountId: string;
  requestTimestamp: number;
  /**
   * The request body as received, kept until processing completes so that a crash after the 202
   * loses nothing; the store forces it to disk before returning. Absent when the submission is
   * processed completely before it is acknowledged (completeSubmission is then the durable point).
   */
  body?: Buffer;
  /** Number of objects in the envelope; all pending until ingested. */
  totalCount: number;
}

export interface SubmissionRecord {
  id: string;
  apiRoot: string;
  collectionId: string;
  accountId: string;
  requestTimestamp: number;
  status: 'pending' | 'complete';
  totalCount: number;
  successCount: number;
  failureCount: number;
  pendingCount: number;
}

export interface Store extends CurationStore {
  readonly kind: string;
  /** Webhook subscriptions, their cursors and delivery log (collections/webhook-store.ts). */
  readonly webhooks: WebhookStore;
  close(): Promise<void>;
  /** A server-wide secret (e.g. for signing paging tokens), created once and shared by every instance. */
  secret(name: string): Promise<Buffer>;

  createOrganisation(org: Omit<OrganisationRecord, 'createdAt'>): Promise<OrganisationRecord>;
  getOrganisation(id: string): Promise<OrganisationRecord | undefined>;
  getOrganisationByName(name: string): Promise<OrganisationRecord | undefined>;
  listOrganisations(): Promise<OrganisationRecord[]>;
  updateOrganisation(id: string, changes: Partial<Pick<OrganisationRecord, 'disabled' | 'country'>>): Promise<OrganisationRecord | undefined>;
  /** Fails (StoreConflictError) while accounts still belong to it; removes its grants. */
  deleteOrganisation(id: string): Promise<boolean>;

  createApiRoot(root: Omit<ApiRootRecord, 'createdAt'>): Promise<ApiRootRecord>;
  updateApiRoot(path: string, changes: Partial<Omit<ApiRootRecord, 'path' | 'createdAt'>>): Promise<ApiRootRecord | undefined>;
  getApiRoot(path: string): Promise<ApiRootRecord | undefined>;
  /** In creation order. */
  listApiRoots(): Promise<ApiRootRecord[]>;
  /** Fails (StoreConflictError) while the API root still has collections. */
  deleteApiRoot(path: string): Promise<boolean>;

  createCollection(collection: Omit<CollectionRecord, 'createdAt'>): Promise<CollectionRecord>;
  /** By id or by alias within the API root. */
  getCollection(apiRoot: string, idOrAlias: string): Promise<CollectionRecord | undefined>;
  /** In a stable order (creation order). */
  listCollections(apiRoot: string): Promise<CollectionRecord[]>;
  /** Deletes the collection with its objects and grants. */
  deleteCollection(id: string): Promise<boolean>;

  updateCollection(id: string, changes: Partial<Pick<CollectionRecord, 'title' | 'description' | 'purpose' | 'enrichment'>>): Promise<CollectionRecord | undefined>;

  createAccount(account: Omit<AccountRecord, 'createdAt' | 'credentialVersion'>): Promise<AccountRecord>;
  getAccount(id: string): Promise<AccountRecord | undefined>;
  getAccountByName(name: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;
  /** Any change bumps credentialVersion (cached verifications and issued tokens are dropped). */
  updateAccount(id: string, changes: Partial<Pick<AccountRecord, 'passwordHash' | 'roles' | 'disabled' | 'curatorRoots' | 'organisationId'>>): Promise<AccountRecord | undefined>;
  /** Deletes the account with its grants and API keys. */
  deleteAccount(id: string): Promise<boolean>;

  /**
   * Creates or replaces the grant of `subject` on the collection (one grant per collection and
   * subject). A grant with neither right is removed (returns undefined).
   */
  putGrant(grant: Omit<GrantRecord, 'id' | 'createdAt'>): Promise<GrantRecord | undefined>;
  getGrant(id: string): Promise<GrantRecord | undefined>;
  deleteGrant(id: string): Promise<boolean>;
  listGrants(filter: { collectionId?: string; accountId?: string; organisationId?: string }): Promise<GrantRecord[]>;
  /** Every grant that applies to the account: its own, its organisation's, and its organisation's for one of its roles. */
  grantsForAccount(account: Pick<AccountRecord, 'id' | 'organisationId' | 'roles'>): Promise<GrantRecord[]>;

  createApiKey(key: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKeyRecord>;
  getApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(accountId?: string): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string, at: number): Promise<boolean>;
  /** Records a use (at most the caller's business how often). */
  touchApiKey(id: string, at: number): Promise<void>;

  /** Appends to the audit log durably; returns the event with its sequence number. */
  appendAudit(event: Omit<AuditEvent, 'seq'>): Promise<AuditEvent>;
  /** Events matching the query, oldest first. */
  queryAudit(query: AuditQuery): Promise<AuditEvent[]>;
  /** How many events match (for login throttling: failures of one name or address in a window). */
  countAudit(query: Omit<AuditQuery, 'limit' | 'afterSeq'>): Promise<number>;

  /** Objects endpoint (§5.4) and object endpoint (§5.6, with ids = [object-id]), by date_added. */
  queryObjects(collectionId: string, query: ObjectQuery): Promise<Page<StoredObject>>;
  /** Manifest endpoint (§5.3): the same selection as queryObjects, without the bodies. */
  queryManifest(collectionId: string, query: ObjectQuery): Promise<Page<ManifestEntry>>;
  /** Versions endpoint (§5.8): every version of one object, by date_added. */
  queryVersions(collectionId: string, objectId: string, query: Omit<ObjectQuery, 'ids' | 'types' | 'versions'>): Promise<Page<ManifestEntry>>;
  /** Whether any version of the object, visible under the marking cap, is in the collection (§5.6/§5.8 404s). */
  hasObject(collectionId: string, objectId: string, maxTlp?: number): Promise<boolean>;
  /**
   * §5.7: deletes the matching versions of one object (within the marking cap); returns how many were
   * deleted. In a published collection a call that deleted something logs one object.withdrawn
   * change (ChangeRecord) by `actor` (default desk: deleting takes a curator's or an admin's rights).
   */
  deleteObject(collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'versions' | 'specVersions' | 'maxTlp'>, actor?: { kind: ChangeRecord['actorKind'] }): Promise<number>;
  /** Number of stored versions in the collection. */
  countObjects(collectionId: string): Promise<number>;
  /**
   * Stores versions keeping their date_added (`meridian restore` of a root's export): idempotent by
   * identity (collection, id, version), the collection's high-water mark moved past them, their
   * objects' first/last flags recomputed. Writes no change-log entries.
   */
  importObjects(collectionId: string, objects: ImportedObject[]): Promise<void>;

  /** Records a submission durably (TAXII 2.1 §5.5: before the 202 is sent). */
  createSubmission(submission: NewSubmission): Promise<void>;
  /**
   * Stores a batch of processed items atomically: new objects get a date_added (unique and strictly
   * increasing in the collection); an exact duplicate (same id and version, same content) is a
   * success and is stored once; the items' outcomes and the submission's counts are updated.
   * In an intake collection, every object stored (or found as an exact duplicate) gets its queue
   * entry (`pending`, once per intake, id and version), earlier `pending`/`changes_requested`
   * entries of the same object with an older version become `superseded`, and a version the desk
   * rejected (rejectionOf) fails with the rejection's reason (`rejectedFailure`) instead of being stored.
   */
  ingest(submissionId: string, items: IngestItem[]): Promise<void>;
  /** Marks the submission complete and drops its retained body; durable (on disk) when it returns. */
  completeSubmission(submissionId: string): Promise<void>;
  getSubmission(submissionId: string): Promise<SubmissionRecord | undefined>;
  /** The processed items of a submission, in envelope order (pending ones are not listed). */
  submissionItems(submissionId: string): Promise<SubmissionItem[]>;
  /**
   * Submissions still pending (e.g. after a crash), with their bodies (empty when none was
   * retained) and the indexes not yet ingested.
   */
  pendingSubmissions(): Promise<Array<SubmissionRecord & { body: Buffer; pendingIndexes: number[] }>>;
  /** Deletes complete submissions whose request is older than the given time; returns the count. */
  purgeSubmissions(completedBefore: number): Promise<number>;
}

// ---- the desk: intake queue, decisions, publications, change log ------------------------------

/** Conditions of an auto-publish rule (all given conditions must hold). */
export interface PolicyCondition {
  /** Vendor organisations (ids) whose submissions the rule covers; absent = any. */
  organisations?: string[];
  /** STIX types the rule covers; absent = any. */
  types?: string[];
  /** Highest TLP the rule publishes; absent = any. */
  maxTlp?: TlpLevel;
  /** Only objects the pipeline found nothing to warn about. */
  noWarnings?: boolean;
}

/** How an intake collection's entries are decided. */
export interface IntakePolicy {
  /** review: a curator decides (default); auto-publish: entries matching a rule are published at once. */
  mode: 'review' | 'auto-publish';
  /** Candidate targets of the intake (collection ids); absent = every published collection. */
  targets?: string[];
  /** Auto-publish rules: the first that matches publishes to its targets. */
  rules?: Array<{ targets: string[]; when: PolicyCondition }>;
  /** A new version with revoked: true of a published object goes to the same targets at once (default on). */
  revocationFastPath?: boolean;
}

/** What a published collection accepts (checked for every publication, whoever decides it). */
export interface ReleaseRules {
  /** Marking definitions an object may carry (ids); absent = any. */
  allowedMarkings?: string[];
  /** Marking definitions an object must carry (ids). */
  requiredMarkings?: string[];
  /** Highest TLP this collection may receive. */
  maxTlp?: TlpLevel;
  forbiddenTypes?: string[];
  requireCreatedByRef?: boolean;
  /** Pipeline finding codes that block publication here. */
  blockingFindings?: string[];
  /** Distinct approvals needed (1 or 2); absent = 2 for the global root and TLP:AMBER+STRICT/RED objects, else 1. */
  approvalsRequired?: 1 | 2;
}

export interface DeskRules {
  policy?: IntakePolicy;
  release?: ReleaseRules;
}

export type QueueState = 'pending' | 'approved' | 'rejected' | 'changes_requested' | 'superseded';

/** One finding (pipeline or curator): the pipeline's shape. */
export interface FindingRecord {
  code: string;
  severity: 'error' | 'warning';
  path: string;
  message: string;
}

/**
 * One stored object version of an intake collection, awaiting (or past) a decision. Created by
 * `ingest` in the same transaction as the object, for objects stored in an intake collection.
 */
export interface QueueEntry {
  id: string;
  /** Increasing position (the cursor of queue listings). */
  seq: number;
  intakeId: string;
  apiRoot: string;
  objectId: string;
  objectType: string;
  /** The version as the object states it (modified, else created), if any. */
  version?: string;
  versionKey: string;
  /** date_added of the object in the intake collection. */
  dateAdded: number;
  submissionId: string;
  /** The submitting account and its organisation (the vendor). */
  accountId: string;
  organisationId?: string;
  tlp: number;
  revoked: boolean;
  /** Pipeline warnings about the object. */
  findings: FindingRecord[];
  state: QueueState;
  /** Bumped by every decision on the entry; a decision naming another rev is stale (409). */
  rev: number;
  /** Reason of a rejection or a change request. */
  reason?: string;
  /** Paths a change request points at. */
  requestedChanges?: FindingRecord[];
  /** The entry that superseded this one. */
  supersededBy?: string;
  /** Approvals so far, per target collection (four eyes). */
  approvals: Array<{ targetId: string; accountId: string; organisationId?: string; at: number }>;
  createdAt: number;
  updatedAt: number;
}

export interface QueueQuery {
  /** Intake collections to list (the caller's visible ones); an empty list lists nothing. */
  intakeIds: string[];
  states?: QueueState[];
  organisationId?: string;
  submissionId?: string;
  types?: string[];
  findingCode?: string;
  /** Highest TLP rank listed (the caller's cap). */
  maxTlp?: number;
  /** Bounds on createdAt (µs): older than / newer than. */
  createdBefore?: number;
  createdAfter?: number;
  objectId?: string;
  /** Only revocations (new versions with revoked: true), or only the others. */
  revoked?: boolean;
  /** Entries after this seq in the listing's order (the cursor). */
  afterSeq?: number;
  /** asc (default): oldest first; desc: newest first, afterSeq then continuing to lower seqs. */
  order?: 'asc' | 'desc';
  limit: number;
}

/** A copy of an approved object version in a published collection, and where it came from. */
export interface PublicationRecord {
  collectionId: string;
  objectId: string;
  objectType: string;
  version?: string;
  versionKey: string;
  /** date_added of the copy in the published collection. */
  dateAdded: number;
  entryId?: string;
  decisionId: string;
  /** Vendor organisation id, submission id, curator account names, decision time, policy. */
  provenance: Record<string, unknown>;
  withdrawnAt?: number;
}

export type ChangeType = 'object.published' | 'object.updated' | 'object.revoked' | 'object.withdrawn';

/**
 * One entry of a published collection's change log, written in the transaction of the change it
 * records: desk decisions (applyDecision), and direct writes to a published collection — `ingest`
 * (object.published for an id new to the collection, object.updated for a further version,
 * object.revoked for a version with revoked: true; actorKind desk for accounts with the curator or
 * admin role, else vendor) and `deleteObject` (object.withdrawn with lastVersion, reason "deleted").
 * Intake collections have no change log.
 */
export interface ChangeRecord {
  id: string;
  collectionId: string;
  dateAdded: number;
  type: ChangeType;
  objectType: string;
  objectId: string;
  version?: string;
  actorKind: 'vendor' | 'desk' | 'policy';
  reason?: string;
  /** For withdrawals: the last version published. */
  lastVersion?: string;
  /** TLP rank of the changed version (for per-reader filtering). */
  tlp: number;
}

export type WithdrawalReason = 'false_positive' | 'legal' | 'handling_violation' | 'vendor_request' | 'other';

/**
 * Everything one decision writes, applied atomically by `applyDecision`: every entry's rev must
 * still be the one given, else nothing is written (StaleDecisionError). Publications are unique per
 * (collection, object id, version): one already present is skipped (a retry is idempotent).
 */
export interface DecisionPlan {
  id: string;
  kind: 'approve' | 'reject' | 'request-changes' | 'withdraw' | 'annotate' | 'revocation' | 'auto-publish';
  actorKind: 'desk' | 'policy';
  /** Acting account and its organisation (absent for policy decisions). */
  accountId?: string;
  organisationId?: string;
  actorName: string;
  at: number;
  entries: Array<{
    entryId: string;
    rev: number;
    state?: QueueState;
    reason?: string;
    requestedChanges?: FindingRecord[];
    /** Approvals to record (targets still short of their required approvals). */
    approvals?: string[];
  }>;
  publications: Array<{
    collectionId: string;
    entryId?: string;
    object: NewObject;
    /** The collection holding this very version (an intake): a plan kept for after a crash refers to it instead of repeating the JSON. */
    source?: string;
    changeType: Exclude<ChangeType, 'object.withdrawn'>;
    provenance: Record<string, unknown>;
  }>;
  withdrawals: Array<{ collectionId: string; objectId: string; reasonCode: WithdrawalReason; reason: string }>;
  /** Written with the decision (SQLite: same transaction; MongoDB: after it, idempotently). */
  audit: Omit<AuditEvent, 'seq'>;
}

export interface DecisionOutcome {
  /** Publications written now (already present ones are not counted). */
  published: number;
  /** Object versions withdrawn. */
  withdrawn: number;
}

export interface DecisionRecord {
  id: string;
  kind: DecisionPlan['kind'];
  actorKind: DecisionPlan['actorKind'];
  accountId?: string;
  actorName: string;
  at: number;
  entries: number;
  publications: number;
}

export interface CurationStats {
  /** Per intake: pending entries, and the createdAt (µs) of the oldest and of the entries at the p50 and p95 of age (p95 is older than p50). */
  queues: Array<{ intakeId: string; depth: number; oldest?: number; p50?: number; p95?: number }>;
  decisionsPerAccount: Array<{ accountId: string; actorName: string; decisions: number }>;
  /** Per vendor organisation: publications and the p50 of createdAt → first publication (µs). */
  timeToPublish: Array<{ organisationId?: string; publications: number; p50: number }>;
}

/**
 * Submissions (POSTed envelopes) to intakes per submitting organisation and UTC day, from the
 * audit log's objects.add events: durable, unlike status resources (kept statusRetentionHours),
 * and counting envelopes whose every object failed, unlike queue entries.
 */
export const MICROS_PER_DAY = 86_400_000_000;

export interface SubmissionsPerDay {
  /** The submitting account's organisation (absent for accounts without one, or deleted accounts). */
  organisationId?: string;
  /** Start of the UTC day (µs). */
  day: number;
  submissions: number;
}

/** Another decision changed an entry first: the caller decided on a stale version. */
export class StaleDecisionError extends Error {
  constructor(readonly entryId: string) {
    super(`queue entry ${entryId} changed since it was read`);
    this.name = 'StaleDecisionError';
  }
}

export interface CurationStore {
  getDeskRules(collectionId: string): Promise<DeskRules>;
  /** Replaces the desk rules of a collection (an empty object removes them). */
  putDeskRules(collectionId: string, rules: DeskRules): Promise<void>;

  /** Queue entries by seq, oldest first (or newest first); `more` when entries follow the page. */
  queryQueue(query: QueueQuery): Promise<Page<QueueEntry>>;
  getQueueEntries(ids: string[]): Promise<QueueEntry[]>;
  /** The latest rejected entry of (object id, version key), in any intake (sticky rejections). */
  rejectionOf(objectId: string, versionKey: string): Promise<QueueEntry | undefined>;

  applyDecision(plan: DecisionPlan): Promise<DecisionOutcome>;
  /** Finishes decisions a crash interrupted (roll forward); returns how many. */
  resumeDecisions(): Promise<number>;

  /** Publications of one object or of some (every collection), or of one collection, by date_added. */
  listPublications(filter: { objectId?: string; objectIds?: string[]; collectionId?: string; entryId?: string }): Promise<PublicationRecord[]>;
  /** One change of a collection's log by its id (a live stream resuming from Last-Event-ID), if still kept. */
  getChange(collectionId: string, changeId: string): Promise<ChangeRecord | undefined>;
  /** A published collection's change log after a date_added, oldest first. */
  readChanges(collectionId: string, afterDateAdded: number, limit: number): Promise<Page<ChangeRecord>>;
  listDecisions(filter: { accountId?: string; limit: number }): Promise<DecisionRecord[]>;
  /**
   * Drops change-log entries added before `before` (µs) in every collection (retention) and
   * remembers, per collection, the newest dropped date_added (changeHorizon); returns how many.
   */
  purgeChanges(before: number): Promise<number>;
  /** The newest date_added dropped from the collection's change log (0 when nothing was): a reader whose cursor is older must resync. */
  changeHorizon(collectionId: string): Promise<number>;
  curationStats(intakeIds: string[]): Promise<CurationStats>;
  /** Submissions to these intakes since `since` (µs, a UTC midnight), per organisation and day, by day. */
  submissionsPerDay(intakeIds: string[], since: number): Promise<SubmissionsPerDay[]>;
}

/** Whether the object states revoked: true (parsed only when the word is there at all). Shared by every backend. */
export function isRevoked(o: Pick<NewObject, 'json'>): boolean {
  return o.json.includes('"revoked"') && (JSON.parse(o.json) as { revoked?: unknown }).revoked === true;
}

/** The change-log entry type of a version newly stored by a direct write to a published collection (ChangeRecord). */
export function ingestChangeType(o: Pick<NewObject, 'json'>, firstVersion: boolean): Exclude<ChangeType, 'object.withdrawn'> {
  return isRevoked(o) ? 'object.revoked' : firstVersion ? 'object.published' : 'object.updated';
}

/** Who a direct write to a published collection is logged as: the desk for curators and admins, else the vendor. */
export function writerKind(roles: readonly Role[]): 'desk' | 'vendor' {
  return roles.includes('curator') || roles.includes('admin') ? 'desk' : 'vendor';
}

/** What a queue entry needs from an object stored in an intake collection. Shared by every backend. */
export function intakeFacts(o: NewObject): { revoked: boolean; findings: FindingRecord[]; codes: string[] } {
  const revoked = isRevoked(o);
  const findings = o.warnings ? (JSON.parse(o.warnings) as FindingRecord[]) : [];
  return { revoked, findings, codes: [...new Set(findings.map((f) => f.code))] };
}

/** The TAXII status message of a re-posted version the desk rejected (sticky decisions). */
export function rejectedFailure(entry: Pick<QueueEntry, 'reason' | 'updatedAt'>): string {
  return `the desk rejected this version on ${new Date(Math.floor(entry.updatedAt / 1000)).toISOString()}: ${entry.reason ?? 'no reason given'}`;
}

/**
 * The version key of an object that carries no version (no modified, no created), made from its
 * date_added: the same format as stix-schemas timestampKey (seconds since year 1, nine fractional
 * digits), so such objects sort and match like any other version.
 */
export function versionKeyFromMicros(us: number): string {
  const seconds = Math.floor(us / 1_000_000);
  const micros = us - seconds * 1_000_000;
  return `${String(seconds + 62135596800).padStart(12, '0')}.${String(micros).padStart(6, '0')}000`;
}

/** The first/last flags of one stored version (§3.4.1 match[version]), for every marking cap. */
export interface VersionFlags {
  /** Earliest / latest version of the object, all markings considered. */
  isFirst: boolean;
  isLast: boolean;
  /** Has the highest spec_version among the object's versions. */
  isLatestSpec: boolean;
  /**
   * Bit k is set when this version is the earliest (firstMask) or latest (lastMask) among the
   * versions a reader capped at TLP rank k can see, so `first`/`last` mean the caller's first and
   * last: a hidden newer version never hides an older visible one.
   */
  firstMask: number;
  lastMask: number;
}

/** Flags of every version of one object, in the order given. Shared by every backend. */
export function versionFlags(versions: ReadonlyArray<{ versionKey: string; tlp: number; specVersion: string }>): VersionFlags[] {
  const flags = versions.map(() => ({ firstMask: 0, lastMask: 0 }));
  for (let rank = 0; rank <= TLP_RANK.red; rank++) {
    let lo = -1;
    let hi = -1;
    versions.forEach((v, i) => {
      if (v.tlp > rank) return;
      if (lo < 0 || v.versionKey < versions[lo]!.versionKey) lo = i;
      if (hi < 0 || v.versionKey > versions[hi]!.versionKey) hi = i;
    });
    if (lo >= 0) flags[lo]!.firstMask |= 1 << rank;
    if (hi >= 0) flags[hi]!.lastMask |= 1 << rank;
  }
  const maxKey = versions.reduce((m, v) => (v.versionKey > m ? v.versionKey : m), '');
  const minKey = versions.reduce((m, v) => (v.versionKey < m ? v.versionKey : m), maxKey);
  const maxSpec = versions.reduce((m, v) => (v.specVersion > m ? v.specVersion : m), '');
  return versions.map((v, i) => ({
    isFirst: v.versionKey === minKey,
    isLast: v.versionKey === maxKey,
    isLatestSpec: v.specVersion === maxSpec,
    firstMask: flags[i]!.firstMask,
    lastMask: flags[i]!.lastMask,
  }));
}

/** A store-level conflict (duplicate alias, name …), mapped to an HTTP status in one place. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** The store's own error for one another thread reported (by name and fields), so callers catch it as usual; undefined for other errors. */
export function reviveStoreError(e: { name: string; message: string; [field: string]: unknown }): Error | undefined {
  if (e.name === 'StaleDecisionError' && typeof e.entryId === 'string') return new StaleDecisionError(e.entryId);
  if (e.name === 'StoreConflictError') return new StoreConflictError(e.message);
  return undefined;
}

/** The backing database cannot be reached; the server answers 503 with Retry-After. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
