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
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// Told once when checkpoints start failing and once when they work again, not at every turn.
let failing = false;
const checkpoint = () => {
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
   * @param onProblem told when checkpoints start failing (the backstop auto-checkpoint still runs),
   *   with no message when they work again
   */
  constructor(file: string, everyMs: number, onProblem: (message?: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, everyMs } });
    this.worker.unref();
    this.worker.on('message', (m: { type: 'failing' | 'recovered'; message?: string }) => onProblem(m.type === 'failing' ? m.message ?? 'unknown error' : undefined));
    this.worker.on('error', (err) => onProblem(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Stops checkpointing and closes the worker's connection. */
  async close(): Promise<void> {
    // Keep the process alive until the worker has closed its connection.
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}
