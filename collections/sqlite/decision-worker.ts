// The worker thread of DecisionWriter (decision-writer.ts): applies large decisions with its own
// connection through the same SqliteStore code as the main thread, one job at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './sqlite-store.js';

type Plan = Parameters<SqliteStore['applyDecision']>[0];
type Job = { job: number } & ({ type: 'apply'; plan: Plan; count: number } | { type: 'resume' });

const port = parentPort!;
const { location, checkpoints } = workerData as { location: string; checkpoints: 'backstop' | 'inline' };
const store = new SqliteStore({ location, checkpoints, decisions: 'inline' });
let running: Promise<void> = Promise.resolve();
/** The publications of plans still arriving, by job. */
const parts = new Map<number, Plan['publications']>();

async function run(m: Job): Promise<void> {
  try {
    let outcome: unknown;
    if (m.type === 'apply') {
      const publications = parts.get(m.job) ?? [];
      if (publications.length !== m.count) throw new Error(`${publications.length} of the decision's ${m.count} publications reached the writer; nothing was written`);
      outcome = await store.applyDecision({ ...m.plan, publications });
    } else outcome = await store.resumeDecisions();
    port.postMessage({ job: m.job, outcome });
  } catch (err) {
    const e = err as Error & { entryId?: string };
    port.postMessage({ job: m.job, error: { name: e.name, message: e.message, ...(e.entryId !== undefined ? { entryId: e.entryId } : {}) } });
  }
}

port.on('message', (m: Job | { type: 'close' } | { type: 'part'; job: number; publications: Plan['publications'] }) => {
  if (m.type === 'part') {
    const list = parts.get(m.job);
    if (list) for (const p of m.publications) list.push(p);
    else parts.set(m.job, m.publications);
    return;
  }
  if (m.type === 'close') {
    // close() stops a decision between two of its transactions; the jobs after it never start.
    void store.close().then(() => port.close());
    return;
  }
  running = running.then(() => run(m)).finally(() => parts.delete(m.job));
});
