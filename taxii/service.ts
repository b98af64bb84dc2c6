// TAXII 2.1 semantics: one method per endpoint (§4, §5). Methods take parsed inputs and return a
// TaxiiResponse (status, body, headers); they know nothing of express (docs/architecture.md §4).
import { randomUUID } from 'node:crypto';
import {
  type ApiRootRecord,
  type CollectionRecord,
  type ManifestEntry,
  type ObjectQuery,
  type Page,
  type Store,
  type SubmissionItem,
  type SubmissionRecord,
  writerKind,
} from '../collections/store.js';
import type { PipelineOptions } from 'stix2-validator-ts';
import { type Caller, accessTo, isAdmin, requireAccess, tlpFilter } from './access.js';
import { TaxiiError, notFound } from './errors.js';
import type { IngestJob, IngestRunner } from './ingest-runner.js';
import { TAXII_MEDIA_TYPE } from './media-types.js';
import { PageTokens, continueFrom } from './paging.js';
import { type CanonicalFilters, type FilteredEndpoint, type ParsedQuery, versionMatch } from './query.js';
import { formatMicros, nowMicros } from './time.js';

export interface TaxiiSettings {
  title: string;
  description?: string;
  contact?: string;
  /** Path of the API root advertised as `default`, if any. */
  defaultApiRoot?: string;
  /** Server page cap: no response holds more items (§3.4 limit). */
  maxPageSize: number;
  /** Page size when the client gives no limit. */
  defaultPageSize: number;
  /** Stored versions one page of objects, manifest or versions may examine (ObjectQuery.scanLimit). */
  queryScanLimit?: number;
  /** How long a complete status resource stays readable (§4.3: at least 24 hours). */
  statusRetentionMs: number;
  /** Envelopes with at most this many objects are processed before the 202 is sent. */
  syncIngestLimit: number;
  /** SCO ids on POST: fill missing ones, recompute non-deterministic ones, or keep as sent. */
  scoIds: 'keep' | 'fill' | 'recompute';
  /** Status resources list their items only up to this many per list; beyond it, counts only. */
  statusListLimit: number;
}

export interface TaxiiResponse {
  status: number;
  /** A JSON value, or JSON text already serialised (object bodies are streamed as stored). */
  body?: unknown;
  rawJson?: string;
  headers?: Record<string, string>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const EMPTY_HEADERS_EPOCH = 0;

function ok(body: unknown, status = 200): TaxiiResponse {
  return { status, body };
}

export function dateAddedHeaders(items: Array<{ dateAdded: number }>, lowerBound: number | undefined, resumeAfter?: number): Record<string, string> {
  // §3.2 requires both headers on every 200. An empty page reports its lower bound, and a page the
  // scan limit ended the last version it examined, so continuing with added_after =
  // X-TAXII-Date-Added-Last neither skips nor repeats anything.
  const first = items[0]?.dateAdded ?? lowerBound ?? EMPTY_HEADERS_EPOCH;
  const last = resumeAfter ?? items[items.length - 1]?.dateAdded ?? lowerBound ?? EMPTY_HEADERS_EPOCH;
  return { 'X-TAXII-Date-Added-First': formatMicros(first), 'X-TAXII-Date-Added-Last': formatMicros(last) };
}

/** The status-details list items (§4.3.1) for one outcome. */
function statusDetails(items: SubmissionItem[], outcome: SubmissionItem['outcome']) {
  return items
    .filter((i) => i.outcome === outcome)
    .map((i) => ({
      id: i.id,
      version: i.version || (i.dateAdded !== undefined ? formatMicros(i.dateAdded) : ''),
      ...(i.message ? { message: i.message } : {}),
    }));
}

export class TaxiiService {
  private readonly running = new Set<Promise<void>>();
  private readonly completionListeners: Array<(submissionId: string) => Promise<void>> = [];

  constructor(
    private readonly store: Store,
    private readonly settings: TaxiiSettings,
    private readonly tokens: PageTokens,
    private readonly log: Logger,
    private readonly ingest: IngestRunner,
  ) {}

  // ---- lookups shared by the endpoints ------------------------------------------------------

  /** Collections of an API root the caller can see (can_read or can_write), in stable order. */
  async visibleCollections(caller: Caller, root: string) {
    const all = await this.store.listCollections(root);
    const withAccess = await Promise.all(all.map(async (c) => ({ collection: c, access: await accessTo(this.store, caller, c) })));
    return withAccess.filter((c) => c.access.canRead || c.access.canWrite);
  }

  /** An API root the caller may see: it exists and holds a collection visible to them (admins: any). */
  async visibleApiRoot(caller: Caller, rootPath: string): Promise<ApiRootRecord> {
    const root = await this.store.getApiRoot(rootPath);
    if (!root) throw notFound();
    if (!isAdmin(caller) && (await this.visibleCollections(caller, rootPath)).length === 0) throw notFound();
    return root;
  }

  private async collectionFor(caller: Caller, rootPath: string, idOrAlias: string) {
    const collection = await this.store.getCollection(rootPath, idOrAlias);
    if (!collection) throw notFound();
    return { collection, access: await accessTo(this.store, caller, collection) };
  }

  /** Records an audited action (docs/architecture.md §7: every write and delete). */
  private async audit(caller: Caller, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    await this.store.appendAudit({ at: nowMicros(), actor: caller.account.name, action, outcome: 'success', target, ...(caller.remote ? { remote: caller.remote } : {}), detail });
  }

  // ---- §4 server information ----------------------------------------------------------------

  /**
   * §4.1 GET /taxii2/. `baseUrl` is the public base URL ending in "/". `serves` narrows the roots
   * (the TAXII 2.0 view lists only the roots that enable it; its discovery has the same shape).
   */
  async discovery(caller: Caller, baseUrl: string, serves: (root: ApiRootRecord) => boolean = () => true): Promise<TaxiiResponse> {
    const roots = (await this.store.listApiRoots()).filter(serves);
    const visible: string[] = [];
    for (const root of roots) {
      if (isAdmin(caller) || (await this.visibleCollections(caller, root.path)).length > 0) visible.push(root.path);
    }
    const url = (p: string) => new URL(`${encodeURIComponent(p)}/`, baseUrl).toString();
    const s = this.settings;
    // Clients that take `default` without asking (several SIEMs) need one whenever it is obvious:
    // the configured root if the caller sees it, else the caller's only root.
    const defaultRoot = s.defaultApiRoot && visible.includes(s.defaultApiRoot) ? s.defaultApiRoot : visible.length === 1 ? visible[0] : undefined;
    return ok({
      title: s.title,
      ...(s.description ? { description: s.description } : {}),
      ...(s.contact ? { contact: s.contact } : {}),
      ...(defaultRoot ? { default: url(defaultRoot) } : {}),
      ...(visible.length ? { api_roots: visible.map(url) } : {}),
    });
  }

  /** §4.2 GET /{api-root}/ */
  async apiRoot(caller: Caller, rootPath: string): Promise<TaxiiResponse> {
    const root = await this.visibleApiRoot(caller, rootPath);
    return ok({
      title: root.title,
      ...(root.description ? { description: root.description } : {}),
      versions: [TAXII_MEDIA_TYPE],
      max_content_length: root.maxContentLength,
    });
  }

  /** §4.3 GET /{api-root}/status/{status-id}/ — only the submitter (and admins) may read it. */
  async status(caller: Caller, rootPath: string, statusId: string): Promise<TaxiiResponse> {
    const submission = await this.store.getSubmission(statusId);
    if (!submission || submission.apiRoot !== rootPath) throw notFound();
    if (submission.accountId !== caller.account.id && !isAdmin(caller)) throw notFound();
    return ok(await this.statusResource(submission));
  }

  /**
   * §4.3.1. The successes and failures lists are given in full while they hold at most
   * statusListLimit entries, else left out (they are optional; the counts stay exact). Objects not
   * yet processed are counted in pending_count only.
   */
  private async statusResource(s: SubmissionRecord) {
    const limit = this.settings.statusListLimit;
    const listed = s.successCount <= limit || s.failureCount <= limit;
    const items = listed ? await this.store.submissionItems(s.id) : [];
    const successes = s.successCount <= limit ? statusDetails(items, 'success') : [];
    const failures = s.failureCount <= limit ? statusDetails(items, 'failure') : [];
    return {
      id: s.id,
      status: s.status,
      request_timestamp: formatMicros(s.requestTimestamp),
      total_count: s.totalCount,
      success_count: s.successCount,
      ...(successes.length ? { successes } : {}),
      failure_count: s.failureCount,
      ...(failures.length ? { failures } : {}),
      pending_count: s.pendingCount,
    };
  }

  // ---- §5 collections -----------------------------------------------------------------------

  private collectionResource(c: CollectionRecord, access: { canRead: boolean; canWrite: boolean }) {
    return {
      id: c.id,
      title: c.title,
      ...(c.description ? { description: c.description } : {}),
      ...(c.alias ? { alias: c.alias } : {}),
      can_read: access.canRead,
      can_write: access.canWrite,
      media_types: c.mediaTypes,
    };
  }

  /** §5.1 GET /{api-root}/collections/ */
  async collections(caller: Caller, rootPath: string): Promise<TaxiiResponse> {
    await this.visibleApiRoot(caller, rootPath);
    const visible = await this.visibleCollections(caller, rootPath);
    return ok(visible.length ? { collections: visible.map((v) => this.collectionResource(v.collection, v.access)) } : {});
  }

  /** §5.2 GET /{api-root}/collections/{id}/ (by id or alias) */
  async collection(caller: Caller, rootPath: string, idOrAlias: string): Promise<TaxiiResponse> {
    const { collection, access } = await this.collectionFor(caller, rootPath, idOrAlias);
    if (!access.canRead && !access.canWrite) throw notFound();
    return ok(this.collectionResource(collection, access));
  }

  /**
   * Turns parsed parameters (and a `next` token, if any) into a store query. A token carries its
   * filters; parameters repeated beside it must equal them (docs/architecture.md §6a).
   */
  private resolveQuery(endpoint: FilteredEndpoint, caller: Caller, collectionId: string, objectId: string | undefined, q: ParsedQuery) {
    const { filters, position } = continueFrom(this.tokens, q, { endpoint, collectionId, objectId, accountId: caller.account.id });
    const limit = Math.min(q.limit ?? this.settings.defaultPageSize, this.settings.maxPageSize);
    const query: ObjectQuery = {
      ...(position !== undefined ? { addedAfter: position } : {}),
      ...(filters.id ? { ids: filters.id } : {}),
      ...(filters.type ? { types: filters.type } : {}),
      versions: versionMatch(filters.version),
      ...(filters.spec_version ? { specVersions: filters.spec_version } : {}),
      limit,
      ...(this.settings.queryScanLimit ? { scanLimit: this.settings.queryScanLimit } : {}),
    };
    return { query, filters };
  }

  /** Envelope-like paging fields and the date_added headers for one page. */
  private paged<T extends { dateAdded: number }>(
    endpoint: FilteredEndpoint,
    caller: Caller,
    collectionId: string,
    objectId: string | undefined,
    filters: CanonicalFilters,
    query: ObjectQuery,
    page: Page<T>,
  ) {
    // A page the scan limit ended goes on after the last version it examined (§3.4: fewer items than asked is allowed).
    const after = page.resumeAfter ?? page.items[page.items.length - 1]?.dateAdded;
    const next = page.more && after !== undefined
      ? this.tokens.sign({ endpoint, collectionId, objectId, accountId: caller.account.id, filters, after })
      : undefined;
    return { more: page.more, next, headers: dateAddedHeaders(page.items, query.addedAfter, page.resumeAfter) };
  }

  /** A collection the caller may read, and the marking cap of what they may see in it. */
  async readable(caller: Caller, rootPath: string, idOrAlias: string) {
    const { collection, access } = await this.collectionFor(caller, rootPath, idOrAlias);
    requireAccess(access, 'read');
    return { collection, maxTlp: tlpFilter(access) };
  }

  /** The object must have a version the caller may see, else it is a 404 like a missing one. */
  private async requireObject(collectionId: string, objectId: string, maxTlp: number | undefined): Promise<void> {
    if (!(await this.store.hasObject(collectionId, objectId, maxTlp))) throw notFound();
  }

  /** §5.3 GET …/manifest/ */
  async manifest(caller: Caller, rootPath: string, idOrAlias: string, q: ParsedQuery): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.readable(caller, rootPath, idOrAlias);
    const { query, filters } = this.resolveQuery('manifest', caller, collection.id, undefined, q);
    const page = await this.store.queryManifest(collection.id, { ...query, maxTlp });
    const { more, next, headers } = this.paged('manifest', caller, collection.id, undefined, filters, query, page);
    const objects = page.items.map(manifestRecord);
    return { status: 200, headers, body: objects.length || more ? { more, ...(next ? { next } : {}), ...(objects.length ? { objects } : {}) } : {} };
  }

  /** §5.4 GET …/objects/ and §5.6 GET …/objects/{object-id}/ */
  async objects(caller: Caller, rootPath: string, idOrAlias: string, q: ParsedQuery, objectId?: string): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.readable(caller, rootPath, idOrAlias);
    const endpoint = objectId ? 'object' : 'objects';
    if (objectId) await this.requireObject(collection.id, objectId, maxTlp);
    const resolved = this.resolveQuery(endpoint, caller, collection.id, objectId, q);
    const query = { ...resolved.query, ...(objectId ? { ids: [objectId] } : {}), maxTlp };
    const page = await this.store.queryObjects(collection.id, query);
    const { more, next, headers } = this.paged(endpoint, caller, collection.id, objectId, resolved.filters, query, page);
    // The stored canonical JSON is spliced in as is: no parse, no re-serialisation.
    const parts = [`"more":${more}`];
    if (next) parts.push(`"next":${JSON.stringify(next)}`);
    if (page.items.length) parts.push(`"objects":[${page.items.map((o) => o.json).join(',')}]`);
    return { status: 200, headers, rawJson: `{${parts.join(',')}}` };
  }

  /** §5.8 GET …/objects/{object-id}/versions/ */
  async versions(caller: Caller, rootPath: string, idOrAlias: string, objectId: string, q: ParsedQuery): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.readable(caller, rootPath, idOrAlias);
    await this.requireObject(collection.id, objectId, maxTlp);
    const { query, filters } = this.resolveQuery('versions', caller, collection.id, objectId, q);
    const page = await this.store.queryVersions(collection.id, objectId, { ...query, maxTlp });
    const { more, next, headers } = this.paged('versions', caller, collection.id, objectId, filters, query, page);
    const versions = page.items.map(versionOf);
    return { status: 200, headers, body: versions.length || more ? { more, ...(next ? { next } : {}), ...(versions.length ? { versions } : {}) } : {} };
  }

  /** §5.7 DELETE …/objects/{object-id}/ */
  async deleteObject(caller: Caller, rootPath: string, idOrAlias: string, objectId: string, q: ParsedQuery): Promise<TaxiiResponse> {
    const { collection, access } = await this.collectionFor(caller, rootPath, idOrAlias);
    requireAccess(access, 'delete');
    const maxTlp = tlpFilter(access);
    await this.requireObject(collection.id, objectId, maxTlp);
    const deleted = await this.store.deleteObject(collection.id, objectId, {
      versions: versionMatch(q.filters.version),
      ...(q.filters.spec_version ? { specVersions: q.filters.spec_version } : {}),
      maxTlp,
    }, { kind: writerKind(caller.account.roles) });
    if (deleted === 0) throw notFound('No version of the object matches the request.');
    await this.audit(caller, 'object.delete', collection.id, { object: objectId, versions: q.filters.version ?? ['last'], deleted });
    return { status: 200 };
  }

  // ---- §5.5 add objects ---------------------------------------------------------------------

  /** §5.5: checks write access before the body is read; returns the API root's max_content_length. */
  async writableLimit(caller: Caller, rootPath: string, idOrAlias: string): Promise<number> {
    const { access } = await this.collectionFor(caller, rootPath, idOrAlias);
    requireAccess(access, 'write');
    const root = await this.store.getApiRoot(rootPath);
    if (!root) throw notFound();
    return root.maxContentLength;
  }

  /** §5.5 POST …/objects/: records the submission durably, then processes each object. */
  async addObjects(caller: Caller, rootPath: string, idOrAlias: string, body: Buffer): Promise<TaxiiResponse> {
    const { collection, access } = await this.collectionFor(caller, rootPath, idOrAlias);
    requireAccess(access, 'write');
    const options = this.pipelineOptions(collection);
    const job = await this.ingest.open(body, options); // 400 / 422 before anything is recorded
    // A small envelope is processed before the 202 and is durable once complete: nothing to keep.
    // A large one is answered at once, so its body is kept (on disk) until it has been processed.
    const inline = job.count <= this.settings.syncIngestLimit;
    const submission = {
      id: randomUUID(),
      apiRoot: rootPath,
      collectionId: collection.id,
      accountId: caller.account.id,
      requestTimestamp: nowMicros(),
      ...(inline ? {} : { body }),
      totalCount: job.count,
    };
    await this.store.createSubmission(submission);
    await this.audit(caller, 'objects.add', collection.id, { submission: submission.id, objects: job.count, bytes: body.length });
    const work = this.process(submission.id, job);
    if (inline) await work;
    else this.track(work);
    const record = await this.store.getSubmission(submission.id);
    return { status: 202, body: await this.statusResource(record!) };
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err) => this.log.error({ err }, 'submission processing failed; it resumes at the next start'));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  private pipelineOptions(collection: CollectionRecord | undefined): PipelineOptions {
    return {
      scoIds: this.settings.scoIds,
      ...(collection?.enrichment?.defaultMarkingRefs ? { defaultMarkingRefs: collection.enrichment.defaultMarkingRefs } : {}),
      ...(collection?.enrichment?.defaultCreatedByRef ? { defaultCreatedByRef: collection.enrichment.defaultCreatedByRef } : {}),
    };
  }

  /**
   * Calls `listener` after each submission is complete (processed, or resumed after a restart), e.g.
   * to act on what an intake collection received. Its failures are logged, never the client's.
   */
  onSubmissionComplete(listener: (submissionId: string) => Promise<void>): void {
    this.completionListeners.push(listener);
  }

  private async completed(submissionId: string): Promise<void> {
    for (const listener of this.completionListeners) {
      await listener(submissionId).catch((err: unknown) => this.log.error({ err, submission: submissionId }, 'a submission listener failed'));
    }
  }

  /** Stores the prepared items of a submission batch by batch (one transaction each), then completes it. */
  private async process(submissionId: string, job: IngestJob): Promise<void> {
    for await (const items of job.batches()) {
      await this.store.ingest(submissionId, items);
      // Let readers in between batches: a large envelope must not starve polling clients.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.store.completeSubmission(submissionId);
    await this.completed(submissionId);
  }

  /** Finishes submissions a previous process left pending (crash or shutdown mid-processing). */
  async resumePending(): Promise<number> {
    const pending = await this.store.pendingSubmissions();
    for (const s of pending) {
      this.log.warn({ event: 'submission.resume', submission: s.id, pending: s.pendingIndexes.length }, 'resuming an unfinished submission');
      const collection = await this.store.getCollection(s.apiRoot, s.collectionId);
      if (s.body.length === 0) {
        // Processed before its 202, and interrupted: the client never had an answer and resends.
        await this.failPending(s.id, s.pendingIndexes, 'processing was interrupted before the request was acknowledged; send it again');
        continue;
      }
      const work = this.ingest.open(s.body, this.pipelineOptions(collection), s.pendingIndexes).then(
        (job) => this.process(s.id, job),
        // A body that no longer parses cannot be processed: its objects fail, and the status says why.
        async (err: unknown) => {
          if (!(err instanceof TaxiiError)) throw err;
          await this.failPending(s.id, s.pendingIndexes, err.description ?? err.title);
        },
      );
      this.track(work);
    }
    return pending.length;
  }

  private async failPending(submissionId: string, indexes: number[], message: string): Promise<void> {
    await this.store.ingest(submissionId, indexes.map((index) => ({ index, id: `objects[${index}]`, version: '', failure: message })));
    await this.store.completeSubmission(submissionId);
  }

  /** Finishes background processing and stops the ingest worker (graceful shutdown). */
  async close(): Promise<void> {
    await this.idle();
    await this.ingest.close();
  }

  /** Waits for background processing (graceful shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  /** Drops complete status resources past the retention time (§4.3). */
  async purgeStatuses(now = nowMicros()): Promise<number> {
    return this.store.purgeSubmissions(now - this.settings.statusRetentionMs * 1000);
  }
}

function manifestRecord(e: ManifestEntry) {
  return { id: e.id, date_added: formatMicros(e.dateAdded), version: versionOf(e), media_type: e.mediaType };
}

/** §3.4.1: modified, else created, else a value consistent to the server: its date_added. */
function versionOf(e: ManifestEntry): string {
  return e.version ?? formatMicros(e.dateAdded);
}
