// Large decisions made off the event loop. Choosing, checking and planning ten thousand entries
// takes the main thread about half a second of work that polls would wait behind; a worker
// thread with its own connection to the same SQLite file (decision-thread-worker.ts: the same
// DeskService and SqliteStore code, so the same rules, transactions and crash safety) makes them
// there while the main thread keeps answering readers (WAL: readers never wait for the writer).
import { reviveStoreError } from '../collections/store.js';
import { JobThread, type WireError } from '../collections/threads.js';
import type { Caller } from '../taxii/access.js';
import { type ErrorCode, TaxiiError } from '../taxii/errors.js';
import type { DecisionJson, DecisionRequest } from './service.js';

/** The decision thread's young generation, in MB (V8's default is a few tens). */
const YOUNG_GENERATION_MB = 128;

export class DecisionThread {
  private readonly thread: JobThread;
  private readonly around: <T>(decision: () => Promise<T>) => Promise<T>;

  /**
   * @param location where the store's file is (SqliteStore.companion)
   * @param nice the thread's priority on Linux (0 normal … 19 lowest; decisionThreadNice)
   * @param around runs each decision; the server's store holds its background checkpoints meanwhile
   *   (SqliteStore.checkpointsHeldDuring), since the thread checkpoints what it writes, at its priority
   */
  constructor(location: string, nice: number, around: <T>(decision: () => Promise<T>) => Promise<T> = (decision) => decision()) {
    this.around = around;
    this.thread = new JobThread(
      import.meta.url, 'decision-thread-worker', { location, nice }, revive,
      // A decision whose writes had begun is left 'applying' and rolled forward at the next start.
      'the server stopped while the decision was being made; if its writes had begun, it is finished at the next start',
      // A decision of 10,000 entries makes tens of MB of short-lived objects (rows, parsed
      // objects, its plan and report): a larger young generation collects them in fewer scavenges.
      { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    );
  }

  /** The decision made there, as the JSON text of its result (a string crosses threads as one copy; a report of 30,000 publications as objects would be rebuilt here). */
  decideAsJson(caller: Caller, request: DecisionRequest): Promise<DecisionJson> {
    // The grants memo is a promise of this thread; the worker reads the grants again.
    const { account, organisation, via, remote } = caller;
    const plain: Caller = { account, ...(organisation ? { organisation } : {}), ...(via ? { via } : {}), ...(remote !== undefined ? { remote } : {}) };
    return this.around(() => this.thread.call({ type: 'decide', caller: plain, request }) as Promise<DecisionJson>);
  }

  /** Starts the thread ahead of the first decision (loading its modules takes a tenth of a second). */
  warm(): void {
    this.thread.call({ type: 'ping' }).catch(() => undefined);
  }

  /** Lets a decision in progress reach the end of its current transaction, then stops the thread. */
  close(): Promise<void> {
    return this.thread.close();
  }
}

function revive(e: WireError): Error {
  if (e.name === 'TaxiiError' && typeof e.code === 'string') {
    const err = new TaxiiError(e.code as ErrorCode, typeof e.description === 'string' ? e.description : undefined, e.details as Record<string, unknown> | undefined);
    if (e.headers && typeof e.headers === 'object') err.headers = e.headers as Record<string, string>;
    return err;
  }
  return reviveStoreError(e) ?? new Error(`decision thread: ${e.message}`);
}
