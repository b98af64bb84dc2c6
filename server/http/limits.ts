// Request budgets, concurrent ingests, security headers and CORS (docs/operations.md "Limits").
//
// Budgets are token buckets (rate-limiter-flexible's BurstyRateLimiter): a budget of N per minute
// holds N tokens at first and refills at N a minute, in slices of a second or a few (bucketShape);
// the part of the burst beyond one slice comes back every BURST_WINDOW_SECONDS. A client spreading
// N requests over a minute is practically never refused; one sending N at once gets them, then
// waits for the next slice (Retry-After: seconds, not the rest of a minute); over any long stretch
// nobody gets more than N a minute plus a tenth (the burst's return).
// - per client address, every request but health checks and metrics, before authentication, so an
//   unauthenticated flood is refused without any credential being checked;
// - per account, reads (GET/HEAD) and writes (POST/PUT/PATCH/DELETE) apart, after authentication,
//   so one busy poller cannot use up a vendor's publishing budget and the other way round; an
//   account's figures come from rateLimitOverrides (the account's, else its organisation's, else
//   the defaults);
// - per address on the token endpoint (logins); failed logins are also slowed down per name and
//   address by server/auth/throttle.ts, which keeps its memory in the store.
// On MongoDB the buckets live in the store's `rate_limits` collection (RateLimiterMongo on the
// store's connection), so every instance draws on the same budget; each bucket falls back to this
// process's memory while MongoDB does not answer. On SQLite they live in each process's memory.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Connection } from 'mongoose';
import { BurstyRateLimiter, type IRateLimiterOptions, RateLimiterMemory, RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { TaxiiError } from '../../taxii/errors.js';
import type { Caller } from '../../taxii/access.js';
import type { Config, RateLimitFigures } from '../config.js';
import type { Logger } from '../logger.js';
import type { LimitBudget } from '../metrics.js';

/** Paths never limited: probes and scrapes must answer even while a client is being refused. */
export const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Paths whose pages bring their own Content-Security-Policy (the web console). */
export const OWN_CSP_PREFIXES = ['/console/'];

/** The MongoDB collection holding every instance's buckets (one document per key and slice). */
export const RATE_LIMIT_COLLECTION = 'rate_limits';

type LimitSettings = Pick<Config, 'rateLimitAddressPerMinute' | 'rateLimitReadsPerMinute' | 'rateLimitWritesPerMinute' | 'rateLimitLoginsPerMinute' | 'rateLimitOverrides'>;

interface Bucket {
  consume(key: string): Promise<RateLimiterRes>;
}

/** Where buckets are kept: this process's memory, or a MongoDB connection shared by every instance. */
export interface BucketStore {
  mongo?: Connection;
  logger?: Logger;
}

/** How often the burst part of a bucket comes back whole. */
export const BURST_WINDOW_SECONDS = 600;

/**
 * The steady part and the burst of a budget of `perMinute`: the steady limiter grants `points`
 * every `seconds` — the shortest slice (at most a minute, so nobody waits longer) whose whole
 * tokens give at least 90 % of the rate without exceeding it — and the burst limiter the rest of
 * a minute's figure every BURST_WINDOW_SECONDS.
 */
export function bucketShape(perMinute: number): { steady: { points: number; seconds: number }; burst: number } {
  let steady = { points: Math.max(1, Math.floor(perMinute)), seconds: 60 };
  for (let seconds = 1; seconds <= 60; seconds++) {
    const points = Math.floor((perMinute * seconds) / 60);
    if (points >= 1 && (points * 60) / seconds >= 0.9 * perMinute) {
      steady = { points, seconds };
      break;
    }
  }
  return { steady, burst: Math.max(0, perMinute - steady.points) };
}

class Buckets {
  private readonly byFigure = new Map<string, Bucket>();
  private readonly mongoDb: Promise<unknown> | undefined;
  private indexes: Promise<void> | undefined;

  constructor(private readonly store: BucketStore) {
    const conn = store.mongo;
    // The native database once the store's connection is open: until then (and whenever MongoDB
    // fails) the limiter answers from its in-memory insurance; this promise never rejects.
    this.mongoDb = conn && new Promise((resolve) => (conn.readyState === 1 ? resolve(conn.db) : conn.once('open', () => resolve(conn.db))));
  }

  private limiter(keyPrefix: string, points: number, duration: number) {
    const options: IRateLimiterOptions = { keyPrefix, points, duration };
    const memory = new RateLimiterMemory(options);
    const conn = this.store.mongo;
    if (!this.mongoDb || !conn) return memory;
    // An open connection's database is used at once; a promise of it would leave the limiter
    // unusable until a later tick (its first requests would fall back to memory).
    const storeClient = conn.readyState === 1 ? conn.db : this.mongoDb;
    const shared = new RateLimiterMongo({ ...options, storeClient, tableName: RATE_LIMIT_COLLECTION, disableIndexesCreation: true, insuranceLimiter: memory });
    // The collection's indexes (unique key, TTL on expire), once per process.
    this.indexes ??= this.mongoDb
      .then(() => shared.createIndexes())
      .catch((err: unknown) => this.store.logger?.warn({ event: 'rate limits', err: { message: (err as Error).message } }, 'could not create the rate_limits indexes; shared budgets may miscount until a restart creates them'));
    return shared;
  }

  /** The bucket of a budget name and figure (one per distinct figure; keys are accounts or addresses). */
  of(budget: LimitBudget, perMinute: number): Bucket | undefined {
    if (perMinute <= 0) return undefined;
    const id = `${budget}:${perMinute}`;
    let bucket = this.byFigure.get(id);
    if (!bucket) {
      const { steady, burst } = bucketShape(perMinute);
      const limiter = this.limiter(`${id}:s`, steady.points, steady.seconds);
      bucket = burst > 0 ? new BurstyRateLimiter(limiter, this.limiter(`${id}:b`, burst, BURST_WINDOW_SECONDS)) : limiter;
      this.byFigure.set(id, bucket);
    }
    return bucket;
  }
}

function tooMany(budget: RequestBudget, retryAfter: number): TaxiiError {
  const what = { address: 'from this address', read: 'reads by this account', write: 'writes by this account', login: 'logins from this address' }[budget];
  return new TaxiiError('TAXII_ERR_RATE_LIMITED', `Too many requests (${what}); try again in ${retryAfter} seconds.`).withHeader('Retry-After', String(retryAfter));
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

type RequestBudget = Exclude<LimitBudget, 'ingest'>;

export class RequestBudgets {
  private readonly buckets: Buckets;

  constructor(
    private readonly settings: Readonly<LimitSettings>,
    private readonly onLimited: (budget: RequestBudget) => void = () => undefined,
    store: BucketStore = {},
  ) {
    this.buckets = new Buckets(store);
  }

  /** Takes one token of `budget` for `key`, or passes on a 429 TAXII error. */
  private async take(budget: RequestBudget, perMinute: number, key: string, next: NextFunction): Promise<void> {
    const bucket = this.buckets.of(budget, perMinute);
    if (!bucket) return next();
    try {
      await bucket.consume(key);
    } catch (res) {
      // Anything but a refusal is the limiter failing: let the request through rather than refuse everyone.
      if (!(res instanceof RateLimiterRes)) return next();
      this.onLimited(budget);
      return next(tooMany(budget, Math.max(1, Math.ceil(res.msBeforeNext / 1000))));
    }
    next();
  }

  /** An account's reads and writes per minute: its own figures, else its organisation's, else the defaults. */
  figuresOf(caller: Pick<Caller, 'account' | 'organisation'>): { reads: number; writes: number } {
    const { accounts = {}, organisations = {} } = this.settings.rateLimitOverrides;
    const own: RateLimitFigures = Object.hasOwn(accounts, caller.account.name) ? accounts[caller.account.name]! : {};
    const org: RateLimitFigures = caller.organisation && Object.hasOwn(organisations, caller.organisation.name) ? organisations[caller.organisation.name]! : {};
    return {
      reads: own.readsPerMinute ?? org.readsPerMinute ?? this.settings.rateLimitReadsPerMinute,
      writes: own.writesPerMinute ?? org.writesPerMinute ?? this.settings.rateLimitWritesPerMinute,
    };
  }

  /** Per client address (req.ip: the proxy's X-Forwarded-For only with trustProxy). */
  perAddress(): RequestHandler {
    return (req, _res, next) => {
      if (UNLIMITED_PATHS.has(req.path)) return next();
      void this.take('address', this.settings.rateLimitAddressPerMinute, req.ip ?? 'unknown', next);
    };
  }

  /** Per authenticated account, reads and writes apart. */
  perAccount(): RequestHandler {
    return (req, res, next) => {
      const caller = res.locals.caller as Caller | undefined;
      if (caller === undefined) return next();
      const figures = this.figuresOf(caller);
      const write = WRITES.has(req.method);
      void this.take(write ? 'write' : 'read', write ? figures.writes : figures.reads, caller.account.id, next);
    };
  }

  /** Per address, for the token endpoint. */
  logins(): RequestHandler {
    return (req, _res, next) => {
      void this.take('login', this.settings.rateLimitLoginsPerMinute, req.ip ?? 'unknown', next);
    };
  }
}

/** Seconds a client refused an ingest slot is told to wait: about one small envelope's processing. */
const INGEST_RETRY_SECONDS = 5;
const EARLY_LIMIT = 1000;

/**
 * Concurrent ingests per account: a POST of objects holds a slot from before its body is read until
 * its submission is complete (after the 202 for large envelopes, processed in the background). A POST
 * beyond `perAccount` is refused with 429 before anything is read or recorded, so nothing of it is
 * lost: the client sends it again after Retry-After.
 */
export class IngestSlots {
  private readonly held = new Map<string, number>();
  /** Slots waiting for their submission to complete, by submission id. */
  private readonly waiting = new Map<string, () => void>();
  /** Submissions completed before their POST answered (a race with the background job). */
  private readonly early = new Set<string>();

  constructor(
    private readonly perAccount: number,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** Takes a slot for the account, or throws the 429. Returns what releases it, once. */
  acquire(accountId: string): () => void {
    const held = this.held.get(accountId) ?? 0;
    if (this.perAccount > 0 && held >= this.perAccount) {
      this.onRefused();
      throw new TaxiiError('TAXII_ERR_RATE_LIMITED', `This account already has ${held} envelopes being processed; send this one again in ${INGEST_RETRY_SECONDS} seconds (nothing of it was recorded).`).withHeader('Retry-After', String(INGEST_RETRY_SECONDS));
    }
    this.held.set(accountId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(accountId) ?? 1) - 1;
      if (left > 0) this.held.set(accountId, left);
      else this.held.delete(accountId);
    };
  }

  /** After the 202: the slot goes when the submission is complete (now, or when completed() says so). */
  releaseWhenComplete(submissionId: string, complete: boolean, release: () => void): void {
    const done = this.early.delete(submissionId);
    if (complete || done) release();
    else this.waiting.set(submissionId, release);
  }

  /** A submission is complete (the service's completion listener). */
  completed(submissionId: string): void {
    const release = this.waiting.get(submissionId);
    if (release) {
      this.waiting.delete(submissionId);
      release();
    } else {
      // Mostly submissions of inline POSTs, claimed within milliseconds, and resumed ones nobody
      // claims: the oldest go first.
      if (this.early.size >= EARLY_LIMIT) this.early.delete(this.early.values().next().value!);
      this.early.add(submissionId);
    }
  }
}

/**
 * Security headers for a JSON API: no content may run or be framed (CSP default-src 'none',
 * frame-ancestors 'none'), no sniffing, no referrer, HSTS. Paths under OWN_CSP_PREFIXES get every
 * header but the CSP, which their pages set themselves; any handler may also replace the CSP with
 * res.setHeader('Content-Security-Policy', …).
 */
export function securityHeaders(): RequestHandler {
  const common = helmet({
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  });
  const csp = helmet.contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } });
  return (req, res, next) => {
    common(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (OWN_CSP_PREFIXES.some((p) => req.path.startsWith(p))) return next();
      csp(req, res, next);
    });
  };
}

/** Headers a browser script may send and read across origins. */
const CORS_METHODS = 'GET, HEAD, POST, DELETE';
const CORS_EXPOSED = ['X-TAXII-Date-Added-First', 'X-TAXII-Date-Added-Last', 'X-Request-Id', 'Retry-After', 'Content-Range', 'Link'].join(', ');
const CORS_MAX_AGE_SECONDS = 600;

/**
 * CORS for the configured origins only (none by default: a browser on another origin cannot read
 * any answer). Preflights of an allowed origin are answered 204 before authentication; anything
 * else passes on untouched.
 */
export function cors(origins: string, apiKeyHeader?: string): RequestHandler | undefined {
  const allowed = new Set(
    origins
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
  );
  if (allowed.size === 0) return undefined;
  const any = allowed.has('*');
  const requestHeaders = ['Authorization', 'Accept', 'Content-Type', 'X-Request-Id', 'Last-Event-ID', ...(apiKeyHeader ? [apiKeyHeader] : [])].join(', ');
  return (req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !(any || allowed.has(origin))) return next();
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED);
    if (req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string') {
      res.setHeader('Access-Control-Allow-Methods', CORS_METHODS);
      res.setHeader('Access-Control-Allow-Headers', requestHeaders);
      res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
      res.status(204).end();
      return;
    }
    next();
  };
}
