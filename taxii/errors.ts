// TAXII 2.1 §3.6 errors. Every failure the server reports is a TaxiiError whose toJSON() is the
// spec's error resource; `error_code` values come from this catalogue, documented in docs/errors.md.

export const ERROR_CATALOGUE = {
  TAXII_ERR_BAD_REQUEST: { status: 400, title: 'Bad request' },
  TAXII_ERR_BAD_FILTER: { status: 400, title: 'Malformed or repeated query parameter' },
  TAXII_ERR_BAD_NEXT: { status: 400, title: 'Invalid paging token' },
  TAXII_ERR_BAD_JSON: { status: 400, title: 'Request body is not valid JSON' },
  TAXII_ERR_INVALID: { status: 400, title: 'Invalid request' },
  TAXII_ERR_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  TAXII_ERR_FORBIDDEN: { status: 403, title: 'Forbidden' },
  TAXII_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  TAXII_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  TAXII_ERR_NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable' },
  TAXII_ERR_TIMEOUT: { status: 408, title: 'Request timeout' },
  TAXII_ERR_CONFLICT: { status: 409, title: 'Conflict' },
  TAXII_ERR_RESYNC: { status: 410, title: 'Cursor older than the change log: resync' },
  TAXII_ERR_TOO_LARGE: { status: 413, title: 'Request body too large' },
  TAXII_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  TAXII_ERR_RANGE_NOT_SATISFIABLE: { status: 416, title: 'Requested range not satisfiable' },
  TAXII_ERR_UNPROCESSABLE: { status: 422, title: 'Unprocessable content' },
  TAXII_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  TAXII_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  TAXII_ERR_INTERNAL: { status: 500, title: 'Internal server error' },
  TAXII_ERR_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorResource {
  title: string;
  description?: string;
  error_id?: string;
  error_code: ErrorCode;
  http_status: string;
  details?: Record<string, unknown>;
}

export class TaxiiError extends Error {
  readonly status: number;
  readonly title: string;
  /** Extra response headers this error needs (WWW-Authenticate, Allow, Retry-After …). */
  headers: Record<string, string> = {};

  constructor(
    readonly code: ErrorCode,
    readonly description?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(description ?? ERROR_CATALOGUE[code].title);
    this.name = 'TaxiiError';
    this.status = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  toJSON(errorId?: string): ErrorResource {
    return {
      title: this.title,
      ...(this.description ? { description: this.description } : {}),
      ...(errorId ? { error_id: errorId } : {}),
      error_code: this.code,
      http_status: String(this.status),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** The one 404 every hidden or missing resource shares, so existence never leaks (docs/architecture.md §7). */
export function notFound(what = 'The requested resource was not found, or you do not have access to it.'): TaxiiError {
  return new TaxiiError('TAXII_ERR_NOT_FOUND', what);
}

export function badFilter(description: string): TaxiiError {
  return new TaxiiError('TAXII_ERR_BAD_FILTER', description);
}

/** One JSON Schema (ajv) error, as a caller reads it. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** The problems a JSON Schema found in a request body, each with its path, once each: one description. */
export function schemaProblems(errors: readonly SchemaError[] | null | undefined): string {
  const problems = (errors ?? []).map((e) => {
    const where = e.instancePath || '(body)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown property "${String(e.params.additionalProperty)}"`;
    if (e.keyword === 'enum') return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    if (e.keyword === 'minProperties') return `${where}: nothing to change`;
    return `${where}: ${e.message ?? 'invalid'}`;
  });
  return [...new Set(problems)].join('; ');
}
