// What a subscription is told (docs/webhooks.md): thin payloads — the change or decision, the
// object's id, type and version, and links the receiver follows under its own rights.
import type { AuditEvent, ChangeRecord, CollectionRecord, Store } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { formatMicros } from '../taxii/time.js';

export const OBJECT_EVENTS = ['object.published', 'object.updated', 'object.revoked', 'object.withdrawn'] as const;
export const CURATION_EVENTS = ['curation.approved', 'curation.rejected', 'curation.changes_requested', 'curation.withdrawn'] as const;
export const EVENT_TYPES: readonly string[] = [...OBJECT_EVENTS, ...CURATION_EVENTS];

/** The desk's audit actions that are curation events for the vendor whose submissions they decide. */
export const CURATION_ACTIONS: Readonly<Record<string, (typeof CURATION_EVENTS)[number]>> = {
  'curation.approve': 'curation.approved',
  'curation.auto-publish': 'curation.approved',
  'curation.revocation': 'curation.approved',
  'curation.reject': 'curation.rejected',
  'curation.request-changes': 'curation.changes_requested',
  'curation.withdraw': 'curation.withdrawn',
};

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The id a curation event is delivered under (stable across retries and restarts). */
export function curationEventId(seq: number): string {
  return `curation_${seq}`;
}

export function changePayload(change: ChangeRecord, collection: CollectionRecord, base: string): WebhookPayload {
  const collectionUrl = `${base}/${collection.apiRoot}/collections/${collection.id}`;
  return {
    type: change.type,
    timestamp: formatMicros(change.dateAdded),
    data: {
      change_id: change.id,
      api_root: collection.apiRoot,
      collection: collection.id,
      object: { id: change.objectId, type: change.objectType, ...(change.version ? { version: change.version } : {}) },
      actor_kind: change.actorKind,
      ...(change.reason ? { reason: change.reason } : {}),
      ...(change.lastVersion ? { last_version: change.lastVersion } : {}),
      links: {
        object: `${collectionUrl}/objects/${change.objectId}/`,
        versions: `${collectionUrl}/objects/${change.objectId}/versions/`,
        changes: `${collectionUrl}/changes/?added_after=${encodeURIComponent(formatMicros(change.dateAdded - 1))}`,
      },
    },
  };
}

/** The id of the resync event for a collection's log dropped up to `horizon` (stable across retries). */
export function resyncEventId(collectionId: string, horizon: number): string {
  return `resync_${collectionId}_${horizon}`;
}

/** Tells a receiver that changes were dropped before it got them: re-poll the collection's objects. */
export function resyncPayload(collection: CollectionRecord, horizon: number, base: string): WebhookPayload {
  const collectionUrl = `${base}/${collection.apiRoot}/collections/${collection.id}`;
  return {
    type: 'collection.resync',
    timestamp: formatMicros(horizon),
    data: {
      api_root: collection.apiRoot,
      collection: collection.id,
      horizon: formatMicros(horizon),
      reason: 'changes older than the change log keeps were dropped before this subscription received them; re-poll the objects, then follow the changes after the poll',
      links: { objects: `${collectionUrl}/objects/`, changes: `${collectionUrl}/changes/?added_after=${encodeURIComponent(formatMicros(horizon))}` },
    },
  };
}

/**
 * The vendor organisations a curation audit event concerns, each with its own objects (never
 * another vendor's). Decisions on entries say so in their audit detail (`vendors`); a withdrawal
 * names one object, whose publications say which vendor it came from.
 */
export async function curationAudience(store: Store, e: AuditEvent): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (e.outcome !== 'success' || !CURATION_ACTIONS[e.action]) return out;
  const vendors = e.detail?.vendors;
  if (vendors && typeof vendors === 'object') {
    for (const [org, objects] of Object.entries(vendors as Record<string, unknown>)) if (Array.isArray(objects)) out.set(org, objects.map(String));
  } else if (e.action === 'curation.withdraw' && e.target) {
    for (const p of await store.listPublications({ objectId: e.target })) {
      const vendor = p.provenance.vendor;
      if (typeof vendor === 'string') out.set(vendor, [e.target]);
    }
  } else if (e.target) {
    const [entry] = await store.getQueueEntries([e.target]);
    if (entry?.organisationId) out.set(entry.organisationId, [entry.objectId]);
  }
  return out;
}

export function curationPayload(e: AuditEvent, objects: string[]): WebhookPayload {
  const d = e.detail ?? {};
  return {
    type: CURATION_ACTIONS[e.action]!,
    timestamp: formatMicros(e.at),
    data: {
      event_id: curationEventId(e.seq),
      action: e.action.slice('curation.'.length),
      objects,
      ...(typeof d.reason === 'string' && d.reason ? { reason: d.reason } : {}),
      ...(typeof d.reason_code === 'string' ? { reason_code: d.reason_code } : {}),
      ...(Array.isArray(d.targets) ? { targets: d.targets } : {}),
    },
  };
}

/** Whether a change passes a subscription's own filters (object types, TLP) before the access check. */
export function passesFilters(change: Pick<ChangeRecord, 'type' | 'objectType' | 'tlp'>, f: { eventTypes: string[]; objectTypes?: string[]; maxTlp?: keyof typeof TLP_RANK }): boolean {
  if (!f.eventTypes.includes(change.type)) return false;
  if (f.objectTypes && !f.objectTypes.includes(change.objectType)) return false;
  if (f.maxTlp !== undefined && change.tlp > TLP_RANK[f.maxTlp]) return false;
  return true;
}
