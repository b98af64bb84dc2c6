// SIGKILL during many concurrent ingests (small envelopes and a multi-MB one), at a random point:
// after the restart every envelope that got a 202 has a complete status whose successes are all
// stored and whose failures say to resend — nothing acknowledged lost silently, no duplicate
// versions, no status pending forever.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORD = 'crash password, long enough';
const auth = `Basic ${Buffer.from(`vendor:${PASSWORD}`).toString('base64')}`;
const headers = { Authorization: auth, Accept: TAXII };

interface Status {
  id: string;
  status: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: Array<{ id: string; version?: string }>;
  failures?: Array<{ id: string; message?: string }>;
}

describe('end to end: SIGKILL during concurrent ingests', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-crash-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged envelope is whole or says what to resend after the restart', async function () {
    // Envelopes above 100 objects are acknowledged before they are processed: the crash can catch them midway.
    // Ingest slots off: all 14 envelopes of one account must be in flight at once.
    const env = { MERIDIAN_DATA_DIR: dir, MERIDIAN_LOG_LEVEL: 'info', MERIDIAN_SYNC_INGEST_LIMIT: '100', MERIDIAN_INGEST_JOBS_PER_ACCOUNT: '0' };
    expect((await runCli(['account', 'add', 'vendor', '--password-stdin'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await runCli(['root', 'add', 'fr', '--title', 'France', '--max-content-length', '50000000'], env)).code).to.equal(0);
    const collectionId = (await runCli(['collection', 'add', '--root', 'fr', '--title', 'Published'], env)).stdout.trim();
    expect((await runCli(['grant', 'vendor', '--collection', collectionId, '--read', '--write'], env)).code).to.equal(0);
    const server = await startServer(env);

    let acks = 0;
    const sizes = [...Array.from({ length: 10 }, () => 20), 2000, 2000, 2000, 6000]; // the large ones are MBs, processed after their 202
    const sent = sizes.map((n) =>
      fetch(`${server.base}/fr/collections/${collectionId}/objects/`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': TAXII },
        body: JSON.stringify({ objects: Array.from({ length: n }, () => ({ ...indicator(), description: 'x'.repeat(800) })) }),
      }).then(
        async (res) => {
          if (res.status !== 202) return undefined;
          acks++;
          return (await res.json()) as Status;
        },
        () => undefined, // cut by the kill: never acknowledged
      ),
    );
    // Killed at a random point once the small envelopes and two large ones are acknowledged (large ones are then mid-ingest).
    for (let i = 0; acks < 12 && i < 1000; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 400)));
    server.child.kill('SIGKILL');
    const acknowledged = (await Promise.all(sent)).filter((s): s is Status => s !== undefined);

    const again = await startServer(env);
    try {
      // Resumed ingests finish in the background: wait until no status is pending.
      const statuses: Status[] = [];
      for (const a of acknowledged) {
        for (let i = 0; ; i++) {
          const s = (await (await fetch(`${again.base}/fr/status/${a.id}/`, { headers })).json()) as Status;
          if (s.status === 'complete') {
            statuses.push(s);
            break;
          }
          expect(i, `status ${a.id} still pending`).to.be.below(200);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      let stored = 0;
      for (const s of statuses) {
        expect(s.success_count + s.failure_count, s.id).to.equal(s.total_count);
        expect(s.pending_count).to.equal(0);
        for (const f of s.failures ?? []) expect(f.message, s.id).to.match(/again|resend/i);
        stored += s.success_count;
      }
      // Every stored success is there once: the manifest has no duplicate (id, version).
      const seen = new Set<string>();
      let url: string | undefined = `${again.base}/fr/collections/${collectionId}/manifest/?limit=1000`;
      while (url) {
        const res: Response = await fetch(url, { headers });
        const page = (await res.json()) as { objects?: Array<{ id: string; version: string }>; more?: boolean; next?: string };
        for (const o of page.objects ?? []) {
          const key = `${o.id}@${o.version}`;
          expect(seen.has(key), key).to.equal(false);
          seen.add(key);
        }
        url = page.more && page.next ? `${again.base}/fr/collections/${collectionId}/manifest/?limit=1000&next=${encodeURIComponent(page.next)}` : undefined;
      }
      // Objects of unacknowledged envelopes may be stored too (processed, answer lost): at least every success is.
      expect(seen.size).to.be.at.least(stored);
      const resumed = /"resumed":(\d+)/.exec(again.log())?.[1] ?? '?';
      process.stdout.write(`      (killed with ${acknowledged.length} of ${sizes.length} envelopes acknowledged, ${resumed} resumed at the restart; ${stored} objects stored by them, ${seen.size} in all)\n`);
    } finally {
      await stopServer(again.child);
    }
  });
});
