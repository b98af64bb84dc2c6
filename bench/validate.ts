// Bench: objects validated and normalised per second on the MITRE ATT&CK Enterprise bundle, parse
// excluded. Without the bundle, on the generated ATT&CK-like stand-in (bench/dataset.ts), named in
// the `dataset` field so the figure is never read as an ATT&CK one.
import { processObjects } from 'stix2-validator-ts';
import { attackDataset } from './dataset.js';

export async function benchValidate(): Promise<{ objectsPerSecond: number; validationMs: number; peakRssMb: number; objects: number; dataset: string }> {
  const { objects, label } = attackDataset();
  processObjects(objects.slice(0, 2000)); // warm-up: compile the hot paths before timing
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = process.hrtime.bigint();
    const outcomes = processObjects(objects);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const failed = outcomes.findIndex((o) => !o.ok);
    if (failed >= 0) throw new Error(`the ${label} must validate with zero errors; object ${failed} has ${JSON.stringify(outcomes[failed]!.findings.slice(0, 3))}`);
    best = Math.min(best, ms);
  }
  return {
    objectsPerSecond: Math.round((objects.length / best) * 1000),
    validationMs: Math.round(best),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    objects: objects.length,
    dataset: label,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchValidate().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  });
}
