// The HTTP(S) server around the app, as `meridian serve` runs it: deliberate timeouts, and a TAXII
// error resource for the requests Node's parser rejects before the app sees them.
//
// Timeouts (all configurable, README "Configuration"):
// - headersTimeoutSeconds (30): the request line and headers take a few hundred bytes; a client
//   slower than this is broken or hostile (slowloris), and holds a socket for nothing.
// - requestTimeoutSeconds (600): a whole request including its body. An API root may accept large
//   envelopes over slow links, so the cap is generous; a stalled body is caught much earlier by
//   bodyIdleTimeoutSeconds (server/http/body.ts), which only a body that keeps moving survives.
// - keepAliveTimeoutSeconds (65): longer than the usual 60 s idle timeout of load balancers, so the
//   proxy, not us, closes an idle upstream connection (otherwise it may reuse one we just closed and
//   answer its client 502); polling clients reuse their TLS session.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type ErrorCode, TaxiiError } from '../../taxii/errors.js';
import { TAXII_MEDIA_TYPE } from '../../taxii/media-types.js';

type Timeouts = Pick<Config, 'headersTimeoutSeconds' | 'requestTimeoutSeconds' | 'keepAliveTimeoutSeconds'>;

/** Node's server options for the configured timeouts. */
export function serverOptions(config: Readonly<Timeouts>): http.ServerOptions {
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  // Node refuses a headers timeout longer than a (non-zero) request timeout.
  const headersTimeout = requestTimeout > 0 ? Math.min(config.headersTimeoutSeconds * 1000, requestTimeout) : config.headersTimeoutSeconds * 1000;
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    // How often Node looks for requests past those timeouts: at most a quarter of the shortest, so a
    // 30 s timeout fires within 30–37.5 s rather than Node's default of up to 30 s late.
    connectionsCheckingInterval: Math.max(100, Math.min(5000, headersTimeout / 4)),
  };
}

function parserError(err: Error & { code?: string }): { code: ErrorCode; description: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'TAXII_ERR_HEADERS_TOO_LARGE', description: 'The request line and headers are larger than the server accepts.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return { code: 'TAXII_ERR_TIMEOUT', description: 'The request was not received in time; the connection is closed.' };
    default:
      return { code: 'TAXII_ERR_BAD_REQUEST', description: `The request is not valid HTTP/1.1${err.code ? ` (${err.code})` : ''}; the connection is closed.` };
  }
}

/**
 * The 'clientError' listener: a raw HTTP/1.1 response carrying the TAXII error resource the app's
 * error middleware would make, then the connection is closed (after a framing error nothing more
 * on it can be trusted). A reset connection is closed silently: nobody is left to read an answer.
 */
export function clientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    // A response already on its way (the app answered, then the client broke the framing) cannot
    // be followed by another one on the same connection.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, description } = parserError(err);
    const error = new TaxiiError(code, description);
    const id = randomUUID();
    logger.info({ event: 'client error', req: { id }, status: error.status, code: err.code }, 'request rejected by the HTTP parser');
    const body = JSON.stringify(error.toJSON(id));
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
        `Content-Type: ${TAXII_MEDIA_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${id}\r\n` +
        `Date: ${new Date().toUTCString()}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  };
}

/** The certificate and key files of the configuration, read now. */
function tlsFiles(config: Readonly<Pick<Config, 'tlsCert' | 'tlsKey'>>): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) };
}

/** The server `meridian serve` listens with: HTTPS when the config has a certificate. */
export function createHttpServer(config: Readonly<Config>, app: http.RequestListener, logger: Logger): http.Server {
  const options = serverOptions(config);
  const server = config.tlsCert ? https.createServer({ ...options, ...tlsFiles(config), minVersion: 'TLSv1.2' }, app) : http.createServer(options, app);
  server.on('clientError', clientErrorHandler(logger));
  return server;
}

/**
 * Reads the certificate and key files again and uses them for new TLS connections (SIGHUP, after a
 * renewal); open connections keep the session they have. A pair that cannot be read or does not
 * match is refused and the current one kept, so a half-written renewal never takes the server down.
 */
export function reloadTls(server: http.Server, config: Readonly<Config>, logger: Logger): boolean {
  if (!config.tlsCert || !(server instanceof https.Server)) return false;
  try {
    server.setSecureContext({ ...tlsFiles(config), minVersion: 'TLSv1.2' });
  } catch (err) {
    logger.error({ event: 'tls reload', err: { message: (err as Error).message } }, 'the certificate and key could not be loaded; the current ones stay in use');
    return false;
  }
  logger.info({ event: 'tls reload', cert: config.tlsCert }, 'certificate and key reloaded');
  return true;
}
