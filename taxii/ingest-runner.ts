// Runs the ingest of POST bodies: small bodies inline on the main thread, large ones in a worker
// thread (ingest-worker.ts) that parses and validates while the main thread stores — one batch of
// look-ahead, so the two cores overlap and the event loop never holds a whole big envelope.
//
// Protocol with the worker, per job: open {body, options, indexes?} → opened {count} | failed;
// then next {size} → batch {items, last}, repeatedly; close abandons the job.
import { Worker } from 'node:worker_threads';
import type { IngestItem } from '../collections/store.js';
import type { PipelineOptions } from '../stix-schemas/pipeline.js';
import { type ErrorCode, TaxiiError } from './errors.js';
import { parseEnvelope, prepareItems } from './ingest.js';

export interface IngestJob {
  /** Number of objects in the envelope. */
  count: number;
  /** The prepared items of the selected indexes, batch by batch. */
  batches(size: number): AsyncGenerator<IngestItem[]>;
}

type Reply = { type: 'opened'; count: number } | { type: 'batch'; items: IngestItem[]; last: boolean } | { type: 'failed'; taxii?: { code: ErrorCode; description?: string }; message: string };

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

// The worker runs the same module format as this file: .js when built; from source (under tsx,
// in tests) it first registers tsx in the worker, which does not inherit the loader.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./ingest-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true });
}

export class IngestRunner {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter[]>();
  private nextJob = 1;

  /** @param workerThreshold bodies of at least this many bytes go to the worker thread */
  constructor(private readonly workerThreshold: number) {}

  async open(body: Buffer, options: PipelineOptions, indexes?: number[]): Promise<IngestJob> {
    return body.length >= this.workerThreshold ? this.openInWorker(body, options, indexes) : openInline(body, options, indexes);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (m: Reply & { job: number }) => {
      const queue = this.waiting.get(m.job);
      const waiter = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(m.job);
      waiter?.resolve(m);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const queue of this.waiting.values()) for (const w of queue) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the ingest worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private request(job: number, message: Record<string, unknown>): Promise<Reply> {
    const worker = this.ensureWorker();
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(job) ?? [];
      queue.push({ resolve, reject });
      this.waiting.set(job, queue);
      worker.postMessage({ ...message, job });
    });
  }

  private async openInWorker(body: Buffer, options: PipelineOptions, indexes?: number[]): Promise<IngestJob> {
    const job = this.nextJob++;
    const opened = throwIfFailed(await this.request(job, { type: 'open', body, options, ...(indexes ? { indexes } : {}) }));
    if (opened.type !== 'opened') throw new Error('ingest worker: unexpected reply to open');
    const request = (size: number) => this.request(job, { type: 'next', size });
    const close = () => this.worker?.postMessage({ type: 'close', job });
    return {
      count: opened.count,
      async *batches(size: number) {
        const total = indexes ? indexes.length : opened.count;
        if (total === 0) return close();
        let pending = request(size);
        try {
          for (;;) {
            const reply = throwIfFailed(await pending);
            if (reply.type !== 'batch') throw new Error('ingest worker: unexpected reply to next');
            // Ask for the next batch before the caller stores this one: validation overlaps storage.
            if (!reply.last) pending = request(size);
            yield reply.items;
            if (reply.last) return;
          }
        } finally {
          close();
        }
      },
    };
  }
}

function throwIfFailed(reply: Reply): Exclude<Reply, { type: 'failed' }> {
  if (reply.type !== 'failed') return reply;
  throw reply.taxii ? new TaxiiError(reply.taxii.code, reply.taxii.description) : new Error(`ingest worker: ${reply.message}`);
}

function openInline(body: Buffer, options: PipelineOptions, indexes?: number[]): IngestJob {
  const objects = parseEnvelope(body);
  const selected = indexes ?? objects.map((_, i) => i);
  return {
    count: objects.length,
    async *batches(size: number) {
      for (let start = 0; start < selected.length; start += size) yield prepareItems(objects, selected.slice(start, start + size), options);
    },
  };
}
