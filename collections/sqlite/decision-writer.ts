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
import { type DecisionOutcome, type DecisionPlan, reviveStoreError } from '../store.js';
import { JobThread } from '../threads.js';

/** Publications per message to the worker (a few milliseconds of copying each). */
const PART = 1000;

export class DecisionWriter {
  private readonly thread: JobThread;

  /**
   * @param location the store's data directory (a file database: a worker cannot share ':memory:')
   * @param checkpoints 'backstop' when another thread checkpoints the WAL (the server's store)
   */
  constructor(location: string, checkpoints: 'backstop' | 'inline') {
    this.thread = new JobThread(
      import.meta.url, 'decision-worker', { location, checkpoints },
      (e) => reviveStoreError(e) ?? new Error(`decision writer: ${e.message}`),
      // A decision cut short here is left 'applying' and rolled forward at the next start.
      'the decision writer stopped before the decision was applied; it is finished at the next start',
    );
  }

  async apply(plan: DecisionPlan): Promise<DecisionOutcome> {
    const job = this.thread.newJob();
    for (let i = 0; i < plan.publications.length; i += PART) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      this.thread.post({ type: 'part', job, publications: plan.publications.slice(i, i + PART) });
    }
    // The count lets the worker refuse a plan whose parts did not all reach it (a worker restarted in between).
    return this.thread.call({ type: 'apply', plan: { ...plan, publications: [] }, count: plan.publications.length }, job) as Promise<DecisionOutcome>;
  }

  /** Rolls forward the decisions a crash interrupted (SqliteStore.resumeDecisions in the worker). */
  resume(): Promise<number> {
    return this.thread.call({ type: 'resume' }) as Promise<number>;
  }

  /** Lets the transaction in progress finish, then stops the worker and closes its connection. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
