// Request bodies of POST …/objects/ (TAXII 2.1 §5.5): read up to the API root's
// max_content_length and not a byte further. A declared length over the limit is refused before
// reading; a chunked or compressed body is refused the moment it passes the limit, its rest is
// dropped unread (up to a cap, then the connection is cut). The limit applies to the decoded bytes, so a
// small gzip bomb cannot expand past it.
//
// The body ends up in shared memory, so the ingest worker reads it without a copy, and a body of
// declared length is written straight into it: a big envelope is held once, not three times.
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

function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** Reads a body of at most `limit` decoded bytes; `tooLarge` makes the 413 past it. */
export function readBody(req: IncomingMessage, limit: number, tooLarge: (limit: number) => TaxiiError = apiRootLimit): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: Readable = req;
  if (encoding !== 'identity') {
    const d = decoder(encoding);
    if (!d) return Promise.reject(new TaxiiError('TAXII_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding}" is not supported (gzip, deflate, br).`));
    source = req.pipe(d);
  }
  // The declared length sizes the body up front; a chunked or compressed one is gathered, then copied.
  const length = Number(declared ?? NaN);
  const expected = encoding === 'identity' && Number.isSafeInteger(length) ? length : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const body = expected === undefined ? undefined : sharedBuffer(expected);
    let size = 0;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
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
      const at = size;
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      // (Node's HTTP parser never passes more than the declared length; never copy past it.)
      else if (body && size > body.length) finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request body is longer than its Content-Length.'));
      else if (body) chunk.copy(body, at);
      else chunks.push(chunk);
    });
    source.on('end', () => finish());
    source.on('error', () => finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', encoding === 'identity' ? 'The request body could not be read.' : `The request body is not valid ${encoding} data.`)));
    req.on('aborted', () => finish(new TaxiiError('TAXII_ERR_BAD_REQUEST', 'The request body was cut short.')));
  });
}
