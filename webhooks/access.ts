// What a subscription may be told: exactly what its organisation's accounts could read (the union
// of taxii/access accessTo over its enabled accounts: grants, TLP caps, the member-country fence),
// checked again when each event is sent.
import type { CollectionRecord, Store, TlpLevel } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { type Access, accessTo } from '../taxii/access.js';

const NONE: Access = { canRead: false, canWrite: false, maxTlp: 'clear' };

export async function organisationAccess(store: Store, organisationId: string, collection: CollectionRecord): Promise<Access> {
  const organisation = await store.getOrganisation(organisationId);
  if (!organisation || organisation.disabled) return NONE;
  const accounts = (await store.listAccounts()).filter((a) => a.organisationId === organisationId && !a.disabled);
  let best: Access = NONE;
  for (const account of accounts) {
    const a = await accessTo(store, { account, organisation }, collection);
    if (!a.canRead) continue;
    const maxTlp: TlpLevel = !best.canRead || TLP_RANK[a.maxTlp] > TLP_RANK[best.maxTlp] ? a.maxTlp : best.maxTlp;
    best = { canRead: true, canWrite: best.canWrite || a.canWrite, maxTlp };
  }
  return best;
}

/** organisationAccess remembered briefly: a worker sending a backlog asks once a second, not per event. */
export class AccessCache {
  private readonly entries = new Map<string, { at: number; access: Promise<Access> }>();

  constructor(private readonly store: Store, private readonly ttlMs = 1000) {}

  get(organisationId: string, collection: CollectionRecord): Promise<Access> {
    const key = `${organisationId}|${collection.id}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.access;
    const access = organisationAccess(this.store, organisationId, collection);
    this.entries.set(key, { at: now, access });
    access.catch(() => this.entries.delete(key));
    return access;
  }
}
