import { mkdtempSync } from 'node:fs';
import os from 'node:os'; import path from 'node:path';
import Database from '/work/main/node_modules/better-sqlite3/lib/index.js';
import { SqliteStore } from '/work/main/collections/sqlite/sqlite-store.ts';
import { bulkLoad } from '/work/main/bench/backends.ts';
import { generateObjects } from '/work/main/bench/dataset.ts';
async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-'));
  const store = new SqliteStore({ location: dir });
  await store.createApiRoot({ path: 'r', title: 'r', maxContentLength: 1e9 });
  await store.createCollection({ id: 'c', apiRoot: 'r', title: 'c', purpose: 'published', mediaTypes: [] });
  await bulkLoad(store, 'r', 'c', generateObjects(1, 100000, {}));
  await store.close();
  const db = new Database(path.join(dir, 'meridian.sqlite'), { readonly: true });
  const { first, last } = db.prepare('SELECT min(date_added) first, max(date_added) last FROM objects').get() as any;
  const cols = 'id, type, date_added, version, spec_version, media_type';
  const q = `SELECT ${cols}, json FROM objects WHERE coll = 1 AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT 101`;
  const qAll = `SELECT ${cols}, json FROM objects WHERE coll = 1 AND date_added > ? ORDER BY date_added LIMIT 101`;
  const qJson = `SELECT date_added, json FROM objects WHERE coll = 1 AND date_added > ? AND is_latest_spec = 1 AND is_last = 1 ORDER BY date_added LIMIT 101`;
  const variants: Record<string, () => void> = {};
  const st = db.prepare(q); const stRaw = db.prepare(q).raw(true); const stAll = db.prepare(qAll); const stJson = db.prepare(qJson).raw(true);
  const p = () => first + Math.floor(Math.random() * (last - first));
  variants.objects = () => st.all(p());
  variants.raw = () => stRaw.all(p());
  variants.noflags = () => stAll.all(p());
  variants.jsononly = () => stJson.all(p());
  for (let round = 0; round < 2; round++) for (const [k, f] of Object.entries(variants)) {
    const t = performance.now();
    for (let i = 0; i < 5000; i++) f();
    console.log(k, ((performance.now() - t) / 5000 * 1000).toFixed(1), 'µs/query');
  }
}
main();
