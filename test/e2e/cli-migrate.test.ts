// `meridian migrate --from DIR --to mongodb://…` at the command line: progress on standard
// error, counts on standard output, exit 1 when a count differs or the source is unusable; then the
// other CLI commands and the store itself work on the migrated MongoDB database (MERIDIAN_STORE).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import mongoose from 'mongoose';
import request from 'supertest';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { run } from '../../server/cli.js';
import { type MongoTarget, mongoTarget } from '../helpers/mongo.js';
import { runCli } from '../helpers/process.js';
import { TAXII, indicator, testServer } from '../helpers/server.js';


const used: string[] = [];

// Root-level (idempotent): the shared stand-in must not keep the process alive when this file runs
// alone; a real MongoDB keeps what it is given, so this file's databases are dropped there.
after(async function () {
  const target = await mongoTarget();
  if (target.real) {
    for (const uri of used) {
      const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 2000 }).asPromise();
      await conn.dropDatabase();
      await conn.close();
    }
  }
  await target.shutdown();
});

describe('meridian migrate', function () {
  this.timeout(60_000);
  let target: MongoTarget;
  let dir: string;
  let collectionId: string;

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await run(['node', 'meridian', ...args], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stdin: Readable.from(['']), env: {} });
    return { code, stdout, stderr };
  }

  function fresh(): string {
    const uri = target.processUri();
    used.push(uri);
    return uri;
  }

  function open(uri: string): MongoStore {
    return new MongoStore({ uri, serverSelectionTimeoutMs: 1000, startupTimeoutMs: 5000, retryDelayMs: 100, ...target.storeOptions });
  }

  before(async function () {
    target = await mongoTarget();
    console.log(`    migrate runs against ${target.description}`);
  });

  beforeEach(async function () {
    // An embedded store with an account, an API root, a collection, a grant and objects, filled over HTTP.
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-migrate-cli-'));
    const t = await testServer({}, new SqliteStore({ location: dir }));
    await t.root('fr');
    collectionId = (await t.collection('fr', { title: 'Published', alias: 'published' })).id;
    const analyst = await t.account([], 'analyst');
    await t.grant(analyst, collectionId, { read: true, write: true });
    const objects = Array.from({ length: 25 }, () => indicator());
    const res = await request(t.app).post(`/fr/collections/${collectionId}/objects/`).set({ Authorization: analyst.auth, Accept: TAXII, 'Content-Type': TAXII }).send(JSON.stringify({ objects }));
    expect(res.status, res.text).to.equal(202);
    await t.service.close();
    await t.store.close();
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the store with progress on stderr and counts on stdout; a second run (resume) adds nothing; the CLI then works on MongoDB', async function () {
    const uri = fresh();
    const first = await cli(['migrate', '--from', dir, '--to', uri, '--batch-size', '10']);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.match(/objects: 25\/25/);
    expect(first.stderr).to.match(/migration complete: every count matches/);
    expect(first.stdout).to.match(/^accounts\t1\t1$/m);
    expect(first.stdout).to.match(new RegExp(`^objects fr/${collectionId}\\t25\\t25$`, 'm'));
    expect(first.stdout).not.to.match(/MISMATCH/);

    // The real process, run again on the same target: resumes, copies nothing twice, exits 0.
    const again = await runCli(['migrate', '--from', dir, '--to', uri], {});
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(new RegExp(`^objects fr/${collectionId}\\t25\\t25$`, 'm'));

    // Every CLI command follows MERIDIAN_STORE: the migrated accounts and collections are there.
    const accounts = await runCli(['account', 'list', '--json'], { MERIDIAN_STORE: uri });
    expect(accounts.code, accounts.stderr).to.equal(0);
    expect((JSON.parse(accounts.stdout) as Array<{ name: string }>).map((a) => a.name)).to.include('analyst');
    const collections = await runCli(['collection', 'list', '--json'], { MERIDIAN_STORE: uri });
    expect(collections.code, collections.stderr).to.equal(0);
    const migrated = (JSON.parse(collections.stdout) as Array<{ id: string; api_root: string; purpose: string }>).find((c) => c.id === collectionId);
    expect(migrated).to.include({ api_root: 'fr', purpose: 'published' });

    const mongo = open(uri);
    try {
      expect(await mongo.countObjects(collectionId)).to.equal(25);
    } finally {
      await mongo.close();
    }
  });

  it('exits 1 when the counts differ after the copy (the target has more than the source)', async function () {
    const uri = fresh();
    const mongo = open(uri);
    try {
      await mongo.createAccount({ id: randomUUID(), name: 'only-in-mongo', passwordHash: 'x', roles: [], curatorRoots: [], disabled: false });
    } finally {
      await mongo.close();
    }
    const r = await cli(['migrate', '--from', dir, '--to', uri]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^accounts\t1\t2\tMISMATCH$/m);
    expect(r.stderr).to.match(/migration incomplete: counts differ/);
  });

  it('refuses a directory without an embedded store (exit 1) and a target that is not a mongodb:// URI (exit 2)', async function () {
    const empty = mkdtempSync(path.join(tmpdir(), 'meridian-migrate-empty-'));
    try {
      const r = await cli(['migrate', '--from', empty, '--to', target.processUri()]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/no embedded store in .*meridian\.sqlite not found/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const bad = await cli(['migrate', '--from', dir, '--to', 'postgres://127.0.0.1/x']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/must be a mongodb:\/\/ or mongodb\+srv:\/\/ URI/);
    const missing = await cli(['migrate', '--from', dir]);
    expect(missing.code).to.equal(2);
  });
});
