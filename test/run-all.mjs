// `npm test`: two lanes, one after the other, each ending with the reporter's line
// "tests: N passed, N failed, N skipped":
//   1. the whole suite (.mocharc.json) on the embedded SQLite store;
//   2. the HTTP suite (test/http) once more with every test server on the MongoDB store
//      (MERIDIAN_TEST_STORE=mongo: the CongoDB stand-in, or a real MongoDB from MERIDIAN_TEST_MONGO_URL).
// Exits non-zero when either lane fails. Extra arguments (`npm test -- --grep x`) go to lane 1 only,
// and then lane 2 is left out; `MERIDIAN_TEST_LANE=mongo npm test` runs lane 2 alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const mocha = path.resolve('node_modules/mocha/bin/mocha.js');
const extra = process.argv.slice(2);
const only = process.env.MERIDIAN_TEST_LANE;

// Lane 2 takes .mocharc.json with its own spec (mocha would add a --spec to the configured one).
const base = JSON.parse(readFileSync('.mocharc.json', 'utf8'));
const dir = mkdtempSync(path.join(tmpdir(), 'meridian-mocha-'));
const mongoConfig = path.join(dir, 'mocharc.mongo.json');
writeFileSync(mongoConfig, JSON.stringify({ ...base, spec: ['test/http/**/*.test.ts'] }));

const lanes = [
  { key: 'sqlite', title: 'the whole suite (embedded SQLite store)', args: extra, env: {} },
  { key: 'mongo', title: 'the HTTP suite on the MongoDB store (MERIDIAN_TEST_STORE=mongo)', args: ['--config', mongoConfig, ...(only ? extra : [])], env: { MERIDIAN_TEST_STORE: 'mongo' } },
].filter((lane) => (only ? lane.key === only : extra.length === 0 || lane.key === 'sqlite'));

const results = [];
try {
  for (const lane of lanes) {
    process.stdout.write(`\n=== npm test lane: ${lane.title}\n`);
    const started = Date.now();
    const r = spawnSync(process.execPath, [mocha, ...lane.args], { stdio: 'inherit', env: { ...process.env, ...lane.env } });
    const code = r.status ?? 1;
    results.push({ lane, code, seconds: (Date.now() - started) / 1000 });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

process.stdout.write('\n');
for (const { lane, code, seconds } of results) process.stdout.write(`lane ${lane.key}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s\n`);
if (extra.length > 0 && !only) process.stdout.write('lane mongo: left out (arguments were given; run it with MERIDIAN_TEST_LANE=mongo npm test)\n');
process.exitCode = results.find((r) => r.code !== 0)?.code ?? 0;
