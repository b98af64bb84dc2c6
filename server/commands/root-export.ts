// `meridian export --root R --to FILE` and `meridian restore --from FILE` of such a file: a logical,
// portable copy of one API root through the Store interface, so the same file moves between the
// embedded store and MongoDB (docs/operations.md "Logical export of one API root"). JSON Lines,
// written and read as a stream: a header, the root, then per collection its configuration (desk
// rules, grants) and every stored version with its date_added, then an end line with the counts.
// Not in it: accounts and organisations (server-wide), statuses (short-lived, TAXII 2.1 §4.3), the
// review queue, the change log and each version's ingest provenance.
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tlpLevelOf } from 'stix2-validator-ts/markings';
import { timestampKey } from 'stix2-validator-ts/timestamp';
import {
  type ApiRootRecord,
  type CollectionRecord,
  type DeskRules,
  type GrantRecord,
  type ImportedObject,
  type Store,
  TLP_RANK,
  versionKeyFromMicros,
} from '../../collections/store.js';
import { formatMicros, parseMicros } from '../../taxii/time.js';

export const EXPORT_FORMAT = 'meridian-api-root-export';
const FORMAT_VERSION = 1;
const BATCH = 500;

/** A problem with the file or the target that the operator can fix (the CLI prints it, exit 1). */
export class ExportError extends Error {}

export interface ExportCounts {
  collections: number;
  objects: number;
  grants: number;
}

type Line =
  | { type: typeof EXPORT_FORMAT; version: number; api_root: string; exported_at: string }
  | { type: 'api-root'; root: Omit<ApiRootRecord, 'createdAt'> }
  | { type: 'collection'; collection: Omit<CollectionRecord, 'createdAt'>; desk_rules: DeskRules }
  | { type: 'grant'; grant: Omit<GrantRecord, 'id' | 'createdAt'> }
  | { type: 'object'; collection_id: string; date_added: string; id: string; spec_version: string; media_type: string; json: string }
  | { type: 'end'; counts: ExportCounts };

/** Whether a file starts like an export (restore tells it from an SQLite backup by this). */
export async function isRootExport(file: string): Promise<boolean> {
  const stream = createReadStream(file, { start: 0, end: 127, encoding: 'utf8' });
  let head = '';
  for await (const chunk of stream) head += chunk;
  return head.startsWith(`{"type":"${EXPORT_FORMAT}"`);
}

/**
 * Writes the root to `to` (through `to.partial`, renamed when complete, so a failed export never
 * leaves a file that looks like one). Every version is read by date_added in pages; the count of
 * each collection is checked against the store's, so nothing is silently left out.
 */
export async function exportRoot(store: Store, apiRoot: string, to: string, options: { force?: boolean } = {}): Promise<ExportCounts> {
  if (existsSync(to) && !options.force) throw new ExportError(`${to} exists; give --force to replace it`);
  const root = await store.getApiRoot(apiRoot);
  if (!root) throw new ExportError(`no API root "${apiRoot}"`);
  const partial = `${to}.partial`;
  const out = createWriteStream(partial, { encoding: 'utf8' });
  const write = async (line: Line) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  const counts: ExportCounts = { collections: 0, objects: 0, grants: 0 };
  try {
    await write({ type: EXPORT_FORMAT, version: FORMAT_VERSION, api_root: apiRoot, exported_at: formatMicros(Date.now() * 1000) });
    const { createdAt: _rootCreated, ...rootFields } = root;
    await write({ type: 'api-root', root: rootFields });
    for (const collection of await store.listCollections(apiRoot)) {
      const { createdAt: _created, ...fields } = collection;
      await write({ type: 'collection', collection: fields, desk_rules: await store.getDeskRules(collection.id) });
      counts.collections++;
      for (const { id: _id, createdAt: _grantCreated, ...grant } of await store.listGrants({ collectionId: collection.id })) {
        await write({ type: 'grant', grant });
        counts.grants++;
      }
      let written = 0;
      for (let addedAfter: number | undefined; ;) {
        // Every version of every spec version the store can hold (STIX 2.0 objects are kept beside 2.1).
        const page = await store.queryObjects(collection.id, { versions: { all: true }, specVersions: ['2.0', '2.1'], limit: BATCH, ...(addedAfter !== undefined ? { addedAfter } : {}) });
        for (const o of page.items) {
          await write({ type: 'object', collection_id: collection.id, date_added: formatMicros(o.dateAdded), id: o.id, spec_version: o.specVersion, media_type: o.mediaType, json: o.json });
        }
        written += page.items.length;
        const last = page.items.at(-1)?.dateAdded;
        if (!page.more || last === undefined) break;
        addedAfter = last;
      }
      const stored = await store.countObjects(collection.id);
      if (written !== stored) throw new ExportError(`collection ${collection.id}: ${stored} versions stored but ${written} exported (written while exporting, or a spec version this export does not read); nothing was written`);
      counts.objects += written;
    }
    await write({ type: 'end', counts });
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, to);
  return counts;
}

function fail(lineNo: number, why: string): never {
  throw new ExportError(`line ${lineNo}: ${why}`);
}

function str(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** The stored version an object line describes, checked; tlp and version as ingest computes them. */
function toImported(line: Extract<Line, { type: 'object' }>, lineNo: number): ImportedObject {
  const dateAdded = str(line.date_added) ? parseMicros(line.date_added) : undefined;
  if (dateAdded === undefined) fail(lineNo, 'date_added is not an RFC 3339 timestamp');
  if (!str(line.json) || !str(line.spec_version) || !str(line.media_type)) fail(lineNo, 'an object line needs json, spec_version and media_type');
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line.json) as Record<string, unknown>;
  } catch {
    fail(lineNo, 'json is not a JSON object');
  }
  if (typeof obj !== 'object' || obj === null || obj.id !== line.id || !str(obj.type)) fail(lineNo, 'json is not the STIX object the line names');
  const version = [obj.modified, obj.created].find((v): v is string => typeof v === 'string');
  const versionKey = version !== undefined ? timestampKey(version) : versionKeyFromMicros(dateAdded);
  if (versionKey === undefined) fail(lineNo, `the object's version ${version} is not a timestamp`);
  const tlp = tlpLevelOf(obj);
  return {
    id: line.id, type: obj.type, specVersion: line.spec_version, ...(version !== undefined ? { version } : {}), versionKey,
    mediaType: line.media_type, tlp: tlp ? TLP_RANK[tlp] : 0, json: line.json, dateAdded, submissionId: 'restored',
  };
}

export interface ImportReport extends ExportCounts {
  apiRoot: string;
  /** Grants not restored because their account or organisation is not in this store. */
  grantsSkipped: number;
}

/**
 * Restores an export into `store`: the root and its collections are created when missing (same
 * path, same collection ids), desk rules and grants set, every version stored with its date_added.
 * Idempotent, so an interrupted restore is resumed by running it again. A file cut short (no end
 * line, or counts that differ) is reported after what it held was restored.
 */
export async function importRoot(store: Store, from: string): Promise<ImportReport> {
  const lines = createInterface({ input: createReadStream(from, { encoding: 'utf8' }), crlfDelay: Infinity });
  const seen: ExportCounts = { collections: 0, objects: 0, grants: 0 };
  let apiRoot: string | undefined;
  let grantsSkipped = 0;
  let end: ExportCounts | undefined;
  const collections = new Set<string>();
  let batch: ImportedObject[] = [];
  let batchCollection: string | undefined;
  const flush = async () => {
    if (batchCollection !== undefined && batch.length > 0) await store.importObjects(batchCollection, batch);
    batch = [];
  };
  let lineNo = 0;
  for await (const text of lines) {
    lineNo++;
    if (text.trim() === '') continue;
    if (end) fail(lineNo, 'content after the end line');
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      fail(lineNo, 'not JSON (is this a Meridian export?)');
    }
    if (lineNo === 1) {
      if (line.type !== EXPORT_FORMAT) fail(lineNo, `not a Meridian API root export (the first line has no "type": "${EXPORT_FORMAT}")`);
      if (line.version !== FORMAT_VERSION) fail(lineNo, `export format version ${String(line.version)}; this Meridian reads version ${FORMAT_VERSION}`);
      apiRoot = line.api_root;
      continue;
    }
    switch (line.type) {
      case 'api-root': {
        if (!str(line.root?.path) || line.root.path !== apiRoot || !str(line.root.title) || typeof line.root.maxContentLength !== 'number') fail(lineNo, 'an api-root line needs the path of the header, a title and maxContentLength');
        if (!(await store.getApiRoot(line.root.path))) await store.createApiRoot(line.root);
        break;
      }
      case 'collection': {
        const c = line.collection;
        if (!str(c?.id) || c.apiRoot !== apiRoot || !str(c.title) || !Array.isArray(c.mediaTypes)) fail(lineNo, 'a collection line needs an id, the API root of the header, a title and mediaTypes');
        const existing = await store.getCollection(c.apiRoot, c.id);
        if (!existing) await store.createCollection(c);
        if (line.desk_rules && typeof line.desk_rules === 'object') await store.putDeskRules(c.id, line.desk_rules);
        collections.add(c.id);
        seen.collections++;
        break;
      }
      case 'grant': {
        const g = line.grant;
        if (!str(g?.collectionId) || !collections.has(g.collectionId)) fail(lineNo, 'a grant line must follow its collection');
        const subjectThere = g.accountId ? await store.getAccount(g.accountId) : g.organisationId ? await store.getOrganisation(g.organisationId) : undefined;
        if (subjectThere) await store.putGrant(g);
        else grantsSkipped++;
        seen.grants++;
        break;
      }
      case 'object': {
        if (!collections.has(line.collection_id)) fail(lineNo, 'an object line must follow its collection');
        if (batchCollection !== line.collection_id || batch.length >= BATCH) await flush();
        batchCollection = line.collection_id;
        batch.push(toImported(line, lineNo));
        seen.objects++;
        break;
      }
      case 'end':
        end = line.counts;
        break;
      default:
        fail(lineNo, `unknown line type ${JSON.stringify((line as { type?: unknown }).type)}`);
    }
  }
  await flush();
  if (apiRoot === undefined) throw new ExportError(`${from} is empty`);
  if (!end) throw new ExportError(`${from} ends before its end line (cut short?): restored what it held (${seen.collections} collections, ${seen.objects} versions); it is not complete`);
  if (end.collections !== seen.collections || end.objects !== seen.objects || end.grants !== seen.grants) {
    throw new ExportError(`${from} says ${end.collections} collections, ${end.objects} versions, ${end.grants} grants but holds ${seen.collections}, ${seen.objects}, ${seen.grants}`);
  }
  return { apiRoot, ...seen, grantsSkipped };
}
