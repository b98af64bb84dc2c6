// The embedded store's schema. Each index names the endpoint that needs it. SCHEMA is the current
// shape (a new store gets it whole); SQLITE_MIGRATIONS at the end bring an existing store to it.
import type Database from 'better-sqlite3';
import type { Migration } from '../migrations.js';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS organisations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  country TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS api_roots (
  seq INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  country TEXT,
  title TEXT NOT NULL,
  description TEXT,
  max_content_length INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  taxii20 INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS collections (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  api_root TEXT NOT NULL REFERENCES api_roots(path),
  title TEXT NOT NULL,
  description TEXT,
  alias TEXT,
  purpose TEXT NOT NULL DEFAULT 'published',
  media_types TEXT NOT NULL,
  enrichment TEXT,
  created_at INTEGER NOT NULL,
  -- high-water mark of date_added: keeps it strictly increasing even after deletes or clock steps
  last_date_added INTEGER NOT NULL DEFAULT 0,
  -- newest date_added dropped from the change log by retention (changeHorizon): older cursors resync
  change_horizon INTEGER NOT NULL DEFAULT 0
);
-- GET {api-root}/collections/{alias}/ (§5.2): an alias is unique within its API root
CREATE UNIQUE INDEX IF NOT EXISTS collections_by_alias ON collections(api_root, alias) WHERE alias IS NOT NULL;
-- GET {api-root}/collections/ (§5.1): stable order
CREATE INDEX IF NOT EXISTS collections_by_root ON collections(api_root, pk);

CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  organisation_id TEXT REFERENCES organisations(id),
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  curator_roots TEXT NOT NULL DEFAULT '[]',
  disabled INTEGER NOT NULL DEFAULT 0,
  credential_version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS grants (
  id TEXT PRIMARY KEY,
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,
  organisation_id TEXT REFERENCES organisations(id) ON DELETE CASCADE,
  role TEXT,
  can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL,
  max_tlp TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- one grant per collection and subject ('' stands for "none" so the key is total)
  subject TEXT NOT NULL,
  UNIQUE (collection_id, subject)
);
-- access checks on every request: the grants of an account and of its organisation
CREATE INDEX IF NOT EXISTS grants_by_account ON grants(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS grants_by_organisation ON grants(organisation_id) WHERE organisation_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys(account_id);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  target TEXT,
  remote TEXT,
  detail TEXT
);
-- GET /admin/v1/audit by actor, and login throttling (failures of one account name in a window)
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit(actor, action, at);
-- login throttling by client address
CREATE INDEX IF NOT EXISTS audit_by_remote ON audit(remote, action, at);
CREATE INDEX IF NOT EXISTS audit_by_at ON audit(at);
-- GET /admin/v1/curation/stats submissions per day: POSTs only, so logins and other events cost it nothing
CREATE INDEX IF NOT EXISTS audit_submissions ON audit(at, target, actor) WHERE action = 'objects.add';

CREATE TABLE IF NOT EXISTS objects (
  pk INTEGER PRIMARY KEY,
  coll INTEGER NOT NULL REFERENCES collections(pk),
  date_added INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  version TEXT,
  version_key TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  media_type TEXT NOT NULL,
  is_first INTEGER NOT NULL,
  is_last INTEGER NOT NULL,
  is_latest_spec INTEGER NOT NULL,
  tlp INTEGER NOT NULL DEFAULT 0,
  -- bit k: first / last version among those a reader capped at TLP rank k sees (versionFlags)
  first_mask INTEGER NOT NULL DEFAULT 0,
  last_mask INTEGER NOT NULL DEFAULT 0,
  submission_id TEXT,
  warnings TEXT,
  json TEXT NOT NULL
);
-- GET objects/ and manifest/ (§5.3, §5.4) with match[version]=all or exact versions: keyset on date_added
CREATE UNIQUE INDEX IF NOT EXISTS objects_page ON objects(coll, date_added);
-- GET objects/ and manifest/ with the default match[version]=last: the polling hot path
CREATE INDEX IF NOT EXISTS objects_page_last ON objects(coll, date_added) WHERE is_last = 1;
-- GET objects/ and manifest/ with match[version]=first
CREATE INDEX IF NOT EXISTS objects_page_first ON objects(coll, date_added) WHERE is_first = 1;
-- GET objects/{object-id}/, versions/, DELETE (§5.6–5.8), match[id], duplicate detection on POST (§5.5)
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_id ON objects(coll, id, version_key);
-- match[type] on objects/ and manifest/
CREATE INDEX IF NOT EXISTS objects_by_type ON objects(coll, type, date_added);

CREATE TABLE IF NOT EXISTS submissions (
  id TEXT PRIMARY KEY,
  api_root TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  request_timestamp INTEGER NOT NULL,
  status TEXT NOT NULL,
  total_count INTEGER NOT NULL,
  success_count INTEGER NOT NULL DEFAULT 0,
  failure_count INTEGER NOT NULL DEFAULT 0,
  pending_count INTEGER NOT NULL,
  completed_at INTEGER
);
-- crash recovery: submissions still pending at start-up
CREATE INDEX IF NOT EXISTS submissions_pending ON submissions(status) WHERE status = 'pending';
-- status retention purge (§4.3)
CREATE INDEX IF NOT EXISTS submissions_completed ON submissions(completed_at) WHERE status = 'complete';
-- POST (§5.5): the retained body of a pending submission, in a row of its own. SQLite rewrites a
-- whole row on UPDATE, so with the body beside the counts every batch rewrote a 50 MB blob.
CREATE TABLE IF NOT EXISTS submission_bodies (
  submission_id TEXT PRIMARY KEY,
  body BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS submission_items (
  submission_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  version TEXT NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT,
  date_added INTEGER,
  PRIMARY KEY (submission_id, idx)
) WITHOUT ROWID;
-- ---- the desk ----
-- Intake policy (intake collections) and release rules (published collections), as JSON.
CREATE TABLE IF NOT EXISTS desk_rules (
  collection_id TEXT PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  policy TEXT,
  release TEXT
);

-- One row per object version stored in an intake collection (written by ingest, same transaction).
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  intake_id TEXT NOT NULL,
  api_root TEXT NOT NULL,
  object_id TEXT NOT NULL,
  object_type TEXT NOT NULL,
  version TEXT,
  version_key TEXT NOT NULL,
  date_added INTEGER NOT NULL,
  submission_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  organisation_id TEXT,
  tlp INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  findings TEXT NOT NULL,
  finding_codes TEXT NOT NULL,
  state TEXT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 1,
  reason TEXT,
  requested_changes TEXT,
  superseded_by TEXT,
  approvals TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (intake_id, object_id, version_key)
);
-- GET /admin/v1/curation/queue by intake and state (the review listing), keyset on seq
CREATE INDEX IF NOT EXISTS queue_by_intake_state ON queue(intake_id, state, seq);
-- GET /admin/v1/curation/queue by intake in any state, keyset on seq
CREATE INDEX IF NOT EXISTS queue_by_intake ON queue(intake_id, seq);
-- queue listing by vendor organisation (a vendor's own entries)
CREATE INDEX IF NOT EXISTS queue_by_organisation ON queue(organisation_id, seq);
-- one vendor's entries in one state of an intake (a vendor's own pending list, a curator's by vendor and state), keyset on seq
CREATE INDEX IF NOT EXISTS queue_by_intake_organisation_state ON queue(intake_id, organisation_id, state, seq);
-- decisions on a whole submission, queue listing by submission
CREATE INDEX IF NOT EXISTS queue_by_submission ON queue(submission_id, seq);
-- supersession on ingest, sticky rejections, an entry's earlier versions
CREATE INDEX IF NOT EXISTS queue_by_object ON queue(object_id, version_key);

-- The provenance of publications (vendor, submission, intake, curators, decision time, policy) with
-- their decision: one row per distinct provenance of a decision, which its publications share.
CREATE TABLE IF NOT EXISTS provenances (
  pk INTEGER PRIMARY KEY,
  decision_id TEXT NOT NULL,
  json TEXT NOT NULL
);

-- Every published copy of an approved version; unique per target and version. Keyed by object
-- first: "where is this object published" (an entry's earlier versions, the revocation fast path,
-- a decision's earlier publications) is a walk of the key, and a decision writes one key and no
-- index per publication. Object ids are random, so a decision's keys land all over the table and
-- each dirties a page of its own: the rows stay small (the provenance by reference) to dirty few.
CREATE TABLE IF NOT EXISTS publications (
  object_id TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  version_key TEXT NOT NULL,
  object_type TEXT NOT NULL,
  version TEXT,
  date_added INTEGER NOT NULL,
  entry_id TEXT,
  provenance INTEGER NOT NULL,
  withdrawn_at INTEGER,
  PRIMARY KEY (object_id, collection_id, version_key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS withdrawals (
  id TEXT PRIMARY KEY,
  collection_id TEXT NOT NULL,
  object_id TEXT NOT NULL,
  last_version TEXT,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS decisions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  account_id TEXT,
  actor_name TEXT NOT NULL,
  at INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  publications INTEGER NOT NULL,
  -- applying: publications of a large decision still being written (decision_plans holds them); applied: done
  status TEXT NOT NULL DEFAULT 'applied'
);
-- The publications a large decision still has to write, in a row of their own: each chunk updates
-- the decision's count, and SQLite rewrites a whole row on UPDATE (a plan can be tens of MB).
CREATE TABLE IF NOT EXISTS decision_plans (
  decision_id TEXT PRIMARY KEY,
  plan TEXT NOT NULL
);
-- start-up: large decisions a crash interrupted
CREATE INDEX IF NOT EXISTS decisions_applying ON decisions(status) WHERE status = 'applying';
-- curation statistics: decisions per curator
CREATE INDEX IF NOT EXISTS decisions_by_account ON decisions(account_id, at);

-- The change log of each published collection: one row per publication, update, revocation and
-- withdrawal, in the transaction of the change; date_added from the collection's high-water mark.
CREATE TABLE IF NOT EXISTS changes (
  coll INTEGER NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
  date_added INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  version TEXT,
  actor_kind TEXT NOT NULL,
  reason TEXT,
  last_version TEXT,
  tlp INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (coll, date_added)
) WITHOUT ROWID;
-- A live stream resumes from Last-Event-ID (a change id) through the primary key: the id encodes
-- its date_added (changeId in sqlite-store.ts), so no index of its own is written with every change.
`;

/** Adds a column where the table lacks it; a table not there yet is created whole by SCHEMA afterwards. */
function addColumn(db: Database.Database, table: string, column: string, definition: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  if (columns.length > 0 && !columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}

/**
 * The schema's numbered steps after the baseline (collections/migrations.ts), in order. Changing the
 * schema of existing stores is one entry here (and the new shape in SCHEMA for new stores). Each
 * step runs in its own transaction, before SCHEMA: it must be idempotent and cope with a table that
 * is not there yet (SCHEMA creates it whole after).
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<Migration<Database.Database, void>> = [
  {
    version: 2,
    description: 'columns added after their tables were first released: api_roots.taxii20, decisions.status, collections.change_horizon',
    up: (db) => {
      addColumn(db, 'api_roots', 'taxii20', 'INTEGER NOT NULL DEFAULT 0');
      addColumn(db, 'decisions', 'status', "TEXT NOT NULL DEFAULT 'applied'");
      addColumn(db, 'collections', 'change_horizon', 'INTEGER NOT NULL DEFAULT 0');
    },
  },
  {
    version: 3,
    description: 'changes_by_id dropped: a change is found by the date_added its id encodes',
    up: (db) => {
      db.exec('DROP INDEX IF EXISTS changes_by_id');
    },
  },
  {
    version: 4,
    description: 'publications keyed by object id first; publications_by_object and publications_by_entry dropped',
    up: (db) => {
      // A file from before the desk has no publications yet: SCHEMA creates them in the new shape;
      // a table already keyed by object first (this shape or a later one) is left as it is.
      const key = (db.prepare('PRAGMA table_info(publications)').all() as Array<{ name: string; pk: number }>).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      if (key.length === 0 || key[0]!.name === 'object_id') return;
      db.exec(`CREATE TABLE publications_by_object_key (
                 object_id TEXT NOT NULL, collection_id TEXT NOT NULL, version_key TEXT NOT NULL, object_type TEXT NOT NULL, version TEXT, date_added INTEGER NOT NULL,
                 entry_id TEXT, decision_id TEXT NOT NULL, provenance TEXT NOT NULL, withdrawn_at INTEGER,
                 PRIMARY KEY (object_id, collection_id, version_key)
               ) WITHOUT ROWID;
               INSERT INTO publications_by_object_key (object_id, collection_id, version_key, object_type, version, date_added, entry_id, decision_id, provenance, withdrawn_at)
                 SELECT object_id, collection_id, version_key, object_type, version, date_added, entry_id, decision_id, provenance, withdrawn_at FROM publications ORDER BY object_id, collection_id, version_key;
               DROP TABLE publications;
               ALTER TABLE publications_by_object_key RENAME TO publications;`);
    },
  },
  {
    version: 5,
    description: 'publications refer to their provenance (and decision) in the new table provenances instead of repeating it',
    up: (db) => {
      const columns = db.prepare('PRAGMA table_info(publications)').all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === 'decision_id')) return;
      db.exec(`CREATE TABLE IF NOT EXISTS provenances (pk INTEGER PRIMARY KEY, decision_id TEXT NOT NULL, json TEXT NOT NULL);
               INSERT INTO provenances (decision_id, json) SELECT DISTINCT decision_id, provenance FROM publications ORDER BY decision_id;
               CREATE TABLE publications_by_reference (
                 object_id TEXT NOT NULL, collection_id TEXT NOT NULL, version_key TEXT NOT NULL, object_type TEXT NOT NULL, version TEXT, date_added INTEGER NOT NULL,
                 entry_id TEXT, provenance INTEGER NOT NULL, withdrawn_at INTEGER,
                 PRIMARY KEY (object_id, collection_id, version_key)
               ) WITHOUT ROWID;
               CREATE INDEX provenances_by_content ON provenances(decision_id, json);
               INSERT INTO publications_by_reference (object_id, collection_id, version_key, object_type, version, date_added, entry_id, provenance, withdrawn_at)
                 SELECT p.object_id, p.collection_id, p.version_key, p.object_type, p.version, p.date_added, p.entry_id, v.pk, p.withdrawn_at
                   FROM publications p JOIN provenances v ON v.decision_id = p.decision_id AND v.json = p.provenance ORDER BY p.object_id, p.collection_id, p.version_key;
               DROP INDEX provenances_by_content;
               DROP TABLE publications;
               ALTER TABLE publications_by_reference RENAME TO publications;`);
    },
  },
];
