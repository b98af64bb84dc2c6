// AST of a STIX 2.1 pattern (§9). Chains of the same operator are n-ary (`operands`), so a long
// `[a] AND [b] AND …` is one flat node and consumers never recurse deeper than the nesting of
// parentheses, which the parser bounds (MAX_PATTERN_NESTING).

/** Offsets into the pattern string (UTF-16 code units), end exclusive. */
export interface Span {
  start: number;
  end: number;
}

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'integer'; value: number }
  | { type: 'float'; value: number }
  | { type: 'boolean'; value: boolean }
  /** Hex digits without the h'…' wrapper. */
  | { type: 'hex'; value: string }
  /** Base64 text without the b'…' wrapper and without line feeds. */
  | { type: 'binary'; value: string }
  /** The RFC 3339 text without the t'…' wrapper. */
  | { type: 'timestamp'; value: string };

export type LiteralType = Literal['type'];

export interface SetLiteral {
  type: 'set';
  values: Literal[];
}

export type PathStep =
  | { kind: 'property'; name: string; quoted: boolean }
  /** `[n]` or `[*]` (§9.7.2). */
  | { kind: 'index'; index: number | '*' };

export interface ObjectPath extends Span {
  objectType: string;
  /** At least one step; the first is always a property. */
  steps: PathStep[];
}

export type ComparisonOperator =
  | '='
  | '!='
  | '<'
  | '>'
  | '<='
  | '>='
  | 'IN'
  | 'LIKE'
  | 'MATCHES'
  | 'ISSUBSET'
  | 'ISSUPERSET'
  | 'EXISTS';

export interface Comparison extends Span {
  kind: 'comparison';
  path: ObjectPath;
  operator: ComparisonOperator;
  /** The NOT modifier (§9.6.1). */
  negated: boolean;
  /** Absent only for EXISTS. */
  value?: Literal | SetLiteral;
}

export interface ComparisonGroup {
  kind: 'comparison-op';
  op: 'AND' | 'OR';
  operands: ComparisonExpression[];
}

export type ComparisonExpression = Comparison | ComparisonGroup;

export type Qualifier =
  | { kind: 'WITHIN'; seconds: number }
  | { kind: 'REPEATS'; times: number }
  | { kind: 'START_STOP'; start: string; stop: string };

/** `[ … ]` (§9.5). */
export interface Observation extends Span {
  kind: 'observation';
  comparison: ComparisonExpression;
}

/** Observations joined by an observation operator (§9.5.2). */
export interface ObservationGroup {
  kind: 'observation-op';
  op: 'AND' | 'OR' | 'FOLLOWEDBY';
  operands: ObservationExpression[];
}

/** An observation expression or parenthesised group followed by its qualifiers, in order (§9.5.1). */
export interface QualifiedObservation {
  kind: 'qualified';
  expression: ObservationExpression;
  qualifiers: Qualifier[];
}

export type ObservationExpression = Observation | ObservationGroup | QualifiedObservation;

export interface PatternAst {
  expression: ObservationExpression;
}
