// Who may do what (docs/architecture.md §1, §2, §7). One place decides, from the caller's
// account, organisation and grants:
// - admins may do everything, everywhere;
// - a curator may read and write every collection of the API roots they curate;
// - otherwise rights come from grants to the account, its organisation, or a role in it: read and
//   write are the union, and the marking cap is the highest `maxTlp` among the read grants;
// - a member agency never reaches into another country's API root, and an account that is only a
//   subscriber never sees an intake collection, whatever grants say (defence in depth).
import type { AccountRecord, ApiRootRecord, CollectionRecord, GrantRecord, OrganisationRecord, Store, TlpLevel } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { TaxiiError, notFound } from './errors.js';

export interface Caller {
  account: AccountRecord;
  organisation?: OrganisationRecord;
  /** How the caller authenticated (for the audit log). */
  via?: 'password' | 'api-key' | 'token';
  /** Client address, for the audit log. */
  remote?: string;
  /** Memo of the caller's grants for the duration of one request. */
  grants?: Promise<GrantRecord[]>;
}

export interface Access {
  canRead: boolean;
  canWrite: boolean;
  /** The marking cap for reads: objects marked above it are invisible to the caller. */
  maxTlp: TlpLevel;
}

const NONE: Access = { canRead: false, canWrite: false, maxTlp: 'clear' };
const FULL: Access = { canRead: true, canWrite: true, maxTlp: 'red' };

export function isAdmin(caller: Caller): boolean {
  return caller.account.roles.includes('admin');
}

export function curates(caller: Caller, apiRoot: string): boolean {
  return caller.account.roles.includes('curator') && caller.account.curatorRoots.includes(apiRoot);
}

function grantsOf(store: Store, caller: Caller): Promise<GrantRecord[]> {
  caller.grants ??= store.grantsForAccount(caller.account);
  return caller.grants;
}

/** The store filter value of an access's marking cap (undefined = no filter needed). */
export function tlpFilter(access: Access): number | undefined {
  return access.maxTlp === 'red' ? undefined : TLP_RANK[access.maxTlp];
}

export async function accessTo(store: Store, caller: Caller, collection: CollectionRecord, root?: ApiRootRecord): Promise<Access> {
  if (isAdmin(caller)) return FULL;
  if (caller.organisation?.disabled) return NONE;
  if (curates(caller, collection.apiRoot)) return FULL;
  const org = caller.organisation;
  if (org?.kind === 'member-agency') {
    const country = (root ?? (await store.getApiRoot(collection.apiRoot)))?.country;
    if (country && country !== org.country) return NONE;
  }
  if (collection.purpose === 'intake' && caller.account.roles.every((r) => r === 'subscriber')) return NONE;
  const grants = (await grantsOf(store, caller)).filter((g) => g.collectionId === collection.id);
  if (grants.length === 0) return NONE;
  const readers = grants.filter((g) => g.canRead);
  const maxTlp = readers.reduce<TlpLevel>((cap, g) => (TLP_RANK[g.maxTlp] > TLP_RANK[cap] ? g.maxTlp : cap), 'clear');
  return { canRead: readers.length > 0, canWrite: grants.some((g) => g.canWrite), maxTlp };
}

export type Need = 'read' | 'write' | 'delete';

/**
 * Enforces access for an endpoint. No access at all is a 404 (indistinguishable from absence,
 * docs/architecture.md §7); a collection the caller can see but not use this way is a 403 (§5.3–§5.5, and
 * the §5.7 matrix for DELETE, which needs both rights).
 */
export function requireAccess(access: Access, need: Need): void {
  if (!access.canRead && !access.canWrite) throw notFound();
  const ok = need === 'read' ? access.canRead : need === 'write' ? access.canWrite : access.canRead && access.canWrite;
  if (!ok) {
    const what = need === 'delete' ? 'delete objects from' : need === 'read' ? 'read from' : 'write to';
    throw new TaxiiError('TAXII_ERR_FORBIDDEN', `You may not ${what} this collection.`);
  }
}
