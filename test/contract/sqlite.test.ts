// The store contract on the embedded SQLite store (in memory).
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { storeContract } from './store-contract.js';

storeContract('sqlite', {
  open: async () => new SqliteStore({ location: ':memory:' }),
  close: (store) => store.close(),
});
