// Errors the client throws. A server's answer that is an error is a TaxiiError carrying the TAXII
// 2.1 §3.6 error resource (or what the server sent instead); a server that cannot be reached, or
// answered in a way no TAXII server would, is a TaxiiConnectionError / TaxiiProtocolError.

/** The error resource of TAXII 2.1 §3.6, as far as the server sent one. */
export interface ErrorResource {
  title?: string;
  description?: string;
  error_id?: string;
  error_code?: string;
  http_status?: string;
  external_details?: string;
  details?: Record<string, unknown>;
}

export class TaxiiError extends Error {
  /** The HTTP status of the response. */
  readonly http_status: number;
  /** e.g. TAXII_ERR_NOT_FOUND (Meridian's catalogue); absent when the server gave none. */
  readonly error_code: string | undefined;
  /** The server's id of this failure (Meridian: the request id, also X-Request-Id). */
  readonly error_id: string | undefined;
  readonly title: string;
  readonly description: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The request that failed (never with credentials: the client puts none in URLs). */
  readonly method: string;
  readonly url: string;
  /** Seconds the server asked to wait (Retry-After), when it did. */
  readonly retryAfter: number | undefined;

  constructor(init: { status: number; method: string; url: string; resource?: ErrorResource; requestId?: string; retryAfter?: number }) {
    const r = init.resource ?? {};
    const title = r.title ?? `HTTP ${init.status}`;
    super(`${init.method} ${init.url}: ${init.status} ${r.description ?? title}${r.error_code ? ` (${r.error_code})` : ''}`);
    this.name = 'TaxiiError';
    this.http_status = init.status;
    this.error_code = r.error_code;
    this.error_id = r.error_id ?? init.requestId;
    this.title = title;
    this.description = r.description;
    this.details = r.details;
    this.method = init.method;
    this.url = init.url;
    this.retryAfter = init.retryAfter;
  }
}

/** The server could not be reached (DNS, refused, reset, TLS, timeout) after the retries allowed. */
export class TaxiiConnectionError extends Error {
  readonly code: string | undefined;
  constructor(message: string, options: { code?: string | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TaxiiConnectionError';
    this.code = options.code;
  }
}

/** The server answered, but not as TAXII 2.1 says (not JSON, no resource where one must be, a cursor that never advances). */
export class TaxiiProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaxiiProtocolError';
  }
}
