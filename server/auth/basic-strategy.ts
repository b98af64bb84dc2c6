// HTTP Basic (RFC 7617) as a passport strategy. passport-http's BasicStrategy splits the
// credentials at every colon (a password containing ":" is cut short) and refuses an empty
// password, which an API key given as the user-id needs (docs/architecture.md §6a); this one splits at the
// first colon only, decodes UTF-8, and takes the scheme name in any case.
import type { Request } from 'express';
import passport from 'passport';

export interface BasicCredentials {
  name: string;
  secret: string;
}

/** The user-id and password of a Basic Authorization header, or undefined if it is not one. */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  const match = /^basic +([A-Za-z0-9+/=_-]+) *$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export type BasicVerify = (req: Request, credentials: BasicCredentials, done: (err: unknown, user?: unknown) => void) => void;

export class BasicStrategy extends passport.Strategy {
  override name = 'basic';

  constructor(private readonly verify: BasicVerify) {
    super();
  }

  override authenticate(req: Request): void {
    const credentials = parseBasic(req.headers.authorization);
    // An empty user-id is allowed (RFC 7617): an API key as the password needs none.
    if (!credentials || (credentials.name === '' && credentials.secret === '')) return this.fail(400);
    this.verify(req, credentials, (err, user) => {
      if (err) return this.error(err);
      if (!user) return this.fail(401);
      this.success(user);
    });
  }
}
