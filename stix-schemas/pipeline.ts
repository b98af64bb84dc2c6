// The STIX pipeline entry point: validate, then normalise, each object of an envelope or bundle.
// It imports nothing of Meridian's other layers (ARCHITECTURE §4).
import { type Finding, error } from './findings.js';
import { parseStixTimestamp, timestampKey } from './timestamp.js';

export type StixObject = Record<string, unknown>;

export interface PipelineOptions {
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
}

const TYPE = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,249}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks one object (STIX 2.1 §3, §2.9, §3.2) and returns its outcome. */
export function processObject(input: unknown, options: PipelineOptions = {}): ObjectOutcome {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, findings: [error('STIX_NOT_AN_OBJECT', '', 'a STIX object must be a JSON object')] };
  }
  const obj = input as StixObject;
  const findings: Finding[] = [];
  const id = typeof obj.id === 'string' ? obj.id : undefined;
  const version = [obj.modified, obj.created].find((v): v is string => typeof v === 'string');
  if (typeof obj.type !== 'string' || !TYPE.test(obj.type)) {
    findings.push(error('STIX_TYPE_INVALID', '/type', 'type must be 3–250 characters of a–z, 0–9 and single hyphens'));
  }
  const idParts = id?.split('--');
  if (!id || idParts?.length !== 2 || idParts[0] !== obj.type || !UUID.test(idParts[1] ?? '')) {
    findings.push(error('STIX_ID_INVALID', '/id', 'id must be "<type>--<UUID>" with the object\'s own type'));
  }
  if (obj.spec_version !== '2.1') {
    findings.push(error('STIX_SPEC_VERSION_INVALID', '/spec_version', 'spec_version must be "2.1"'));
  }
  for (const prop of ['created', 'modified'] as const) {
    if (prop in obj && !parseStixTimestamp(obj[prop])) {
      findings.push(error('STIX_TIMESTAMP_INVALID', `/${prop}`, `${prop} must be an RFC 3339 UTC timestamp`));
    }
  }
  const createdKey = typeof obj.created === 'string' ? timestampKey(obj.created) : undefined;
  const modifiedKey = typeof obj.modified === 'string' ? timestampKey(obj.modified) : undefined;
  if (createdKey && modifiedKey && modifiedKey < createdKey) {
    findings.push(error('STIX_MODIFIED_BEFORE_CREATED', '/modified', 'modified must not be earlier than created'));
  }
  const ok = !findings.some((f) => f.severity === 'error' || options.strict);
  return { ok, object: ok ? obj : undefined, id, version, findings };
}

/** Runs every object of an envelope or bundle through the pipeline, in order. */
export function processObjects(objects: readonly unknown[], options: PipelineOptions = {}): ObjectOutcome[] {
  return objects.map((o) => processObject(o, options));
}
