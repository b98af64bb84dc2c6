// `npm test`: two lanes, one after the other, each ending with the reporter's line
// "tests: N passed, N failed, N skipped":
//   1. the whole suite (test/**/*.test.ts, options from .mocharc.json) on the embedded SQLite store;
//   2. the HTTP suite (test/http) once more with every test server on the MongoDB store
//      (MERIDIAN_TEST_STORE=mongo: the CongoDB stand-in, or a real MongoDB from MERIDIAN_TEST_MONGO_URL).
// Exits non-zero when either lane fails. Extra arguments (`npm test -- --grep x`) go to lane 1 only,
// and then lane 2 is left out; `MERIDIAN_TEST_LANE=mongo npm test` runs lane 2 alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

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

const results = [];
for (const lane of lanes) {
  process.stdout.write(`\n=== npm test lane: ${lane.title}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [mocha, ...lane.args], { stdio: 'inherit', env: { ...process.env, ...lane.env } });
  const code = r.status ?? 1;
  results.push({ lane, code, seconds: (Date.now() - started) / 1000 });
}

process.stdout.write('\n');
for (const { lane, code, seconds } of results) process.stdout.write(`lane ${lane.key}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s\n`);
if (extra.length > 0 && !only) process.stdout.write('lane mongo: left out (arguments were given; run it with MERIDIAN_TEST_LANE=mongo npm test)\n');
process.exitCode = results.find((r) => r.code !== 0)?.code ?? 0;
