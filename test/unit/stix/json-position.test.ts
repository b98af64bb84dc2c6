// jsonErrorOffset agrees with JSON.parse on what is JSON, and names the first character that is not.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonErrorOffset, jsonErrorPosition } from '../../../stix-schemas/json-position.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('JSON error positions (RFC 8259)', () => {
  it('finds no error exactly where JSON.parse succeeds', () => {
    const texts = fc.oneof(
      fc.json(),
      fc.json().map((t) => t.slice(0, -1)),
      fc.tuple(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', 'x', '"', '\\', '\u0001', ' ', '01', '-', ':')).map(([t, at, s]) => {
        const i = t.length ? at % t.length : 0;
        return t.slice(0, i) + s + t.slice(i);
      }),
    );
    fc.assert(fc.property(texts, (t) => (jsonErrorOffset(t) === undefined) === parses(t)), { numRuns: 3000 });
  });
  it('names the offending character, line and column', () => {
    assert.deepEqual(jsonErrorPosition('{\n  "a": 1,\n  "b": tru\n}'), { offset: 19, line: 3, column: 8, found: '"t"' });
    assert.deepEqual(jsonErrorPosition('[1, 2,]'), { offset: 6, line: 1, column: 7, found: '"]"' });
    assert.deepEqual(jsonErrorPosition('{"a": "b"} {}'), { offset: 11, line: 1, column: 12, found: '"{"' });
    assert.equal(jsonErrorPosition('{"a": "\\x"}')?.offset, 7);
    assert.equal(jsonErrorPosition('{"a": 1}'), undefined);
  });
  it('survives deep nesting without recursion', () => {
    assert.equal(jsonErrorOffset('['.repeat(1_000_000)), 1_000_000);
  });
});
