// What the webhook subscriptions need from a store (docs/webhooks.md): subscriptions, one durable
// cursor per subscription and source, a delivery lease per subscription, and the delivery log. Secrets reach the store sealed
// (encrypted by webhooks/); the store never sees them in the clear.
import type { TlpLevel } from './store.js';

/** Where a subscription's events come from: a published collection's change log, or the desk's curation events. */
export const CURATION_SOURCE = 'curation';

export interface SealedSecret {
  /** The secret encrypted (AES-256-GCM), as webhooks/secrets.ts writes it. */
  sealed: string;
  createdAt: number;
  /** A rotated-out secret still signs until then (µs); absent on the current secret. */
  until?: number;
}

export interface SubscriptionRecord {
  id: string;
  organisationId: string;
  url: string;
  description?: string;
  /** The current secret first, then rotated-out ones still signing. */
  secrets: SealedSecret[];
  /** Published collections (ids) whose changes are delivered. */
  collections: string[];
  /** Event types delivered (object.* changes, curation.* events). */
  eventTypes: string[];
  /** STIX types delivered; absent = every type. */
  objectTypes?: string[];
  /** Highest TLP delivered (below the organisation's own cap); absent = the cap. */
  maxTlp?: TlpLevel;
  state: 'enabled' | 'disabled';
  disabledReason?: string;
  disabledAt?: number;
  /** Failed attempts at the event at the head of the subscription's queue. */
  attempts: number;
  /** When the next attempt at the head event is due (µs). */
  nextAttemptAt?: number;
  /** First failure since the last success (µs). */
  failingSince?: number;
  lastSuccessAt?: number;
  /** Bumped by every change made through the API, so a worker drops what it read ahead. */
  rev: number;
  createdBy?: string;
  createdAt: number;
  updatedAt: number;
}

export type SubscriptionChanges = Partial<Pick<SubscriptionRecord,
  'url' | 'description' | 'secrets' | 'collections' | 'eventTypes' | 'objectTypes' | 'maxTlp' | 'state' | 'disabledReason' | 'disabledAt'
  | 'attempts' | 'nextAttemptAt' | 'failingSince' | 'lastSuccessAt'>>;

export interface DeliveryRecord {
  id: string;
  subscriptionId: string;
  /** The webhook-id sent (a change id, a curation event id, or a test id). */
  eventId: string;
  eventType: string;
  /** The event's source (collection id or CURATION_SOURCE) and position in it, to send it again. */
  source?: string;
  position?: number;
  kind: 'event' | 'test' | 'redelivery';
  /** 1 for the first attempt at this event. */
  attempt: number;
  at: number;
  outcome: 'success' | 'failure';
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** When the next attempt is due, after a failure. */
  nextAttemptAt?: number;
}

/** What a delivery attempt changes besides the log: see WebhookStore.logDelivery. */
export interface DeliveryEffects {
  cursor?: { source: string; position: number };
  subscription?: SubscriptionChanges;
}

/** Who delivers a subscription's events now, and until when (µs) unless renewed. */
export interface DeliveryLease {
  owner: string;
  until: number;
}

export interface WebhookStore {
  /** Creates the subscription with its starting cursors (source → position). */
  createSubscription(s: Omit<SubscriptionRecord, 'rev' | 'updatedAt'>, cursors: Record<string, number>): Promise<SubscriptionRecord>;
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** In creation order. */
  listSubscriptions(filter: { organisationId?: string; state?: SubscriptionRecord['state'] }): Promise<SubscriptionRecord[]>;
  /**
   * Changes a subscription. `bump` (API changes) increments rev; a worker's bookkeeping does not.
   * Undefined values clear optional fields. Returns undefined when it does not exist.
   */
  updateSubscription(id: string, changes: SubscriptionChanges, bump: boolean): Promise<SubscriptionRecord | undefined>;
  /** Deletes the subscription, its cursors, its lease and its delivery log. */
  deleteSubscription(id: string): Promise<boolean>;

  /** Positions per source (collection id or CURATION_SOURCE). */
  cursors(subscriptionId: string): Promise<Record<string, number>>;
  /** Sets the given cursors (moving them back too: a rewind) and drops sources not named when `replace`. */
  setCursors(subscriptionId: string, cursors: Record<string, number>, replace: boolean): Promise<void>;
  /** Moves one cursor forward (never back: a late writer cannot undo a newer position). */
  advanceCursor(subscriptionId: string, source: string, position: number): Promise<void>;

  /**
   * Takes the subscription's delivery lease for `owner` until `until` (µs), or renews it: granted
   * when nobody holds it, when the holder's ran out by `now`, or when `owner` already holds it
   * (atomic: of concurrent takers exactly one gets it). Returns the lease as it stands afterwards,
   * someone else's when refused. Instances sharing a store deliver each subscription one at a time.
   */
  acquireLease(subscriptionId: string, owner: string, until: number, now: number): Promise<DeliveryLease>;
  /** Gives the lease up when `owner` holds it, so another instance can take over at once. */
  releaseLease(subscriptionId: string, owner: string): Promise<void>;

  /**
   * Appends one attempt to the delivery log and, with it (in one transaction where the store has
   * them), what follows from it: the cursor moved past the event, forward only, after a success;
   * and the worker's bookkeeping on the subscription (rev unchanged). Returns the subscription as
   * written when `effects.subscription` is given and it exists.
   */
  logDelivery(d: DeliveryRecord, effects?: DeliveryEffects): Promise<SubscriptionRecord | undefined>;
  /** Newest first; `before` pages on `at`. */
  listDeliveries(subscriptionId: string, query: { before?: number; limit: number }): Promise<DeliveryRecord[]>;
  getDelivery(subscriptionId: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Drops log entries older than `before` (µs); returns how many. */
  purgeDeliveries(before: number): Promise<number>;
}

/** A subscription with changes applied (undefined clears an optional field). Shared by every backend. */
export function applyChanges(s: SubscriptionRecord, changes: SubscriptionChanges, bump: boolean, at: number): SubscriptionRecord {
  const next: Record<string, unknown> = { ...s };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  return { ...(next as unknown as SubscriptionRecord), ...(bump ? { rev: s.rev + 1, updatedAt: at } : {}) };
}
