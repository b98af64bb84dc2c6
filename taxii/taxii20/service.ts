// The read-only TAXII 2.0 view (TAXII 2.0 CS01) of the API roots that enable it, for consumers
// that speak only 2.0 (docs/clients.md). Same authentication, grants and TLP caps as TAXII 2.1:
// every lookup goes through the 2.1 service's access rules. Only published collections the caller
// may read are shown, never writable. Objects are converted by stix20.ts; paging is TAXII 2.0's
// `Range: items a-b` over the stored selection, answered with `Content-Range: items a-b/N`.
import { randomUUID } from 'node:crypto';
import type { ApiRootRecord, CollectionRecord, ObjectQuery, Store, StoredObject } from '../../collections/store.js';
import type { Caller } from '../access.js';
import { TaxiiError, notFound } from '../errors.js';
import { STIX20_MEDIA_TYPE, TAXII20_MEDIA_TYPE } from '../media-types.js';
import { type ParsedQuery, versionMatch } from '../query.js';
import type { TaxiiResponse, TaxiiService } from '../service.js';
import { formatMicros } from '../time.js';
import { type SkipReason, type StixObject, toStix20 } from './stix20.js';

/** TAXII 2.0 §4.2.1: the version string of the API root resource. */
const TAXII20_VERSION = 'taxii-2.0';

/** A parsed `Range: items a-b` (TAXII 2.0 §3.4; python taxii2-client also sends "items a-b"). */
export interface ItemRange {
  start: number;
  /** Inclusive; undefined for "a-" (to the end). */
  end?: number;
}

/** The items range of a Range header; undefined when there is none or it is of another unit (ignored, RFC 7233 §3.1). */
export function parseItemRange(header: string | undefined): ItemRange | undefined {
  if (header === undefined || !/^\s*items[\s=]/i.test(header)) return undefined;
  const m = /^\s*items(?:\s*=\s*|\s+)(\d{1,15})-(\d{1,15})?\s*$/i.exec(header);
  if (!m) throw new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The Range header must be "items a-b" with a ≤ b (TAXII 2.0 §3.4).');
  const start = Number(m[1]);
  const end = m[2] === undefined ? undefined : Number(m[2]);
  if (end !== undefined && end < start) throw new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The Range header must be "items a-b" with a ≤ b (TAXII 2.0 §3.4).');
  return { start, ...(end !== undefined ? { end } : {}) };
}

export class Taxii20Service {
  constructor(
    private readonly store: Store,
    private readonly taxii: TaxiiService,
    private readonly settings: { maxPageSize: number },
  ) {}

  private ok(body: unknown, headers: Record<string, string> = {}, mediaType = TAXII20_MEDIA_TYPE): TaxiiResponse {
    return { status: 200, body, headers: { ...headers, 'Content-Type': mediaType } };
  }

  /** An API root the caller sees, that serves the 2.0 view (else a 406 that says so, once visible). */
  private async root(caller: Caller, rootPath: string): Promise<ApiRootRecord> {
    const root = await this.taxii.visibleApiRoot(caller, rootPath);
    if (!root.taxii20) throw new TaxiiError('TAXII_ERR_NOT_ACCEPTABLE', 'This API root does not serve TAXII 2.0; ask the operator to enable its TAXII 2.0 view, or use TAXII 2.1.');
    return root;
  }

  /** Published collections of a 2.0 root the caller may read. */
  private async readableCollections(caller: Caller, rootPath: string) {
    await this.root(caller, rootPath);
    return (await this.taxii.visibleCollections(caller, rootPath)).filter((v) => v.access.canRead && v.collection.purpose === 'published');
  }

  private async collectionOf(caller: Caller, rootPath: string, idOrAlias: string) {
    await this.root(caller, rootPath);
    const { collection, maxTlp } = await this.taxii.readable(caller, rootPath, idOrAlias);
    if (collection.purpose !== 'published') throw notFound();
    return { collection, maxTlp };
  }

  private collectionResource(c: CollectionRecord) {
    return { id: c.id, title: c.title, ...(c.description ? { description: c.description } : {}), can_read: true, can_write: false, media_types: [STIX20_MEDIA_TYPE] };
  }

  /** TAXII 2.0 §4.1: the roots that serve 2.0 and that the caller sees. */
  async discovery(caller: Caller, baseUrl: string): Promise<TaxiiResponse> {
    const { body } = await this.taxii.discovery(caller, baseUrl, (root) => root.taxii20 === true);
    return this.ok(body);
  }

  /** TAXII 2.0 §4.2 */
  async apiRoot(caller: Caller, rootPath: string): Promise<TaxiiResponse> {
    const root = await this.root(caller, rootPath);
    return this.ok({ title: root.title, ...(root.description ? { description: root.description } : {}), versions: [TAXII20_VERSION], max_content_length: root.maxContentLength });
  }

  /** TAXII 2.0 §5.1 */
  async collections(caller: Caller, rootPath: string): Promise<TaxiiResponse> {
    const readable = await this.readableCollections(caller, rootPath);
    return this.ok(readable.length ? { collections: readable.map((v) => this.collectionResource(v.collection)) } : {});
  }

  /** TAXII 2.0 §5.2 (by id, or by alias as in 2.1; the resource gives the id). */
  async collection(caller: Caller, rootPath: string, idOrAlias: string): Promise<TaxiiResponse> {
    const { collection } = await this.collectionOf(caller, rootPath, idOrAlias);
    return this.ok(this.collectionResource(collection));
  }

  /** The store query of a 2.0 request: added_after, match[id], match[type], match[version] (TAXII 2.0 §3.5). */
  private query(q: ParsedQuery, maxTlp: number | undefined): Omit<ObjectQuery, 'limit'> {
    const f = q.filters;
    return {
      ...(f.added_after !== undefined ? { addedAfter: f.added_after } : {}),
      ...(f.id ? { ids: f.id } : {}),
      ...(f.type ? { types: f.type } : {}),
      versions: versionMatch(f.version),
      maxTlp,
    };
  }

  /**
   * The date_added of every record of the selection, in order: its size is N of Content-Range,
   * and position i is where item i starts. Read from the manifest (no bodies), a page at a time.
   */
  private async positions(collectionId: string, query: Omit<ObjectQuery, 'limit'>): Promise<number[]> {
    const out: number[] = [];
    let after = query.addedAfter;
    for (;;) {
      const page = await this.store.queryManifest(collectionId, { ...query, ...(after !== undefined ? { addedAfter: after } : {}), limit: this.settings.maxPageSize });
      for (const e of page.items) out.push(e.dateAdded);
      if (!page.more || page.items.length === 0) return out;
      after = page.items[page.items.length - 1]!.dateAdded;
    }
  }

  /** One page of the selection by item range, with its status and paging headers. */
  private async page(collectionId: string, query: Omit<ObjectQuery, 'limit'>, range: ItemRange | undefined) {
    const positions = await this.positions(collectionId, query);
    const total = positions.length;
    const start = range?.start ?? 0;
    if (total === 0) return { status: 200, records: [] as StoredObject[], headers: { 'Accept-Ranges': 'items', 'Content-Range': 'items */0' } as Record<string, string> };
    if (start >= total) {
      throw new TaxiiError('TAXII_ERR_RANGE_NOT_SATISFIABLE', `The selection has ${total} items; the range starts at ${start}.`).withHeader('Content-Range', `items */${total}`).withHeader('Accept-Ranges', 'items');
    }
    const wanted = Math.min((range?.end ?? total - 1) - start + 1, this.settings.maxPageSize, total - start);
    const page = await this.store.queryObjects(collectionId, { ...query, ...(start > 0 ? { addedAfter: positions[start - 1]! } : {}), limit: wanted });
    const end = start + page.items.length - 1;
    const partial = start > 0 || end < total - 1;
    return {
      status: partial ? 206 : 200,
      records: page.items,
      headers: <Record<string, string>>{
        'Accept-Ranges': 'items',
        'Content-Range': `items ${start}-${end}/${total}`,
        'X-TAXII-Date-Added-First': formatMicros(page.items[0]!.dateAdded),
        'X-TAXII-Date-Added-Last': formatMicros(page.items[page.items.length - 1]!.dateAdded),
      },
    };
  }

  /** Converts stored 2.1 objects; the cyber observables observed-data refers to are looked up once per page. */
  private async convert(collectionId: string, records: StoredObject[], maxTlp: number | undefined) {
    const objects = records.map((r) => JSON.parse(r.json) as StixObject);
    const refs = [...new Set(objects.filter((o) => o.type === 'observed-data' && Array.isArray(o.object_refs)).flatMap((o) => o.object_refs as string[]))];
    const observables = new Map<string, StixObject>();
    for (let i = 0; i < refs.length; i += this.settings.maxPageSize) {
      const ids = refs.slice(i, i + this.settings.maxPageSize);
      const found = await this.store.queryObjects(collectionId, { ids, versions: versionMatch(undefined), maxTlp, limit: ids.length });
      for (const r of found.items) observables.set(r.id, JSON.parse(r.json) as StixObject);
    }
    const converted: StixObject[] = [];
    const skipped = new Map<SkipReason, number>();
    for (const o of objects) {
      const c = toStix20(o, (id) => observables.get(id));
      if ('object' in c) converted.push(c.object);
      else skipped.set(c.skipped, (skipped.get(c.skipped) ?? 0) + 1);
    }
    return { converted, skipped };
  }

  private bundle(objects: StixObject[], skipped: Map<SkipReason, number>) {
    const count = [...skipped.values()].reduce((a, b) => a + b, 0);
    return {
      body: { type: 'bundle', id: `bundle--${randomUUID()}`, spec_version: '2.0', ...(objects.length ? { objects } : {}) },
      // What 2.0 cannot carry is counted, so an operator can see why a page is short.
      headers: (count ? { 'X-Meridian-Stix20-Skipped': [...skipped].map(([reason, n]) => `${reason}=${n}`).join(', ') } : {}) as Record<string, string>,
    };
  }

  /** TAXII 2.0 §5.3 GET …/objects/ : a STIX 2.0 bundle of one range of the selection. */
  async objects(caller: Caller, rootPath: string, idOrAlias: string, q: ParsedQuery, range: ItemRange | undefined): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.collectionOf(caller, rootPath, idOrAlias);
    const page = await this.page(collection.id, this.query(q, maxTlp), range);
    const { converted, skipped } = await this.convert(collection.id, page.records, maxTlp);
    const { body, headers } = this.bundle(converted, skipped);
    return { ...this.ok(body, { ...page.headers, ...headers }, STIX20_MEDIA_TYPE), status: page.status };
  }

  /** TAXII 2.0 §5.5 GET …/objects/{object-id}/ : the object's matching versions as a bundle. */
  async object(caller: Caller, rootPath: string, idOrAlias: string, objectId: string, q: ParsedQuery): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.collectionOf(caller, rootPath, idOrAlias);
    const page = await this.store.queryObjects(collection.id, { ...this.query(q, maxTlp), ids: [objectId], limit: this.settings.maxPageSize });
    if (page.items.length === 0) throw notFound();
    const { converted, skipped } = await this.convert(collection.id, page.items, maxTlp);
    if (converted.length === 0) throw notFound('The object has no STIX 2.0 form.');
    const { body, headers } = this.bundle(converted, skipped);
    return this.ok(body, headers, STIX20_MEDIA_TYPE);
  }

  /**
   * TAXII 2.0 §5.6 GET …/manifest/ : one entry per object of the range, with the versions on the
   * page. Entries are listed for the objects the 2.0 view can send, so the manifest never
   * announces what objects/ would leave out.
   */
  async manifest(caller: Caller, rootPath: string, idOrAlias: string, q: ParsedQuery, range: ItemRange | undefined): Promise<TaxiiResponse> {
    const { collection, maxTlp } = await this.collectionOf(caller, rootPath, idOrAlias);
    const page = await this.page(collection.id, this.query(q, maxTlp), range);
    const { converted } = await this.convert(collection.id, page.records, maxTlp);
    const sendable = new Set(converted.map((o) => `${String(o.id)}|${String(o.modified ?? o.created ?? '')}`));
    const entries = new Map<string, { id: string; date_added: string; versions: string[]; media_types: string[] }>();
    for (const r of page.records) {
      const version = r.version ?? formatMicros(r.dateAdded);
      if (!sendable.has(`${r.id}|${r.version ?? ''}`) && !sendable.has(`${r.id}|${version}`)) continue;
      const entry = entries.get(r.id) ?? { id: r.id, date_added: formatMicros(r.dateAdded), versions: [], media_types: [STIX20_MEDIA_TYPE] };
      entry.versions.push(version);
      entries.set(r.id, entry);
    }
    return { ...this.ok(entries.size ? { objects: [...entries.values()] } : {}, page.headers), status: page.status };
  }
}
