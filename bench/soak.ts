// `npm run soak` (minutes, not in CI): the real server under sustained publish + poll, with its
// resident memory and the latencies reported per interval, and a verdict on whether they stay flat
// (the last third of the run against the first, after a warm-up interval).
// Options: --minutes M (default 5), --interval S (seconds per row, default 30), --publishers N (2),
// --pollers N (8), --objects N (objects per envelope, 100), --keep (leave the data directory).
// Exit 1 when RSS or poll p99 grew by more than the allowed ratio (--max-growth, default 1.5).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, summarise } from './client.js';
import { ServerProcess, cli } from './server.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
const minutes = option('--minutes', 5);
const intervalS = option('--interval', 30);
const publishers = option('--publishers', 2);
const pollers = option('--pollers', 8);
const perEnvelope = option('--objects', 100);
const maxGrowth = option('--max-growth', 1.5);

function indicator(n: number) {
  const created = new Date().toISOString();
  return { type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created, modified: created, name: `soak ${n}`, indicator_types: ['malicious-activity'], pattern: `[ipv4-addr:value = '198.51.${(n >> 8) & 255}.${n & 255}']`, pattern_type: 'stix', valid_from: created };
}

interface Row {
  at: number;
  rss: number;
  published: number;
  polls: number;
  postP50: number;
  postP99: number;
  pollP50: number;
  pollP99: number;
  errors: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-soak-'));
  const password = 'soak password, long enough';
  cli(dir, ['account', 'add', 'soak', '--password-stdin'], { input: `${password}\n` });
  cli(dir, ['root', 'add', 'soak', '--title', 'Soak']);
  const collection = cli(dir, ['collection', 'add', '--root', 'soak', '--title', 'Soak']);
  cli(dir, ['grant', 'soak', '--collection', collection, '--read', '--write']);
  const server = await ServerProcess.start({ dataDir: dir, logLevel: 'info' });
  const client = new Client(server.port, `Basic ${Buffer.from(`soak:${password}`).toString('base64')}`, publishers + pollers);
  const base = `/soak/collections/${collection}`;
  process.stdout.write(`soak: ${minutes} min, ${publishers} publishers × ${perEnvelope} objects, ${pollers} pollers, a row every ${intervalS} s (server pid ${server.pid}, data ${dir})\n`);

  const end = Date.now() + minutes * 60_000;
  let posts: number[] = [];
  let polls: number[] = [];
  let published = 0;
  let errors = 0;
  let counter = 0;
  const publisher = async () => {
    while (Date.now() < end) {
      const body = Buffer.from(JSON.stringify({ objects: Array.from({ length: perEnvelope }, () => indicator(counter++)) }));
      const r = await client.request('POST', `${base}/objects/`, body).catch(() => undefined);
      if (r?.status === 202) {
        posts.push(r.ms);
        published += perEnvelope;
      } else errors++;
    }
  };
  // Pollers follow the collection like a SIEM: added_after the last page's X-TAXII-Date-Added-Last.
  const poller = async () => {
    let after: string | undefined;
    while (Date.now() < end) {
      const r = await client.request('GET', `${base}/objects/?limit=500${after ? `&added_after=${encodeURIComponent(after)}` : ''}`).catch(() => undefined);
      if (r?.status === 200) {
        polls.push(r.ms);
        const last = r.headers['x-taxii-date-added-last'];
        if (typeof last === 'string') after = last;
      } else if (r?.status !== 204) errors++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const rows: Row[] = [];
  const started = Date.now();
  const header = 'min     rss MiB  objects   polls   POST p50/p99 ms    poll p50/p99 ms   errors';
  process.stdout.write(`${header}\n`);
  const timer = setInterval(() => {
    const p = summarise(posts);
    const q = summarise(polls);
    const row: Row = { at: (Date.now() - started) / 60_000, rss: server.memory().rss, published, polls: polls.length, postP50: p.median, postP99: p.p99, pollP50: q.median, pollP99: q.p99, errors };
    rows.push(row);
    posts = [];
    polls = [];
    errors = 0;
    const f = (n: number, w = 7) => (Number.isFinite(n) ? n.toFixed(n < 100 ? 1 : 0) : '-').padStart(w);
    process.stdout.write(`${row.at.toFixed(1).padStart(4)} ${f(row.rss, 11)} ${String(row.published).padStart(8)} ${String(row.polls).padStart(7)}  ${f(row.postP50)} /${f(row.postP99)}  ${f(row.pollP50)} /${f(row.pollP99)}  ${String(row.errors).padStart(6)}\n`);
  }, intervalS * 1000);

  await Promise.all([...Array.from({ length: publishers }, publisher), ...Array.from({ length: pollers }, poller)]);
  clearInterval(timer);
  client.close();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  if (!argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });

  // Flatness: the first interval is warm-up; compare the mean of the last third with the first third.
  const steady = rows.slice(1);
  if (steady.length < 3) {
    process.stdout.write('soak: too short for a verdict (give --minutes with at least 4 intervals)\n');
    return;
  }
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const growth = (pick: (r: Row) => number) => mean(steady.slice(-third).map(pick)) / mean(steady.slice(0, third).map(pick));
  const rssGrowth = growth((r) => r.rss);
  const pollGrowth = growth((r) => r.pollP99);
  const flat = rssGrowth <= maxGrowth && pollGrowth <= maxGrowth;
  process.stdout.write(`soak: ${published} objects published; RSS ×${rssGrowth.toFixed(2)}, poll p99 ×${pollGrowth.toFixed(2)} (last third vs first, allowed ×${maxGrowth}): ${flat ? 'flat' : 'GROWING'}\n`);
  if (!flat) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
