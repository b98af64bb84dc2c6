// Subscription management (docs/webhooks.md), shared by the admin API, the CLI and layout files.
// Admins manage every subscription (naming its organisation); any other account manages its own
// organisation's; for everyone else subscriptions do not exist (404). A subscription may follow
// only published collections its organisation can read, and curation events only for a vendor.
// Secrets are returned once (create, rotate) and never again; every change is audited without them.
import { randomUUID } from 'node:crypto';
import type { CollectionRecord, OrganisationRecord, Store, TlpLevel } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { CURATION_SOURCE, type DeliveryRecord, type SubscriptionChanges, type SubscriptionRecord } from '../collections/webhook-store.js';
import { type Caller, isAdmin } from '../taxii/access.js';
import { TaxiiError, notFound } from '../taxii/errors.js';
import { formatMicros, nowMicros } from '../taxii/time.js';
import { organisationAccess } from './access.js';
import { CURATION_EVENTS, EVENT_TYPES, OBJECT_EVENTS, type WebhookPayload } from './events.js';
import { seal } from './secrets.js';
import type { TargetPolicy } from './ssrf.js';
import { newSecret, secretKey } from './signing.js';
import type { DeliveryWorker } from './worker.js';

/** A rotated-out secret keeps signing this long (µs), so receivers can switch without losing a delivery. */
export const ROTATION_OVERLAP_US = 24 * 3600 * 1_000_000;
const TLP_LEVELS = Object.keys(TLP_RANK) as TlpLevel[];

export interface SubscriptionInput {
  organisation?: string;
  url?: string;
  description?: string | null;
  collections?: string[];
  event_types?: string[];
  object_types?: string[] | null;
  max_tlp?: TlpLevel | null;
  /** A whsec_ secret of one's own (layout files); absent: one is made. */
  secret?: string;
}

function invalid(message: string): TaxiiError {
  return new TaxiiError('TAXII_ERR_INVALID', message);
}

export class SubscriptionService {
  constructor(
    private readonly store: Store,
    private readonly policy: TargetPolicy,
    private readonly worker: DeliveryWorker,
  ) {}

  /** The organisation whose subscriptions the caller manages (undefined: all, an admin), or 404. */
  private scope(caller: Caller): string | undefined {
    if (isAdmin(caller)) return undefined;
    if (caller.organisation && !caller.organisation.disabled) return caller.organisation.id;
    throw notFound('No admin API endpoint at this path, or you do not have access to it.');
  }

  private async own(caller: Caller, id: string): Promise<SubscriptionRecord> {
    const org = this.scope(caller);
    const s = await this.store.webhooks.getSubscription(id);
    if (!s || (org !== undefined && s.organisationId !== org)) throw notFound(`No subscription ${id}.`);
    return s;
  }

  async view(s: SubscriptionRecord) {
    const org = await this.store.getOrganisation(s.organisationId);
    const now = nowMicros();
    const rotating = s.secrets.slice(1).find((x) => x.until !== undefined && x.until > now);
    return {
      id: s.id,
      organisation: org?.name ?? s.organisationId,
      url: s.url,
      ...(s.description ? { description: s.description } : {}),
      collections: s.collections,
      event_types: s.eventTypes,
      ...(s.objectTypes ? { object_types: s.objectTypes } : {}),
      ...(s.maxTlp ? { max_tlp: s.maxTlp } : {}),
      state: s.state,
      ...(s.disabledReason ? { disabled_reason: s.disabledReason } : {}),
      ...(s.disabledAt !== undefined ? { disabled_at: formatMicros(s.disabledAt) } : {}),
      failed_attempts: s.attempts,
      ...(s.nextAttemptAt !== undefined ? { next_attempt: formatMicros(s.nextAttemptAt) } : {}),
      ...(s.failingSince !== undefined ? { failing_since: formatMicros(s.failingSince) } : {}),
      ...(s.lastSuccessAt !== undefined ? { last_success: formatMicros(s.lastSuccessAt) } : {}),
      ...(rotating ? { previous_secret_until: formatMicros(rotating.until!) } : {}),
      created: formatMicros(s.createdAt),
      updated: formatMicros(s.updatedAt),
    };
  }

  async list(caller: Caller) {
    const org = this.scope(caller);
    return Promise.all((await this.store.webhooks.listSubscriptions(org === undefined ? {} : { organisationId: org })).map((s) => this.view(s)));
  }

  async get(caller: Caller, id: string) {
    return this.view(await this.own(caller, id));
  }

  /** Collections by ROOT/ALIAS, ROOT/ID or id: published ones the organisation can read, else one answer for all (no probing). */
  private async collectionsOf(refs: string[], organisation: OrganisationRecord): Promise<CollectionRecord[]> {
    const roots = await this.store.listApiRoots();
    const out: CollectionRecord[] = [];
    for (const ref of [...new Set(refs)]) {
      const slash = ref.indexOf('/');
      let found: CollectionRecord | undefined;
      if (slash > 0) found = await this.store.getCollection(ref.slice(0, slash), ref.slice(slash + 1));
      else for (const r of roots) found ??= await this.store.getCollection(r.path, ref);
      const readable = found && found.purpose === 'published' && (await organisationAccess(this.store, organisation.id, found)).canRead;
      if (!found || !readable) throw invalid(`no published collection "${ref}" that ${organisation.name} can read`);
      out.push(found);
    }
    return out;
  }

  private checkUrl(url: string): void {
    const why = this.policy.checkUrl(url);
    if (why) throw invalid(`url: ${why}`);
  }

  private async checkFilters(organisation: OrganisationRecord, collections: CollectionRecord[], eventTypes: string[], maxTlp?: TlpLevel): Promise<void> {
    const unknown = eventTypes.filter((t) => !EVENT_TYPES.includes(t));
    if (unknown.length) throw invalid(`event_types: unknown ${unknown.join(', ')} (allowed: ${EVENT_TYPES.join(', ')})`);
    if (eventTypes.length === 0) throw invalid('event_types: give at least one');
    const curation = eventTypes.some((t) => (CURATION_EVENTS as readonly string[]).includes(t));
    const objects = eventTypes.some((t) => (OBJECT_EVENTS as readonly string[]).includes(t));
    if (curation && organisation.kind !== 'vendor') throw invalid('curation events are sent to vendors about their own submissions; this organisation is not a vendor');
    if (objects && collections.length === 0) throw invalid('collections: object events need at least one published collection');
    if (maxTlp !== undefined && !TLP_LEVELS.includes(maxTlp)) throw invalid(`max_tlp: one of ${TLP_LEVELS.join(', ')}`);
  }

  private async organisationFor(caller: Caller, name: string | undefined): Promise<OrganisationRecord> {
    const scope = this.scope(caller);
    if (scope !== undefined) {
      if (name !== undefined && name !== caller.organisation!.name) throw notFound(`No organisation ${name} that you manage subscriptions for.`);
      return caller.organisation!;
    }
    if (name === undefined) throw invalid('organisation: an admin names the organisation the subscription belongs to');
    const org = await this.store.getOrganisationByName(name);
    if (!org) throw invalid(`organisation: no organisation "${name}"`);
    return org;
  }

  private async sealed(secret: string | undefined): Promise<{ secret: string; sealed: string }> {
    if (secret !== undefined && !secretKey(secret)) throw invalid('secret: a whsec_ secret is whsec_ followed by the base64 of 24 to 64 random bytes');
    const value = secret ?? newSecret();
    return { secret: value, sealed: seal(await this.store.secret('webhooks'), value) };
  }

  /** Creates a subscription; the secret is in the answer, this once. Deliveries start with changes after now. */
  async create(caller: Caller, input: SubscriptionInput) {
    const organisation = await this.organisationFor(caller, input.organisation);
    if (!input.url) throw invalid('url: required');
    this.checkUrl(input.url);
    const collections = await this.collectionsOf(input.collections ?? [], organisation);
    const eventTypes = input.event_types ?? [...OBJECT_EVENTS];
    await this.checkFilters(organisation, collections, eventTypes, input.max_tlp ?? undefined);
    const { secret, sealed } = await this.sealed(input.secret);
    const id = randomUUID();
    const at = nowMicros();
    const audit = await this.audit(caller, 'subscription.create', id, { organisation: organisation.name, url: redactUrl(input.url) });
    const cursors: Record<string, number> = Object.fromEntries(collections.map((c) => [c.id, at]));
    if (eventTypes.some((t) => t.startsWith('curation.'))) cursors[CURATION_SOURCE] = audit;
    const s = await this.store.webhooks.createSubscription({
      id, organisationId: organisation.id, url: input.url, ...(input.description ? { description: input.description } : {}), secrets: [{ sealed, createdAt: at }],
      collections: collections.map((c) => c.id), eventTypes, ...(input.object_types ? { objectTypes: input.object_types } : {}), ...(input.max_tlp ? { maxTlp: input.max_tlp } : {}),
      state: 'enabled', attempts: 0, createdBy: caller.account.name, createdAt: at,
    }, cursors);
    this.worker.nudge();
    return { ...(await this.view(s)), secret };
  }

  async update(caller: Caller, id: string, input: SubscriptionInput) {
    const s = await this.own(caller, id);
    if (input.organisation !== undefined) throw invalid('organisation: a subscription stays with its organisation');
    if (input.secret !== undefined) throw invalid('secret: rotate it with rotate-secret');
    const organisation = (await this.store.getOrganisation(s.organisationId))!;
    const changes: SubscriptionChanges = {};
    if (input.url !== undefined) {
      this.checkUrl(input.url);
      changes.url = input.url;
    }
    if (input.description !== undefined) changes.description = input.description ?? undefined;
    const collections = input.collections !== undefined ? await this.collectionsOf(input.collections, organisation) : undefined;
    const eventTypes = input.event_types ?? s.eventTypes;
    const maxTlp = input.max_tlp === undefined ? s.maxTlp : (input.max_tlp ?? undefined);
    await this.checkFilters(organisation, collections ?? (await this.collectionsOf(s.collections, organisation).catch(() => [])), eventTypes, maxTlp);
    if (collections) changes.collections = collections.map((c) => c.id);
    if (input.event_types !== undefined) changes.eventTypes = eventTypes;
    if (input.object_types !== undefined) changes.objectTypes = input.object_types ?? undefined;
    if (input.max_tlp !== undefined) changes.maxTlp = input.max_tlp ?? undefined;
    // A newly followed source starts now; those kept keep their place.
    const current = await this.store.webhooks.cursors(id);
    const wanted: Record<string, number> = {};
    const at = nowMicros();
    for (const c of changes.collections ?? s.collections) wanted[c] = current[c] ?? at;
    if (eventTypes.some((t) => t.startsWith('curation.'))) wanted[CURATION_SOURCE] = current[CURATION_SOURCE] ?? (await this.audit(caller, 'subscription.update', id, { curation_from: 'now' }));
    await this.store.webhooks.setCursors(id, wanted, true);
    const next = await this.change(id, changes);
    await this.audit(caller, 'subscription.update', id, { fields: Object.keys(input) });
    return this.view(next!);
  }

  /** An API change (a new rev), told to this process's worker at once (others read it again within a second). */
  private async change(id: string, changes: SubscriptionChanges): Promise<SubscriptionRecord | undefined> {
    const next = await this.store.webhooks.updateSubscription(id, changes, true);
    this.worker.changed(id);
    return next;
  }

  async disable(caller: Caller, id: string, reason?: string) {
    await this.own(caller, id);
    const next = await this.change(id, { state: 'disabled', disabledReason: reason?.trim() || `disabled by ${caller.account.name}`, disabledAt: nowMicros(), nextAttemptAt: undefined });
    await this.audit(caller, 'subscription.disable', id, {});
    return this.view(next!);
  }

  /** Enables again: delivery resumes from the durable cursor (nothing missed meanwhile is lost). */
  async enable(caller: Caller, id: string) {
    await this.own(caller, id);
    const next = await this.change(id, { state: 'enabled', disabledReason: undefined, disabledAt: undefined, attempts: 0, nextAttemptAt: undefined, failingSince: undefined });
    await this.audit(caller, 'subscription.enable', id, {});
    this.worker.nudge();
    return this.view(next!);
  }

  /** A new secret (returned once); the previous one keeps signing for 24 hours. */
  async rotateSecret(caller: Caller, id: string, secret?: string) {
    const s = await this.own(caller, id);
    const { secret: value, sealed } = await this.sealed(secret);
    const at = nowMicros();
    const [current] = s.secrets;
    const secrets = [{ sealed, createdAt: at }, ...(current ? [{ ...current, until: at + ROTATION_OVERLAP_US }] : [])];
    const next = await this.change(id, { secrets });
    await this.audit(caller, 'subscription.rotate-secret', id, {});
    return { ...(await this.view(next!)), secret: value };
  }

  async remove(caller: Caller, id: string): Promise<void> {
    await this.own(caller, id);
    await this.store.webhooks.deleteSubscription(id);
    this.worker.changed(id);
    await this.audit(caller, 'subscription.delete', id, {});
  }

  /** Sends a `webhook.test` event now, outside the queue, and says how it went. */
  async test(caller: Caller, id: string) {
    const s = await this.own(caller, id);
    const payload: WebhookPayload = { type: 'webhook.test', timestamp: formatMicros(nowMicros()), data: { subscription: s.id } };
    return deliveryResult(await this.worker.sendOnce(s, `test_${randomUUID()}`, payload, 'test'));
  }

  async deliveries(caller: Caller, id: string, query: { before?: number; limit: number }) {
    await this.own(caller, id);
    const items = await this.store.webhooks.listDeliveries(id, { ...query, limit: query.limit + 1 });
    const more = items.length > query.limit;
    const page = more ? items.slice(0, query.limit) : items;
    return { more, ...(more ? { next_before: formatMicros(page[page.length - 1]!.at) } : {}), deliveries: page.map(deliveryView) };
  }

  /**
   * Sends one logged event again now (same webhook-id), if the subscription may still see it; or,
   * with `from`, moves every cursor back to that time so everything since is delivered again, in order.
   */
  async redeliver(caller: Caller, id: string, what: { delivery?: string; from?: number }) {
    const s = await this.own(caller, id);
    if ((what.delivery === undefined) === (what.from === undefined)) throw invalid('give either "delivery" (one logged delivery) or "from" (a time to replay from)');
    if (what.from !== undefined) {
      const cursors = await this.store.webhooks.cursors(id);
      const rewound = Object.fromEntries(Object.keys(cursors).filter((k) => k !== CURATION_SOURCE).map((k) => [k, Math.min(cursors[k]!, what.from!)]));
      await this.store.webhooks.setCursors(id, rewound, false);
      await this.change(id, {}); // a new rev: the worker reads the cursors again
      await this.audit(caller, 'subscription.redeliver', id, { from: formatMicros(what.from) });
      this.worker.nudge();
      return { replay_from: formatMicros(what.from) };
    }
    const d = await this.store.webhooks.getDelivery(id, what.delivery!);
    if (!d) throw notFound(`No delivery ${what.delivery} of subscription ${id}.`);
    const event = await this.worker.eventOf(s, d);
    if (!event) throw new TaxiiError('TAXII_ERR_CONFLICT', 'that event is no longer kept, or no longer visible to the subscription');
    await this.audit(caller, 'subscription.redeliver', id, { event: d.eventId });
    return deliveryResult(await this.worker.sendOnce(s, event.id, event.payload, 'redelivery', { source: d.source!, position: d.position! }));
  }

  private async audit(caller: Caller, action: string, target: string, detail: Record<string, unknown>): Promise<number> {
    const e = await this.store.appendAudit({ at: nowMicros(), actor: caller.account.name, action, outcome: 'success', target, ...(caller.remote ? { remote: caller.remote } : {}), detail });
    return e.seq;
  }
}

/** A URL for the audit log: without its query, which may carry a receiver's token. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function deliveryResult(r: { ok: boolean; statusCode?: number; durationMs: number; error?: string }) {
  return { success: r.ok, ...(r.statusCode !== undefined ? { status_code: r.statusCode } : {}), duration_ms: r.durationMs, ...(r.error ? { error: r.error } : {}) };
}

export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id, webhook_id: d.eventId, event_type: d.eventType, kind: d.kind, attempt: d.attempt, at: formatMicros(d.at), outcome: d.outcome,
    ...(d.statusCode !== undefined ? { status_code: d.statusCode } : {}), duration_ms: d.durationMs, ...(d.error ? { error: d.error } : {}),
    ...(d.nextAttemptAt !== undefined ? { next_attempt: formatMicros(d.nextAttemptAt) } : {}),
  };
}
