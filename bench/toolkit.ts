// The client figures of `npm run bench` (alone: `npm run bench -- --only client`): the `meridian
// publish` and `meridian poll` commands, run as their own processes against the real server, on
// ATT&CK Enterprise and on CLIENT_OBJECTS generated objects (JSON Lines, 1,000,000 by default).
//   publish: objects/s end to end (process start to exit: read, validate, cut envelopes, POST, wait
//            for each status to be final) and the process's peak RSS against the 200 MB budget;
//   poll:    objects/s of an incremental copy of the same collection into JSON Lines, and its RSS.
// Same-run limits: for publish, the same objects' text POSTed by this process as ready envelopes
// (the same client library, envelope size and concurrency, no parsing or validation) into a twin
// collection, each until its status is final: what the server ingests when the client costs
// nothing; for poll, the same requests bare: every page of the collection's objects and then of its
// change feed (poll reads both: the feed for withdrawals), compressed as poll asks, parsed for `next`.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { TaxiiClient } from '../client/index.js';
import { Client } from './client.js';
import { type Obj, attackDataset, generateObjects } from './dataset.js';
import { REPO, ServerProcess, cli } from './server.js';
import type { BenchRow } from './row.js';

export interface ToolkitOptions {
  log: (message: string) => void;
  /** Generated objects published and polled after ATT&CK (1,000,000). */
  objects?: number;
  seed?: number;
  logLevel?: string;
}

/** The issue's bound for the publish client: RSS ≤ 200 MB whatever the input's size. */
export const PUBLISH_RSS_BUDGET_MB = 200;
const PASSWORD = 'bench-password-not-secret';
const ENVELOPE_OBJECTS = 1000;
const CONCURRENCY = 2;
const BIN = path.join(REPO, 'bin/meridian.js');
const num = (x: number) => Math.round(x).toLocaleString('en-US');
const mb = (x: number) => `${x.toFixed(0)} MB`;

interface CommandRun {
  report: Record<string, any>;
  wallSeconds: number;
  /** Peak resident memory of the command's process (kernel VmHWM, read while it runs), MiB. */
  peakRssMb: number;
}

/** Runs `meridian ARGS --json --quiet` and reads its peak RSS from /proc while it runs. */
function runMeridian(args: string[], env: Record<string, string>): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args, '--json', '--quiet'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const timer = setInterval(() => {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, kb / 1024);
      } catch {
        /* exited */
      }
    }, 50);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(timer);
      const wallSeconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`meridian ${args[0]} exited ${code}: ${stderr}${stdout.slice(0, 2000)}`));
      resolve({ report: JSON.parse(stdout) as Record<string, any>, wallSeconds, peakRssMb: peak });
    });
  });
}

/** The limit of publish: ready envelopes of the input's lines, CONCURRENCY in flight, each until final. */
async function rawPublish(client: TaxiiClient, alias: string, lines: AsyncIterable<string>): Promise<{ objects: number; seconds: number }> {
  const collection = await (await client.apiRoot()).collection(alias);
  const t0 = performance.now();
  const inflight = new Set<Promise<unknown>>();
  let objects = 0;
  let batch: string[] = [];
  const send = async (texts: string[]) => {
    while (inflight.size >= CONCURRENCY) await Promise.race(inflight);
    const p = collection.add(`{"objects":[${texts.join(',')}]}`).then((s) => {
      if (s.failure_count > 0) throw new Error(`raw publish: ${s.failure_count} objects failed in status ${s.id}`);
    });
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  };
  for await (const line of lines) {
    if (line.trim() === '') continue;
    batch.push(line);
    objects++;
    if (batch.length === ENVELOPE_OBJECTS) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length) await send(batch);
  await Promise.all(inflight);
  return { objects, seconds: (performance.now() - t0) / 1000 };
}

/** The limit of poll: every page of the collection's objects, then of its change feed, as poll asks for them. */
async function rawPoll(client: Client, alias: string): Promise<{ objects: number; changes: number; seconds: number }> {
  const t0 = performance.now();
  const pages = async (endpoint: 'objects' | 'changes') => {
    let items = 0;
    let next: string | undefined;
    do {
      const r = await client.request('GET', `/bench/collections/${alias}/${endpoint}/?limit=${ENVELOPE_OBJECTS}${next ? `&next=${encodeURIComponent(next)}` : ''}`, undefined, 60_000, { 'Accept-Encoding': 'gzip, br' });
      if (r.status !== 200) throw new Error(`GET ${endpoint} → ${r.status}`);
      const encoding = r.headers['content-encoding'];
      const page = JSON.parse((encoding === 'br' ? brotliDecompressSync(r.body) : encoding === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8'));
      items += (page[endpoint] ?? []).length;
      next = page.more ? page.next : undefined;
    } while (next);
    return items;
  };
  const objects = await pages('objects');
  const changes = await pages('changes');
  return { objects, changes, seconds: (performance.now() - t0) / 1000 };
}

async function* linesOf(file: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

async function* textsOf(objects: Obj[]): AsyncGenerator<string> {
  for (const o of objects) yield JSON.stringify(o);
}

export async function benchToolkit(o: ToolkitOptions): Promise<{ rows: BenchRow[]; figures: Record<string, unknown> }> {
  const { log } = o;
  const count = o.objects ?? 1_000_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-client-'));
  const dataDir = path.join(dir, 'data');
  const rows: BenchRow[] = [];
  const figures: Record<string, unknown> = { loadAverageAtStart: os.loadavg() };
  let server: ServerProcess | undefined;
  try {
    cli(dataDir, ['account', 'add', 'vendor', '--password-stdin'], { input: `${PASSWORD}\n` });
    cli(dataDir, ['root', 'add', 'bench', '--title', 'Bench']);
    for (const alias of ['attack', 'attack-raw', 'generated', 'generated-raw']) {
      cli(dataDir, ['collection', 'add', '--root', 'bench', '--title', alias, '--alias', alias]);
      cli(dataDir, ['grant', 'vendor', '--collection', alias, '--root', 'bench', '--read', '--write']);
    }
    const attack = attackDataset();
    // The bundle as published (indented, 50 MB), or the generated stand-in written as one.
    let attackFile = attack.file;
    if (attack.source === 'generated') {
      attackFile = path.join(dir, 'attack.json');
      writeFileSync(attackFile, JSON.stringify({ type: 'bundle', id: 'bundle--5d0f1c0e-2d5c-4d0c-8a43-3b1f3f6a9e11', objects: attack.objects }, null, 4));
    }
    log(`client: writing ${num(count)} generated objects as JSON Lines`);
    const generatedFile = path.join(dir, 'generated.jsonl');
    const out = createWriteStream(generatedFile);
    for (const obj of generateObjects((o.seed ?? 1) + 50, count, { prefix: 'client' })) {
      if (!out.write(`${JSON.stringify(obj)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));

    server = await ServerProcess.start({ dataDir, logLevel: o.logLevel ?? 'warn' });
    const url = `http://127.0.0.1:${server.port}/taxii2/`;
    const env = { BENCH_PASSWORD: PASSWORD };
    const auth = ['--user', 'vendor', '--password-env', 'BENCH_PASSWORD'];
    const library = new TaxiiClient(`http://127.0.0.1:${server.port}/bench/`, { auth: { type: 'basic', username: 'vendor', password: PASSWORD }, userAgent: 'meridian-bench' });
    const bare = new Client(server.port, `Basic ${Buffer.from(`vendor:${PASSWORD}`).toString('base64')}`);

    const datasets = [
      { key: 'attack', label: attack.label, file: attackFile, texts: () => textsOf(attack.objects) },
      { key: 'generated', label: `${num(count)} generated objects (JSON Lines)`, file: generatedFile, texts: () => linesOf(generatedFile) },
    ];
    for (const d of datasets) {
      log(`client: raw POST of ${d.label} (the limit), ${CONCURRENCY} envelopes of ${ENVELOPE_OBJECTS} in flight`);
      const raw = await rawPublish(library, `${d.key}-raw`, d.texts());
      await server.settle();
      log(`  ${num(raw.objects / raw.seconds)} objects/s`);
      log(`client: meridian publish ${path.basename(d.file)}`);
      const pub = await runMeridian(['publish', d.file, '--url', url, '--collection', d.key, ...auth, '--state', path.join(dir, `${d.key}.publish-state.json`), '--fresh'], env);
      await server.settle();
      const pubRate = pub.report.read / pub.wallSeconds;
      log(`  ${num(pubRate)} objects/s end to end (${pub.wallSeconds.toFixed(1)} s), peak RSS ${mb(pub.peakRssMb)}, ${pub.report.failed} failed`);
      log(`client: meridian poll ${d.key} into JSON Lines, and the bare paging (the limit)`);
      const rawRead = await rawPoll(bare, d.key);
      const poll = await runMeridian(['poll', '--url', url, '--collection', d.key, ...auth, '--out', path.join(dir, `${d.key}-polled.jsonl`)], env);
      const pollRate = poll.report.objects / poll.wallSeconds;
      log(`  poll ${num(pollRate)} objects/s (${poll.wallSeconds.toFixed(1)} s), peak RSS ${mb(poll.peakRssMb)}; the same pages bare (${num(rawRead.objects)} objects, ${num(rawRead.changes)} changes) ${num(rawRead.objects / rawRead.seconds)} objects/s`);
      if (pub.report.succeeded !== pub.report.read || poll.report.objects !== rawRead.objects) {
        throw new Error(`client ${d.key}: published ${pub.report.succeeded} of ${pub.report.read}, polled ${poll.report.objects} of ${rawRead.objects}`);
      }
      rows.push(
        { figure: `meridian publish, ${d.label}: objects/s end to end`, value: `${num(pubRate)} objects/s (${pub.wallSeconds.toFixed(1)} s)`, limit: `raw POST ${num(raw.objects / raw.seconds)} objects/s`, ratio: `${(pubRate / (raw.objects / raw.seconds)).toFixed(2)}× raw`, target: '' },
        { figure: `meridian publish, ${d.label}: client peak RSS`, value: mb(pub.peakRssMb), limit: '', target: `≤ ${PUBLISH_RSS_BUDGET_MB} MB`, met: pub.peakRssMb <= PUBLISH_RSS_BUDGET_MB },
        { figure: `meridian poll, ${d.label}: objects/s`, value: `${num(pollRate)} objects/s (${num(poll.report.objects)} objects, the last versions; ${poll.wallSeconds.toFixed(1)} s; peak RSS ${mb(poll.peakRssMb)})`, limit: `same pages bare ${num(rawRead.objects / rawRead.seconds)} objects/s`, ratio: `${(pollRate / (rawRead.objects / rawRead.seconds)).toFixed(2)}× bare`, target: '' },
      );
      figures[d.key] = { label: d.label, rawPublish: raw, publish: { wallSeconds: pub.wallSeconds, peakRssMb: pub.peakRssMb, report: { ...pub.report, failures: undefined } }, poll: { wallSeconds: poll.wallSeconds, peakRssMb: poll.peakRssMb, report: poll.report }, rawPoll: rawRead };
    }
    library.close();
    bare.close();
    figures.loadAverageAtEnd = os.loadavg();
    return { rows, figures };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
