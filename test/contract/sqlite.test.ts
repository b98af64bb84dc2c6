// The store contract on the embedded SQLite store (in memory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { curationContract } from './curation-contract.js';
import { storeContract } from './store-contract.js';
import { webhookContract } from './webhook-contract.js';

storeContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});

describe('SQLite store: a data directory from before a column existed', function () {
  it('gets the API root taxii20 column at open, off for the roots it holds', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'meridian-old-'));
    try {
      const old = new Database(path.join(dir, 'meridian.sqlite'));
      old.exec('CREATE TABLE api_roots (seq INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, country TEXT, title TEXT NOT NULL, description TEXT, max_content_length INTEGER NOT NULL, created_at INTEGER NOT NULL)');
      old.prepare('INSERT INTO api_roots (path, title, max_content_length, created_at) VALUES (?, ?, ?, ?)').run('fr', 'France', 10, 1);
      old.pragma('user_version = 1');
      old.close();
      const store = new SqliteStore({ location: dir });
      try {
        expect((await store.getApiRoot('fr'))?.taxii20 ?? false).to.equal(false);
        expect((await store.updateApiRoot('fr', { taxii20: true }))?.taxii20).to.equal(true);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

curationContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});

webhookContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});
