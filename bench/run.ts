// `npm run bench` (quick, < 3 minutes) and `npm run bench -- --full` (1,000,000 objects stored).
// Starts the real server as a child process on loopback, drives it over HTTP from this process,
// sets every figure next to its limit measured in the same run, prints one table and writes
// bench/results/latest.json. Options: --full, --seed N, --big N, --seconds S, --log-level L,
// --profile (server runs with --cpu-prof into bench/results/profiles/), --no-build, --keep,
// --store mongodb://… (the MongoDB store on that server, in a fresh database dropped at the end),
// --queue N (queue entries of the desk's intake), --no-desk (leave the desk's figures out),
// --only desk (the desk's figures alone).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatMicros } from '../taxii/time.js';
import { Client, type LoadResult, type Summary, load, summarise } from './client.js';
import { Rng, attackDataset, attackObjects, attackTargets, distinctObjects, envelopes, generateObjects, ingestMix } from './dataset.js';
import { type Backend, type CollectionInfo, type QueueParams, bulkLoad, mongoBackend, sqliteBackend } from './backends.js';
import { REPO, ServerProcess, cli, withSteal } from './server.js';
import { benchPush } from './push.js';
import { benchToolkit } from './toolkit.js';
import { validationVsParse } from './validation-limit.js';
import type { BenchRow } from './row.js';

// ---- options ----------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
const optionText = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const FULL = flag('--full');
const SEED = option('--seed', 20251130);
const BIG = option('--big', FULL ? 1_000_000 : 100_000);
const SMALL = 10_000;
// The same 100 envelopes in both modes: fewer make the ingest figure a matter of a second or two, too noisy to compare commits.
const INGEST_GENERATED = option('--ingest-generated', 75_228);
const SECONDS = option('--seconds', FULL ? 15 : 5);
const MAX_REQUESTS = FULL ? 200_000 : 50_000;
const STRESS_BYTES = option('--stress-mb', 50) * 1024 * 1024;
const CLIENTS = 8;
const WARMUP_ENVELOPES = 5;
const LOG_LEVEL = optionText('--log-level', 'info');
const PROFILE = flag('--profile');
const PROFILE_DIR = path.join(REPO, 'bench/results/profiles');
const RESULTS = path.join(REPO, 'bench/results');
const PASSWORD = 'bench-password-not-secret';
const STORE = optionText('--store', 'sqlite');
const backend: Backend = STORE === 'sqlite' ? sqliteBackend : mongoBackend(STORE);
// The desk: queue entries in the intake, one submission approved to three targets, curators paging.
const DESK = !flag('--no-desk') && backend.desk !== undefined;
// --only desk: the desk's figures alone (the big collection bulk-loaded for the subscribers' polls), much faster than the whole run.
const ONLY_DESK = optionText('--only', '') === 'desk';
const QUEUE = option('--queue', FULL ? 1_000_000 : 100_000);
const SUBMISSION = 10_000;
const DESK_TARGETS = ['fr', 'de', 'global'];
const VENDORS = 8;
const CURATORS = 4;
const QUEUE_SECONDS = FULL ? 8 : 3;
const POLL_ALONE_SECONDS = 3;

const startedAt = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

// ---- the table ----------------------------------------------------------------------------------

const rows: BenchRow[] = [];
const figures: Record<string, unknown> = {};
const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : 'n/a');
const num = (x: number) => Math.round(x).toLocaleString('en-US');
/** A share of the CPU taken by the host (withSteal), as a percentage; and as a figure's suffix, nothing when unknown. */
const stealShare = (x: number | undefined) => (x === undefined ? 'unknown' : `${(100 * x).toFixed(1)}%`);
const stealSuffix = (x: number | undefined) => (x === undefined ? '' : ` · host steal ${stealShare(x)}`);
const lat = (s: Summary) => `p50 ${ms(s.median)} · p99 ${ms(s.p99)}`;

function loadRow(figure: string, r: LoadResult, limit: Summary | undefined, target: string, met: boolean | undefined): void {
  rows.push({
    figure,
    value: `${num(r.requestsPerSecond)} req/s · ${lat(r)}${r.errors ? ` · ${r.errors} errors` : ''}`,
    limit: limit ? `raw ${STORE === 'sqlite' ? 'SQL' : 'find'} ${lat(limit)}` : '',
    ...(limit ? { ratio: `${(r.median / limit.median).toFixed(1)}× raw p50` } : {}),
    target,
    ...(met !== undefined ? { met } : {}),
  });
}

function printTable(): void {
  const head: BenchRow = { figure: 'figure', value: 'measured', limit: 'limit (same run)', ratio: 'ratio', target: 'target' };
  const cells = (r: BenchRow) => [r.figure, r.value, r.limit, r.ratio ?? '', r.target, r.met === undefined ? '' : r.met ? 'met' : 'MISSED'];
  const all = [cells(head), ...rows.map(cells)];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${line(all[0]!)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${all.slice(1).map(line).join('\n')}\n`);
}

// ---- helpers ------------------------------------------------------------------------------------

async function postUntilComplete(client: Client, root: string, alias: string, body: Buffer): Promise<{ ms: number; status: any }> {
  const t = performance.now();
  const r = await client.request('POST', `/${root}/collections/${alias}/objects/`, body);
  if (r.status !== 202) throw new Error(`POST → ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
  let status = JSON.parse(r.body.toString('utf8'));
  while (status.status !== 'complete') {
    // Like a client would: often at first, then once a second (a status of 100k items is large).
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 + (performance.now() - t) / 10)));
    status = await client.json('GET', `/${root}/status/${status.id}/`);
  }
  return { ms: performance.now() - t, status };
}

function machine() {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version() AS v').pluck().get() as string;
  db.close();
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()}`, node: process.version, sqlite };
}

function commit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'collections', 'taxii', 'server', 'stix-schemas'], { cwd: REPO, encoding: 'utf8' }).stdout.trim() !== '';
  return `${r.stdout.trim()}${dirty ? '+uncommitted' : ''}`;
}

/** A poll of a page after a random point of the collection's date_added range. */
const pollOf = (info: { first: number; last: number }, rng: Rng, alias: string, extra = '', endpoint = 'objects') => () =>
  `/bench/collections/${alias}/${endpoint}/?added_after=${formatMicros(info.first + Math.floor(rng.next() * (info.last - info.first)))}&limit=100${extra}`;

interface ServerContext {
  dataDir: string;
  server: ServerProcess;
  client: Client;
  auth: string;
  nodeFlags: string[];
  targets: ReturnType<typeof attackTargets>;
}

/** Every figure but the desk's: ingest over HTTP, polls at 10,000 and BIG objects, a cold start, the 50 MB envelope. */
async function serverFigures(c: ServerContext & { ids: Record<string, string>; bodies: Buffer[]; mix: Array<Record<string, unknown>>; raw: { objectsPerSecond: number } }): Promise<{ server: ServerProcess; client: Client; big: CollectionInfo; rng: Rng }> {
  const { dataDir, auth, nodeFlags, targets, ids, bodies, mix, raw } = c;
  let { server, client } = c;
  // Ingest over HTTP
  log(`ingest: POST ${bodies.length} envelopes of 1,000 mixed objects, one at a time, each until complete`);
  await client.json('GET', '/bench/collections/ingest/'); // authenticate once (scrypt) outside the timing
  // Warm-up, outside the timing: the first envelopes of a fresh process pay for the ingest
  // worker's start and the JIT. They go to another collection, so the measured ones are all new.
  const warmup: number[] = [];
  for (const body of bodies.slice(0, WARMUP_ENVELOPES)) warmup.push((await postUntilComplete(client, 'bench', 'warmup', body)).ms);
  log(`  warm-up: ${WARMUP_ENVELOPES} envelopes into another collection, ${warmup.map((x) => x.toFixed(0)).join(', ')} ms (the first is the cold start)`);
  const perEnvelope: number[] = [];
  let stored = 0;
  let rejected = 0;
  const t0 = performance.now();
  for (const body of bodies) {
    const { ms: took, status } = await postUntilComplete(client, 'bench', 'ingest', body);
    perEnvelope.push(took);
    stored += status.success_count;
    rejected += status.failure_count;
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  const ingestRate = mix.length / ingestSeconds;
  const env = summarise(perEnvelope);
  figures.ingest = { objectsPerSecond: ingestRate, seconds: ingestSeconds, envelopeMs: env, perEnvelopeMs: perEnvelope.map((x) => Math.round(x)), warmupEnvelopeMs: warmup.map((x) => Math.round(x)), stored, rejected, rawInsertRowsPerSecond: raw.objectsPerSecond, ratioOfRaw: ingestRate / raw.objectsPerSecond };
  log(`  ${num(ingestRate)} objects/s (${stored} stored, ${rejected} rejected), envelope ${lat(env)}`);
  rows.push({
    figure: `ingest: POST 1,000-object envelopes until complete (after ${WARMUP_ENVELOPES} warm-up)`,
    value: `${num(ingestRate)} objects/s · envelope ${lat(env)} · cold first ${ms(warmup[0]!)}`,
    limit: `raw insert ${num(raw.objectsPerSecond)} rows/s`,
    ratio: `${((100 * ingestRate) / raw.objectsPerSecond).toFixed(0)}% of raw`,
    target: '≥ 20,000 objects/s and ≥ 30% of raw',
    met: ingestRate >= 20_000 && ingestRate / raw.objectsPerSecond >= 0.3,
  });

  // The 10k baseline collection, over HTTP too
  log(`small collection: POST ${num(SMALL)} generated objects`);
  for (const body of envelopes([...generateObjects(SEED + 1, SMALL, { targets, prefix: 'small' })], 1000)) await postUntilComplete(client, 'bench', 'small', body);

  const reader = await backend.reader(dataDir);
  const small = await reader.collection('bench', 'small');
  log(`poll: ${CLIENTS} clients on ${num(small.count)} objects for ${SECONDS} s`);
  const pollSmall = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: pollOf(small, new Rng(SEED + 10), 'small') });
  const rawSmall = await reader.time('poll', small, 2000, () => ({ after: small.first + Math.floor(Math.random() * (small.last - small.first)) }));
  log(`  ${num(pollSmall.requestsPerSecond)} req/s, ${lat(pollSmall)}`);
  await reader.close();
  figures.pollSmall = { ...pollSmall, raw: rawSmall, objectsStored: small.count };

  // Bulk-load the big collection while the server is down, then a cold start on it
  await server.stop();
  client.close();
  const bigCount = BIG - 0;
  log(`bulk-loading ${num(bigCount)} generated objects into "big" through the store API (Store.ingest, not HTTP)`);
  const bulkStore = backend.open(dataDir);
  const bulk = await bulkLoad(bulkStore, 'bench', ids.big!, generateObjects(SEED + 2, bigCount, { targets, prefix: 'big' }), (count) => log(`  bulk-loaded ${num(count)}`));
  await bulkStore.close();
  log(`  ${num(bulk.count / bulk.seconds)} objects/s through the store API`);
  figures.bulkLoad = { ...bulk, objectsPerSecond: bulk.count / bulk.seconds, via: 'Store.ingest (store API, no HTTP, no validation)' };

  log('cold start on the loaded store');
  const coldT0 = performance.now();
  server = await ServerProcess.start({ dataDir, logLevel: LOG_LEVEL, nodeFlags, env: backend.env });
  client = new Client(server.port, auth);
  const firstPoll = await client.request('GET', '/bench/collections/big/objects/?limit=100');
  const coldMs = performance.now() - coldT0;
  if (firstPoll.status !== 200) throw new Error(`first poll after cold start → ${firstPoll.status}`);
  const reader2 = await backend.reader(dataDir);
  const big = await reader2.collection('bench', 'big');
  const totalStored = (await reader2.collection('bench', 'ingest')).count + small.count + big.count;
  figures.coldStart = { listeningMs: server.listeningMs, firstPollMs: coldMs, objectsStored: totalStored, note: 'data file in the OS page cache (just written)' };
  log(`  listening after ${ms(server.listeningMs)}, first poll answered after ${ms(coldMs)} (${num(totalStored)} objects stored)`);

  // Poll figures on the big collection
  const rng = new Rng(SEED + 20);
  const rawParams = () => ({ after: big.first + Math.floor(Math.random() * (big.last - big.first)) });
  log(`poll: ${CLIENTS} clients on ${num(big.count)} objects for ${SECONDS} s`);
  const pollBig = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: pollOf(big, rng, 'big') });
  const rawPoll = await reader2.time('poll', big, 2000, rawParams);
  log(`  ${num(pollBig.requestsPerSecond)} req/s, ${lat(pollBig)}; raw ${lat(rawPoll)}`);
  // Compression: wire bytes of one page with and without gzip, and the same poll with gzip.
  const pageBytes: Record<string, number> = {};
  for (const size of [100, 1000]) {
    for (const encoding of ['identity', 'gzip', 'br']) {
      const r = await client.request('GET', `/bench/collections/big/objects/?limit=${size}`, undefined, 30_000, { 'Accept-Encoding': encoding });
      pageBytes[`${size}:${encoding}`] = r.body.length;
    }
  }
  log(`compression: page bytes ${JSON.stringify(pageBytes)}`);
  const pollGzip = await load(client, { clients: CLIENTS, seconds: Math.min(SECONDS, 3), maxRequests: MAX_REQUESTS, path: pollOf(big, rng, 'big'), headers: { 'Accept-Encoding': 'gzip' } });
  log(`  poll with gzip ${num(pollGzip.requestsPerSecond)} req/s, ${lat(pollGzip)} (without ${num(pollBig.requestsPerSecond)} req/s)`);
  figures.compression = { pageBytes, pollGzip, pollIdentityRequestsPerSecond: pollBig.requestsPerSecond };
  const kb = (x: number | undefined) => `${((x ?? NaN) / 1024).toFixed(1)} KiB`;
  rows.push({
    figure: 'compression: bytes per 100 / 1,000-object page; poll with Accept-Encoding: gzip',
    value: `100: ${kb(pageBytes['100:identity'])} → gzip ${kb(pageBytes['100:gzip'])} · br ${kb(pageBytes['100:br'])}; 1,000: ${kb(pageBytes['1000:identity'])} → gzip ${kb(pageBytes['1000:gzip'])} · br ${kb(pageBytes['1000:br'])}; gzip poll ${num(pollGzip.requestsPerSecond)} req/s · ${lat(pollGzip)}`,
    limit: `uncompressed poll ${num(pollBig.requestsPerSecond)} req/s · ${lat(pollBig)}`,
    target: '',
  });
  log('manifest');
  const manifest = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: pollOf(big, rng, 'big', '', 'manifest') });
  const rawManifest = await reader2.time('manifest', big, 2000, rawParams);
  const TYPES = ['indicator', 'relationship', 'sighting', 'ipv4-addr', 'domain-name', 'url', 'file'];
  log('match[type]');
  const matchType = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: () => `${pollOf(big, rng, 'big')()}&match[type]=${rng.pick(TYPES)}` });
  const rawType = await reader2.time('matchType', big, 2000, () => ({ ...rawParams(), type: TYPES[Math.floor(Math.random() * TYPES.length)] }));
  log('match[id]');
  const sampleIds = await reader2.sampleIds(big, 2000);
  const matchId = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: () => `/bench/collections/big/objects/?match[id]=${rng.pick(sampleIds)}` });
  const rawId = await reader2.time('matchId', big, 2000, () => ({ id: sampleIds[Math.floor(Math.random() * sampleIds.length)] }));
  figures.poll = { ...pollBig, raw: rawPoll, objectsStored: big.count };
  figures.manifest = { ...manifest, raw: rawManifest };
  figures.matchType = { ...matchType, raw: rawType };
  figures.matchId = { ...matchId, raw: rawId };
  const at = `${num(big.count)}`;
  loadRow(`poll objects/?added_after&limit=100, ${CLIENTS} clients, ${at} objects`, pollBig, rawPoll, `≥ 1,500 req/s, p50 ≤ 5 ms, p99 ≤ 25 ms${big.count < 1_000_000 ? ' (at 1M)' : ''}`, pollBig.requestsPerSecond >= 1500 && pollBig.median <= 5 && pollBig.p99 <= 25 && pollBig.errors === 0);
  // The change feed of the big collection: one entry per stored version, paged like objects.
  log(`change feed: ${CLIENTS} clients paging changes/?added_after&limit=100 over ${num(big.count)} entries for ${SECONDS} s`);
  const changeFeed = await load(client, { clients: CLIENTS, seconds: SECONDS, maxRequests: MAX_REQUESTS, path: pollOf(big, rng, 'big', '', 'changes') });
  const rawChanges = await reader2.time('changes', big, 2000, rawParams);
  log(`  ${num(changeFeed.requestsPerSecond)} req/s, ${lat(changeFeed)}; raw ${lat(rawChanges)}`);
  figures.changeFeed = { ...changeFeed, raw: rawChanges, entries: big.count };
  loadRow(`change feed changes/?added_after&limit=100, ${CLIENTS} clients, ${at} entries`, changeFeed, rawChanges, `p99 ≤ 25 ms${big.count < 1_000_000 ? ' (at 1M)' : ''}`, changeFeed.p99 <= 25 && changeFeed.errors === 0);
  loadRow(`manifest/?added_after&limit=100, ${at} objects`, manifest, rawManifest, 'p99 ≤ 25 ms', manifest.p99 <= 25 && manifest.errors === 0);
  loadRow(`objects/?match[type]=…&added_after&limit=100, ${at}`, matchType, rawType, 'p99 ≤ 25 ms', matchType.p99 <= 25 && matchType.errors === 0);
  loadRow(`objects/?match[id]=…, ${at} objects`, matchId, rawId, 'p99 ≤ 25 ms', matchId.p99 <= 25 && matchId.errors === 0);
  const growth = pollBig.median / pollSmall.median;
  figures.growth = { ratio: growth, smallP50: pollSmall.median, bigP50: pollBig.median, small: small.count, big: big.count };
  rows.push({ figure: `growth: poll p50 at ${at} vs at ${num(small.count)}`, value: `${growth.toFixed(2)}× (${ms(pollBig.median)} vs ${ms(pollSmall.median)})`, limit: `raw ${ms(rawPoll.median)} vs ${ms(rawSmall.median)}`, target: '≤ 1.5×', met: growth <= 1.5 });
  rows.push({ figure: `cold start, ${num(totalStored)} objects stored`, value: `listening ${ms(server.listeningMs)} · first poll ${ms(coldMs)}`, limit: '', target: '≤ 2 s (at 1M)', met: coldMs <= 2000 });

  // A 50 MB envelope while 8 clients poll
  const stressObjects: Array<Record<string, unknown>> = [];
  let stressBytes = 14;
  for (const o of generateObjects(SEED + 3, 10_000_000, { targets, prefix: 'stress' })) {
    stressBytes += JSON.stringify(o).length + 1;
    stressObjects.push(o);
    if (stressBytes >= STRESS_BYTES) break;
  }
  const stressBody = Buffer.from(JSON.stringify({ objects: stressObjects }));
  stressObjects.length = 0;
  log(`stress: POST one ${(stressBody.length / 1048576).toFixed(1)} MB envelope while ${CLIENTS} clients poll`);
  const reset = server.resetPeak();
  const before = server.memory();
  const sampler = server.sampleMemory();
  let done = false;
  const pollers = load(client, { clients: CLIENTS, seconds: 600, maxRequests: 10_000_000, path: pollOf(big, rng, 'big'), stop: () => done });
  const stressClient = new Client(server.port, auth, 2);
  const ingestResult = await postUntilComplete(stressClient, 'bench', 'stress', stressBody).finally(() => {
    done = true;
  });
  const during = await pollers;
  const mem = sampler();
  stressClient.close();
  const peak = reset ? Math.max(mem.peakRss, mem.hwm) : mem.peakRss;
  figures.stress = { bytes: stressBody.length, objects: ingestResult.status.total_count, stored: ingestResult.status.success_count, ingestSeconds: ingestResult.ms / 1000, objectsPerSecond: ingestResult.status.total_count / (ingestResult.ms / 1000), rssBeforeMiB: before.rss, peakRssMiB: peak, peakSampledMiB: mem.peakRss, kernelPeakMiB: mem.hwm, kernelPeakReset: reset, pollDuring: during };
  log(`  ${num(ingestResult.status.total_count)} objects in ${(ingestResult.ms / 1000).toFixed(1)} s; peak RSS ${peak.toFixed(0)} MiB; poll during ${lat(during)}`);
  rows.push({
    figure: `50 MB envelope (${num(ingestResult.status.total_count)} objects) while ${CLIENTS} clients poll`,
    value: `peak RSS ${peak.toFixed(0)} MiB · poll ${lat(during)} · ${num(during.requestsPerSecond)} req/s · ingest ${(ingestResult.ms / 1000).toFixed(1)} s`,
    limit: `RSS before ${before.rss.toFixed(0)} MiB; poll alone ${lat(pollBig)}`,
    target: 'RSS ≤ 600 MB, poll p99 ≤ 250 ms',
    met: peak <= 600 && during.p99 <= 250 && during.errors === 0,
  });
  await reader2.close();
  return { server, client, big, rng };
}

/** `--only desk`: the big collection bulk-loaded (the subscribers' polls during the approval read it) and the server restarted on it. */
async function bigOnly(c: ServerContext & { bigId: string }): Promise<{ server: ServerProcess; client: Client; big: CollectionInfo; rng: Rng }> {
  await c.server.stop();
  c.client.close();
  log(`bulk-loading ${num(BIG)} generated objects into "big" through the store API (Store.ingest, not HTTP)`);
  const store = backend.open(c.dataDir);
  await bulkLoad(store, 'bench', c.bigId, generateObjects(SEED + 2, BIG, { targets: c.targets, prefix: 'big' }), (count) => log(`  bulk-loaded ${num(count)}`));
  await store.close();
  const server = await ServerProcess.start({ dataDir: c.dataDir, logLevel: LOG_LEVEL, nodeFlags: c.nodeFlags, env: backend.env });
  const reader = await backend.reader(c.dataDir);
  const big = await reader.collection('bench', 'big');
  await reader.close();
  return { server, client: new Client(server.port, c.auth), big, rng: new Rng(SEED + 20) };
}

interface DeskContext {
  dataDir: string;
  nodeFlags: string[];
  server: ServerProcess;
  client: Client;
  auth: string;
  /** The big collection, polled by subscribers while the approval runs. */
  big: CollectionInfo;
  rng: Rng;
  targets: ReturnType<typeof attackTargets>;
  submission: Array<Record<string, unknown>>;
  /** Another submission of as many distinct objects, approved with nothing else running. */
  submissionAlone: Array<Record<string, unknown>>;
  rawPublish: { rowsPerSecond: number; rows: number; seconds: number; steal?: number };
}

/** The desk's figures, on the data directory of the run; the server is restarted, the new one returned. */
async function deskFigures(c: DeskContext): Promise<{ server: ServerProcess; client: Client }> {
  const { dataDir, nodeFlags, auth, big, rng, targets, submission, submissionAlone, rawPublish } = c;
  let { server, client } = c;
  // ---- the desk: queue listing at QUEUE entries, one submission approved to three targets ----
  await server.stop();
  client.close();
  log(`desk: bulk-loading ${num(QUEUE)} generated objects into the intake global/intake through the store API (each stored version is a queue entry), from ${VENDORS} vendors`);
  const deskStore = backend.open(dataDir);
  const intake = (await deskStore.getCollection('global', 'intake'))!;
  const vendorAccounts = await Promise.all(Array.from({ length: VENDORS }, async (_, k) => (await deskStore.getAccountByName(`vendor-${k + 1}-feed`))!.id));
  const queueLoad = await bulkLoad(deskStore, 'global', intake.id, generateObjects(SEED + 4, QUEUE, { targets, prefix: 'intake' }), (count) => log(`  bulk-loaded ${num(count)}`), 5000, (n) => vendorAccounts[n % VENDORS]!);
  // Four eyes would ask two approvals for the global root; the bench's targets ask one, so one decision publishes.
  const targetIds: string[] = [];
  for (const root of DESK_TARGETS) {
    const target = (await deskStore.getCollection(root, 'published'))!;
    await deskStore.putDeskRules(target.id, { release: { approvalsRequired: 1 } });
    targetIds.push(target.id);
  }
  const vendor3 = (await deskStore.getOrganisationByName('vendor-3'))!.id;
  await deskStore.close();
  log(`  ${num(queueLoad.count / queueLoad.seconds)} objects/s through the store API; release rules of ${DESK_TARGETS.join(', ')}: approvalsRequired 1`);

  server = await ServerProcess.start({ dataDir, logLevel: LOG_LEVEL, nodeFlags, env: backend.env });
  client = new Client(server.port, auth);
  // The start-up policy pass (revocation fast path) reads the pending entries on its own: let it finish first.
  const startupPass = await server.settle();
  log(`  restarted; the start-up policy pass kept the server busy ${ms(Math.max(0, startupPass.ms - 1000))} (${ms(startupPass.cpuMs)} CPU) over ${num(queueLoad.count)} entries`);
  const adminAuth = `Basic ${Buffer.from(`desk-admin:${PASSWORD}`).toString('base64')}`;
  const admin = new Client(server.port, adminAuth);
  const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' };
  await admin.request('GET', '/admin/v1/curation/queue?limit=1', undefined, 30_000, JSON_HEADERS); // authenticate once (scrypt)

  // Queue listing: first pages and deep pages (a `next` cursor at a random position), by filter.
  const deskReader = await backend.desk!.reader(dataDir);
  const queueInfo = await deskReader.intake(intake.id);
  const cursor = (seq: number) => Buffer.from(`q${seq}`).toString('base64url'); // as the server encodes the seq of a page's last entry
  const deskRng = new Rng(SEED + 30);
  const randomSeq = () => queueInfo.firstSeq + deskRng.int(queueInfo.lastSeq - queueInfo.firstSeq);
  const firstPage = await admin.json('GET', '/admin/v1/curation/queue?limit=100');
  const rawFirstSeqs = await deskReader.seqs({ intakeIds: [intake.id], maxTlp: 4, limit: 100 });
  if (firstPage.next !== cursor(rawFirstSeqs[99]!)) throw new Error(`the queue cursor is not encoded as the bench assumes: ${firstPage.next} vs ${cursor(rawFirstSeqs[99]!)}`);
  const shapes: Array<{ label: string; query: string; params: Omit<QueueParams, 'intakeIds' | 'limit'> }> = [
    { label: 'all entries', query: '', params: {} },
    { label: 'state=pending', query: '&state=pending', params: { states: ['pending'] } },
    { label: 'organisation=vendor-3', query: '&organisation=vendor-3', params: { organisationId: vendor3 } },
    { label: 'state=pending&organisation=vendor-3', query: '&state=pending&organisation=vendor-3', params: { states: ['pending'], organisationId: vendor3 } },
  ];
  const queueFigures: Record<string, unknown> = {};
  log(`queue: ${CURATORS} curators paging GET /admin/v1/curation/queue?limit=100 over ${num(queueInfo.count)} entries, ${shapes.length} filters × first and deep pages, ${QUEUE_SECONDS} s each`);
  for (const shape of shapes) {
    const base = `/admin/v1/curation/queue?limit=100${shape.query}`;
    const { result: [first, deep], steal } = await withSteal(async () => [
      await load(admin, { clients: CURATORS, seconds: QUEUE_SECONDS, maxRequests: MAX_REQUESTS, path: () => base, headers: JSON_HEADERS }),
      await load(admin, { clients: CURATORS, seconds: QUEUE_SECONDS, maxRequests: MAX_REQUESTS, path: () => `${base}&next=${cursor(randomSeq())}`, headers: JSON_HEADERS }),
    ]);
    // The store's query for a TLP cap of RED (an admin's), as DeskService.queue asks it.
    const params = { intakeIds: [intake.id], maxTlp: 4, limit: 100, ...shape.params };
    const rawFirst = await deskReader.time(2000, () => params);
    const rawDeep = await deskReader.time(2000, () => ({ ...params, afterSeq: randomSeq() }));
    queueFigures[shape.label] = { first, deep, rawFirst, rawDeep, hostSteal: steal };
    const stolen = stealSuffix(steal);
    log(`  ${shape.label}: first ${lat(first)}, deep ${lat(deep)}${stolen}; raw first ${lat(rawFirst)}, deep ${lat(rawDeep)} (${rawFirst.plan})`);
    const worst = Math.max(first.p99, deep.p99);
    rows.push({
      figure: `queue?limit=100 (${shape.label}), ${num(queueInfo.count)} entries, ${CURATORS} clients`,
      value: `first page ${lat(first)} · deep (next) ${lat(deep)} · ${num((first.count + deep.count) / (first.seconds + deep.seconds))} req/s${first.errors + deep.errors ? ` · ${first.errors + deep.errors} errors` : ''}${stolen}`,
      limit: `raw SQL first ${lat(rawFirst)} · deep ${lat(rawDeep)}`,
      ratio: `${(first.median / rawFirst.median).toFixed(1)}× / ${(deep.median / rawDeep.median).toFixed(1)}× raw p50`,
      target: `p99 ≤ 50 ms${queueInfo.count < 1_000_000 ? ' (at 1M)' : ''}`,
      met: worst <= 50 && first.errors + deep.errors === 0,
    });
  }
  await deskReader.close();

  // Two vendor submissions of distinct objects (one queue entry each), each approved to three
  // targets: the first with nothing else running (its rate against the raw insert, which runs
  // alone too), the second while subscribers poll (their latency against polls just before).
  const vendor = new Client(server.port, `Basic ${Buffer.from(`vendor-1-feed:${PASSWORD}`).toString('base64')}`);
  /** POSTs the objects until complete and waits for the server to be idle again. */
  const submit = async (objects: Array<Record<string, unknown>>) => {
    const posted = await postUntilComplete(vendor, 'global', 'intake', envelopes(objects, SUBMISSION)[0]!);
    const afterPost = await server.settle(); // the intake's policy meets the submission once it is complete
    log(`  stored ${num(posted.status.success_count)} (${posted.status.failure_count} failed) in ${ms(posted.ms)}; the policy pass after it ${ms(Math.max(0, afterPost.ms - 1000))}`);
    // Figures move with the machine's other work (client and server share its cores): say how busy it was.
    const loadAverage = os.loadavg();
    log(`  load average ${loadAverage.map((x) => x.toFixed(2)).join(' ')}`);
    return { id: posted.status.id as string, submissionPostMs: posted.ms, policyPassAfterPostMs: afterPost.ms, loadAverage };
  };
  /** Approves a submitted submission to the targets, timed. */
  const approve = async ({ id, ...submitted }: Awaited<ReturnType<typeof submit>>) => {
    const body = Buffer.from(JSON.stringify({ action: 'approve', submission: id, targets: DESK_TARGETS }));
    const decision = await admin.request('POST', '/admin/v1/curation/decisions', body, 600_000, JSON_HEADERS);
    if (decision.status !== 201) throw new Error(`approval → ${decision.status}: ${decision.body.toString('utf8').slice(0, 500)}`);
    const result = JSON.parse(decision.body.toString('utf8'));
    const published = result.published as number;
    const rate = published / (decision.ms / 1000);
    log(`  ${num(result.entries)} entries, ${num(published)} publications in ${ms(decision.ms)}: ${num(rate)} publications/s (raw ${num(rawPublish.rowsPerSecond)})`);
    return { entries: result.entries as number, published, ms: decision.ms, rate, ...submitted };
  };
  log(`approval alone: vendor-1 POSTs ${num(SUBMISSION)} objects to global/intake, the desk approves the submission to ${DESK_TARGETS.join(', ')}`);
  const submittedAlone = await submit(submissionAlone);
  // The host's share of the CPU (steal) during each figure: on a shared VM it moves them most.
  const { result: quiet, steal: quietSteal } = await withSteal(() => approve(submittedAlone));
  log(`approval while polled: vendor-1 POSTs ${num(SUBMISSION)} other objects, the desk approves them while ${CLIENTS} clients poll`);
  const toApprove = await submit(submission);
  const { result: alone, steal: aloneSteal } = await withSteal(() => load(client, { clients: CLIENTS, seconds: POLL_ALONE_SECONDS, maxRequests: MAX_REQUESTS, path: pollOf(big, rng, 'big') }));
  let decided = false;
  const { result: [polled, during], steal: duringSteal } = await withSteal(() => {
    const pollers = load(client, { clients: CLIENTS, seconds: 600, maxRequests: 10_000_000, path: pollOf(big, rng, 'big'), stop: () => decided });
    const approval = approve(toApprove).finally(() => {
      decided = true;
    });
    return Promise.all([approval, pollers]);
  });
  log(`  host steal: approval alone ${stealShare(quietSteal)}, polls alone ${stealShare(aloneSteal)}, approval while polled ${stealShare(duringSteal)}`);
  vendor.close();
  admin.close();
  // The raw limit again, into a copy of this run's database (its collections, queue and indexes at
  // their size now) instead of an empty one: what the rows alone cost where the approvals wrote them.
  const rawInto = await backend.desk!.rawPublishInto(dataDir, distinctObjects(SEED + 7, SUBMISSION, { targets, prefix: 'raw-into' }), targetIds);
  log(`  raw insert of the same rows into a copy of this database: ${num(rawInto.rowsPerSecond)} rows/s (${num(rawInto.rows)} in ${ms(rawInto.seconds * 1000)})`);
  const ofRaw = quiet.rate / rawPublish.rowsPerSecond;
  figures.desk = {
    queueEntries: queueInfo.count, bulkLoad: { ...queueLoad, objectsPerSecond: queueLoad.count / queueLoad.seconds }, startupPolicyPass: startupPass, queue: queueFigures,
    hostSteal: { approvalAlone: quietSteal, pollAlone: aloneSteal, approvalWhilePolled: duringSteal },
    approval: { ...quiet, publicationsPerSecond: quiet.rate, rawPublish, ratioOfRaw: ofRaw, rawPublishIntoRunDatabase: rawInto, ratioOfRawIntoRunDatabase: quiet.rate / rawInto.rowsPerSecond, targetIds, releaseRules: { approvalsRequired: 1 } },
    approvalWhilePolled: { ...polled, publicationsPerSecond: polled.rate, ratioOfRaw: polled.rate / rawPublish.rowsPerSecond },
    pollAlone: alone, pollDuring: during,
  };
  log(`  poll alone ${lat(alone)}, during ${lat(during)} (${during.count} polls)`);
  rows.push({
    // An observable of the submission already in the intake (same deterministic id) keeps its earlier entry.
    figure: `approve one ${num(SUBMISSION)}-object submission (${num(quiet.entries)} entries) to ${DESK_TARGETS.join(', ')} (POST decisions; release rules: 1 approval), nothing else running`,
    value: `${num(quiet.rate)} publications/s · ${num(quiet.published)} in ${ms(quiet.ms)}${stealSuffix(quietSteal)}`,
    limit: `raw insert ${num(rawPublish.rowsPerSecond)} rows/s (objects+publications+changes, 1 transaction); into a copy of this run's database ${num(rawInto.rowsPerSecond)} rows/s`,
    ratio: `${(100 * ofRaw).toFixed(0)}% of raw (${((100 * quiet.rate) / rawInto.rowsPerSecond).toFixed(0)}% of raw into this database)`,
    target: '≥ 20,000 publications/s and ≥ 30% of raw',
    met: quiet.rate >= 20_000 && ofRaw >= 0.3 && quiet.published === quiet.entries * DESK_TARGETS.length,
  });
  rows.push({
    figure: `the same for ${num(SUBMISSION)} other objects (${num(polled.entries)} entries) while ${CLIENTS} clients poll`,
    value: `${num(polled.rate)} publications/s · ${num(polled.published)} in ${ms(polled.ms)}${stealSuffix(duringSteal)}`,
    limit: `raw insert ${num(rawPublish.rowsPerSecond)} rows/s`,
    ratio: `${((100 * polled.rate) / rawPublish.rowsPerSecond).toFixed(0)}% of raw`,
    target: '',
  });
  const p50Ratio = during.median / alone.median;
  const p99Ratio = during.p99 / alone.p99;
  rows.push({
    figure: `poll objects/ by ${CLIENTS} clients while the approval runs (${num(during.count)} polls)`,
    value: `${lat(during)} · ${num(during.requestsPerSecond)} req/s${during.errors ? ` · ${during.errors} errors` : ''}${stealSuffix(duringSteal)}`,
    limit: `poll alone (just before) ${lat(alone)}${stealSuffix(aloneSteal)}`,
    ratio: `${p50Ratio.toFixed(2)}× p50 · ${p99Ratio.toFixed(2)}× p99`,
    target: '≤ 1.2× alone (p50 and p99)',
    met: p50Ratio <= 1.2 && p99Ratio <= 1.2 && during.errors === 0,
  });
  rows.push({
    figure: `start-up policy pass over ${num(queueInfo.count)} queue entries (server busy after listening)`,
    value: `${ms(Math.max(0, startupPass.ms - 1000))} · ${ms(startupPass.cpuMs)} CPU`,
    limit: '',
    target: '',
  });
  return { server, client };
}

// ---- the run ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`mode ${FULL ? 'full' : 'quick'}, seed ${SEED}, big collection ${num(BIG)} objects, ${CLIENTS} clients × ${SECONDS} s per poll figure`);
  if (!flag('--no-build')) {
    log('building dist/ (npm run build)');
    // The validator workspace first: the server's build and dist/ read it as the package stix2-validator-ts.
    spawnSync('npm', ['run', 'build', '--silent', '-w', 'stix2-validator-ts'], { cwd: REPO, encoding: 'utf8' });
    const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' });
    if (b.status !== 0) log(`  build reported errors (dist/ was emitted anyway):\n${b.stdout.slice(0, 2000)}`);
  }
  if (optionText('--only', '') === 'client') {
    // The publish and poll commands alone (bench/toolkit.ts): ATT&CK, then --client-objects generated (1,000,000).
    log(`client only; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const client = await benchToolkit({ log, seed: SEED, logLevel: LOG_LEVEL, objects: option('--client-objects', 1_000_000) });
    rows.push(...client.rows);
    log(`load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'client.json'), `${JSON.stringify({ when: new Date().toISOString(), commit: commit(), command: `npm run bench -- ${argv.join(' ')}`, machine: machine(), table: rows, figures: client.figures }, null, 2)}\n`);
    printTable();
    if (rows.some((r) => r.met === false)) process.exitCode = 1;
    return;
  }
  if (optionText('--only', '') === 'push') {
    // The push figures alone (bench/push.ts), with the change feed at --feed-entries (1,000,000);
    // --push-objects, --push-receivers, --push-streams change the publication's size and audience.
    log(`push only; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const sizes = { publication: option('--push-objects', 10_000), receivers: option('--push-receivers', 50), streams: option('--push-streams', 500) };
    const push = await benchPush({ log, seed: SEED, logLevel: LOG_LEVEL, feedEntries: option('--feed-entries', 1_000_000), ...sizes, nodeFlags: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [] });
    rows.push(...push.rows);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'push.json'), `${JSON.stringify({ when: new Date().toISOString(), commit: commit(), command: `npm run bench -- ${argv.join(' ')}`, machine: machine(), table: rows, figures: push.figures }, null, 2)}\n`);
    printTable();
    return;
  }

  // Dataset
  log('generating the dataset');
  const attack = attackObjects();
  const targets = attackTargets(attack);
  const mix = ingestMix(SEED, INGEST_GENERATED);
  const bodies = envelopes(mix, 1000);
  const ingestBytes = bodies.reduce((n, b) => n + b.length, 0);
  const types = new Map<string, number>();
  for (const o of mix) types.set(o.type as string, (types.get(o.type as string) ?? 0) + 1);
  const dataset = {
    seed: SEED,
    ingest: { objects: mix.length, attack: attack.length, attackSource: attackDataset().label, generated: INGEST_GENERATED, envelopes: bodies.length, bytes: ingestBytes, types: Object.fromEntries([...types].sort((a, b) => b[1] - a[1])) },
    small: SMALL,
    big: BIG,
    stressBytes: STRESS_BYTES,
    ...(DESK ? { desk: { queue: QUEUE, vendors: VENDORS, submission: SUBMISSION, targets: DESK_TARGETS } } : {}),
  };
  const submission = DESK ? distinctObjects(SEED + 5, SUBMISSION, { targets, prefix: 'submission' }) : [];
  const submissionAlone = DESK ? distinctObjects(SEED + 6, SUBMISSION, { targets, prefix: 'alone' }) : [];

  // Limits that need no server (of the server's figures: --only desk leaves them out)
  let raw: { objectsPerSecond: number } | undefined;
  if (!ONLY_DESK) {
    log(`limit: raw batch insert of the same ${num(mix.length)} rows (${STORE === 'sqlite' ? 'better-sqlite3' : 'MongoDB driver'})`);
    raw = await backend.rawInsert(mix);
    log(`  ${num(raw.objectsPerSecond)} rows/s`);
    log('limit: JSON.parse vs validation of the same bytes');
    const vp = validationVsParse(bodies);
    log(`  parse ${num(vp.parseObjectsPerSecond)} objects/s, validate ${num(vp.validateObjectsPerSecond)} objects/s (${vp.failures} rejected)`);
    figures.validation = vp;
    rows.push({ figure: 'validation + normalisation (pipeline, 1 thread, in-process)', value: `${num(vp.validateObjectsPerSecond)} objects/s`, limit: `JSON.parse ${num(vp.parseObjectsPerSecond)} objects/s (${vp.parseMBps.toFixed(0)} MB/s)`, ratio: `${(vp.parseObjectsPerSecond / vp.validateObjectsPerSecond).toFixed(1)}× slower than parse`, target: '' });
    for (const [file, fn] of [['validate', 'benchValidate'], ['pattern', 'benchPattern']] as const) {
      if (!existsSync(path.join(REPO, `bench/${file}.ts`))) continue;
      try {
        const mod = (await import(`./${file}.js`)) as Record<string, () => Promise<Record<string, unknown>>>;
        const result = await mod[fn]!();
        figures[fn] = result;
        rows.push({ figure: `${fn}() (bench/${file}.ts)`, value: Object.entries(result).map(([k, v]) => `${k} ${typeof v === 'number' ? num(v) : JSON.stringify(v)}`).join(' · '), limit: '', target: '' });
        log(`  ${fn}: ${JSON.stringify(result)}`);
      } catch (err) {
        log(`  ${fn} failed: ${(err as Error).message}`);
        figures[fn] = { error: (err as Error).message };
      }
    }
  }
  let rawPublish: { rowsPerSecond: number; rows: number; seconds: number; steal?: number } | undefined;
  if (DESK) {
    log(`limit: raw insert of the rows approving ${num(SUBMISSION)} objects to ${DESK_TARGETS.length} targets writes (objects, publications, changes; one transaction)`);
    const { result, steal } = await withSteal(() => backend.desk!.rawPublish(submission, DESK_TARGETS.length));
    rawPublish = { ...result, ...(steal !== undefined ? { steal } : {}) };
    log(`  ${num(rawPublish.rowsPerSecond)} publications/s (${num(rawPublish.rows)} in ${ms(rawPublish.seconds * 1000)})${stealSuffix(steal)}`);
  }

  // Server set-up with the CLI
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'));
  const nodeFlags = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  log(`setting up ${dataDir} with the CLI`);
  cli(dataDir, ['root', 'add', 'bench', '--title', 'Bench'], { env: backend.env });
  cli(dataDir, ['account', 'add', 'bench', '--password-stdin', '--role', 'publisher', 'subscriber'], { env: backend.env, input: PASSWORD });
  const ids: Record<string, string> = {};
  for (const alias of ['warmup', 'ingest', 'small', 'big', 'stress']) {
    ids[alias] = cli(dataDir, ['collection', 'add', '--root', 'bench', '--title', alias, '--alias', alias], { env: backend.env });
    cli(dataDir, ['grant', 'bench', '--collection', alias, '--root', 'bench', '--read', '--write'], { env: backend.env });
  }
  const auth = `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`;
  if (DESK) {
    // The exchange of the desk's figures, in one `meridian apply`: vendors writing to an intake, the
    // desk's admin, member agencies reading the three targets.
    const layout = {
      organisations: [
        { name: 'bench-desk', kind: 'desk' },
        { name: 'fr-police', kind: 'member-agency', country: 'fr' },
        { name: 'de-bka', kind: 'member-agency', country: 'de' },
        ...Array.from({ length: VENDORS }, (_, k) => ({ name: `vendor-${k + 1}`, kind: 'vendor' })),
      ],
      api_roots: [{ path: 'fr', title: 'France' }, { path: 'de', title: 'Germany' }, { path: 'global', title: 'Global' }],
      collections: [
        { api_root: 'global', alias: 'intake', title: 'intake', purpose: 'intake' },
        ...DESK_TARGETS.map((root) => ({ api_root: root, alias: 'published', title: 'published', purpose: 'published' })),
      ],
      accounts: [
        { name: 'desk-admin', organisation: 'bench-desk', roles: ['admin'], password_env: 'MERIDIAN_BENCH_PASSWORD' },
        ...Array.from({ length: VENDORS }, (_, k) => ({ name: `vendor-${k + 1}-feed`, organisation: `vendor-${k + 1}`, roles: ['publisher'], password_env: 'MERIDIAN_BENCH_PASSWORD' })),
      ],
      grants: [
        ...Array.from({ length: VENDORS }, (_, k) => ({ api_root: 'global', collection: 'intake', organisation: `vendor-${k + 1}`, role: 'publisher', write: true })),
        { api_root: 'fr', collection: 'published', organisation: 'fr-police', read: true, max_tlp: 'amber' },
        { api_root: 'de', collection: 'published', organisation: 'de-bka', read: true, max_tlp: 'amber' },
        { api_root: 'global', collection: 'published', organisation: 'fr-police', read: true, max_tlp: 'green' },
        { api_root: 'global', collection: 'published', organisation: 'de-bka', read: true, max_tlp: 'green' },
      ],
    };
    cli(dataDir, ['apply', '-'], { env: { ...backend.env, MERIDIAN_BENCH_PASSWORD: PASSWORD }, input: JSON.stringify(layout) });
  }

  let server = await ServerProcess.start({ dataDir, logLevel: LOG_LEVEL, nodeFlags, env: backend.env });
  let client = new Client(server.port, auth);
  try {
    let big: CollectionInfo;
    let rng: Rng;
    if (ONLY_DESK) ({ server, client, big, rng } = await bigOnly({ dataDir, server, client, auth, nodeFlags, targets, bigId: ids.big! }));
    else ({ server, client, big, rng } = await serverFigures({ dataDir, server, client, auth, nodeFlags, targets, ids, bodies, mix, raw: raw! }));

    if (DESK) ({ server, client } = await deskFigures({ dataDir, nodeFlags, server, client, auth, big, rng, targets, submission, submissionAlone, rawPublish: rawPublish! }));
    else if (backend.desk === undefined) log('desk: not measured (the desk is not yet on this store)');
  } finally {
    client.close();
    await server.stop();
    if (!flag('--keep')) {
      rmSync(dataDir, { recursive: true, force: true });
      await backend.drop();
    } else log(`kept ${dataDir}${backend.env.MERIDIAN_STORE ? ` and the database of ${backend.env.MERIDIAN_STORE}` : ''}`);
  }

  if (STORE === 'sqlite' && !flag('--no-push') && !argv.includes('--only')) {
    // The issue's audience (50 receivers, 500 streams) in the full run and alone; a tenth of it in the quick run.
    const push = await benchPush({ log, seed: SEED, logLevel: LOG_LEVEL, ...(FULL ? {} : { receivers: 5, streams: 50 }) });
    rows.push(...push.rows);
    figures.push = push.figures;
  }

  const totalSeconds = (performance.now() - startedAt) / 1000;
  const result = {
    when: new Date().toISOString(),
    commit: commit(),
    mode: `${FULL ? 'full' : 'quick'}${ONLY_DESK ? ', desk only' : ''}`,
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: machine(),
    store: backend.label,
    server: { logLevel: LOG_LEVEL, profiled: PROFILE, transport: 'HTTP/1.1 keep-alive on 127.0.0.1, Basic auth (cached verification)' },
    dataset,
    notes: [
      'the "big" collection is bulk-loaded through the store API (Store.ingest), not HTTP; the ingest figure itself goes through HTTP POST until the status is complete',
      'limits are measured in this run on this machine: a raw batch insert of the same rows into the same indexes, the raw query the store runs behind each GET (sequential, in the bench process), JSON.parse of the same bytes',
      'client and server share the machine\'s cores',
    ],
    seconds: totalSeconds,
    table: rows,
    figures,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  // A desk-only run keeps the whole runs' files.
  if (!ONLY_DESK) writeFileSync(path.join(RESULTS, `${FULL ? 'full' : 'quick'}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const m = result.machine;
  process.stdout.write(`\nMeridian bench (${result.mode}) — ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, SQLite ${m.sqlite}; store ${result.store}; seed ${SEED}; commit ${result.commit}`);
  printTable();
  process.stdout.write(`\nThe "big" collection was bulk-loaded through the store API (Store.ingest); the ingest figure is over HTTP. ${totalSeconds.toFixed(0)} s in all. Results: bench/results/latest.json\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
