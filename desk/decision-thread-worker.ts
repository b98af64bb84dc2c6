// The worker thread of DecisionThread (decision-thread.ts): makes large decisions with its own
// connection, through the same DeskService and SqliteStore as the main thread, one at a time.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../collections/sqlite/sqlite-store.js';
import { serveJobs } from '../collections/threads.js';
import type { Caller } from '../taxii/access.js';
import { type DecisionRequest, DeskService } from './service.js';

/** Niceness of this thread (0 normal, 19 lowest). */
const DECISION_THREAD_NICE = 10;

const { location, checkpoints } = workerData as { location: string; checkpoints: 'backstop' | 'inline' };
// Its writes stay on this thread: the decision's chunks are this thread's transactions.
const store = new SqliteStore({ location, checkpoints, decisions: 'inline' });
const desk = new DeskService(store);
// Readers first: subscribers' polls are answered by the main thread, and on a machine with few
// cores this thread would take CPU from them. At nice 10 it gets what they leave (a decision's
// transactions end after a fixed wall-clock time, so a writer waiting for one waits no longer).
// On Linux the nice value is per thread; elsewhere this may lower the whole process, so only there.
if (process.platform === 'linux') {
  try {
    setPriority(0, DECISION_THREAD_NICE);
  } catch {
    // not allowed here: the thread runs at the process's priority
  }
}

serveJobs<{ job: number } & ({ type: 'decide'; caller: Caller; request: DecisionRequest } | { type: 'ping' })>(
  parentPort!,
  async (m) => (m.type === 'ping' ? true : desk.decide(m.caller, m.request)),
  // Stops a decision between two of its transactions (rolled forward at the next start).
  () => store.close(),
);
