// A TAXII 2.1 client (TAXII 2.1 §4, §5; Meridian's change feed and live stream, docs/changes.md).
// It imports nothing of the server (docs/architecture.md §4) and needs only Node's built-ins.
import { type Auth, staticHeaders, tokenRequestHeader } from './auth.js';
import { TaxiiConnectionError, TaxiiError, TaxiiProtocolError } from './errors.js';
import { type HttpRequest, type HttpResponse, Transport, type TransportOptions, errorOf, sleep } from './http.js';
import { SseParser } from './sse.js';
import type { ApiRootInfo, ChangeEntry, CollectionInfo, Discovery, Filters, ManifestRecord, Page, Status, StixObject } from './types.js';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export interface ClientOptions extends TransportOptions {
  auth?: Auth;
  /** Cancels every request of this client (each call may also take its own signal). */
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface AddOptions extends CallOptions {
  /** Poll the status until it is no longer pending (default true). */
  wait?: boolean;
  /** First poll interval (default 250 ms, growing to 5 s); give up after timeoutMs (default 10 min). */
  pollIntervalMs?: number;
  timeoutMs?: number;
}

export interface StreamOptions extends CallOptions {
  /** Start after this change (Last-Event-ID); otherwise after addedAfter; otherwise from now. */
  lastEventId?: string;
  addedAfter?: string;
  changeTypes?: string | string[];
  type?: string | string[];
  /** Reconnect (with Last-Event-ID) when the server ends the stream (default true). */
  reconnect?: boolean;
  /** No byte (not even a heartbeat) for this long: the connection is taken as dead and reopened (default 60 000 ms). */
  idleTimeoutMs?: number;
}

/** An event of the live stream: the change entry and its id (the cursor to resume from). */
export interface ChangeEvent {
  id: string | undefined;
  type: string;
  entry: ChangeEntry;
}

function withSlash(url: URL): URL {
  const u = new URL(url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  u.search = '';
  u.hash = '';
  return u;
}

function list(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** The query parameters of TAXII 2.1 §3.4 for these filters. */
export function queryOf(f: Filters = {}): Record<string, string> {
  const q: Record<string, string | undefined> = {
    added_after: f.addedAfter,
    limit: f.limit !== undefined ? String(f.limit) : undefined,
    'match[id]': list(f.id),
    'match[type]': list(f.type),
    'match[version]': list(f.version),
    'match[spec_version]': list(f.specVersion),
    types: list(f.changeTypes),
  };
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}

export class TaxiiClient {
  readonly url: URL;
  private readonly transport: Transport;
  private token: { value: string; expiresAt: number } | undefined;
  private tokenPending: Promise<string> | undefined;

  /** `url`: the discovery URL (…/taxii2/) or an API root URL (…/fr/). */
  constructor(url: string | URL, readonly options: ClientOptions = {}) {
    try {
      this.url = withSlash(new URL(url));
    } catch {
      throw new TypeError(`not a URL: ${String(url)}`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${this.url.protocol}`);
    if (this.url.username || this.url.password) throw new TypeError('give credentials with the auth option, not in the URL');
    this.transport = new Transport(options);
  }

  /** Releases the keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  private async authHeaders(signal: AbortSignal | undefined, renew = false): Promise<Record<string, string>> {
    const auth = this.options.auth;
    if (!auth) return {};
    if (auth.type !== 'token') return staticHeaders(auth);
    if (renew) this.token = undefined;
    if (this.token && this.token.expiresAt > Date.now()) return { Authorization: `Bearer ${this.token.value}` };
    this.tokenPending ??= this.fetchToken(auth, signal).finally(() => (this.tokenPending = undefined));
    return { Authorization: `Bearer ${await this.tokenPending}` };
  }

  /** POST /auth/token (RFC 6749 §5.1 response); renewed 30 s (or a tenth of its life) before it expires. */
  private async fetchToken(auth: Extract<Auth, { type: 'token' }>, signal: AbortSignal | undefined): Promise<string> {
    // An API key goes in the body ({"api_key"}), which token endpoints take more widely than a key in Basic.
    const url = new URL(auth.tokenUrl ?? '/auth/token', this.url);
    const req: HttpRequest = auth.apiKey !== undefined
      ? { method: 'POST', url, headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body: JSON.stringify({ api_key: auth.apiKey }), signal }
      : { method: 'POST', url, headers: { Accept: 'application/json', Authorization: tokenRequestHeader(auth) }, signal };
    const res = await this.transport.send(req);
    if (res.status !== 200) throw errorOf(req, res);
    const body = this.json(req, res) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new TaxiiProtocolError(`${req.url.href}: the token response has no access_token`);
    const life = typeof body.expires_in === 'number' ? body.expires_in : 300;
    this.token = { value: body.access_token, expiresAt: Date.now() + Math.max(1, life - Math.min(30, life / 10)) * 1000 };
    return body.access_token;
  }

  private json(req: HttpRequest, res: HttpResponse): unknown {
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new TaxiiProtocolError(`${req.method} ${req.url.origin}${req.url.pathname}: ${res.status} answer is not JSON (${String(res.headers['content-type'] ?? 'no Content-Type')})`);
    }
  }

  /**
   * One TAXII request: auth, retries, a renewed token on a 401, an error answer as TaxiiError.
   * `url` may be relative to the client's URL.
   */
  async request(method: HttpRequest['method'], url: string | URL, opts: { query?: Record<string, string>; body?: Buffer | string; signal?: AbortSignal | undefined; accept?: string; stream?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const target = new URL(url, this.url);
    for (const [k, v] of Object.entries(opts.query ?? {})) target.searchParams.set(k, v);
    const signal = combine(this.options.signal, opts.signal);
    for (let renew = false; ; renew = true) {
      const headers: Record<string, string> = { Accept: opts.accept ?? TAXII_MEDIA_TYPE, ...(await this.authHeaders(signal, renew)), ...opts.headers };
      if (opts.body !== undefined) headers['Content-Type'] = TAXII_MEDIA_TYPE;
      const req: HttpRequest = { method, url: target, headers, ...(opts.body !== undefined ? { body: opts.body } : {}), signal, ...(opts.stream ? { stream: true } : {}) };
      const res = await this.transport.send(req);
      if (res.status === 401 && this.options.auth?.type === 'token' && !renew) continue; // the token may have been revoked or expired early
      if (res.status >= 400) throw errorOf(req, res);
      return res;
    }
  }

  /** GET and parse a JSON resource. */
  async getJson<T>(url: string | URL, query?: Record<string, string>, opts: CallOptions = {}): Promise<{ body: T; res: HttpResponse }> {
    const res = await this.request('GET', url, { ...(query ? { query } : {}), signal: opts.signal });
    const body = (res.status === 204 || res.body.length === 0 ? {} : this.json({ method: 'GET', url: new URL(url, this.url), headers: {} }, res)) as T;
    return { body, res };
  }

  /** §4.1 discovery, at the client's URL. */
  async discovery(opts: CallOptions = {}): Promise<Discovery> {
    return (await this.getJson<Discovery>(this.url, undefined, opts)).body;
  }

  /**
   * The API root: `url` if given; else the client's URL when it is an API root; else discovery's
   * default, or its only API root.
   */
  async apiRoot(url?: string | URL, opts: CallOptions = {}): Promise<ApiRoot> {
    if (url !== undefined) {
      const u = withSlash(new URL(url, this.url));
      return new ApiRoot(this, u, (await this.getJson<ApiRootInfo>(u, undefined, opts)).body);
    }
    const { body } = await this.getJson<Discovery & Partial<ApiRootInfo>>(this.url, undefined, opts);
    if (Array.isArray(body.versions) || typeof body.max_content_length === 'number') return new ApiRoot(this, this.url, body as ApiRootInfo);
    const roots = body.api_roots ?? [];
    const chosen = body.default ?? (roots.length === 1 ? roots[0] : undefined);
    if (chosen === undefined) {
      throw new TaxiiProtocolError(roots.length === 0 ? `${this.url.href}: discovery lists no API root this account may see` : `${this.url.href}: discovery lists ${roots.length} API roots and names no default; give one of them as the URL: ${roots.join(', ')}`);
    }
    return this.apiRoot(chosen, opts);
  }
}

export class ApiRoot {
  constructor(readonly client: TaxiiClient, readonly url: URL, readonly info: ApiRootInfo) {}

  /** §5.1 */
  async collections(opts: CallOptions = {}): Promise<CollectionInfo[]> {
    const { body } = await this.client.getJson<{ collections?: CollectionInfo[] }>(new URL('collections/', this.url), undefined, opts);
    return body.collections ?? [];
  }

  /** A collection by id, alias (Meridian) or title; a title shared by several collections is refused. */
  async collection(ref: string, opts: CallOptions = {}): Promise<Collection> {
    const all = await this.collections(opts);
    const byId = all.find((c) => c.id === ref) ?? all.find((c) => c.alias === ref);
    if (byId) return new Collection(this, byId);
    const byTitle = all.filter((c) => c.title === ref);
    if (byTitle.length > 1) throw new TaxiiProtocolError(`${byTitle.length} collections of ${this.url.href} are titled "${ref}"; give its id (${byTitle.map((c) => c.id).join(', ')})`);
    if (byTitle.length === 1) return new Collection(this, byTitle[0]!);
    // Not listed (a server that pages or hides its list): ask for it directly (§5.2).
    const { body } = await this.client.getJson<CollectionInfo>(new URL(`collections/${encodeURIComponent(ref)}/`, this.url), undefined, opts);
    return new Collection(this, body);
  }

  /** §4.3 */
  async status(id: string, opts: CallOptions = {}): Promise<Status> {
    return (await this.client.getJson<Status>(new URL(`status/${encodeURIComponent(id)}/`, this.url), undefined, opts)).body;
  }

  /** Polls a status until it is no longer pending, the interval growing from `intervalMs` to 5 s. */
  async waitForStatus(status: Status, opts: CallOptions & { intervalMs?: number; timeoutMs?: number } = {}): Promise<Status> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    let interval = opts.intervalMs ?? 250;
    let current = status;
    while (current.status === 'pending') {
      if (Date.now() > deadline) throw new TaxiiProtocolError(`status ${status.id} still pending after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`);
      await sleep(interval, opts.signal);
      interval = Math.min(5000, interval * 1.5);
      current = await this.status(status.id, opts);
    }
    return current;
  }
}

type Endpoint = { path: string; key: 'objects' | 'versions' | 'changes' };

export class Collection {
  readonly url: URL;
  constructor(readonly root: ApiRoot, readonly info: CollectionInfo) {
    this.url = new URL(`collections/${encodeURIComponent(info.id)}/`, root.url);
  }

  get id(): string {
    return this.info.id;
  }

  private get client(): TaxiiClient {
    return this.root.client;
  }

  /**
   * Pages of an endpoint. Follows `next` (sent beside the same filters, as §3.4 says); a server
   * that says `more` without `next` is continued with added_after = X-TAXII-Date-Added-Last.
   */
  async *pages<T>(endpoint: Endpoint, filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<Page<T>> {
    const base = queryOf(filters);
    let query = base;
    let previous: string | undefined;
    for (;;) {
      const { body, res } = await this.client.getJson<{ more?: boolean; next?: string } & Record<string, unknown>>(new URL(endpoint.path, this.url), query, opts);
      const items = (Array.isArray(body[endpoint.key]) ? body[endpoint.key] : []) as T[];
      const first = header(res, 'x-taxii-date-added-first');
      const last = header(res, 'x-taxii-date-added-last');
      const next = typeof body.next === 'string' && body.next !== '' ? body.next : undefined;
      const more = body.more === true;
      yield { items, more, ...(next ? { next } : {}), ...(first ? { dateAddedFirst: first } : {}), ...(last ? { dateAddedLast: last } : {}) };
      if (!more) return;
      let position: string | undefined;
      if (next !== undefined) {
        position = `next:${next}`;
        query = { ...base, next };
      } else if (last !== undefined) {
        position = `added_after:${last}`;
        query = { ...base, added_after: last };
      }
      // A server that says more but gives no way on, or the same way twice with nothing new, would loop for ever.
      if (position === undefined || (position === previous && items.length === 0)) {
        throw new TaxiiProtocolError(`${this.url.href}${endpoint.path}: the server says more, but ${position === undefined ? 'gives neither next nor X-TAXII-Date-Added-Last' : 'its cursor does not advance'}`);
      }
      previous = position;
    }
  }

  private async *items<T>(endpoint: Endpoint, filters: Filters, opts: CallOptions): AsyncGenerator<T> {
    for await (const page of this.pages<T>(endpoint, filters, opts)) yield* page.items;
  }

  /** §5.4 objects, one by one across pages. */
  objects(filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<StixObject> {
    return this.items({ path: 'objects/', key: 'objects' }, filters, opts);
  }

  objectPages(filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<Page<StixObject>> {
    return this.pages({ path: 'objects/', key: 'objects' }, filters, opts);
  }

  /** §5.3 manifest records. */
  manifest(filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<ManifestRecord> {
    return this.items({ path: 'manifest/', key: 'objects' }, filters, opts);
  }

  /** §5.8 the versions (timestamps) of one object. */
  versions(objectId: string, filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<string> {
    return this.items({ path: `objects/${encodeURIComponent(objectId)}/versions/`, key: 'versions' }, filters, opts);
  }

  /** The change feed (Meridian's extension, docs/changes.md), entry by entry. */
  changes(filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<ChangeEntry> {
    return this.items({ path: 'changes/', key: 'changes' }, filters, opts);
  }

  changePages(filters: Filters = {}, opts: CallOptions = {}): AsyncGenerator<Page<ChangeEntry>> {
    return this.pages({ path: 'changes/', key: 'changes' }, filters, opts);
  }

  /** §5.6 the versions of one object the filters select (the latest by default); empty when none. */
  async getObject(objectId: string, filters: Filters = {}, opts: CallOptions = {}): Promise<StixObject[]> {
    const out: StixObject[] = [];
    for await (const o of this.items<StixObject>({ path: `objects/${encodeURIComponent(objectId)}/`, key: 'objects' }, filters, opts)) out.push(o);
    return out;
  }

  /** §5.7 */
  async deleteObject(objectId: string, filters: Pick<Filters, 'version' | 'specVersion'> = {}, opts: CallOptions = {}): Promise<void> {
    await this.client.request('DELETE', new URL(`objects/${encodeURIComponent(objectId)}/`, this.url), { query: queryOf(filters), signal: opts.signal });
  }

  /**
   * §5.5: posts an envelope (objects, or a body already serialised as an envelope) and, unless
   * `wait: false`, polls the status until it is final. A status already complete is not polled.
   */
  async add(objects: StixObject[] | Buffer | string, opts: AddOptions = {}): Promise<Status> {
    const body = Array.isArray(objects) ? JSON.stringify({ objects }) : objects;
    const res = await this.client.request('POST', new URL('objects/', this.url), { body, signal: opts.signal });
    const status = JSON.parse(res.body.toString('utf8')) as Status;
    if (typeof status?.id !== 'string' || typeof status.status !== 'string') throw new TaxiiProtocolError(`${this.url.href}objects/: the answer to the POST is not a status resource`);
    if (opts.wait === false) return status;
    return this.root.waitForStatus(status, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.pollIntervalMs ? { intervalMs: opts.pollIntervalMs } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  }

  /**
   * The live stream (the change feed's URL as text/event-stream): change events as they happen.
   * Reconnects with Last-Event-ID when the server ends the stream, after the server's `retry`.
   * Ends when the signal aborts (without an error) or, with reconnect: false, when the server ends it.
   */
  async *stream(opts: StreamOptions = {}): AsyncGenerator<ChangeEvent> {
    let lastEventId = opts.lastEventId;
    let retryMs = 1000;
    for (;;) {
      const query = { ...queryOf({ ...(opts.changeTypes ? { changeTypes: opts.changeTypes } : {}), ...(opts.type ? { type: opts.type } : {}) }), ...(lastEventId === undefined && opts.addedAfter ? { added_after: opts.addedAfter } : {}) };
      let res: HttpResponse;
      try {
        res = await this.client.request('GET', new URL('changes/', this.url), { query, signal: opts.signal, accept: 'text/event-stream', stream: true, headers: lastEventId !== undefined ? { 'Last-Event-ID': lastEventId } : {} });
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      if (!res.stream || !/^text\/event-stream/i.test(String(res.headers['content-type'] ?? ''))) {
        res.stream?.destroy();
        throw new TaxiiProtocolError(`${this.url.href}changes/: the server does not offer a live stream (Content-Type ${String(res.headers['content-type'] ?? 'none')})`);
      }
      const parser = new SseParser(lastEventId);
      const body = res.stream;
      // A proxy may keep a dead connection open; the server's heartbeats make silence a reliable sign.
      const idleMs = opts.idleTimeoutMs ?? 60_000;
      let idle = setTimeout(() => body.destroy(new Error('stream idle')), idleMs);
      try {
        body.setEncoding('utf8');
        for await (const chunk of body as AsyncIterable<string>) {
          clearTimeout(idle);
          idle = setTimeout(() => body.destroy(new Error('stream idle')), idleMs);
          for (const e of parser.push(chunk)) {
            let entry: ChangeEntry;
            try {
              entry = JSON.parse(e.data) as ChangeEntry;
            } catch {
              throw new TaxiiProtocolError(`${this.url.href}changes/: an event's data is not JSON`);
            }
            lastEventId = e.id;
            yield { id: e.id, type: e.event, entry };
          }
        }
      } catch (err) {
        if (opts.signal?.aborted) return;
        if (err instanceof TaxiiProtocolError) throw err;
        // A dropped connection is what reconnecting is for.
        if (!(err instanceof Error) || !/ECONNRESET|aborted|terminated|premature|stream idle/i.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`)) throw err;
      } finally {
        clearTimeout(idle);
        body.destroy();
      }
      if (opts.reconnect === false || opts.signal?.aborted) return;
      retryMs = parser.retryMs ?? retryMs;
      try {
        await sleep(retryMs, opts.signal);
      } catch {
        return;
      }
    }
  }
}

export { TaxiiConnectionError, TaxiiError, TaxiiProtocolError };
