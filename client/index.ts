// The TAXII 2.1 client library: `import { TaxiiClient } from 'meridian-taxii/client'`.
export { ApiRoot, Collection, TaxiiClient, TAXII_MEDIA_TYPE, queryOf } from './client.js';
export type { AddOptions, CallOptions, ChangeEvent, ClientOptions, StreamOptions } from './client.js';
export type { Auth } from './auth.js';
export { TaxiiConnectionError, TaxiiError, TaxiiProtocolError } from './errors.js';
export type { ErrorResource } from './errors.js';
export { backoffDelay, retryAfterSeconds } from './http.js';
export type { RetryOptions, TlsOptions, TransportOptions } from './http.js';
export { SseParser } from './sse.js';
export type { ServerSentEvent } from './sse.js';
export type * from './types.js';
