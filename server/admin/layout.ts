// `meridian apply FILE`: a declarative layout of the exchange — organisations, API roots,
// collections, accounts and grants — in JSON or YAML, so a desk can keep it under version control.
// The whole file is validated first (JSON Schema, then references and secrets), with every problem
// named by its path; then it is applied through `Admin`, so the same rules and the same audit apply
// as at the CLI and in the admin API. Applying is idempotent: what already matches is left alone,
// and a second run reports nothing created or updated. A layout adds and updates; it never removes
// (removal is an explicit CLI or API action). Passwords never appear in the file: an account names
// an environment variable holding its password (`password_env`) or carries a scrypt hash
// (`password_hash`, from `meridian hash-password`).
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { DeskService } from '../../desk/service.js';
import { RULES_SCHEMA, type RulesWire, parseRules } from '../../desk/wire.js';
import { TaxiiError } from '../../taxii/errors.js';
import type { SubscriptionService } from '../../webhooks/service.js';
import type { AccountRecord, CollectionPurpose, GrantRecord, OrganisationKind, Role, Store, TlpLevel } from '../../collections/store.js';
import { verifySecret } from '../auth/passwords.js';
import { Admin, AdminError, operatorCaller, DEFAULT_GRANT_TLP, collectionIdProblem, DEFAULT_MAX_CONTENT_LENGTH, ORGANISATION_KINDS, PURPOSES, ROLES, TLP_LEVELS } from './admin.js';

export interface LayoutOrganisation {
  name: string;
  kind: OrganisationKind;
  country?: string;
  disabled?: boolean;
}
export interface LayoutApiRoot {
  path: string;
  title: string;
  description?: string;
  country?: string;
  max_content_length?: number;
  /** Serve the read-only TAXII 2.0 view (absent: off). */
  taxii20?: boolean;
}
export interface LayoutCollection {
  api_root: string;
  title: string;
  alias?: string;
  id?: string;
  description?: string;
  purpose?: CollectionPurpose;
  enrichment?: { default_marking_refs?: string[]; default_created_by_ref?: string };
  /** The desk's rules: an intake's policy, a published collection's release rules (desk/wire.ts). */
  policy?: RulesWire['policy'];
  release?: RulesWire['release'];
}
export interface LayoutAccount {
  name: string;
  organisation?: string;
  roles?: Role[];
  curator_roots?: string[];
  password_env?: string;
  password_hash?: string;
  disabled?: boolean;
}
export interface LayoutGrant {
  collection: string;
  api_root: string;
  account?: string;
  organisation?: string;
  role?: Role;
  read?: boolean;
  write?: boolean;
  max_tlp?: TlpLevel;
}
/** A webhook subscription of an organisation; matched to a stored one by organisation and URL. */
export interface LayoutSubscription {
  organisation: string;
  url: string;
  collections?: string[];
  event_types?: string[];
  object_types?: string[];
  max_tlp?: TlpLevel;
  description?: string;
  /** The environment variable holding its whsec_ secret (used when the subscription is created). */
  secret_env: string;
}
export interface Layout {
  organisations?: LayoutOrganisation[];
  api_roots?: LayoutApiRoot[];
  collections?: LayoutCollection[];
  accounts?: LayoutAccount[];
  grants?: LayoutGrant[];
  subscriptions?: LayoutSubscription[];
}

const str = { type: 'string', minLength: 1 } as const;

export const LAYOUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    organisations: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['name', 'kind'], properties: { name: str, kind: { enum: ORGANISATION_KINDS }, country: str, disabled: { type: 'boolean' } } },
    },
    api_roots: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['path', 'title'], properties: { path: str, title: str, description: { type: 'string' }, country: str, max_content_length: { type: 'integer', minimum: 1 }, taxii20: { type: 'boolean' } } },
    },
    collections: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['api_root', 'title'],
        properties: {
          api_root: str,
          title: str,
          alias: str,
          id: str,
          description: { type: 'string' },
          purpose: { enum: PURPOSES },
          enrichment: {
            type: 'object',
            additionalProperties: false,
            properties: { default_marking_refs: { type: 'array', items: str }, default_created_by_ref: str },
          },
          policy: RULES_SCHEMA.properties.policy,
          release: RULES_SCHEMA.properties.release,
        },
      },
    },
    accounts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: str,
          organisation: str,
          roles: { type: 'array', items: { enum: ROLES }, uniqueItems: true },
          curator_roots: { type: 'array', items: str, uniqueItems: true },
          password_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          password_hash: str,
          disabled: { type: 'boolean' },
        },
      },
    },
    grants: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['collection', 'api_root'],
        properties: {
          collection: str,
          api_root: str,
          account: str,
          organisation: str,
          role: { enum: ROLES },
          read: { type: 'boolean' },
          write: { type: 'boolean' },
          max_tlp: { enum: TLP_LEVELS },
        },
      },
    },
    subscriptions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['organisation', 'url', 'secret_env'],
        properties: {
          organisation: str,
          url: str,
          collections: { type: 'array', items: str },
          event_types: { type: 'array', items: str },
          object_types: { type: 'array', items: str },
          max_tlp: { enum: TLP_LEVELS },
          description: { type: 'string' },
          secret_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateSchema = ajv.compile(LAYOUT_SCHEMA);

/** A layout that cannot be applied; `problems` name the path of each. */
export class LayoutError extends Error {
  constructor(readonly problems: string[]) {
    super(`the layout is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'LayoutError';
  }
}

/** `/accounts/2/password_env` → `accounts[2].password_env`. */
function pathOf(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

function schemaProblem(e: ErrorObject): string {
  const where = pathOf(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    if (key === 'password') return `${where}.password: plain passwords are not allowed in a layout; use password_env (an environment variable) or password_hash (meridian hash-password)`;
    return `${where}: unknown property "${key}"`;
  }
  if (e.keyword === 'enum') return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'required') return `${where}: missing "${String(e.params.missingProperty)}"`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** Parses a layout file's text (YAML, of which JSON is a subset). */
export function parseLayout(text: string, source = 'layout'): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) throw new LayoutError(doc.errors.map((e) => `${source}: ${e.message.split('\n')[0]}`));
  return doc.toJS() ?? {};
}

/**
 * Validates a parsed layout: its shape, duplicates, references between its parts, and the
 * secrets of its accounts (each password_env must be set). Returns the typed layout or throws a
 * LayoutError listing every problem.
 */
export function validateLayout(value: unknown, env: NodeJS.ProcessEnv): Layout {
  if (!validateSchema(value)) throw new LayoutError((validateSchema.errors ?? []).map(schemaProblem));
  const layout = value as Layout;
  const problems: string[] = [];
  const unique = <T>(list: T[] | undefined, section: string, key: (t: T) => string, what: string) => {
    const seen = new Map<string, number>();
    (list ?? []).forEach((item, i) => {
      const k = key(item);
      const before = seen.get(k);
      if (before !== undefined) problems.push(`${section}[${i}]: ${what} repeats ${section}[${before}]`);
      else seen.set(k, i);
    });
  };
  unique(layout.organisations, 'organisations', (o) => o.name, `organisation "name"`);
  unique(layout.api_roots, 'api_roots', (r) => r.path, 'path');
  unique(layout.collections, 'collections', (c) => `${c.api_root}\0${c.title}`, 'api_root and title');
  unique(layout.collections?.filter((c) => c.alias), 'collections (with alias)', (c) => `${c.api_root}\0${c.alias}`, 'api_root and alias');
  unique(layout.accounts, 'accounts', (a) => a.name, 'name');
  unique(layout.subscriptions, 'subscriptions', (x) => `${x.organisation}\0${x.url}`, 'organisation and url');
  (layout.subscriptions ?? []).forEach((x, i) => {
    if (!env[x.secret_env]) problems.push(`subscriptions[${i}].secret_env: the environment variable ${x.secret_env} is not set`);
  });
  unique(layout.grants, 'grants', (g) => `${g.api_root}\0${g.collection}\0${g.account ?? ''}\0${g.organisation ?? ''}\0${g.role ?? ''}`, 'collection and subject');

  (layout.organisations ?? []).forEach((o, i) => {
    if (o.kind === 'member-agency' && !o.country) problems.push(`organisations[${i}] (${o.name}): a member agency needs its country`);
    if (o.kind !== 'member-agency' && o.country) problems.push(`organisations[${i}] (${o.name}): only member agencies have a country`);
  });
  (layout.accounts ?? []).forEach((a, i) => {
    const where = `accounts[${i}] (${a.name})`;
    if ((a.password_env === undefined) === (a.password_hash === undefined)) problems.push(`${where}: give exactly one of password_env or password_hash`);
    if (a.password_env !== undefined && !env[a.password_env]) problems.push(`${where}.password_env: the environment variable ${a.password_env} is not set`);
    if (a.curator_roots?.length && !a.roles?.includes('curator')) problems.push(`${where}.curator_roots: curator roots need the curator role`);
  });
  (layout.grants ?? []).forEach((g, i) => {
    const where = `grants[${i}]`;
    if ((g.account === undefined) === (g.organisation === undefined)) problems.push(`${where}: name exactly one of account or organisation`);
    if (g.role !== undefined && g.organisation === undefined) problems.push(`${where}.role: a role is given together with an organisation`);
    if (!g.read && !g.write) problems.push(`${where}: a grant gives read, write or both`);
  });
  if (problems.length) throw new LayoutError(problems);
  return layout;
}

/**
 * Checks what the layout refers to — API roots, organisations, accounts, collections — against the
 * layout itself and the store, and the tenancy rules grants must follow, before anything is changed.
 */
export async function checkReferences(store: Store, layout: Layout): Promise<void> {
  const problems: string[] = [];
  const storeRoots = await store.listApiRoots();
  const roots = new Map<string, string | undefined>(storeRoots.map((r) => [r.path, r.country]));
  for (const r of layout.api_roots ?? []) if (!roots.has(r.path)) roots.set(r.path, r.path.length === 2 ? r.path.toLowerCase() : r.country?.toLowerCase());
  const orgs = new Map<string, { kind: OrganisationKind; country?: string }>((await store.listOrganisations()).map((o) => [o.name, o]));
  for (const o of layout.organisations ?? []) if (!orgs.has(o.name)) orgs.set(o.name, { kind: o.kind, ...(o.country ? { country: o.country.toLowerCase() } : {}) });
  const accounts = new Map<string, { roles: Role[]; organisation?: string }>();
  for (const a of await store.listAccounts()) accounts.set(a.name, { roles: a.roles, ...(a.organisationId ? { organisation: (await store.getOrganisation(a.organisationId))?.name } : {}) });
  for (const a of layout.accounts ?? []) accounts.set(a.name, { roles: a.roles ?? [], ...(a.organisation ? { organisation: a.organisation } : {}) });
  /** Collections by "root\0id" and "root\0alias" → purpose. */
  const collections = new Map<string, CollectionPurpose>();
  for (const r of storeRoots) for (const c of await store.listCollections(r.path)) for (const k of [c.id, c.alias]) if (k) collections.set(`${r.path}\0${k}`, c.purpose);
  for (const c of layout.collections ?? []) for (const k of [c.id, c.alias]) if (k) collections.set(`${c.api_root}\0${k}`, c.purpose ?? 'published');

  const storedIds = new Set<string>();
  for (const r of storeRoots) for (const c of await store.listCollections(r.path)) storedIds.add(c.id);
  (layout.collections ?? []).forEach((c, i) => {
    if (!roots.has(c.api_root)) problems.push(`collections[${i}].api_root: no API root "${c.api_root}" in the layout or the store`);
    // Only a collection still to be created is held to the UUIDv4 rule; one already stored keeps its id.
    const idProblem = c.id !== undefined && !storedIds.has(c.id) ? collectionIdProblem(c.id, `collections[${i}].id`) : undefined;
    if (idProblem) problems.push(idProblem);
  });
  (layout.accounts ?? []).forEach((a, i) => {
    if (a.organisation !== undefined && !orgs.has(a.organisation)) problems.push(`accounts[${i}].organisation: no organisation "${a.organisation}" in the layout or the store`);
    for (const r of a.curator_roots ?? []) if (!roots.has(r)) problems.push(`accounts[${i}].curator_roots: no API root "${r}" in the layout or the store`);
  });
  (layout.grants ?? []).forEach((g, i) => {
    const where = `grants[${i}]`;
    if (!roots.has(g.api_root)) return problems.push(`${where}.api_root: no API root "${g.api_root}" in the layout or the store`);
    const purpose = collections.get(`${g.api_root}\0${g.collection}`);
    if (purpose === undefined) problems.push(`${where}.collection: no collection with id or alias "${g.collection}" in API root "${g.api_root}"`);
    const account = g.account !== undefined ? accounts.get(g.account) : undefined;
    if (g.account !== undefined && !account) problems.push(`${where}.account: no account "${g.account}" in the layout or the store`);
    const orgName = g.organisation ?? account?.organisation;
    const org = orgName !== undefined ? orgs.get(orgName) : undefined;
    if (g.organisation !== undefined && !org) problems.push(`${where}.organisation: no organisation "${g.organisation}" in the layout or the store`);
    const country = roots.get(g.api_root);
    if (country && org?.kind === 'member-agency' && org.country !== country) problems.push(`${where}: ${orgName} is a member agency of ${org.country}; API root "${g.api_root}" belongs to ${country}`);
    const subscriberOnly = g.role === 'subscriber' || (account !== undefined && account.roles.length > 0 && account.roles.every((r) => r === 'subscriber'));
    if (purpose === 'intake' && subscriberOnly) problems.push(`${where}: subscribers never see intake collections`);
    return undefined;
  });
  if (problems.length) throw new LayoutError(problems);
}

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: number;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/**
 * Applies a validated layout through `Admin` (acting as `admin`'s actor): creates what is missing,
 * updates what differs, leaves the rest alone. Problems the store reveals (an alias that names a
 * collection in no API root, a grant the tenancy rules refuse) stop the run with the item's path.
 */
export async function applyLayout(store: Store, admin: Admin, layout: Layout, env: NodeJS.ProcessEnv, subscriptions?: SubscriptionService): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], updated: [], unchanged: 0 };
  const step = async (where: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof AdminError) throw new LayoutError([`${where}: ${err.message}`]);
      throw err;
    }
  };

  for (const [i, o] of (layout.organisations ?? []).entries()) {
    await step(`organisations[${i}] (${o.name})`, async () => {
      const existing = await store.getOrganisationByName(o.name);
      if (!existing) {
        await admin.addOrganisation({ name: o.name, kind: o.kind, ...(o.country ? { country: o.country } : {}) });
        if (o.disabled) await admin.setOrganisationDisabled(o.name, true);
        report.created.push(`organisation ${o.name}`);
        return;
      }
      if (existing.kind !== o.kind) throw new AdminError(`organisation "${o.name}" exists as a ${existing.kind}; its kind cannot change`);
      if ((existing.country ?? '') !== (o.country?.toLowerCase() ?? '')) throw new AdminError(`organisation "${o.name}" exists with country "${existing.country ?? 'none'}"; its country cannot change`);
      if (o.disabled !== undefined && o.disabled !== existing.disabled) {
        await admin.setOrganisationDisabled(o.name, o.disabled);
        report.updated.push(`organisation ${o.name} (${o.disabled ? 'disabled' : 'enabled'})`);
      } else report.unchanged++;
    });
  }

  for (const [i, r] of (layout.api_roots ?? []).entries()) {
    await step(`api_roots[${i}] (${r.path})`, async () => {
      const existing = await store.getApiRoot(r.path);
      if (!existing) {
        await admin.addApiRoot({ path: r.path, title: r.title, ...(r.description !== undefined ? { description: r.description } : {}), ...(r.max_content_length ? { maxContentLength: r.max_content_length } : {}), ...(r.country ? { country: r.country } : {}), ...(r.taxii20 ? { taxii20: true } : {}) });
        report.created.push(`API root /${r.path}/`);
        return;
      }
      if (r.country && r.country.toLowerCase() !== existing.country) throw new AdminError(`API root "${r.path}" exists with country "${existing.country ?? 'none'}"; its country cannot change`);
      const changes: { title?: string; description?: string; maxContentLength?: number; taxii20?: boolean } = {};
      // The layout is the whole truth: a root it lists without taxii20 has the 2.0 view off.
      if ((r.taxii20 ?? false) !== (existing.taxii20 ?? false)) changes.taxii20 = r.taxii20 ?? false;
      if (r.title !== existing.title) changes.title = r.title;
      if (r.description !== undefined && r.description !== (existing.description ?? '')) changes.description = r.description;
      const max = r.max_content_length ?? DEFAULT_MAX_CONTENT_LENGTH;
      if (max !== existing.maxContentLength) changes.maxContentLength = max;
      if (Object.keys(changes).length) {
        await admin.updateApiRoot(r.path, changes);
        report.updated.push(`API root /${r.path}/ (${Object.keys(changes).join(', ')})`);
      } else report.unchanged++;
    });
  }

  for (const [i, c] of (layout.collections ?? []).entries()) {
    await step(`collections[${i}] (${c.api_root}/${c.alias ?? c.title})`, async () => {
      const all = await store.listCollections(c.api_root);
      const existing = all.find((e) => (c.id !== undefined && e.id === c.id) || (c.alias !== undefined && e.alias === c.alias)) ?? (c.id === undefined && c.alias === undefined ? all.find((e) => e.title === c.title) : undefined);
      const enrichment = c.enrichment ? { ...(c.enrichment.default_marking_refs ? { defaultMarkingRefs: c.enrichment.default_marking_refs } : {}), ...(c.enrichment.default_created_by_ref ? { defaultCreatedByRef: c.enrichment.default_created_by_ref } : {}) } : undefined;
      if (!existing) {
        await admin.addCollection({ apiRoot: c.api_root, title: c.title, ...(c.alias ? { alias: c.alias } : {}), ...(c.id ? { id: c.id } : {}), ...(c.description !== undefined ? { description: c.description } : {}), purpose: c.purpose ?? 'published', ...(enrichment ? { enrichment } : {}) });
        report.created.push(`collection ${c.api_root}/${c.alias ?? c.title}`);
        return;
      }
      if (c.id !== undefined && existing.id !== c.id) throw new AdminError(`alias "${c.alias}" names collection ${existing.id}, not ${c.id}`);
      if (c.alias !== undefined && existing.alias !== c.alias) throw new AdminError(`collection ${existing.id} has alias "${existing.alias ?? 'none'}"; an alias cannot change`);
      const changes: { title?: string; description?: string; purpose?: CollectionPurpose; enrichment?: typeof enrichment } = {};
      if (c.title !== existing.title) changes.title = c.title;
      if (c.description !== undefined && c.description !== (existing.description ?? '')) changes.description = c.description;
      if ((c.purpose ?? 'published') !== existing.purpose) changes.purpose = c.purpose ?? 'published';
      if (enrichment && JSON.stringify(enrichment) !== JSON.stringify(existing.enrichment ?? {})) changes.enrichment = enrichment;
      if (Object.keys(changes).length) {
        await admin.updateCollection(existing.id, c.api_root, changes);
        report.updated.push(`collection ${c.api_root}/${c.alias ?? c.title} (${Object.keys(changes).join(', ')})`);
      } else report.unchanged++;
    });
  }

  // The desk's rules name other collections (targets) and organisations: set once all exist.
  const desk = new DeskService(store);
  for (const [i, c] of (layout.collections ?? []).entries()) {
    if (!c.policy && !c.release) continue;
    await step(`collections[${i}] (${c.api_root}/${c.alias ?? c.title}) rules`, async () => {
      const collection = (await store.listCollections(c.api_root)).find((e) => (c.id !== undefined ? e.id === c.id : c.alias !== undefined ? e.alias === c.alias : e.title === c.title))!;
      let rules;
      try {
        rules = await parseRules(store, desk, collection, { ...(c.policy ? { policy: c.policy } : {}), ...(c.release ? { release: c.release } : {}) });
      } catch (err) {
        if (err instanceof TaxiiError) throw new AdminError(err.description ?? err.title);
        throw err;
      }
      if (JSON.stringify(rules) === JSON.stringify(await store.getDeskRules(collection.id))) {
        report.unchanged++;
        return;
      }
      await desk.setRules(undefined, collection, rules);
      report.updated.push(`desk rules of ${c.api_root}/${c.alias ?? c.title}`);
    });
  }

  for (const [i, a] of (layout.accounts ?? []).entries()) {
    await step(`accounts[${i}] (${a.name})`, async () => {
      const password = a.password_env !== undefined ? env[a.password_env] : undefined;
      const secret = password !== undefined ? { password } : { passwordHash: a.password_hash! };
      const existing = await store.getAccountByName(a.name);
      if (!existing) {
        await admin.addAccount({ name: a.name, ...secret, roles: a.roles ?? [], curatorRoots: a.curator_roots ?? [], ...(a.organisation ? { organisation: a.organisation } : {}), disabled: a.disabled ?? false });
        report.created.push(`account ${a.name}`);
        return;
      }
      const changes: Parameters<Admin['updateAccount']>[1] = {};
      if (!sameSet(existing.roles, a.roles ?? [])) changes.roles = a.roles ?? [];
      if (!sameSet(existing.curatorRoots, a.curator_roots ?? [])) changes.curatorRoots = a.curator_roots ?? [];
      if (a.disabled !== undefined && a.disabled !== existing.disabled) changes.disabled = a.disabled;
      if (a.organisation !== undefined && (await organisationName(store, existing)) !== a.organisation) changes.organisation = a.organisation;
      if (password !== undefined ? !(await verifySecret(password, existing.passwordHash)) : a.password_hash !== existing.passwordHash) Object.assign(changes, secret);
      if (Object.keys(changes).length) {
        await admin.updateAccount(a.name, changes);
        report.updated.push(`account ${a.name} (${[...new Set(Object.keys(changes).map((k) => (k.startsWith('password') ? 'password' : k)))].join(', ')})`);
      } else report.unchanged++;
    });
  }

  for (const [i, g] of (layout.grants ?? []).entries()) {
    const subject = g.account !== undefined ? `account ${g.account}` : `organisation ${g.organisation}${g.role ? ` (role ${g.role})` : ''}`;
    await step(`grants[${i}] (${g.api_root}/${g.collection} → ${subject})`, async () => {
      const collection = await admin.collection(g.collection, g.api_root);
      const account = g.account !== undefined ? await admin.account(g.account) : undefined;
      const organisation = g.organisation !== undefined ? await admin.organisation(g.organisation) : undefined;
      const current = (await store.listGrants({ collectionId: collection.id })).find(
        (x: GrantRecord) => x.accountId === account?.id && x.organisationId === organisation?.id && x.role === g.role,
      );
      const want = { canRead: Boolean(g.read), canWrite: Boolean(g.write), maxTlp: g.max_tlp ?? DEFAULT_GRANT_TLP };
      if (current && current.canRead === want.canRead && current.canWrite === want.canWrite && current.maxTlp === want.maxTlp) {
        report.unchanged++;
        return;
      }
      await admin.grant({ collection: collection.id, ...(g.account !== undefined ? { account: g.account } : {}), ...(g.organisation !== undefined ? { organisation: g.organisation } : {}), ...(g.role ? { role: g.role } : {}), read: want.canRead, write: want.canWrite, maxTlp: want.maxTlp });
      (current ? report.updated : report.created).push(`grant ${g.api_root}/${g.collection} → ${subject}`);
    });
  }

  // Subscriptions last: which collections an organisation may follow depends on its grants.
  if (layout.subscriptions?.length && !subscriptions) throw new LayoutError(['subscriptions: this command cannot apply webhook subscriptions (use meridian apply)']);
  for (const [i, x] of (layout.subscriptions ?? []).entries()) {
    await step(`subscriptions[${i}] (${x.organisation} → ${x.url})`, async () => {
      const operator = operatorCaller(admin.actorName);
      const organisation = await admin.organisation(x.organisation);
      const input = {
        ...(x.collections ? { collections: x.collections } : {}), ...(x.event_types ? { event_types: x.event_types } : {}),
        ...(x.object_types ? { object_types: x.object_types } : {}), ...(x.max_tlp ? { max_tlp: x.max_tlp } : {}), ...(x.description !== undefined ? { description: x.description } : {}),
      };
      try {
        const existing = (await store.webhooks.listSubscriptions({ organisationId: organisation.id })).find((s) => s.url === x.url);
        if (!existing) {
          await subscriptions!.create(operator, { ...input, organisation: x.organisation, url: x.url, secret: env[x.secret_env]! });
          report.created.push(`subscription ${x.organisation} → ${x.url}`);
          return;
        }
        const ids = await Promise.all((x.collections ?? []).map(async (ref) => {
          const slash = ref.indexOf('/');
          return (slash > 0 ? await store.getCollection(ref.slice(0, slash), ref.slice(slash + 1)) : undefined)?.id ?? ref;
        }));
        const same = JSON.stringify([...ids].sort()) === JSON.stringify([...existing.collections].sort())
          && (x.event_types === undefined || JSON.stringify(x.event_types) === JSON.stringify(existing.eventTypes))
          && JSON.stringify(x.object_types ?? null) === JSON.stringify(existing.objectTypes ?? null)
          && (x.max_tlp ?? null) === (existing.maxTlp ?? null) && (x.description === undefined || x.description === (existing.description ?? ''));
        if (same) {
          report.unchanged++;
          return;
        }
        await subscriptions!.update(operator, existing.id, { ...input, collections: x.collections ?? [], object_types: x.object_types ?? null, max_tlp: x.max_tlp ?? null });
        report.updated.push(`subscription ${x.organisation} → ${x.url}`);
      } catch (err) {
        if (err instanceof TaxiiError) throw new AdminError(err.description ?? err.title);
        throw err;
      }
    });
  }
  return report;
}

async function organisationName(store: Store, a: AccountRecord): Promise<string | undefined> {
  return a.organisationId ? (await store.getOrganisation(a.organisationId))?.name : undefined;
}

/** Parses, validates and applies a layout's text in one go (the `meridian apply` command). */
export async function applyLayoutText(store: Store, admin: Admin, text: string, env: NodeJS.ProcessEnv, source?: string, subscriptions?: SubscriptionService): Promise<ApplyReport> {
  const layout = validateLayout(parseLayout(text, source), env);
  await checkReferences(store, layout);
  return applyLayout(store, admin, layout, env, subscriptions);
}
