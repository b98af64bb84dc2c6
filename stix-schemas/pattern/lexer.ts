// Hand-written, on-demand lexer for STIX patterns (§9.2 constants, §9.4 whitespace). It keeps the
// current token in fields instead of allocating token objects, because indicators are validated in
// bulk and a typical pattern must lex in a few microseconds. Token kinds are typed `number` so that
// TypeScript does not keep a narrowed kind across next().
import type { PatternCode } from './codes.js';

export const T_EOF: number = 0;
export const T_IDENT: number = 1;
export const T_STRING: number = 2;
export const T_INT: number = 3;
export const T_FLOAT: number = 4;
export const T_HEX: number = 5;
export const T_BINARY: number = 6;
export const T_TIMESTAMP: number = 7;
export const T_LBRACK: number = 8;
export const T_RBRACK: number = 9;
export const T_LPAREN: number = 10;
export const T_RPAREN: number = 11;
export const T_COLON: number = 12;
export const T_DOT: number = 13;
export const T_COMMA: number = 14;
export const T_STAR: number = 15;
export const T_OP: number = 16;

export const TOKEN_NAMES = [
  'end of pattern', 'identifier', 'string', 'integer', 'float', "hex constant h'…'", "binary constant b'…'",
  "timestamp t'…'", "'['", "']'", "'('", "')'", "':'", "'.'", "','", "'*'", 'operator',
];

/** Receives the findings the lexer and parser produce; `at` is an offset into the pattern. */
export interface Sink {
  /**
   * `key` names what the finding is about (an object path): a second finding of the same code and key is not
   * reported again but counted, so a pattern repeating one mistake gets one finding per property per rule.
   */
  report(code: PatternCode, at: number, message: string, key?: string): void;
  /** Reports and stops parsing: the pattern cannot be read any further. */
  fail(code: PatternCode, at: number, message: string): never;
}

// §9.4: whitespace is every code point with WSpace=Y.
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 45;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const APOS = 39;
const BACKSLASH = 92;

export class Lexer {
  kind: number = T_EOF;
  start = 0;
  end = 0;
  /** Identifier or operator text; decoded value of string/hex/binary/timestamp constants. */
  text = '';
  /** Value of integer and float constants. */
  num = 0;
  private pos = 0;
  private warnedNonStandard = false;

  constructor(
    private readonly src: string,
    private readonly sink: Sink,
  ) {}

  next(): void {
    const src = this.src;
    const prev = this.kind;
    const pos = this.skipSpace(this.pos);
    this.start = pos;
    if (pos >= src.length) {
      this.kind = T_EOF;
      this.end = this.pos = pos;
      return;
    }
    const c = src.charCodeAt(pos);
    if (isIdentStart(c)) {
      let p = pos + 1;
      while (p < src.length && isIdentPart(src.charCodeAt(p))) p++;
      // t'…', h'…', b'…' (§9.2): the prefix letter touches the apostrophe.
      if (p === pos + 1 && src.charCodeAt(p) === APOS && (c === 116 || c === 104 || c === 98)) {
        this.prefixed(c, p);
        return;
      }
      this.kind = T_IDENT;
      this.text = src.slice(pos, p);
      this.end = this.pos = p;
      return;
    }
    if (isDigit(c) || c === 45 || c === 43 || (c === 46 && isDigit(src.charCodeAt(pos + 1)) && (prev === T_OP || prev === T_COMMA || prev === T_LPAREN))) {
      this.number(pos);
      return;
    }
    if (c === APOS) {
      this.kind = T_STRING;
      this.text = this.quoted(pos + 1);
      return;
    }
    this.kind = T_OP;
    let len = 1;
    switch (c) {
      case 91: this.kind = T_LBRACK; break;
      case 93: this.kind = T_RBRACK; break;
      case 40: this.kind = T_LPAREN; break;
      case 41: this.kind = T_RPAREN; break;
      case 58: this.kind = T_COLON; break;
      case 46: this.kind = T_DOT; break;
      case 44: this.kind = T_COMMA; break;
      case 42: this.kind = T_STAR; break;
      case 61: // = or the non-standard ==
        if (src.charCodeAt(pos + 1) === 61) len = this.nonStandard(pos, '==', '=');
        break;
      case 33: // !=
        if (src.charCodeAt(pos + 1) !== 61) this.sink.fail('STIX_PATTERN_SYNTAX', pos, "unexpected '!' (the operator is '!=')");
        len = 2;
        break;
      case 60: // < <= and the non-standard <>
        if (src.charCodeAt(pos + 1) === 61) len = 2;
        else if (src.charCodeAt(pos + 1) === 62) len = this.nonStandard(pos, '<>', '!=');
        break;
      case 62:
        if (src.charCodeAt(pos + 1) === 61) len = 2;
        break;
      default:
        this.sink.fail('STIX_PATTERN_SYNTAX', pos, `unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(pos) ?? c))}`);
    }
    this.end = this.pos = pos + len;
    this.text = len === 1 ? src[pos]! : src.slice(pos, pos + len);
    if (this.text === '==') this.text = '=';
    else if (this.text === '<>') this.text = '!=';
  }

  private nonStandard(pos: number, written: string, meant: string): number {
    this.sink.report('STIX_PATTERN_NONSTANDARD_SYNTAX', pos, `'${written}' is not a §9.6.1 operator; read as '${meant}'`);
    return 2;
  }

  private skipSpace(pos: number): number {
    const src = this.src;
    for (;;) {
      const c = src.charCodeAt(pos);
      if (isSpace(c)) {
        pos++;
      } else if (c === 47 && src.charCodeAt(pos + 1) === 42) {
        const close = src.indexOf('*/', pos + 2);
        if (close < 0) this.sink.fail('STIX_PATTERN_SYNTAX', pos, 'unterminated comment');
        this.commentFound(pos);
        pos = close + 2;
      } else if (c === 47 && src.charCodeAt(pos + 1) === 47) {
        this.commentFound(pos);
        while (pos < src.length && src.charCodeAt(pos) !== 10 && src.charCodeAt(pos) !== 13) pos++;
      } else {
        return pos;
      }
    }
  }

  private commentFound(pos: number): void {
    if (this.warnedNonStandard) return;
    this.warnedNonStandard = true;
    this.sink.report('STIX_PATTERN_NONSTANDARD_SYNTAX', pos, 'comments are not part of STIX patterning (§9); other consumers may reject the pattern');
  }

  /** Reads a '…' body starting after the opening apostrophe; returns the unescaped value (§9.2). */
  private quoted(from: number): string {
    const src = this.src;
    let p = from;
    let out: string | undefined;
    let chunk = from;
    for (;;) {
      if (p >= src.length) this.sink.fail('STIX_PATTERN_STRING_UNTERMINATED', from - 1, 'string constant has no closing apostrophe');
      const c = src.charCodeAt(p);
      if (c === APOS) break;
      if (c === BACKSLASH) {
        const n = src.charCodeAt(p + 1);
        if (n !== APOS && n !== BACKSLASH) {
          this.sink.report('STIX_PATTERN_STRING_ESCAPE', p, "only \\' and \\\\ are escapes in a string constant; write a backslash as \\\\");
          p++;
          continue;
        }
        out = (out ?? '') + src.slice(chunk, p) + src[p + 1];
        p += 2;
        chunk = p;
        continue;
      }
      p++;
    }
    this.end = this.pos = p + 1;
    return out === undefined ? src.slice(from, p) : out + src.slice(chunk, p);
  }

  private prefixed(prefix: number, apos: number): void {
    const src = this.src;
    const close = src.indexOf("'", apos + 1);
    if (close < 0) this.sink.fail('STIX_PATTERN_STRING_UNTERMINATED', apos - 1, 'constant has no closing apostrophe');
    this.end = this.pos = close + 1;
    const body = src.slice(apos + 1, close);
    this.text = body;
    if (prefix === 116) this.kind = T_TIMESTAMP;
    else if (prefix === 104) this.kind = T_HEX;
    else {
      this.kind = T_BINARY;
      // §9.2: line feeds in base64 MUST be supported and ignored.
      if (body.includes('\n') || body.includes('\r')) this.text = body.replace(/[\r\n]/g, '');
    }
  }

  private number(pos: number): void {
    const src = this.src;
    let p = pos;
    if (src.charCodeAt(p) === 43) {
      this.sink.report('STIX_PATTERN_NUMBER_INVALID', pos, 'positive numbers MUST be written without a plus sign (§9.2)');
      p++;
    } else if (src.charCodeAt(p) === 45) {
      p++;
    }
    const intStart = p;
    while (isDigit(src.charCodeAt(p))) p++;
    const intDigits = p - intStart;
    let isFloat = false;
    if (src.charCodeAt(p) === 46 && isDigit(src.charCodeAt(p + 1))) {
      isFloat = true;
      p++;
      while (isDigit(src.charCodeAt(p))) p++;
    }
    if (intDigits === 0 && !isFloat) this.sink.fail('STIX_PATTERN_SYNTAX', pos, `unexpected '${src[pos]}'`);
    const c = src.charCodeAt(p);
    if (c === 46 || c === 101 || c === 69) {
      // 5. or an exponent: not a §9.2 number; consume it so parsing can go on.
      let q = p + 1;
      if (c !== 46 && (src.charCodeAt(q) === 43 || src.charCodeAt(q) === 45)) q++;
      if (c === 46 || isDigit(src.charCodeAt(q))) {
        while (isDigit(src.charCodeAt(q))) q++;
        this.sink.report('STIX_PATTERN_NUMBER_INVALID', pos, `'${src.slice(pos, q)}' is not a STIX number (digits with an optional '.' and fraction)`);
        isFloat = true;
        p = q;
      }
    }
    const text = src.slice(pos, p);
    this.text = text;
    this.end = this.pos = p;
    this.num = Number(text);
    if (isFloat) {
      this.kind = T_FLOAT;
      if (!Number.isFinite(this.num)) this.sink.report('STIX_PATTERN_NUMBER_INVALID', pos, 'float constant out of range');
      return;
    }
    this.kind = T_INT;
    if (intDigits > 1 && src.charCodeAt(intStart) === 48) {
      this.sink.report('STIX_PATTERN_NUMBER_INVALID', pos, `'${text}': integers are written without leading zeros`);
    }
    if (!Number.isSafeInteger(this.num)) {
      this.sink.report('STIX_PATTERN_NUMBER_INVALID', pos, `'${text}' is outside the STIX integer range ±(2^53−1) (§2.8)`);
    }
  }
}
