// The push figures of `npm run bench` (alone: `npm run bench -- --only push`): one publication of
// PUBLICATION objects to a published collection reaches RECEIVERS local webhook receivers (one
// subscription each, plain HTTP on loopback through the allow-list) and STREAMS open live streams
// (SSE). Reported: time from the POST to the last delivery, webhooks and streams apart, deliveries/s,
// the server's peak RSS, and two same-run limits — the publication itself (POST until complete) and
// raw signed POSTs/s from this process to the same receivers in the same pattern (one at a time
// per receiver, keep-alive). Alone, it also measures the change feed at FEED_ENTRIES change-log
// entries (bulk-loaded through the store API), paged like a poller does, against the raw SQL.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { formatMicros } from '../taxii/time.js';
import { bulkLoad, sqliteBackend } from './backends.js';
import { Client, load, type LoadResult, type Summary, summarise } from './client.js';
import { Rng, envelopes, generateObjects } from './dataset.js';
import { ServerProcess, cli } from './server.js';
import type { BenchRow } from './row.js';

export interface PushOptions {
  log: (message: string) => void;
  /** Objects in the one publication (10,000). */
  publication?: number;
  receivers?: number;
  streams?: number;
  /** Change-log entries for the change-feed figure; 0 leaves it out. */
  feedEntries?: number;
  seed?: number;
  logLevel?: string;
  /** Extra node flags for the server (--profile: --cpu-prof). */
  nodeFlags?: string[];
}

const PASSWORD = 'bench-password-not-secret';
const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : 'n/a');
const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
const num = (x: number) => Math.round(x).toLocaleString('en-US');
const lat = (x: Summary) => `p50 ${ms(x.median)} · p99 ${ms(x.p99)}`;

/** A webhook receiver: counts distinct webhook-ids and notes when the last expected one came. */
class Receiver {
  readonly ids = new Set<string>();
  requests = 0;
  doneAt = 0;
  expected = Infinity;
  private server: http.Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests++;
        this.ids.add(String(req.headers['webhook-id']));
        if (this.ids.size >= this.expected && !this.doneAt) this.doneAt = performance.now();
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  reset(expected: number): void {
    this.ids.clear();
    this.requests = 0;
    this.doneAt = 0;
    this.expected = expected;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

/** A live stream reader: counts events (`id:` lines) without parsing them, notes when the last came. */
class Stream {
  events = 0;
  doneAt = 0;
  private req: http.ClientRequest | undefined;

  open(port: number, url: string, auth: string, expected: number, agent: http.Agent): Promise<void> {
    const marker = Buffer.from('\nid: ');
    let tail: Buffer = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      this.req = http.get({ host: '127.0.0.1', port, path: url, agent, headers: { Accept: 'text/event-stream', Authorization: auth } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream → ${res.statusCode}`));
        resolve();
        res.on('data', (chunk: Buffer) => {
          // A marker may straddle two chunks: search the last bytes of the previous one too.
          const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
          for (let at = buf.indexOf(marker); at >= 0; at = buf.indexOf(marker, at + marker.length)) this.events++;
          tail = buf.subarray(Math.max(0, buf.length - marker.length + 1));
          if (this.events >= expected && !this.doneAt) this.doneAt = performance.now();
        });
      });
      this.req.on('error', (err) => (this.doneAt ? undefined : reject(err)));
    });
  }

  close(): void {
    this.req?.destroy();
  }
}

/** The limit: signed POSTs of a thin payload from here, one at a time per receiver, all receivers at once. */
async function rawPosts(receivers: Receiver[], seconds: number): Promise<{ postsPerSecond: number; latency: Summary }> {
  const secret = randomBytes(24);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(receivers.map(async (r) => {
    while (performance.now() < deadline) {
      const id = randomUUID();
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ type: 'object.published', timestamp: new Date().toISOString(), data: { change_id: id, api_root: 'push', collection: randomUUID(), object: { id: `indicator--${randomUUID()}`, type: 'indicator', version: new Date().toISOString() }, actor_kind: 'desk', links: { object: `http://127.0.0.1/push/collections/x/objects/indicator--${id}/` } } });
      const signature = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64');
      const t = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: r.port, method: 'POST', path: '/hook', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end(body);
      });
      latencies.push(performance.now() - t);
    }
  }));
  agent.destroy();
  return { postsPerSecond: latencies.length / ((performance.now() - started) / 1000), latency: summarise(latencies) };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export async function benchPush(o: PushOptions): Promise<{ rows: BenchRow[]; figures: Record<string, unknown> }> {
  const PUBLICATION = o.publication ?? 10_000;
  const RECEIVERS = o.receivers ?? 50;
  const STREAMS = o.streams ?? 500;
  const FEED = o.feedEntries ?? 0;
  const SEED = o.seed ?? 20251130;
  const log = o.log;
  const rows: BenchRow[] = [];
  const figures: Record<string, unknown> = { publication: PUBLICATION, receivers: RECEIVERS, streams: STREAMS, loadAverage: os.loadavg() };

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-push-'));
  log(`push: setting up ${dataDir} (one published collection, a writer, a subscriber organisation)`);
  const layout = {
    organisations: [{ name: 'push-desk', kind: 'desk' }, { name: 'push-agency', kind: 'member-agency', country: 'fr' }],
    api_roots: [{ path: 'push', title: 'Push' }],
    collections: [{ api_root: 'push', alias: 'published', title: 'published' }, { api_root: 'push', alias: 'feed', title: 'feed' }],
    accounts: [
      { name: 'push-writer', organisation: 'push-desk', roles: ['publisher'], password_env: 'MERIDIAN_BENCH_PASSWORD' },
      { name: 'push-reader', organisation: 'push-agency', roles: ['subscriber'], password_env: 'MERIDIAN_BENCH_PASSWORD' },
    ],
    grants: ['published', 'feed'].flatMap((alias) => [
      { api_root: 'push', collection: alias, account: 'push-writer', write: true },
      { api_root: 'push', collection: alias, organisation: 'push-agency', read: true },
    ]),
  };
  cli(dataDir, ['apply', '-'], { env: { MERIDIAN_BENCH_PASSWORD: PASSWORD }, input: JSON.stringify(layout) });

  if (FEED > 0) {
    log(`push: bulk-loading ${num(FEED)} objects into push/feed through the store API (one change-log entry each)`);
    const store = sqliteBackend.open(dataDir);
    const feed = (await store.getCollection('push', 'feed'))!;
    const writer = (await store.getAccountByName('push-writer'))!.id;
    const loaded = await bulkLoad(store, 'push', feed.id, generateObjects(SEED + 40, FEED, { prefix: 'feed' }), (n) => log(`  bulk-loaded ${num(n)}`), 5000, () => writer);
    await store.close();
    log(`  ${num(loaded.count / loaded.seconds)} objects/s`);
    figures.feedLoad = loaded;
  }

  const receivers = Array.from({ length: RECEIVERS }, () => new Receiver());
  await Promise.all(receivers.map((r) => r.listen()));
  const server = await ServerProcess.start({
    dataDir, logLevel: o.logLevel ?? 'warn', nodeFlags: o.nodeFlags ?? [],
    env: { MERIDIAN_WEBHOOK_ALLOW_TARGETS: '127.0.0.1', MERIDIAN_STREAMS_PER_ACCOUNT: String(STREAMS + 10) },
  });
  const writer = new Client(server.port, `Basic ${Buffer.from(`push-writer:${PASSWORD}`).toString('base64')}`);
  const readerAuth = `Basic ${Buffer.from(`push-reader:${PASSWORD}`).toString('base64')}`;
  const reader = new Client(server.port, readerAuth);
  const streamAgent = new http.Agent({ keepAlive: false, maxSockets: STREAMS + 10 });
  const streams: Stream[] = [];
  try {
    if (FEED > 0) {
      const raw = await sqliteBackend.reader(dataDir);
      const info = await raw.collection('push', 'feed');
      const rng = new Rng(SEED + 41);
      const after = () => info.first + Math.floor(rng.next() * (info.last - info.first));
      log(`push: change feed, 8 clients paging push/feed/changes/?added_after&limit=100 over ${num(info.count)} entries for 5 s`);
      await reader.json('GET', '/push/collections/feed/changes/?limit=1'); // authenticate once (scrypt) outside the timing
      const feed: LoadResult = await load(reader, { clients: 8, seconds: 5, maxRequests: 100_000, path: () => `/push/collections/feed/changes/?added_after=${formatMicros(after())}&limit=100` });
      const rawFeed = await raw.time('changes', info, 2000, () => ({ after: after() }));
      await raw.close();
      log(`  ${num(feed.requestsPerSecond)} req/s, ${lat(feed)}; raw ${lat(rawFeed)}`);
      figures.changeFeed = { ...feed, raw: rawFeed, entries: info.count };
      rows.push({
        figure: `change feed changes/?added_after&limit=100, 8 clients, ${num(info.count)} entries`,
        value: `${num(feed.requestsPerSecond)} req/s · ${lat(feed)}${feed.errors ? ` · ${feed.errors} errors` : ''}`,
        limit: `raw SQL ${lat(rawFeed)}`, ratio: `${(feed.median / rawFeed.median).toFixed(1)}× raw p50`,
        target: 'p99 ≤ 25 ms (at 1M)', met: feed.p99 <= 25 && feed.errors === 0,
      });
    }

    log(`push: ${RECEIVERS} webhook subscriptions on push/published, one receiver each (http://127.0.0.1, allow-listed)`);
    const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' };
    for (const r of receivers) {
      const res = await reader.request('POST', '/admin/v1/subscriptions', Buffer.from(JSON.stringify({ url: `http://127.0.0.1:${r.port}/hook`, collections: ['push/published'] })), 30_000, JSON_HEADERS);
      if (res.status !== 201) throw new Error(`subscription → ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    }

    log(`push: limit — signed POSTs from the bench process to the ${RECEIVERS} receivers, one at a time each, for 3 s`);
    const limit = await rawPosts(receivers, 3);
    log(`  ${num(limit.postsPerSecond)} POSTs/s, ${lat(limit.latency)}`);
    figures.rawPosts = limit;

    const objects = [...generateObjects(SEED + 42, PUBLICATION, { prefix: 'push' })];
    const [body] = envelopes(objects, PUBLICATION);
    log(`push: opening ${STREAMS} live streams on push/published`);
    const since = formatMicros(Date.now() * 1000);
    for (let n = 0; n < STREAMS; n++) {
      const stream = new Stream();
      await stream.open(server.port, `/push/collections/published/changes/?added_after=${since}`, readerAuth, PUBLICATION, streamAgent);
      streams.push(stream);
    }
    for (const r of receivers) r.reset(PUBLICATION);

    log(`push: one POST of ${num(PUBLICATION)} objects to push/published (a ${(body!.length / 1048576).toFixed(1)} MB envelope)`);
    server.resetPeak();
    const before = server.memory();
    const sampler = server.sampleMemory();
    const cpu0 = server.cpuMs();
    const t0 = performance.now();
    const posted = await writer.request('POST', '/push/collections/published/objects/', body);
    if (posted.status !== 202) throw new Error(`POST → ${posted.status}: ${posted.body.toString('utf8').slice(0, 300)}`);
    const statusId = JSON.parse(posted.body.toString('utf8')).id as string;
    let status: { status: string; success_count: number } = JSON.parse(posted.body.toString('utf8'));
    while (status.status !== 'complete') {
      await new Promise((r) => setTimeout(r, 20));
      status = await writer.json('GET', `/push/status/${statusId}/`);
    }
    const published = performance.now() - t0;
    log(`  published (status complete) after ${s(published)}: ${status.success_count} stored`);
    const allIn = await until(() => receivers.every((r) => r.doneAt > 0) && streams.every((x) => x.doneAt > 0), 900_000);
    const mem = sampler();
    const cpu = server.cpuMs() - cpu0;
    const hookTimes = receivers.map((r) => (r.doneAt || performance.now()) - t0);
    const streamTimes = streams.map((x) => (x.doneAt || performance.now()) - t0);
    const hookLast = Math.max(...hookTimes);
    const streamLast = Math.max(...streamTimes);
    const delivered = receivers.reduce((n, r) => n + r.ids.size, 0);
    const requests = receivers.reduce((n, r) => n + r.requests, 0);
    const events = streams.reduce((n, x) => n + x.events, 0);
    const peak = Math.max(mem.peakRss, mem.hwm);
    const hooks = summarise(hookTimes);
    const sse = summarise(streamTimes);
    figures.push = {
      complete: allIn, publishedMs: published, webhooks: { lastMs: hookLast, perReceiverMs: hooks, delivered, requests, expected: PUBLICATION * RECEIVERS, deliveriesPerSecond: delivered / (hookLast / 1000) },
      streams: { lastMs: streamLast, perStreamMs: sse, events, expected: PUBLICATION * STREAMS, eventsPerSecond: events / (streamLast / 1000) },
      rssBeforeMiB: before.rss, peakRssMiB: peak, serverCpuMs: cpu,
    };
    log(`  webhooks: ${num(delivered)} of ${num(PUBLICATION * RECEIVERS)} (${num(requests)} requests), last after ${s(hookLast)}; streams: ${num(events)} of ${num(PUBLICATION * STREAMS)} events, last after ${s(streamLast)}; peak RSS ${peak.toFixed(0)} MiB; server CPU ${s(cpu)}`);
    const incomplete = allIn ? '' : ' · INCOMPLETE after 15 min';
    rows.push({
      figure: `one publication of ${num(PUBLICATION)} objects → ${RECEIVERS} webhook receivers (one subscription each, loopback)`,
      value: `last delivery ${s(hookLast)} after the POST (per receiver p50 ${s(hooks.median)}) · ${num(delivered / (hookLast / 1000))} deliveries/s · ${num(delivered)} delivered, ${num(requests - delivered)} repeated${incomplete}`,
      limit: `publication itself ${s(published)} · raw signed POSTs ${num(limit.postsPerSecond)}/s`,
      ratio: `${((100 * delivered) / (hookLast / 1000) / limit.postsPerSecond).toFixed(0)}% of raw POSTs/s`,
      target: '',
    });
    rows.push({
      figure: `the same publication → ${STREAMS} open live streams (SSE)`,
      value: `last event ${s(streamLast)} after the POST (per stream p50 ${s(sse.median)}) · ${num(events / (streamLast / 1000))} events/s · ${num(events)} events${incomplete}`,
      limit: `publication itself ${s(published)}`,
      target: '',
    });
    rows.push({
      figure: `server RSS during the publication and its ${num(PUBLICATION * (RECEIVERS + STREAMS))} deliveries`,
      value: `peak ${peak.toFixed(0)} MiB · CPU ${s(cpu)}`,
      limit: `before ${before.rss.toFixed(0)} MiB`,
      target: '',
    });
  } finally {
    for (const x of streams) x.close();
    streamAgent.destroy();
    writer.close();
    reader.close();
    await server.stop();
    await Promise.all(receivers.map((r) => r.close()));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { rows, figures };
}
