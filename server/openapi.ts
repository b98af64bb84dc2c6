// The OpenAPI 3.1 description of everything the app mounts, served at /openapi.json without
// authentication, and as an HTML page at /openapi.html. Written once, here; test/http/openapi.test.ts
// checks it against the routes the app really mounts (both ways), validates real responses against its
// schemas, and finds every operation on the page.
import type { Express } from 'express';
import { STATS_DEFAULT_DAYS, STATS_MAX_DAYS } from '../desk/service.js';
import { OPENAPI_PAGE_CSP, renderOpenApiPage } from './openapi-page.js';

export const OPENAPI_PATH = '/openapi.json';
export const OPENAPI_PAGE_PATH = '/openapi.html';
const TAXII = 'application/taxii+json;version=2.1';
const ADMIN = 'application/json';

type Json = Record<string, unknown>;
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };
const strList = { type: 'array', items: str };
const ts = { type: 'string', description: 'RFC 3339 timestamp' };

const schemas: Record<string, Json> = {
  error: {
    type: 'object',
    description: 'TAXII 2.1 §3.6.1 error resource; error_code from docs/errors.md',
    required: ['title', 'http_status'],
    properties: { title: str, description: str, error_id: str, error_code: str, http_status: str, external_details: str, details: { type: 'object' } },
  },
  discovery: { type: 'object', required: ['title'], properties: { title: str, description: str, contact: str, default: str, api_roots: strList } },
  'api-root': { type: 'object', required: ['title', 'versions', 'max_content_length'], properties: { title: str, description: str, versions: strList, max_content_length: { type: 'integer', minimum: 0 } } },
  'status-details': { type: 'object', required: ['id', 'version'], properties: { id: str, version: str, message: str } },
  status: {
    type: 'object',
    required: ['id', 'status', 'total_count', 'success_count', 'failure_count', 'pending_count'],
    properties: {
      id: str, status: { enum: ['complete', 'pending'] }, request_timestamp: ts,
      total_count: { type: 'integer' }, success_count: { type: 'integer' }, failure_count: { type: 'integer' }, pending_count: { type: 'integer' },
      successes: { type: 'array', items: ref('status-details') }, failures: { type: 'array', items: ref('status-details') }, pendings: { type: 'array', items: ref('status-details') },
    },
  },
  collection: {
    type: 'object',
    required: ['id', 'title', 'can_read', 'can_write'],
    properties: { id: str, title: str, description: str, alias: str, can_read: { type: 'boolean' }, can_write: { type: 'boolean' }, media_types: strList },
  },
  collections: { type: 'object', properties: { collections: { type: 'array', items: ref('collection') } } },
  'stix-object': { type: 'object', required: ['type', 'id'], properties: { type: str, id: str, spec_version: str, created: ts, modified: ts } },
  envelope: { type: 'object', properties: { more: { type: 'boolean' }, next: str, objects: { type: 'array', items: ref('stix-object') } } },
  'manifest-record': { type: 'object', required: ['id', 'date_added', 'version'], properties: { id: str, date_added: ts, version: str, media_type: str } },
  manifest: { type: 'object', properties: { more: { type: 'boolean' }, next: str, objects: { type: 'array', items: ref('manifest-record') } } },
  versions: { type: 'object', properties: { more: { type: 'boolean' }, next: str, versions: strList } },
  'change-entry': {
    type: 'object',
    required: ['id', 'date_added', 'type', 'object'],
    properties: {
      id: str, date_added: ts, type: { enum: ['object.published', 'object.updated', 'object.revoked', 'object.withdrawn'] },
      object: { type: 'object', required: ['type', 'id'], properties: { type: str, id: str, version: str } },
      actor: str, reason: str, last_version: str,
    },
  },
  changes: { type: 'object', required: ['more'], properties: { more: { type: 'boolean' }, next: str, changes: { type: 'array', items: ref('change-entry') } } },
  token: { type: 'object', required: ['access_token', 'token_type', 'expires_in'], properties: { access_token: str, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' } } },
  'admin-record': { type: 'object', description: 'An admin API resource, as docs/layout.md and the README describe it', additionalProperties: true },
  'admin-list': { type: 'object', description: 'records under a property named after their kind (organisations, accounts, api_keys, api_roots, collections, grants, events, entries …), with more/next where paged', additionalProperties: true },
};

const errorResponse = (description: string, media = TAXII) => ({ description, content: { [media]: { schema: ref('error') } } });
const common = (media: string) => ({
  '401': errorResponse('credentials missing or wrong (WWW-Authenticate)', media),
  '404': errorResponse('no such resource, or not visible to the caller', media),
  '429': errorResponse('too many requests (Retry-After)', media),
  '503': errorResponse('store unavailable (Retry-After)', media),
});
const pagingHeaders = {
  'X-TAXII-Date-Added-First': { schema: str, description: 'date_added of the first item (six fractional digits)' },
  'X-TAXII-Date-Added-Last': { schema: str, description: 'date_added of the last item; continue with added_after = this' },
};
const param = (name: string, description: string) => ({ name, in: 'path', required: true, schema: str, description });
const query = (name: string, description: string) => ({ name, in: 'query', required: false, schema: str, description });
const filters = [
  query('added_after', 'only items added after this timestamp'),
  { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, description: 'page size (server cap maxPageSize)' },
  query('next', 'the next token of the previous page'),
  query('match[id]', 'comma-separated object ids'),
  query('match[type]', 'comma-separated object types'),
  query('match[version]', 'last (default), first, all, or timestamps'),
  query('match[spec_version]', 'comma-separated spec versions'),
];
const taxiiOk = (schema: string, description: string, paged = false) => ({ '200': { description, ...(paged ? { headers: pagingHeaders } : {}), content: { [TAXII]: { schema: ref(schema) } } }, ...common(TAXII) });
const root = param('apiRoot', 'API root path, e.g. fr');
const coll = param('collectionId', 'collection id, alias or title');
const obj = param('objectId', 'STIX object id');

/** `list`: the property holding the records, e.g. "organisations" ({"organisations": […]}); true when it varies. */
function admin(summary: string, opts: { body?: boolean; list?: string | true; created?: boolean; noContent?: boolean; params?: string[] } = {}): Json {
  const listSchema = typeof opts.list === 'string' ? { type: 'object', required: [opts.list], properties: { [opts.list]: { type: 'array', items: ref('admin-record') } } } : ref('admin-list');
  return {
    summary,
    tags: ['admin'],
    ...(opts.params ? { parameters: opts.params.map((p) => param(p, p)) } : {}),
    ...(opts.body ? { requestBody: { required: true, content: { [ADMIN]: { schema: ref('admin-record') } } } } : {}),
    responses: {
      ...(opts.noContent ? { '204': { description: 'done' } } : { [opts.created ? '201' : '200']: { description: 'the resource', content: { [ADMIN]: { schema: opts.list ? listSchema : ref('admin-record') } } } }),
      '400': errorResponse('invalid input (TAXII_ERR_INVALID)', ADMIN),
      '403': errorResponse('not allowed here', ADMIN),
      '409': errorResponse('conflict', ADMIN),
      ...common(ADMIN),
    },
  };
}

/** CRUD of one admin resource kind: list and create at `base`, read/update/delete at `base/{key}`. */
function crud(base: string, key: string, what: string, listKey: string | true = true): Record<string, Json> {
  return {
    [base]: { get: admin(`list ${what}s`, { list: listKey }), post: admin(`create a ${what}`, { body: true, created: true }) },
    [`${base}/{${key}}`]: { get: admin(`read a ${what}`, { params: [key] }), patch: admin(`change a ${what}`, { body: true, params: [key] }), delete: admin(`delete a ${what}`, { noContent: true, params: [key] }) },
  };
}

const probe = (summary: string) => ({ get: { summary, tags: ['operations'], security: [], responses: { '200': { description: 'ok', content: { [ADMIN]: { schema: { type: 'object' } } } }, '503': { description: 'not ready' } } } });

const paths: Record<string, Json> = {
  '/taxii2/': { get: { summary: 'TAXII 2.1 §4.1 server discovery', tags: ['taxii'], responses: taxiiOk('discovery', 'the discovery resource') } },
  '/{apiRoot}/': { get: { summary: '§4.2 API root information', tags: ['taxii'], parameters: [root], responses: taxiiOk('api-root', 'the API root') } },
  '/{apiRoot}/status/{statusId}/': { get: { summary: '§4.3 the status of a POST', tags: ['taxii'], parameters: [root, param('statusId', 'status id')], responses: taxiiOk('status', 'the status resource') } },
  '/{apiRoot}/collections/': { get: { summary: '§5.1 collections', tags: ['taxii'], parameters: [root], responses: taxiiOk('collections', 'the collections the caller sees') } },
  '/{apiRoot}/collections/{collectionId}/': { get: { summary: '§5.2 a collection', tags: ['taxii'], parameters: [root, coll], responses: taxiiOk('collection', 'the collection') } },
  '/{apiRoot}/collections/{collectionId}/manifest/': { get: { summary: '§5.3 object manifests', tags: ['taxii'], parameters: [root, coll, ...filters], responses: taxiiOk('manifest', 'one page of manifest records', true) } },
  '/{apiRoot}/collections/{collectionId}/objects/': {
    get: { summary: '§5.4 objects', tags: ['taxii'], parameters: [root, coll, ...filters], responses: taxiiOk('envelope', 'one page of objects', true) },
    post: {
      summary: '§5.5 add objects (an envelope, or a STIX bundle)',
      tags: ['taxii'],
      parameters: [root, coll],
      requestBody: { required: true, content: { [TAXII]: { schema: ref('envelope') } } },
      responses: {
        '202': { description: 'accepted: the status resource', content: { [TAXII]: { schema: ref('status') } } },
        '400': errorResponse('not JSON or not UTF-8'), '403': errorResponse('no write right'), '413': errorResponse('larger than max_content_length'),
        '415': errorResponse('not application/taxii+json'), '422': errorResponse('JSON but not an envelope'), ...common(TAXII),
      },
    },
  },
  '/{apiRoot}/collections/{collectionId}/objects/{objectId}/': {
    get: { summary: '§5.6 an object', tags: ['taxii'], parameters: [root, coll, obj, ...filters.filter((f) => f.name !== 'match[id]' && f.name !== 'match[type]')], responses: taxiiOk('envelope', 'the object\'s selected versions', true) },
    delete: { summary: '§5.7 delete an object', tags: ['taxii'], parameters: [root, coll, obj, query('match[version]', 'versions to delete'), query('match[spec_version]', 'spec versions to delete')], responses: { '200': { description: 'deleted' }, '403': errorResponse('read and write rights needed'), ...common(TAXII) } },
  },
  '/{apiRoot}/collections/{collectionId}/objects/{objectId}/versions/': { get: { summary: '§5.8 versions of an object', tags: ['taxii'], parameters: [root, coll, obj, ...filters.filter((f) => ['added_after', 'limit', 'next', 'match[spec_version]'].includes(f.name))], responses: taxiiOk('versions', 'one page of versions', true) } },
  '/{apiRoot}/collections/{collectionId}/changes/': {
    get: {
      summary: 'the change feed (extension, docs/changes.md); with Accept: text/event-stream, the live stream',
      tags: ['taxii', 'changes'],
      parameters: [root, coll, ...filters.filter((f) => ['added_after', 'limit', 'next', 'match[type]'].includes(f.name)), query('types', 'comma-separated change types'), query('last_event_id', 'live stream: resume after this change (or the Last-Event-ID header)')],
      responses: {
        '200': { description: 'one page of change entries, or the live stream', headers: pagingHeaders, content: { [TAXII]: { schema: ref('changes') }, 'text/event-stream': { schema: { type: 'string', description: 'id/event/data per change (data: a change entry as JSON)' } } } },
        '410': errorResponse('cursor older than the change log keeps (TAXII_ERR_RESYNC)'),
        ...common(TAXII),
      },
    },
  },
  '/auth/token': {
    post: {
      summary: 'exchange credentials (Basic, or {"username","password"} / {"api_key"} as JSON or a form) for a Bearer token',
      tags: ['auth'],
      security: [{ basic: [] }, {}],
      requestBody: { required: false, content: { [ADMIN]: { schema: { type: 'object', properties: { username: str, password: str, api_key: str, grant_type: str } } }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } },
      responses: { '200': { description: 'the token (RFC 6749 §5.1)', content: { [ADMIN]: { schema: ref('token') } } }, '400': errorResponse('malformed request'), ...common(TAXII) },
    },
  },
  '/healthz': probe('liveness (no authentication)'),
  '/readyz': probe('readiness: the store answers (no authentication)'),
  '/metrics': { get: { summary: 'Prometheus metrics (open on loopback, a scrape token otherwise)', tags: ['operations'], security: [], responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: str } } } } } },
  '/console/': { get: { summary: 'the web console (static assets; data through the APIs with a token)', tags: ['console'], security: [], responses: { '200': { description: 'the console page', content: { 'text/html': { schema: str } } } } } },
  [OPENAPI_PATH]: { get: { summary: 'this description (no authentication)', tags: ['operations'], security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { [ADMIN]: { schema: { type: 'object' } } } } } } },
  [OPENAPI_PAGE_PATH]: { get: { summary: 'this description as an HTML page, without scripts (no authentication)', tags: ['operations'], security: [], responses: { '200': { description: 'the API reference', content: { 'text/html': { schema: str } } } } } },
  '/admin/v1/me': { get: admin('the caller: account, organisation, roles') },
  ...crud('/admin/v1/organisations', 'name', 'organisation', 'organisations'),
  ...crud('/admin/v1/accounts', 'name', 'account', 'accounts'),
  '/admin/v1/accounts/{name}/api-keys': { get: admin('list API keys of an account (never the secrets)', { list: 'api_keys', params: ['name'] }), post: admin('create an API key (the secret is in this answer only)', { body: true, created: true, params: ['name'] }) },
  '/admin/v1/accounts/{name}/api-keys/{key}': { delete: admin('revoke an API key', { noContent: true, params: ['name', 'key'] }) },
  ...crud('/admin/v1/api-roots', 'path', 'API root', 'api_roots'),
  ...crud('/admin/v1/collections', 'collection', 'collection', 'collections'),
  ...crud('/admin/v1/grants', 'id', 'grant', 'grants'),
  '/admin/v1/audit': { get: admin('the audit log', { list: 'events' }) },
  '/admin/v1/curation/queue': {
    get: {
      ...admin('the review queue, oldest first (or newest first), keyset-paged', { list: 'entries' }),
      parameters: [
        { name: 'order', in: 'query', required: false, schema: { enum: ['asc', 'desc'], default: 'asc' }, description: 'asc: oldest first; desc: newest first, across pages' },
        query('next', 'the next of the previous page; valid only with the order it was given for (else 400)'),
      ],
      tags: ['curation'],
    },
  },
  '/admin/v1/curation/queue/{id}': { get: { ...admin('a queue entry with its object, findings, publications', { params: ['id'] }), tags: ['curation'] } },
  '/admin/v1/curation/decisions': { post: { ...admin('approve, reject, request-changes, withdraw or annotate (dry_run for a preview)', { body: true, created: true }), tags: ['curation'] } },
  '/admin/v1/curation/stats': {
    get: {
      ...admin('queue depth and age, decisions, time to publish, submissions per vendor per UTC day (a vendor: only its own submissions)'),
      parameters: [{ name: 'days', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: STATS_MAX_DAYS, default: STATS_DEFAULT_DAYS }, description: 'submissions per day over this many UTC days, ending today' }],
      tags: ['curation'],
    },
  },
  '/admin/v1/curation/rules/{root}/{collection}': { get: { ...admin('an intake\'s policy or a published collection\'s release rules', { params: ['root', 'collection'] }), tags: ['curation'] }, put: { ...admin('set them', { body: true, params: ['root', 'collection'] }), tags: ['curation'] } },
  ...Object.fromEntries(Object.entries(crud('/admin/v1/subscriptions', 'id', 'webhook subscription')).map(([p, ops]) => [p, Object.fromEntries(Object.entries(ops).map(([m, op]) => [m, { ...(op as Json), tags: ['webhooks'] }]))])),
  ...Object.fromEntries(['disable', 'enable', 'rotate-secret', 'test', 'redeliver'].map((verb) => [`/admin/v1/subscriptions/{id}/${verb}`, { post: { ...admin(`${verb} a webhook subscription`, { body: true, params: ['id'] }), tags: ['webhooks'] } }])),
  '/admin/v1/subscriptions/{id}/deliveries': { get: { ...admin('the delivery log of a subscription', { list: true, params: ['id'] }), tags: ['webhooks'] } },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Meridian TAXII 2.1 server',
    version: '1',
    description: 'TAXII 2.1 (OASIS) with Meridian\'s extensions: the change feed and live stream, POST /auth/token, the admin API, the curation (desk) API and webhook subscriptions. Paths work with or without the trailing slash.',
  },
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  security: [{ basic: [] }, { bearer: [] }, { token: [] }],
  components: {
    securitySchemes: {
      basic: { type: 'http', scheme: 'basic', description: 'a password, or an API key as the password (docs/clients.md)' },
      bearer: { type: 'http', scheme: 'bearer', description: 'a JWT from POST /auth/token, or an API key' },
      token: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <API key>' },
    },
    schemas,
  },
  paths,
} as const;

/** GET /openapi.json and /openapi.html, before authentication: the description is public. */
export function mountOpenApi(app: Express): void {
  const text = JSON.stringify(OPENAPI_DOCUMENT);
  const page = renderOpenApiPage(OPENAPI_DOCUMENT);
  app.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.end(text);
  });
  app.get(OPENAPI_PAGE_PATH, (_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    // Replaces the API's CSP (default-src 'none'): the page's one style sheet may apply.
    res.setHeader('Content-Security-Policy', OPENAPI_PAGE_CSP);
    res.end(page);
  });
}
