// The worker thread of DecisionWriter (decision-writer.ts): applies large decisions with its own
// connection through the same SqliteStore code as the main thread, one job at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { serveJobs } from '../threads.js';
import { SqliteStore } from './sqlite-store.js';

type Plan = Parameters<SqliteStore['applyDecision']>[0];
type Job = { job: number } & ({ type: 'apply'; plan: Plan; count: number } | { type: 'resume' });

const { location, checkpoints } = workerData as { location: string; checkpoints: 'backstop' | 'inline' };
const store = new SqliteStore({ location, checkpoints, decisions: 'inline' });
/** The publications of plans still arriving, by job. */
const parts = new Map<number, Plan['publications']>();

serveJobs<Job>(
  parentPort!,
  async (m) => {
    if (m.type === 'resume') return store.resumeDecisions();
    const publications = parts.get(m.job) ?? [];
    if (publications.length !== m.count) throw new Error(`${publications.length} of the decision's ${m.count} publications reached the writer; nothing was written`);
    return store.applyDecision({ ...m.plan, publications });
  },
  // close() stops a decision between two of its transactions; the jobs after it never start.
  () => store.close(),
  (m) => {
    if (m.type !== 'part') return false;
    const job = m.job as number;
    const list = parts.get(job);
    if (list) for (const p of m.publications as Plan['publications']) list.push(p);
    else parts.set(job, m.publications as Plan['publications']);
    return true;
  },
  (m) => parts.delete(m.job),
);
