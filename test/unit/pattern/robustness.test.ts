// Hostile input (§9 parser robustness): deep nesting, megabyte patterns and random strings must give
// findings, never an exception or a stack overflow, and in linear time.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPattern, MAX_PATTERN_NESTING, parsePattern } from '../../../stix-schemas/pattern/index.js';
import { errors } from './helpers.js';

const ONE = "[file:name = 'a']";

describe('STIX patterns: robustness', () => {
  it('accepts nesting up to MAX_PATTERN_NESTING', () => {
    const depth = MAX_PATTERN_NESTING - 1; // the '[' is one more level
    assert.deepEqual(errors('('.repeat(depth) + ONE + ')'.repeat(depth)), []);
  });
  it('10,000 nested observation parentheses: one STIX_PATTERN_TOO_DEEP', () => {
    assert.deepEqual(errors('('.repeat(10_000) + ONE + ')'.repeat(10_000)), ['STIX_PATTERN_TOO_DEEP']);
  });
  it('10,000 nested comparison parentheses: one STIX_PATTERN_TOO_DEEP', () => {
    assert.deepEqual(errors('[' + '('.repeat(10_000) + "file:name = 'a'" + ')'.repeat(10_000) + ']'), ['STIX_PATTERN_TOO_DEEP']);
  });
  it('1,000,000 unbalanced opening parentheses do not blow the stack', () => {
    assert.deepEqual(errors('('.repeat(1_000_000)), ['STIX_PATTERN_TOO_DEEP']);
  });
  it('a 1 MB chain of observations parses in linear time into one flat node', function () {
    this.timeout(5000);
    const n = Math.ceil(1_000_000 / (ONE.length + 5));
    const pattern = Array.from({ length: n }, () => ONE).join(' AND ');
    assert.ok(pattern.length > 1_000_000);
    const t = process.hrtime.bigint();
    const r = parsePattern(pattern);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    assert.equal(r.ok, true);
    if (r.ok) assert.equal(r.ast.expression.kind === 'observation-op' && r.ast.expression.operands.length, n);
    assert.ok(ms < 2000);
  });
  it('a 1 MB comparison chain with OR and a 1 MB string constant', () => {
    const chain = '[' + Array.from({ length: 40_000 }, (_, i) => `file:size = ${i}`).join(' OR ') + ']';
    assert.deepEqual(errors(chain), []);
    assert.deepEqual(errors(`[file:name = '${'x'.repeat(1_000_000)}']`), []);
  });
  it('a 1 MB set', () => {
    assert.deepEqual(errors(`[file:size IN (${Array.from({ length: 150_000 }, (_, i) => i).join(', ')})]`), []);
  });
  it('a 1 MB path', () => {
    assert.deepEqual(errors(`[x-custom:${Array.from({ length: 100_000 }, () => 'abcdef').join('.')} = 1]`), []);
  });
  it('random strings and mutated patterns: findings only, never an exception', () => {
    const alphabet = fc.constantFrom(...'[]()\':.,*=!<>-+ \\hbt0123456789abcfAND OR NOT IN LIKE FOLLOWEDBY WITHIN SECONDS REPEATS TIMES START STOP EXISTS file:name'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (chars) => {
        const findings = checkPattern(chars.join(''));
        for (const f of findings) assert.match(f.code, /^STIX_PATTERN_/);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.nat(60), (s, at) => {
        const p = "[file:name = 'a'] AND [ipv4-addr:value ISSUBSET '10.0.0.0/8']";
        checkPattern(p.slice(0, at) + s + p.slice(at));
      }),
      { numRuns: 3000 },
    );
  });
  it('parsing is deterministic and has no state between calls', () => {
    assert.deepEqual(checkPattern('[file:size = '), checkPattern('[file:size = '));
    assert.deepEqual(checkPattern(ONE), []);
  });
});
