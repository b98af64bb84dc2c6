// `npm test`: two lanes, one after the other, each ending with the reporter's line
// "tests: N passed, N failed, N skipped":
//   1. the whole suite (test/**/*.test.ts, options from .mocharc.json) on the embedded SQLite store;
//   2. the HTTP suite (test/http) once more with every test server on the MongoDB store
//      (MERIDIAN_TEST_STORE=mongo).
// The MongoDB tests of both lanes (the store contract suite in lane 1, the HTTP suite in lane 2) run
// on a real MongoDB when there is one: MERIDIAN_TEST_MONGO_URL, else a single-node replica set that
// testcontainers starts here once when a container engine answers. Otherwise one line says why not,
// and they run on the CongoDB stand-in (test/helpers/mongo.ts).
// Exits non-zero when either lane fails. Extra arguments (`npm test -- --grep x`) go to lane 1 only,
// and then lane 2 is left out; `MERIDIAN_TEST_LANE=mongo npm test` runs lane 2 alone.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { containerMongo } from './helpers/mongo-container.mjs';

const mocha = path.resolve('node_modules/mocha/bin/mocha.js');
const extra = process.argv.slice(2);
const only = process.env.MERIDIAN_TEST_LANE;

// .mocharc.json names no spec, so `npx mocha test/x.test.ts` runs that file alone; each lane names its own.
const ALL = 'test/**/*.test.ts';
const HTTP = 'test/http/**/*.test.ts';

const lanes = [
  { key: 'sqlite', title: 'the whole suite (embedded SQLite store)', args: [ALL, ...extra], env: {} },
  { key: 'mongo', title: 'the HTTP suite on the MongoDB store (MERIDIAN_TEST_STORE=mongo)', args: [HTTP, ...(only ? extra : [])], env: { MERIDIAN_TEST_STORE: 'mongo' } },
].filter((lane) => (only ? lane.key === only : extra.length === 0 || lane.key === 'sqlite'));

const env = {};
let container;
if (process.env.MERIDIAN_TEST_MONGO_URL) {
  process.stdout.write('MongoDB tests: on the real MongoDB of MERIDIAN_TEST_MONGO_URL\n');
} else {
  container = await containerMongo();
  if (container.url) {
    Object.assign(env, { MERIDIAN_TEST_MONGO_URL: container.url, MERIDIAN_TEST_MONGO_SOURCE: container.description });
    process.stdout.write(`MongoDB tests: on a real MongoDB (${container.description}, ${container.url})\n`);
  } else {
    // The test processes need not look for an engine again.
    env.MERIDIAN_TEST_CONTAINERS = 'off';
    process.stdout.write(`MongoDB tests: testcontainers lane skipped: ${container.skipped}; they run on the CongoDB stand-in (not a real MongoDB)\n`);
  }
}

const results = [];
try {
  for (const lane of lanes) {
    process.stdout.write(`\n=== npm test lane: ${lane.title}\n`);
    const started = Date.now();
    // Not spawnSync: this process keeps the container's reaper connection alive meanwhile.
    const code = await new Promise((resolve) => {
      spawn(process.execPath, [mocha, ...lane.args], { stdio: 'inherit', env: { ...process.env, ...env, ...lane.env } })
        .once('error', () => resolve(1))
        .once('exit', (status) => resolve(status ?? 1));
    });
    results.push({ lane, code, seconds: (Date.now() - started) / 1000 });
  }
} finally {
  await container?.stop?.();
}

process.stdout.write('\n');
for (const { lane, code, seconds } of results) process.stdout.write(`lane ${lane.key}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s\n`);
if (extra.length > 0 && !only) process.stdout.write('lane mongo: left out (arguments were given; run it with MERIDIAN_TEST_LANE=mongo npm test)\n');
if (container?.skipped) process.stdout.write(`MongoDB: the CongoDB stand-in, not a real MongoDB (testcontainers lane skipped: ${container.skipped})\n`);
process.exitCode = results.find((r) => r.code !== 0)?.code ?? 0;
