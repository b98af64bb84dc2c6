// §9 STIX patterning: the single call site of the pattern engine (stix-schemas/pattern/, written separately).
import type { Finding } from './findings.js';

/**
 * Checks a "stix" indicator pattern and returns its findings with paths under `path`.
 * INTEGRATION POINT: the pattern engine (./pattern/index.js, parsePattern + object-path checker) plugs in here.
 */
export function checkPattern(pattern: string, path: string): Finding[] {
  void pattern;
  void path;
  return [];
}
