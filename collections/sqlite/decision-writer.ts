// The writes of large decisions off the main thread. A decision publishing thousands of copies
// holds SQLite's write lock for a second or more in all; on the event loop that is a second of
// polls waiting. A worker thread with its own connection to the same WAL database writes them
// (decision-worker.ts: the same SqliteStore code, so the same transactions and crash safety), and
// readers on the main connection never wait for a writer in WAL mode.
//
// Protocol: part {job, publications}…, then apply {job, plan} (its publications are the parts') |
// resume {job} → {job, outcome} | {job, error}; close → the worker stops after the transaction in
// progress (an interrupted decision is rolled forward at the next start, as after a crash) and exits.
// A plan goes over in parts with the event loop let in between: copying tens of thousands of
// publications to the worker at once would hold it for a hundred milliseconds.
import { Worker } from 'node:worker_threads';
import { type DecisionOutcome, type DecisionPlan, StaleDecisionError, StoreConflictError } from '../store.js';

/** Publications per message to the worker (a few milliseconds of copying each). */
const PART = 1000;

type Reply = { job: number; outcome: unknown } | { job: number; error: { name: string; message: string; entryId?: string } };

// The worker runs the same module format as this file: .js when built; from source (tsx, in tests)
// it first registers tsx in the worker, which does not inherit the loader.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./decision-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

/** The main thread's error for one the worker reported: the store's own classes, so callers catch them as usual. */
function revive(e: { name: string; message: string; entryId?: string }): Error {
  if (e.name === 'StaleDecisionError' && e.entryId !== undefined) return new StaleDecisionError(e.entryId);
  if (e.name === 'StoreConflictError') return new StoreConflictError(e.message);
  return new Error(`decision writer: ${e.message}`);
}

export class DecisionWriter {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private readonly jobs = new Map<number, { resolve: (outcome: unknown) => void; reject: (err: Error) => void }>();
  private nextJob = 1;
  private closed = false;

  /**
   * @param location the store's data directory (a file database: a worker cannot share ':memory:')
   * @param checkpoints 'backstop' when another thread checkpoints the WAL (the server's store)
   */
  constructor(
    private readonly location: string,
    private readonly checkpoints: 'backstop' | 'inline',
  ) {}

  async apply(plan: DecisionPlan): Promise<DecisionOutcome> {
    const worker = this.ensureWorker();
    const job = this.nextJob++;
    for (let i = 0; i < plan.publications.length; i += PART) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      worker.postMessage({ type: 'part', job, publications: plan.publications.slice(i, i + PART) });
    }
    // The count lets the worker refuse a plan whose parts did not all reach it (a worker restarted in between).
    return this.send({ type: 'apply', plan: { ...plan, publications: [] }, count: plan.publications.length }, job) as Promise<DecisionOutcome>;
  }

  /** Rolls forward the decisions a crash interrupted (SqliteStore.resumeDecisions in the worker). */
  resume(): Promise<number> {
    return this.send({ type: 'resume' }) as Promise<number>;
  }

  /** Lets the transaction in progress finish, then stops the worker and closes its connection. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.ref(); // the process stays up until the worker has closed its connection
    worker.postMessage({ type: 'close' });
    await this.exited;
  }

  private send(message: Record<string, unknown>, job = this.nextJob++): Promise<unknown> {
    const worker = this.ensureWorker();
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      // A job holds the process up (a shutdown waits for it); an idle worker does not.
      if (this.jobs.size === 1) worker.ref();
      worker.postMessage({ ...message, job });
    });
  }

  private settle(job: number): { resolve: (outcome: unknown) => void; reject: (err: Error) => void } | undefined {
    const waiting = this.jobs.get(job);
    this.jobs.delete(job);
    if (this.jobs.size === 0) this.worker?.unref();
    return waiting;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    if (this.closed) throw new Error('the store is closed');
    const workerData = { location: this.location, checkpoints: this.checkpoints };
    const worker = FROM_SOURCE
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`, { eval: true, workerData })
      : new Worker(WORKER_URL, { workerData });
    worker.unref();
    worker.on('message', (m: Reply) => {
      const waiting = this.settle(m.job);
      if ('error' in m) waiting?.reject(revive(m.error));
      else waiting?.resolve(m.outcome);
    });
    const failAll = (err: Error) => {
      for (const job of [...this.jobs.keys()]) this.settle(job)?.reject(err);
    };
    worker.on('error', (err) => failAll(new Error(`decision writer failed: ${err.message}`)));
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        // A decision cut short here is left 'applying' and rolled forward at the next start.
        failAll(new Error('the decision writer stopped before the decision was applied; it is finished at the next start'));
        if (this.worker === worker) this.worker = undefined;
        resolve();
      }));
    this.worker = worker;
    return worker;
  }
}
