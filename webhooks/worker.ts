// The delivery worker (docs/webhooks.md): each enabled subscription's events go out in order from its
// durable cursors (one per followed collection, one for curation events), one at a time; the cursor
// moves only after a 2xx, so a crash at any point means at-least-once, never a gap. A failure holds
// the subscription's queue until the next attempt is due (the retry schedule, or Retry-After).
// Instances sharing a store take turns through a lease per subscription in the store: only its
// holder delivers, renewing it while it works; when the holder dies the lease runs out and another
// instance takes over from the durable cursors.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CollectionRecord, Store } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { CURATION_SOURCE, type DeliveryEffects, type DeliveryRecord, type SubscriptionChanges, type SubscriptionRecord } from '../collections/webhook-store.js';
import { nowMicros } from '../taxii/time.js';
import { AccessCache } from './access.js';
import { CURATION_ACTIONS, type WebhookPayload, changePayload, curationAudience, curationEventId, curationPayload, passesFilters, resyncEventId, resyncPayload } from './events.js';
import { retryAfterMs, retryDelayMs, scheduleExhausted } from './retry.js';
import { unseal } from './secrets.js';
import type { AttemptResult, Sender } from './sender.js';
import { webhookHeaders } from './signing.js';

/** The pino-compatible logger the worker reports to (server/ passes its own). */
export interface WorkerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface WorkerOptions {
  /** Seconds between attempts after the first (retry.ts). */
  retrySeconds: number[];
  /** Disabled once the schedule is used up and nothing succeeded for this long (ms). */
  disableAfterMs: number;
  /** How often enabled subscriptions are looked at for new events (ms). */
  pollMs: number;
  /** Subscriptions delivering at once. */
  concurrency: number;
  /** Delivery log entries are kept this long (ms). */
  logRetentionMs: number;
  /** The public base URL of this server, for the links in payloads. */
  publicBase: () => string;
  /**
   * How long a subscription's delivery lease lasts unless renewed (ms); at least twice the attempt
   * timeout, since it is renewed once half of it is left, so an attempt always ends inside the lease.
   */
  leaseMs: number;
}

/** One event waiting at a source: its position (date_added or audit seq), its time, what to send. */
interface Pending {
  source: string;
  position: number;
  at: number;
  /** Absent: nothing to send up to here (filtered out), the cursor just moves. */
  event?: { id: string; payload: WebhookPayload; collection?: CollectionRecord; tlp?: number };
}

const PAGE = 200;
/** lastSuccessAt is rewritten at most this often (µs) while a backlog goes out. */
const SUCCESS_NOTE_US = 60_000_000;
const PURGE_EVERY_MS = 3600_000;
/**
 * A subscription is read again at least this often while it delivers (and at once when this
 * process's API changes it): another instance's change (a disable, new filters) takes effect
 * within this, like a grant's (AccessCache).
 */
const SUBSCRIPTION_FRESH_MS = 1000;

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<void>>();
  private ticking = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly access: AccessCache;
  private readonly collections = new Map<string, CollectionRecord>();
  private key: Promise<Buffer> | undefined;
  private lastPurge = 0;
  /** This worker in the lease table: host, process and a random part (a restarted process is another owner). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Leases this worker holds: subscription → until (µs). */
  private readonly held = new Map<string, number>();
  /** Subscriptions another instance delivers: → when its lease runs out unless renewed (µs). */
  private readonly elsewhere = new Map<string, number>();
  /** Subscriptions as last read or written here, and when. */
  private readonly known = new Map<string, { s: SubscriptionRecord; at: number }>();
  /** Secrets in the clear by their sealed form (decrypted once, not per attempt). */
  private readonly unsealed = new Map<string, string>();

  constructor(private readonly store: Store, private readonly sender: Sender, private readonly log: WorkerLog, private readonly options: WorkerOptions) {
    this.access = new AccessCache(store);
  }

  start(): void {
    this.stopping = false;
    this.timer = setInterval(() => this.nudge(), this.options.pollMs);
    this.timer.unref();
    this.nudge();
  }

  /**
   * Stops taking new work, aborts attempts in flight (their events are sent again after a restart
   * or by another instance), waits, and gives its leases up so that another instance takes over now.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
    await Promise.allSettled([...this.held.keys()].map((id) => this.store.webhooks.releaseLease(id, this.owner)));
    this.held.clear();
    this.sender.close();
  }

  /** The subscription was changed through the API: read it again before the next attempt. */
  changed(id: string): void {
    this.known.delete(id);
  }

  /** Looks for work now (e.g. right after a publication) instead of at the next poll. */
  nudge(): void {
    void this.tick();
  }

  /** Settles once no subscription has work left that is due (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.ticking) await Promise.allSettled([...this.running.values(), new Promise((r) => setTimeout(r, 10))]);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const now = nowMicros();
      for (const s of await this.store.webhooks.listSubscriptions({ state: 'enabled' })) {
        if (this.running.size >= this.options.concurrency) break;
        if (this.running.has(s.id) || (s.nextAttemptAt !== undefined && s.nextAttemptAt > now)) continue;
        if ((this.elsewhere.get(s.id) ?? 0) > now) continue; // another instance's until its lease runs out
        const run = this.run(s.id)
          .catch((err: unknown) => this.log.error({ event: 'webhook', subscription: s.id, err }, 'webhook delivery stopped on an error; it resumes at the next poll'))
          .finally(() => this.running.delete(s.id));
        this.running.set(s.id, run);
      }
      if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
        this.lastPurge = Date.now();
        await this.store.webhooks.purgeDeliveries(now - this.options.logRetentionMs * 1000);
      }
    } catch (err) {
      this.log.warn({ event: 'webhook', err }, 'webhook poll failed; trying again at the next poll');
    } finally {
      this.ticking = false;
    }
  }

  /** Delivers one subscription's due events in order until none is left, a failure, or a stop. */
  private async run(id: string): Promise<void> {
    let rev = -1;
    let cursors: Record<string, number> = {};
    const buffers = new Map<string, Pending[]>();
    const drained = new Set<string>();
    while (!this.stopping) {
      // Held for at least half the lease from here, so the attempt below ends inside it.
      const lease = await this.hold(id);
      if (!lease) return;
      const s = await this.subscription(id, lease === 'taken');
      if (!s || s.state !== 'enabled' || (s.nextAttemptAt !== undefined && s.nextAttemptAt > nowMicros())) return;
      if (s.rev !== rev || lease === 'taken') {
        // Changed through the API (filters, a rewind), or the lease was (re)taken and another
        // instance may have delivered meanwhile: read again from the durable cursors.
        rev = s.rev;
        cursors = await this.store.webhooks.cursors(id);
        buffers.clear();
        drained.clear();
      }
      const next = await this.next(s, cursors, buffers, drained);
      if (!next) return;
      let event = next.event;
      if (event?.collection) {
        // Grants and TLP caps as they are now, not as they were when the event was read.
        const access = await this.access.get(s.organisationId, event.collection);
        if (!access.canRead || (event.tlp ?? 0) > TLP_RANK[access.maxTlp]) event = undefined;
      }
      if (!event) {
        await this.moveCursor(s.id, next, cursors, buffers);
        continue;
      }
      const attempt = s.attempts + 1;
      const result = await this.send(s, event.id, event.payload);
      if (this.stopping && !result.ok) return; // aborted by a stop: not the receiver's failure, and sent again after the restart
      if (!result.ok) {
        const failure = this.failed(s, attempt, result);
        this.remember(await this.logAttempt(s, event.id, event.payload.type, 'event', attempt, result, next, failure.nextAttemptAt, { subscription: failure.changes }));
        return;
      }
      // The log entry, the cursor past the event and (now and then) the success noted: one write.
      const now = nowMicros();
      const note = s.attempts > 0 || s.failingSince !== undefined || s.lastSuccessAt === undefined || now - s.lastSuccessAt > SUCCESS_NOTE_US;
      const changes: SubscriptionChanges | undefined = note ? { attempts: 0, nextAttemptAt: undefined, failingSince: undefined, lastSuccessAt: now } : undefined;
      this.remember(await this.logAttempt(s, event.id, event.payload.type, 'event', attempt, result, next, undefined, { cursor: next, ...(changes ? { subscription: changes } : {}) }));
      cursors[next.source] = next.position;
      buffers.get(next.source)!.shift();
    }
  }

  /** The subscription as it stands: the copy known here while fresh, else read again. */
  private async subscription(id: string, reread: boolean): Promise<SubscriptionRecord | undefined> {
    const known = this.known.get(id);
    if (known && !reread && Date.now() - known.at < SUBSCRIPTION_FRESH_MS) return known.s;
    const s = await this.store.webhooks.getSubscription(id);
    if (s) this.known.set(id, { s, at: Date.now() });
    else this.known.delete(id);
    return s;
  }

  /** A subscription as the store just wrote it (read in the same write): as good as read again. */
  private remember(s: SubscriptionRecord | undefined): void {
    if (s) this.known.set(s.id, { s, at: Date.now() });
  }

  /**
   * Makes sure this worker holds the subscription's lease for at least half its length: 'held' when
   * it did already, 'taken' when it has just taken it (free, or run out), false when another holds it.
   */
  private async hold(id: string): Promise<'held' | 'taken' | false> {
    const now = nowMicros();
    const leaseUs = this.options.leaseMs * 1000;
    const until = this.held.get(id);
    if (until !== undefined && until - now > leaseUs / 2) return 'held';
    let lease = await this.store.webhooks.acquireLease(id, this.owner, now + leaseUs, now);
    if (lease.owner !== this.owner && this.deadHere(lease.owner)) {
      // A process of this host that is gone (a crash, then this restart): no need to wait for its
      // lease to run out. Taken only if that lease is still the one read (as if it had run out).
      lease = await this.store.webhooks.acquireLease(id, this.owner, now + leaseUs, lease.until);
    }
    if (lease.owner !== this.owner) {
      this.held.delete(id);
      // Looked at again when that lease would run out, or sooner: a holder that stopped cleanly gave it up.
      this.elsewhere.set(id, Math.min(lease.until, now + leaseUs / 4));
      return false;
    }
    this.held.set(id, lease.until);
    if (this.elsewhere.delete(id)) this.log.info({ event: 'webhook', subscription: id, owner: this.owner }, 'webhook delivery taken over from another instance (its lease ran out or was given up)');
    return until !== undefined && until > now ? 'held' : 'taken';
  }

  /** Whether a lease owner is a process of this host that no longer runs (or an earlier process with this pid: a restarted container). */
  private deadHere(owner: string): boolean {
    const [host, pid] = owner.split(':');
    if (host !== hostname() || !pid) return false;
    if (Number(pid) === process.pid) return true;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  private async moveCursor(id: string, next: Pending, cursors: Record<string, number>, buffers: Map<string, Pending[]>): Promise<void> {
    await this.store.webhooks.advanceCursor(id, next.source, next.position);
    cursors[next.source] = next.position;
    buffers.get(next.source)!.shift();
  }

  /** The earliest waiting event across the subscription's sources (reading ahead a page per source). */
  private async next(s: SubscriptionRecord, cursors: Record<string, number>, buffers: Map<string, Pending[]>, drained: Set<string>): Promise<Pending | undefined> {
    let best: Pending | undefined;
    for (const source of Object.keys(cursors)) {
      let buffer = buffers.get(source);
      if (!buffer || buffer.length === 0) {
        if (drained.has(source)) continue;
        const page = await this.read(s, source, cursors[source]!);
        buffer = page.items;
        buffers.set(source, buffer);
        if (!page.more) drained.add(source);
      }
      const head = buffer[0];
      if (head && (!best || head.at < best.at)) best = head;
    }
    return best;
  }

  private async read(s: SubscriptionRecord, source: string, position: number): Promise<{ items: Pending[]; more: boolean }> {
    const items: Pending[] = [];
    let last: { position: number; at: number } | undefined;
    let more: boolean;
    if (source === CURATION_SOURCE) {
      const events = await this.store.queryAudit({ afterSeq: position, limit: PAGE + 1 });
      more = events.length > PAGE;
      for (const e of events.slice(0, PAGE)) {
        last = { position: e.seq, at: e.at };
        const type = CURATION_ACTIONS[e.action];
        if (!type || e.outcome !== 'success' || !s.eventTypes.includes(type)) continue;
        const objects = (await curationAudience(this.store, e)).get(s.organisationId);
        if (!objects) continue;
        items.push({ source, position: e.seq, at: e.at, event: { id: curationEventId(e.seq), payload: curationPayload(e, objects) } });
      }
    } else {
      const collection = await this.collection(source);
      if (!collection) return { items: [], more: false };
      // Behind the change log's retention (a subscription disabled for longer): what was dropped
      // cannot be sent, so the receiver is told to resync, once, and delivery goes on from there.
      const horizon = await this.store.changeHorizon(source);
      if (position < horizon) {
        const event = { id: resyncEventId(source, horizon), payload: resyncPayload(collection, horizon, this.options.publicBase()), collection, tlp: 0 };
        return { items: [{ source, position: horizon, at: horizon, event }], more: true };
      }
      const page = await this.store.readChanges(source, position, PAGE);
      more = page.more;
      for (const c of page.items) {
        last = { position: c.dateAdded, at: c.dateAdded };
        if (!passesFilters(c, s)) continue;
        items.push({ source, position: c.dateAdded, at: c.dateAdded, event: { id: c.id, payload: changePayload(c, collection, this.options.publicBase()), collection, tlp: c.tlp } });
      }
    }
    // What was read past the last event to send still moves the cursor, once.
    if (last && (items.length === 0 || items[items.length - 1]!.position < last.position)) items.push({ source, ...last });
    return { items, more };
  }

  private async collection(id: string): Promise<CollectionRecord | undefined> {
    const known = this.collections.get(id);
    if (known) return known;
    for (const root of await this.store.listApiRoots()) {
      const c = await this.store.getCollection(root.path, id);
      if (c && c.id === id) {
        this.collections.set(id, c);
        return c;
      }
    }
    return undefined;
  }

  /** The secrets that sign now: the current one, and a rotated-out one for its last 24 hours. */
  private async secrets(s: SubscriptionRecord): Promise<string[]> {
    this.key ??= this.store.secret('webhooks');
    const key = await this.key;
    const now = nowMicros();
    return s.secrets.filter((x) => x.until === undefined || x.until > now).map((x) => {
      let secret = this.unsealed.get(x.sealed);
      if (secret === undefined) {
        if (this.unsealed.size >= 4 * this.options.concurrency) this.unsealed.clear();
        secret = unseal(key, x.sealed);
        this.unsealed.set(x.sealed, secret);
      }
      return secret;
    });
  }

  /** One signed attempt (the timestamp is the attempt's; the id stays the event's). */
  private async send(s: SubscriptionRecord, eventId: string, payload: WebhookPayload): Promise<AttemptResult> {
    const body = JSON.stringify(payload);
    const headers = webhookHeaders(await this.secrets(s), eventId, Math.floor(Date.now() / 1000), body);
    return this.sender.post(s.url, headers, body, this.abort.signal);
  }

  private logAttempt(s: SubscriptionRecord, eventId: string, eventType: string, kind: DeliveryRecord['kind'], attempt: number, result: AttemptResult, from?: Pick<Pending, 'source' | 'position'>, nextAttemptAt?: number, effects?: DeliveryEffects): Promise<SubscriptionRecord | undefined> {
    return this.store.webhooks.logDelivery({
      id: randomUUID(), subscriptionId: s.id, eventId, eventType, ...(from ? { source: from.source, position: from.position } : {}), kind, attempt,
      at: nowMicros(), outcome: result.ok ? 'success' : 'failure', ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}), durationMs: result.durationMs,
      ...(result.error ? { error: result.error } : {}), ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
    }, effects);
  }

  /** A test delivery or a redelivery: sent once now, logged, outside the subscription's queue. */
  async sendOnce(s: SubscriptionRecord, eventId: string, payload: WebhookPayload, kind: 'test' | 'redelivery', from?: Pick<Pending, 'source' | 'position'>): Promise<AttemptResult> {
    const result = await this.send(s, eventId, payload);
    await this.logAttempt(s, eventId, payload.type, kind, 1, result, from);
    return result;
  }

  /**
   * A logged event built again for redelivery, if the subscription may still be told of it (same
   * access check as the queue); undefined when it is no longer kept or no longer visible.
   */
  async eventOf(s: SubscriptionRecord, d: DeliveryRecord): Promise<{ id: string; payload: WebhookPayload } | undefined> {
    if (d.source === undefined || d.position === undefined) return undefined;
    if (d.source === CURATION_SOURCE) {
      const [e] = await this.store.queryAudit({ afterSeq: d.position - 1, limit: 1 });
      const objects = e && e.seq === d.position ? (await curationAudience(this.store, e)).get(s.organisationId) : undefined;
      return e && objects ? { id: curationEventId(e.seq), payload: curationPayload(e, objects) } : undefined;
    }
    const collection = await this.collection(d.source);
    const change = collection ? await this.store.getChange(d.source, d.eventId) : undefined;
    if (!collection || !change) return undefined;
    const access = await this.access.get(s.organisationId, collection);
    if (!access.canRead || change.tlp > TLP_RANK[access.maxTlp]) return undefined;
    return { id: change.id, payload: changePayload(change, collection, this.options.publicBase()) };
  }

  /**
   * After a failed attempt at the head event, what to write on the subscription: 410 disables; else
   * the next attempt is scheduled (nextAttemptAt), or the subscription disabled.
   */
  private failed(s: SubscriptionRecord, attempt: number, result: AttemptResult): { changes: SubscriptionChanges; nextAttemptAt?: number } {
    const now = nowMicros();
    const failingSince = s.failingSince ?? now;
    const disable = (reason: string) => {
      this.log.warn({ event: 'webhook', subscription: s.id, organisation: s.organisationId, reason }, 'webhook subscription disabled');
      return { changes: { state: 'disabled' as const, disabledReason: reason, disabledAt: now, attempts: attempt, nextAttemptAt: undefined, failingSince } };
    };
    if (result.statusCode === 410) return disable('the receiver answered 410 Gone');
    if (scheduleExhausted(attempt, this.options.retrySeconds) && (now - failingSince) / 1000 >= this.options.disableAfterMs) {
      return disable(`every retry failed and nothing was delivered for ${Math.round((now - failingSince) / 3_600_000_000)} h (last: ${result.error ?? 'failure'})`);
    }
    const throttled = result.statusCode === 429 || result.statusCode === 503 ? retryAfterMs(result.retryAfter) : undefined;
    const nextAttemptAt = now + (throttled ?? retryDelayMs(attempt, this.options.retrySeconds)) * 1000;
    return { changes: { attempts: attempt, nextAttemptAt, failingSince }, nextAttemptAt };
  }
}
