// Authentication (ARCHITECTURE §7, STYLE habit 12): passport with `session: false`, HTTP Basic
// (TAXII 2.1 §1.6.9). A short-lived cache of successful verifications, keyed by a keyed hash of
// the header, spares the slow password hash on every request; a change of the account's
// credentials, roles or grants (its credentialVersion) drops the entry.
import { createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { BasicStrategy } from 'passport-http';
import type { AccountRecord, Store } from '../../collections/store.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError } from '../../taxii/errors.js';
import { decoyVerify, verifySecret } from './passwords.js';

export const WWW_AUTHENTICATE = 'Basic realm="meridian", charset="UTF-8"';

interface CacheEntry {
  accountId: string;
  credentialVersion: number;
  expires: number;
}

const MAX_CACHE_ENTRIES = 10_000;

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheKey = randomBytes(32);
  private readonly passport = new passport.Passport();

  constructor(
    private readonly store: Store,
    private readonly cacheSeconds: number,
  ) {
    this.passport.use(
      new BasicStrategy((name, password, done) => {
        this.verifyPassword(name, password).then((account) => done(null, account ?? false), done);
      }),
    );
  }

  /** Name + password → the enabled account, or undefined. Constant work for unknown names. */
  async verifyPassword(name: string, password: string): Promise<AccountRecord | undefined> {
    const account = await this.store.getAccountByName(name);
    if (!account) {
      await decoyVerify(password);
      return undefined;
    }
    const ok = await verifySecret(password, account.passwordHash);
    return ok && !account.disabled ? account : undefined;
  }

  private fingerprint(header: string): string {
    return createHmac('sha256', this.cacheKey).update(header).digest('base64url');
  }

  private async fromCache(key: string): Promise<AccountRecord | undefined> {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.cache.delete(key);
      return undefined;
    }
    const account = await this.store.getAccount(entry.accountId);
    if (!account || account.disabled || account.credentialVersion !== entry.credentialVersion) {
      this.cache.delete(key);
      return undefined;
    }
    return account;
  }

  private remember(key: string, account: AccountRecord): void {
    if (this.cacheSeconds <= 0) return;
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { accountId: account.id, credentialVersion: account.credentialVersion, expires: Date.now() + this.cacheSeconds * 1000 });
  }

  /** Middleware: sets `res.locals.caller` or answers 401 with WWW-Authenticate. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const header = req.headers.authorization;
      const unauthenticated = () =>
        next(new TaxiiError('TAXII_ERR_UNAUTHENTICATED', 'Valid credentials are required (HTTP Basic).').withHeader('WWW-Authenticate', WWW_AUTHENTICATE));
      if (!header || !/^basic\s/i.test(header)) return unauthenticated();
      const key = this.fingerprint(header);
      this.fromCache(key).then((cached) => {
        if (cached) {
          res.locals.caller = { account: cached } satisfies Caller;
          return next();
        }
        // passport-http expects the scheme spelled "Basic"; clients may send any case (§6a).
        req.headers.authorization = header.replace(/^basic/i, 'Basic');
        this.passport.authenticate('basic', { session: false }, (err: unknown, account: AccountRecord | false) => {
          if (err) return next(err);
          if (!account) return unauthenticated();
          this.remember(key, account);
          res.locals.caller = { account } satisfies Caller;
          next();
        })(req, res, next);
      }, next);
    };
  }
}
