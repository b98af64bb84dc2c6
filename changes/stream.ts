// The live stream of a collection's changes: the change feed's URL asked for as
// `text/event-stream` (WHATWG HTML §9.2, server-sent events). One event per change — `id:` the
// change id, `event:` its type, one JSON `data:` line — a comment every heartbeat, and `retry:`.
// A client resumes with Last-Event-ID (or ?last_event_id= where it cannot set headers) and gets
// exactly the changes after it. Access is re-checked before every batch of events: a revoked grant,
// a disabled account or organisation closes the stream. One poller per collection wakes the
// streams that follow it, so N streams cost one store read per poll, not N.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeRecord, Store } from '../collections/store.js';
import { type Caller, accessTo, tlpFilter } from '../taxii/access.js';
import { TaxiiError } from '../taxii/errors.js';
import { nowMicros } from '../taxii/time.js';
import { type ChangeFeed, type FeedScope, changeView } from './feed.js';

export interface StreamSettings {
  /** Open streams one account may hold; more get 429. */
  maxStreamsPerAccount: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** How often a followed collection's log is looked at for new changes. */
  pollMs: number;
  /** The reconnection delay told to clients (`retry:`). */
  retryMs: number;
}

/** Rendered events kept for other streams: a publication's worth; a stream further behind renders its own. */
const RENDERED_KEPT = 20_000;

export const STREAM_DEFAULTS: StreamSettings = { maxStreamsPerAccount: 10, heartbeatMs: 15_000, pollMs: 250, retryMs: 3_000 };

interface Follower {
  wake: () => void;
}

/** One poller per followed collection: remembers the newest date_added seen and wakes its followers past it. */
class Watcher {
  readonly followers = new Set<Follower>();
  private timer: NodeJS.Timeout | undefined;
  private newest = 0;
  private busy = false;

  constructor(
    private readonly store: Store,
    private readonly collectionId: string,
    private readonly pollMs: number,
  ) {}

  start(from: number): void {
    this.newest = Math.max(this.newest, from);
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      // The followers read their own pages; here only "something is new" matters.
      const page = await this.store.readChanges(this.collectionId, this.newest, 1000);
      if (page.items.length === 0) return;
      this.newest = page.items.at(-1)!.dateAdded;
      for (const f of this.followers) f.wake();
    } catch {
      // a store outage: the next poll tries again, and streams keep their position
    } finally {
      this.busy = false;
    }
  }
}

export class ChangeStreams {
  private readonly watchers = new Map<string, Watcher>();
  private readonly perAccount = new Map<string, number>();
  private readonly open = new Set<ServerResponse>();
  /** The latest rendered events (oldest first, by change id). */
  private readonly rendered = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly settings: StreamSettings = STREAM_DEFAULTS,
  ) {}

  /** Opens a stream for the caller; errors before the first byte are thrown (the caller answers them as TAXII errors). */
  async serve(req: IncomingMessage, res: ServerResponse, caller: Caller, rootPath: string, idOrAlias: string, scopeFilters: FeedScope['filters'], lastEventId: string | undefined): Promise<void> {
    const scope = await this.feed.scope(caller, rootPath, idOrAlias, scopeFilters);
    let position: number;
    if (lastEventId !== undefined) {
      const change = await this.store.getChange(scope.collection.id, lastEventId);
      if (!change) {
        await this.feed.checkHorizon(scope.collection.id, 0);
        throw new TaxiiError('TAXII_ERR_RESYNC', 'Last-Event-ID names no change this collection keeps: re-poll the collection\'s objects, then follow the stream from now (no Last-Event-ID) or with added_after.', { resync: true });
      }
      position = change.dateAdded;
    } else if (scopeFilters.added_after !== undefined) {
      await this.feed.checkHorizon(scope.collection.id, scopeFilters.added_after);
      position = scopeFilters.added_after;
    } else {
      position = nowMicros();
    }
    const account = caller.account.id;
    const count = this.perAccount.get(account) ?? 0;
    if (count >= this.settings.maxStreamsPerAccount) {
      throw new TaxiiError('TAXII_ERR_RATE_LIMITED', `At most ${this.settings.maxStreamsPerAccount} live streams per account are open at once; close one first.`).withHeader('Retry-After', '30');
    }
    this.perAccount.set(account, count + 1);
    this.open.add(res);

    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(`retry: ${this.settings.retryMs}\n\n`);

    let closed = false;
    let wakeUp: (() => void) | undefined;
    const follower: Follower = { wake: () => wakeUp?.() };
    const watcher = this.watch(scope.collection.id, position);
    watcher.followers.add(follower);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), this.settings.heartbeatMs);
    heartbeat.unref();
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      watcher.followers.delete(follower);
      if (watcher.followers.size === 0) {
        watcher.stop();
        this.watchers.delete(scope.collection.id);
      }
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left > 0) this.perAccount.set(account, left);
      else this.perAccount.delete(account);
      this.open.delete(res);
      wakeUp?.();
    };
    req.on('close', finish);
    res.on('close', finish);

    try {
      while (!closed) {
        const current = await this.currentScope(caller, scope);
        if (!current) break; // access revoked: the stream ends
        const page = await this.feed.read(current, position, 500);
        if (page.items.length > 0) {
          // A page in one write: one syscall for hundreds of events when a publication fans out to many streams.
          const ok = res.write(page.items.map((c) => this.render(c)).join(''));
          if (!ok) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
        }
        if (page.scanned !== undefined) position = page.scanned;
        if (page.more) continue;
        await new Promise<void>((resolve) => {
          wakeUp = resolve;
          // Also look on our own now and then: grants may change without new changes.
          setTimeout(resolve, this.settings.heartbeatMs).unref();
        });
        wakeUp = undefined;
      }
    } finally {
      finish();
      if (!res.writableEnded) res.end();
    }
  }

  /** A change as an event (the same for every reader), rendered once for all the streams it reaches. */
  private render(c: ChangeRecord): string {
    let text = this.rendered.get(c.id);
    if (text === undefined) {
      text = `id: ${c.id}\nevent: ${c.type}\ndata: ${JSON.stringify(changeView(c))}\n\n`;
      this.rendered.set(c.id, text);
      if (this.rendered.size > RENDERED_KEPT) this.rendered.delete(this.rendered.keys().next().value!);
    }
    return text;
  }

  /** The scope as the caller's rights stand now (fresh account and grants), or undefined once it may not read. */
  private async currentScope(caller: Caller, scope: FeedScope): Promise<FeedScope | undefined> {
    const account = await this.store.getAccount(caller.account.id);
    if (!account || account.disabled) return undefined;
    const organisation = account.organisationId ? await this.store.getOrganisation(account.organisationId) : undefined;
    const fresh: Caller = { account, ...(organisation ? { organisation } : {}) };
    const access = await accessTo(this.store, fresh, scope.collection);
    if (!access.canRead) return undefined;
    const maxTlp = tlpFilter(access);
    return { collection: scope.collection, filters: scope.filters, ...(maxTlp !== undefined ? { maxTlp } : {}) };
  }

  private watch(collectionId: string, from: number): Watcher {
    let w = this.watchers.get(collectionId);
    if (!w) {
      w = new Watcher(this.store, collectionId, this.settings.pollMs);
      this.watchers.set(collectionId, w);
    }
    w.start(from);
    return w;
  }

  /** Open streams (for metrics and tests). */
  get size(): number {
    return this.open.size;
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere with their Last-Event-ID. */
  close(): void {
    for (const res of this.open) res.end();
    for (const w of this.watchers.values()) w.stop();
    this.watchers.clear();
  }
}
