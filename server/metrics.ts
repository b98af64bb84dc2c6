// Prometheus metrics (docs/operations.md "Metrics"). One registry per app, so several apps in one
// process (the tests) never collide; `meridian serve` adds Node's default process metrics.
// Label values come from bounded sets only (route templates, methods, status codes, outcomes), never
// from a path, a name or an id a client chose.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestItem, Store, SubmissionRecord } from '../collections/store.js';
import { CURATION_SOURCE, type DeliveryRecord, type WebhookStore } from '../collections/webhook-store.js';
import { TaxiiError } from '../taxii/errors.js';
import { nowMicros } from '../taxii/time.js';

export const METRICS_PATH = '/metrics';

/** Scrapes answered without a token: the loopback addresses (a local Prometheus or node exporter). */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Seconds buckets from 5 ms to 60 s: polls are milliseconds, large ingests and live streams far longer. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
/** A scrape waits at most this long for figures read from the store; a slow store must not hang Prometheus. */
const SCRAPE_READ_TIMEOUT_MS = 2000;
/** Change-log reads one scrape may make for the webhook lag (one per subscription and collection). */
const LAG_READS_PER_SCRAPE = 500;
/** A rejection's code, from the start of its failure message (`STIX_…: …`); a bounded set. */
const FAILURE_CODE = /^((?:STIX|TAXII)_[A-Z0-9_]{1,60})\b/;

export type LoginOutcome = 'success' | 'failure' | 'throttled';
/** Request budgets, and `ingest`: a POST refused for its account's concurrent ingests. */
export type LimitBudget = 'address' | 'read' | 'write' | 'login' | 'ingest';

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, handles): on in `meridian serve`. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly inFlight: Gauge;
  private readonly envelopes: Counter<'outcome'>;
  private readonly envelopeBytes: Counter;
  private readonly objects: Counter<'outcome'>;
  private readonly rejections: Counter<'code'>;
  private readonly submissionLag: Histogram;
  private readonly storeLatency: Histogram<'operation' | 'outcome'>;
  private readonly logins: Counter<'outcome'>;
  private readonly limited: Counter<'budget'>;
  private readonly webhookDeliveries: Counter<'outcome' | 'kind'>;
  private openStreams: () => number = () => 0;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({ name: 'meridian_http_request_duration_seconds', help: 'HTTP requests by route template, method and status, from the first byte read to the last byte sent', labelNames: ['method', 'route', 'status'], buckets: DURATION_BUCKETS, registers });
    this.inFlight = new Gauge({ name: 'meridian_http_requests_in_flight', help: 'HTTP requests being handled now (live streams included)', registers });
    this.envelopes = new Counter({ name: 'meridian_ingest_envelopes_total', help: 'POST …/objects/ requests by outcome (accepted = 202, refused = any 4xx/5xx)', labelNames: ['outcome'], registers });
    this.envelopeBytes = new Counter({ name: 'meridian_ingest_bytes_total', help: 'Bytes of accepted envelopes', registers });
    this.objects = new Counter({ name: 'meridian_ingest_objects_total', help: 'Objects of completed submissions: stored (success) or refused (failure)', labelNames: ['outcome'], registers });
    this.rejections = new Counter({ name: 'meridian_ingest_rejections_total', help: 'Objects refused on ingest, by the code of their first error (other: no STIX/TAXII code, e.g. interrupted processing or a desk rejection)', labelNames: ['code'], registers });
    this.submissionLag = new Histogram({ name: 'meridian_submission_processing_seconds', help: 'From a submission being recorded to its completion (small envelopes complete before the 202)', buckets: DURATION_BUCKETS, registers });
    this.storeLatency = new Histogram({ name: 'meridian_store_operation_duration_seconds', help: 'Store operations by method and outcome', labelNames: ['operation', 'outcome'], buckets: STORE_BUCKETS, registers });
    this.logins = new Counter({ name: 'meridian_logins_total', help: 'Credential verifications by outcome (cached ones not counted; throttled = refused before checking)', labelNames: ['outcome'], registers });
    this.limited = new Counter({ name: 'meridian_rate_limited_total', help: 'Requests refused with 429 by a rate-limit budget, or (ingest) for an account\'s concurrent ingests', labelNames: ['budget'], registers });
    this.webhookDeliveries = new Counter({ name: 'meridian_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome (success, failure) and kind (event, test, redelivery), as logged', labelNames: ['outcome', 'kind'], registers });
    // Read at scrape time from whoever owns the figure (live streams, …).
    const openStreams = () => this.openStreams();
    new Gauge({
      name: 'meridian_live_streams_open',
      help: 'Open live change streams (text/event-stream)',
      registers,
      collect() {
        this.set(openStreams());
      },
    });
  }

  /** Where the number of open live streams is read at scrape time. */
  observeStreams(read: () => number): void {
    this.openStreams = read;
  }

  /** Middleware timing every request; the route label is the matched template, or "unmatched". */
  requests() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const end = this.duration.startTimer();
      this.inFlight.inc();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.inFlight.dec();
        end({ method: methodLabel(req.method), route: routeTemplate(req), status: String(res.statusCode) });
      };
      res.on('finish', finish);
      res.on('close', finish);
      next();
    };
  }

  envelope(status: number, bytes: number): void {
    this.envelopes.inc({ outcome: status === 202 ? 'accepted' : 'refused' });
    if (status === 202) this.envelopeBytes.inc(bytes);
  }

  submissionComplete(s: SubmissionRecord): void {
    this.objects.inc({ outcome: 'success' }, s.successCount);
    this.objects.inc({ outcome: 'failure' }, s.failureCount);
    this.submissionLag.observe(Math.max(0, nowMicros() - s.requestTimestamp) / 1e6);
  }

  login(outcome: LoginOutcome): void {
    this.logins.inc({ outcome });
  }

  rateLimited(budget: LimitBudget): void {
    this.limited.inc({ budget });
  }

  /** Every logged delivery attempt is counted as the store records it (the delivery log is the source). */
  private webhookStore(webhooks: WebhookStore): WebhookStore {
    const deliveries = this.webhookDeliveries;
    return new Proxy(webhooks, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (key !== 'logDelivery' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (d: DeliveryRecord, ...rest: unknown[]) => {
          const written: unknown = await (value as (...a: unknown[]) => Promise<unknown>).call(target, d, ...rest);
          deliveries.inc({ outcome: d.outcome, kind: d.kind });
          return written;
        };
      },
    });
  }

  /**
   * The store with each asynchronous method timed (a Proxy: the store itself is unchanged). Method
   * names are the interface's, a bounded set.
   */
  observeStore<S extends Store>(store: S): S {
    const histogram = this.storeLatency;
    const rejections = this.rejections;
    // Objects refused by the pipeline, counted by code as they are written to their submission.
    const counted = (key: string, args: unknown[]) => {
      if (key !== 'ingest') return;
      for (const item of args[1] as IngestItem[]) if ('failure' in item) rejections.inc({ code: FAILURE_CODE.exec(item.failure)?.[1] ?? 'other' });
    };
    const wrapped = new Map<PropertyKey, unknown>();
    const webhooks = store.webhooks ? this.webhookStore(store.webhooks) : undefined;
    return new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'webhooks' && webhooks) return webhooks;
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
        let fn = wrapped.get(key);
        if (!fn) {
          const method = value as (...args: unknown[]) => unknown;
          fn = function (this: unknown, ...args: unknown[]) {
            const end = histogram.startTimer({ operation: key });
            let result: unknown;
            try {
              result = method.apply(target, args);
            } catch (err) {
              end({ outcome: 'error' });
              throw err;
            }
            if (result instanceof Promise) {
              return result.then(
                (v: unknown) => {
                  end({ outcome: 'ok' });
                  counted(key, args);
                  return v;
                },
                (err: unknown) => {
                  end({ outcome: 'error' });
                  throw err;
                },
              );
            }
            end({ outcome: 'ok' });
            return result;
          };
          wrapped.set(key, fn);
        }
        return fn;
      },
    });
  }

  /** The desk's queue depth and age, and publications, read from the store at scrape time. */
  observeDesk(store: Store): void {
    const figures = scrapeRead(() => deskFigures(store), UNKNOWN);
    const registers = [this.registry];
    new Gauge({
      name: 'meridian_desk_queue_depth',
      help: 'Entries waiting for a decision, all intakes',
      registers,
      async collect() {
        this.set((await figures()).depth);
      },
    });
    new Gauge({
      name: 'meridian_desk_queue_oldest_age_seconds',
      help: 'Age of the oldest entry waiting for a decision (0 when none waits)',
      registers,
      async collect() {
        this.set((await figures()).oldestAge);
      },
    });
    new Gauge({
      name: 'meridian_desk_publications',
      help: 'Objects published by the desk so far (from the store)',
      registers,
      async collect() {
        this.set((await figures()).publications);
      },
    });
  }

  /**
   * Webhook subscriptions by state, and how far delivery lags behind the change log, read from the
   * store at scrape time.
   */
  observeWebhooks(store: Store): void {
    const webhooks = store.webhooks;
    if (!webhooks) return;
    const figures = scrapeRead(() => webhookFigures(store, webhooks), { enabled: Number.NaN, failing: Number.NaN, disabled: Number.NaN, lag: Number.NaN });
    const registers = [this.registry];
    new Gauge({
      name: 'meridian_webhook_subscriptions',
      help: 'Webhook subscriptions by state: enabled (delivering), failing (enabled, retrying since a failure), disabled',
      labelNames: ['state'],
      registers,
      async collect() {
        const f = await figures();
        for (const state of ['enabled', 'failing', 'disabled'] as const) this.set({ state }, f[state]);
      },
    });
    new Gauge({
      name: 'meridian_webhook_lag_seconds',
      help: 'Age of the oldest change-log entry an enabled subscription has not got past yet (0 when all are current)',
      registers,
      async collect() {
        this.set((await figures()).lag);
      },
    });
  }

  /** GET /metrics: open to loopback callers, otherwise `Authorization: Bearer <metricsToken>`. */
  endpoint(token: string | undefined) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      if (!LOOPBACK.test(req.ip ?? '') && !tokenMatches(req.headers.authorization, token)) {
        next(new TaxiiError('TAXII_ERR_FORBIDDEN', token ? 'Metrics need the scrape token (Authorization: Bearer …).' : 'Metrics are served to loopback callers only (set metricsToken to scrape from elsewhere).'));
        return;
      }
      res.setHeader('Content-Type', this.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(await this.registry.metrics());
    };
  }
}

interface DeskFigures {
  depth: number;
  oldestAge: number;
  publications: number;
}

/** Figures a failed or slow read leaves unknown: the gauges read NaN, the scrape still answers. */
const UNKNOWN: DeskFigures = { depth: Number.NaN, oldestAge: Number.NaN, publications: Number.NaN };

/**
 * A read for scrape-time gauges: one read serves every gauge of a scrape (and scrapes within a
 * second), and one that fails or takes longer than SCRAPE_READ_TIMEOUT_MS gives `unknown`.
 */
function scrapeRead<T>(read: () => Promise<T>, unknown: T): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= withTimeout(read())
      .catch(() => unknown)
      .finally(() => setTimeout(() => (pending = undefined), 1000).unref()));
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('scrape read timed out')), SCRAPE_READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function webhookFigures(store: Store, webhooks: WebhookStore): Promise<{ enabled: number; failing: number; disabled: number; lag: number }> {
  const subscriptions = await webhooks.listSubscriptions({});
  const enabled = subscriptions.filter((s) => s.state === 'enabled');
  const now = nowMicros();
  let oldest = now;
  let reads = 0;
  for (const s of enabled) {
    for (const [source, position] of Object.entries(await webhooks.cursors(s.id))) {
      // Collections' change logs only (the curation source follows the audit log).
      if (source === CURATION_SOURCE || reads++ >= LAG_READS_PER_SCRAPE) continue;
      const first = (await store.readChanges(source, position, 1)).items[0];
      if (first) oldest = Math.min(oldest, first.dateAdded);
    }
  }
  return {
    enabled: enabled.length,
    failing: enabled.filter((s) => s.failingSince !== undefined).length,
    disabled: subscriptions.length - enabled.length,
    lag: (now - oldest) / 1e6,
  };
}

async function deskFigures(store: Store): Promise<DeskFigures> {
  return (async () => {
    const intakes: string[] = [];
    for (const root of await store.listApiRoots()) {
      for (const c of await store.listCollections(root.path)) if (c.purpose === 'intake') intakes.push(c.id);
    }
    const stats = await store.curationStats(intakes);
    const oldest = Math.min(...stats.queues.filter((q) => q.depth > 0 && q.oldest !== undefined).map((q) => q.oldest!));
    return {
      depth: stats.queues.reduce((n, q) => n + q.depth, 0),
      oldestAge: Number.isFinite(oldest) ? Math.max(0, nowMicros() - oldest) / 1e6 : 0,
      publications: stats.timeToPublish.reduce((n, t) => n + t.publications, 0),
    };
  })();
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/** The matched route's template (`/:apiRoot/collections/:collectionId/objects`), or "unmatched". */
export function routeTemplate(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return req.path === METRICS_PATH ? METRICS_PATH : 'unmatched';
}

function tokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
