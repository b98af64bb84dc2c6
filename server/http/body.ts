// Request bodies of POST …/objects/ (TAXII 2.1 §5.5): read up to the API root's
// max_content_length and not a byte further. A declared length over the limit is refused before
// reading; a chunked or compressed body is refused the moment it passes the limit, its rest is
// dropped unread (up to a cap, then the connection is cut). The limit applies to the decoded bytes, so a
// small gzip bomb cannot expand past it.
//
// The body ends up in shared memory, so the ingest worker reads it without a copy, and a body of
// declared length is written straight into it: a big envelope is held once, not three times.
// Memory follows the bytes that arrived, never the bytes announced: a declared length only caps
// the shared buffer, which starts small and doubles as the body comes in (each growth one copy of
// what is there, so at most about twice the body in all) — hundreds of requests that declare
// 100 MiB and send a byte hold kilobytes, not gigabytes.
//
// A body that pauses for `idleTimeoutMs` (no byte) is answered 408 and its connection closed, so a
// client trickling nothing cannot hold a request, its socket and its buffer for the whole
// request timeout.
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { TaxiiError } from '../../taxii/errors.js';

/** Bytes of an oversize or broken body read and dropped before the connection is cut. */
const DISCARD_CAP = 64 * 1024 * 1024;

function apiRootLimit(limit: number): TaxiiError {
  return new TaxiiError('TAXII_ERR_TOO_LARGE', `The request body exceeds the API root's max_content_length of ${limit} bytes (TAXII 2.1 §4.2.1).`);
}

function decoder(encoding: string): Transform | undefined {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/** The first shared buffer of a body of declared length; it grows from there as bytes arrive. */
export const INITIAL_BODY_BUFFER = 64 * 1024;

function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

export interface ReadBodyOptions {
  /** Makes the 413 for a body past the limit. */
  tooLarge?: (limit: number) => TaxiiError;
  /** A body with no byte for this long is a 408 (the connection is closed); 0 = never. */
  idleTimeoutMs?: number;
}

/** Reads a body of at most `limit` decoded bytes. */
export function readBody(req: IncomingMessage, limit: number, options: ReadBodyOptions | ((limit: number) => TaxiiError) = {}): Promise<Buffer> {
  const { tooLarge = apiRootLimit, idleTimeoutMs = 0 } = typeof options === 'function' ? { tooLarge: options } : options;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: Readable = req;
  if (encoding !== 'identity') {
    const d = decoder(encoding);
    if (!d) return Promise.reject(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding}" is not supported (gzip, deflate, br).`));
    source = req.pipe(d);
  }
  // The declared length caps a shared buffer that grows as bytes arrive; a chunked or compressed
  // body is gathered, then copied.
  const length = Number(declared ?? NaN);
  const expected = encoding === 'identity' && Number.isSafeInteger(length) ? length : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let body = expected === undefined ? undefined : sharedBuffer(Math.min(expected, INITIAL_BODY_BUFFER));
    let size = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idleTimeoutMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        finish(new TaxiiError('TAXII_ERR_TIMEOUT', `No byte of the request body arrived for ${idleTimeoutMs / 1000} s.`).withHeader('Connection', 'close'));
      }, idleTimeoutMs);
      idle.unref();
    };
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      source.removeAllListeners('data');
      if (err) {
        // Discard what is still coming (never kept) so that the client, still writing, gets to read
        // the error; a client that keeps going far past the limit is cut off.
        req.unpipe();
        let discarded = 0;
        req.on('data', (chunk: Buffer) => {
          discarded += chunk.length;
          if (discarded > DISCARD_CAP) req.socket.destroy();
        });
        req.resume();
        reject(err);
      } else if (body) resolve(body.subarray(0, size));
      else {
        const whole = sharedBuffer(size);
        let at = 0;
        for (const chunk of chunks) at += chunk.copy(whole, at);
        resolve(whole);
      }
    };
    source.on('data', (chunk: Buffer) => {
      arm();
      const at = size;
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      // (Node's HTTP parser never passes more than the declared length; never copy past it.)
      else if (body && size > expected!) finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request body is longer than its Content-Length.'));
      else if (body) {
        if (size > body.length) {
          const grown = sharedBuffer(Math.min(expected!, Math.max(size, body.length * 2)));
          body.copy(grown, 0, 0, at);
          body = grown;
        }
        chunk.copy(body, at);
      } else chunks.push(chunk);
    });
    arm();
    source.on('end', () => finish());
    source.on('error', () => finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', encoding === 'identity' ? 'The request body could not be read.' : `The request body is not valid ${encoding} data.`)));
    req.on('aborted', () => finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request body was cut short.')));
  });
}
