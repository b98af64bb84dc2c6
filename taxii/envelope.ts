// A POSTed envelope (TAXII 2.1 §3.7) read without building its whole tree: one pass over the bytes
// checks the JSON grammar (RFC 8259) and notes where each item of the top-level "objects" list
// starts and ends; an item is parsed only when it is processed. A 50 MB envelope then costs its
// bytes plus two numbers per object, not a parsed tree several times its size (issue 6).
import { TaxiiError } from './errors.js';

export interface Envelope {
  /** Number of items in the envelope's "objects" list. */
  readonly count: number;
  /** Parses item `index` (0 ≤ index < count). */
  object(index: number): unknown;
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
 * Reads the envelope in `body`. Invalid JSON is a 400 (TAXII_ERR_BAD_JSON); JSON that is not an
 * envelope (or a STIX bundle, which some clients send) is a 422.
 */
export function openEnvelope(body: Uint8Array): Envelope {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
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
  const { starts, ends } = shape;
  return {
    count: starts.length,
    object: (index) => JSON.parse(bytes.toString('utf8', starts[index], ends[index])),
  };
}

interface Shape {
  topIsObject: boolean;
  /** The top-level keys, decoded. */
  keys: string[];
  objects: 'absent' | 'list' | 'other';
  /** Byte offsets of each item of "objects": [starts[i], ends[i]). */
  starts: number[];
  ends: number[];
}

/** One pass over the bytes: the whole grammar is checked, iteratively (no recursion limit). */
function scan(bytes: Buffer): Shape {
  const n = bytes.length;
  const shape: Shape = { topIsObject: false, keys: [], objects: 'absent', starts: [], ends: [] };
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
    else if (c === MINUS || (c! >= ZERO && c! <= NINE)) i = endOfNumber(bytes, i);
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

function endOfNumber(bytes: Buffer, i: number): number {
  if (bytes[i] === MINUS) i++;
  i = bytes[i] === ZERO ? i + 1 : endOfDigits(bytes, i);
  if (bytes[i] === DOT) i = endOfDigits(bytes, i + 1);
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i++;
    if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
    i = endOfDigits(bytes, i);
  }
  return i;
}

function endOfLiteral(bytes: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++, i++) if (bytes[i] !== word.charCodeAt(k)) fail(bytes, i, 'unexpected character');
  return i;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
