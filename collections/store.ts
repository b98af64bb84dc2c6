// The store interface (ARCHITECTURE §5): one method per TAXII need, typed query in, typed page out.
// Stores never see raw query strings and never build HTTP headers. All times are integer
// microseconds since the epoch; version keys are the sortable strings of stix-schemas timestampKey.

export interface ApiRootRecord {
  /** The path segment, e.g. "fr" or "global". */
  path: string;
  title: string;
  description?: string;
  maxContentLength: number;
  createdAt: number;
}

export interface CollectionRecord {
  id: string;
  apiRoot: string;
  title: string;
  description?: string;
  alias?: string;
  mediaTypes: string[];
  createdAt: number;
}

export type Role = 'admin' | 'curator' | 'publisher' | 'subscriber';

export interface AccountRecord {
  id: string;
  name: string;
  passwordHash: string;
  roles: Role[];
  disabled: boolean;
  /** Bumped whenever credentials, roles or grants change, so cached verifications are dropped. */
  credentialVersion: number;
  createdAt: number;
}

export interface GrantRecord {
  accountId: string;
  collectionId: string;
  canRead: boolean;
  canWrite: boolean;
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
}

export interface ObjectQuery extends ObjectFilter {
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** More items match beyond this page. */
  more: boolean;
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
  json: string;
}

/** One item of a submission as processed: an object to store, or a failure with its reason. */
export type IngestItem =
  | { index: number; object: NewObject }
  | { index: number; failure: string };

export type ItemOutcome = 'success' | 'failure' | 'pending';

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
  /** The request body as received, kept until processing completes so a crash loses nothing. */
  body: Buffer;
  /** One per object of the envelope, all pending. */
  items: Array<{ id: string; version: string }>;
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

export interface Store {
  readonly kind: string;
  close(): Promise<void>;
  /** A server-wide secret (e.g. for signing paging tokens), created once and shared by every instance. */
  secret(name: string): Promise<Buffer>;

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

  createAccount(account: Omit<AccountRecord, 'createdAt' | 'credentialVersion'>): Promise<AccountRecord>;
  getAccount(id: string): Promise<AccountRecord | undefined>;
  getAccountByName(name: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;
  updateAccount(id: string, changes: Partial<Pick<AccountRecord, 'passwordHash' | 'roles' | 'disabled'>>): Promise<AccountRecord | undefined>;
  deleteAccount(id: string): Promise<boolean>;

  /** Sets (replaces) the grant; a grant with neither right is removed. */
  setGrant(grant: GrantRecord): Promise<void>;
  getGrant(accountId: string, collectionId: string): Promise<GrantRecord | undefined>;
  listGrants(filter: { accountId?: string; collectionId?: string }): Promise<GrantRecord[]>;

  /** Objects endpoint (§5.4) and object endpoint (§5.6, with ids = [object-id]), by date_added. */
  queryObjects(collectionId: string, query: ObjectQuery): Promise<Page<StoredObject>>;
  /** Manifest endpoint (§5.3): the same selection as queryObjects, without the bodies. */
  queryManifest(collectionId: string, query: ObjectQuery): Promise<Page<ManifestEntry>>;
  /** Versions endpoint (§5.8): every version of one object, by date_added. */
  queryVersions(collectionId: string, objectId: string, query: Omit<ObjectQuery, 'ids' | 'types' | 'versions'>): Promise<Page<ManifestEntry>>;
  /** Whether any version of the object is in the collection (§5.6/§5.8 404s). */
  hasObject(collectionId: string, objectId: string): Promise<boolean>;
  /** §5.7: deletes the matching versions of one object; returns how many were deleted. */
  deleteObject(collectionId: string, objectId: string, filter: Pick<ObjectFilter, 'versions' | 'specVersions'>): Promise<number>;
  /** Number of stored versions in the collection. */
  countObjects(collectionId: string): Promise<number>;

  /** Records a submission durably (TAXII 2.1 §5.5: before the 202 is sent). */
  createSubmission(submission: NewSubmission): Promise<void>;
  /**
   * Stores a batch of processed items atomically: new objects get a date_added (unique and strictly
   * increasing in the collection); an exact duplicate (same id and version, same content) is a
   * success and is stored once; the items' outcomes and the submission's counts are updated.
   */
  ingest(submissionId: string, items: IngestItem[]): Promise<void>;
  /** Marks the submission complete and drops its retained body. */
  completeSubmission(submissionId: string): Promise<void>;
  getSubmission(submissionId: string): Promise<SubmissionRecord | undefined>;
  /** The items of a submission, in envelope order. */
  submissionItems(submissionId: string): Promise<SubmissionItem[]>;
  /** Submissions still pending (e.g. after a crash), with their bodies and unprocessed indexes. */
  pendingSubmissions(): Promise<Array<SubmissionRecord & { body: Buffer; pendingIndexes: number[] }>>;
  /** Deletes complete submissions whose request is older than the given time; returns the count. */
  purgeSubmissions(completedBefore: number): Promise<number>;
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

/** A store-level conflict (duplicate alias, name …), mapped to an HTTP status in one place. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** The backing database cannot be reached; the server answers 503 with Retry-After. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
