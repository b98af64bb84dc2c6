// POST /auth/token: exchanges credentials — HTTP Basic (password or API key), or a body
// `{"username", "password"}` or `{"api_key"}` (JSON, or an OAuth-style form) — for a short-lived
// Bearer token in the OAuth 2.0 token-response shape (RFC 6749 §5.1). Failures are TAXII error
// resources like everywhere else. Bodies are never logged or echoed (a JSON parse error message
// would quote the body).
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { TaxiiError } from '../../taxii/errors.js';
import { readBody } from '../http/body.js';
import { type Authenticator, unauthenticated } from './authenticate.js';
import { type BasicCredentials, parseBasic } from './basic-strategy.js';

export const TOKEN_PATH = '/auth/token';
const MAX_BODY = 16 * 1024;
const BODY_FIELDS = new Set(['username', 'password', 'api_key', 'grant_type', 'scope', 'client_id']);
const GRANT_TYPES = new Set(['password', 'client_credentials']);

function badRequest(description: string): TaxiiError {
  return new TaxiiError('TAXII_ERR_BAD_REQUEST', description);
}

/** The (small) body, never more than MAX_BODY bytes read; not logged anywhere. */
function readTokenBody(req: Request): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return Promise.reject(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'The token request must not be compressed.'));
  return readBody(req, MAX_BODY, tooLarge);
}

function tooLarge(): TaxiiError {
  return new TaxiiError('TAXII_ERR_TOO_LARGE', `A token request body is at most ${MAX_BODY} bytes.`);
}

/** The body's fields: JSON object or application/x-www-form-urlencoded; undefined when empty. */
function bodyFields(contentType: string | undefined, body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      if (k in fields) throw badRequest(`The field "${k}" is repeated.`);
      fields[k] = v;
    }
    return fields;
  }
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send credentials as application/json ({"username", "password"} or {"api_key"}), as a form, or with HTTP Basic.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TaxiiError('TAXII_ERR_BAD_JSON', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('The request body must be a JSON object: {"username", "password"} or {"api_key"}.');
  return value as Record<string, unknown>;
}

/** Credentials from the body fields, with clear errors for every malformed shape. */
function credentialsOf(fields: Record<string, unknown>): BasicCredentials {
  const unknown = Object.keys(fields).filter((k) => !BODY_FIELDS.has(k));
  if (unknown.length) throw badRequest(`Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; expected {"username", "password"} or {"api_key"}.`);
  for (const k of Object.keys(fields)) if (typeof fields[k] !== 'string') throw badRequest(`The field "${k}" must be a string.`);
  const { username, password, api_key: apiKey, grant_type: grantType } = fields as Record<string, string | undefined>;
  if (grantType !== undefined && !GRANT_TYPES.has(grantType)) throw badRequest('grant_type, when given, must be "password" or "client_credentials".');
  if (apiKey !== undefined) {
    if (password !== undefined) throw badRequest('Give either "api_key" or "password", not both.');
    if (apiKey === '') throw badRequest('The field "api_key" is empty.');
    // Same as Basic with the key as user-id; a username, if given, must be the key's account.
    return username !== undefined ? { name: username, secret: apiKey } : { name: apiKey, secret: '' };
  }
  if (username === undefined || password === undefined) throw badRequest('Both "username" and "password" are required (or "api_key").');
  if (username === '' || password === '') throw badRequest('"username" and "password" must not be empty.');
  return { name: username, secret: password };
}

/** The POST handler; every other method is a 405. */
export function tokenEndpoint(auth: Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    (async () => {
      const header = req.headers.authorization;
      const fields = bodyFields(req.headers['content-type'], await readTokenBody(req));
      let credentials: BasicCredentials;
      if (header !== undefined) {
        if (!/^basic\s/i.test(header)) throw unauthenticated('Exchange a password or API key for a token: use HTTP Basic or a JSON body, not a Bearer token.');
        const basic = parseBasic(header);
        if (!basic || basic.name === '') throw unauthenticated('The Authorization header is not valid HTTP Basic.');
        if (fields && Object.keys(fields).some((k) => k === 'username' || k === 'password' || k === 'api_key')) throw badRequest('Give credentials either in the Authorization header or in the body, not both.');
        credentials = basic;
      } else if (fields) {
        credentials = credentialsOf(fields);
      } else {
        throw unauthenticated('Credentials are required: HTTP Basic, or a JSON body {"username", "password"} or {"api_key"}.');
      }
      const verified = await auth.login(credentials, req.ip);
      const { token, expiresIn } = await auth.issueToken(verified, req.ip);
      res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: expiresIn }));
    })().catch(next);
  };
}

export function mountTokenEndpoint(app: Express, auth: Authenticator): void {
  app
    .route(TOKEN_PATH)
    .post(tokenEndpoint(auth))
    .all((_req, _res, next) => next(new TaxiiError('TAXII_ERR_METHOD_NOT_ALLOWED', `${TOKEN_PATH} accepts POST only.`).withHeader('Allow', 'POST')));
}
