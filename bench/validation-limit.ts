// The limit of the validation figure, measured in the same run on the same machine: JSON.parse of
// the same bytes the pipeline validates. (The store's limits are in backends.ts.)
import { processObjects } from 'stix2-validator-ts';

/** JSON.parse of the envelope bytes vs the pipeline (validate + normalise) over the parsed objects. */
export function validationVsParse(bodies: Buffer[]): { parseObjectsPerSecond: number; parseMBps: number; validateObjectsPerSecond: number; objects: number; failures: number } {
  let objects = 0;
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  let t = performance.now();
  const parsed = bodies.map((b) => (JSON.parse(b.toString('utf8')) as { objects: unknown[] }).objects);
  const parseSeconds = (performance.now() - t) / 1000;
  for (const p of parsed) objects += p.length;
  let failures = 0;
  t = performance.now();
  for (const p of parsed) for (const o of processObjects(p)) if (!o.ok) failures++;
  const validateSeconds = (performance.now() - t) / 1000;
  return { parseObjectsPerSecond: objects / parseSeconds, parseMBps: bytes / 1048576 / parseSeconds, validateObjectsPerSecond: objects / validateSeconds, objects, failures };
}
