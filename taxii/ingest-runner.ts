// Runs the ingest of POST bodies: small bodies inline on the main thread, large ones in a worker
// thread (ingest-worker.ts) that parses and validates while the main thread stores. The worker
// works ahead by up to CREDIT batches, so the two cores overlap and the event loop never holds a
// whole big envelope.
//
// Protocol with the worker, per job: open {body, options, indexes?, size, credit} → opened {count}
// | failed; then the worker sends batch {items, last} messages on its own, one per credit; the
// main thread grants a credit for each batch it takes; close abandons the job.
import type { Worker } from 'node:worker_threads';
import type { IngestItem } from '../collections/store.js';
import { startModuleWorker } from '../collections/threads.js';
import type { PipelineOptions } from 'stix2-validator-ts';
import { openEnvelope } from './envelope.js';
import { type ErrorCode, TaxiiError } from './errors.js';
import { prepareItems } from './ingest.js';

export interface IngestJob {
  /** Number of objects in the envelope. */
  count: number;
  /** The prepared items of the selected indexes, batch by batch. */
  batches(): AsyncGenerator<IngestItem[]>;
}

type Reply = { type: 'opened'; count: number } | { type: 'batch'; items: IngestItem[]; last: boolean } | { type: 'failed'; taxii?: { code: ErrorCode; description?: string }; message: string };

/** Messages of one job, and whoever waits for the next one. */
interface Inbox {
  messages: Reply[];
  waiter?: { resolve: (reply: Reply) => void; reject: (err: Error) => void };
}

/** Batches the worker may prepare ahead of the main thread. */
const CREDIT = 2;

function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'ingest-worker');
}

function throwIfFailed(reply: Reply): Exclude<Reply, { type: 'failed' }> {
  if (reply.type !== 'failed') return reply;
  throw reply.taxii ? new TaxiiError(reply.taxii.code, reply.taxii.description) : new Error(`ingest worker: ${reply.message}`);
}

export class IngestRunner {
  private worker: Worker | undefined;
  private readonly inboxes = new Map<number, Inbox>();
  private nextJob = 1;

  /**
   * @param workerThreshold bodies of at least this many bytes go to the worker thread
   * @param batchSize objects per batch (one store transaction each)
   */
  constructor(
    private readonly workerThreshold: number,
    private readonly batchSize: number,
  ) {}

  async open(body: Buffer, options: PipelineOptions, indexes?: number[]): Promise<IngestJob> {
    return body.length >= this.workerThreshold ? this.openInWorker(body, options, indexes) : this.openInline(body, options, indexes);
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
      const inbox = this.inboxes.get(m.job);
      if (!inbox) return; // an abandoned job
      if (inbox.waiter) {
        const { resolve } = inbox.waiter;
        inbox.waiter = undefined;
        resolve(m);
      } else inbox.messages.push(m);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const inbox of this.inboxes.values()) inbox.waiter?.reject(err);
      this.inboxes.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the ingest worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private receive(job: number): Promise<Reply> {
    const inbox = this.inboxes.get(job);
    if (!inbox) return Promise.reject(new Error('ingest worker: the job is gone (the worker stopped)'));
    const message = inbox.messages.shift();
    if (message) return Promise.resolve(message);
    return new Promise((resolve, reject) => (inbox.waiter = { resolve, reject }));
  }

  private async openInWorker(body: Buffer, options: PipelineOptions, indexes?: number[]): Promise<IngestJob> {
    const worker = this.ensureWorker();
    const job = this.nextJob++;
    this.inboxes.set(job, { messages: [] });
    worker.postMessage({ type: 'open', job, body, options, size: this.batchSize, credit: CREDIT, ...(indexes ? { indexes } : {}) });
    let opened: Exclude<Reply, { type: 'failed' }>;
    try {
      opened = throwIfFailed(await this.receive(job));
    } catch (err) {
      this.inboxes.delete(job);
      throw err;
    }
    if (opened.type !== 'opened') throw new Error('ingest worker: unexpected reply to open');
    const receive = () => this.receive(job);
    const done = () => {
      this.inboxes.delete(job);
      this.worker?.postMessage({ type: 'close', job });
    };
    return {
      count: opened.count,
      async *batches() {
        try {
          for (;;) {
            const reply = throwIfFailed(await receive());
            if (reply.type !== 'batch') throw new Error('ingest worker: unexpected message');
            // The worker may prepare one more batch while the caller stores this one.
            if (!reply.last) worker.postMessage({ type: 'credit', job, credit: 1 });
            yield reply.items;
            if (reply.last) return;
          }
        } finally {
          done();
        }
      },
    };
  }

  private openInline(body: Buffer, options: PipelineOptions, indexes?: number[]): IngestJob {
    const envelope = openEnvelope(body);
    const selected = indexes ?? Array.from({ length: envelope.count }, (_, i) => i);
    const size = this.batchSize;
    return {
      count: envelope.count,
      async *batches() {
        for (let start = 0; start < selected.length; start += size) yield prepareItems(envelope, selected.slice(start, start + size), options);
      },
    };
  }
}
