// Authentication (docs/architecture.md §6a, §7): one middleware dispatching on the
// Authorization scheme, through passport with `session: false`:
// - HTTP Basic (TAXII 2.1 §1.6.9) with the account's password, or with an API key as the password
//   (user-id empty, any name, or the key's account; never another account's name) or as the
//   user-id (empty password);
// - an API key alone, in every form TAXII clients send one: `Token <key>`, `Bearer <key>`, or the
//   configured API-key header (apiKeyHeader);
// - Bearer, a JWT from `POST /auth/token` (access-tokens.ts).
// It loads the caller (account, organisation, how it authenticated, address) into
// `res.locals.caller`; a disabled account, or an account of a disabled organisation, cannot
// authenticate. Every 401 carries WWW-Authenticate with both challenges.
//
// A short-lived cache of successful Basic verifications, keyed by a keyed hash of the header,
// spares the slow password hash on every request. A hit still reads the account and its
// organisation (needed for the caller anyway) and, for an API key, the key: a change of the
// account's credentials, roles or grants (its credentialVersion), disabling, or revoking the key
// drops the entry at once. Logins are audited once per verification (cache misses), failures
// always; repeated failures are slowed down before any secret is checked (throttle.ts). The throttle
// comes before the cache too: while a name or address is throttled, every attempt on it is refused,
// a cached correct password included, or an attacker would tell a right guess (200) from wrong ones
// (429) whenever the owner had logged in within the cache's lifetime.
import { createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import type { AccountRecord, ApiKeyRecord, OrganisationRecord, Store } from '../../collections/store.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError } from '../../taxii/errors.js';
import { nowMicros } from '../../taxii/time.js';
import type { Config } from '../config.js';
import { AccessTokens, InvalidTokenError, passwordVersion } from './access-tokens.js';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.js';
import { type BasicCredentials, BasicStrategy } from './basic-strategy.js';
import { decoyVerify, verifySecret } from './passwords.js';
import { LoginThrottle } from './throttle.js';

export const REALM = 'meridian';
const BASIC_CHALLENGE = `Basic realm="${REALM}", charset="UTF-8"`;
const BEARER_CHALLENGE = `Bearer realm="${REALM}"`;
/** Both challenges (RFC 7235 §4.1), for every 401. */
export const WWW_AUTHENTICATE = `${BASIC_CHALLENGE}, ${BEARER_CHALLENGE}`;

/** Writes of an API key's lastUsedAt are at most this often (µs). */
const TOUCH_INTERVAL = 60 * 1e6;
const MAX_CACHE_ENTRIES = 10_000;
/** Longest name tried that goes to the audit log as is. */
const MAX_ACTOR_LENGTH = 128;

export type AuthSettings = Pick<
  Config,
  'authCacheSeconds' | 'apiKeyHeader' | 'jwtAlgorithm' | 'jwtSecret' | 'jwtPrivateKeyFile' | 'jwtPublicKeyFile' | 'jwtIssuer' | 'jwtAudience' | 'tokenTtlSeconds' | 'loginFailureLimit' | 'loginAddressFailureLimit' | 'loginWindowSeconds'
>;

export type Via = 'password' | 'api-key' | 'token';

/** A successful verification of credentials. */
export interface Verified {
  account: AccountRecord;
  organisation?: OrganisationRecord;
  via: Exclude<Via, 'token'>;
  key?: ApiKeyRecord;
}

/** A verification of Basic credentials, with the name the throttle counts them under. */
export interface VerifiedLogin extends Verified {
  actor: string;
}

interface CacheEntry {
  /** The name the throttle counts for this credential (as `login` computed it). */
  actor: string;
  accountId: string;
  credentialVersion: number;
  keyId?: string;
  keyPrefix?: string;
  expires: number;
}

/** A 401 with both challenges; `bearerError` adds RFC 6750 §3 error attributes to the Bearer one. */
export function unauthenticated(description = 'Valid credentials are required (HTTP Basic or a Bearer token).', bearerError?: string): TaxiiError {
  const bearer = bearerError ? `${BEARER_CHALLENGE}, error="invalid_token", error_description="${bearerError.replace(/["\\]/g, '')}"` : BEARER_CHALLENGE;
  return new TaxiiError('TAXII_ERR_UNAUTHENTICATED', description).withHeader('WWW-Authenticate', `${BASIC_CHALLENGE}, ${bearer}`);
}

function throttled(seconds: number): TaxiiError {
  return new TaxiiError('TAXII_ERR_RATE_LIMITED', `Too many failed logins; try again in ${seconds} seconds.`).withHeader('Retry-After', String(seconds));
}

export class Authenticator {
  readonly tokens: AccessTokens;
  private readonly throttle: LoginThrottle;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheKey = randomBytes(32);
  private readonly passport = new passport.Passport();
  /** Told of every verification's outcome (metrics); never of the credential. */
  loginObserver: (outcome: 'success' | 'failure' | 'throttled') => void = () => undefined;
  /** Last lastUsedAt write per key on this instance (the store's value covers the others). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly settings: Readonly<AuthSettings>,
  ) {
    this.tokens = new AccessTokens(
      {
        algorithm: settings.jwtAlgorithm,
        issuer: settings.jwtIssuer,
        audience: settings.jwtAudience,
        ttlSeconds: settings.tokenTtlSeconds,
        ...(settings.jwtSecret ? { secret: settings.jwtSecret } : {}),
        ...(settings.jwtPrivateKeyFile ? { privateKeyFile: settings.jwtPrivateKeyFile } : {}),
        ...(settings.jwtPublicKeyFile ? { publicKeyFile: settings.jwtPublicKeyFile } : {}),
      },
      () => store.secret('jwt'),
    );
    this.throttle = new LoginThrottle(store, { nameLimit: settings.loginFailureLimit, addressLimit: settings.loginAddressFailureLimit, windowSeconds: settings.loginWindowSeconds });
    this.passport.use(
      new BasicStrategy((req, credentials, done) => {
        this.login(credentials, req.ip).then((verified) => done(null, verified), done);
      }),
    );
    this.passport.use(
      new BearerStrategy({ realm: REALM }, (token, done) => {
        this.verifyToken(token).then(
          (verified) => done(null, verified),
          (err: unknown) => (err instanceof InvalidTokenError ? done(null, false, err.message) : done(err)),
        );
      }),
    );
  }

  // ---- credentials ---------------------------------------------------------------------------

  /**
   * Verifies a name and password or API key (throttled, audited): the verification, or a thrown
   * TaxiiError (401, or 429 with Retry-After).
   */
  async login(credentials: BasicCredentials, remote: string | undefined): Promise<VerifiedLogin> {
    const { name, secret } = credentials;
    const now = nowMicros();
    // An API key as the password, or as the user-id with an empty password (§6a).
    const keyAsName = secret === '' ? apiKeyPrefix(name) : undefined;
    // No password is empty (nor is a key): refused like a malformed header, no secret checked.
    if (secret === '' && !keyAsName) throw unauthenticated('An empty password is never valid.');
    const prefix = keyAsName ?? apiKeyPrefix(secret);
    // RFC 7617 allows an empty user-id; only a key may come without one.
    if (name === '' && !prefix) throw unauthenticated('An empty user-id is only valid with an API key as the password.');
    const key = prefix ? await this.store.getApiKeyByPrefix(prefix) : undefined;
    // A key is counted under its account, never under the user-id beside it: clients put any word
    // there ("apikey", the product's name), and one client's failures must not throttle another's.
    let actor = prefix ? ((key && (await this.store.getAccount(key.accountId))?.name) ?? `mrd_${prefix}`) : name;
    if (actor.length > MAX_ACTOR_LENGTH) actor = `${actor.slice(0, MAX_ACTOR_LENGTH)}…`;
    const via = prefix ? 'api-key' : 'password';

    const wait = await this.throttle.retryAfter(actor, remote, now);
    if (wait > 0) {
      this.loginObserver('throttled');
      throw throttled(wait);
    }

    const outcome = prefix ? await this.checkKey(key, keyAsName ? name : secret, keyAsName || name === '' ? undefined : name, now) : await this.checkPassword(name, secret);
    let result: { account: AccountRecord; organisation?: OrganisationRecord } | string = outcome;
    if (typeof outcome !== 'string') {
      const standing = await this.standing(outcome.account);
      result = typeof standing === 'string' ? standing : { account: outcome.account, ...(standing ? { organisation: standing } : {}) };
    }
    if (typeof result === 'string') {
      await this.audit({ at: now, actor, outcome: 'failure', remote, detail: { via, reason: result, ...(key && prefix ? { key: key.id } : {}) } });
      this.loginObserver('failure');
      throw unauthenticated();
    }
    await this.audit({ at: now, actor: result.account.name, outcome: 'success', remote, detail: { via, ...(key ? { key: key.id } : {}) } });
    this.loginObserver('success');
    if (key) await this.touch(key, now);
    return { ...result, via, actor, ...(key ? { key } : {}) };
  }

  private async audit(e: { at: number; actor: string; outcome: 'success' | 'failure'; remote: string | undefined; detail: Record<string, unknown> }): Promise<void> {
    await this.store.appendAudit({ at: e.at, actor: e.actor, action: 'login', outcome: e.outcome, ...(e.remote ? { remote: e.remote } : {}), detail: e.detail });
  }

  private async checkPassword(name: string, password: string): Promise<{ account: AccountRecord } | string> {
    const account = await this.store.getAccountByName(name);
    if (!account) {
      await decoyVerify(password);
      return 'unknown-account';
    }
    return (await verifySecret(password, account.passwordHash)) ? { account } : 'bad-password';
  }

  /**
   * A key's secret against its record. `claimedName`, the user-id sent beside it, may be any word
   * but the name of another account: that is a client set up with the wrong key, refused rather
   * than served as someone else.
   */
  private async checkKey(key: ApiKeyRecord | undefined, candidate: string, claimedName: string | undefined, now: number): Promise<{ account: AccountRecord } | string> {
    if (!key) return 'unknown-key';
    if (!apiKeyMatches(candidate, key.hash)) return 'bad-key';
    const problem = keyProblem(key, now);
    if (problem) return problem;
    const account = await this.store.getAccount(key.accountId);
    if (!account) return 'unknown-account';
    if (claimedName !== undefined && claimedName !== account.name && (await this.store.getAccountByName(claimedName))) return 'key-of-another-account';
    return { account };
  }

  /** The account's organisation if it may authenticate, else why not. */
  private async standing(account: AccountRecord): Promise<OrganisationRecord | undefined | string> {
    if (account.disabled) return 'account-disabled';
    if (account.organisationId === undefined) return undefined;
    const organisation = await this.store.getOrganisation(account.organisationId);
    if (!organisation || organisation.disabled) return 'organisation-disabled';
    return organisation;
  }

  /** Records a key's use, at most once a minute per key (across instances, by the stored time). */
  private async touch(key: ApiKeyRecord, now: number): Promise<void> {
    const last = Math.max(key.lastUsedAt ?? 0, this.touched.get(key.id) ?? 0);
    if (now - last < TOUCH_INTERVAL) return;
    this.touched.set(key.id, now);
    if (this.touched.size > MAX_CACHE_ENTRIES) this.touched.delete(this.touched.keys().next().value!);
    await this.store.touchApiKey(key.id, now);
  }

  // ---- tokens --------------------------------------------------------------------------------

  /** Issues an access token for a verification (audited as `token.issue`). */
  async issueToken(verified: Verified, remote: string | undefined): Promise<{ token: string; expiresIn: number }> {
    const maxExp = verified.key?.expiresAt !== undefined ? Math.floor(verified.key.expiresAt / 1e6) : undefined;
    const { token, claims } = await this.tokens.issue(
      { accountId: verified.account.id, passwordHash: verified.account.passwordHash, ...(verified.key ? { apiKeyPrefix: verified.key.prefix } : {}) },
      maxExp,
    );
    await this.store.appendAudit({
      at: nowMicros(),
      actor: verified.account.name,
      action: 'token.issue',
      outcome: 'success',
      ...(remote ? { remote } : {}),
      detail: { via: verified.via, jti: claims.jti, exp: claims.exp, ...(verified.key ? { key: verified.key.id } : {}) },
    });
    return { token, expiresIn: claims.exp - claims.iat };
  }

  /** A token's account, if the token is valid and the account, organisation and key still stand. */
  async verifyToken(token: string): Promise<Verified> {
    const claims = await this.tokens.verify(token);
    const account = await this.store.getAccount(claims.sub);
    if (!account || passwordVersion(account.passwordHash) !== claims.pwv) throw new InvalidTokenError('The access token is no longer valid.');
    const standing = await this.standing(account);
    if (typeof standing === 'string') throw new InvalidTokenError('The access token is no longer valid.');
    let key: ApiKeyRecord | undefined;
    if (claims.akp !== undefined) {
      key = await this.store.getApiKeyByPrefix(claims.akp);
      if (!key || key.accountId !== account.id || keyProblem(key, nowMicros())) throw new InvalidTokenError('The access token is no longer valid.');
    }
    return { account, ...(standing ? { organisation: standing } : {}), via: key ? 'api-key' : 'password', ...(key ? { key } : {}) };
  }

  // ---- cache ---------------------------------------------------------------------------------

  private fingerprint(header: string): string {
    return createHmac('sha256', this.cacheKey).update(header).digest('base64url');
  }

  /** A cached verification, after the throttle has had its say (a 429 is thrown while throttled). */
  private async fromCache(fingerprint: string, remote: string | undefined): Promise<Verified | undefined> {
    const entry = this.cache.get(fingerprint);
    if (!entry) return undefined;
    const drop = () => {
      this.cache.delete(fingerprint);
      return undefined;
    };
    if (entry.expires < Date.now()) return drop();
    const wait = await this.throttle.retryAfter(entry.actor, remote, nowMicros());
    if (wait > 0) {
      this.loginObserver('throttled');
      throw throttled(wait);
    }
    const [account, key] = await Promise.all([this.store.getAccount(entry.accountId), entry.keyPrefix ? this.store.getApiKeyByPrefix(entry.keyPrefix) : undefined]);
    if (!account || account.credentialVersion !== entry.credentialVersion) return drop();
    if (entry.keyId !== undefined && (!key || key.id !== entry.keyId || keyProblem(key, nowMicros()))) return drop();
    const standing = await this.standing(account);
    if (typeof standing === 'string') return drop();
    if (key) await this.touch(key, nowMicros());
    return { account, ...(standing ? { organisation: standing } : {}), via: key ? 'api-key' : 'password', ...(key ? { key } : {}) };
  }

  private remember(fingerprint: string, verified: VerifiedLogin): void {
    if (this.settings.authCacheSeconds <= 0) return;
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(fingerprint, {
      actor: verified.actor,
      accountId: verified.account.id,
      credentialVersion: verified.account.credentialVersion,
      ...(verified.key ? { keyId: verified.key.id, keyPrefix: verified.key.prefix } : {}),
      expires: Date.now() + this.settings.authCacheSeconds * 1000,
    });
  }

  // ---- middleware ----------------------------------------------------------------------------

  /** Middleware: sets `res.locals.caller`, or fails with 401 (WWW-Authenticate) or 429 (Retry-After). */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const header = req.headers.authorization ?? '';
      const scheme = /^(\S+)(?: +(\S.*))?$/.exec(header.trim());
      const setCaller = (verified: Verified, via: Via) => {
        const caller: Caller = { account: verified.account, via, ...(verified.organisation ? { organisation: verified.organisation } : {}), ...(req.ip ? { remote: req.ip } : {}) };
        res.locals.caller = caller;
        next();
      };
      /** A credential verified once and then served from the cache (keyed by `fingerprinted`). */
      const cachedLogin = (fingerprinted: string, verify: (done: (err: unknown, verified?: VerifiedLogin | false) => void) => void) => {
        const fingerprint = this.fingerprint(fingerprinted);
        this.fromCache(fingerprint, req.ip).then((cached) => {
          if (cached) return setCaller(cached, cached.via);
          verify((err, verified) => {
            if (err) return next(err);
            if (!verified) return next(unauthenticated('The Authorization header is not valid HTTP Basic.'));
            this.remember(fingerprint, verified);
            setCaller(verified, verified.via);
          });
        }, next);
      };
      // An API key alone is verified like a key given as the Basic user-id with an empty password.
      const keyLogin = (key: string) =>
        cachedLogin(`Key ${key}`, (done) => {
          this.login({ name: key, secret: '' }, req.ip).then((verified) => done(null, verified), done);
        });
      if (scheme && /^basic$/i.test(scheme[1]!)) {
        cachedLogin(header, (done) => this.passport.authenticate('basic', { session: false }, done)(req, res, next));
        return;
      }
      // `Token <key>` (python taxii2-client's TokenAuth) and `Bearer <key>` where the bearer is an
      // API key, not a JWT (a JWT never has the key's shape).
      if (scheme && /^(token|bearer)$/i.test(scheme[1]!) && apiKeyPrefix(scheme[2] ?? '')) {
        keyLogin(scheme[2]!);
        return;
      }
      if (scheme && /^token$/i.test(scheme[1]!)) return next(unauthenticated('A Token credential must be a Meridian API key.'));
      if (scheme && /^bearer$/i.test(scheme[1]!)) {
        // passport-http-bearer wants exactly "Bearer <token>".
        req.headers.authorization = `Bearer ${scheme[2] ?? ''}`;
        this.passport.authenticate('bearer', { session: false }, (err: unknown, verified: Verified | false, challenge?: unknown) => {
          req.headers.authorization = header;
          if (err) return next(err);
          if (!verified) {
            const description = typeof challenge === 'string' ? /error_description="([^"]*)"/.exec(challenge)?.[1] : undefined;
            return next(unauthenticated(description ?? 'The access token is invalid.', description ?? 'The access token is invalid.'));
          }
          setCaller(verified, 'token');
        })(req, res, next);
        return;
      }
      const headerKey = this.settings.apiKeyHeader ? req.get(this.settings.apiKeyHeader)?.trim() : undefined;
      if (!scheme && headerKey) {
        if (!apiKeyPrefix(headerKey)) return next(unauthenticated(`The ${this.settings.apiKeyHeader} header must hold a Meridian API key.`));
        keyLogin(headerKey);
        return;
      }
      next(unauthenticated());
    };
  }
}

function keyProblem(key: ApiKeyRecord, now: number): string | undefined {
  if (key.revokedAt !== undefined) return 'revoked-key';
  if (key.expiresAt !== undefined && key.expiresAt <= now) return 'expired-key';
  return undefined;
}
