// Who may do what (issue 2's first access model): per-collection read/write grants per account;
// admins may do everything. One place decides, so the member-country model can replace it.
import type { AccountRecord, CollectionRecord, Store } from '../collections/store.js';
import { TaxiiError, notFound } from './errors.js';

export interface Caller {
  account: AccountRecord;
}

export interface Access {
  canRead: boolean;
  canWrite: boolean;
}

export function isAdmin(caller: Caller): boolean {
  return caller.account.roles.includes('admin');
}

export async function accessTo(store: Store, caller: Caller, collection: CollectionRecord): Promise<Access> {
  if (isAdmin(caller)) return { canRead: true, canWrite: true };
  const grant = await store.getGrant(caller.account.id, collection.id);
  return { canRead: grant?.canRead ?? false, canWrite: grant?.canWrite ?? false };
}

export type Need = 'read' | 'write' | 'delete';

/**
 * Enforces access for an endpoint. No access at all is a 404 (indistinguishable from absence,
 * ARCHITECTURE §7); a collection the caller can see but not use this way is a 403 (§5.3–§5.5, and
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
