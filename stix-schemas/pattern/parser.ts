// Recursive-descent parser for STIX 2.1 patterns (§9). Recursion only happens at '(' and '[', and
// is bounded by MAX_PATTERN_NESTING, so hostile input cannot exhaust the stack; operator chains
// are loops. Semantic checks run as each comparison is built, so a pattern is read once.
import type {
  Comparison, ComparisonExpression, ComparisonOperator, Literal, LiteralType, ObjectPath,
  ObservationExpression, PathStep, Qualifier, SetLiteral,
} from './ast.js';
import { checkComparison } from './checks.js';
import {
  Lexer, type Sink, T_BINARY, T_COLON, T_COMMA, T_DOT, T_EOF, T_FLOAT, T_HEX, T_IDENT, T_INT, T_LBRACK,
  T_LPAREN, T_OP, T_RBRACK, T_RPAREN, T_STAR, T_STRING, T_TIMESTAMP, TOKEN_NAMES,
} from './lexer.js';
import { parseStixTimestamp, timestampKey } from '../timestamp.js';

/**
 * How deep '(' and '[' may nest. Real patterns use a handful of levels; each level costs about
 * six stack frames, so 100 levels stay far below Node's stack even when called from deep code.
 */
export const MAX_PATTERN_NESTING = 100;

const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'IN', 'EXISTS',
  'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES',
]);

const WORD_OPERATORS: ReadonlySet<string> = new Set(['IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);

/** Observation operators by precedence level, loosest first (§9.5.3). */
const OBSERVATION_OPS = ['FOLLOWEDBY', 'OR', 'AND'] as const;
/** Boolean operators inside '[ ]', loosest first (§9.5: AND binds tighter than OR). */
const COMPARISON_OPS = ['OR', 'AND'] as const;

export class Parser {
  private readonly lex: Lexer;
  private depth = 0;
  /** Object types the last parsed comparison expression can match (for the §9.5 AND rule). */
  private types: string[] = [];
  /** End offset of the last path step or constant read. */
  private lastEnd = 0;

  constructor(
    private readonly src: string,
    private readonly sink: Sink,
  ) {
    this.lex = new Lexer(src, sink);
  }

  parse(): ObservationExpression {
    this.lex.next();
    if (this.lex.kind === T_EOF) this.sink.fail('STIX_PATTERN_EMPTY', 0, 'the pattern is empty');
    const expression = this.observationChain(0);
    if (this.lex.kind !== T_EOF) this.unexpected('AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern');
    return expression;
  }

  // ---- observation expressions (§9.5) ----

  private observationChain(level: number): ObservationExpression {
    const op = OBSERVATION_OPS[level]!;
    const first = level === 2 ? this.qualified() : this.observationChain(level + 1);
    if (!this.isWord(op)) return first;
    const operands = [first];
    while (this.isWord(op)) {
      this.lex.next();
      operands.push(level === 2 ? this.qualified() : this.observationChain(level + 1));
    }
    return { kind: 'observation-op', op, operands };
  }

  private qualified(): ObservationExpression {
    const expression = this.observationAtom();
    let qualifiers: Qualifier[] | undefined;
    while (this.lex.kind === T_IDENT) {
      const at = this.lex.start;
      const q = this.qualifier();
      if (!q) break;
      qualifiers ??= [];
      // §9.5.1: MUST NOT have more than one qualifier of a particular type.
      if (qualifiers.some((o) => o.kind === q.kind)) {
        this.sink.report('STIX_PATTERN_QUALIFIER_DUPLICATE', at, `more than one ${q.kind === 'START_STOP' ? 'START/STOP' : q.kind} qualifier on one observation expression`);
      }
      qualifiers.push(q);
    }
    return qualifiers ? { kind: 'qualified', expression, qualifiers } : expression;
  }

  private qualifier(): Qualifier | undefined {
    const lex = this.lex;
    const at = lex.start;
    switch (lex.text) {
      case 'WITHIN': {
        lex.next();
        const seconds = lex.num;
        if (lex.kind !== T_INT && lex.kind !== T_FLOAT) this.unexpected('a number of seconds');
        if (!(seconds > 0)) this.sink.report('STIX_PATTERN_QUALIFIER_VALUE', lex.start, 'WITHIN takes a positive number of seconds (§9.5.1)');
        lex.next();
        this.expectWord('SECONDS');
        return { kind: 'WITHIN', seconds };
      }
      case 'REPEATS': {
        lex.next();
        const times = lex.num;
        if (lex.kind !== T_INT && lex.kind !== T_FLOAT) this.unexpected('a number of times');
        if (lex.kind !== T_INT || times <= 0) this.sink.report('STIX_PATTERN_QUALIFIER_VALUE', lex.start, 'REPEATS takes a positive integer (§9.5.1)');
        lex.next();
        this.expectWord('TIMES');
        return { kind: 'REPEATS', times };
      }
      case 'START': {
        lex.next();
        const start = this.qualifierTimestamp();
        this.expectWord('STOP');
        const stop = this.qualifierTimestamp();
        const a = timestampKey(start);
        const b = timestampKey(stop);
        if (a !== undefined && b !== undefined && a >= b) {
          this.sink.report('STIX_PATTERN_START_STOP_ORDER', at, `START ${start} is not earlier than STOP ${stop} (§9.5.1)`);
        }
        return { kind: 'START_STOP', start, stop };
      }
      default:
        return undefined;
    }
  }

  private qualifierTimestamp(): string {
    const lex = this.lex;
    if (lex.kind !== T_TIMESTAMP) this.unexpected("a timestamp t'…' (§9.5.1: START and STOP take timestamps)");
    const value = this.checkedTimestamp();
    lex.next();
    return value;
  }

  private observationAtom(): ObservationExpression {
    const lex = this.lex;
    const start = lex.start;
    if (lex.kind === T_LBRACK) {
      this.enter();
      lex.next();
      const comparison = this.comparisonChain(0);
      if (lex.kind !== T_RBRACK) this.unexpected("']' or a boolean operator (AND, OR)");
      const end = lex.end;
      lex.next();
      this.depth--;
      return { kind: 'observation', comparison, start, end };
    }
    if (lex.kind === T_LPAREN) {
      this.enter();
      lex.next();
      const inner = this.observationChain(0);
      if (lex.kind !== T_RPAREN) this.unexpected("')', AND, OR, FOLLOWEDBY or a qualifier");
      lex.next();
      this.depth--;
      return inner;
    }
    if (lex.kind === T_IDENT && !KEYWORDS.has(lex.text.toUpperCase())) {
      this.unexpected("'[' (§9.5: observation expressions MUST be enclosed in square brackets)");
    }
    return this.unexpected("'[' or '('");
  }

  // ---- comparison expressions (§9.6) ----

  private comparisonChain(level: number): ComparisonExpression {
    const op = COMPARISON_OPS[level]!;
    const first = level === 1 ? this.comparisonAtom() : this.comparisonChain(level + 1);
    if (!this.isWord(op)) return first;
    const operands = [first];
    let types = this.types;
    let mismatchReported = false;
    while (this.isWord(op)) {
      const at = this.lex.start;
      this.lex.next();
      operands.push(level === 1 ? this.comparisonAtom() : this.comparisonChain(level + 1));
      if (op === 'OR') {
        types = union(types, this.types);
        continue;
      }
      const both = types.filter((t) => this.types.includes(t));
      if (both.length === 0 && !mismatchReported) {
        mismatchReported = true;
        this.sink.report('STIX_PATTERN_AND_TYPE_MISMATCH', at, `AND joins comparisons on ${types.join('/')} and ${this.types.join('/')}: all operands of AND MUST match the same object, so join different object types with OR (§9.5)`);
      }
      types = both.length === 0 ? union(types, this.types) : both;
    }
    this.types = types;
    return { kind: 'comparison-op', op, operands };
  }

  private comparisonAtom(): ComparisonExpression {
    const lex = this.lex;
    if (lex.kind === T_LPAREN) {
      this.enter();
      lex.next();
      const inner = this.comparisonChain(0);
      if (lex.kind !== T_RPAREN) this.unexpected("')' or a boolean operator (AND, OR)");
      lex.next();
      this.depth--;
      return inner;
    }
    const start = lex.start;
    if (this.isWord('EXISTS') || this.isWord('NOT')) {
      // EXISTS a, and its negation NOT EXISTS a (§9.6.1).
      const negated = this.isWord('NOT');
      if (negated) lex.next();
      this.expectWord('EXISTS');
      const path = this.objectPath();
      return this.finish({ kind: 'comparison', path, operator: 'EXISTS', negated, start, end: path.end });
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isWord('NOT')) {
      negated = true;
      lex.next();
    }
    let operator: ComparisonOperator;
    if (lex.kind === T_OP) operator = lex.text as ComparisonOperator;
    else if (lex.kind === T_IDENT && WORD_OPERATORS.has(lex.text)) operator = lex.text as ComparisonOperator;
    else return this.unexpected('a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)');
    lex.next();
    const valueAt = lex.start;
    const value = lex.kind === T_LPAREN ? this.setLiteral() : this.literal();
    if (operator === 'IN' && value.type !== 'set') {
      this.sink.report('STIX_PATTERN_OPERAND_INVALID', valueAt, "IN takes a set of constants in parentheses, e.g. IN ('a', 'b') (§9.6.1)");
    } else if (operator !== 'IN' && value.type === 'set') {
      this.sink.report('STIX_PATTERN_OPERAND_INVALID', valueAt, `only IN takes a set; ${operator} takes a single constant (§9.6.1)`);
    }
    return this.finish({ kind: 'comparison', path, operator, negated, value, start, end: this.lastEnd });
  }

  private finish(c: Comparison): Comparison {
    this.types = [c.path.objectType];
    checkComparison(c, this.sink);
    return c;
  }

  // ---- object paths (§9.7) ----

  private objectPath(): ObjectPath {
    const lex = this.lex;
    const start = lex.start;
    if (lex.kind !== T_IDENT) this.unexpected('an object path such as file:name');
    const objectType = lex.text;
    lex.next();
    if (lex.kind !== T_COLON) this.unexpected("':' after the object type (§9.7: <object-type>:<property_name>)");
    lex.next();
    const steps: PathStep[] = [this.propertyStep()];
    for (;;) {
      if (lex.kind === T_DOT) {
        lex.next();
        steps.push(this.propertyStep());
      } else if (lex.kind === T_LBRACK) {
        lex.next();
        steps.push(this.indexStep());
      } else {
        break;
      }
    }
    return { objectType, steps, start, end: this.lastEnd };
  }

  private propertyStep(): PathStep {
    const lex = this.lex;
    const at = lex.start;
    let step: PathStep;
    if (lex.kind === T_IDENT) {
      // §9.7: names with '-' or '.' MUST be quoted.
      if (lex.text.includes('-')) {
        this.sink.report('STIX_PATTERN_PATH_INVALID', at, `property name '${lex.text}' contains '-' and MUST be quoted: '${lex.text}' in apostrophes (§9.7)`);
      }
      step = { kind: 'property', name: lex.text, quoted: false };
    } else if (lex.kind === T_STRING) {
      if (lex.text === '') this.sink.report('STIX_PATTERN_PATH_INVALID', at, 'empty property name');
      step = { kind: 'property', name: lex.text, quoted: true };
    } else {
      return this.unexpected("a property name (quote names containing '-' or '.')");
    }
    this.lastEnd = lex.end;
    lex.next();
    return step;
  }

  private indexStep(): PathStep {
    const lex = this.lex;
    let index: number | '*';
    if (lex.kind === T_STAR) index = '*';
    else if (lex.kind === T_INT && !lex.text.startsWith('-')) index = lex.num;
    else if (lex.kind === T_INT) {
      this.sink.report('STIX_PATTERN_PATH_INVALID', lex.start, 'a list index is a non-negative integer or * (§9.7.2)');
      index = lex.num;
    } else return this.unexpected('a list index (an integer or *)');
    lex.next();
    if (lex.kind !== T_RBRACK) this.unexpected("']' after the list index");
    this.lastEnd = lex.end;
    lex.next();
    return { kind: 'index', index };
  }

  // ---- constants (§9.2) ----

  private literal(): Literal {
    const lex = this.lex;
    let lit: Literal;
    switch (lex.kind) {
      case T_STRING: lit = { type: 'string', value: lex.text }; break;
      case T_INT: lit = { type: 'integer', value: lex.num }; break;
      case T_FLOAT: lit = { type: 'float', value: lex.num }; break;
      case T_HEX: lit = { type: 'hex', value: this.checkedHex() }; break;
      case T_BINARY: lit = { type: 'binary', value: this.checkedBinary() }; break;
      case T_TIMESTAMP: lit = { type: 'timestamp', value: this.checkedTimestamp() }; break;
      case T_IDENT:
        if (lex.text === 'true' || lex.text === 'false') {
          lit = { type: 'boolean', value: lex.text === 'true' };
          break;
        }
        if (lex.text === 'TRUE' || lex.text === 'FALSE' || lex.text === 'True' || lex.text === 'False') {
          this.sink.fail('STIX_PATTERN_KEYWORD_CASE', lex.start, `booleans are written true and false (§9.2), not ${lex.text}`);
        }
        return this.unexpected('a constant (strings are quoted with apostrophes)');
      default:
        return this.unexpected('a constant');
    }
    this.lastEnd = lex.end;
    lex.next();
    return lit;
  }

  private setLiteral(): SetLiteral {
    const lex = this.lex;
    const at = lex.start;
    lex.next();
    const values: Literal[] = [];
    if (lex.kind === T_RPAREN) {
      this.sink.report('STIX_PATTERN_SET_EMPTY', at, 'empty set: the comparison never matches');
    } else {
      let first: LiteralType | undefined;
      for (;;) {
        const itemAt = lex.start;
        const v = this.literal();
        values.push(v);
        first ??= v.type;
        if (!sameKind(first, v.type)) {
          this.sink.report('STIX_PATTERN_SET_MIXED_TYPES', itemAt, `set mixes ${first} and ${v.type} constants; they MUST be of one data type (§9.6.1)`);
          first = v.type;
        }
        if (lex.kind !== T_COMMA) break;
        lex.next();
      }
      if (lex.kind !== T_RPAREN) this.unexpected("',' or ')' in the set");
    }
    this.lastEnd = lex.end;
    lex.next();
    return { type: 'set', values };
  }

  private checkedHex(): string {
    const v = this.lex.text;
    if (!/^(?:[0-9a-f]{2})*$/.test(v)) {
      const why = v.length % 2 === 1 && /^[0-9a-fA-F]*$/.test(v) ? 'an odd number of digits' : /^[0-9a-fA-F]*$/.test(v) ? 'upper-case letters (only 0–9 and a–f are allowed)' : 'characters other than 0–9 and a–f';
      this.sink.report('STIX_PATTERN_HEX_INVALID', this.lex.start, `hex constant has ${why} (§9.2)`);
    }
    return v;
  }

  private checkedBinary(): string {
    const v = this.lex.text;
    if (v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v)) {
      this.sink.report('STIX_PATTERN_BINARY_INVALID', this.lex.start, 'binary constant is not valid base64 (RFC 4648, §9.2)');
    }
    return v;
  }

  private checkedTimestamp(): string {
    const v = this.lex.text;
    if (!parseStixTimestamp(v)) {
      this.sink.report('STIX_PATTERN_TIMESTAMP_INVALID', this.lex.start, `'${v}' is not an RFC 3339 UTC timestamp such as 2016-06-01T00:00:00Z (§9.2, §2.16)`);
    }
    return v;
  }

  // ---- helpers ----

  private enter(): void {
    if (++this.depth > MAX_PATTERN_NESTING) {
      this.sink.fail('STIX_PATTERN_TOO_DEEP', this.lex.start, `parentheses and brackets nest deeper than ${MAX_PATTERN_NESTING} levels`);
    }
  }

  private isWord(word: string): boolean {
    return this.lex.kind === T_IDENT && this.lex.text === word;
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) this.unexpected(word);
    this.lex.next();
  }

  private unexpected(expected: string): never {
    const lex = this.lex;
    if (lex.kind === T_IDENT) {
      const upper = lex.text.toUpperCase();
      if (upper !== lex.text && KEYWORDS.has(upper)) {
        this.sink.fail('STIX_PATTERN_KEYWORD_CASE', lex.start, `keywords are upper case: write ${upper}, not ${lex.text}`);
      }
    }
    const found = lex.kind === T_EOF ? 'the end of the pattern'
      : lex.kind === T_IDENT || lex.kind === T_OP ? `'${lex.text}'`
        : lex.kind >= T_LBRACK ? TOKEN_NAMES[lex.kind]
          : `${TOKEN_NAMES[lex.kind]} ${this.src.slice(lex.start, Math.min(lex.end, lex.start + 40))}`;
    return this.sink.fail('STIX_PATTERN_SYNTAX', lex.start, `expected ${expected}, found ${found}`);
  }
}

/** §9.6.1 sets are homogeneous; integers and floats are one numeric kind (§9.2). */
function sameKind(a: LiteralType, b: LiteralType): boolean {
  return a === b || ((a === 'integer' || a === 'float') && (b === 'integer' || b === 'float'));
}

function union(a: string[], b: string[]): string[] {
  if (b.every((t) => a.includes(t))) return a;
  return [...a, ...b.filter((t) => !a.includes(t))];
}
