// A POSTed envelope (TAXII 2.1 §3.7) read without building its whole tree: one pass over the bytes
// checks the JSON grammar (RFC 8259) and notes where each item of the top-level "objects" list
// starts and ends; an item is parsed only when it is processed. A 50 MB envelope then costs its
// bytes plus two numbers per object, not a parsed tree several times its size.
import { isUtf8 } from 'node:buffer';
import type { Finding } from 'stix2-validator-ts';
import { inexactNumbers, isExactNumberText, isPlainShortNumber } from 'stix2-validator-ts/numbers';
import { TaxiiError } from './errors.js';

export interface Envelope {
  /** Number of items in the envelope's "objects" list. */
  readonly count: number;
  /** Parses item `index` (0 ≤ index < count). */
  object(index: number): unknown;
  /**
   * What only the text of item `index` shows: numbers a double does not hold exactly, which parsing
   * would silently change (STIX_NUMBER_NOT_EXACT). Usually empty, and then free.
   */
  findings(index: number): Finding[];
}

// Bytes of the JSON grammar.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const IN_OBJECT = 1;
const IN_ARRAY = 2;

class SyntaxProblem extends Error {}

/**
 * Reads the envelope in `body`. Invalid JSON, or bytes that are not UTF-8 (RFC 8259 §8.1), are a
 * 400 (TAXII_ERR_BAD_JSON); JSON that is not an envelope (or a STIX bundle, which some clients
 * send) is a 422.
 */
export function openEnvelope(body: Uint8Array): Envelope {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Decoding would replace each bad sequence with U+FFFD and store text the client never sent.
  if (!isUtf8(bytes)) {
    throw new TaxiiError('TAXII_ERR_BAD_JSON', `The request body is not valid UTF-8 (byte offset ${utf8ErrorOffset(bytes)}); JSON text must be UTF-8 (RFC 8259 §8.1).`);
  }
  let shape: Shape;
  try {
    shape = scan(bytes);
  } catch (err) {
    if (!(err instanceof SyntaxProblem)) throw err;
    throw new TaxiiError('TAXII_ERR_BAD_JSON', `The request body is not valid JSON: ${err.message}`);
  }
  if (!shape.topIsObject) {
    throw new TaxiiError('TAXII_ERR_UNPROCESSABLE', 'The request body must be a TAXII envelope: a JSON object with an "objects" list.');
  }
  if (shape.objects === 'absent') {
    // An empty envelope is legal; an object with other content and no "objects" is not an envelope.
    if (!shape.keys.every((k) => k === 'more' || k === 'next')) {
      throw new TaxiiError('TAXII_ERR_UNPROCESSABLE', 'The request body is not a TAXII envelope: it has no "objects" list.');
    }
  } else if (shape.objects === 'other') {
    throw new TaxiiError('TAXII_ERR_UNPROCESSABLE', 'The envelope\'s "objects" must be a list.');
  }
  const { starts, ends, inexact } = shape;
  return {
    count: starts.length,
    object: (index) => JSON.parse(bytes.toString('utf8', starts[index], ends[index])),
    findings: (index) => {
      if (inexact.length === 0) return [];
      // Is a noted token inside this item? (Both lists are in byte order.)
      const from = starts[index]!;
      const to = ends[index]!;
      let lo = 0;
      let hi = inexact.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (inexact[mid]! < from) lo = mid + 1;
        else hi = mid;
      }
      if (lo === inexact.length || inexact[lo]! >= to) return [];
      // Rare: walk this one item again to name the paths.
      return inexactNumbers(bytes.toString('utf8', from, to));
    },
  };
}

/**
 * The offset of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629 §4:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or `bytes.length` when the text ends
 * inside a sequence. Only called once isUtf8 has said no, so it may be slow.
 */
export function utf8ErrorOffset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Length of the sequence, and the range its second byte must be in.
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k];
      if (c === undefined) return n;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return n;
}

interface Shape {
  topIsObject: boolean;
  /** The top-level keys, decoded. */
  keys: string[];
  objects: 'absent' | 'list' | 'other';
  /** Byte offsets of each item of "objects": [starts[i], ends[i]). */
  starts: number[];
  ends: number[];
  /** Byte offsets of the number tokens a double does not hold exactly, in order. */
  inexact: number[];
}

/** One pass over the bytes: the whole grammar is checked, iteratively (no recursion limit). */
function scan(bytes: Buffer): Shape {
  const n = bytes.length;
  const shape: Shape = { topIsObject: false, keys: [], objects: 'absent', starts: [], ends: [], inexact: [] };
  const stack: number[] = [];
  let i = 0;
  // The current top-level key is "objects"; the items of its list are being noted.
  let objectsKey = false;
  let collecting = false;

  /** Reads a key and its colon; notes the top-level ones. */
  const key = () => {
    i = skipSpace(bytes, i);
    if (bytes[i] !== QUOTE) fail(bytes, i, 'expected a string key');
    const from = i;
    i = endOfString(bytes, i);
    if (stack.length === 1) {
      const name = JSON.parse(bytes.toString('utf8', from, i)) as string;
      shape.keys.push(name);
      objectsKey = name === 'objects';
    }
    i = skipSpace(bytes, i);
    if (bytes[i] !== COLON) fail(bytes, i, 'expected ":"');
    i++;
  };

  for (;;) {
    // A value starts here.
    i = skipSpace(bytes, i);
    const depth = stack.length;
    if (collecting && depth === 2) shape.starts.push(i);
    const c = bytes[i];
    const objectsValue = depth === 1 && objectsKey;
    if (objectsValue) {
      // The last "objects" wins, as with JSON.parse.
      shape.starts = [];
      shape.ends = [];
      shape.objects = c === OPEN_ARRAY ? 'list' : 'other';
      objectsKey = false;
    }
    if (depth === 0) shape.topIsObject = c === OPEN_OBJECT;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      i = skipSpace(bytes, i + 1);
      if (bytes[i] !== c + 2) {
        stack.push(c === OPEN_OBJECT ? IN_OBJECT : IN_ARRAY);
        if (objectsValue && c === OPEN_ARRAY) collecting = true;
        if (c === OPEN_OBJECT) key();
        continue;
      }
      i++; // {} or []: closed at once
    } else if (c === QUOTE) i = endOfString(bytes, i);
    else if (c === MINUS || (c! >= ZERO && c! <= NINE)) i = endOfNumber(bytes, i, shape.inexact);
    else if (c === 0x74) i = endOfLiteral(bytes, i, 'true');
    else if (c === 0x66) i = endOfLiteral(bytes, i, 'false');
    else if (c === 0x6e) i = endOfLiteral(bytes, i, 'null');
    else fail(bytes, i, 'unexpected character');

    // A value ended here: close containers until one has more to come.
    for (;;) {
      if (collecting && stack.length === 2) shape.ends.push(i);
      i = skipSpace(bytes, i);
      if (stack.length === 0) {
        if (i < n) fail(bytes, i, 'unexpected content after the JSON value');
        return shape;
      }
      const top = stack[stack.length - 1];
      const b = bytes[i];
      if (b === COMMA) {
        i++;
        if (top === IN_OBJECT) key();
        break;
      }
      if (b !== (top === IN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) fail(bytes, i, top === IN_OBJECT ? 'expected "," or "}"' : 'expected "," or "]"');
      i++;
      stack.pop();
      if (stack.length === 1) collecting = false;
    }
  }
}

function fail(bytes: Buffer, i: number, what: string): never {
  throw new SyntaxProblem(i >= bytes.length ? 'unexpected end of input' : `${what} at byte ${i}`);
}

function skipSpace(bytes: Buffer, i: number): number {
  for (let c = bytes[i]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = bytes[++i]);
  return i;
}

/** `i` is at the opening quote; returns the index after the closing one. */
function endOfString(bytes: Buffer, i: number): number {
  for (i++; ; i++) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    if (c === undefined) fail(bytes, i, 'unterminated string');
    if (c! < 0x20) fail(bytes, i, 'control character in a string');
    if (c === BACKSLASH) {
      const e = bytes[++i];
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHex(bytes[++i])) fail(bytes, i, 'bad \\u escape');
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) fail(bytes, i, 'bad escape');
    }
  }
}

function endOfDigits(bytes: Buffer, i: number): number {
  const from = i;
  while (bytes[i]! >= ZERO && bytes[i]! <= NINE) i++;
  if (i === from) fail(bytes, i, 'expected a digit');
  return i;
}

/** Also notes, in `inexact`, a token whose value a double would change (numbers.ts). */
function endOfNumber(bytes: Buffer, i: number, inexact: number[]): number {
  const from = i;
  if (bytes[i] === MINUS) i++;
  i = bytes[i] === ZERO ? i + 1 : endOfDigits(bytes, i);
  if (bytes[i] === DOT) i = endOfDigits(bytes, i + 1);
  let exponent = false;
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    exponent = true;
    i++;
    if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
    i = endOfDigits(bytes, i);
  }
  // Short plain tokens (nearly all of them) are exact; the rest are checked on their text.
  if (!isPlainShortNumber(i - from, exponent) && !isExactNumberText(bytes.toString('latin1', from, i))) inexact.push(from);
  return i;
}

function endOfLiteral(bytes: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++, i++) if (bytes[i] !== word.charCodeAt(k)) fail(bytes, i, 'unexpected character');
  return i;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
