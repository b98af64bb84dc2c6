// Administration of the exchange: organisations, accounts, API keys, API roots,
// collections and grants. One class validates, authorises and audits every change, so the CLI,
// the admin REST API and `meridian apply` behave the same way.
// - An operator at the CLI (no acting account) may do everything.
// - An acting account with the `admin` role may do everything.
// - A curator may manage the collections and grants of the API roots they curate, and read them.
// - Nobody else may administer anything.
import { randomUUID } from 'node:crypto';
import type {
  AccountRecord,
  ApiKeyRecord,
  ApiRootRecord,
  AuditEvent,
  AuditQuery,
  CollectionPurpose,
  CollectionRecord,
  GrantRecord,
  OrganisationKind,
  OrganisationRecord,
  Role,
  Store,
  TlpLevel,
} from '../../collections/store.js';
import { TLP_RANK } from '../../collections/store.js';
import { isCountryCode } from 'stix2-validator-ts/formats';
import type { Caller } from '../../taxii/access.js';
import { STIX_MEDIA_TYPE } from '../../taxii/media-types.js';
import { nowMicros } from '../../taxii/time.js';
import { newApiKey } from '../auth/api-keys.js';
import { hashSecret, isSecretHash } from '../auth/passwords.js';

/**
 * A refused or invalid administrative request; `kind` decides the HTTP status in the admin API.
 * `refusal` marks a request the actor may not make (its rights, the tenancy model): those are
 * audited, unlike mere mistakes.
 */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'not-found' | 'conflict' | 'forbidden' = 'invalid',
    readonly refusal: boolean = kind === 'forbidden',
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** Paths the server itself uses; an API root may not shadow them. */
const RESERVED_ROOTS = new Set(['taxii2', 'taxii', 'admin', 'auth', 'healthz', 'readyz', 'metrics']);
const API_ROOT_PATH = /^[a-z0-9][a-z0-9_-]{1,62}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Version 4 (random) UUIDs, the only ones Microsoft Sentinel and other TAXII clients accept as collection ids. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STIX_ID = /^[a-z0-9][a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ROLES: readonly Role[] = ['admin', 'curator', 'publisher', 'subscriber'];
export const ORGANISATION_KINDS: readonly OrganisationKind[] = ['member-agency', 'vendor', 'desk'];
export const TLP_LEVELS = Object.keys(TLP_RANK) as TlpLevel[];
export const PURPOSES: readonly CollectionPurpose[] = ['intake', 'published'];
export const MIN_PASSWORD_LENGTH = 12;
export const DEFAULT_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;
/** A grant shows everything but TLP:RED unless it names its subject a RED recipient. */
export const DEFAULT_GRANT_TLP: TlpLevel = 'amber+strict';

/**
 * The operator (an admin with no organisation) as a caller of the services that take one — the
 * curation and subscription services at the CLI and in layout files; `name` is what the audit log says.
 */
export function operatorCaller(name: string): Caller {
  return { account: { id: name, name, passwordHash: '', roles: ['admin'], curatorRoots: [], disabled: false, credentialVersion: 0, createdAt: nowMicros() } };
}

export interface Actor {
  /** Name written to the audit log ("cli:alice" for an operator at the CLI). */
  name: string;
  /** The acting account, when the change comes through the API; absent for the local CLI. */
  account?: AccountRecord;
  remote?: string;
}

export interface AccountInput {
  name: string;
  /** A plain password (hashed here), or an existing scrypt hash (from a layout file). */
  password?: string;
  passwordHash?: string;
  roles?: Role[];
  organisation?: string;
  curatorRoots?: string[];
  disabled?: boolean;
}

export interface GrantInput {
  /** Collection id or alias. */
  collection: string;
  apiRoot?: string;
  account?: string;
  organisation?: string;
  role?: Role;
  read?: boolean;
  write?: boolean;
  maxTlp?: TlpLevel;
}

/**
 * Why `id` cannot be a new collection's id, or undefined if it can; `label` names where it came
 * from (--id, collections[2].id, id). The CLI, layout files and the admin API all use this rule.
 */
export function collectionIdProblem(id: string, label: string, options: { allowNonV4?: boolean } = {}): string | undefined {
  if (!UUID.test(id)) return `${label} must be a lowercase UUID (got "${id}")`;
  if (!options.allowNonV4 && !UUID_V4.test(id)) return `${label} must be a UUIDv4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx): Microsoft Sentinel and other clients reject other versions (got "${id}")`;
  return undefined;
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AdminError(message);
}

function checkCountry(country: string): string {
  check(isCountryCode(country), `"${country}" is not an ISO 3166-1 alpha-2 country code`);
  return country.toLowerCase();
}

export class Admin {
  constructor(
    private readonly store: Store,
    private readonly actor: Actor,
  ) {}

  /** The name changes are audited under (an account, or cli:<user> for the operator). */
  get actorName(): string {
    return this.actor.name;
  }

  // ---- who may do what ----------------------------------------------------------------------

  private get isAdmin(): boolean {
    return !this.actor.account || this.actor.account.roles.includes('admin');
  }

  /** Only operators and admins. */
  private requireAdmin(): void {
    if (!this.isAdmin) throw new AdminError('only administrators may do this', 'forbidden');
  }

  /** Admins, or curators of this API root. */
  private requireCurator(apiRoot: string): void {
    if (this.isAdmin) return;
    const a = this.actor.account!;
    if (!(a.roles.includes('curator') && a.curatorRoots.includes(apiRoot))) throw new AdminError(`you do not curate API root "${apiRoot}"`, 'forbidden');
  }

  /** API roots the actor may manage (all for admins). */
  private managedRoots(): Set<string> | undefined {
    if (this.isAdmin) return undefined;
    const a = this.actor.account!;
    return new Set(a.roles.includes('curator') ? a.curatorRoots : []);
  }

  private async audit(action: string, target: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.store.appendAudit({ at: nowMicros(), actor: this.actor.name, action, outcome: 'success', target, ...(this.actor.remote ? { remote: this.actor.remote } : {}), detail });
  }

  // ---- organisations ------------------------------------------------------------------------

  async addOrganisation(input: { name: string; kind: OrganisationKind; country?: string }): Promise<OrganisationRecord> {
    this.requireAdmin();
    check(NAME.test(input.name), `"${input.name}" is not a valid organisation name (letters, digits, . _ @ -; at most 128)`);
    check(ORGANISATION_KINDS.includes(input.kind), `kind must be one of ${ORGANISATION_KINDS.join(', ')}`);
    if (input.kind === 'member-agency') check(input.country !== undefined, 'a member agency needs its --country');
    else check(input.country === undefined, 'only member agencies have a country');
    if (await this.store.getOrganisationByName(input.name)) throw new AdminError(`organisation "${input.name}" already exists`, 'conflict');
    const org = await this.store.createOrganisation({ id: randomUUID(), name: input.name, kind: input.kind, ...(input.country ? { country: checkCountry(input.country) } : {}), disabled: false });
    await this.audit('organisation.create', org.name, { kind: org.kind, country: org.country });
    return org;
  }

  async organisation(name: string): Promise<OrganisationRecord> {
    const org = await this.store.getOrganisationByName(name);
    if (!org) throw new AdminError(`no organisation "${name}"`, 'not-found');
    return org;
  }

  async listOrganisations(): Promise<OrganisationRecord[]> {
    this.requireAdmin();
    return this.store.listOrganisations();
  }

  async setOrganisationDisabled(name: string, disabled: boolean): Promise<OrganisationRecord> {
    this.requireAdmin();
    const org = await this.organisation(name);
    const updated = (await this.store.updateOrganisation(org.id, { disabled }))!;
    await this.audit(disabled ? 'organisation.disable' : 'organisation.enable', name);
    return updated;
  }

  async removeOrganisation(name: string): Promise<void> {
    this.requireAdmin();
    const org = await this.organisation(name);
    if ((await this.store.listAccounts()).some((a) => a.organisationId === org.id)) throw new AdminError(`organisation "${name}" still has accounts`, 'conflict');
    await this.store.deleteOrganisation(org.id);
    await this.audit('organisation.delete', name);
  }

  // ---- accounts -----------------------------------------------------------------------------

  private async passwordHashOf(input: { password?: string; passwordHash?: string }): Promise<string> {
    if (input.passwordHash !== undefined) {
      check(isSecretHash(input.passwordHash), 'passwordHash must be a Meridian scrypt hash (meridian hash-password)');
      return input.passwordHash;
    }
    check(input.password !== undefined, 'a password is required');
    check(input.password.length >= MIN_PASSWORD_LENGTH, `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    return hashSecret(input.password);
  }

  private async checkRoles(roles: Role[], curatorRoots: string[]): Promise<void> {
    for (const role of roles) check(ROLES.includes(role), `unknown role "${role}" (one of ${ROLES.join(', ')})`);
    check(curatorRoots.length === 0 || roles.includes('curator'), 'curator roots need the curator role');
    for (const root of curatorRoots) if (!(await this.store.getApiRoot(root))) throw new AdminError(`no API root "${root}"`, 'not-found');
  }

  async addAccount(input: AccountInput): Promise<AccountRecord> {
    this.requireAdmin();
    check(NAME.test(input.name), `"${input.name}" is not a valid account name (letters, digits, . _ @ -; at most 128)`);
    const roles = [...new Set(input.roles ?? [])];
    const curatorRoots = [...new Set(input.curatorRoots ?? [])];
    await this.checkRoles(roles, curatorRoots);
    const org = input.organisation !== undefined ? await this.organisation(input.organisation) : undefined;
    if (await this.store.getAccountByName(input.name)) throw new AdminError(`account "${input.name}" already exists`, 'conflict');
    const account = await this.store.createAccount({
      id: randomUUID(),
      name: input.name,
      ...(org ? { organisationId: org.id } : {}),
      passwordHash: await this.passwordHashOf(input),
      roles,
      curatorRoots,
      disabled: input.disabled ?? false,
    });
    await this.audit('account.create', account.name, { roles, organisation: org?.name, curatorRoots });
    return account;
  }

  async account(name: string): Promise<AccountRecord> {
    const account = await this.store.getAccountByName(name);
    if (!account) throw new AdminError(`no account "${name}"`, 'not-found');
    return account;
  }

  async listAccounts(): Promise<AccountRecord[]> {
    this.requireAdmin();
    return this.store.listAccounts();
  }

  async updateAccount(name: string, changes: { password?: string; passwordHash?: string; roles?: Role[]; curatorRoots?: string[]; disabled?: boolean; organisation?: string }): Promise<AccountRecord> {
    this.requireAdmin();
    const account = await this.account(name);
    const roles = changes.roles ? [...new Set(changes.roles)] : account.roles;
    const curatorRoots = changes.curatorRoots ? [...new Set(changes.curatorRoots)] : roles.includes('curator') ? account.curatorRoots : [];
    await this.checkRoles(roles, curatorRoots);
    const org = changes.organisation !== undefined ? await this.organisation(changes.organisation) : undefined;
    const updated = (await this.store.updateAccount(account.id, {
      roles,
      curatorRoots,
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
      ...(org ? { organisationId: org.id } : {}),
      ...(changes.password !== undefined || changes.passwordHash !== undefined ? { passwordHash: await this.passwordHashOf(changes) } : {}),
    }))!;
    const what = Object.keys(changes).map((k) => (k === 'password' || k === 'passwordHash' ? 'password' : k));
    await this.audit('account.update', name, { changed: [...new Set(what)] });
    return updated;
  }

  async removeAccount(name: string): Promise<void> {
    this.requireAdmin();
    const account = await this.account(name);
    await this.store.deleteAccount(account.id);
    await this.audit('account.delete', name);
  }

  // ---- API keys -----------------------------------------------------------------------------

  /** Creates an API key; the secret is returned once and stored only as a hash. */
  async addApiKey(accountName: string, input: { name: string; expiresAt?: number }): Promise<{ key: ApiKeyRecord; secret: string }> {
    const account = await this.account(accountName);
    // Admins manage every key; an account may make keys for itself.
    if (!this.isAdmin && this.actor.account?.id !== account.id) throw new AdminError('you may only manage your own API keys', 'forbidden');
    check(input.name.trim().length > 0 && input.name.length <= 128, 'an API key needs a name (at most 128 characters)');
    check(input.expiresAt === undefined || input.expiresAt > nowMicros(), 'the expiry must be in the future');
    const { prefix, secret, hash } = newApiKey();
    const key = await this.store.createApiKey({ id: randomUUID(), accountId: account.id, name: input.name, prefix, hash, createdAt: nowMicros(), ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) });
    await this.audit('api-key.create', accountName, { key: key.id, name: key.name, expiresAt: key.expiresAt });
    return { key, secret };
  }

  async listApiKeys(accountName: string): Promise<ApiKeyRecord[]> {
    const account = await this.account(accountName);
    if (!this.isAdmin && this.actor.account?.id !== account.id) throw new AdminError('you may only manage your own API keys', 'forbidden');
    return this.store.listApiKeys(account.id);
  }

  async revokeApiKey(accountName: string, keyId: string): Promise<void> {
    const keys = await this.listApiKeys(accountName);
    const key = keys.find((k) => k.id === keyId || k.prefix === keyId);
    if (!key) throw new AdminError(`no API key "${keyId}" for account "${accountName}"`, 'not-found');
    await this.store.revokeApiKey(key.id, nowMicros());
    await this.audit('api-key.revoke', accountName, { key: key.id });
  }

  // ---- API roots ----------------------------------------------------------------------------

  async addApiRoot(root: { path: string; title: string; description?: string; maxContentLength?: number; country?: string; taxii20?: boolean }): Promise<ApiRootRecord> {
    this.requireAdmin();
    check(API_ROOT_PATH.test(root.path), `"${root.path}" is not a valid API root path (2–63 lowercase letters, digits, _ and -)`);
    check(!RESERVED_ROOTS.has(root.path), `"${root.path}" is reserved by the server`);
    // A two-letter root is a member country's: /{cc}/ with an ISO 3166-1 alpha-2 code.
    let country = root.country !== undefined ? checkCountry(root.country) : undefined;
    if (root.path.length === 2) {
      const cc = checkCountry(root.path);
      check(country === undefined || country === cc, `API root "${root.path}" belongs to country ${cc}`);
      country = cc;
    }
    check(root.title.trim().length > 0, 'an API root needs a title');
    const maxContentLength = root.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
    check(Number.isSafeInteger(maxContentLength) && maxContentLength > 0, 'max_content_length must be a positive integer (TAXII 2.1 §4.2.1)');
    if (await this.store.getApiRoot(root.path)) throw new AdminError(`API root "${root.path}" already exists`, 'conflict');
    const created = await this.store.createApiRoot({ path: root.path, ...(country ? { country } : {}), title: root.title, ...(root.description ? { description: root.description } : {}), maxContentLength, ...(root.taxii20 ? { taxii20: true } : {}) });
    await this.audit('api-root.create', root.path, { country, maxContentLength, taxii20: root.taxii20 === true });
    return created;
  }

  async apiRoot(path: string): Promise<ApiRootRecord> {
    const root = await this.store.getApiRoot(path);
    const managed = this.managedRoots();
    if (!root || (managed && !managed.has(path))) throw new AdminError(`no API root "${path}"`, 'not-found');
    return root;
  }

  async listApiRoots(): Promise<ApiRootRecord[]> {
    const managed = this.managedRoots();
    if (managed && managed.size === 0) throw new AdminError('only administrators and curators may do this', 'forbidden');
    return (await this.store.listApiRoots()).filter((r) => !managed || managed.has(r.path));
  }

  async updateApiRoot(path: string, changes: { title?: string; description?: string; maxContentLength?: number; taxii20?: boolean }): Promise<ApiRootRecord> {
    this.requireAdmin();
    await this.apiRoot(path);
    if (changes.maxContentLength !== undefined) check(Number.isSafeInteger(changes.maxContentLength) && changes.maxContentLength > 0, 'max_content_length must be a positive integer');
    if (changes.title !== undefined) check(changes.title.trim().length > 0, 'an API root needs a title');
    const updated = (await this.store.updateApiRoot(path, changes))!;
    await this.audit('api-root.update', path, { changed: Object.keys(changes) });
    return updated;
  }

  async removeApiRoot(path: string): Promise<void> {
    this.requireAdmin();
    await this.apiRoot(path);
    if ((await this.store.listCollections(path)).length > 0) throw new AdminError(`API root "${path}" still has collections`, 'conflict');
    await this.store.deleteApiRoot(path);
    await this.audit('api-root.delete', path);
  }

  // ---- collections --------------------------------------------------------------------------

  async addCollection(c: { apiRoot: string; title: string; description?: string; alias?: string; id?: string; allowNonV4Id?: boolean; purpose?: CollectionPurpose; enrichment?: CollectionRecord['enrichment'] }): Promise<CollectionRecord> {
    this.requireCurator(c.apiRoot);
    await this.apiRoot(c.apiRoot);
    const id = c.id ?? randomUUID();
    const idProblem = collectionIdProblem(id, 'id', { allowNonV4: c.allowNonV4Id === true });
    check(idProblem === undefined, idProblem ?? '');
    if (c.alias !== undefined) check(ALIAS.test(c.alias) && !UUID.test(c.alias), `"${c.alias}" is not a valid alias (letters, digits, . _ -; not a UUID)`);
    check(c.title.trim().length > 0, 'a collection needs a title');
    const purpose = c.purpose ?? 'published';
    check(PURPOSES.includes(purpose), `purpose must be one of ${PURPOSES.join(', ')}`);
    this.checkEnrichment(c.enrichment);
    const existing = await this.store.listCollections(c.apiRoot);
    if (existing.some((e) => e.title === c.title)) throw new AdminError(`API root "${c.apiRoot}" already has a collection titled "${c.title}"`, 'conflict');
    if (c.alias && existing.some((e) => e.alias === c.alias)) throw new AdminError(`API root "${c.apiRoot}" already has a collection with alias "${c.alias}"`, 'conflict');
    const created = await this.store.createCollection({
      id,
      apiRoot: c.apiRoot,
      title: c.title,
      ...(c.description ? { description: c.description } : {}),
      ...(c.alias ? { alias: c.alias } : {}),
      purpose,
      mediaTypes: [STIX_MEDIA_TYPE],
      ...(c.enrichment ? { enrichment: c.enrichment } : {}),
    });
    await this.audit('collection.create', created.id, { apiRoot: c.apiRoot, title: c.title, alias: c.alias, purpose });
    return created;
  }

  private checkEnrichment(e: CollectionRecord['enrichment']): void {
    if (!e) return;
    for (const ref of e.defaultMarkingRefs ?? []) check(ref.startsWith('marking-definition--') && STIX_ID.test(ref), `"${ref}" is not a marking-definition id`);
    if (e.defaultCreatedByRef !== undefined) check(e.defaultCreatedByRef.startsWith('identity--') && STIX_ID.test(e.defaultCreatedByRef), `"${e.defaultCreatedByRef}" is not an identity id`);
  }

  /** Finds a collection by id (any root) or by alias (within `apiRoot`, or unambiguous across roots) among those the actor manages. */
  async collection(idOrAlias: string, apiRoot?: string): Promise<CollectionRecord> {
    const managed = this.managedRoots();
    const roots = (apiRoot ? [apiRoot] : (await this.store.listApiRoots()).map((r) => r.path)).filter((r) => !managed || managed.has(r));
    const found: CollectionRecord[] = [];
    for (const root of roots) {
      const c = await this.store.getCollection(root, idOrAlias);
      if (c) found.push(c);
    }
    if (found.length === 0) throw new AdminError(`no collection "${idOrAlias}"${apiRoot ? ` in API root "${apiRoot}"` : ''}`, 'not-found');
    if (found.length > 1) throw new AdminError(`alias "${idOrAlias}" exists in several API roots; name the API root`);
    return found[0]!;
  }

  async listCollections(apiRoot?: string): Promise<CollectionRecord[]> {
    const roots = apiRoot ? [(await this.apiRoot(apiRoot)).path] : (await this.listApiRoots()).map((r) => r.path);
    const lists = await Promise.all(roots.map((r) => this.store.listCollections(r)));
    return lists.flat();
  }

  async updateCollection(idOrAlias: string, apiRoot: string | undefined, changes: { title?: string; description?: string; purpose?: CollectionPurpose; enrichment?: CollectionRecord['enrichment'] }): Promise<CollectionRecord> {
    const c = await this.collection(idOrAlias, apiRoot);
    this.requireCurator(c.apiRoot);
    if (changes.purpose !== undefined) check(PURPOSES.includes(changes.purpose), `purpose must be one of ${PURPOSES.join(', ')}`);
    if (changes.title !== undefined) {
      check(changes.title.trim().length > 0, 'a collection needs a title');
      const clash = (await this.store.listCollections(c.apiRoot)).some((e) => e.id !== c.id && e.title === changes.title);
      if (clash) throw new AdminError(`API root "${c.apiRoot}" already has a collection titled "${changes.title}"`, 'conflict');
    }
    this.checkEnrichment(changes.enrichment);
    const updated = (await this.store.updateCollection(c.id, changes))!;
    await this.audit('collection.update', c.id, { changed: Object.keys(changes) });
    return updated;
  }

  async removeCollection(idOrAlias: string, apiRoot?: string): Promise<void> {
    const c = await this.collection(idOrAlias, apiRoot);
    this.requireCurator(c.apiRoot);
    await this.store.deleteCollection(c.id);
    await this.audit('collection.delete', c.id, { apiRoot: c.apiRoot, title: c.title });
  }

  // ---- grants -------------------------------------------------------------------------------

  /**
   * Creates or replaces the grant of one subject (an account, an organisation, or a role within an
   * organisation) on a collection; neither right revokes it. Refuses what the tenancy model forbids:
   * a member agency's grant on another country's API root, a subscriber's on an intake collection.
   */
  async grant(input: GrantInput): Promise<GrantRecord | undefined> {
    const c = await this.collection(input.collection, input.apiRoot);
    this.requireCurator(c.apiRoot);
    check((input.account === undefined) !== (input.organisation === undefined), 'a grant names exactly one account or one organisation');
    check(input.role === undefined || input.organisation !== undefined, 'a role is given together with an organisation');
    if (input.role !== undefined) check(ROLES.includes(input.role), `unknown role "${input.role}"`);
    const maxTlp = input.maxTlp ?? DEFAULT_GRANT_TLP;
    check(TLP_LEVELS.includes(maxTlp), `maxTlp must be one of ${TLP_LEVELS.join(', ')}`);
    const account = input.account !== undefined ? await this.account(input.account) : undefined;
    const org = input.organisation !== undefined ? await this.organisation(input.organisation) : account?.organisationId ? await this.store.getOrganisation(account.organisationId) : undefined;
    const root = (await this.store.getApiRoot(c.apiRoot))!;
    if (root.country && org?.kind === 'member-agency' && org.country !== root.country) {
      throw new AdminError(`${org.name} is a member agency of ${org.country}; API root "${root.path}" belongs to ${root.country}`, 'invalid', true);
    }
    const subscriberOnly = input.role === 'subscriber' || (account !== undefined && account.roles.length > 0 && account.roles.every((r) => r === 'subscriber'));
    if (c.purpose === 'intake' && subscriberOnly && (input.read || input.write)) throw new AdminError('subscribers never see intake collections', 'invalid', true);
    const grant = await this.store.putGrant({
      collectionId: c.id,
      ...(account ? { accountId: account.id } : {}),
      ...(input.organisation !== undefined && org ? { organisationId: org.id } : {}),
      ...(input.role ? { role: input.role } : {}),
      canRead: Boolean(input.read),
      canWrite: Boolean(input.write),
      maxTlp,
    });
    await this.audit(grant ? 'grant.set' : 'grant.revoke', c.id, { account: input.account, organisation: input.organisation, role: input.role, read: Boolean(input.read), write: Boolean(input.write), maxTlp });
    return grant;
  }

  async listGrants(filter: { collection?: string; apiRoot?: string; account?: string; organisation?: string } = {}): Promise<GrantRecord[]> {
    const collectionId = filter.collection !== undefined ? (await this.collection(filter.collection, filter.apiRoot)).id : undefined;
    // An API root alone narrows to its collections (an unknown or unmanaged root is a 404).
    const inRoot = filter.apiRoot !== undefined && collectionId === undefined ? new Set((await this.listCollections(filter.apiRoot)).map((c) => c.id)) : undefined;
    const accountId = filter.account !== undefined ? (await this.account(filter.account)).id : undefined;
    const organisationId = filter.organisation !== undefined ? (await this.organisation(filter.organisation)).id : undefined;
    const grants = await this.store.listGrants({ ...(collectionId ? { collectionId } : {}), ...(accountId ? { accountId } : {}), ...(organisationId ? { organisationId } : {}) });
    if (inRoot) return grants.filter((g) => inRoot.has(g.collectionId));
    const managed = this.managedRoots();
    if (!managed) return grants;
    const visible = new Set((await this.listCollections()).map((c) => c.id));
    return grants.filter((g) => visible.has(g.collectionId));
  }

  async removeGrant(id: string): Promise<void> {
    const grant = await this.store.getGrant(id);
    if (!grant) throw new AdminError(`no grant "${id}"`, 'not-found');
    const collection = await this.collection(grant.collectionId);
    this.requireCurator(collection.apiRoot);
    await this.store.deleteGrant(id);
    await this.audit('grant.delete', grant.collectionId, { grant: id });
  }

  // ---- audit --------------------------------------------------------------------------------

  async auditLog(query: AuditQuery): Promise<AuditEvent[]> {
    this.requireAdmin();
    return this.store.queryAudit(query);
  }
}

/** Hashes a password for a layout file (never put plain passwords there). */
export async function hashPasswordForLayout(password: string): Promise<string> {
  check(password.length >= MIN_PASSWORD_LENGTH, `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  return hashSecret(password);
}
