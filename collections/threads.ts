// Worker threads running our own modules, and the job protocol between a thread and its owner:
// {job, ...} → {job, outcome} | {job, error}. Shared by the ingest runner, the SQLite decision
// writer and the desk's decision thread.
import { type MessagePort, type ResourceLimits, Worker } from 'node:worker_threads';

/** An error as it crosses a thread boundary: its name, message and own data fields (entryId, code, details …). */
export interface WireError {
  name: string;
  message: string;
  [field: string]: unknown;
}

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  let fields: Record<string, unknown> = {};
  try {
    fields = structuredClone(Object.fromEntries(Object.entries(e)));
  } catch {
    // a field that cannot cross (a function, a socket): the name and message still do
  }
  return { ...fields, name: e.name, message: e.message };
}

/**
 * Starts the module `name` beside the module `from` (its import.meta.url) in a worker thread, in
 * the same format: .js when built; from source (tsx, in tests) it first registers tsx in the
 * worker, which does not inherit the loader.
 */
export function startModuleWorker(from: string, name: string, workerData?: unknown, resourceLimits?: ResourceLimits): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, from);
  if (!fromSource) return new Worker(url, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}

type Waiting = { resolve: (outcome: unknown) => void; reject: (err: Error) => void };

/**
 * The owner's side of a thread that runs jobs one at a time. The thread starts at the first job;
 * an idle thread does not hold the process up, a job in progress does. `close` lets the job in
 * progress reach a safe point (the thread decides which), then stops the thread.
 */
export class JobThread {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private readonly jobs = new Map<number, Waiting>();
  private nextJob = 1;
  private closed = false;

  constructor(
    private readonly from: string,
    private readonly name: string,
    private readonly workerData: unknown,
    /** The owner's error for one the thread reported (the original classes, so callers catch them as usual). */
    private readonly revive: (e: WireError) => Error,
    /** Why jobs in progress failed when the thread stopped. */
    private readonly stoppedReason: string,
    private readonly resourceLimits?: ResourceLimits,
  ) {}

  newJob(): number {
    return this.nextJob++;
  }

  /** A message belonging to a job not yet started (e.g. part of its input). */
  post(message: Record<string, unknown>): void {
    this.ensureWorker().postMessage(message);
  }

  call(message: Record<string, unknown>, job = this.newJob()): Promise<unknown> {
    const worker = this.ensureWorker();
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      if (this.jobs.size === 1) worker.ref();
      worker.postMessage({ ...message, job });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.ref(); // the process stays up until the thread has reached its safe point
    worker.postMessage({ type: 'close' });
    await this.exited;
  }

  private settle(job: number): Waiting | undefined {
    const waiting = this.jobs.get(job);
    this.jobs.delete(job);
    if (this.jobs.size === 0) this.worker?.unref();
    return waiting;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    if (this.closed) throw new Error('the store is closed');
    const worker = startModuleWorker(this.from, this.name, this.workerData, this.resourceLimits);
    worker.unref();
    worker.on('message', (m: { job: number; outcome?: unknown; error?: WireError }) => {
      const waiting = this.settle(m.job);
      if (m.error) waiting?.reject(this.revive(m.error));
      else waiting?.resolve(m.outcome);
    });
    const failAll = (err: Error) => {
      for (const job of [...this.jobs.keys()]) this.settle(job)?.reject(err);
    };
    worker.on('error', (err) => failAll(new Error(`${this.name} failed: ${err.message}`)));
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        failAll(new Error(this.stoppedReason));
        if (this.worker === worker) this.worker = undefined;
        resolve();
      }));
    this.worker = worker;
    return worker;
  }
}

/**
 * The thread's side: runs `run` for each job message in turn and replies with its outcome or
 * error; `close` is called on the owner's close message, then the port closes. Messages of other
 * types go to `other` at once (a job's input arriving in parts).
 */
export function serveJobs<M extends { job: number; type: string }>(
  port: MessagePort,
  run: (m: M) => Promise<unknown>,
  close: () => Promise<void>,
  other?: (m: { type: string } & Record<string, unknown>) => boolean,
  after?: (m: M) => void,
): void {
  let running: Promise<void> = Promise.resolve();
  port.on('message', (m: M | { type: 'close' }) => {
    if (m.type === 'close') {
      void close().then(() => port.close());
      return;
    }
    if (other?.(m as { type: string } & Record<string, unknown>)) return;
    const job = m as M;
    running = running
      .then(async () => {
        try {
          port.postMessage({ job: job.job, outcome: await run(job) });
        } catch (err) {
          port.postMessage({ job: job.job, error: toWire(err) });
        }
      })
      .finally(() => after?.(job));
  });
}
