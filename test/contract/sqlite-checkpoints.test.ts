// SQLite WAL checkpoints in a worker thread (collections/sqlite/checkpointer.ts): committed pages
// reach the database file without any commit doing it, and closing stops the thread. The control
// (inline mode, same writes, under SQLite's own threshold) shows the file would not grow otherwise;
// a failing checkpointer says so once; its thread runs at the priority it is given.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { Checkpointer } from '../../collections/sqlite/checkpointer.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';

/** Writes about 1.5 MB of objects (under the 4 MB at which SQLite checkpoints inside a commit). */
async function write(store: SqliteStore): Promise<void> {
  await store.createApiRoot({ path: 'r', title: 'r', maxContentLength: 1 << 20 });
  await store.createCollection({ id: 'c', apiRoot: 'r', title: 'c', purpose: 'published', mediaTypes: [] });
  await store.createSubmission({ id: 's', apiRoot: 'r', collectionId: 'c', accountId: 'a', requestTimestamp: 1, totalCount: 1000 });
  const items = Array.from({ length: 1000 }, (_, index) => {
    const id = `indicator--00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
    const json = JSON.stringify({ type: 'indicator', id, pad: 'x'.repeat(1500) });
    return { index, id, version: '', object: { id, type: 'indicator', specVersion: '2.1', mediaType: 'application/stix+json;version=2.1', tlp: 0, json } };
  });
  await store.ingest('s', items);
}

/** How much the database file grew within `waitMs` of the writes (ending early once it grew). */
async function fileGrowth(checkpoints: 'background' | 'inline', waitMs: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-ckpt-'));
  const file = path.join(dir, 'meridian.sqlite');
  const store = new SqliteStore({ location: dir, checkpoints, log: (_level, message) => expect.fail(message) });
  try {
    const before = statSync(file).size;
    await write(store);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && statSync(file).size === before) await new Promise((resolve) => setTimeout(resolve, 100));
    return statSync(file).size - before;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('sqlite store: WAL checkpoints off the main thread', function () {
  it('copies committed pages into the database file from the worker thread', async function () {
    expect(await fileGrowth('background', 5000)).to.be.greaterThan(1_000_000);
  });

  it('skips its turns while a writer elsewhere holds them (checkpointsHeldDuring), and checkpoints again after', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-ckpt-'));
    const file = path.join(dir, 'meridian.sqlite');
    const store = new SqliteStore({ location: dir, checkpoints: 'background', log: (_level, message) => expect.fail(message) });
    try {
      const before = statSync(file).size;
      const grown = async (waitMs: number) => {
        const deadline = Date.now() + waitMs;
        while (Date.now() < deadline && statSync(file).size === before) await new Promise((resolve) => setTimeout(resolve, 100));
        return statSync(file).size - before;
      };
      // Four times the worker's period (250 ms) with the writes done and the turns held.
      expect(await store.checkpointsHeldDuring(async () => {
        await write(store);
        return grown(1000);
      })).to.equal(0);
      expect(await grown(5000)).to.be.greaterThan(1_000_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('control: inline, the same writes stay in the WAL until a commit passes SQLite\'s threshold', async function () {
    // Four times the worker's period (250 ms).
    expect(await fileGrowth('inline', 1000)).to.equal(0);
  });

  it('runs its thread at the priority it is given (Linux: the nice value of that thread only)', async function () {
    if (process.platform !== 'linux') this.skip();
    // The nice value of a thread (proc(5) stat: field 19, counted after the command's parentheses), and of each of this process.
    const nice = (stat: string) => Number(readFileSync(stat, 'utf8').split(') ')[1]!.split(' ')[16]);
    const nices = () => readdirSync('/proc/self/task').map((tid) => nice(`/proc/self/task/${tid}/stat`));
    const own = nice('/proc/thread-self/stat');
    expect(nices()).not.to.include(17);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-ckpt-'));
    const file = path.join(dir, 'meridian.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.close();
    const checkpointer = new Checkpointer(file, 20, 17, () => undefined);
    try {
      const deadline = Date.now() + 5000;
      while (!nices().includes(17) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(nices()).to.include(17);
      // This thread keeps its own.
      expect(nice('/proc/thread-self/stat')).to.equal(own);
    } finally {
      await checkpointer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports failing checkpoints once, not at every turn', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-ckpt-'));
    const file = path.join(dir, 'broken.sqlite');
    writeFileSync(file, 'this is not an SQLite database, but it is long enough to be read as one'.repeat(100));
    const problems: Array<string | undefined> = [];
    const checkpointer = new Checkpointer(file, 20, 0, (message) => problems.push(message));
    try {
      const deadline = Date.now() + 5000;
      while (problems.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // Then ten more turns of 20 ms, each failing again.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/not a database/);
    } finally {
      await checkpointer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
