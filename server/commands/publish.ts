// `meridian publish FILE|DIR|- --url URL --collection REF`: streams STIX objects (bundles,
// envelopes or JSON Lines) to any TAXII 2.1 server: validated locally with the server's own pipeline,
// cut into envelopes under the API root's max_content_length, statuses awaited, failures listed.
// A state file records the acknowledged envelopes, so a rerun after an interruption sends none of
// them again (envelopes are cut the same way each run: same input, same limits, kept in the file).
// Memory stays flat whatever the input's size: objects stream through, the state file holds a count
// and the few envelopes acknowledged out of order, and failures are printed as they come.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Collection, Status, StixObject } from '../../client/index.js';
import { processObject } from 'stix2-validator-ts';
import { EXIT, Progress, RemoteRefusedError, type RemoteOptions, RemoteUsageError, clientOf, remoteFailure } from './taxii-remote.js';
import { InputError, type InputFormat, readObjects } from './stix-stream.js';

export interface PublishOptions extends RemoteOptions {
  validate?: boolean;
  state?: string;
  fresh?: boolean;
  quiet?: boolean;
  json?: boolean;
  format?: InputFormat;
  maxObjects?: number;
  concurrency?: number;
}

export interface PublishIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Progress is drawn as a redrawn bar (a terminal) or as lines. */
  tty: boolean;
}

interface Failure { id: string | undefined; index?: number; version?: string; message: string; where: 'local' | 'server' }

interface Outcome { objects: number; success: number; failures: number }

export interface StateFile {
  version: 2;
  url: string;
  collection: string;
  inputs: string[];
  maxBytes: number;
  maxObjects: number;
  /** Envelopes 0 … through − 1 all have a final status; `acknowledged` sums their outcomes. */
  through: number;
  acknowledged: Outcome;
  /** Envelope number → outcome, for those final beyond `through` (out of order: at most --concurrency). */
  done: Record<string, Outcome>;
}

type Identity = Omit<StateFile, 'version' | 'through' | 'acknowledged' | 'done'>;

/** At most this many failures are listed in the --json report (all are counted; the text output prints each). */
const LISTED_FAILURES = 1000;

/** The envelope's text grows by an object's text and a comma; the wrapper is {"objects":[…]}. */
const WRAPPER = Buffer.byteLength('{"objects":[]}');

function inputsOf(args: string[]): string[] {
  if (args.length === 0) throw new RemoteUsageError('no input (give files, a directory, or - for standard input)');
  const out: string[] = [];
  for (const a of args) {
    if (a === '-') {
      out.push(a);
      continue;
    }
    let st;
    try {
      st = statSync(a);
    } catch {
      throw new RemoteUsageError(`${a}: no such file or directory`);
    }
    if (st.isDirectory()) out.push(...readdirSync(a).filter((f) => /\.(json|jsonl|ndjson)$/i.test(f)).sort().map((f) => path.join(a, f)));
    else out.push(a);
  }
  if (out.length === 0) throw new RemoteUsageError(`no .json, .jsonl or .ndjson files in ${args.join(', ')}`);
  return out;
}

function loadState(file: string, expect: Identity, fresh: boolean): StateFile {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // none yet
  }
  if (text === undefined || fresh) return { version: 2, ...expect, through: 0, acknowledged: { objects: 0, success: 0, failures: 0 }, done: {} };
  let s: StateFile;
  try {
    s = JSON.parse(text) as StateFile;
  } catch {
    throw new RemoteUsageError(`${file}: not a publish state file (delete it, or give --fresh)`);
  }
  if (s.version !== 2) throw new RemoteUsageError(`${file}: written by another version of meridian publish (give --fresh to send everything again)`);
  if (s.url !== expect.url || s.collection !== expect.collection || JSON.stringify(s.inputs) !== JSON.stringify(expect.inputs)) {
    throw new RemoteUsageError(`${file} belongs to another publish (${s.inputs.join(', ')} to ${s.url} ${s.collection}); give --state for this one, or --fresh`);
  }
  return s;
}

/** Records an envelope's final outcome, folding the envelopes now contiguous into the count. */
export function acknowledge(s: StateFile, n: number, outcome: Outcome): void {
  s.done[n] = outcome;
  for (let next = s.done[s.through]; next; next = s.done[s.through]) {
    s.acknowledged.objects += next.objects;
    s.acknowledged.success += next.success;
    s.acknowledged.failures += next.failures;
    delete s.done[s.through++];
  }
}

function saveState(file: string, s: StateFile): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(s));
  renameSync(tmp, file);
}

/** Failures: printed as they come, or (--json) counted with the first LISTED_FAILURES kept for the report. */
class Failures {
  count = 0;
  readonly listed: Failure[] = [];
  constructor(private readonly io: PublishIo, private readonly json: boolean, private readonly progress: () => Progress | undefined) {}

  /** `objects`: how many objects the entry stands for (a server that counts failures it does not list). */
  add(f: Failure, objects = 1): void {
    this.count += objects;
    if (this.json) {
      if (this.listed.length < LISTED_FAILURES) this.listed.push(f);
      return;
    }
    this.progress()?.interrupt();
    this.io.stdout(`FAILED ${f.id ?? `(object ${f.index ?? '?'})`}${f.version ? ` ${f.version}` : ''} [${f.where}]: ${f.message}\n`);
  }

  /** The --json report's fields. */
  report(): { failed: number; failures: Failure[] } {
    return { failed: this.count, failures: this.listed };
  }
}

export async function runPublish(args: string[], o: PublishOptions, io: PublishIo): Promise<number> {
  let progress: Progress | undefined;
  const failures = new Failures(io, o.json === true, () => progress);
  try {
    return await publish(args, o, io, failures, (p) => (progress = p));
  } catch (err) {
    const f = err instanceof InputError ? { code: EXIT.usage, message: err.message } : remoteFailure(err);
    if (!f) throw err;
    progress?.interrupt();
    if (o.json) io.stdout(`${JSON.stringify({ ok: false, error: f.message, ...failures.report() })}\n`);
    io.stderr(`meridian publish: ${f.message}\n`);
    return f.code;
  }
}

async function publish(args: string[], o: PublishOptions, io: PublishIo, failures: Failures, share: (p: Progress) => void): Promise<number> {
  const inputs = inputsOf(args);
  if (inputs.includes('-') && inputs.length > 1) throw new RemoteUsageError('- (standard input) cannot be combined with files');
  const stateFile = o.state ?? (inputs[0] === '-' ? undefined : `${inputs.length === 1 ? inputs[0] : args[0]!.replace(/\/+$/, '')}.publish-state.json`);
  const client = clientOf(o, io.env, o.quiet ? undefined : (line) => io.stderr(`${line}\n`));
  try {
    const root = await client.apiRoot();
    const collection = await root.collection(o.collection);
    if (!collection.info.can_write) throw new RemoteRefusedError(`collection ${o.collection} (${collection.id}): this account may not write to it`);
    // Room for the envelope's wrapper; at least 4 KiB, so a tiny limit still makes progress.
    const maxBytes = Math.max(4096, root.info.max_content_length);
    const maxObjects = o.maxObjects ?? 1000;
    const state = loadState(stateFile ?? '', { url: root.url.href, collection: collection.id, inputs: inputs.map((i) => (i === '-' ? '-' : path.resolve(i))), maxBytes, maxObjects }, o.fresh === true || stateFile === undefined);
    const totalBytes = inputs.reduce((n, i) => n + (i === '-' ? 0 : statSync(i).size), 0);
    const progress = new Progress(io.stderr, io.tty, o.quiet === true || o.json === true, 'objects');
    share(progress);
    let read = 0;
    let sent = 0;
    let skipped = 0;
    // What earlier runs had acknowledged; their envelopes are skipped below.
    let succeeded = state.acknowledged.success + Object.values(state.done).reduce((n, d) => n + d.success, 0);
    let bytesBefore = 0;
    let envelope = 0;
    const inflight = new Set<Promise<void>>();
    const concurrency = o.concurrency ?? 2;

    const post = async (n: number, parts: string[], ids: Array<string | undefined>) => {
      const body = `{"objects":[${parts.join(',')}]}`;
      let status: Status;
      try {
        status = await collection.add(body);
      } catch (err) {
        // A 413 despite the split: the server's limit is lower than it advertises.
        const e = err as { http_status?: number };
        if (e.http_status === 413) throw new RemoteUsageError(`the server refused an envelope of ${Buffer.byteLength(body)} bytes as too large although its max_content_length is ${root.info.max_content_length}`);
        throw err;
      }
      for (const f of status.failures ?? []) failures.add({ id: f.id, version: f.version, message: f.message ?? 'failed', where: 'server' });
      const unlisted = status.failure_count - (status.failures?.length ?? 0);
      if (unlisted > 0) failures.add({ id: undefined, message: `${unlisted} more failures in status ${status.id} (not listed by the server)`, where: 'server' }, unlisted);
      sent += ids.length;
      succeeded += status.success_count;
      acknowledge(state, n, { objects: ids.length, success: status.success_count, failures: status.failure_count });
      if (stateFile) saveState(stateFile, state);
    };
    const flush = async (parts: string[], ids: Array<string | undefined>) => {
      const n = envelope++;
      if (parts.length === 0) return;
      if (n < state.through || state.done[n]) {
        skipped += ids.length;
        return;
      }
      while (inflight.size >= concurrency) await Promise.race(inflight);
      const p = post(n, parts, ids).finally(() => inflight.delete(p));
      inflight.add(p);
    };

    let parts: string[] = [];
    let ids: Array<string | undefined> = [];
    let size = WRAPPER;
    for (const input of inputs) {
      for await (const r of readObjects(input, io.stdin, o.format)) {
        read++;
        let id: string | undefined;
        if (o.validate !== false) {
          const outcome = processObject(r.object);
          id = outcome.id;
          if (!outcome.ok) {
            const errors = outcome.findings.filter((f) => f.severity === 'error');
            failures.add({ id, index: r.index, message: errors.map((f) => `${f.code} ${f.path || '/'}: ${f.message}`).join('; '), where: 'local' });
            continue;
          }
          // The original is sent, not the normalised form: the server normalises it the same way.
        } else {
          id = typeof (r.object as StixObject)?.id === 'string' ? (r.object as StixObject).id : undefined;
        }
        const text = JSON.stringify(r.object);
        const bytes = Buffer.byteLength(text);
        if (WRAPPER + bytes > maxBytes) {
          failures.add({ id, index: r.index, message: `larger (${bytes} bytes) than the API root's max_content_length (${root.info.max_content_length})`, where: 'local' });
          continue;
        }
        if (parts.length >= maxObjects || size + bytes + (parts.length ? 1 : 0) > maxBytes) {
          await flush(parts, ids);
          parts = [];
          ids = [];
          size = WRAPPER;
        }
        parts.push(text);
        ids.push(id);
        size += bytes + (parts.length > 1 ? 1 : 0);
        progress.update(read, totalBytes ? (bytesBefore + r.bytes) / totalBytes : undefined, skipped ? ` (${skipped} already sent)` : '');
      }
      if (input !== '-') bytesBefore += statSync(input).size;
    }
    await flush(parts, ids);
    await Promise.all(inflight);
    progress.done();
    const elapsed = progress.elapsed();
    const objectsPerSecond = Math.round(read / Math.max(elapsed, 0.001));
    if (o.json) io.stdout(`${JSON.stringify({ ok: failures.count === 0, read, sent, skipped_already_sent: skipped, succeeded, envelopes: envelope, seconds: Number(elapsed.toFixed(2)), objects_per_second: objectsPerSecond, collection: collection.id, api_root: root.url.href, ...(stateFile ? { state: stateFile } : {}), ...failures.report() })}\n`);
    else io.stdout(`${read} read, ${sent} sent${skipped ? `, ${skipped} already sent earlier (state ${stateFile})` : ''}, ${succeeded} accepted, ${failures.count} failed, in ${elapsed.toFixed(1)} s (${objectsPerSecond} objects/s)\n`);
    return failures.count ? EXIT.someFailed : EXIT.ok;
  } finally {
    client.close();
  }
}

export type { Collection };
