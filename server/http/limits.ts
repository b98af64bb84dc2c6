// Request budgets, security headers and CORS (docs/operations.md "Limits").
//
// Budgets (rate-limiter-flexible, in this process's memory): points per 60-second window, one per
// request, 0 = off.
// - per client address, every request but health checks and metrics, before authentication, so an
//   unauthenticated flood is refused without any credential being checked;
// - per account, reads (GET/HEAD) and writes (POST/PUT/PATCH/DELETE) apart, after authentication,
//   so one busy poller cannot use up a vendor's publishing budget and the other way round;
// - per address on the token endpoint (logins); failed logins are also slowed down per name and
//   address by server/auth/throttle.ts, which keeps its memory in the store.
// Several instances each count on their own: a client's real budget is the sum over the instances
// its load balancer spreads it to. A shared budget needs a shared limiter store (rate-limiter-flexible
// has MongoDB and Redis ones); not done yet.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TaxiiError } from '../../taxii/errors.js';
import type { Caller } from '../../taxii/access.js';
import type { Config } from '../config.js';
import type { LimitBudget } from '../metrics.js';

const WINDOW_SECONDS = 60;

/** Paths never limited: probes and scrapes must answer even while a client is being refused. */
export const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Paths whose pages bring their own Content-Security-Policy (the web console). */
export const OWN_CSP_PREFIXES = ['/console/'];

type LimitSettings = Pick<Config, 'rateLimitAddressPerMinute' | 'rateLimitReadsPerMinute' | 'rateLimitWritesPerMinute' | 'rateLimitLoginsPerMinute'>;

function limiter(points: number): RateLimiterMemory | undefined {
  return points > 0 ? new RateLimiterMemory({ points, duration: WINDOW_SECONDS }) : undefined;
}

function tooMany(budget: LimitBudget, retryAfter: number): TaxiiError {
  const what = { address: 'from this address', read: 'reads by this account', write: 'writes by this account', login: 'logins from this address' }[budget];
  return new TaxiiError('TAXII_ERR_RATE_LIMITED', `Too many requests (${what}); try again in ${retryAfter} seconds.`).withHeader('Retry-After', String(retryAfter));
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class RequestBudgets {
  private readonly address: RateLimiterMemory | undefined;
  private readonly read: RateLimiterMemory | undefined;
  private readonly write: RateLimiterMemory | undefined;
  private readonly login: RateLimiterMemory | undefined;

  constructor(
    settings: Readonly<LimitSettings>,
    private readonly onLimited: (budget: LimitBudget) => void = () => undefined,
  ) {
    this.address = limiter(settings.rateLimitAddressPerMinute);
    this.read = limiter(settings.rateLimitReadsPerMinute);
    this.write = limiter(settings.rateLimitWritesPerMinute);
    this.login = limiter(settings.rateLimitLoginsPerMinute);
  }

  /** Takes one point of `budget` for `key`, or passes on a 429 TAXII error. */
  private async take(budget: LimitBudget, limiter: RateLimiterMemory | undefined, key: string, next: NextFunction): Promise<void> {
    if (!limiter) return next();
    try {
      await limiter.consume(key);
    } catch (res) {
      // Anything but a refusal is the limiter failing: let the request through rather than refuse everyone.
      if (!(res instanceof RateLimiterRes)) return next();
      this.onLimited(budget);
      return next(tooMany(budget, Math.max(1, Math.ceil(res.msBeforeNext / 1000))));
    }
    next();
  }

  /** Per client address (req.ip: the proxy's X-Forwarded-For only with trustProxy). */
  perAddress(): RequestHandler {
    return (req, _res, next) => {
      if (UNLIMITED_PATHS.has(req.path)) return next();
      void this.take('address', this.address, req.ip ?? 'unknown', next);
    };
  }

  /** Per authenticated account, reads and writes apart. */
  perAccount(): RequestHandler {
    return (req, res, next) => {
      const account = (res.locals.caller as Caller | undefined)?.account.id;
      if (account === undefined) return next();
      const write = WRITES.has(req.method);
      void this.take(write ? 'write' : 'read', write ? this.write : this.read, account, next);
    };
  }

  /** Per address, for the token endpoint. */
  logins(): RequestHandler {
    return (req, _res, next) => {
      void this.take('login', this.login, req.ip ?? 'unknown', next);
    };
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
