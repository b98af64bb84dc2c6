// The curation API under /admin/v1/curation/ (JSON): the review queue, entry detail, decisions
// (with dry_run), statistics, and the desk rules of collections. Handlers are thin: parse →
// one DeskService call → JSON. It exists for admins, curators and vendors (their own entries
// only); for anyone else every path is the same 404. Errors are the admin API's error resources.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Ajv } from 'ajv';
import type { QueueState, Store, TlpLevel, WithdrawalReason } from '../../collections/store.js';
import { TLP_NAMES } from '../../desk/rules.js';
import { type DecisionRequest, DeskService, QUEUE_STATES, STATS_MAX_DAYS, WITHDRAWAL_REASONS } from '../../desk/service.js';
import { type FilterWire, entryDetailView, entryView, parseRules, rulesView, toFilter } from '../../desk/wire.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError, notFound, schemaProblems } from '../../taxii/errors.js';
import type { Logger } from '../logger.js';
import { ADMIN_MEDIA_TYPE, adminError, query, requireJson } from './routes.js';

export const QUEUE_DEFAULT_LIMIT = 100;
export const QUEUE_MAX_LIMIT = 1000;
const MAX_BODY = 4 * 1024 * 1024;

const strings = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 300 }, maxItems: 1000 } as const;
const finding = {
  type: 'object',
  additionalProperties: false,
  required: ['message'],
  properties: { code: { type: 'string', maxLength: 100 }, severity: { enum: ['error', 'warning'] }, path: { type: 'string', maxLength: 1000 }, message: { type: 'string', minLength: 1, maxLength: 10_000 } },
} as const;
const FILTER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    intake: { type: 'string' }, organisation: { type: 'string' }, submission: { type: 'string' }, type: strings, finding: { type: 'string' }, tlp: { enum: TLP_NAMES },
    older_than: { type: 'string' }, newer_than: { type: 'string' }, state: { type: 'array', items: { enum: QUEUE_STATES } }, object: { type: 'string' },
  },
} as const;
const DECISION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { enum: ['approve', 'reject', 'request-changes', 'withdraw', 'annotate'] },
    entries: {
      type: 'array', maxItems: 100_000,
      items: { type: 'object', additionalProperties: false, required: ['id', 'rev'], properties: { id: { type: 'string', maxLength: 64 }, rev: { type: 'integer', minimum: 1 } } },
    },
    submission: { type: 'string', maxLength: 64 },
    filter: FILTER_SCHEMA,
    targets: { ...strings, minItems: 1 },
    reason: { type: 'string', maxLength: 10_000 },
    changes: { type: 'array', items: finding, maxItems: 1000 },
    reason_code: { enum: WITHDRAWAL_REASONS },
    object_id: { type: 'string', maxLength: 300 },
    include_refs: { anyOf: [{ type: 'boolean' }, { const: 'all' }] },
    dry_run: { type: 'boolean' },
    annotation: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['note', 'opinion'] }, content: { type: 'string', maxLength: 100_000 }, abstract: { type: 'string', maxLength: 10_000 },
        opinion: { type: 'string' }, explanation: { type: 'string', maxLength: 100_000 },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateDecision = ajv.compile(DECISION_SCHEMA);

function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

function bad(message: string): TaxiiError {
  return new TaxiiError('TAXII_ERR_INVALID', message);
}

const QUEUE_PARAMS = ['intake', 'organisation', 'submission', 'type', 'finding', 'tlp', 'older_than', 'newer_than', 'state', 'object', 'order', 'limit', 'next'];
const QUEUE_ORDERS = ['asc', 'desc'] as const;
type QueueOrder = (typeof QUEUE_ORDERS)[number];

/** The cursor of a queue page: the seq of its last entry and the order it continues in, opaque to clients. */
function encodeCursor(seq: number, order: QueueOrder): string {
  return Buffer.from(`${order === 'asc' ? 'q' : 'qd'}${seq}`).toString('base64url');
}

function decodeCursor(value: string, order: QueueOrder): number {
  const m = /^q(d?)(\d{1,15})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m) throw new TaxiiError('TAXII_ERR_BAD_NEXT', 'The "next" value is not one this server gave.');
  const given: QueueOrder = m[1] ? 'desc' : 'asc';
  // A cursor continues one direction; read the other way it would skip or repeat entries.
  if (given !== order) throw new TaxiiError('TAXII_ERR_BAD_NEXT', `This "next" continues a listing with order=${given}; repeat order=${given}, or start again without "next".`);
  return Number(m[2]);
}

export function curationRoutes(parts: { store: Store; desk: DeskService; logger: Logger }): Router {
  const { store, desk, logger } = parts;
  const router = express.Router({ strict: false });
  const send = (res: Response, status: number, text: string) => {
    res.status(status).setHeader('Content-Type', ADMIN_MEDIA_TYPE);
    res.end(text);
  };
  const json = (res: Response, status: number, value: unknown) => send(res, status, JSON.stringify(value));
  const organisations = async () => new Map((await store.listOrganisations()).map((o) => [o.id, o]));

  router.use((_req, res, next) => {
    const caller = res.locals.caller as Caller | undefined;
    if (!caller) return next(new TaxiiError('TAXII_ERR_UNAUTHENTICATED', 'Valid credentials are required.'));
    if (!DeskService.mayUse(caller)) return next(notFound());
    next();
  });
  router.use(requireJson(['POST', 'PUT']));
  router.use(express.json({ limit: MAX_BODY, strict: false, type: () => true }));

  router.get('/queue', async (req, res) => {
    const q = query(req);
    for (const key of new Set(q.keys())) if (!QUEUE_PARAMS.includes(key)) throw bad(`unknown query parameter "${key}" (allowed: ${QUEUE_PARAMS.join(', ')})`);
    for (const key of QUEUE_PARAMS) if (key !== 'type' && key !== 'state' && q.getAll(key).length > 1) throw bad(`query parameter "${key}" is repeated`);
    const list = (key: string) => q.getAll(key).flatMap((v) => v.split(',')).filter(Boolean);
    const states = list('state');
    for (const s of states) if (!QUEUE_STATES.includes(s as QueueState)) throw bad(`state must be one of ${QUEUE_STATES.join(', ')}`);
    const tlp = q.get('tlp') ?? undefined;
    if (tlp !== undefined && !(TLP_NAMES as string[]).includes(tlp)) throw bad(`tlp must be one of ${TLP_NAMES.join(', ')}`);
    const limitText = q.get('limit');
    const limit = limitText === null ? QUEUE_DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) throw bad('limit must be a positive integer');
    const order = q.get('order') ?? 'asc';
    if (!(QUEUE_ORDERS as readonly string[]).includes(order)) throw bad(`order must be one of ${QUEUE_ORDERS.join(', ')}`);
    const next = q.get('next');
    const filter = await toFilter(store, {
      ...(q.get('intake') !== null ? { intake: q.get('intake')! } : {}),
      ...(q.get('organisation') !== null ? { organisation: q.get('organisation')! } : {}),
      ...(q.get('submission') !== null ? { submission: q.get('submission')! } : {}),
      ...(list('type').length ? { type: list('type') } : {}),
      ...(q.get('finding') !== null ? { finding: q.get('finding')! } : {}),
      ...(tlp !== undefined ? { tlp: tlp as TlpLevel } : {}),
      ...(q.get('older_than') !== null ? { older_than: q.get('older_than')! } : {}),
      ...(q.get('newer_than') !== null ? { newer_than: q.get('newer_than')! } : {}),
      ...(states.length ? { state: states as QueueState[] } : {}),
      ...(q.get('object') !== null ? { object: q.get('object')! } : {}),
    });
    const caller = callerOf(res);
    const page = await desk.queue(caller, filter, Math.min(limit, QUEUE_MAX_LIMIT), next === null ? undefined : decodeCursor(next, order as QueueOrder), order as QueueOrder);
    const orgs = await organisations();
    const vendor = !DeskService.decides(caller);
    json(res, 200, { more: page.more, ...(page.next !== undefined ? { next: encodeCursor(page.next, order as QueueOrder) } : {}), entries: page.entries.map((e) => entryView(e, orgs, vendor)) });
  });

  router.get('/queue/:id', async (req, res) => {
    const caller = callerOf(res);
    const detail = await desk.entry(caller, String(req.params.id));
    const orgs = await organisations();
    const vendor = !DeskService.decides(caller);
    json(res, 200, entryDetailView(detail, orgs, vendor));
  });

  router.post('/decisions', async (req, res) => {
    const b: unknown = req.body;
    if (!validateDecision(b)) throw bad(schemaProblems(validateDecision.errors));
    const w = b as {
      action: DecisionRequest['action']; entries?: Array<{ id: string; rev: number }>; submission?: string; filter?: FilterWire; targets?: string[]; reason?: string;
      changes?: Array<{ code?: string; severity?: 'error' | 'warning'; path?: string; message: string }>; reason_code?: WithdrawalReason; object_id?: string;
      include_refs?: boolean | 'all'; dry_run?: boolean; annotation?: DecisionRequest['annotation'];
    };
    const request: DecisionRequest = {
      action: w.action,
      ...(w.entries ? { entries: w.entries } : {}),
      ...(w.submission !== undefined ? { submission: w.submission } : {}),
      ...(w.filter ? { filter: await toFilter(store, w.filter) } : {}),
      ...(w.targets ? { targets: w.targets } : {}),
      ...(w.reason !== undefined ? { reason: w.reason } : {}),
      ...(w.changes ? { changes: w.changes.map((c) => ({ code: c.code ?? 'DESK_CHANGE_REQUESTED', severity: c.severity ?? 'error', path: c.path ?? '', message: c.message })) } : {}),
      ...(w.reason_code ? { reasonCode: w.reason_code } : {}),
      ...(w.object_id !== undefined ? { objectId: w.object_id } : {}),
      ...(w.include_refs !== undefined ? { includeRefs: w.include_refs } : {}),
      ...(w.dry_run !== undefined ? { dryRun: w.dry_run } : {}),
      ...(w.annotation ? { annotation: w.annotation } : {}),
    };
    const result = await desk.decideAsJson(callerOf(res), request);
    send(res, result.dryRun ? 200 : 201, result.json);
  });

  router.get('/stats', async (req, res) => {
    const q = query(req);
    for (const key of new Set(q.keys())) if (key !== 'days') throw bad(`unknown query parameter "${key}" (allowed: days)`);
    if (q.getAll('days').length > 1) throw bad('query parameter "days" is repeated');
    const days = q.get('days');
    if (days !== null && !/^\d{1,3}$/.test(days)) throw bad(`days must be an integer from 1 to ${STATS_MAX_DAYS}`);
    json(res, 200, await desk.stats(callerOf(res), days === null ? undefined : Number(days)));
  });

  const collectionOf = async (req: Request) => {
    const c = await store.getCollection(String(req.params.root), String(req.params.collection));
    if (!c) throw notFound();
    return c;
  };
  router.get('/rules/:root/:collection', async (req, res) => {
    const c = await collectionOf(req);
    json(res, 200, await rulesView(store, await desk.rules(callerOf(res), c)));
  });
  router.put('/rules/:root/:collection', async (req, res) => {
    const c = await collectionOf(req);
    await desk.rules(callerOf(res), c); // 404 before the body is looked at, for those who may not
    const rules = await parseRules(store, desk, c, req.body);
    await desk.setRules(callerOf(res), c, rules);
    json(res, 200, await rulesView(store, rules));
  });

  router.use((_req, _res, next) => next(notFound('No curation API endpoint at this path, or you do not have access to it.')));
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const error = adminError(err);
    if (error.status >= 500) logger.error({ err, requestId }, 'curation request failed');
    for (const [header, value] of Object.entries(error.headers)) res.setHeader(header, value);
    json(res, error.status, error.toJSON(requestId));
  });

  return router;
}
