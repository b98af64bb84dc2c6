// Bearer access tokens (docs/architecture.md §7): JWTs signed with one pinned algorithm — HS256
// with a configured secret (or a random one kept in the store, so every instance agrees), or
// RS256/ES256 with configured key files. Verification accepts only that algorithm (never `none`)
// and requires `exp`, `iat`, `iss` and `aud`.
//
// What ends a token early: the token carries the account id (`sub`), a fingerprint of the password
// hash (`pwv`) and, when it was obtained with an API key, that key's prefix (`akp`). Every request
// loads the account, its organisation and the key afresh, so a disabled or deleted account, a
// disabled organisation, a changed password and a revoked or expired key end the token at once.
// Roles and grants are also read afresh on every request, so changing them needs no new token:
// the token deliberately does not carry `credentialVersion`, which grant changes bump too.
import { type KeyObject, createHash, createPrivateKey, createPublicKey, createSecretKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface AccessTokenSettings {
  algorithm: JwtAlgorithm;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** HS256: the configured secret (UTF-8); absent = `secret()` below. */
  secret?: string;
  privateKeyFile?: string;
  publicKeyFile?: string;
}

export interface AccessTokenClaims {
  sub: string;
  pwv: string;
  akp?: string;
  jti: string;
  iat: number;
  exp: number;
}

/** Leeway for clocks of several instances. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** A short fingerprint of the stored password hash: changes whenever the password does. */
export function passwordVersion(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);
}

export class InvalidTokenError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

interface Keys {
  sign: KeyObject;
  verify: KeyObject;
}

function readKey(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the JWT ${what} key file ${file}: ${(err as Error).message}`);
  }
}

/** Loads and checks the key files of RS256/ES256 (the public key may be derived from the private one). */
function asymmetricKeys(settings: AccessTokenSettings): Keys {
  if (!settings.privateKeyFile) throw new Error(`jwtAlgorithm ${settings.algorithm} needs jwtPrivateKeyFile`);
  const sign = createPrivateKey(readKey(settings.privateKeyFile, 'private'));
  const verify = settings.publicKeyFile ? createPublicKey(readKey(settings.publicKeyFile, 'public')) : createPublicKey(sign);
  const expected = settings.algorithm === 'RS256' ? 'rsa' : 'ec';
  for (const key of [sign, verify]) {
    if (key.asymmetricKeyType !== expected) throw new Error(`jwtAlgorithm ${settings.algorithm} needs ${expected.toUpperCase()} keys, not ${key.asymmetricKeyType ?? 'unknown'}`);
    if (expected === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('ES256 needs keys on the P-256 curve');
  }
  return { sign, verify };
}

export class AccessTokens {
  private keys: Promise<Keys> | undefined;

  /**
   * Key files are read here, so a misconfiguration fails at start-up; the HS256 secret kept in the
   * store is fetched on first use (`storeSecret`).
   */
  constructor(
    readonly settings: AccessTokenSettings,
    private readonly storeSecret: () => Promise<Buffer>,
  ) {
    if (settings.algorithm !== 'HS256') this.keys = Promise.resolve(asymmetricKeys(settings));
    else if (settings.secret) {
      const key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
      this.keys = Promise.resolve({ sign: key, verify: key });
    }
  }

  private getKeys(): Promise<Keys> {
    this.keys ??= this.storeSecret().then((secret) => {
      const key = createSecretKey(secret);
      return { sign: key, verify: key };
    });
    return this.keys;
  }

  /** Signs a token for the account; `maxExp` (seconds since the epoch) caps its expiry (an API key's). */
  async issue(subject: { accountId: string; passwordHash: string; apiKeyPrefix?: string }, maxExp?: number): Promise<{ token: string; claims: AccessTokenClaims }> {
    const { sign } = await this.getKeys();
    const iat = Math.floor(Date.now() / 1000);
    const exp = Math.min(iat + this.settings.ttlSeconds, maxExp ?? Number.POSITIVE_INFINITY);
    const claims: AccessTokenClaims = {
      sub: subject.accountId,
      pwv: passwordVersion(subject.passwordHash),
      ...(subject.apiKeyPrefix ? { akp: subject.apiKeyPrefix } : {}),
      jti: randomUUID(),
      iat,
      exp,
    };
    const token = jwt.sign({ ...claims, iss: this.settings.issuer, aud: this.settings.audience }, sign, { algorithm: this.settings.algorithm });
    return { token, claims };
  }

  /** The claims of a valid token of ours; InvalidTokenError otherwise. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const { verify } = await this.getKeys();
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, verify, {
        algorithms: [this.settings.algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxAge: this.settings.ttlSeconds + CLOCK_TOLERANCE_SECONDS,
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new InvalidTokenError('The access token expired.', true);
      throw new InvalidTokenError('The access token is invalid.');
    }
    if (typeof payload === 'string') throw new InvalidTokenError('The access token is invalid.');
    const { sub, pwv, akp, jti, iat, exp } = payload as Record<string, unknown>;
    const now = Date.now() / 1000;
    if (typeof sub !== 'string' || typeof pwv !== 'string' || typeof jti !== 'string' || (akp !== undefined && typeof akp !== 'string')) throw new InvalidTokenError('The access token is invalid.');
    if (typeof iat !== 'number' || typeof exp !== 'number' || iat > now + CLOCK_TOLERANCE_SECONDS || exp <= iat || exp - iat > this.settings.ttlSeconds) throw new InvalidTokenError('The access token is invalid.');
    return { sub, pwv, jti, iat, exp, ...(typeof akp === 'string' ? { akp } : {}) };
  }
}
