// Webhook subscriptions, cursors and the delivery log on MongoDB. No transactions: identities live
// in `_id` (identityId), a subscription is rewritten whole under compare-and-set on a write counter,
// and a cursor only moves forward ($max) unless the API rewinds it.
import { Schema, type Connection, type Model } from 'mongoose';
import { type DeliveryEffects, type DeliveryLease, type DeliveryRecord, type SubscriptionChanges, type SubscriptionRecord, type WebhookStore, applyChanges } from '../webhook-store.js';
import { MAJORITY, identityId, isDuplicateKey } from './schemas.js';

type Doc = Record<string, any>;
const base = { strict: false, versionKey: false, autoIndex: false, autoCreate: false } as const;

/** `_id` is identityId('webhook-subscription', id); `doc` is the record as JSON, `w` its write counter. */
const subscriptionSchema = new Schema({ id: String, organisationId: String, state: String, createdAt: Number, doc: String, w: Number }, base);
// GET /admin/v1/subscriptions of one organisation, and the worker's enabled ones
subscriptionSchema.index({ organisationId: 1, createdAt: 1 }, { name: 'webhook_subscriptions_by_org' });
subscriptionSchema.index({ state: 1, createdAt: 1 }, { name: 'webhook_subscriptions_by_state' });

/** `_id` is identityId('webhook-cursor', subscription id, source). */
const cursorSchema = new Schema({ subscriptionId: String, source: String, position: Number }, base);
// A subscription's cursors
cursorSchema.index({ subscriptionId: 1 }, { name: 'webhook_cursors_by_sub' });

/** `_id` is identityId('webhook-lease', subscription id): one lease per subscription, taken under compare-and-set. */
const leaseSchema = new Schema({ subscriptionId: String, owner: String, until: Number }, base);

/** `_id` is identityId('webhook-delivery', id). */
const deliverySchema = new Schema({ id: String, subscriptionId: String, at: Number, doc: String }, base);
// GET …/deliveries (newest first)
deliverySchema.index({ subscriptionId: 1, at: -1 }, { name: 'webhook_deliveries_by_sub' });
// The log's retention
deliverySchema.index({ at: 1 }, { name: 'webhook_deliveries_by_at' });


export class MongoWebhooks implements WebhookStore {
  private readonly subscriptions: Model<any>;
  private readonly cursorModel: Model<any>;
  private readonly deliveries: Model<any>;
  private readonly leases: Model<any>;
  private indexed: Promise<void> | undefined;

  /** `op` is the store's wrapper (start-up wait, 503 mapping); `ensureIndexes` its named-index check. */
  constructor(
    conn: Connection,
    private readonly op: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly ensureIndexes: (model: Model<any>) => Promise<void>,
  ) {
    this.subscriptions = conn.model('WebhookSubscription', subscriptionSchema, 'webhook_subscriptions');
    this.cursorModel = conn.model('WebhookCursor', cursorSchema, 'webhook_cursors');
    this.deliveries = conn.model('WebhookDelivery', deliverySchema, 'webhook_deliveries');
    this.leases = conn.model('WebhookLease', leaseSchema, 'webhook_leases');
  }

  /** Every operation: the store's wrapper, with this module's indexes made once per process. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.op(async () => {
      if (!this.indexed) {
        this.indexed = (async () => {
          for (const m of [this.subscriptions, this.cursorModel, this.deliveries]) await this.ensureIndexes(m);
        })();
        this.indexed.catch(() => (this.indexed = undefined));
      }
      await this.indexed;
      return fn();
    });
  }

  async createSubscription(s: Omit<SubscriptionRecord, 'rev' | 'updatedAt'>, cursors: Record<string, number>): Promise<SubscriptionRecord> {
    const record: SubscriptionRecord = { ...s, rev: 1, updatedAt: s.createdAt };
    return this.run(async () => {
      // Cursors first: a subscription is never seen without them.
      await this.writeCursors(s.id, cursors, true);
      await this.subscriptions.create([{ _id: identityId('webhook-subscription', s.id), id: s.id, organisationId: s.organisationId, state: s.state, createdAt: s.createdAt, doc: JSON.stringify(record), w: 1 }], MAJORITY);
      return record;
    });
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.run(async () => {
      const d = await this.subscriptions.findById(identityId('webhook-subscription', id)).lean<Doc>(); // _id
      return d ? (JSON.parse(d.doc) as SubscriptionRecord) : undefined;
    });
  }

  async listSubscriptions(filter: { organisationId?: string; state?: SubscriptionRecord['state'] }): Promise<SubscriptionRecord[]> {
    return this.run(async () => {
      const q: Doc = {};
      if (filter.organisationId !== undefined) q.organisationId = filter.organisationId;
      if (filter.state !== undefined) q.state = filter.state;
      const docs = await this.subscriptions.find(q).sort({ createdAt: 1, id: 1 }).lean<Doc[]>();
      return docs.map((d) => JSON.parse(d.doc) as SubscriptionRecord);
    });
  }

  async updateSubscription(id: string, changes: SubscriptionChanges, bump: boolean): Promise<SubscriptionRecord | undefined> {
    return this.run(() => this.update(id, changes, bump));
  }

  private async update(id: string, changes: SubscriptionChanges, bump: boolean): Promise<SubscriptionRecord | undefined> {
    const _id = identityId('webhook-subscription', id);
    for (;;) {
      const d = await this.subscriptions.findById(_id).lean<Doc>(); // _id
      if (!d) return undefined;
      const next = applyChanges(JSON.parse(d.doc) as SubscriptionRecord, changes, bump, Date.now() * 1000);
      const r = await this.subscriptions.updateOne({ _id, w: d.w }, { $set: { state: next.state, doc: JSON.stringify(next), w: (d.w as number) + 1 } }, MAJORITY); // _id
      if (r.matchedCount === 1) return next;
      // Another writer came first: apply the changes to what it wrote.
    }
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return this.run(async () => {
      const r = await this.subscriptions.deleteOne({ _id: identityId('webhook-subscription', id) }, MAJORITY); // _id
      await this.cursorModel.deleteMany({ subscriptionId: id }, MAJORITY);
      await this.deliveries.deleteMany({ subscriptionId: id }, MAJORITY);
      await this.leases.deleteOne({ _id: identityId('webhook-lease', id) }, MAJORITY); // _id
      return r.deletedCount > 0;
    });
  }

  async cursors(subscriptionId: string): Promise<Record<string, number>> {
    return this.run(async () => {
      const docs = await this.cursorModel.find({ subscriptionId }).lean<Doc[]>();
      return Object.fromEntries(docs.map((d) => [d.source as string, d.position as number]));
    });
  }

  private async writeCursors(subscriptionId: string, cursors: Record<string, number>, replace: boolean): Promise<void> {
    if (replace) await this.cursorModel.deleteMany({ subscriptionId, source: { $nin: Object.keys(cursors) } }, MAJORITY);
    const ops = Object.entries(cursors).map(([source, position]) => ({
      replaceOne: { filter: { _id: identityId('webhook-cursor', subscriptionId, source) }, replacement: { subscriptionId, source, position }, upsert: true },
    }));
    if (ops.length) await this.cursorModel.bulkWrite(ops, MAJORITY);
  }

  async setCursors(subscriptionId: string, cursors: Record<string, number>, replace: boolean): Promise<void> {
    return this.run(() => this.writeCursors(subscriptionId, cursors, replace));
  }

  async advanceCursor(subscriptionId: string, source: string, position: number): Promise<void> {
    return this.run(() => this.advance(subscriptionId, source, position));
  }

  private async advance(subscriptionId: string, source: string, position: number): Promise<void> {
    await this.cursorModel.updateOne({ _id: identityId('webhook-cursor', subscriptionId, source) }, { $max: { position } }, MAJORITY); // _id
  }

  async acquireLease(subscriptionId: string, owner: string, until: number, now: number): Promise<DeliveryLease> {
    return this.run(async () => {
      const _id = identityId('webhook-lease', subscriptionId);
      for (;;) {
        // Renewed, or taken over once run out (compare-and-set on the lease document) …
        const r = await this.leases.updateOne({ _id, $or: [{ owner }, { until: { $lte: now } }] }, { $set: { owner, until } }, MAJORITY); // _id
        if (r.matchedCount === 1) return { owner, until };
        // … or taken when there is none: of concurrent inserts one wins, the others clash on _id.
        try {
          await this.leases.create([{ _id, subscriptionId, owner, until }], MAJORITY);
          return { owner, until };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        const held = await this.leases.findById(_id).lean<Doc>(); // _id
        if (held) return { owner: held.owner as string, until: held.until as number };
        // Released between the two: try again.
      }
    });
  }

  async releaseLease(subscriptionId: string, owner: string): Promise<void> {
    return this.run(async () => {
      await this.leases.deleteOne({ _id: identityId('webhook-lease', subscriptionId), owner }, MAJORITY); // _id
    });
  }

  async logDelivery(d: DeliveryRecord, effects: DeliveryEffects = {}): Promise<SubscriptionRecord | undefined> {
    return this.run(async () => {
      // Three documents, written at once rather than in a transaction: each write is idempotent
      // (the entry's _id, the cursor's $max, the subscription's compare-and-set), and the attempt
      // they record has already happened, so any of them landing alone loses nothing (an event
      // whose cursor did not move is sent again with its webhook-id: at least once).
      const [, , updated] = await Promise.all([
        this.deliveries.create([{ _id: identityId('webhook-delivery', d.id), id: d.id, subscriptionId: d.subscriptionId, at: d.at, doc: JSON.stringify(d) }]).catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err; // logged before (a retried write)
        }),
        effects.cursor ? this.advance(d.subscriptionId, effects.cursor.source, effects.cursor.position) : undefined,
        effects.subscription ? this.update(d.subscriptionId, effects.subscription, false) : undefined,
      ]);
      return updated;
    });
  }

  async listDeliveries(subscriptionId: string, query: { before?: number; limit: number }): Promise<DeliveryRecord[]> {
    return this.run(async () => {
      const q: Doc = { subscriptionId, ...(query.before !== undefined ? { at: { $lt: query.before } } : {}) };
      const docs = await this.deliveries.find(q).sort({ at: -1, id: -1 }).limit(query.limit).lean<Doc[]>();
      return docs.map((d) => JSON.parse(d.doc) as DeliveryRecord);
    });
  }

  async getDelivery(subscriptionId: string, id: string): Promise<DeliveryRecord | undefined> {
    return this.run(async () => {
      const d = await this.deliveries.findById(identityId('webhook-delivery', id)).lean<Doc>(); // _id
      return d && d.subscriptionId === subscriptionId ? (JSON.parse(d.doc) as DeliveryRecord) : undefined;
    });
  }

  async purgeDeliveries(before: number): Promise<number> {
    return this.run(async () => (await this.deliveries.deleteMany({ at: { $lt: before } }, MAJORITY)).deletedCount);
  }
}
