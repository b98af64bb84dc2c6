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
// Caps (also configurable): maxHeaderBytes (16 KiB, Node's default, set here on purpose: a TAXII
// request needs a few hundred bytes, a long match[id] list a few KiB); maxConnectionsPerAddress
// (256 open connections from one address, so one client cannot hold every socket slowloris-style)
// and maxConnections (10,000 in all, beyond which Node drops new connections).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type ErrorCode, TaxiiError } from '../../taxii/errors.js';
import { TAXII_MEDIA_TYPE } from '../../taxii/media-types.js';

type Timeouts = Pick<Config, 'headersTimeoutSeconds' | 'requestTimeoutSeconds' | 'keepAliveTimeoutSeconds' | 'maxHeaderBytes'>;

/** Node's server options for the configured timeouts and header cap. */
export function serverOptions(config: Readonly<Timeouts>): http.ServerOptions {
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  // Node refuses a headers timeout longer than a (non-zero) request timeout.
  const headersTimeout = requestTimeout > 0 ? Math.min(config.headersTimeoutSeconds * 1000, requestTimeout) : config.headersTimeoutSeconds * 1000;
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    maxHeaderSize: config.maxHeaderBytes,
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

/** Seconds a client with too many open connections is told to wait. */
const CONNECTIONS_RETRY_SECONDS = 5;
/** How long a connection beyond the cap may take to send the request it is refused on. */
const REFUSED_CONNECTION_MS = 5000;

/**
 * Caps open connections per client address. A connection beyond the cap is not handed to the app:
 * its first request is answered 429 with a TAXII error and `Connection: close`, and one that sends
 * nothing is closed after a few seconds. Counted on the TCP connection, so of no use behind a proxy
 * (every connection is the proxy's).
 */
export class ConnectionCap {
  private readonly open = new Map<string, number>();
  private readonly refused = new WeakSet<Socket>();

  constructor(
    private readonly max: number,
    private readonly logger: Logger,
  ) {}

  /** The request listener: the app, unless the connection is one too many. */
  guard(app: http.RequestListener): http.RequestListener {
    return (req, res) => {
      if (!this.refused.has(req.socket)) return app(req, res);
      const id = randomUUID();
      const error = new TaxiiError('TAXII_ERR_RATE_LIMITED', `Too many open connections from this address (at most ${this.max}); try again in ${CONNECTIONS_RETRY_SECONDS} seconds.`);
      const body = JSON.stringify(error.toJSON(id));
      res.writeHead(error.status, { 'Content-Type': TAXII_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(body), 'Retry-After': String(CONNECTIONS_RETRY_SECONDS), 'X-Request-Id': id, Connection: 'close' });
      res.end(body);
    };
  }

  /** Counts the server's connections by address (over TLS: those past the handshake, the sockets requests arrive on). */
  attach(server: http.Server): void {
    server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const count = (this.open.get(address) ?? 0) + 1;
      if (count > this.max) {
        this.refused.add(socket);
        socket.setTimeout(REFUSED_CONNECTION_MS, () => socket.destroy());
        this.logger.warn({ event: 'connection refused', remote: address, open: this.max }, 'too many connections from one address');
        return;
      }
      this.open.set(address, count);
      socket.once('close', () => {
        const left = (this.open.get(address) ?? 1) - 1;
        if (left > 0) this.open.set(address, left);
        else this.open.delete(address);
      });
    });
  }
}

/** The certificate and key files of the configuration, read now. */
function tlsFiles(config: Readonly<Pick<Config, 'tlsCert' | 'tlsKey'>>): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) };
}

/** The server `meridian serve` listens with: HTTPS when the config has a certificate. */
export function createHttpServer(config: Readonly<Config>, app: http.RequestListener, logger: Logger): http.Server {
  const options = serverOptions(config);
  const cap = !config.trustProxy && config.maxConnectionsPerAddress > 0 ? new ConnectionCap(config.maxConnectionsPerAddress, logger) : undefined;
  const listener = cap ? cap.guard(app) : app;
  const server = config.tlsCert ? https.createServer({ ...options, ...tlsFiles(config), minVersion: 'TLSv1.2' }, listener) : http.createServer(options, listener);
  server.on('clientError', clientErrorHandler(logger));
  cap?.attach(server);
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections;
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
