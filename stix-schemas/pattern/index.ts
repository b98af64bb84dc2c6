// STIX 2.1 patterning (§9): parse and check `pattern` strings of indicators with pattern_type "stix".
import { type Finding, error, warning } from '../findings.js';
import type { PatternAst } from './ast.js';
import { PATTERN_CODES, type PatternCode } from './codes.js';
import type { Sink } from './lexer.js';
import { Parser } from './parser.js';

export type * from './ast.js';
export { PATTERN_CODES, type PatternCode } from './codes.js';
export { MAX_PATTERN_NESTING } from './parser.js';

export type ParseResult =
  | { ok: true; ast: PatternAst; findings: Finding[] }
  | { ok: false; findings: Finding[] };

/** Thrown by Sink.fail to unwind the parser; never escapes this module. */
class Abort extends Error {}

/** Findings kept per severity, so a megabyte of repeated mistakes cannot flood a report. */
export const MAX_PATTERN_FINDINGS = 100;

class FindingSink implements Sink {
  readonly findings: Finding[] = [];
  private errors = 0;
  private warnings = 0;
  /** code + key → the finding already reported and how many times it recurred. */
  private readonly seen = new Map<string, { finding: Finding; message: string; at: number; again: number }>();
  constructor(private readonly path: string) {}

  report(code: PatternCode, at: number, message: string, key?: string): void {
    const isError = PATTERN_CODES[code].severity === 'error';
    const seenKey = key === undefined ? undefined : `${code}\u0000${key}`;
    const first = seenKey === undefined ? undefined : this.seen.get(seenKey);
    if (first) {
      first.again++;
      first.finding.message = `${first.message} (at offset ${first.at}, and ${first.again} more time${first.again === 1 ? '' : 's'})`;
      return;
    }
    if ((isError ? this.errors++ : this.warnings++) >= MAX_PATTERN_FINDINGS) return;
    const finding = (isError ? error : warning)(code, this.path, `${message} (at offset ${at})`);
    this.findings.push(finding);
    if (seenKey !== undefined) this.seen.set(seenKey, { finding, message, at, again: 0 });
  }

  fail(code: PatternCode, at: number, message: string): never {
    this.report(code, at, message);
    throw new Abort(code);
  }
}

function run(pattern: unknown, basePath: string): { ast?: PatternAst; findings: Finding[] } {
  if (typeof pattern !== 'string') {
    return { findings: [error('STIX_PATTERN_NOT_A_STRING', basePath, 'a STIX pattern must be a string')] };
  }
  const sink = new FindingSink(basePath);
  try {
    const expression = new Parser(pattern, sink).parse();
    return { ast: { expression }, findings: sink.findings };
  } catch (e) {
    if (e instanceof Abort) return { findings: sink.findings };
    throw e;
  }
}

/**
 * Parses a pattern. `ok` is false when any finding is an error (a pattern with errors MUST NOT
 * match anything, §9.4); warnings come with a successful parse too.
 */
export function parsePattern(pattern: string): ParseResult {
  const { ast, findings } = run(pattern, '/pattern');
  if (ast && !findings.some((f) => f.severity === 'error')) return { ok: true, ast, findings };
  return { ok: false, findings };
}

/** All findings of a pattern: syntax, constants, qualifiers, operators and object paths (§9). */
export function checkPattern(pattern: string, basePath = '/pattern'): Finding[] {
  return run(pattern, basePath).findings;
}
