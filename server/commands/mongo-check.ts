// `meridian check` on the MongoDB store: the same questions as on the embedded store where they
// make sense there — counts, the schema version, the named indexes of each API root's objects,
// orphaned documents, first/last version flags and date_added high-water marks. Reads only.
// (The shared collections' indexes are created and verified at every start, which fails without them.)
import mongoose, { type Connection } from 'mongoose';
import { mongoSchemaState } from '../../collections/mongo/schema-migrations.js';
import { databaseName, objectSchema, objectsCollectionName } from '../../collections/mongo/schemas.js';
import { versionFlags } from '../../collections/store.js';
import { type CheckFinding, type CheckReport, MaintenanceError } from './maintenance.js';

type Doc = Record<string, any>;

const COUNTED = ['organisations', 'accounts', 'api_keys', 'grants', 'api_roots', 'collections', 'submissions', 'queue', 'publications', 'changes', 'audit'];

/** Documents of `from` whose `field` names no document of `to` by `key`: [label, from, field, to, key, what a repair would do]. */
const ORPHANS: Array<[string, string, string, string, string, string]> = [
  ['collections without their API root', 'collections', 'apiRoot', 'api_roots', 'path', 're-create the API root or delete the collections (and their objects)'],
  ['grants without their collection', 'grants', 'collectionId', 'collections', 'id', 'delete those grants'],
  ['grants without their account', 'grants', 'accountId', 'accounts', 'id', 'delete those grants'],
  ['API keys without their account', 'api_keys', 'accountId', 'accounts', 'id', 'delete those keys'],
  ['submission items without their submission', 'submission_items', 'submissionId', 'submissions', 'id', 'delete those items'],
  ['change-log entries without their collection', 'changes', 'collectionId', 'collections', 'id', 'delete those entries'],
];

function finding(check: string, problem: string | undefined, repair: string): CheckFinding {
  return problem === undefined ? { check, ok: true } : { check, ok: false, problem, repair };
}

async function distinctMissing(conn: Connection, from: string, field: string, to: string, key: string): Promise<number> {
  const referenced = (await conn.collection(from).distinct(field)).filter((v) => v !== null && v !== undefined);
  if (referenced.length === 0) return 0;
  const present = new Set(await conn.collection(to).distinct(key, { [key]: { $in: referenced } }));
  const missing = new Set(referenced.filter((v) => !present.has(v)));
  return missing.size === 0 ? 0 : conn.collection(from).countDocuments({ [field]: { $in: [...missing] } });
}

export async function checkMongo(uri: string): Promise<CheckReport> {
  const conn = await mongoose.createConnection(uri, { dbName: databaseName(uri), serverSelectionTimeoutMS: 10_000, autoIndex: false, autoCreate: false }).asPromise()
    .catch((err: Error) => { throw new MaintenanceError(`MongoDB is not reachable: ${err.message}`); });
  try {
    const findings: CheckFinding[] = [];
    const schema = await mongoSchemaState(conn);
    findings.push(finding('schema version', schema.pending.length === 0 ? undefined : `at version ${schema.current}, this release is at ${schema.latest}`, 'meridian migrate-schema (or start the server): it applies the pending steps'));
    const counts: Record<string, number> = {};
    for (const name of COUNTED) counts[name] = await conn.collection(name).countDocuments();

    const roots = (await conn.collection('api_roots').find({}, { projection: { path: 1 } }).toArray()).map((r) => r.path as string);
    const collections = await conn.collection('collections').find({}, { projection: { id: 1, apiRoot: 1, lastDateAdded: 1 } }).toArray();
    const declared = objectSchema.indexes().map(([, o]) => String(o.name));
    const missingIndexes: string[] = [];
    let orphanObjects = 0;
    let wrongObjects = 0;
    let wrongVersions = 0;
    let lowMarks = 0;
    counts.objects = 0;
    for (const root of roots) {
      const objects = conn.collection(objectsCollectionName(root));
      const present = new Set((await objects.listIndexes().toArray().catch(() => [])).map((i) => i.name as string));
      missingIndexes.push(...declared.filter((n) => !present.has(n)).map((n) => `${objectsCollectionName(root)}.${n}`));
      counts.objects += await objects.countDocuments();
      const mine = collections.filter((c) => c.apiRoot === root);
      orphanObjects += await objects.countDocuments({ collectionId: { $nin: mine.map((c) => c.id as string) } });
      for (const c of mine) {
        const top = Math.max(
          ((await objects.find({ collectionId: c.id }, { projection: { dateAdded: 1 } }).sort({ dateAdded: -1 }).limit(1).next())?.dateAdded as number | undefined) ?? 0, // objects_page
          ((await conn.collection('changes').find({ collectionId: c.id }, { projection: { dateAdded: 1 } }).sort({ dateAdded: -1 }).limit(1).next())?.dateAdded as number | undefined) ?? 0, // changes_page
        );
        if ((c.lastDateAdded ?? 0) < top) lowMarks++;
      }
      // Every version by (collection, object), as objects_by_id orders them: the flags each should have.
      let group: Doc[] = [];
      const settle = () => {
        if (group.length === 0) return;
        const flags = versionFlags(group.map((v) => ({ versionKey: v.versionKey, tlp: v.tlp ?? 0, specVersion: v.specVersion })));
        const bad = group.filter((v, i) => {
          const f = flags[i]!;
          const ranks = (mask: number) => [0, 1, 2, 3, 4].filter((r) => mask & (1 << r)).join();
          return v.isFirst !== f.isFirst || v.isLast !== f.isLast || v.isLatestSpec !== f.isLatestSpec || (v.firstAt ?? []).join() !== ranks(f.firstMask) || (v.lastAt ?? []).join() !== ranks(f.lastMask);
        }).length;
        if (bad > 0) {
          wrongObjects++;
          wrongVersions += bad;
        }
        group = [];
      };
      const cursor = objects.find({}, { projection: { collectionId: 1, id: 1, versionKey: 1, tlp: 1, specVersion: 1, isFirst: 1, isLast: 1, isLatestSpec: 1, firstAt: 1, lastAt: 1 } }).sort({ collectionId: 1, id: 1, vid: 1 });
      for await (const v of cursor) {
        if (group.length > 0 && (group[0]!.collectionId !== v.collectionId || group[0]!.id !== v.id)) settle();
        group.push(v);
      }
      settle();
    }
    findings.push(finding('named indexes of the objects collections', missingIndexes.length === 0 ? undefined : `missing: ${missingIndexes.join(', ')}`, 'start the server (or meridian migrate-schema): it creates the missing indexes'));
    findings.push(finding('objects without their collection', orphanObjects === 0 ? undefined : `${orphanObjects} found`, 'delete those objects'));
    for (const [label, from, field, to, key, repair] of ORPHANS) {
      const n = await distinctMissing(conn, from, field, to, key);
      findings.push(finding(label, n === 0 ? undefined : `${n} found`, repair));
    }
    findings.push(finding('first/last version flags', wrongObjects === 0 ? undefined : `${wrongVersions} versions of ${wrongObjects} objects have wrong flags`, 'recompute the flags of those objects (as every write does)'));
    findings.push(finding('collection date_added high-water marks', lowMarks === 0 ? undefined : `${lowMarks} collections hold a date_added above their mark (the next write there would collide)`, 'raise each mark to the newest date_added the collection holds'));
    return { ok: findings.every((f) => f.ok), counts, findings };
  } finally {
    await conn.close();
  }
}
