// The STIX pipeline entry point: structural pass → (2.0 upgrade) → property tables and named rules → normalise,
// for each object of an envelope or bundle. It imports nothing of Meridian's other layers (docs/architecture.md §4).
import type { Finding } from './findings.js';
import { type NormaliseOptions, canonicalise, withScoId } from './normalise.js';
import { parseIdentifier } from './formats.js';
import { child } from './pointer.js';
import { RULES } from './rules.js';
import { timestampKey } from './timestamp.js';
import { type StixObject, isRecord, mapRefs } from './types-common.js';
import { isStix20, upgrade20 } from './upgrade.js';
import { Report, structuralPass, validateObject } from './validate.js';

export type { StixObject } from './types-common.js';

export interface PipelineOptions extends NormaliseOptions {
  /** Treat warnings as errors. */
  strict?: boolean;
}

export interface ObjectOutcome {
  /** True when no finding is an error: the object may be stored. */
  ok: boolean;
  /** The normalised object (only when ok). */
  object?: StixObject;
  /** The object's id and version, as far as they could be read (for status reports). */
  id?: string;
  version?: string;
  findings: Finding[];
  /** SCOs the 2.0 upgrade pulled out of an observable container (normalised; store them with the object). */
  derived?: StixObject[];
  /** Set when the normaliser replaced the id (scoIds: 'recompute'): the id the object arrived with. */
  originalId?: string;
}

/** Removes findings after the first `kept` that repeat one of those (same code and path). */
function dropRepeats(findings: Finding[], kept: number): void {
  const seen = new Set(findings.slice(0, kept).map((f) => `${f.code} ${f.path}`));
  let to = kept;
  for (let from = kept; from < findings.length; from++) {
    const f = findings[from]!;
    if (!seen.has(`${f.code} ${f.path}`)) findings[to++] = f;
  }
  findings.length = to;
}

/** Validates one 2.1 object (already upgraded) and returns its findings and the object it would store. */
function checkOne(obj: StixObject, report: Report, options: PipelineOptions): StixObject {
  // §2.9, §3.2: id is required on an SCO too. Unless scoIds is 'keep' (then it is STIX_REQUIRED_PROPERTY), a
  // missing one is computed before validation, and the finding says which id the stored object gets.
  const withId = options.scoIds === 'keep' || 'id' in obj ? obj : withScoId(obj, 'fill');
  if (withId !== obj && typeof withId.id === 'string') {
    const how = parseIdentifier(withId.id)?.uuidVersion === 5 ? 'the UUIDv5 of its ID contributing properties' : 'a UUIDv4 (no ID contributing property is present)';
    report.add('STIX_SCO_ID_FILLED', '/id', `id is required on every SCO and MUST be present (§2.9, §3.2); it was missing, and normalisation filled in ${withId.id}, ${how}`);
  }
  validateObject(withId, report, RULES);
  return withId;
}

/**
 * Checks one object (STIX 2.1 §2–§11) and returns its outcome. `textFindings` are what only the object's JSON
 * text shows (numbers.ts: numbers a double does not hold exactly), found by whoever parsed it.
 */
export function processObject(input: unknown, options: PipelineOptions = {}, textFindings: readonly Finding[] = []): ObjectOutcome {
  if (!isRecord(input)) {
    const report = new Report();
    report.add('STIX_NOT_AN_OBJECT', '', 'a STIX object MUST be a JSON object (§3)', Array.isArray(input) ? input : typeof input === 'string' ? input : String(input));
    return { ok: false, findings: report.findings };
  }
  const report = new Report();
  report.findings.push(...textFindings);
  const readId = typeof input.id === 'string' ? input.id : undefined;
  const structural = structuralPass(input, report);
  // A number that overflowed to ±Infinity is seen in the text and again in the parsed value: report it once.
  if (textFindings.length) dropRepeats(report.findings, textFindings.length);
  if (!structural) return { ok: false, id: readId, findings: report.findings };

  let obj = input;
  let derived: Array<{ key: string; object: StixObject }> = [];
  if (isStix20(input)) ({ object: obj, derived } = upgrade20(input, report));
  obj = checkOne(obj, report, options);
  const normalisedDerived: StixObject[] = [];
  for (const { key, object } of derived) {
    const sub = new Report();
    checkOne(object, sub, options);
    const prefix = child('/objects', key);
    for (const f of sub.findings) report.findings.push({ ...f, path: prefix + f.path });
    normalisedDerived.push(canonicalise(object, options));
  }

  const findings = report.findings;
  const ok = !findings.some((f) => f.severity === 'error' || options.strict);
  const object = ok ? canonicalise(obj, options) : undefined;
  const outcomeId = typeof object?.id === 'string' ? object.id : readId;
  const versionSource = object ?? obj;
  const version = [versionSource.modified, versionSource.created].find((v): v is string => typeof v === 'string');
  const outcome: ObjectOutcome = { ok, object, id: outcomeId, version, findings };
  if (normalisedDerived.length && ok) outcome.derived = normalisedDerived;
  if (readId && outcomeId && readId !== outcomeId) outcome.originalId = readId;
  return outcome;
}

/**
 * Runs every object of an envelope or bundle through the pipeline, in order. Envelope-level checks: a repeated
 * (id, modified) version is reported on the later copy (§3.6); references to objects absent from the envelope are
 * allowed (they may already be in the collection).
 */
export function processObjects(objects: readonly unknown[], options: PipelineOptions = {}, textFindings?: ReadonlyArray<readonly Finding[]>): ObjectOutcome[] {
  const outcomes = objects.map((o, i) => processObject(o, options, textFindings?.[i]));
  const seen = new Set<string>();
  const replaced = new Map<string, string>();
  outcomes.forEach((outcome, i) => {
    const raw = objects[i];
    if (outcome.originalId && outcome.id) replaced.set(outcome.originalId, outcome.id);
    if (!isRecord(raw) || typeof raw.id !== 'string') return;
    const modified = typeof raw.modified === 'string' ? timestampKey(raw.modified) ?? raw.modified : '';
    const version = `${raw.id}\u0000${modified}`;
    if (seen.has(version)) {
      const report = new Report();
      report.add('STIX_DUPLICATE_VERSION', 'modified' in raw ? '/modified' : '/id', `${raw.id} ${modified ? 'at this modified time ' : ''}already appears earlier in this envelope; a version is identified by id and modified (§3.6)`, raw.modified ?? raw.id);
      outcome.findings.push(...report.findings);
      if (options.strict) {
        outcome.ok = false;
        delete outcome.object;
      }
    }
    seen.add(version);
  });
  if (replaced.size) {
    for (const outcome of outcomes) if (outcome.object) outcome.object = mapRefs(outcome.object, replaced) as StixObject;
  }
  return outcomes;
}
