// Turning a POSTed envelope into store items (TAXII 2.1 §5.5): run each object through the STIX
// pipeline and shape the outcome for the store. Pure functions, run on the main
// thread for small bodies and in the ingest worker for large ones — the same code either way.
import { type IngestItem, type NewObject, TLP_RANK } from '../collections/store.js';
import { tlpLevelOf } from 'stix2-validator-ts/markings';
import { type ObjectOutcome, type PipelineOptions, type StixObject, processObjects } from 'stix2-validator-ts';
import { timestampKey } from 'stix2-validator-ts/timestamp';
import type { Envelope } from './envelope.js';
import { STIX_MEDIA_TYPE } from './media-types.js';

/** What a status-details entry names for an envelope item (§4.3.1: id and version). */
function itemLabel(obj: unknown, index: number): { id: string; version: string } {
  const o = typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
  const id = typeof o.id === 'string' && o.id.length <= 300 ? o.id : `objects[${index}]`;
  const version = [o.modified, o.created].find((v): v is string => typeof v === 'string' && v.length <= 64) ?? '';
  return { id, version };
}

function failureMessage(outcome: ObjectOutcome): string {
  const errors = outcome.findings.filter((f) => f.severity === 'error');
  const shown = errors.slice(0, 5).map((f) => `${f.code}${f.path ? ` at ${f.path}` : ''}: ${f.message}`);
  if (errors.length > shown.length) shown.push(`and ${errors.length - shown.length} more`);
  return shown.join('; ') || 'the object was rejected';
}

/** A normalised object as the store keeps it: the canonical JSON plus what queries filter on. */
function toNewObject(obj: StixObject): NewObject {
  const version = [obj.modified, obj.created].find((v): v is string => typeof v === 'string');
  const tlp = tlpLevelOf(obj);
  return {
    id: obj.id as string,
    type: obj.type as string,
    specVersion: obj.spec_version as string,
    ...(version ? { version, versionKey: timestampKey(version)! } : {}),
    mediaType: STIX_MEDIA_TYPE,
    tlp: tlp ? TLP_RANK[tlp] : 0,
    json: JSON.stringify(obj),
  };
}

/** Validates and normalises the objects at `indexes` into store items (warnings kept as provenance). */
export function prepareItems(envelope: Envelope, indexes: readonly number[], options: PipelineOptions): IngestItem[] {
  // Each object is parsed here, batch by batch, so the envelope's whole tree never exists at once.
  const objects = indexes.map((i) => envelope.object(i));
  // Envelope-level checks (repeated versions) see one batch at a time; a repeat across batches
  // is still stored once by the store. Numbers parsing changed are refused from the item's text.
  const outcomes = processObjects(objects, options, indexes.map((i) => envelope.findings(i)));
  return outcomes.map((o, k) => {
    const index = indexes[k]!;
    const label = itemLabel(objects[k], index);
    if (!o.ok || !o.object) return { index, ...label, failure: failureMessage(o) };
    const warnings = o.findings.filter((f) => f.severity === 'warning');
    return {
      index,
      id: o.object.id as string,
      version: o.version ?? label.version,
      object: { ...toNewObject(o.object), ...(warnings.length ? { warnings: JSON.stringify(warnings) } : {}) },
      ...(o.derived?.length ? { derived: o.derived.map(toNewObject) } : {}),
    };
  });
}
