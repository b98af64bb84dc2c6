// The ingest worker thread: parses large POST bodies and runs the STIX pipeline on them, batch by
// batch, off the main thread, so that readers are served while a big envelope is processed and
// validation overlaps with storing. Protocol: see ingest-runner.ts.
import { parentPort } from 'node:worker_threads';
import type { PipelineOptions } from 'stix2-validator-ts';
import { type Envelope, openEnvelope } from './envelope.js';
import { TaxiiError } from './errors.js';
import { prepareItems } from './ingest.js';

interface Job {
  envelope: Envelope;
  indexes: number[];
  next: number;
  size: number;
  options: PipelineOptions;
  /** Batches the main thread is ready to take (it grants more as it stores them). */
  credit: number;
}

const jobs = new Map<number, Job>();
const ready: number[] = []; // jobs with credit and work left, served in turn
const port = parentPort!;

function fail(job: number, err: unknown): void {
  jobs.delete(job);
  const taxii = err instanceof TaxiiError ? { code: err.code, description: err.description } : undefined;
  port.postMessage({ type: 'failed', job, taxii, message: (err as Error).message });
}

/** Prepares one batch of the next ready job, then yields to messages before the next batch. */
function work(): void {
  const id = ready.shift();
  if (id === undefined) return;
  const job = jobs.get(id);
  if (job && job.credit > 0) {
    try {
      const slice = job.indexes.slice(job.next, job.next + job.size);
      job.next += slice.length;
      job.credit--;
      const items = prepareItems(job.envelope, slice, job.options);
      const last = job.next >= job.indexes.length;
      if (last) jobs.delete(id);
      else if (job.credit > 0) ready.push(id);
      port.postMessage({ type: 'batch', job: id, items, last });
    } catch (err) {
      fail(id, err);
    }
  }
  if (ready.length) setImmediate(work);
}

function schedule(id: number): void {
  if (!ready.includes(id)) ready.push(id);
  if (ready.length === 1) setImmediate(work);
}

port.on('message', (m: { type: string; job: number; body?: Uint8Array; indexes?: number[]; options?: PipelineOptions; size?: number; credit?: number }) => {
  if (m.type === 'open') {
    try {
      const envelope = openEnvelope(m.body!);
      const indexes = m.indexes ?? Array.from({ length: envelope.count }, (_, i) => i);
      port.postMessage({ type: 'opened', job: m.job, count: envelope.count });
      if (indexes.length === 0) return void port.postMessage({ type: 'batch', job: m.job, items: [], last: true });
      jobs.set(m.job, { envelope, indexes, next: 0, size: m.size ?? 500, options: m.options ?? {}, credit: m.credit ?? 2 });
      schedule(m.job);
    } catch (err) {
      fail(m.job, err);
    }
  } else if (m.type === 'credit') {
    const job = jobs.get(m.job);
    if (!job) return;
    job.credit += m.credit ?? 1;
    schedule(m.job);
  } else if (m.type === 'close') {
    jobs.delete(m.job);
  }
});
