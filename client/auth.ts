// Credentials, as headers. Every form Meridian accepts (docs/clients.md) and that other TAXII
// servers commonly take: Basic; an API key as Token, Bearer or the Basic password; a fixed Bearer
// token; or a Bearer token obtained from POST /auth/token and renewed before it expires or on a 401.

export type Auth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'api-key'; key: string; form?: 'token' | 'bearer' | 'basic' | { header: string } }
  | { type: 'bearer'; token: string }
  /** POST /auth/token with these credentials (Basic), then Bearer; renewed when it expires or is refused. */
  | { type: 'token'; username?: string; password?: string; apiKey?: string; tokenUrl?: string | URL };

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The static headers of an auth that needs no exchange. */
export function staticHeaders(auth: Exclude<Auth, { type: 'token' }>): Record<string, string> {
  switch (auth.type) {
    case 'basic':
      return { Authorization: basicHeader(auth.username, auth.password) };
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'api-key': {
      const form = auth.form ?? 'basic';
      if (typeof form === 'object') return { [form.header]: auth.key };
      if (form === 'token') return { Authorization: `Token ${auth.key}` };
      if (form === 'bearer') return { Authorization: `Bearer ${auth.key}` };
      return { Authorization: basicHeader('', auth.key) };
    }
  }
}

/** The Basic credentials a token request for a name and password sends. */
export function tokenRequestHeader(auth: Extract<Auth, { type: 'token' }>): string {
  return basicHeader(auth.username ?? '', auth.password ?? '');
}
