// The change feed of a published collection (a TAXII extension, docs/changes.md): what was
// published, updated, revoked and withdrawn, in date_added order, read from the collection's durable
// change log. The same reader serves the feed (GET …/changes/) and the live stream (the same URL as
// text/event-stream), so both apply one access check: the caller's read grant on the collection and
// its TLP cap, per entry — a subscriber never learns of an object it could not read.
import type { ChangeRecord, CollectionRecord, Store } from '../collections/store.js';
import { type Caller, accessTo, requireAccess, tlpFilter } from '../taxii/access.js';
import { TaxiiError, notFound } from '../taxii/errors.js';
import { type PageTokens, continueFrom } from '../taxii/paging.js';
import type { CanonicalFilters, ParsedQuery } from '../taxii/query.js';
import { type TaxiiResponse, dateAddedHeaders } from '../taxii/service.js';
import { formatMicros } from '../taxii/time.js';

/** Entries read from the log per entry served at most: a page stops early (with `next`) past this. */
const SCAN_FACTOR = 10;

export interface FeedSettings {
  defaultPageSize: number;
  maxPageSize: number;
}

/** What a reader is entitled to see of a collection's change log. */
export interface FeedScope {
  collection: CollectionRecord;
  /** TLP rank cap (undefined = everything). */
  maxTlp?: number;
  filters: CanonicalFilters;
}

/** A change as the feed and the stream show it. */
export function changeView(c: ChangeRecord) {
  return {
    id: c.id,
    date_added: formatMicros(c.dateAdded),
    type: c.type,
    object: { type: c.objectType, id: c.objectId, ...(c.version !== undefined ? { version: c.version } : {}) },
    actor: c.actorKind,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.lastVersion !== undefined ? { last_version: c.lastVersion } : {}),
  };
}

/** Whether a reader with this scope sees a change: its TLP cap and its change and object type filters. */
export function entitled(c: ChangeRecord, scope: Pick<FeedScope, 'maxTlp' | 'filters'>): boolean {
  if (scope.maxTlp !== undefined && c.tlp > scope.maxTlp) return false;
  if (scope.filters.types && !scope.filters.types.includes(c.type)) return false;
  return !scope.filters.type || scope.filters.type.includes(c.objectType);
}

export class ChangeFeed {
  constructor(
    private readonly store: Store,
    private readonly tokens: PageTokens,
    private readonly settings: FeedSettings,
  ) {}

  /** A published collection the caller may read (anything else is a 404, like a missing one). */
  async scope(caller: Caller, rootPath: string, idOrAlias: string, filters: CanonicalFilters): Promise<FeedScope> {
    const collection = await this.store.getCollection(rootPath, idOrAlias);
    if (!collection || collection.purpose !== 'published') throw notFound();
    const access = await accessTo(this.store, caller, collection);
    requireAccess(access, 'read');
    const maxTlp = tlpFilter(access);
    return { collection, ...(maxTlp !== undefined ? { maxTlp } : {}), filters };
  }

  /** A cursor older than what the log keeps cannot be continued: the reader must resync. */
  async checkHorizon(collectionId: string, position: number | undefined): Promise<void> {
    if (position === undefined) return;
    const horizon = await this.store.changeHorizon(collectionId);
    if (position < horizon) {
      throw new TaxiiError(
        'TAXII_ERR_RESYNC',
        `The change log no longer holds changes after ${formatMicros(position)} (it keeps them from ${formatMicros(horizon)}). Re-poll the collection's objects, then follow this feed with added_after = the X-TAXII-Date-Added-Last of that poll.`,
        { resync: true, horizon: formatMicros(horizon) },
      );
    }
  }

  /**
   * Entitled changes after `position`, at most `limit`; `scanned` is how far the log was read (the
   * position to continue from, past entries the reader may not see).
   */
  async read(scope: FeedScope, position: number | undefined, limit: number): Promise<{ items: ChangeRecord[]; more: boolean; scanned: number | undefined }> {
    const items: ChangeRecord[] = [];
    let scanned = position;
    let budget = limit * SCAN_FACTOR;
    for (;;) {
      const batch = Math.min(Math.max(limit + 1, 100), 1000);
      const page = await this.store.readChanges(scope.collection.id, scanned ?? 0, batch);
      for (const c of page.items) {
        if (items.length === limit) return { items, more: true, scanned };
        scanned = c.dateAdded;
        budget--;
        if (entitled(c, scope)) items.push(c);
      }
      if (!page.more) return { items, more: false, scanned };
      if (budget <= 0) return { items, more: true, scanned };
    }
  }

  /** GET {api-root}/collections/{id}/changes/: one page, TAXII envelope-like (more, next, headers). */
  async page(caller: Caller, rootPath: string, idOrAlias: string, q: ParsedQuery): Promise<TaxiiResponse> {
    const collection = await this.store.getCollection(rootPath, idOrAlias);
    const collectionId = collection?.id ?? '';
    const { filters, position } = continueFrom(this.tokens, q, { endpoint: 'changes', collectionId, accountId: caller.account.id });
    const scope = await this.scope(caller, rootPath, idOrAlias, filters);
    await this.checkHorizon(scope.collection.id, position);
    const limit = Math.min(q.limit ?? this.settings.defaultPageSize, this.settings.maxPageSize);
    const page = await this.read(scope, position, limit);
    const next = page.more && page.scanned !== undefined
      ? this.tokens.sign({ endpoint: 'changes', collectionId: scope.collection.id, accountId: caller.account.id, filters, after: page.scanned })
      : undefined;
    const changes = page.items.map(changeView);
    return {
      status: 200,
      headers: dateAddedHeaders(page.items, position),
      body: { more: page.more, ...(next ? { next } : {}), ...(changes.length ? { changes } : {}) },
    };
  }
}

