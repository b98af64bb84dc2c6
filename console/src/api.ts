// The console's only way to the server: the public APIs (POST /auth/token, /admin/v1/…, TAXII),
// with the access token kept in this module's memory (never in storage, so no script left behind
// and no other tab can read it) and sent as a Bearer token. A 401 or the token's expiry ends the
// session and tells the app, which asks the curator to sign in again.
import type { Me } from './types.js';

const TAXII = 'application/taxii+json;version=2.1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface Session {
  token: string;
  expiresAt: number;
  me: Me;
}

let current: Session | undefined;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
let warningTimer: ReturnType<typeof setTimeout> | undefined;
let onEnded: (reason: 'expired' | 'signed-out') => void = () => undefined;
let onEnding: () => void = () => undefined;
/** How long before the session ends the curator is told, to finish what is open. */
export const WARNING_SECONDS = 60;

export function onSessionEnded(handler: (reason: 'expired' | 'signed-out') => void): void {
  onEnded = handler;
}

export function onSessionEnding(handler: () => void): void {
  onEnding = handler;
}

export function session(): Session | undefined {
  return current;
}

function end(reason: 'expired' | 'signed-out'): void {
  if (expiryTimer) clearTimeout(expiryTimer);
  if (warningTimer) clearTimeout(warningTimer);
  expiryTimer = warningTimer = undefined;
  const had = current !== undefined;
  current = undefined;
  if (had) onEnded(reason);
}

export function signOut(): void {
  end('signed-out');
}

/** The description of an error resource, or the status line. */
function messageOf(status: number, body: unknown): string {
  const b = body as { description?: string; title?: string } | undefined;
  return b?.description ?? b?.title ?? `The server answered ${status}.`;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function signIn(username: string, password: string): Promise<Session> {
  const res = await fetch('/auth/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }), credentials: 'omit' });
  const body = await parse(res);
  if (!res.ok) throw new ApiError(res.status, res.status === 401 ? 'Wrong name or password, or the account is disabled.' : messageOf(res.status, body), body);
  const { access_token: token, expires_in: expiresIn } = body as { access_token: string; expires_in: number };
  const me = (await call<Me>('GET', '/admin/v1/me', undefined, { token })) as Me;
  current = { token, expiresAt: Date.now() + expiresIn * 1000, me };
  // A little before the server's expiry, so no request is sent with a token about to lapse.
  const endsIn = Math.max(0, expiresIn * 1000 - 2000);
  expiryTimer = setTimeout(() => end('expired'), endsIn);
  if (endsIn > 2 * WARNING_SECONDS * 1000) warningTimer = setTimeout(() => onEnding(), endsIn - WARNING_SECONDS * 1000);
  return current;
}

async function call<T>(method: string, path: string, body: unknown, opts: { token?: string; taxii?: boolean } = {}): Promise<T> {
  const token = opts.token ?? current?.token;
  if (!token) throw new ApiError(401, 'Not signed in.');
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: opts.taxii ? TAXII : 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'omit', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const parsed = await parse(res);
  if (res.status === 401 && opts.token === undefined) {
    end('expired');
    throw new ApiError(401, 'Your session has ended; sign in again.', parsed);
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(res.status, parsed), parsed);
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path, undefined),
  post: <T>(path: string, body: unknown) => call<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
  del: (path: string) => call<void>('DELETE', path, undefined),
  taxii: <T>(path: string) => call<T>('GET', path, undefined, { taxii: true }),
};

/** A query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const roles = {
  isAdmin: (me: Me) => me.roles.includes('admin'),
  /** Admins and curators of at least one root: the queue's decisions, the dashboard, publications. */
  decides: (me: Me) => me.roles.includes('admin') || (me.roles.includes('curator') && (me.curator_roots ?? []).length > 0),
  /** Vendors (publishers of an organisation) follow their own entries in the queue, read-only. */
  followsQueue: (me: Me) => me.roles.includes('publisher') && me.organisation !== undefined,
};
