// Administrative operations on the store, shared by the CLI and (later) the admin API, so both
// validate the same way.
import { randomUUID } from 'node:crypto';
import type { AccountRecord, ApiRootRecord, CollectionRecord, Role, Store } from '../collections/store.js';
import { STIX_MEDIA_TYPE } from '../taxii/media-types.js';
import { hashSecret } from './auth/passwords.js';

export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

/** Paths the server itself uses; an API root may not shadow them. */
const RESERVED_ROOTS = new Set(['taxii2', 'admin', 'auth', 'healthz', 'readyz', 'metrics']);
const API_ROOT_PATH = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ROLES: readonly Role[] = ['admin', 'curator', 'publisher', 'subscriber'];
export const MIN_PASSWORD_LENGTH = 12;
export const DEFAULT_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AdminError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
}

export async function addAccount(store: Store, name: string, password: string, roles: Role[]): Promise<AccountRecord> {
  if (!ACCOUNT_NAME.test(name)) throw new AdminError(`"${name}" is not a valid account name (letters, digits, . _ @ -; at most 128)`);
  for (const role of roles) if (!ROLES.includes(role)) throw new AdminError(`unknown role "${role}" (one of ${ROLES.join(', ')})`);
  checkPassword(password);
  if (await store.getAccountByName(name)) throw new AdminError(`account "${name}" already exists`);
  return store.createAccount({ id: randomUUID(), name, passwordHash: await hashSecret(password), roles: [...new Set(roles)], disabled: false });
}

export async function requireAccount(store: Store, name: string): Promise<AccountRecord> {
  const account = await store.getAccountByName(name);
  if (!account) throw new AdminError(`no account "${name}"`);
  return account;
}

export async function setPassword(store: Store, name: string, password: string): Promise<void> {
  checkPassword(password);
  const account = await requireAccount(store, name);
  await store.updateAccount(account.id, { passwordHash: await hashSecret(password) });
}

export async function addApiRoot(store: Store, root: { path: string; title: string; description?: string; maxContentLength?: number }): Promise<ApiRootRecord> {
  if (!API_ROOT_PATH.test(root.path)) throw new AdminError(`"${root.path}" is not a valid API root path (lowercase letters, digits, _ and -, at most 63)`);
  if (RESERVED_ROOTS.has(root.path)) throw new AdminError(`"${root.path}" is reserved by the server`);
  if (!root.title.trim()) throw new AdminError('an API root needs a title');
  const maxContentLength = root.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
  if (!Number.isSafeInteger(maxContentLength) || maxContentLength < 1) throw new AdminError('max_content_length must be a positive integer (TAXII 2.1 §4.2.1)');
  if (await store.getApiRoot(root.path)) throw new AdminError(`API root "${root.path}" already exists`);
  return store.createApiRoot({ path: root.path, title: root.title, ...(root.description ? { description: root.description } : {}), maxContentLength });
}

export async function addCollection(store: Store, c: { apiRoot: string; title: string; description?: string; alias?: string; id?: string }): Promise<CollectionRecord> {
  if (!(await store.getApiRoot(c.apiRoot))) throw new AdminError(`no API root "${c.apiRoot}"`);
  const id = c.id ?? randomUUID();
  if (!UUID.test(id)) throw new AdminError(`"${id}" is not a lowercase UUID`);
  if (c.alias !== undefined) {
    if (!ALIAS.test(c.alias) || UUID.test(c.alias)) throw new AdminError(`"${c.alias}" is not a valid alias (letters, digits, . _ -; not a UUID)`);
  }
  const existing = await store.listCollections(c.apiRoot);
  if (existing.some((e) => e.title === c.title)) throw new AdminError(`API root "${c.apiRoot}" already has a collection titled "${c.title}"`);
  if (c.alias && existing.some((e) => e.alias === c.alias)) throw new AdminError(`API root "${c.apiRoot}" already has a collection with alias "${c.alias}"`);
  return store.createCollection({
    id,
    apiRoot: c.apiRoot,
    title: c.title,
    ...(c.description ? { description: c.description } : {}),
    ...(c.alias ? { alias: c.alias } : {}),
    mediaTypes: [STIX_MEDIA_TYPE],
  });
}

/** Finds a collection by id (any root) or by alias (within `apiRoot`, or unambiguous across roots). */
export async function findCollection(store: Store, idOrAlias: string, apiRoot?: string): Promise<CollectionRecord> {
  const roots = apiRoot ? [apiRoot] : (await store.listApiRoots()).map((r) => r.path);
  const found: CollectionRecord[] = [];
  for (const root of roots) {
    const c = await store.getCollection(root, idOrAlias);
    if (c) found.push(c);
  }
  if (found.length === 0) throw new AdminError(`no collection "${idOrAlias}"${apiRoot ? ` in API root "${apiRoot}"` : ''}`);
  if (found.length > 1) throw new AdminError(`alias "${idOrAlias}" exists in several API roots; name one with --root`);
  return found[0]!;
}

export async function grant(store: Store, accountName: string, collection: CollectionRecord, rights: { read: boolean; write: boolean }): Promise<void> {
  const account = await requireAccount(store, accountName);
  await store.setGrant({ accountId: account.id, collectionId: collection.id, canRead: rights.read, canWrite: rights.write });
}
