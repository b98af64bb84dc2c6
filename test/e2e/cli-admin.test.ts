// The admin commands of the `meridian` CLI (issue 4) against a local data directory: organisations,
// accounts, API keys (secret printed once), API roots, collections, grants, the audit log,
// hash-password and apply. Most runs are in-process through run(); one runs the real process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { apiKeyMatches } from '../../server/auth/api-keys.js';
import { verifySecret } from '../../server/auth/passwords.js';
import { run } from '../../server/cli.js';
import { EXAMPLE_ENV } from '../helpers/layout-example.js';

describe('meridian admin commands (issue 4)', function () {
  this.timeout(60_000);
  let dir: string;

  async function cli(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await run(['node', 'meridian', '--data', dir, ...args], {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      stdin: Readable.from([stdin]),
      env,
    });
    return { code, stdout, stderr };
  }
  async function ok(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<string> {
    const r = await cli(args, stdin, env);
    expect(r.code, `meridian ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  }
  async function withStore<T>(fn: (s: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore({ location: dir });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-cli-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('organisations: add, list, disable, enable, remove; refusals exit 1 with the reason', async () => {
    expect(await ok(['org', 'add', 'fr-police', '--kind', 'member-agency', '--country', 'FR'])).to.match(/^[0-9a-f-]{36}\n$/);
    await ok(['org', 'add', 'acme-labs', '--kind', 'vendor']);
    await ok(['org', 'disable', 'acme-labs']);
    const listed = (await ok(['org', 'list'])).trim().split('\n').sort();
    expect(listed).to.have.length(2);
    expect(listed[0]).to.match(/^acme-labs\t[0-9a-f-]{36}\tvendor\t-\tdisabled$/);
    expect(listed[1]).to.match(/^fr-police\t[0-9a-f-]{36}\tmember-agency\tfr\tenabled$/);
    await ok(['org', 'enable', 'acme-labs']);
    const dup = await cli(['org', 'add', 'acme-labs', '--kind', 'vendor']);
    expect(dup.code).to.equal(1);
    expect(dup.stderr).to.equal('meridian: organisation "acme-labs" already exists\n');
    expect((await cli(['org', 'add', 'x', '--kind', 'member-agency'])).stderr).to.match(/needs its --country/);
    expect((await cli(['org', 'add', 'x', '--kind', 'bank'])).code).to.equal(2);
    await ok(['account', 'add', 'acme-feed', '--password-stdin', '--organisation', 'acme-labs', '--role', 'publisher'], 'acme feed password\n');
    expect((await cli(['org', 'remove', 'acme-labs'])).stderr).to.match(/still has accounts/);
    await ok(['account', 'remove', 'acme-feed']);
    await ok(['org', 'remove', 'acme-labs']);
    expect(await ok(['org', 'list'])).to.not.include('acme-labs');
  });

  it('accounts: add with organisation and curator roots, update roles/password/enabled, list', async () => {
    await ok(['root', 'add', 'fr', '--title', 'France']);
    await ok(['org', 'add', 'desk', '--kind', 'desk']);
    await ok(['account', 'add', 'cur', '--password-stdin', '--organisation', 'desk', '--role', 'curator', '--curator-root', 'fr'], 'curator password 1\n');
    expect(await ok(['account', 'list'])).to.match(/^cur\t[0-9a-f-]{36}\tdesk\tcurator\tfr\tenabled\n$/);
    await ok(['account', 'update', 'cur', '--role', 'curator', 'publisher', '--disable', '--password-stdin'], 'a new curator password\n');
    expect(await ok(['account', 'list'])).to.match(/\tcurator,publisher\tfr\tdisabled\n$/);
    await withStore(async (s) => expect(await verifySecret('a new curator password', (await s.getAccountByName('cur'))!.passwordHash)).to.equal(true));
    await ok(['account', 'update', 'cur', '--no-roles', '--enable']);
    expect(await ok(['account', 'list'])).to.match(/\tdesk\t-\t-\tenabled\n$/);
    expect((await cli(['account', 'update', 'cur'])).stderr).to.match(/nothing to change/);
    expect((await cli(['account', 'add', 'weak', '--password-stdin'], 'short\n')).stderr).to.match(/at least 12/);
  });

  it('API keys: add prints the key once, list never shows it, revoke', async () => {
    await ok(['account', 'add', 'svc', '--password-stdin', '--role', 'subscriber'], 'service password 1\n');
    const added = await cli(['apikey', 'add', 'svc', '--name', 'siem', '--expires', '2099-01-01T00:00:00Z']);
    expect(added.code).to.equal(0);
    const key = added.stdout.trim();
    expect(key).to.match(/^mrd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(added.stderr).to.match(/not shown again/);
    await withStore(async (s) => expect(apiKeyMatches(key, (await s.listApiKeys())[0]!.hash)).to.equal(true));
    const listed = await ok(['apikey', 'list', 'svc']);
    expect(listed).to.not.include(key);
    expect(listed).to.match(/\tsiem\t.*\texpires 2099-01-01T00:00:00\.000000Z\tnever used\n$/);
    const id = listed.split('\t')[0]!;
    await ok(['apikey', 'revoke', 'svc', id]);
    expect(await ok(['apikey', 'list', 'svc'])).to.match(/\trevoked /);
    expect((await cli(['apikey', 'add', 'svc', '--name', 'x', '--expires', 'soon'])).code).to.equal(2);
  });

  it('API roots and collections: update and remove, with enrichment', async () => {
    await ok(['root', 'add', 'de', '--title', 'Germany']);
    await ok(['root', 'update', 'de', '--title', 'Deutschland', '--max-content-length', '5000']);
    expect(await ok(['root', 'list'])).to.equal('de\tde\tDeutschland\t5000\n');
    const marking = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421';
    const id = (await ok(['collection', 'add', '--root', 'de', '--title', 'Intake', '--alias', 'intake', '--purpose', 'intake', '--default-marking', marking])).trim();
    await ok(['collection', 'update', 'intake', '--root', 'de', '--title', 'Vendor intake', '--default-created-by', 'identity--8ce3f695-d5a4-4dc8-9e93-a65af453469d']);
    await withStore(async (s) => {
      const c = (await s.getCollection('de', id))!;
      expect(c.title).to.equal('Vendor intake');
      expect(c.enrichment).to.deep.equal({ defaultCreatedByRef: 'identity--8ce3f695-d5a4-4dc8-9e93-a65af453469d' });
    });
    expect((await cli(['root', 'remove', 'de'])).stderr).to.match(/still has collections/);
    await ok(['collection', 'remove', id]);
    await ok(['root', 'remove', 'de']);
    expect(await ok(['root', 'list'])).to.equal('');
  });

  it('grants: to an account, an organisation, a role; list; remove by id; the audit log shows it all', async () => {
    await ok(['root', 'add', 'fr', '--title', 'France']);
    await ok(['org', 'add', 'fr-police', '--kind', 'member-agency', '--country', 'fr']);
    await ok(['account', 'add', 'officer', '--password-stdin', '--organisation', 'fr-police', '--role', 'subscriber'], 'officer password 1\n');
    await ok(['collection', 'add', '--root', 'fr', '--title', 'Published', '--alias', 'published']);
    await ok(['grant', 'officer', '--collection', 'published', '--read', '--max-tlp', 'red']);
    await ok(['grant', '--organisation', 'fr-police', '--role', 'subscriber', '--collection', 'published', '--root', 'fr', '--read', '--max-tlp', 'green']);
    const lines = (await ok(['grant', 'list', '--collection', 'published', '--root', 'fr'])).trim().split('\n');
    expect(lines.map((l) => l.split('\t').slice(1))).to.deep.equal([
      ['fr', 'published', 'account:officer', 'read', 'red'],
      ['fr', 'published', 'organisation:fr-police/subscriber', 'read', 'green'],
    ]);
    const json = (await ok(['grant', 'list', '--account', 'officer', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(json).to.have.length(1);
    expect(json[0]).to.include({ account: 'officer', max_tlp: 'red', read: true, write: false });
    await ok(['grant', 'remove', lines[0]!.split('\t')[0]!]);
    expect((await ok(['grant', 'list'])).trim().split('\n')).to.have.length(1);
    expect((await cli(['grant', 'remove', 'no-such-grant'])).code).to.equal(1);
    expect((await cli(['grant', 'officer', '--read'])).stderr).to.match(/--collection/);

    const audit = await ok(['audit', '--action', 'grant.set']);
    expect(audit.trim().split('\n')).to.have.length(2);
    expect(audit).to.match(/^\d+\t\d{4}-\d\d-\d\dT[\d:.]+Z\tcli:[^\t]+\tgrant\.set\tsuccess\t/);
    const events = (await ok(['audit', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { action: string });
    expect(events.map((e) => e.action)).to.include.members(['api-root.create', 'organisation.create', 'account.create', 'collection.create', 'grant.set', 'grant.delete']);
    expect(await ok(['audit', '--since', '2999-01-01T00:00:00Z'])).to.equal('');
    expect(JSON.stringify(events)).to.not.include('officer password 1');
  });

  it('hash-password prints a scrypt hash for layout files', async () => {
    const hash = (await ok(['hash-password'], 'layout password 123\n')).trim();
    expect(hash).to.match(/^scrypt\$/);
    expect(await verifySecret('layout password 123', hash)).to.equal(true);
    expect((await cli(['hash-password'], 'short\n')).code).to.equal(1);
  });

  it('apply: the example layout, twice (the second run changes nothing), --check, and refusals', async () => {
    const env = EXAMPLE_ENV;
    const example = path.resolve('docs/examples/layout.yaml');
    expect(await ok(['apply', '--check', example], '', env)).to.equal(`${example}: valid\n`);
    const first = await ok(['apply', example], '', env);
    expect(first).to.match(/^created organisation interpol-desk\n/);
    expect(first).to.match(/\n25 created, 0 updated, 0 unchanged\n$/);
    expect(await ok(['apply', example], '', env)).to.equal('nothing to change (25 unchanged)\n');

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'accounts:\n  - name: x\n    password: in the clear\n');
    const refused = await cli(['apply', bad]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/accounts\[0\]\.password: plain passwords are not allowed/);
    const missing = await cli(['apply', example]); // no password variables set
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('accounts[0] (desk-admin).password_env: the environment variable MERIDIAN_DESK_ADMIN_PASSWORD is not set');
    expect((await cli(['apply', path.join(dir, 'absent.yaml')])).code).to.equal(1);
  });

  it('the real process: meridian apply from standard input', function () {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('server/meridian.ts'), '--data', dir, 'apply', '-'], {
      input: 'organisations: [{ name: acme-labs, kind: vendor }]\n',
      encoding: 'utf8',
      env: { ...process.env },
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('created organisation acme-labs\n1 created, 0 updated, 0 unchanged\n');
  });
});
