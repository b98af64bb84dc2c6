// The ingest worker thread: parses large POST bodies and runs the STIX pipeline on them, batch by
// batch, off the main thread, so that readers are served while a big envelope is processed and
// validation overlaps with storing (issue 6). Protocol: see ingest-runner.ts.
import { parentPort } from 'node:worker_threads';
import type { PipelineOptions } from '../stix-schemas/pipeline.js';
import { TaxiiError } from './errors.js';
import { parseEnvelope, prepareItems } from './ingest.js';

interface Job {
  objects: unknown[];
  indexes: number[];
  next: number;
  options: PipelineOptions;
}

const jobs = new Map<number, Job>();
const port = parentPort!;

port.on('message', (m: { type: string; job: number; body?: Uint8Array; indexes?: number[]; options?: PipelineOptions; size?: number }) => {
  try {
    if (m.type === 'open') {
      const objects = parseEnvelope(m.body!);
      const indexes = m.indexes ?? objects.map((_, i) => i);
      jobs.set(m.job, { objects, indexes, next: 0, options: m.options ?? {} });
      port.postMessage({ type: 'opened', job: m.job, count: objects.length });
    } else if (m.type === 'next') {
      const job = jobs.get(m.job);
      if (!job) throw new Error(`unknown ingest job ${m.job}`);
      const slice = job.indexes.slice(job.next, job.next + (m.size ?? 500));
      job.next += slice.length;
      const items = prepareItems(job.objects, slice, job.options);
      const last = job.next >= job.indexes.length;
      if (last) jobs.delete(m.job);
      port.postMessage({ type: 'batch', job: m.job, items, last });
    } else if (m.type === 'close') {
      jobs.delete(m.job);
    }
  } catch (err) {
    jobs.delete(m.job);
    const taxii = err instanceof TaxiiError ? { code: err.code, description: err.description } : undefined;
    port.postMessage({ type: 'failed', job: m.job, taxii, message: (err as Error).message });
  }
});
