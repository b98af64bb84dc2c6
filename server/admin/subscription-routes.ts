// Webhook subscriptions under /admin/v1/subscriptions (docs/webhooks.md), as JSON. Handlers are
// thin: parse and validate → one SubscriptionService call → JSON. Admins see every subscription,
// other accounts their own organisation's; for anyone else every path is the same 404.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Ajv } from 'ajv';
import type { Store } from '../../collections/store.js';
import { TLP_RANK } from '../../collections/store.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError, schemaProblems } from '../../taxii/errors.js';
import { parseMicros } from '../../taxii/time.js';
import { EVENT_TYPES } from '../../webhooks/events.js';
import type { SubscriptionInput, SubscriptionService } from '../../webhooks/service.js';
import type { Logger } from '../logger.js';
import { ADMIN_MEDIA_TYPE, adminError } from './routes.js';

const MAX_BODY = 64 * 1024;
const DELIVERIES_DEFAULT_LIMIT = 50;
const DELIVERIES_MAX_LIMIT = 1000;

const refs = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 300 }, maxItems: 1000, uniqueItems: true } as const;
const fields = {
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  description: { anyOf: [{ type: 'string', maxLength: 1000 }, { type: 'null' }] },
  collections: refs,
  event_types: { type: 'array', items: { enum: EVENT_TYPES }, uniqueItems: true, maxItems: 20 },
  object_types: { anyOf: [{ ...refs, minItems: 1 }, { type: 'null' }] },
  max_tlp: { anyOf: [{ enum: Object.keys(TLP_RANK) }, { type: 'null' }] },
} as const;
const SCHEMAS = {
  create: { type: 'object', additionalProperties: false, required: ['url'], properties: { ...fields, organisation: { type: 'string', minLength: 1, maxLength: 128 }, secret: { type: 'string', maxLength: 200 } } },
  update: { type: 'object', additionalProperties: false, minProperties: 1, properties: fields },
  disable: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } },
  rotate: { type: 'object', additionalProperties: false, properties: { secret: { type: 'string', maxLength: 200 } } },
  redeliver: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { delivery: { type: 'string', minLength: 1, maxLength: 100 }, from: { type: 'string', minLength: 1, maxLength: 64 } } },
  none: { type: 'object', additionalProperties: false, properties: {} },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, ajv.compile(s)])) as Record<keyof typeof SCHEMAS, ReturnType<typeof ajv.compile>>;

function body<T>(req: Request, which: keyof typeof SCHEMAS): T {
  // An empty body on the action endpoints is an empty object.
  const value: unknown = req.body === undefined || (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0 && which !== 'update') ? {} : req.body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TaxiiError('TAXII_ERR_INVALID', 'the request body must be a JSON object');
  const validate = validators[which];
  if (!validate(value)) throw new TaxiiError('TAXII_ERR_INVALID', schemaProblems(validate.errors));
  return value as T;
}

function query(req: Request, allowed: string[]): URLSearchParams {
  const i = req.originalUrl.indexOf('?');
  let q: URLSearchParams;
  try {
    q = new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i));
  } catch {
    throw new TaxiiError('TAXII_ERR_INVALID', 'the query string cannot be decoded');
  }
  for (const key of new Set(q.keys())) {
    if (!allowed.includes(key)) throw new TaxiiError('TAXII_ERR_INVALID', `unknown query parameter "${key}" (allowed: ${allowed.join(', ') || 'none'})`);
    if (q.getAll(key).length > 1) throw new TaxiiError('TAXII_ERR_INVALID', `query parameter "${key}" is repeated`);
  }
  return q;
}

function time(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const us = parseMicros(value);
  if (us === undefined) throw new TaxiiError('TAXII_ERR_INVALID', `${what} must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z`);
  return us;
}

export function subscriptionRoutes(parts: { store: Store; subscriptions: SubscriptionService; logger: Logger }): Router {
  const { subscriptions, logger } = parts;
  const router = express.Router({ strict: false });
  const caller = (res: Response) => res.locals.caller as Caller;
  const id = (req: Request) => String(req.params.id ?? '');
  const json = (res: Response, status: number, value: unknown) => {
    res.status(status).setHeader('Content-Type', ADMIN_MEDIA_TYPE);
    // Answers that carry a secret are never cached by anything in between.
    if (value && typeof value === 'object' && 'secret' in value) res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(value));
  };

  router.use((_req, res, next) => {
    if (!res.locals.caller) return next(new TaxiiError('TAXII_ERR_UNAUTHENTICATED', 'Valid credentials are required.'));
    next();
  });
  router.use((req, _res, next) => {
    if (req.method !== 'POST' && req.method !== 'PATCH') return next();
    const type = req.headers['content-type'];
    if (type && !/^application\/json\s*(;|$)/i.test(type)) return next(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'The Content-Type must be application/json.'));
    if (!type && req.method === 'PATCH') return next(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'The Content-Type must be application/json.'));
    next();
  });
  router.use(express.json({ limit: MAX_BODY, strict: false, type: () => true }));

  router.get('/', async (req, res) => {
    query(req, []);
    json(res, 200, { subscriptions: await subscriptions.list(caller(res)) });
  });
  router.post('/', async (req, res) => {
    json(res, 201, await subscriptions.create(caller(res), body<SubscriptionInput>(req, 'create')));
  });
  router.get('/:id', async (req, res) => {
    query(req, []);
    json(res, 200, await subscriptions.get(caller(res), id(req)));
  });
  router.patch('/:id', async (req, res) => {
    json(res, 200, await subscriptions.update(caller(res), id(req), body<SubscriptionInput>(req, 'update')));
  });
  router.delete('/:id', async (req, res) => {
    await subscriptions.remove(caller(res), id(req));
    res.status(204).end();
  });
  router.post('/:id/disable', async (req, res) => {
    json(res, 200, await subscriptions.disable(caller(res), id(req), body<{ reason?: string }>(req, 'disable').reason));
  });
  router.post('/:id/enable', async (req, res) => {
    body(req, 'none');
    json(res, 200, await subscriptions.enable(caller(res), id(req)));
  });
  router.post('/:id/rotate-secret', async (req, res) => {
    json(res, 200, await subscriptions.rotateSecret(caller(res), id(req), body<{ secret?: string }>(req, 'rotate').secret));
  });
  router.post('/:id/test', async (req, res) => {
    body(req, 'none');
    json(res, 200, await subscriptions.test(caller(res), id(req)));
  });
  router.get('/:id/deliveries', async (req, res) => {
    const q = query(req, ['before', 'limit']);
    const limitText = q.get('limit') ?? undefined;
    if (limitText !== undefined && !/^[1-9]\d{0,5}$/.test(limitText)) throw new TaxiiError('TAXII_ERR_INVALID', 'limit must be a positive integer');
    const before = time(q.get('before') ?? undefined, 'before');
    json(res, 200, await subscriptions.deliveries(caller(res), id(req), { ...(before !== undefined ? { before } : {}), limit: Math.min(limitText ? Number(limitText) : DELIVERIES_DEFAULT_LIMIT, DELIVERIES_MAX_LIMIT) }));
  });
  router.post('/:id/redeliver', async (req, res) => {
    const b = body<{ delivery?: string; from?: string }>(req, 'redeliver');
    const from = time(b.from, 'from');
    json(res, 200, await subscriptions.redeliver(caller(res), id(req), { ...(b.delivery ? { delivery: b.delivery } : {}), ...(from !== undefined ? { from } : {}) }));
  });

  router.use(async (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const error = adminError(err);
    if (error.status >= 500) logger.error({ err, requestId }, 'subscription request failed');
    for (const [header, value] of Object.entries(error.headers)) res.setHeader(header, value);
    json(res, error.status, error.toJSON(requestId));
  });
  return router;
}
