// The admin REST API (docs/architecture.md §8) under /admin/v1/: organisations, accounts, API keys,
// API roots, collections, grants and the audit log, as JSON (`application/json`). Handlers are thin:
// parse and validate the request → one `Admin` call, acting as the authenticated
// caller → JSON. The `Admin` class authorises (admins: everything; curators: the collections and
// grants of the API roots they curate) and audits every change.
//
// Who reaches it: admins and curators. Anyone else gets the same 404 for every path (the admin API
// does not exist for them), except their own API keys under /accounts/{own name}/api-keys, which
// every account may list, create and revoke. Errors are TAXII error resources (§3.6.1 shape)
// served as application/json.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Ajv, type ValidateFunction } from 'ajv';
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
import { StoreConflictError, StoreUnavailableError } from '../../collections/store.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError, notFound, schemaProblems } from '../../taxii/errors.js';
import { formatMicros, nowMicros, parseMicros } from '../../taxii/time.js';
import { searchParams } from '../http/paths.js';
import type { Logger } from '../logger.js';
import { Admin, AdminError, ORGANISATION_KINDS, PURPOSES, ROLES, TLP_LEVELS } from './admin.js';

export const ADMIN_MEDIA_TYPE = 'application/json; charset=utf-8';
/** Largest admin request body (layouts go through the CLI, not here). */
const MAX_BODY = 256 * 1024;
export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

// ---- request bodies: one JSON Schema each, compiled once -----------------------

const name = { type: 'string', minLength: 1, maxLength: 128 } as const;
const text = { type: 'string', maxLength: 10_000 } as const;
const roles = { type: 'array', items: { enum: ROLES }, uniqueItems: true } as const;
const roots = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 63 }, uniqueItems: true } as const;
const password = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const enrichment = {
  type: 'object',
  additionalProperties: false,
  properties: {
    default_marking_refs: { type: 'array', items: { type: 'string' } },
    default_created_by_ref: { type: 'string' },
  },
} as const;

const BODY_SCHEMAS = {
  'organisation.create': { type: 'object', additionalProperties: false, required: ['name', 'kind'], properties: { name, kind: { enum: ORGANISATION_KINDS }, country: { type: 'string' } } },
  'organisation.update': { type: 'object', additionalProperties: false, minProperties: 1, properties: { disabled: { type: 'boolean' } } },
  'account.create': {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name, password, password_hash: { type: 'string' }, roles, organisation: name, curator_roots: roots, disabled: { type: 'boolean' } },
  },
  'account.update': {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { password, password_hash: { type: 'string' }, roles, organisation: name, curator_roots: roots, disabled: { type: 'boolean' } },
  },
  'api-key.create': { type: 'object', additionalProperties: false, required: ['name'], properties: { name, expires: { type: 'string' } } },
  'api-root.create': {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'title'],
    properties: { path: { type: 'string', minLength: 1, maxLength: 63 }, title: text, description: text, max_content_length: { type: 'integer', minimum: 1 }, country: { type: 'string' }, taxii20: { type: 'boolean' } },
  },
  'api-root.update': { type: 'object', additionalProperties: false, minProperties: 1, properties: { title: text, description: text, max_content_length: { type: 'integer', minimum: 1 }, taxii20: { type: 'boolean' } } },
  'collection.create': {
    type: 'object',
    additionalProperties: false,
    required: ['api_root', 'title'],
    properties: { api_root: { type: 'string', minLength: 1 }, title: text, description: text, alias: name, id: { type: 'string' }, purpose: { enum: PURPOSES }, enrichment },
  },
  'collection.update': { type: 'object', additionalProperties: false, minProperties: 1, properties: { title: text, description: text, purpose: { enum: PURPOSES }, enrichment } },
  'grant.create': {
    type: 'object',
    additionalProperties: false,
    required: ['collection'],
    properties: { collection: name, api_root: { type: 'string', minLength: 1 }, account: name, organisation: name, role: { enum: ROLES }, read: { type: 'boolean' }, write: { type: 'boolean' }, max_tlp: { enum: TLP_LEVELS } },
  },
  'grant.update': { type: 'object', additionalProperties: false, minProperties: 1, properties: { read: { type: 'boolean' }, write: { type: 'boolean' }, max_tlp: { enum: TLP_LEVELS } } },
} as const;

type BodyName = keyof typeof BODY_SCHEMAS;

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<BodyName, ValidateFunction>(Object.entries(BODY_SCHEMAS).map(([k, s]) => [k as BodyName, ajv.compile(s)]));

/** The request body, checked against its schema; every problem named with its path. */
function body<T>(req: Request, which: BodyName): T {
  const value: unknown = req.body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminError('the request body must be a JSON object');
  const validate = validators.get(which)!;
  if (!validate(value)) {
    throw new AdminError(schemaProblems(validate.errors));
  }
  return value as T;
}

// ---- views: what the API shows (never a password hash or a key hash) ----------------------------

/** The account fields of a create or update body (wire names → Admin's). */
interface AccountBody {
  password?: string;
  password_hash?: string;
  roles?: Role[];
  organisation?: string;
  curator_roots?: string[];
  disabled?: boolean;
}

function accountFields(b: AccountBody) {
  return {
    ...(b.password !== undefined ? { password: b.password } : {}),
    ...(b.password_hash !== undefined ? { passwordHash: b.password_hash } : {}),
    ...(b.roles ? { roles: b.roles } : {}),
    ...(b.organisation !== undefined ? { organisation: b.organisation } : {}),
    ...(b.curator_roots ? { curatorRoots: b.curator_roots } : {}),
    ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
  };
}

export function organisationView(o: OrganisationRecord) {
  return { id: o.id, name: o.name, kind: o.kind, ...(o.country ? { country: o.country } : {}), disabled: o.disabled, created: formatMicros(o.createdAt) };
}

export function accountView(a: AccountRecord, organisation?: OrganisationRecord) {
  return {
    id: a.id,
    name: a.name,
    ...(organisation ? { organisation: organisation.name } : {}),
    roles: a.roles,
    ...(a.curatorRoots.length ? { curator_roots: a.curatorRoots } : {}),
    disabled: a.disabled,
    created: formatMicros(a.createdAt),
  };
}

export function apiKeyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    created: formatMicros(k.createdAt),
    ...(k.expiresAt !== undefined ? { expires: formatMicros(k.expiresAt) } : {}),
    ...(k.lastUsedAt !== undefined ? { last_used: formatMicros(k.lastUsedAt) } : {}),
    ...(k.revokedAt !== undefined ? { revoked: formatMicros(k.revokedAt) } : {}),
  };
}

export function apiRootView(r: ApiRootRecord) {
  return { path: r.path, ...(r.country ? { country: r.country } : {}), title: r.title, ...(r.description ? { description: r.description } : {}), max_content_length: r.maxContentLength, taxii20: r.taxii20 === true, created: formatMicros(r.createdAt) };
}

export function collectionView(c: CollectionRecord) {
  const e = c.enrichment;
  return {
    id: c.id,
    api_root: c.apiRoot,
    title: c.title,
    ...(c.description ? { description: c.description } : {}),
    ...(c.alias ? { alias: c.alias } : {}),
    purpose: c.purpose,
    media_types: c.mediaTypes,
    ...(e && (e.defaultMarkingRefs || e.defaultCreatedByRef)
      ? { enrichment: { ...(e.defaultMarkingRefs ? { default_marking_refs: e.defaultMarkingRefs } : {}), ...(e.defaultCreatedByRef ? { default_created_by_ref: e.defaultCreatedByRef } : {}) } }
      : {}),
    created: formatMicros(c.createdAt),
  };
}

/** A grant with its subject and collection named (names are what operators type). */
export async function grantView(store: Store, g: GrantRecord) {
  const [account, organisation, collection] = await Promise.all([
    g.accountId ? store.getAccount(g.accountId) : undefined,
    g.organisationId ? store.getOrganisation(g.organisationId) : undefined,
    (async () => {
      for (const r of await store.listApiRoots()) {
        const c = await store.getCollection(r.path, g.collectionId);
        if (c) return c;
      }
      return undefined;
    })(),
  ]);
  return {
    id: g.id,
    collection: g.collectionId,
    ...(collection ? { api_root: collection.apiRoot, ...(collection.alias ? { collection_alias: collection.alias } : {}) } : {}),
    ...(account ? { account: account.name } : {}),
    ...(organisation ? { organisation: organisation.name } : {}),
    ...(g.role ? { role: g.role } : {}),
    read: g.canRead,
    write: g.canWrite,
    max_tlp: g.maxTlp,
    created: formatMicros(g.createdAt),
  };
}

export function auditView(e: AuditEvent) {
  return {
    seq: e.seq,
    at: formatMicros(e.at),
    ...(e.actor !== undefined ? { actor: e.actor } : {}),
    action: e.action,
    outcome: e.outcome,
    ...(e.target !== undefined ? { target: e.target } : {}),
    ...(e.remote !== undefined ? { remote: e.remote } : {}),
    ...(e.detail && Object.keys(e.detail).length ? { detail: e.detail } : {}),
  };
}

// ---- errors ------------------------------------------------------------------------------------

/** Maps what a handler threw to the error resource the admin API answers with. */
export function adminError(err: unknown): TaxiiError {
  if (err instanceof TaxiiError) return err;
  if (err instanceof AdminError) {
    switch (err.kind) {
      case 'not-found':
        return notFound(err.message);
      case 'forbidden':
        return new TaxiiError('TAXII_ERR_FORBIDDEN', err.message);
      case 'conflict':
        return new TaxiiError('TAXII_ERR_CONFLICT', err.message);
      default:
        return new TaxiiError('TAXII_ERR_INVALID', err.message);
    }
  }
  if (err instanceof StoreConflictError) return new TaxiiError('TAXII_ERR_CONFLICT', err.message);
  if (err instanceof StoreUnavailableError) return new TaxiiError('TAXII_ERR_UNAVAILABLE', 'The data store is unavailable; try again shortly.').withHeader('Retry-After', '5');
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new TaxiiError('TAXII_ERR_BAD_JSON', 'The request body is not valid JSON.');
  if (type === 'entity.too.large') return new TaxiiError('TAXII_ERR_TOO_LARGE', `The request body exceeds ${MAX_BODY} bytes.`);
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'The encoding of the request body is not supported.');
  if ((err as { status?: number } | null)?.status === 400) return new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request could not be understood.');
  return new TaxiiError('TAXII_ERR_INTERNAL', 'The server failed to handle this request; it has been logged.');
}

// ---- the router --------------------------------------------------------------------------------

/** Requests of these methods must say their body is JSON (415 otherwise). */
export function requireJson(methods: string[]): express.RequestHandler {
  return (req, _res, next) => {
    if (!methods.includes(req.method)) return next();
    const type = req.headers['content-type'];
    if (!type || !/^application\/json\s*(;|$)/i.test(type)) return next(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'The Content-Type must be application/json.'));
    next();
  };
}

/** The query pairs of an admin request; undecodable ones are a 400. */
export function query(req: Request): URLSearchParams {
  const params = searchParams(req);
  if (!params) throw new AdminError('the query string cannot be decoded');
  return params;
}

/** One optional query parameter; repeats are refused. */
function one(q: URLSearchParams, key: string): string | undefined {
  const all = q.getAll(key);
  if (all.length > 1) throw new AdminError(`query parameter "${key}" is repeated`);
  return all[0];
}

function onlyParams(q: URLSearchParams, allowed: string[]): void {
  for (const key of new Set(q.keys())) if (!allowed.includes(key)) throw new AdminError(`unknown query parameter "${key}" (allowed: ${allowed.join(', ') || 'none'})`);
}

function timestamp(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const us = parseMicros(value);
  if (us === undefined) throw new AdminError(`${what} must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z`);
  return us;
}

function param(req: Request, key: string): string {
  const v = req.params[key];
  return typeof v === 'string' ? v : '';
}

function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

/** May this caller use the admin API at all (beyond their own API keys)? */
function administers(caller: Caller | undefined): boolean {
  const a = caller?.account;
  return Boolean(a && (a.roles.includes('admin') || (a.roles.includes('curator') && a.curatorRoots.length > 0)));
}

const OWN_KEYS = /^\/accounts\/([^/]+)\/api-keys(?:\/[^/]+)?\/?$/;

export function adminRoutes(parts: { store: Store; logger: Logger }): Router {
  const { store, logger } = parts;
  const router = express.Router({ strict: false });

  const adminFor = (req: Request, res: Response) => {
    const account = callerOf(res).account;
    return new Admin(store, { name: account.name, account, ...(req.ip ? { remote: req.ip } : {}) });
  };
  const json = (res: Response, status: number, value: unknown) => {
    res.status(status).setHeader('Content-Type', ADMIN_MEDIA_TYPE);
    res.end(JSON.stringify(value));
  };
  const noContent = (res: Response) => {
    res.status(204).end();
  };

  // The gate: the admin API does not exist for callers who administer nothing (their own keys aside).
  router.use((req, res, next) => {
    const caller = callerOf(res) as Caller | undefined;
    if (!caller) return next(new TaxiiError('TAXII_ERR_UNAUTHENTICATED', 'Valid credentials are required.'));
    if (administers(caller)) return next();
    if (/^\/me\/?$/.test(req.path)) return next();
    const own = OWN_KEYS.exec(req.path);
    if (own && safeDecode(own[1]!) === caller.account.name) return next();
    next(notFound());
  });
  router.use(requireJson(['POST', 'PATCH']));
  router.use(express.json({ limit: MAX_BODY, strict: false, type: () => true }));

  const orgName = async (a: AccountRecord) => (a.organisationId ? store.getOrganisation(a.organisationId) : undefined);

  // ---- the caller's own account (every account: clients show only what applies to it) ----
  router.get('/me', async (req, res) => {
    onlyParams(query(req), []);
    const a = callerOf(res).account;
    json(res, 200, accountView(a, await orgName(a)));
  });

  // ---- organisations (admins) ----
  router.get('/organisations', async (req, res) => {
    onlyParams(query(req), []);
    json(res, 200, { organisations: (await adminFor(req, res).listOrganisations()).map(organisationView) });
  });
  router.post('/organisations', async (req, res) => {
    const b = body<{ name: string; kind: OrganisationKind; country?: string }>(req, 'organisation.create');
    json(res, 201, organisationView(await adminFor(req, res).addOrganisation(b)));
  });
  router.get('/organisations/:name', async (req, res) => {
    const admin = adminFor(req, res);
    await admin.listOrganisations(); // admins only
    json(res, 200, organisationView(await admin.organisation(param(req, 'name'))));
  });
  router.patch('/organisations/:name', async (req, res) => {
    const b = body<{ disabled: boolean }>(req, 'organisation.update');
    json(res, 200, organisationView(await adminFor(req, res).setOrganisationDisabled(param(req, 'name'), b.disabled)));
  });
  router.delete('/organisations/:name', async (req, res) => {
    await adminFor(req, res).removeOrganisation(param(req, 'name'));
    noContent(res);
  });

  // ---- accounts (admins) ----
  router.get('/accounts', async (req, res) => {
    onlyParams(query(req), []);
    const accounts = await adminFor(req, res).listAccounts();
    json(res, 200, { accounts: await Promise.all(accounts.map(async (a) => accountView(a, await orgName(a)))) });
  });
  router.post('/accounts', async (req, res) => {
    const b = body<AccountBody & { name: string }>(req, 'account.create');
    const created = await adminFor(req, res).addAccount({ name: b.name, ...accountFields(b) });
    json(res, 201, accountView(created, await orgName(created)));
  });
  router.get('/accounts/:name', async (req, res) => {
    const admin = adminFor(req, res);
    await admin.listAccounts(); // admins only
    const a = await admin.account(param(req, 'name'));
    json(res, 200, accountView(a, await orgName(a)));
  });
  router.patch('/accounts/:name', async (req, res) => {
    const b = body<AccountBody>(req, 'account.update');
    const updated = await adminFor(req, res).updateAccount(param(req, 'name'), accountFields(b));
    json(res, 200, accountView(updated, await orgName(updated)));
  });
  router.delete('/accounts/:name', async (req, res) => {
    await adminFor(req, res).removeAccount(param(req, 'name'));
    noContent(res);
  });

  // ---- API keys (admins: any account's; everyone: their own) ----
  router.get('/accounts/:name/api-keys', async (req, res) => {
    onlyParams(query(req), []);
    json(res, 200, { api_keys: (await adminFor(req, res).listApiKeys(param(req, 'name'))).map(apiKeyView) });
  });
  router.post('/accounts/:name/api-keys', async (req, res) => {
    const b = body<{ name: string; expires?: string }>(req, 'api-key.create');
    const expiresAt = timestamp(b.expires, 'expires');
    const { key, secret } = await adminFor(req, res).addApiKey(param(req, 'name'), { name: b.name, ...(expiresAt !== undefined ? { expiresAt } : {}) });
    // The secret is shown here once; only its hash is kept.
    res.setHeader('Cache-Control', 'no-store');
    json(res, 201, { ...apiKeyView(key), key: secret });
  });
  router.delete('/accounts/:name/api-keys/:key', async (req, res) => {
    await adminFor(req, res).revokeApiKey(param(req, 'name'), param(req, 'key'));
    noContent(res);
  });

  // ---- API roots (admins; curators read theirs) ----
  router.get('/api-roots', async (req, res) => {
    onlyParams(query(req), []);
    json(res, 200, { api_roots: (await adminFor(req, res).listApiRoots()).map(apiRootView) });
  });
  router.post('/api-roots', async (req, res) => {
    const b = body<{ path: string; title: string; description?: string; max_content_length?: number; country?: string; taxii20?: boolean }>(req, 'api-root.create');
    const created = await adminFor(req, res).addApiRoot({
      path: b.path,
      title: b.title,
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.max_content_length !== undefined ? { maxContentLength: b.max_content_length } : {}),
      ...(b.country !== undefined ? { country: b.country } : {}),
      ...(b.taxii20 !== undefined ? { taxii20: b.taxii20 } : {}),
    });
    json(res, 201, apiRootView(created));
  });
  router.get('/api-roots/:path', async (req, res) => {
    json(res, 200, apiRootView(await adminFor(req, res).apiRoot(param(req, 'path'))));
  });
  router.patch('/api-roots/:path', async (req, res) => {
    const b = body<{ title?: string; description?: string; max_content_length?: number; taxii20?: boolean }>(req, 'api-root.update');
    const updated = await adminFor(req, res).updateApiRoot(param(req, 'path'), {
      ...(b.title !== undefined ? { title: b.title } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.max_content_length !== undefined ? { maxContentLength: b.max_content_length } : {}),
      ...(b.taxii20 !== undefined ? { taxii20: b.taxii20 } : {}),
    });
    json(res, 200, apiRootView(updated));
  });
  router.delete('/api-roots/:path', async (req, res) => {
    await adminFor(req, res).removeApiRoot(param(req, 'path'));
    noContent(res);
  });

  // ---- collections (admins; curators of the API root) ----
  router.get('/collections', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['api_root']);
    json(res, 200, { collections: (await adminFor(req, res).listCollections(one(q, 'api_root'))).map(collectionView) });
  });
  router.post('/collections', async (req, res) => {
    const b = body<{ api_root: string; title: string; description?: string; alias?: string; id?: string; purpose?: CollectionPurpose; enrichment?: { default_marking_refs?: string[]; default_created_by_ref?: string } }>(req, 'collection.create');
    const created = await adminFor(req, res).addCollection({
      apiRoot: b.api_root,
      title: b.title,
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.alias !== undefined ? { alias: b.alias } : {}),
      ...(b.id !== undefined ? { id: b.id } : {}),
      ...(b.purpose ? { purpose: b.purpose } : {}),
      ...(b.enrichment ? { enrichment: enrichmentOf(b.enrichment) } : {}),
    });
    json(res, 201, collectionView(created));
  });
  router.get('/collections/:collection', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['api_root']);
    json(res, 200, collectionView(await adminFor(req, res).collection(param(req, 'collection'), one(q, 'api_root'))));
  });
  router.patch('/collections/:collection', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['api_root']);
    const b = body<{ title?: string; description?: string; purpose?: CollectionPurpose; enrichment?: { default_marking_refs?: string[]; default_created_by_ref?: string } }>(req, 'collection.update');
    const updated = await adminFor(req, res).updateCollection(param(req, 'collection'), one(q, 'api_root'), {
      ...(b.title !== undefined ? { title: b.title } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.purpose ? { purpose: b.purpose } : {}),
      ...(b.enrichment ? { enrichment: enrichmentOf(b.enrichment) } : {}),
    });
    json(res, 200, collectionView(updated));
  });
  router.delete('/collections/:collection', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['api_root']);
    await adminFor(req, res).removeCollection(param(req, 'collection'), one(q, 'api_root'));
    noContent(res);
  });

  // ---- grants (admins; curators of the collection's API root) ----
  router.get('/grants', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['collection', 'api_root', 'account', 'organisation']);
    const filter = Object.fromEntries(['collection', 'api_root', 'account', 'organisation'].map((k) => [k === 'api_root' ? 'apiRoot' : k, one(q, k)]).filter(([, v]) => v !== undefined));
    const grants = await adminFor(req, res).listGrants(filter);
    json(res, 200, { grants: await Promise.all(grants.map((g) => grantView(store, g))) });
  });
  router.post('/grants', async (req, res) => {
    const b = body<{ collection: string; api_root?: string; account?: string; organisation?: string; role?: Role; read?: boolean; write?: boolean; max_tlp?: TlpLevel }>(req, 'grant.create');
    if (!b.read && !b.write) throw new AdminError('a grant gives read, write or both; to take rights away, DELETE the grant');
    const grant = await adminFor(req, res).grant({
      collection: b.collection,
      ...(b.api_root !== undefined ? { apiRoot: b.api_root } : {}),
      ...(b.account !== undefined ? { account: b.account } : {}),
      ...(b.organisation !== undefined ? { organisation: b.organisation } : {}),
      ...(b.role !== undefined ? { role: b.role } : {}),
      read: Boolean(b.read),
      write: Boolean(b.write),
      ...(b.max_tlp !== undefined ? { maxTlp: b.max_tlp } : {}),
    });
    json(res, 201, await grantView(store, grant!));
  });
  router.get('/grants/:id', async (req, res) => {
    const grant = (await adminFor(req, res).listGrants()).find((g) => g.id === param(req, 'id'));
    if (!grant) throw notFound();
    json(res, 200, await grantView(store, grant));
  });
  router.patch('/grants/:id', async (req, res) => {
    const b = body<{ read?: boolean; write?: boolean; max_tlp?: TlpLevel }>(req, 'grant.update');
    const admin = adminFor(req, res);
    const current = (await admin.listGrants()).find((g) => g.id === param(req, 'id'));
    if (!current) throw notFound();
    const read = b.read ?? current.canRead;
    const write = b.write ?? current.canWrite;
    if (!read && !write) throw new AdminError('a grant gives read, write or both; to take rights away, DELETE the grant');
    const [account, organisation] = await Promise.all([current.accountId ? store.getAccount(current.accountId) : undefined, current.organisationId ? store.getOrganisation(current.organisationId) : undefined]);
    const grant = await admin.grant({
      collection: current.collectionId,
      ...(account ? { account: account.name } : {}),
      ...(organisation ? { organisation: organisation.name } : {}),
      ...(current.role ? { role: current.role } : {}),
      read,
      write,
      maxTlp: b.max_tlp ?? current.maxTlp,
    });
    json(res, 200, await grantView(store, grant!));
  });
  router.delete('/grants/:id', async (req, res) => {
    await adminFor(req, res).removeGrant(param(req, 'id'));
    noContent(res);
  });

  // ---- audit (admins) ----
  router.get('/audit', async (req, res) => {
    const q = query(req);
    onlyParams(q, ['actor', 'action', 'outcome', 'target', 'remote', 'since', 'until', 'after', 'limit']);
    const outcome = one(q, 'outcome');
    if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure') throw new AdminError('outcome must be success or failure');
    const after = one(q, 'after');
    if (after !== undefined && !/^\d{1,15}$/.test(after)) throw new AdminError('after must be the seq of an audit event');
    const limitText = one(q, 'limit');
    if (limitText !== undefined && !/^[1-9]\d{0,5}$/.test(limitText)) throw new AdminError('limit must be a positive integer');
    const limit = Math.min(limitText ? Number(limitText) : AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT);
    const since = timestamp(one(q, 'since'), 'since');
    const until = timestamp(one(q, 'until'), 'until');
    const filter: AuditQuery = { limit: limit + 1 };
    for (const key of ['actor', 'action', 'target', 'remote'] as const) {
      const v = one(q, key);
      if (v !== undefined) filter[key] = v;
    }
    if (outcome) filter.outcome = outcome;
    if (since !== undefined) filter.since = since;
    if (until !== undefined) filter.until = until;
    if (after !== undefined) filter.afterSeq = Number(after);
    const events = await adminFor(req, res).auditLog(filter);
    const more = events.length > limit;
    const page = more ? events.slice(0, limit) : events;
    json(res, 200, { more, ...(more ? { next_after: page[page.length - 1]!.seq } : {}), events: page.map(auditView) });
  });

  router.use((_req, _res, next) => next(notFound('No admin API endpoint at this path, or you do not have access to it.')));

  // Errors of the admin API: the TAXII error resource shape, as application/json.
  router.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const error = adminError(err);
    if (error.status >= 500) logger.error({ err, requestId }, 'admin request failed');
    if (err instanceof AdminError && err.refusal) await auditRefusal(req, res, err, requestId);
    for (const [header, value] of Object.entries(error.headers)) res.setHeader(header, value);
    json(res, error.status, error.toJSON(requestId));
  });

  /** A refused privileged request leaves a trace (who tried what, and why it was refused). */
  async function auditRefusal(req: Request, res: Response, err: AdminError, requestId: string | undefined): Promise<void> {
    const caller = res.locals.caller as Caller | undefined;
    if (!caller) return;
    const path = req.originalUrl.split('?')[0]!;
    try {
      await store.appendAudit({
        at: nowMicros(),
        actor: caller.account.name,
        action: 'admin.refused',
        outcome: 'failure',
        target: path,
        ...(req.ip ? { remote: req.ip } : {}),
        detail: { method: req.method, reason: err.message, ...(requestId ? { requestId } : {}) },
      });
    } catch (failure) {
      logger.error({ err: failure, requestId }, 'could not audit a refused admin request');
    }
  }
  return router;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function enrichmentOf(e: { default_marking_refs?: string[]; default_created_by_ref?: string }): CollectionRecord['enrichment'] {
  return { ...(e.default_marking_refs ? { defaultMarkingRefs: e.default_marking_refs } : {}), ...(e.default_created_by_ref ? { defaultCreatedByRef: e.default_created_by_ref } : {}) };
}
