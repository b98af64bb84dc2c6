// stix2-validator-ts: STIX 2.1 validation with stable finding codes, normalisation, the 2.0 → 2.1
// upgrade and the pattern parser. Imports nothing of the server (docs/architecture.md §4).
import { unpack } from './container.js';
import type { Finding } from './findings.js';
import { type ObjectOutcome, type PipelineOptions, processObjects } from './pipeline.js';
import type { StixObject } from './types-common.js';
import { upgrade20 } from './upgrade.js';
import { Report } from './validate.js';

export { FINDING_CODES, type CodeInfo, type FindingCode } from './codes.js';
export { PATTERN_CODES } from './pattern/codes.js';
export { checkPattern, parsePattern } from './pattern/index.js';
export { normalise, type NormaliseOptions } from './normalise.js';
export { isStix20 } from './upgrade.js';
export { processObject, processObjects, type ObjectOutcome, type PipelineOptions } from './pipeline.js';
export { runValidate, type ValidateIo } from './cli.js';
export type { Finding, Severity } from './findings.js';
export type { StixObject } from './types-common.js';

export interface ValidationResult {
  /** What the input was. */
  kind: 'bundle' | 'envelope' | 'list' | 'object';
  /** True when nothing is an error (with `strict`, nor a warning). */
  ok: boolean;
  /** Findings about the bundle or envelope itself. */
  container: Finding[];
  /** One outcome per object, in order: ok, findings (JSON pointers into the object), the normalised object. */
  objects: ObjectOutcome[];
  errors: number;
  warnings: number;
}

/** Validates (and normalises) an object, a bundle, a TAXII envelope or a list of objects. */
export function validate(input: unknown, options: PipelineOptions = {}): ValidationResult {
  const { kind, objects, findings } = unpack(input);
  const outcomes = processObjects(objects, options);
  const all = [...findings, ...outcomes.flatMap((o) => o.findings)];
  const errors = all.filter((f) => f.severity === 'error' || options.strict).length;
  return { kind, ok: errors === 0, container: findings, objects: outcomes, errors, warnings: all.length - errors };
}

/** Upgrades a STIX 2.0 object to 2.1 (labels → *_types, is_family, pattern_type, embedded observables → SCOs). */
export function upgrade20to21(object: StixObject): { object: StixObject; derived: StixObject[]; findings: Finding[] } {
  const report = new Report();
  const { object: upgraded, derived } = upgrade20(object, report);
  return { object: upgraded, derived: derived.map((d) => d.object), findings: report.findings };
}
