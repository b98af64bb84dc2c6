// The live stream of a collection's changes: the change feed's URL asked for as
// `text/event-stream` (WHATWG HTML §9.2, server-sent events). One event per change — `id:` the
// change id, `event:` its type, one JSON `data:` line — a comment every heartbeat, and `retry:`.
// A client resumes with Last-Event-ID (or ?last_event_id= where it cannot set headers) and gets
// exactly the changes after it. Access is re-checked before every batch of events: a revoked grant,
// a disabled account or organisation closes the stream. One watcher per collection reads each new
// change once and hands it, rendered once, to every stream caught up with it (see Watcher).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeRecord, Store } from '../collections/store.js';
import { type Caller, accessTo, tlpFilter } from '../taxii/access.js';
import { TaxiiError } from '../taxii/errors.js';
import { nowMicros } from '../taxii/time.js';
import { type ChangeFeed, type FeedScope, changeView, entitled } from './feed.js';

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

/** Changes a watcher keeps, rendered, for the streams it feeds (a publication's worth); a stream further behind reads its own. */
const WINDOW = 20_000;
/**
 * Bytes a fed stream may have waiting for its socket before it is let go to catch up on its own:
 * a few batches, so that streams keep sharing them (the batches are shared buffers, not copies).
 */
const QUEUED_MAX = 1 << 20;
/** Log entries a watcher reads per look at most (then it lets the next look go on). */
const POLL_PAGES = 20;

export const STREAM_DEFAULTS: StreamSettings = { maxStreamsPerAccount: 10, heartbeatMs: 15_000, pollMs: 250, retryMs: 3_000 };

/** A change as an event: the same text for every reader. */
function eventText(c: ChangeRecord): string {
  return `id: ${c.id}\nevent: ${c.type}\ndata: ${JSON.stringify(changeView(c))}\n\n`;
}

/** One open stream as its collection's watcher sees it. */
interface Follower {
  /** date_added of the last log entry this stream is past (sent, or not for this reader). */
  position: number;
  /** The account whose rights the stream follows (rights are looked up once per account per batch). */
  caller: Caller;
  filters: FeedScope['filters'];
  /** The caller's rights now: undefined once it may no longer read (the stream then ends). */
  rights(): Promise<Pick<FeedScope, 'maxTlp'> | undefined>;
  /** Writes a batch of events; false when too much waits for the socket (the stream then waits for it to drain, off the watcher). */
  send(chunk: Buffer): boolean;
  /** Access revoked: ends the stream. */
  revoke(): void;
  /** Set while the watcher feeds the stream; called when it stops doing so. */
  release?: () => void;
}

/**
 * One per followed collection: reads each new page of the log once, renders each change once, and
 * hands every stream caught up with it the events after its position, filtered by its rights.
 * Streams that share a position and a profile (TLP cap, type filters) share one filtered and
 * encoded batch, so N streams cost one read, one rendering and a write each, not N of each.
 */
class Watcher {
  private readonly live = new Set<Follower>();
  private timer: NodeJS.Timeout | undefined;
  /** Recent changes with their events, oldest first: the log in (from, newest]. */
  private window: Array<{ change: ChangeRecord; text: string }> = [];
  private from = 0;
  private newest = 0;
  private busy = false;
  /** Deliveries run one at a time, so a stream is never handed the same change twice. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly collectionId: string,
    private readonly pollMs: number,
  ) {}

  /**
   * Feeds a stream that has read the log up to its position until it falls out of the window (a
   * full socket, a burst larger than the window) or ends; resolves then. At once when its position
   * is already behind the window: it reads on its own first.
   */
  async follow(f: Follower): Promise<void> {
    if (!this.timer) {
      this.from = this.newest = f.position;
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
    }
    if (f.position < this.from) {
      // Caught up on its own but behind the window: when the log holds nothing between the two,
      // the stream may start at the window; else it reads on.
      const from = this.from;
      const [next] = (await this.store.readChanges(this.collectionId, f.position, 1)).items;
      if ((next && next.dateAdded <= from) || from < this.from) return;
      f.position = from;
    }
    return new Promise<void>((resolve) => {
      f.release = () => {
        this.live.delete(f);
        f.release = undefined;
        resolve();
      };
      this.live.add(f);
      void this.deliver([f]);
    });
  }

  /** Whether the window holds everything after `position` (a stream there needs no reading of its own). */
  covers(position: number): boolean {
    return this.timer !== undefined && position >= this.from;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const f of this.live) f.release?.();
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let pages = 0; pages < POLL_PAGES && this.timer; pages++) {
        const page = await this.store.readChanges(this.collectionId, this.newest, 1000);
        if (page.items.length === 0) break;
        for (const change of page.items) this.window.push({ change, text: eventText(change) });
        this.newest = page.items.at(-1)!.dateAdded;
        if (this.window.length > WINDOW) {
          const dropped = this.window.splice(0, this.window.length - WINDOW);
          this.from = dropped.at(-1)!.change.dateAdded;
        }
        await this.deliver([...this.live]);
        if (!page.more) break;
      }
    } catch {
      // a store outage: the next poll tries again, and streams keep their position
    } finally {
      this.busy = false;
    }
  }

  private deliver(targets: Follower[]): Promise<void> {
    this.turn = this.turn.then(() => this.deliverNow(targets)).catch(() => undefined);
    return this.turn;
  }

  private async deliverNow(targets: Follower[]): Promise<void> {
    // Rights as they are now, once per account for this batch.
    const rights = new Map<string, Promise<Pick<FeedScope, 'maxTlp'> | undefined>>();
    const due = targets.filter((f) => f.position < this.newest);
    for (const f of due) if (!rights.has(f.caller.account.id)) rights.set(f.caller.account.id, f.rights());
    const settled = new Map<string, Pick<FeedScope, 'maxTlp'> | undefined>();
    for (const [account, r] of rights) settled.set(account, await r);
    // From here on nothing waits: the window and the positions are read and moved in one go.
    const batches = new Map<string, Buffer | undefined>();
    for (const f of due) {
      if (!this.live.has(f)) continue; // ended meanwhile
      const r = settled.get(f.caller.account.id);
      if (!r) {
        f.release?.();
        f.revoke();
        continue;
      }
      if (f.position < this.from) {
        f.release?.();
        continue;
      }
      const scope = { maxTlp: r.maxTlp, filters: f.filters };
      const key = `${f.position}|${r.maxTlp ?? ''}|${f.filters.types?.join(',') ?? ''}|${f.filters.type?.join(',') ?? ''}`;
      let batch = batches.get(key);
      if (!batches.has(key)) {
        batch = this.batch(f.position, scope);
        batches.set(key, batch);
      }
      f.position = this.newest;
      if (batch && !f.send(batch)) f.release?.();
    }
  }

  /** The events after `position` the scope may see, as one chunk (undefined: none). */
  private batch(position: number, scope: Pick<FeedScope, 'maxTlp' | 'filters'>): Buffer | undefined {
    let lo = 0;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.window[mid]!.change.dateAdded <= position) lo = mid + 1;
      else hi = mid;
    }
    const texts: string[] = [];
    for (let i = lo; i < this.window.length; i++) if (entitled(this.window[i]!.change, scope)) texts.push(this.window[i]!.text);
    return texts.length ? Buffer.from(texts.join('')) : undefined;
  }
}

export class ChangeStreams {
  private readonly watchers = new Map<string, { watcher: Watcher; streams: number }>();
  private readonly perAccount = new Map<string, number>();
  private readonly open = new Set<ServerResponse>();

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
    let watcher: Watcher | undefined = this.watch(scope.collection.id);
    const follower: Follower = {
      position,
      caller,
      filters: scope.filters,
      rights: () => this.currentScope(caller, scope),
      send: (chunk) => {
        res.write(chunk);
        return res.writableLength <= QUEUED_MAX;
      },
      revoke: () => res.end(),
    };
    const heartbeat = setInterval(() => {
      // Rights are looked at now and then even when nothing is published.
      void this.currentScope(caller, scope).then((current) => {
        if (closed) return;
        if (current) res.write(': keep-alive\n\n');
        else res.end();
      }, () => undefined);
    }, this.settings.heartbeatMs);
    heartbeat.unref();
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      follower.release?.();
      if (watcher) this.unwatch(scope.collection.id);
      watcher = undefined;
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left > 0) this.perAccount.set(account, left);
      else this.perAccount.delete(account);
      this.open.delete(res);
    };
    req.on('close', finish);
    res.on('close', finish);

    try {
      let caughtUp = false;
      while (!closed && watcher && !res.writableEnded) {
        if (caughtUp) {
          // Fed by the collection's watcher until the stream falls behind it or ends.
          await watcher.follow(follower);
          if (res.writableNeedDrain) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
          // Let go for a full socket: fed again once it drained, unless the watcher moved on past it.
          caughtUp = watcher?.covers(follower.position) ?? false;
          continue;
        }
        // On its own: from a resume point, or after falling behind the watcher.
        const current = await this.currentScope(caller, scope);
        if (!current) break; // access revoked: the stream ends
        const page = await this.feed.read(current, follower.position, 500);
        if (page.items.length > 0) {
          // A page in one write: one syscall for hundreds of events.
          const ok = res.write(page.items.map(eventText).join(''));
          if (!ok) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
        }
        if (page.scanned !== undefined) follower.position = page.scanned;
        caughtUp = !page.more;
      }
    } finally {
      finish();
      if (!res.writableEnded) res.end();
    }
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

  /** The collection's watcher, shared by the streams that follow it. */
  private watch(collectionId: string): Watcher {
    let w = this.watchers.get(collectionId);
    if (!w) {
      w = { watcher: new Watcher(this.store, collectionId, this.settings.pollMs), streams: 0 };
      this.watchers.set(collectionId, w);
    }
    w.streams++;
    return w.watcher;
  }

  private unwatch(collectionId: string): void {
    const w = this.watchers.get(collectionId);
    if (w && --w.streams === 0) {
      w.watcher.stop();
      this.watchers.delete(collectionId);
    }
  }

  /** Open streams (for metrics and tests). */
  get size(): number {
    return this.open.size;
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere with their Last-Event-ID. */
  close(): void {
    for (const res of this.open) res.end();
    for (const w of this.watchers.values()) w.watcher.stop();
    this.watchers.clear();
  }
}
