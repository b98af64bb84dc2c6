// Webhook subscriptions, cursors and the delivery log in the embedded store. A subscription's
// settings are one JSON document (read whole, written whole); what is looked up has a column.
import type Database from 'better-sqlite3';
import { type DeliveryEffects, type DeliveryLease, type DeliveryRecord, type SubscriptionChanges, type SubscriptionRecord, type WebhookStore, applyChanges } from '../webhook-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  organisation_id TEXT NOT NULL,
  state TEXT NOT NULL,
  doc TEXT NOT NULL
);
-- GET /admin/v1/subscriptions of one organisation
CREATE INDEX IF NOT EXISTS webhook_subscriptions_by_org ON webhook_subscriptions(organisation_id, seq);
CREATE TABLE IF NOT EXISTS webhook_cursors (
  subscription_id TEXT NOT NULL,
  source TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (subscription_id, source)
);
-- Which process delivers a subscription now (processes sharing the file take turns)
CREATE TABLE IF NOT EXISTS webhook_leases (
  subscription_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
-- GET …/deliveries (newest first) and the log's retention
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_sub ON webhook_deliveries(subscription_id, at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_at ON webhook_deliveries(at);
`;

type Row = Record<string, any>;

function stored(s: SubscriptionRecord): string {
  return JSON.stringify(s);
}

export class SqliteWebhooks implements WebhookStore {
  /** Prepared once: a backlog runs a few statements per delivery. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Delivery attempts waiting for the next commit (see commitAttempts). */
  private readonly attempts: Array<{ d: DeliveryRecord; effects: DeliveryEffects; resolve: (s: SubscriptionRecord | undefined) => void; reject: (err: unknown) => void }> = [];

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  async createSubscription(s: Omit<SubscriptionRecord, 'rev' | 'updatedAt'>, cursors: Record<string, number>): Promise<SubscriptionRecord> {
    const record: SubscriptionRecord = { ...s, rev: 1, updatedAt: s.createdAt };
    this.db.transaction(() => {
      this.stmt('INSERT INTO webhook_subscriptions (id, organisation_id, state, doc) VALUES (?, ?, ?, ?)').run(s.id, s.organisationId, s.state, stored(record));
      this.writeCursors(s.id, cursors, true);
    }).immediate();
    return record;
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    const row = this.stmt('SELECT doc FROM webhook_subscriptions WHERE id = ?').get(id) as Row | undefined;
    return row ? (JSON.parse(row.doc) as SubscriptionRecord) : undefined;
  }

  async listSubscriptions(filter: { organisationId?: string; state?: SubscriptionRecord['state'] }): Promise<SubscriptionRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.organisationId !== undefined) {
      where.push('organisation_id = ?');
      params.push(filter.organisationId);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    const rows = this.stmt(`SELECT doc FROM webhook_subscriptions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`).all(...params) as Row[];
    return rows.map((r) => JSON.parse(r.doc) as SubscriptionRecord);
  }

  async updateSubscription(id: string, changes: SubscriptionChanges, bump: boolean): Promise<SubscriptionRecord | undefined> {
    return this.db.transaction(() => this.update(id, changes, bump)).immediate();
  }

  /** Inside a transaction: read, change, write back. */
  private update(id: string, changes: SubscriptionChanges, bump: boolean): SubscriptionRecord | undefined {
    const row = this.stmt('SELECT doc FROM webhook_subscriptions WHERE id = ?').get(id) as Row | undefined;
    if (!row) return undefined;
    const next = applyChanges(JSON.parse(row.doc) as SubscriptionRecord, changes, bump, Date.now() * 1000);
    this.stmt('UPDATE webhook_subscriptions SET state = ?, doc = ? WHERE id = ?').run(next.state, stored(next), id);
    return next;
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.stmt('DELETE FROM webhook_cursors WHERE subscription_id = ?').run(id);
      this.stmt('DELETE FROM webhook_deliveries WHERE subscription_id = ?').run(id);
      this.stmt('DELETE FROM webhook_leases WHERE subscription_id = ?').run(id);
      return this.stmt('DELETE FROM webhook_subscriptions WHERE id = ?').run(id).changes > 0;
    }).immediate();
  }

  async cursors(subscriptionId: string): Promise<Record<string, number>> {
    const rows = this.stmt('SELECT source, position FROM webhook_cursors WHERE subscription_id = ?').all(subscriptionId) as Row[];
    return Object.fromEntries(rows.map((r) => [r.source as string, r.position as number]));
  }

  private writeCursors(subscriptionId: string, cursors: Record<string, number>, replace: boolean): void {
    if (replace) this.stmt('DELETE FROM webhook_cursors WHERE subscription_id = ?').run(subscriptionId);
    const put = this.stmt('INSERT INTO webhook_cursors (subscription_id, source, position) VALUES (?, ?, ?) ON CONFLICT (subscription_id, source) DO UPDATE SET position = excluded.position');
    for (const [source, position] of Object.entries(cursors)) put.run(subscriptionId, source, position);
  }

  async setCursors(subscriptionId: string, cursors: Record<string, number>, replace: boolean): Promise<void> {
    this.db.transaction(() => this.writeCursors(subscriptionId, cursors, replace)).immediate();
  }

  async advanceCursor(subscriptionId: string, source: string, position: number): Promise<void> {
    this.advance(subscriptionId, source, position);
  }

  private advance(subscriptionId: string, source: string, position: number): void {
    this.stmt('UPDATE webhook_cursors SET position = max(position, ?) WHERE subscription_id = ? AND source = ?').run(position, subscriptionId, source);
  }

  async acquireLease(subscriptionId: string, owner: string, until: number, now: number): Promise<DeliveryLease> {
    return this.db.transaction(() => {
      this.stmt(`INSERT INTO webhook_leases (subscription_id, owner, until) VALUES (?, ?, ?)
        ON CONFLICT (subscription_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
        WHERE webhook_leases.owner = excluded.owner OR webhook_leases.until <= ?`).run(subscriptionId, owner, until, now);
      return this.stmt('SELECT owner, until FROM webhook_leases WHERE subscription_id = ?').get(subscriptionId) as DeliveryLease;
    }).immediate();
  }

  async releaseLease(subscriptionId: string, owner: string): Promise<void> {
    this.stmt('DELETE FROM webhook_leases WHERE subscription_id = ? AND owner = ?').run(subscriptionId, owner);
  }

  async logDelivery(d: DeliveryRecord, effects: DeliveryEffects = {}): Promise<SubscriptionRecord | undefined> {
    return new Promise((resolve, reject) => {
      this.attempts.push({ d, effects, resolve, reject });
      if (this.attempts.length === 1) setImmediate(() => this.commitAttempts());
    });
  }

  /**
   * Attempts that ended in the same turn of the event loop (many subscriptions deliver at once)
   * are written in one transaction: one commit for all, each answered once it is durable.
   */
  private commitAttempts(): void {
    const batch = this.attempts.splice(0);
    let written: Array<SubscriptionRecord | undefined>;
    try {
      written = this.db.transaction(() => batch.map(({ d, effects }) => {
        this.stmt('INSERT OR IGNORE INTO webhook_deliveries (id, subscription_id, at, doc) VALUES (?, ?, ?, ?)').run(d.id, d.subscriptionId, d.at, JSON.stringify(d));
        if (effects.cursor) this.advance(d.subscriptionId, effects.cursor.source, effects.cursor.position);
        return effects.subscription ? this.update(d.subscriptionId, effects.subscription, false) : undefined;
      })).immediate();
    } catch (err) {
      for (const a of batch) a.reject(err);
      return;
    }
    batch.forEach((a, i) => a.resolve(written[i]));
  }

  async listDeliveries(subscriptionId: string, query: { before?: number; limit: number }): Promise<DeliveryRecord[]> {
    const rows = this.db
      .prepare(`SELECT doc FROM webhook_deliveries WHERE subscription_id = ?${query.before !== undefined ? ' AND at < ?' : ''} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(subscriptionId, ...(query.before !== undefined ? [query.before] : []), query.limit) as Row[];
    return rows.map((r) => JSON.parse(r.doc) as DeliveryRecord);
  }

  async getDelivery(subscriptionId: string, id: string): Promise<DeliveryRecord | undefined> {
    const row = this.stmt('SELECT doc FROM webhook_deliveries WHERE id = ? AND subscription_id = ?').get(id, subscriptionId) as Row | undefined;
    return row ? (JSON.parse(row.doc) as DeliveryRecord) : undefined;
  }

  async purgeDeliveries(before: number): Promise<number> {
    return this.stmt('DELETE FROM webhook_deliveries WHERE at < ?').run(before).changes;
  }
}
