// `meridian publish` and `meridian poll` end to end against a real `meridian serve`: ATT&CK
// Enterprise (../shared/data/enterprise-attack.json, or bench/dataset.ts's generated stand-in of the
// same shape and size when the file is absent) published, the publish killed midway and resumed (no
// envelope sent twice, nothing missing), then polled into a folder and compared object by object;
// a second poll fetches nothing new, and a withdrawal removes the object's file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TaxiiClient } from '../../client/index.js';
import { loadAttackDataset } from '../../bench/dataset.js';
import { ENTRY, type ServerProcess, runCli, startServer, stopServer } from '../helpers/process.js';

const PASSWORD = 'publisher passphrase 1';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

describe('meridian publish and poll, end to end', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  let bundle: string;
  let objects: Array<Record<string, unknown>>;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-publish-'));
    env = { MERIDIAN_DATA_DIR: path.join(dir, 'data'), PUBLISH_PASSWORD: PASSWORD };
    for (const [args, stdin] of [
      [['account', 'add', 'vendor', '--password-stdin'], `${PASSWORD}\n`],
      [['root', 'add', 'fr', '--title', 'France', '--max-content-length', '4000000']],
      [['collection', 'add', '--root', 'fr', '--title', 'ATT&CK', '--alias', 'attack']],
      [['grant', 'vendor', '--collection', 'attack', '--root', 'fr', '--read', '--write']],
    ] as Array<[string[], string?]>) {
      const r = await runCli(args, env, stdin);
      expect(r.code, r.stderr).to.equal(0);
    }
    server = await startServer(env);
    const data = loadAttackDataset();
    objects = data.objects;
    console.log(`      data: ${data.label} (${objects.length} objects)`);
    bundle = path.join(dir, 'enterprise-attack.json');
    writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: 'bundle--7d9c1a8e-8c3e-4f4e-9a55-2f3f0c1d2e3f', objects }, null, 4));
  });
  after(async function () {
    if (server) await stopServer(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = () => ['--url', `${server.base}/taxii2/`, '--collection', 'attack', '--user', 'vendor', '--password-env', 'PUBLISH_PASSWORD'];

  it('publishes, survives a kill midway, resumes without resending, and polls the same objects back', async function () {
    const stateFile = `${bundle}.publish-state.json`;
    // First run: killed once a few envelopes are acknowledged.
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'publish', bundle, ...auth(), '--max-objects', '500', '--concurrency', '1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    type State = { through: number; acknowledged: { objects: number }; done: Record<string, { objects: number }> };
    const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as State;
    const acked = () => (existsSync(stateFile) ? state().through + Object.keys(state().done).length : 0);
    const started = Date.now();
    while (acked() < 5 && child.exitCode === null && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const first = state();
    const firstSent = first.acknowledged.objects + Object.values(first.done).reduce((n, d) => n + d.objects, 0);
    expect(firstSent, stderr).to.be.above(0).and.below(objects.length);

    // Resume: what was acknowledged is not sent again; everything else is.
    const t0 = Date.now();
    const resumed = await runCli(['publish', bundle, ...auth(), '--max-objects', '500', '--json'], env);
    expect(resumed.code, resumed.stderr + resumed.stdout).to.equal(0);
    const report = JSON.parse(resumed.stdout) as { read: number; sent: number; skipped_already_sent: number; failed: number; objects_per_second: number };
    expect(report).to.include({ read: objects.length, skipped_already_sent: firstSent, sent: objects.length - firstSent, failed: 0 });
    console.log(`      publish (resumed part): ${report.sent} objects in ${((Date.now() - t0) / 1000).toFixed(1)} s wall, ${report.objects_per_second} objects/s read rate`);

    // The server holds each object once.
    const client = new TaxiiClient(`${server.base}/fr/`, { auth: { type: 'basic', username: 'vendor', password: PASSWORD } });
    const col = await (await client.apiRoot()).collection('attack');
    const seen = new Map<string, number>();
    for await (const m of col.manifest({ version: 'all', limit: 1000 })) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
    expect(seen.size).to.equal(new Set(objects.map((o) => o.id)).size);
    expect([...seen.values()].every((n) => n === 1)).to.equal(true);

    // Poll into a folder and compare object by object.
    const out = path.join(dir, 'polled');
    const t1 = Date.now();
    const polled = await runCli(['poll', ...auth(), '--out', out, '--json'], env);
    expect(polled.code, polled.stderr).to.equal(0);
    const pollReport = JSON.parse(polled.stdout) as { objects: number; objects_per_second: number };
    console.log(`      poll: ${pollReport.objects} objects in ${((Date.now() - t1) / 1000).toFixed(1)} s wall, ${pollReport.objects_per_second} objects/s`);
    expect(pollReport.objects).to.equal(objects.length);
    const files = readdirSync(out).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    expect(files).to.have.length(objects.length);
    let differ = 0;
    for (const o of objects) {
      const got = JSON.parse(readFileSync(path.join(out, `${String(o.id)}.json`), 'utf8')) as Record<string, unknown>;
      expect(got.id).to.equal(o.id);
      expect(got.modified).to.equal(o.modified);
      if (JSON.stringify(canonical(got)) !== JSON.stringify(canonical(o))) differ++;
    }
    // The server stores objects normalised (docs: canonical timestamps, hash names, property order); count what changed beyond order.
    console.log(`      ${differ} of ${objects.length} objects differ from the input after the server's normalisation (beyond property order)`);

    // Incremental: nothing new; then a withdrawal removes the file.
    const again = await runCli(['poll', ...auth(), '--out', out, '--json'], env);
    expect(JSON.parse(again.stdout)).to.include({ objects: 0, withdrawn: 0 });
    const gone = String(objects[10]!.id);
    await col.deleteObject(gone);
    const third = await runCli(['poll', ...auth(), '--out', out], env);
    expect(third.code, third.stderr).to.equal(0);
    expect(third.stderr).to.include(`withdrawn: ${gone}`);
    expect(existsSync(path.join(out, `${gone}.json`))).to.equal(false);
    client.close();
  });

  it('publishes JSON Lines from standard input, listing objects that fail (exit 1), and follows until interrupted', async function () {
    const good = { ...objects.find((o) => o.type === 'attack-pattern')!, id: 'attack-pattern--0f1e2d3c-4b5a-4697-8a7b-6c5d4e3f2a1b', name: 'from stdin' };
    const bad = { type: 'indicator', spec_version: '2.1', id: 'indicator--not-a-uuid' };
    const r = await runCli(['publish', '-', ...auth()], env, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/FAILED indicator--not-a-uuid \[local\]: STIX_/);
    expect(r.stdout).to.match(/2 read, 1 sent, 1 accepted, 1 failed/);
    const out = path.join(dir, 'follow.jsonl');
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'poll', ...auth(), '--out', out, '--follow', '--interval', '1', '--type', 'attack-pattern'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!existsSync(`${out}.poll-state.json`) && Date.now() - started < 30_000) await new Promise((res) => setTimeout(res, 50));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(stdout).to.match(/objects written to .*follow\.jsonl \(jsonl\)/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.length).to.be.above(0);
    expect(lines.every((o) => o.type === 'attack-pattern')).to.equal(true);
  });

  it('exits 2 on bad input and usage, 3 when the server is unreachable, with one line and no stack trace', async function () {
    const missing = await runCli(['publish', path.join(dir, 'nope.json'), ...auth()], env);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    const notJson = path.join(dir, 'bad.json');
    writeFileSync(notJson, '{"type": "bundle", "objects": [ {"type": ');
    const bad = await runCli(['publish', notJson, ...auth(), '--fresh'], env);
    expect(bad.code, bad.stderr).to.equal(2);
    const unset = await runCli(['publish', bundle, ...auth().slice(0, -1), 'NOT_SET_ANYWHERE'], env);
    expect(unset.code).to.equal(2);
    expect(unset.stderr).to.match(/NOT_SET_ANYWHERE: that environment variable is not set/);
    const wrong = await runCli(['poll', ...auth(), '--out', path.join(dir, 'x.jsonl')], { ...env, PUBLISH_PASSWORD: 'wrong wrong wrong' });
    expect(wrong.code).to.equal(3);
    expect(wrong.stderr).to.not.include('wrong wrong wrong');
    const down = await runCli(['poll', '--url', 'http://127.0.0.1:1/taxii2/', '--collection', 'x', '--out', path.join(dir, 'y.jsonl'), '--retries', '0'], env);
    expect(down.code).to.equal(3);
    expect(down.stderr).to.match(/^meridian poll: server unreachable: .*ECONNREFUSED/);
    for (const r of [missing, bad, unset, wrong, down]) expect(r.stderr).to.not.match(/\n\s+at /);
  });
});
