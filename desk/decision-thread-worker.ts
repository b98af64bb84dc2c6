// The worker thread of DecisionThread (decision-thread.ts): makes large decisions with its own
// connection, through the same DeskService and SqliteStore as the main thread, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../collections/sqlite/sqlite-store.js';
import { serveJobs } from '../collections/threads.js';
import type { Caller } from '../taxii/access.js';
import { type DecisionRequest, DeskService } from './service.js';

const { location, checkpoints } = workerData as { location: string; checkpoints: 'backstop' | 'inline' };
// Its writes stay on this thread: the decision's chunks are this thread's transactions.
const store = new SqliteStore({ location, checkpoints, decisions: 'inline' });
const desk = new DeskService(store);

serveJobs<{ job: number } & ({ type: 'decide'; caller: Caller; request: DecisionRequest } | { type: 'ping' })>(
  parentPort!,
  async (m) => (m.type === 'ping' ? true : desk.decide(m.caller, m.request)),
  // Stops a decision between two of its transactions (rolled forward at the next start).
  () => store.close(),
);
