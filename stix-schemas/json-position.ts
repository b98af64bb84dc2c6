// Where JSON text stops being JSON (RFC 8259), as an offset and a line and column, for people fixing a file:
// JSON.parse on Node 20 often says only "Unexpected token 'x', … is not valid JSON". Runs only after
// JSON.parse has failed; iterative, so no nesting depth can exhaust the stack.

export interface JsonErrorPosition {
  /** UTF-16 offset of the first character that cannot continue the JSON text (the length when it ends early). */
  offset: number;
  /** 1-based line (LF, CRLF or CR end a line). */
  line: number;
  /** 1-based column, in Unicode code points. */
  column: number;
  /** What is found there: the character (JSON-quoted), or "the end of the text". */
  found: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** The offset just after a string starting at `i` (a quote), or the negated offset + 1 of its first error. */
function scanString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c < 0x20) return -(j + 1);
    if (c === 92) {
      const e = text[j + 1];
      if (e === 'u') {
        if (!HEX4.test(text.slice(j + 2, j + 6))) return -(j + 1);
        j += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) return -(j + 1);
      j += 2;
      continue;
    }
    j++;
  }
  return -(text.length + 1);
}

/** The offset of the first syntax error in `text`, or undefined when it is one JSON value. */
export function jsonErrorOffset(text: string): number | undefined {
  const stack: Array<'{' | '['> = [];
  let state: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after' = 'value';
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= n) return state === 'after' && stack.length === 0 ? undefined : n;
    const c = text[i]!;
    switch (state) {
      case 'value':
      case 'value-or-close': {
        if (c === ']' && state === 'value-or-close') {
          stack.pop();
          state = 'after';
          i++;
        } else if (c === '{') {
          stack.push('{');
          state = 'key-or-close';
          i++;
        } else if (c === '[') {
          stack.push('[');
          state = 'value-or-close';
          i++;
        } else if (c === '"') {
          const j = scanString(text, i);
          if (j < 0) return -j - 1;
          i = j;
          state = 'after';
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          if (!NUMBER.test(text)) return c === '-' ? i + 1 : i;
          i = NUMBER.lastIndex;
          state = 'after';
        } else {
          const literal = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
          if (!literal) return i;
          i += literal.length;
          state = 'after';
        }
        break;
      }
      case 'key':
      case 'key-or-close':
        if (c === '}' && state === 'key-or-close') {
          stack.pop();
          state = 'after';
          i++;
        } else if (c === '"') {
          const j = scanString(text, i);
          if (j < 0) return -j - 1;
          i = j;
          state = 'colon';
        } else {
          return i;
        }
        break;
      case 'colon':
        if (c !== ':') return i;
        state = 'value';
        i++;
        break;
      case 'after': {
        const top = stack[stack.length - 1];
        if (top === undefined) return i; // text after the value
        if (c === ',') state = top === '{' ? 'key' : 'value';
        else if ((c === '}' && top === '{') || (c === ']' && top === '[')) stack.pop();
        else return i;
        i++;
        break;
      }
    }
  }
}

/** Line, column and what is found at `offset`. */
export function positionOf(text: string, offset: number): JsonErrorPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = [...text.slice(lineStart, offset)].length + 1;
  const ch = offset < text.length ? String.fromCodePoint(text.codePointAt(offset)!) : undefined;
  return { offset, line, column, found: ch === undefined ? 'the end of the text' : JSON.stringify(ch) };
}

/** Where JSON.parse failed on `text`, or undefined when the text is valid JSON after all. */
export function jsonErrorPosition(text: string): JsonErrorPosition | undefined {
  const offset = jsonErrorOffset(text);
  return offset === undefined ? undefined : positionOf(text, offset);
}
