// `meridian poll --url URL --collection REF --out FILE|DIR`: incremental copy of a collection from
// any TAXII 2.1 server. The cursor (the last X-TAXII-Date-Added-Last, and the change feed's) is kept
// in a state file, so each run fetches only what was added since. Output: a bundle (.json), JSON
// Lines (.jsonl) or a folder with one file per object. Where the server offers the change feed,
// withdrawals are applied (the object's file is removed, or it leaves the bundle) and logged.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Collection, TaxiiError, type StixObject } from '../../client/index.js';
import { EXIT, Progress, type RemoteOptions, RemoteUsageError, clientOf, remoteFailure } from './taxii-remote.js';

export interface PollOptions extends RemoteOptions {
  out: string;
  since?: string;
  type?: string[];
  follow?: boolean;
  interval?: number;
  state?: string;
  quiet?: boolean;
  json?: boolean;
}

export interface PollIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  tty: boolean;
  /** Aborted on SIGINT/SIGTERM by the CLI, to end --follow cleanly. */
  signal?: AbortSignal;
}

type OutputKind = 'bundle' | 'jsonl' | 'files';
interface PollState { version: 1; url: string; collection: string; objects_after?: string; changes_after?: string }

function kindOf(out: string): OutputKind {
  if (/\.json$/i.test(out)) return 'bundle';
  if (/\.(jsonl|ndjson)$/i.test(out)) return 'jsonl';
  if (existsSync(out) && !statSync(out).isDirectory()) throw new RemoteUsageError(`--out ${out}: a file must end in .json (bundle) or .jsonl (JSON Lines); a folder gets one file per object`);
  return 'files';
}

/** A file name for an object id (ids are type--uuid: safe, but never trust a server's). */
function fileOf(dir: string, id: string): string {
  return path.join(dir, `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

class Output {
  private bundle: Map<string, StixObject> | undefined;
  constructor(readonly kind: OutputKind, readonly out: string) {
    if (kind === 'files') mkdirSync(out, { recursive: true });
    else mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    if (kind === 'bundle') {
      this.bundle = new Map();
      if (existsSync(out)) {
        try {
          for (const o of (JSON.parse(readFileSync(out, 'utf8')) as { objects?: StixObject[] }).objects ?? []) this.bundle.set(o.id, o);
        } catch {
          throw new RemoteUsageError(`--out ${out}: exists but is not a bundle this command wrote`);
        }
      }
    }
  }

  add(objects: StixObject[]): void {
    if (this.kind === 'files') for (const o of objects) writeAtomic(fileOf(this.out, o.id), `${JSON.stringify(o, null, 2)}\n`);
    else if (this.kind === 'jsonl') appendFileSync(this.out, objects.map((o) => `${JSON.stringify(o)}\n`).join(''));
    else for (const o of objects) this.bundle!.set(o.id, o);
  }

  /** True when there was something to remove (JSON Lines is append-only: the withdrawal is only logged). */
  withdraw(id: string): boolean {
    if (this.kind === 'files') {
      const f = fileOf(this.out, id);
      if (!existsSync(f)) return false;
      rmSync(f);
      return true;
    }
    if (this.kind === 'bundle') return this.bundle!.delete(id);
    return false;
  }

  flush(): void {
    if (this.kind === 'bundle') writeAtomic(this.out, `${JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [...this.bundle!.values()] })}\n`);
  }
}

export async function runPoll(o: PollOptions, io: PollIo): Promise<number> {
  try {
    return await poll(o, io);
  } catch (err) {
    if (io.signal?.aborted) return EXIT.ok;
    const f = remoteFailure(err);
    if (!f) throw err;
    if (o.json) io.stdout(`${JSON.stringify({ ok: false, error: f.message })}\n`);
    io.stderr(`meridian poll: ${f.message}\n`);
    return f.code;
  }
}

async function poll(o: PollOptions, io: PollIo): Promise<number> {
  const kind = kindOf(o.out);
  if (o.since !== undefined && Number.isNaN(Date.parse(o.since))) throw new RemoteUsageError(`--since must be an RFC 3339 timestamp, got "${o.since}"`);
  const stateFile = o.state ?? (kind === 'files' ? path.join(o.out, '.meridian-poll.json') : `${o.out}.poll-state.json`);
  const client = clientOf(o, io.env, o.quiet ? undefined : (line) => io.stderr(`${line}\n`));
  try {
    const root = await client.apiRoot(undefined, io.signal ? { signal: io.signal } : {});
    const collection = await root.collection(o.collection);
    let state: PollState = { version: 1, url: root.url.href, collection: collection.id };
    if (existsSync(stateFile)) {
      try {
        state = JSON.parse(readFileSync(stateFile, 'utf8')) as PollState;
      } catch {
        throw new RemoteUsageError(`${stateFile}: not a poll state file`);
      }
      if (state.collection !== collection.id || state.url !== root.url.href) throw new RemoteUsageError(`${stateFile} belongs to another collection (${state.collection} at ${state.url}); give another --out or --state`);
    }
    const output = new Output(kind, o.out);
    let total = 0;
    let withdrawn = 0;
    const started = Date.now();
    for (;;) {
      const round = await once(collection, output, state, o, io);
      total += round.objects;
      withdrawn += round.withdrawn;
      output.flush();
      if (kind !== 'files') mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
      writeAtomic(stateFile, JSON.stringify(state));
      if (!o.follow || io.signal?.aborted) break;
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, (o.interval ?? 30) * 1000);
          io.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
        });
      } catch {
        break;
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const report = { ok: true, objects: total, withdrawn, seconds: Number(seconds.toFixed(2)), objects_per_second: Math.round(total / Math.max(seconds, 0.001)), cursor: state.objects_after ?? null, out: o.out, format: kind };
    if (o.json) io.stdout(`${JSON.stringify(report)}\n`);
    else io.stdout(`${total} objects written to ${o.out} (${kind}), ${withdrawn} withdrawn, in ${seconds.toFixed(1)} s (${report.objects_per_second} objects/s); cursor ${state.objects_after ?? 'none'}\n`);
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** One round: the objects added since the cursor, then the withdrawals the change feed lists. */
async function once(collection: Collection, output: Output, state: PollState, o: PollOptions, io: PollIo): Promise<{ objects: number; withdrawn: number }> {
  const progress = new Progress(io.stderr, io.tty, o.quiet === true || o.json === true, 'objects');
  const signal = io.signal ? { signal: io.signal } : {};
  const after = state.objects_after ?? o.since;
  let objects = 0;
  for await (const page of collection.objectPages({ ...(after ? { addedAfter: after } : {}), limit: 1000, ...(o.type?.length ? { type: o.type } : {}) }, signal)) {
    output.add(page.items);
    objects += page.items.length;
    // A page without the header (some servers omit it when empty) leaves the cursor where it was.
    if (page.dateAddedLast) state.objects_after = page.dateAddedLast;
    progress.update(objects, undefined);
  }
  progress.done();
  let withdrawn = 0;
  try {
    // The last change per object decides: withdrawn then published again is kept. Only the ids whose
    // last change so far is a withdrawal are held (a feed of millions of publications costs nothing).
    const withdrawals = new Set<string>();
    const from = state.changes_after ?? o.since;
    for await (const page of collection.changePages({ ...(from ? { addedAfter: from } : {}), limit: 1000 }, signal)) {
      for (const c of page.items) {
        if (c.type === 'object.withdrawn') withdrawals.add(c.object.id);
        else withdrawals.delete(c.object.id);
      }
      if (page.dateAddedLast) state.changes_after = page.dateAddedLast;
    }
    for (const id of withdrawals) {
      const removed = output.withdraw(id);
      withdrawn++;
      if (!o.quiet && !o.json) io.stderr(`withdrawn: ${id}${removed ? ' (removed from the output)' : output.kind === 'jsonl' ? ' (JSON Lines are append-only: not removed)' : ''}\n`);
    }
  } catch (err) {
    // No change feed on this server (it is an extension): objects only.
    if (!(err instanceof TaxiiError) || (err.http_status !== 404 && err.http_status !== 405 && err.http_status !== 406)) throw err;
  }
  return { objects, withdrawn };
}
