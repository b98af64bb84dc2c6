// Bench (issue 3): objects validated and normalised per second on the MITRE ATT&CK Enterprise bundle, parse excluded.
import { readFile } from 'node:fs/promises';
import { unpack } from '../stix-schemas/container.js';
import { processObjects } from '../stix-schemas/pipeline.js';

const ATTACK = new URL('../../shared/data/enterprise-attack.json', import.meta.url);

export async function benchValidate(): Promise<{ objectsPerSecond: number; validationMs: number; peakRssMb: number; objects: number }> {
  const { objects } = unpack(JSON.parse(await readFile(ATTACK, 'utf8')));
  processObjects(objects.slice(0, 2000)); // warm-up: compile the hot paths before timing
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = process.hrtime.bigint();
    const outcomes = processObjects(objects);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (outcomes.some((o) => !o.ok)) throw new Error('the ATT&CK bundle must validate with zero errors');
    best = Math.min(best, ms);
  }
  return {
    objectsPerSecond: Math.round((objects.length / best) * 1000),
    validationMs: Math.round(best),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    objects: objects.length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchValidate().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  });
}
