// End to end: two real `meridian` processes on one SQLite file, both with webhook delivery on
// (docs/webhooks.md, "Several instances"). Each subscription is delivered by one instance at a time
// through its lease in the store: while both live, every change reaches every receiver once, in
// change-log order, whichever instance took the POST. The instance holding the leases hangs
// (SIGSTOP: alive but silent, as a lost host looks from elsewhere) in the middle of a backlog: the
// other takes over once the leases run out, from the durable cursors — in order, nothing missing,
// at most the event in flight sent twice; then it is killed (SIGKILL) for good. Then, on two fresh
// processes with a long lease, the one delivering is killed (SIGKILL) mid-backlog: a dead process of
// the same host is taken over without waiting for its leases to run out.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type ServerProcess, killServer, runCli, startServer, stopServer } from '../helpers/process.js';
import { indicator } from '../helpers/server.js';
import { type Receiver, type TestCa, makeCa, startReceiver, until } from '../helpers/webhook-receiver.js';

const TAXII = 'application/taxii+json;version=2.1';
const PASSWORDS = { WRITER_PW: 'writer password long enough', FR_PW: 'fr analyst password long' };
const LAYOUT = `
organisations:
  - { name: interpol-desk, kind: desk }
  - { name: fr-police, kind: member-agency, country: fr }
api_roots:
  - { path: fr, title: France, country: fr }
collections:
  - { api_root: fr, title: Published, alias: published }
accounts:
  - { name: writer, organisation: interpol-desk, roles: [publisher], password_env: WRITER_PW }
  - { name: fr-analyst, organisation: fr-police, roles: [subscriber], password_env: FR_PW }
grants:
  - { api_root: fr, collection: published, account: writer, write: true }
  - { api_root: fr, collection: published, organisation: fr-police, read: true }
`;
const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
const WRITER = basic('writer', PASSWORDS.WRITER_PW);
const FR = basic('fr-analyst', PASSWORDS.FR_PW);
const LEASE_SECONDS = 4;
const SUBSCRIPTIONS = 3;

describe('end to end: two meridian processes on one SQLite file deliver webhooks by turns (leases)', function () {
  this.timeout(180_000);
  let dir: string;
  let ca: TestCa;
  const instances: ServerProcess[] = [];
  const receivers: Receiver[] = [];
  const subscriptionIds: string[] = [];
  let env: NodeJS.ProcessEnv;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-webhook-instances-'));
    ca = makeCa(dir);
    env = {
      MERIDIAN_DATA_DIR: path.join(dir, 'data'), MERIDIAN_LOG_LEVEL: 'info', ...PASSWORDS,
      MERIDIAN_WEBHOOK_ALLOW_TARGETS: '127.0.0.1', MERIDIAN_WEBHOOK_CA_FILE: ca.caFile, MERIDIAN_WEBHOOK_POLL_MS: '50',
      // A short lease, so the take-over after a SIGKILL happens within the test (an attempt must end inside it).
      MERIDIAN_WEBHOOK_TIMEOUT_SECONDS: '2', MERIDIAN_WEBHOOK_LEASE_SECONDS: String(LEASE_SECONDS), MERIDIAN_WEBHOOK_RETRY_SECONDS: '0.2,0.2,0.2',
    };
    writeFileSync(path.join(dir, 'site.yaml'), LAYOUT);
    const applied = await runCli(['apply', path.join(dir, 'site.yaml')], env);
    expect(applied.code, applied.stderr).to.equal(0);
    instances.push(...(await Promise.all([startServer(env), startServer(env)])));
  });
  after(async function () {
    await Promise.all(instances.map((i) => stopServer(i.child)));
    for (const r of receivers) await r.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * SIGSTOP, at a moment the process holds no SQLite write transaction: one frozen inside a write
   * blocks every writer of the file, whatever the leases (SQLite; docs/operations.md), which is not
   * what this test is about. A stop that lands inside one is undone and tried again a moment later.
   */
  async function stopOutsideWrite(i: ServerProcess): Promise<void> {
    const db = new Database(path.join(dir, 'data', 'meridian.sqlite'), { timeout: 0 });
    try {
      for (let attempt = 0; ; attempt++) {
        i.child.kill('SIGSTOP');
        try {
          db.exec('BEGIN IMMEDIATE; ROLLBACK');
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 200) throw err;
        }
        i.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      db.close();
    }
  }

  async function api(i: ServerProcess, method: string, url: string, auth: string, body?: unknown, accept = 'application/json') {
    const res = await fetch(`${i.base}${url}`, { method, headers: { Authorization: auth, Accept: accept, ...(body !== undefined ? { 'Content-Type': url.includes('/objects/') ? TAXII : 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function post(i: ServerProcess, objects: unknown[]) {
    const res = await api(i, 'POST', '/fr/collections/published/objects/', WRITER, { objects }, TAXII);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    await until(async () => (await api(i, 'GET', `/fr/status/${res.body.id}/`, WRITER, undefined, TAXII)).body.status === 'complete', 60_000, 'the submission');
  }

  /** The collection's change ids in log order (what every receiver must see, in this order). */
  async function changeIds(): Promise<string[]> {
    const store = new SqliteStore({ location: path.join(dir, 'data') });
    try {
      const collection = (await store.listCollections('fr'))[0]!;
      const ids: string[] = [];
      for (let after = 0, more = true; more;) {
        const page = await store.readChanges(collection.id, after, 1000);
        ids.push(...page.items.map((c) => c.id));
        more = page.more;
        after = page.items.at(-1)?.dateAdded ?? after;
      }
      return ids;
    } finally {
      await store.close();
    }
  }

  /** Who holds each subscription's delivery lease, read from the shared file. */
  function leaseOwners(): Map<string, string> {
    const db = new Database(path.join(dir, 'data', 'meridian.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT subscription_id, owner FROM webhook_leases').all() as Array<{ subscription_id: string; owner: string }>;
      return new Map(rows.map((r) => [r.subscription_id, r.owner]));
    } finally {
      db.close();
    }
  }

  const firstSeen = (r: Receiver) => [...new Set(r.received.map((x) => x.id))];
  /** The process id in a lease owner ("host:pid:nonce"). */
  const pidOf = (owner: string) => Number(owner.split(':').at(-2));

  /** From now on, when each receiver is called (answering 204 after 10 ms). */
  function recordArrivals(): number[][] {
    const arrivals: number[][] = receivers.map(() => []);
    for (const [n, r] of receivers.entries()) {
      r.respond = () => {
        arrivals[n]!.push(Date.now());
        return { status: 204, delayMs: 10 };
      };
    }
    return arrivals;
  }

  /** The first call a receiver got after an instance stopped (calls already on their way at that moment aside). */
  const resumedAt = (arrivals: number[][], n: number, stoppedAt: number) => arrivals[n]!.find((t) => t > stoppedAt + 250)!;

  /** Failed attempts the survivor logged for receiver n's subscription (each one is sent again). */
  async function failedAttempts(survivor: ServerProcess, n: number): Promise<number> {
    const log = await api(survivor, 'GET', `/admin/v1/subscriptions/${subscriptionIds[n]}/deliveries?limit=1000`, FR);
    return (log.body.deliveries as Array<{ outcome: string }>).filter((d) => d.outcome === 'failure').length;
  }

  it('both alive: every change reaches each receiver exactly once, in change-log order, whichever instance took the POST', async function () {
    for (let n = 0; n < SUBSCRIPTIONS; n++) {
      const r = await startReceiver(ca);
      receivers.push(r);
      // Created through either instance: the store is shared.
      const res = await api(instances[n % 2]!, 'POST', '/admin/v1/subscriptions', FR, { url: r.url, collections: ['fr/published'] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      r.secrets = [res.body.secret];
      subscriptionIds.push(res.body.id);
    }
    for (let n = 0; n < 6; n++) await post(instances[n % 2]!, Array.from({ length: 8 }, (_, k) => indicator({ name: `batch ${n} #${k}` })));
    const ids = await changeIds();
    expect(ids).to.have.length(48);
    for (const r of receivers) await until(() => r.received.length >= ids.length, 30_000, 'every change at every receiver');
    await new Promise((r) => setTimeout(r, 1000)); // a second instance delivering too would show up by now
    for (const r of receivers) {
      expect(r.received.map((x) => x.id), 'once each, in order').to.deep.equal(ids);
      expect(r.received.every((x) => x.verified && x.status === 204)).to.equal(true);
    }
    const owners = leaseOwners();
    expect(owners.size).to.equal(SUBSCRIPTIONS);
    for (const owner of owners.values()) expect(instances.map((i) => i.child.pid)).to.include(Number(owner.split(':').at(-2)));
  });

  it('the delivering instance hangs with a backlog in flight: the other takes over once the leases run out — in order, nothing missing; then SIGKILL', async function () {
    const arrivals = recordArrivals();
    const before = receivers.map((r) => r.received.length);
    // The instance holding most leases hangs; the other one keeps serving and takes them over.
    const leases = leaseOwners();
    const owners = [...leases.values()];
    const counts = instances.map((i) => owners.filter((o) => pidOf(o) === i.child.pid).length);
    const victim = instances[counts[0]! >= counts[1]! ? 0 : 1]!;
    const survivor = instances.find((i) => i !== victim)!;
    await post(survivor, Array.from({ length: 120 }, (_, k) => indicator({ name: `backlog #${k}` })));
    const ids = await changeIds();
    expect(ids).to.have.length(48 + 120);
    await until(() => receivers.every((r, n) => r.received.length >= before[n]! + 10), 30_000, 'deliveries under way');
    const stoppedAt = Date.now();
    await stopOutsideWrite(victim);
    const atHang = receivers.map((r) => r.received.length);
    for (const r of receivers) await until(() => firstSeen(r).length >= ids.length, 60_000, 'the backlog after the take-over');
    const completeAfterMs = Date.now() - stoppedAt;
    await new Promise((r) => setTimeout(r, 1000)); // nothing more is coming
    await killServer(victim.child);
    for (const [n, r] of receivers.entries()) {
      expect(firstSeen(r), 'every change, in order').to.deep.equal(ids);
      // At-least-once: what was in flight at the hang (an attempt answered but not yet recorded) comes
      // twice, and so does an attempt that timed out on this busy machine (a logged failure, retried).
      const failures = await failedAttempts(survivor, n);
      expect(r.received.length - ids.length, `receiver ${n}: sent again (${failures} failed attempts logged)`).to.be.at.most(1 + failures);
      const ordered = r.received.map((x) => ids.indexOf(x.id));
      for (let k = 1; k < ordered.length; k++) {
        // A repeat goes back at most to the event in flight, then on in order.
        expect(ordered[k]!, `receiver ${n} at ${k}`).to.be.at.least(ordered[k - 1]! - 1);
      }
      expect(r.received.every((x) => x.verified)).to.equal(true);
      expect(atHang[n]).to.be.below(before[n]! + 120); // the hang did come in the middle of the backlog
    }
    expect(survivor.log()).to.match(/webhook delivery taken over from another instance/);
    for (const owner of leaseOwners().values()) expect(pidOf(owner)).to.equal(survivor.child.pid);
    // Nothing went out between the hang and the leases running out (renewed once half was left): a
    // holder that may still be alive is never doubled. (Requests already on their way at the hang aside.)
    const taken = receivers.map((_, n) => n).filter((n) => pidOf(leases.get(subscriptionIds[n]!)!) === victim.child.pid);
    expect(taken).to.have.length.greaterThan(0);
    for (const n of taken) {
      expect(resumedAt(arrivals, n, stoppedAt) - stoppedAt, `receiver ${n}`).to.be.at.least(LEASE_SECONDS * 500);
    }
    console.log(`      the other instance took over; the backlog was complete ${(completeAfterMs / 1000).toFixed(1)} s after the hang (lease ${LEASE_SECONDS} s)`);
  });

  it('SIGKILL the delivering instance mid-backlog: another on the same host takes over without waiting for its lease — in order, nothing missing', async function () {
    // Fresh instances with a long lease: a take-over sooner than half of it can only be the
    // dead-process path (a holder renews once half is left, so its lease outlives it by at least that).
    const longLease = 30;
    await Promise.all(instances.map((i) => stopServer(i.child))); // a clean stop gives the leases up
    const pair = await Promise.all([0, 1].map(() => startServer({ ...env, MERIDIAN_WEBHOOK_LEASE_SECONDS: String(longLease) })));
    instances.push(...pair);
    const arrivals = recordArrivals();
    const before = receivers.map((r) => r.received.length);
    await post(pair[0]!, Array.from({ length: 60 }, (_, k) => indicator({ name: `after the restart #${k}` })));
    const ids = await changeIds();
    await until(() => receivers.every((r, n) => r.received.length >= before[n]! + 5), 30_000, 'deliveries under way');
    const leases = leaseOwners();
    const victim = pair.find((i) => [...leases.values()].some((o) => pidOf(o) === i.child.pid))!;
    const survivor = pair.find((i) => i !== victim)!;
    const taken = receivers.map((_, n) => n).filter((n) => pidOf(leases.get(subscriptionIds[n]!)!) === victim.child.pid);
    const killedAt = Date.now();
    await killServer(victim.child);
    for (const r of receivers) await until(() => firstSeen(r).length >= ids.length, 60_000, 'the backlog after the kill');
    for (const [n, r] of receivers.entries()) {
      expect(firstSeen(r), 'every change, in order').to.deep.equal(ids);
      const failures = await failedAttempts(survivor, n);
      const repeats = (list: typeof r.received) => list.length - new Set(list.map((x) => x.id)).size;
      // Repeats of the earlier tests, plus at most the event in flight at the kill and logged failures.
      expect(repeats(r.received), `receiver ${n}`).to.be.at.most(repeats(r.received.slice(0, before[n])) + 1 + failures);
    }
    const resumedMs = Math.max(...taken.map((n) => resumedAt(arrivals, n, killedAt) - killedAt));
    expect(resumedMs, 'every taken-over receiver resumed').to.be.below((longLease / 2) * 1000);
    expect(survivor.log()).to.match(/webhook delivery taken over from another instance/);
    console.log(`      the other instance took over ${(resumedMs / 1000).toFixed(1)} s after the kill (its lease had at least ${longLease / 2} s left)`);
  });
});
