// `meridian apply` layouts: validated as a whole with every problem named by its path,
// never a plain password, idempotent, and the documented example applies as documented.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import type { Store } from '../../collections/store.js';
import { Admin } from '../../server/admin/admin.js';
import { LayoutError, applyLayoutText, parseLayout, validateLayout } from '../../server/admin/layout.js';
import { hashSecret, verifySecret } from '../../server/auth/passwords.js';
import { accessTo } from '../../taxii/access.js';
import { EXAMPLE_ENV } from '../helpers/layout-example.js';

const EXAMPLE = readFileSync(new URL('../../docs/examples/layout.yaml', import.meta.url), 'utf8');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof LayoutError) return err.problems;
    throw err;
  }
  throw new Error('expected a LayoutError');
}

async function asyncProblemsOf(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LayoutError) return err.problems;
    throw err;
  }
  throw new Error('expected a LayoutError');
}

describe('layout files (meridian apply)', () => {
  let store: Store;
  let admin: Admin;
  beforeEach(() => {
    store = new SqliteStore({ location: ':memory:' });
    admin = new Admin(store, { name: 'cli:test' });
  });
  afterEach(async () => {
    await store.close();
  });

  describe('validation names the path of every problem', () => {
    it('refuses a plain password, unknown keys, bad enums, missing fields, all at once', () => {
      const problems = problemsOf(() =>
        validateLayout(
          {
            organisations: [{ name: 'x', kind: 'bank' }],
            accounts: [{ name: 'a', password: 'hunter2hunter2' }],
            collections: [{ api_root: 'fr', purpose: 'archive', title: 't' }],
            grants: [{ collection: 'c', api_root: 'fr', max_tlp: 'purple', read: true, account: 'a' }],
            colour: 'red',
          },
          {},
        ),
      );
      expect(problems).to.include('organisations[0].kind: must be one of member-agency, vendor, desk');
      expect(problems.some((p) => p.startsWith('accounts[0].password: plain passwords are not allowed'))).to.equal(true);
      expect(problems).to.include('collections[0].purpose: must be one of intake, published');
      expect(problems).to.include('grants[0].max_tlp: must be one of clear, green, amber, amber+strict, red');
      expect(problems).to.include('(top level): unknown property "colour"');
      expect(problems.length).to.be.greaterThanOrEqual(5);
    });

    it('refuses unset password variables, two secrets, duplicates, grants without rights or with two subjects', () => {
      const problems = problemsOf(() =>
        validateLayout(
          {
            organisations: [{ name: 'o', kind: 'vendor', country: 'fr' }, { name: 'o', kind: 'vendor' }, { name: 'm', kind: 'member-agency' }],
            accounts: [{ name: 'a', password_env: 'NOT_SET_ANYWHERE' }, { name: 'b', password_env: 'SET', password_hash: 'scrypt$1$1$1$a$b' }, { name: 'c', password_env: 'SET', curator_roots: ['fr'] }],
            grants: [{ collection: 'c', api_root: 'fr' }, { collection: 'c', api_root: 'fr', account: 'a', organisation: 'o', read: true }],
          },
          { SET: 'a long enough password' },
        ),
      );
      expect(problems).to.include.members([
        'organisations[0] (o): only member agencies have a country',
        'organisations[1]: organisation "name" repeats organisations[0]',
        'organisations[2] (m): a member agency needs its country',
        'accounts[0] (a).password_env: the environment variable NOT_SET_ANYWHERE is not set',
        'accounts[1] (b): give exactly one of password_env or password_hash',
        'accounts[2] (c).curator_roots: curator roots need the curator role',
        'grants[0]: name exactly one of account or organisation',
        'grants[0]: a grant gives read, write or both',
        'grants[1]: name exactly one of account or organisation',
      ]);
    });

    it('checks references and the tenancy rules against the layout and the store before changing anything', async () => {
      const text = `
organisations: [{ name: fr-police, kind: member-agency, country: fr }]
api_roots: [{ path: fr, title: France }, { path: de, title: Germany }]
collections:
  - { api_root: fr, alias: intake, title: Intake, purpose: intake }
  - { api_root: de, alias: published, title: Published }
  - { api_root: es, alias: published, title: Spain }
accounts:
  - { name: fr-officer, organisation: fr-police, roles: [subscriber], password_env: PW }
  - { name: ghost, organisation: nowhere, roles: [curator], curator_roots: [it], password_env: PW }
grants:
  - { api_root: de, collection: published, organisation: fr-police, read: true }
  - { api_root: fr, collection: intake, account: fr-officer, read: true }
  - { api_root: fr, collection: nope, account: nobody, read: true }
`;
      const problems = await asyncProblemsOf(() => applyLayoutText(store, admin, text, { PW: 'a long enough password' }));
      expect(problems).to.include.members([
        'collections[2].api_root: no API root "es" in the layout or the store',
        'accounts[1].organisation: no organisation "nowhere" in the layout or the store',
        'accounts[1].curator_roots: no API root "it" in the layout or the store',
        'grants[0]: fr-police is a member agency of fr; API root "de" belongs to de',
        'grants[1]: subscribers never see intake collections',
        'grants[2].collection: no collection with id or alias "nope" in API root "fr"',
        'grants[2].account: no account "nobody" in the layout or the store',
      ]);
      // Nothing was applied.
      expect(await store.listOrganisations()).to.deep.equal([]);
      expect(await store.listApiRoots()).to.deep.equal([]);
    });

    it('reports YAML syntax errors and duplicate keys with the source name', () => {
      expect(problemsOf(() => parseLayout('organisations: [', 'site.yaml'))[0]).to.match(/^site\.yaml: /);
      expect(problemsOf(() => parseLayout('a: 1\na: 2\n', 'site.yaml'))[0]).to.match(/^site\.yaml: .*[Dd]uplicate|unique/);
    });
  });

  describe('applying', () => {
    it('the documented example (docs/examples/layout.yaml) applies, then a second run changes nothing', async () => {
      const first = await applyLayoutText(store, admin, EXAMPLE, EXAMPLE_ENV, 'layout.yaml');
      expect(first.created).to.have.length(25);
      expect(first.updated).to.deep.equal([]);
      const auditBefore = (await store.queryAudit({ limit: 10_000 })).length;
      const second = await applyLayoutText(store, admin, EXAMPLE, EXAMPLE_ENV, 'layout.yaml');
      expect(second).to.deep.equal({ created: [], updated: [], unchanged: 25 });
      expect((await store.queryAudit({ limit: 10_000 })).length, 'no audit entries for a no-op run').to.equal(auditBefore);

      // What the example promises (docs/layout.md): countries, purposes, TLP caps, the fence.
      expect((await store.listApiRoots()).map((r) => [r.path, r.country ?? null])).to.deep.equal([['fr', 'fr'], ['de', 'de'], ['global', null]]);
      const frOfficer = (await store.getAccountByName('fr-officer'))!;
      expect(await verifySecret(EXAMPLE_ENV.MERIDIAN_FR_OFFICER_PASSWORD, frOfficer.passwordHash)).to.equal(true);
      const caller = async (name: string) => {
        const account = (await store.getAccountByName(name))!;
        return { account, ...(account.organisationId ? { organisation: await store.getOrganisation(account.organisationId) } : {}) };
      };
      const coll = async (root: string, alias: string) => (await store.getCollection(root, alias))!;
      expect(await accessTo(store, await caller('fr-officer'), await coll('fr', 'published'))).to.deep.equal({ canRead: true, canWrite: false, maxTlp: 'amber+strict' });
      expect(await accessTo(store, await caller('fr-red-desk'), await coll('fr', 'published'))).to.deep.equal({ canRead: true, canWrite: false, maxTlp: 'red' });
      expect(await accessTo(store, await caller('fr-officer'), await coll('fr', 'intake'))).to.include({ canRead: false, canWrite: false });
      expect(await accessTo(store, await caller('fr-officer'), await coll('de', 'published'))).to.include({ canRead: false, canWrite: false });
      expect(await accessTo(store, await caller('de-officer'), await coll('de', 'published'))).to.deep.equal({ canRead: true, canWrite: false, maxTlp: 'amber' });
      expect(await accessTo(store, await caller('de-officer'), await coll('global', 'published'))).to.deep.equal({ canRead: true, canWrite: false, maxTlp: 'green' });
      expect(await accessTo(store, await caller('acme-feed'), await coll('fr', 'intake'))).to.include({ canRead: false, canWrite: true });
      expect(await accessTo(store, await caller('acme-feed'), await coll('fr', 'published'))).to.include({ canRead: false, canWrite: false });
      expect(await accessTo(store, await caller('desk-curator'), await coll('de', 'intake'))).to.include({ canRead: true, canWrite: true });
    });

    it('updates what changed and says so: a title, a TLP cap, roles, a password', async () => {
      await applyLayoutText(store, admin, EXAMPLE, EXAMPLE_ENV);
      const changed = EXAMPLE.replace('title: Germany\n', 'title: Deutschland\n')
        .replace('read: true, max_tlp: amber }', 'read: true, max_tlp: green }')
        .replace('roles: [publisher]', 'roles: [publisher, subscriber]');
      const report = await applyLayoutText(store, admin, changed, { ...EXAMPLE_ENV, MERIDIAN_DE_OFFICER_PASSWORD: 'a brand new password' });
      expect(report.created).to.deep.equal([]);
      expect(report.updated).to.have.members([
        'API root /de/ (title)',
        'grant de/published → organisation de-bka (role subscriber)',
        'account acme-feed (roles)',
        'account de-officer (password)',
      ]);
      expect(await verifySecret('a brand new password', (await store.getAccountByName('de-officer'))!.passwordHash)).to.equal(true);
    });

    it('accepts a password_hash (from meridian hash-password) and JSON as well as YAML', async () => {
      const hash = await hashSecret('a hashed layout password');
      const layout = JSON.stringify({ organisations: [{ name: 'acme', kind: 'vendor' }], accounts: [{ name: 'svc', organisation: 'acme', roles: ['publisher'], password_hash: hash }] });
      expect((await applyLayoutText(store, admin, layout, {})).created).to.deep.equal(['organisation acme', 'account svc']);
      expect((await store.getAccountByName('svc'))!.passwordHash).to.equal(hash);
      expect((await applyLayoutText(store, admin, layout, {})).unchanged).to.equal(2);
      expect(await asyncProblemsOf(() => applyLayoutText(store, admin, JSON.stringify({ accounts: [{ name: 'x', password_hash: 'not-a-hash' }] }), {}))).to.deep.equal([
        'accounts[0] (x): passwordHash must be a Meridian scrypt hash (meridian hash-password)',
      ]);
    });

    it('refuses to change what cannot change (an organisation kind, a collection alias bound to another id)', async () => {
      await applyLayoutText(store, admin, 'organisations: [{ name: acme, kind: vendor }]', {});
      expect(await asyncProblemsOf(() => applyLayoutText(store, admin, 'organisations: [{ name: acme, kind: desk }]', {}))).to.deep.equal([
        'organisations[0] (acme): organisation "acme" exists as a vendor; its kind cannot change',
      ]);
    });
  });
});
