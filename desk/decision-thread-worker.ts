// The worker thread of DecisionThread (decision-thread.ts): makes large decisions with its own
// connection, through the same DeskService and SqliteStore as the main thread, one at a time.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../collections/sqlite/sqlite-store.js';
import { serveJobs } from '../collections/threads.js';
import type { Caller } from '../taxii/access.js';
import { type DecisionRequest, DeskService, decisionJson } from './service.js';

const { location, nice } = workerData as { location: string; nice: number };
// Its writes stay on this thread: the decision's chunks are this thread's transactions. Its commits
// checkpoint what they wrote (SQLite's own threshold), at this thread's priority: the server's
// background checkpoints wait meanwhile (DecisionThread's `around`), or they would copy a large
// decision's tens of MB at normal priority, with the CPU the polls need.
const store = new SqliteStore({ location, checkpoints: 'inline', decisions: 'inline' });
const desk = new DeskService(store);
// Readers first: subscribers' polls are answered by the main thread, and on a machine with few
// cores this thread would take CPU from them; lowered (decisionThreadNice, 19 by default), it takes
// mostly what they leave. Its transactions end after 50 ms of wall-clock time, but one it holds
// while the scheduler keeps it waiting lasts longer: the lower the priority, the longer a writer on
// another connection may wait on a saturated machine. On Linux the nice value is per thread;
// elsewhere it may lower the whole process, so only there.
if (process.platform === 'linux' && nice > 0) {
  try {
    setPriority(0, nice);
  } catch {
    // not allowed here: the thread runs at the process's priority
  }
}

serveJobs<{ job: number } & ({ type: 'decide'; caller: Caller; request: DecisionRequest } | { type: 'ping' })>(
  parentPort!,
  async (m) => (m.type === 'ping' ? true : decisionJson(await desk.decide(m.caller, m.request))),
  // Stops a decision between two of its transactions (rolled forward at the next start).
  () => store.close(),
);
