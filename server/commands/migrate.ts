// `meridian migrate --from DIR --to mongodb://…`: moves an embedded (SQLite) store into
// MongoDB. Resumable: records already in MongoDB are skipped, objects continue after the highest
// date_added already copied (and are upserted by identity, so a re-run repeats nothing). Objects keep
// their date_added, so clients' added_after positions stay valid. Counts are verified at the end.
// Status resources (submissions) are not moved: they are short-lived (§4.3); stop the server first.
import path from 'node:path';
import Database from 'better-sqlite3';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { type Store, StoreConflictError } from '../../collections/store.js';

export interface MigrateOptions {
  /** Data directory of the embedded store (holds meridian.sqlite). */
  from: string;
  /** mongodb:// or mongodb+srv:// URI of the target. */
  to: string;
  /** Objects per batch. */
  batchSize?: number;
  /** Where progress goes (a bar on a TTY, plain lines otherwise). */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface MigrateReport {
  /** Per kind of record: how many the source has and the target has after the run. */
  counts: Record<string, { source: number; target: number }>;
  ok: boolean;
}

/** Ignores "already exists": the record was copied by an earlier (interrupted) run. */
async function once(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
  }
}

/** A one-line progress bar: redrawn in place on a terminal, a line per 10 % otherwise. */
function progressBar(out: MigrateOptions['progress'], label: string, total: number) {
  let lastTenth = -1;
  return (done: number) => {
    if (!out) return;
    const share = total === 0 ? 1 : done / total;
    if (out.isTTY) {
      const width = 30;
      const filled = Math.round(share * width);
      out.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done >= total ? '\n' : ''}`);
    } else if (Math.floor(share * 10) > lastTenth || done >= total) {
      lastTenth = Math.floor(share * 10);
      out.write(`${label}: ${done}/${total}\n`);
    }
  };
}

interface ObjectRow {
  date_added: number; id: string; type: string; version: string | null; version_key: string; spec_version: string;
  media_type: string; tlp: number; submission_id: string | null; warnings: string | null; json: string;
}

export async function migrate(options: MigrateOptions): Promise<MigrateReport> {
  const batchSize = options.batchSize ?? 1000;
  const out = options.progress;
  const source: Store = new SqliteStore({ location: options.from });
  // The objects are read from the file directly: the Store interface has no way to list them with
  // their date_added, TLP rank and provenance across spec versions in one pass.
  const raw = new Database(path.join(options.from, 'meridian.sqlite'), { readonly: true, fileMustExist: true });
  const target = new MongoStore({ uri: options.to, log: (level, message) => out?.write(`${level}: ${message}\n`) });
  const counts: MigrateReport['counts'] = {};
  try {
    const pending = await source.pendingSubmissions();
    if (pending.length > 0) throw new Error(`${pending.length} submission(s) are still pending in ${options.from}: start the server once to finish them, stop it, then migrate`);

    const orgs = await source.listOrganisations();
    for (const o of orgs) await once(() => target.createOrganisation(o));
    const roots = await source.listApiRoots();
    for (const r of roots) await once(() => target.createApiRoot(r));
    const collections = (await Promise.all(roots.map((r) => source.listCollections(r.path)))).flat();
    for (const c of collections) await once(() => target.createCollection(c));
    const accounts = await source.listAccounts();
    for (const a of accounts) {
      await once(() => target.createAccount(a));
      // The hash is copied as is; only the credential version restarts (cached logins re-verify).
    }
    const grants = await source.listGrants({});
    for (const g of grants) await target.putGrant(g);
    const keys = await source.listApiKeys();
    for (const k of keys) {
      await once(() => target.createApiKey(k));
      if (k.revokedAt !== undefined) await target.revokeApiKey(k.id, k.revokedAt);
      if (k.lastUsedAt !== undefined) await target.touchApiKey(k.id, k.lastUsedAt);
    }

    // Audit: appended in order, so a resumed run skips as many source events as the target has.
    const auditTotal = await source.countAudit({});
    const alreadyCopied = await target.countAudit({});
    const auditBar = progressBar(out, 'audit', auditTotal);
    let seen = 0;
    for (let afterSeq: number | undefined; ;) {
      const events = await source.queryAudit({ limit: batchSize, ...(afterSeq !== undefined ? { afterSeq } : {}) });
      if (events.length === 0) break;
      afterSeq = events[events.length - 1]!.seq;
      for (const { seq: _seq, ...event } of events) {
        if (seen++ >= alreadyCopied) await target.appendAudit(event);
      }
      auditBar(seen);
    }

    const objectsTotal = (raw.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    let objectsDone = 0;
    const objectsBar = progressBar(out, 'objects', objectsTotal);
    const page = raw.prepare(`SELECT date_added, id, type, version, version_key, spec_version, media_type, tlp, submission_id, warnings, json
                              FROM objects WHERE coll = (SELECT pk FROM collections WHERE id = ?) AND date_added > ? ORDER BY date_added LIMIT ?`);
    for (const c of collections) {
      const resumeAt = await target.highestDateAdded(c.id);
      objectsDone += (raw.prepare('SELECT count(*) AS n FROM objects WHERE coll = (SELECT pk FROM collections WHERE id = ?) AND date_added <= ?').get(c.id, resumeAt) as { n: number }).n;
      for (let after = resumeAt; ;) {
        const rows = page.all(c.id, after, batchSize) as ObjectRow[];
        if (rows.length === 0) break;
        await target.importObjects(c.id, rows.map((r) => ({
          id: r.id, type: r.type, specVersion: r.spec_version, ...(r.version !== null ? { version: r.version } : {}), versionKey: r.version_key,
          mediaType: r.media_type, tlp: r.tlp, json: r.json, dateAdded: r.date_added, ...(r.submission_id !== null ? { submissionId: r.submission_id } : {}),
          ...(r.warnings !== null ? { warnings: r.warnings } : {}),
        })));
        after = rows[rows.length - 1]!.date_added;
        objectsDone += rows.length;
        objectsBar(objectsDone);
      }
    }
    objectsBar(objectsDone);

    counts.organisations = { source: orgs.length, target: (await target.listOrganisations()).length };
    counts.apiRoots = { source: roots.length, target: (await target.listApiRoots()).length };
    counts.collections = { source: collections.length, target: (await Promise.all(roots.map((r) => target.listCollections(r.path)))).flat().length };
    counts.accounts = { source: accounts.length, target: (await target.listAccounts()).length };
    counts.grants = { source: grants.length, target: (await target.listGrants({})).length };
    counts.apiKeys = { source: keys.length, target: (await target.listApiKeys()).length };
    counts.audit = { source: auditTotal, target: await target.countAudit({}) };
    for (const c of collections) counts[`objects ${c.apiRoot}/${c.id}`] = { source: await source.countObjects(c.id), target: await target.countObjects(c.id) };
    return { counts, ok: Object.values(counts).every((n) => n.source === n.target) };
  } finally {
    raw.close();
    await source.close();
    await target.close();
  }
}
