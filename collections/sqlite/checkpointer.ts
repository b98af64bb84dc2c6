// WAL checkpoints off the main thread. A checkpoint copies committed pages from the WAL
// into the database file; left to SQLite's auto-checkpoint, it runs inside whichever commit crosses
// the threshold — on the event loop, in the middle of an ingest, while readers wait. Here a worker
// thread with its own connection runs PASSIVE checkpoints (they never block readers or writers)
// a few times a second; the main connection keeps a high auto-checkpoint as a backstop, so the WAL
// stays bounded even if this thread stops.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker's code: plain CommonJS, so it runs the same from source (tsx) and from dist/. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
// Background work: lowered (checkpointThreadNice), it copies pages with the CPU that readers leave.
// On Linux the nice value is per thread; elsewhere it may lower the whole process, so only there.
if (process.platform === 'linux' && workerData.nice > 0) {
  try {
    require('node:os').setPriority(0, workerData.nice);
  } catch {
    // not allowed here: the thread runs at the process's priority
  }
}
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// Told once when checkpoints start failing and once when they work again, not at every turn.
let failing = false;
// Turns are skipped while another thread checkpoints what it writes (Checkpointer.hold).
let held = 0;
const checkpoint = () => {
  if (held > 0) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (failing) parentPort.postMessage({ type: 'recovered' });
    failing = false;
  } catch (err) {
    if (!failing) parentPort.postMessage({ type: 'failing', message: String((err && err.message) || err) });
    failing = true;
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'hold' || m === 'release') {
    held += m === 'hold' ? 1 : -1;
    return;
  }
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  /**
   * @param file the database file (WAL mode, already created)
   * @param nice the thread's priority on Linux (0 normal … 19 lowest)
   * @param onProblem told when checkpoints start failing (the backstop auto-checkpoint still runs),
   *   with no message when they work again
   */
  constructor(file: string, everyMs: number, nice: number, onProblem: (message?: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, everyMs, nice } });
    this.worker.unref();
    this.worker.on('message', (m: { type: 'failing' | 'recovered'; message?: string }) => onProblem(m.type === 'failing' ? m.message ?? 'unknown error' : undefined));
    this.worker.on('error', (err) => onProblem(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /**
   * Skips this thread's turns until the returned function is called: for a large write whose own
   * thread checkpoints as it goes, at that thread's (lower) priority, instead of this one doing it
   * at its own while readers wait for the CPU. The backstop still bounds the WAL.
   */
  hold(): () => void {
    this.worker.postMessage('hold');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.worker.postMessage('release');
    };
  }

  /** Stops checkpointing and closes the worker's connection. */
  async close(): Promise<void> {
    // Keep the process alive until the worker has closed its connection.
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}
