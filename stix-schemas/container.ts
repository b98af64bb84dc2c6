// What a file or request body may hold: a bundle (§8), a TAXII envelope {objects: […]}, a JSON list, or one object.
import type { Finding } from './findings.js';
import { parseIdentifier } from './formats.js';
import { isRecord } from './types-common.js';
import { Report } from './validate.js';

export interface Unpacked {
  kind: 'bundle' | 'envelope' | 'list' | 'object';
  objects: unknown[];
  /** Findings about the container itself (paths relative to it). */
  findings: Finding[];
}

/** Splits a parsed document into the objects to validate, checking a bundle's own shape (§8). */
export function unpack(doc: unknown): Unpacked {
  const report = new Report();
  if (Array.isArray(doc)) return { kind: 'list', objects: doc, findings: [] };
  if (isRecord(doc) && doc.type === 'bundle') {
    if (parseIdentifier(doc.id)?.type !== 'bundle') report.add('STIX_BUNDLE_INVALID', '/id', 'a bundle id MUST be "bundle--<RFC 4122 UUID>" (§8.1)', 'id' in doc ? doc.id : 'nothing');
    // §8: a 2.1 bundle has no spec_version, and a bundle may carry properties others ignore; "2.0" is how 2.0
    // bundles announce themselves. Either way each object's own spec_version decides its version (upgrade.ts).
    if ('spec_version' in doc && doc.spec_version !== '2.0') {
      report.add('STIX_BUNDLE_SPEC_VERSION', '/spec_version', 'a STIX 2.1 bundle has no spec_version (§8.1); it is ignored, and each object\'s own spec_version decides its version', doc.spec_version);
    }
    if ('objects' in doc && (!Array.isArray(doc.objects) || doc.objects.length === 0)) {
      report.add('STIX_BUNDLE_INVALID', '/objects', 'objects MUST be a non-empty list when present (§8.1)', doc.objects);
    }
    return { kind: 'bundle', objects: Array.isArray(doc.objects) ? doc.objects : [], findings: report.findings };
  }
  if (isRecord(doc) && !('type' in doc) && Array.isArray(doc.objects)) return { kind: 'envelope', objects: doc.objects, findings: [] };
  return { kind: 'object', objects: [doc], findings: [] };
}
