// API keys: `mrd_<prefix>_<secret>`. The prefix finds the key; the whole key is stored only as a
// SHA-256 hash (256 random bits need no slow hash) and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY = /^mrd_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): { prefix: string; secret: string; hash: string } {
  const prefix = randomBytes(8).toString('hex');
  const secret = `mrd_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { prefix, secret, hash: digest(secret) };
}

/** The prefix of something shaped like an API key, else undefined. */
export function apiKeyPrefix(candidate: string): string | undefined {
  return KEY.exec(candidate)?.[1];
}

export function apiKeyMatches(candidate: string, hash: string): boolean {
  const a = Buffer.from(digest(candidate), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
