// The app factory: builds the express app from its parts and never listens.
// Handlers are thin: parse → one service call → send (habit 5); errors go to one middleware.
import { randomUUID } from 'node:crypto';
import { constants as zlibConstants } from 'node:zlib';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MongoStore } from '../collections/mongo/mongo-store.js';
import type { Store } from '../collections/store.js';
import { StoreUnavailableError } from '../collections/store.js';
import type { Caller } from '../taxii/access.js';
import { TaxiiError } from '../taxii/errors.js';
import { TAXII20_MEDIA_TYPE, TAXII_MEDIA_TYPE, acceptsTaxii, isTaxiiContentType } from '../taxii/media-types.js';
import type { TaxiiResponse, TaxiiService } from '../taxii/service.js';
import type { ChangeFeed } from '../changes/feed.js';
import type { ChangeStreams } from '../changes/stream.js';
import type { DeskService } from '../desk/service.js';
import { curationRoutes } from './admin/curation-routes.js';
import { subscriptionRoutes } from './admin/subscription-routes.js';
import type { SubscriptionService } from '../webhooks/service.js';
import { CONSOLE_PATH, consoleAssets } from './console.js';
import { ADMIN_MEDIA_TYPE, adminRoutes } from './admin/routes.js';
import { Authenticator } from './auth/authenticate.js';
import { TOKEN_PATH, mountTokenEndpoint } from './auth/token-endpoint.js';
import { mountOpenApi } from './openapi.js';
import { readBody } from './http/body.js';
import { IngestSlots, RequestBudgets, cors, securityHeaders } from './http/limits.js';
import { canonicalPaths, searchParams, taxiiQuery } from './http/paths.js';
import type { Config } from './config.js';
import { type Logger, withRequestId } from './logger.js';
import { METRICS_PATH, Metrics, routeTemplate } from './metrics.js';
import { ROUTES } from './routes.js';
import { markTaxii20, taxii20Routes } from './taxii20-routes.js';
import { Taxii20Service } from '../taxii/taxii20/service.js';

export interface AppParts {
  config: Readonly<Config>;
  store: Store;
  service: TaxiiService;
  desk: DeskService;
  changes: { feed: ChangeFeed; streams: ChangeStreams };
  /** Webhook subscriptions (/admin/v1/subscriptions). */
  webhooks?: SubscriptionService;
  logger: Logger;
  /** Where the app reports its figures (server/metrics.ts); a private registry when absent. */
  metrics?: Metrics;
}

function send(res: Response, r: TaxiiResponse): void {
  res.status(r.status);
  res.setHeader('Content-Type', TAXII_MEDIA_TYPE);
  for (const [name, value] of Object.entries(r.headers ?? {})) res.setHeader(name, value);
  if (r.rawJson !== undefined) res.end(r.rawJson);
  else if (r.body !== undefined) res.end(JSON.stringify(r.body));
  else res.end();
}

/** An X-Request-Id a trusted proxy may hand on: short, and safe in a header, a log line and JSON. */
const FORWARDED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The proxy's request id when the proxy is trusted and the id is well-formed; a fresh UUID otherwise. */
export function requestIdOf(req: Request, trustProxy: boolean): string {
  const given = req.headers['x-request-id'];
  return trustProxy && typeof given === 'string' && FORWARDED_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * gzip or br (by the client's Accept-Encoding q-values, br preferred on a tie) for responses of at
 * least `threshold` bytes, streamed; Vary: Accept-Encoding. Brotli at quality 4: most of its gain
 * over gzip for JSON at a CPU cost close to gzip's (quality 11 costs tens of times more per page).
 */
function compressionOf(threshold: number | boolean): express.RequestHandler | undefined {
  if (threshold === false || threshold === 0) return undefined;
  return compression({ threshold: threshold === true ? 1024 : threshold, level: 6, brotli: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } });
}

function caller(res: Response): Caller {
  return res.locals.caller as Caller;
}


function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

export function createApp(parts: AppParts): express.Express {
  const { config, store, service, logger } = parts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', false); // we parse the raw query ourselves (repeats matter, §3.4)
  const auth = new Authenticator(store, config);
  const metrics = parts.metrics ?? new Metrics();
  auth.loginObserver = (outcome) => metrics.login(outcome);
  metrics.observeStreams(() => parts.changes.streams.size);
  // On MongoDB the budgets are shared by every instance through the store's connection.
  const mongo = store.kind === 'mongodb' ? (store as MongoStore).connection : undefined;
  const budgets = new RequestBudgets(config, (budget) => metrics.rateLimited(budget), { ...(mongo ? { mongo } : {}), logger });
  const ingestSlots = new IngestSlots(config.ingestJobsPerAccount, () => metrics.rateLimited('ingest'));
  service.onSubmissionComplete(async (submissionId) => ingestSlots.completed(submissionId));

  app.use(metrics.requests());
  app.use(canonicalPaths(config.discoveryAliases));
  app.use((req, res, next) => {
    const id = requestIdOf(req, config.trustProxy);
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    // Shutting down (server/main.ts): answer, then let the client reconnect elsewhere.
    if (app.locals.draining === true) res.setHeader('Connection', 'close');
    const started = process.hrtime.bigint();
    // Bytes sent, headers included, as they left (compressed, chunked): one connection serves one
    // request at a time, so its counter's growth during the request is the request's.
    const sentBefore = req.socket.bytesWritten;
    res.on('finish', () => {
      logger.info(
        { req: { id, method: req.method, url: req.originalUrl, route: routeTemplate(req), remote: req.ip }, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, account: (res.locals.caller as Caller | undefined)?.account.name, bytes: req.socket.bytesWritten - sentBefore },
        'request',
      );
    });
    // Every line logged while handling the request names it (server/logger.ts).
    withRequestId(id, next);
  });
  // Before every route, so TAXII resources, the admin API and error resources are all compressed.
  const compress = compressionOf(config.compressionThreshold);
  if (compress) app.use(compress);
  app.use(securityHeaders());
  const crossOrigin = cors(config.corsOrigins, config.apiKeyHeader);
  if (crossOrigin) app.use(crossOrigin);
  app.use(budgets.perAddress());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (app.locals.draining === true) {
      res.status(503).json({ status: 'shutting down', store: store.kind });
      return;
    }
    // A store that can be pinged (MongoDB) says whether it answers now; otherwise a cheap read.
    const pingable = store as Store & { ping?: () => Promise<boolean> };
    const probe = typeof pingable.ping === 'function' ? pingable.ping() : store.listApiRoots().then(() => true);
    void probe.catch(() => false).then((ready) => {
      if (ready) res.json({ status: 'ready', store: store.kind });
      else res.status(503).setHeader('Retry-After', '5').json({ status: 'not ready', store: store.kind });
    });
  });

  // The web console's static assets (public; its data comes from the APIs below with a token).
  app.use(CONSOLE_PATH, consoleAssets());

  app.get(METRICS_PATH, metrics.endpoint(config.metricsToken));

  // The API's description is public, like the probes.
  mountOpenApi(app);

  // Credentials → Bearer token (answers JSON, needs no TAXII Accept).
  app.use(TOKEN_PATH, budgets.logins());
  mountTokenEndpoint(app, auth);

  // Everything else is TAXII: authenticate, then negotiate (§3.1).
  app.use(markTaxii20());
  app.use(auth.middleware());
  app.use(budgets.perAccount());
  app.use('/admin/v1/curation', curationRoutes({ store, desk: parts.desk, logger })); // the desk's API, also for vendors
  if (parts.webhooks) app.use('/admin/v1/subscriptions', subscriptionRoutes({ store, subscriptions: parts.webhooks, logger })); // each organisation's own, and admins
  app.use('/admin/v1', adminRoutes({ store, logger })); // JSON admin API: before TAXII negotiation
  app.use(taxii20Routes(new Taxii20Service(store, service, { maxPageSize: config.maxPageSize }), (req) => publicBase(req)));
  // The live stream: the change feed's URL asked for as text/event-stream (before TAXII negotiation).
  app.get(ROUTES.changes, async (req, res, next) => {
    if (!/(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(req.headers.accept ?? '')) return next();
    const q = taxiiQuery(req, 'changes');
    const header = req.headers['last-event-id'];
    const lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? searchParams(req)?.get('last_event_id') ?? undefined;
    if (q.next !== undefined) throw new TaxiiError('TAXII_ERR_BAD_FILTER', 'A live stream resumes with Last-Event-ID (or last_event_id), not next.');
    // Kept out of response compression, which would hold events back (Cache-Control: no-transform).
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    try {
      await parts.changes.streams.serve(req, res, caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), q.filters, lastEventId);
    } catch (err) {
      if (!res.headersSent) throw err;
      logger.warn({ err, requestId: res.locals.requestId }, 'a live stream ended on an error');
    }
  });
  app.use((req, _res, next) => {
    if (!acceptsTaxii(req.headers.accept)) {
      return next(new TaxiiError('TAXII_ERR_NOT_ACCEPTABLE', `The Accept header must allow ${TAXII_MEDIA_TYPE} (TAXII 2.1 §1.6.8).`));
    }
    next();
  });

  const routes: Array<[string, Partial<Record<'get' | 'post' | 'delete', express.RequestHandler>>]> = [
    [ROUTES.discovery, { get: async (req, res) => send(res, await service.discovery(caller(res), publicBase(req))) }],
    [ROUTES.apiRoot, { get: async (req, res) => send(res, await service.apiRoot(caller(res), param(req, 'apiRoot'))) }],
    [ROUTES.status, { get: async (req, res) => send(res, await service.status(caller(res), param(req, 'apiRoot'), param(req, 'statusId'))) }],
    [ROUTES.collections, { get: async (req, res) => send(res, await service.collections(caller(res), param(req, 'apiRoot'))) }],
    [ROUTES.collection, { get: async (req, res) => send(res, await service.collection(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'))) }],
    [ROUTES.manifest, { get: async (req, res) => send(res, await service.manifest(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), taxiiQuery(req, 'manifest'))) }],
    [
      ROUTES.objects,
      {
        get: async (req, res) => send(res, await service.objects(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), taxiiQuery(req, 'objects'))),
        post: async (req, res) => {
          const apiRoot = param(req, 'apiRoot');
          const collectionId = param(req, 'collectionId');
          if (!isTaxiiContentType(req.headers['content-type'])) {
            throw new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', `The Content-Type must be ${TAXII_MEDIA_TYPE} (TAXII 2.1 §5.5).`);
          }
          // Access and a free ingest slot are settled before a byte of the body is read.
          const maxContentLength = await service.writableLimit(caller(res), apiRoot, collectionId);
          const release = ingestSlots.acquire(caller(res).account.id);
          try {
            const body = await readBody(req, maxContentLength, { idleTimeoutMs: config.bodyIdleTimeoutSeconds * 1000 });
            const answer = await service.addObjects(caller(res), apiRoot, collectionId, body).catch((err: unknown) => {
              metrics.envelope(toTaxiiError(err).status, body.length);
              throw err;
            });
            metrics.envelope(answer.status, body.length);
            const status = answer.body as { id: string; status: string };
            ingestSlots.releaseWhenComplete(status.id, status.status === 'complete', release);
            send(res, answer);
          } finally {
            // Refused or failed before a submission was recorded: nothing is being processed.
            if (!res.headersSent) release();
          }
        },
      },
    ],
    [
      ROUTES.object,
      {
        get: async (req, res) => send(res, await service.objects(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), taxiiQuery(req, 'object'), param(req, 'objectId'))),
        delete: async (req, res) => send(res, await service.deleteObject(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), param(req, 'objectId'), taxiiQuery(req, 'delete'))),
      },
    ],
    [ROUTES.changes, { get: async (req, res) => send(res, await parts.changes.feed.page(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), taxiiQuery(req, 'changes'))) }],
    [ROUTES.versions, { get: async (req, res) => send(res, await service.versions(caller(res), param(req, 'apiRoot'), param(req, 'collectionId'), param(req, 'objectId'), taxiiQuery(req, 'versions'))) }],
  ];

  function publicBase(req: Request): string {
    if (config.publicBaseUrl) return config.publicBaseUrl.endsWith('/') ? config.publicBaseUrl : `${config.publicBaseUrl}/`;
    return `${req.protocol}://${req.get('host') ?? `${config.host}:${config.port}`}/`;
  }

  for (const [path, handlers] of routes) {
    const route = app.route(path);
    const allowed = Object.keys(handlers).map((m) => m.toUpperCase());
    if (allowed.includes('GET')) allowed.push('HEAD');
    for (const [method, handler] of Object.entries(handlers)) route[method as 'get' | 'post' | 'delete'](handler);
    route.all((_req, _res, next) => next(new TaxiiError('TAXII_ERR_METHOD_NOT_ALLOWED', `Allowed: ${allowed.join(', ')}.`).withHeader('Allow', allowed.join(', '))));
  }

  app.use((_req, _res, next) => next(new TaxiiError('TAXII_ERR_NOT_FOUND', 'No TAXII endpoint at this path.')));

  // The one error middleware: everything becomes a TAXII error resource.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals.requestId as string | undefined;
    const error = toTaxiiError(err);
    if (error.status >= 500) logger.error({ err, requestId }, 'request failed');
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    // Refused before anything read its body (401, 429 …): close rather than wait for a body that may
    // never come. A body being drained (server/http/body.ts after a 413) keeps its connection so the
    // client reads the answer.
    if (!req.complete && req.readableFlowing === null) res.setHeader('Connection', 'close');
    // Refusals before the admin API's own error handler (401, 429) still answer in its media type.
    const mediaType = req.path.startsWith('/admin/') ? ADMIN_MEDIA_TYPE : res.locals.taxii20 === true ? TAXII20_MEDIA_TYPE : TAXII_MEDIA_TYPE;
    res.status(error.status).setHeader('Content-Type', mediaType);
    res.end(JSON.stringify(error.toJSON(requestId)));
  });
  return app;
}

/** Maps anything thrown to a TaxiiError; unknown failures become a 500 that reveals nothing. */
export function toTaxiiError(err: unknown): TaxiiError {
  if (err instanceof TaxiiError) return err;
  if (err instanceof StoreUnavailableError) return new TaxiiError('TAXII_ERR_UNAVAILABLE', 'The data store is unavailable; try again shortly.').withHeader('Retry-After', '5');
  const status = (err as { status?: number } | null)?.status;
  if (typeof status === 'number' && status === 400) return new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request could not be understood.');
  return new TaxiiError('TAXII_ERR_INTERNAL', 'The server failed to handle this request; it has been logged.');
}
