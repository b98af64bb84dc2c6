// The admin commands of the `meridian` CLI against a local data directory: organisations,
// accounts, API keys (secret printed once), API roots, collections, grants, the audit log,
// hash-password and apply. Most runs are in-process through run(); one runs the real process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { SqliteStore } from '../../collections/sqlite/sqlite-store.js';
import { apiKeyMatches } from '../../server/auth/api-keys.js';
import { verifySecret } from '../../server/auth/passwords.js';
import { run } from '../../server/cli.js';
import { EXAMPLE_ENV } from '../helpers/layout-example.js';
import { runCli } from '../helpers/process.js';

describe('meridian admin commands', function () {
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
  /** The rows of a list command's table, under its header, split into cells. */
  async function table(args: string[]): Promise<{ header: string[]; rows: string[][] }> {
    const [header, ...lines] = (await ok(args)).trimEnd().split('\n');
    return { header: header!.split(/ {2,}/), rows: lines.map((l) => l.split(/ {2,}/)) };
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
    const { header, rows } = await table(['org', 'list']);
    expect(header).to.deep.equal(['NAME', 'ID', 'KIND', 'COUNTRY', 'STATE']);
    const listed = rows.sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(listed).to.have.length(2);
    expect(listed[0]!.join('\t')).to.match(/^acme-labs\t[0-9a-f-]{36}\tvendor\t-\tdisabled$/);
    expect(listed[1]!.join('\t')).to.match(/^fr-police\t[0-9a-f-]{36}\tmember-agency\tfr\tenabled$/);
    const json = JSON.parse(await ok(['org', 'list', '--json'])) as Array<Record<string, unknown>>;
    expect(json.map((o) => o.name).sort()).to.deep.equal(['acme-labs', 'fr-police']);
    expect(json.find((o) => o.name === 'fr-police')).to.include({ kind: 'member-agency', country: 'fr', disabled: false });
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
    expect((await table(['account', 'list'])).rows.map((r) => r.join('\t'))).to.match(/^cur\t[0-9a-f-]{36}\tdesk\tcurator\tfr\tenabled$/);
    await ok(['account', 'update', 'cur', '--role', 'curator', 'publisher', '--disable', '--password-stdin'], 'a new curator password\n');
    expect((await table(['account', 'list'])).rows[0]!.slice(2)).to.deep.equal(['desk', 'curator,publisher', 'fr', 'disabled']);
    const accounts = await ok(['account', 'list', '--json']);
    expect(JSON.parse(accounts)).to.have.length(1).and.to.have.nested.property('[0].organisation', 'desk');
    expect(JSON.parse(accounts)[0]).to.deep.include({ name: 'cur', roles: ['curator', 'publisher'], curator_roots: ['fr'], disabled: true });
    expect(accounts).to.not.match(/scrypt|password|hash/i);
    await withStore(async (s) => expect(await verifySecret('a new curator password', (await s.getAccountByName('cur'))!.passwordHash)).to.equal(true));
    await ok(['account', 'update', 'cur', '--no-roles', '--enable']);
    expect((await table(['account', 'list'])).rows[0]!.slice(2)).to.deep.equal(['desk', '-', '-', 'enabled']);
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
    const { header, rows } = await table(['apikey', 'list', 'svc']);
    expect(header).to.deep.equal(['ID', 'PREFIX', 'NAME', 'CREATED', 'STATE', 'LAST USED']);
    expect(rows[0]!.slice(2)).to.deep.include.members(['siem', 'expires 2099-01-01T00:00:00.000000Z', 'never']);
    const json = await ok(['apikey', 'list', 'svc', '--json']);
    expect(JSON.parse(json)).to.have.length(1);
    expect(json).to.not.include(key.split('_')[2]!).and.not.match(/"hash"|scrypt/);
    const id = rows[0]![0]!;
    await ok(['apikey', 'revoke', 'svc', id]);
    expect((await table(['apikey', 'list', 'svc'])).rows[0]![4]).to.match(/^revoked /);
    expect((await cli(['apikey', 'add', 'svc', '--name', 'x', '--expires', 'soon'])).code).to.equal(2);
  });

  it('API roots and collections: update and remove, with enrichment', async () => {
    await ok(['root', 'add', 'de', '--title', 'Germany']);
    await ok(['root', 'update', 'de', '--title', 'Deutschland', '--max-content-length', '5000']);
    expect(await table(['root', 'list'])).to.deep.equal({ header: ['PATH', 'COUNTRY', 'MAX CONTENT LENGTH', 'TAXII 2.0', 'TITLE'], rows: [['de', 'de', '5000', 'no', 'Deutschland']] });
    expect(JSON.parse(await ok(['root', 'list', '--json']))).to.have.length(1).and.to.have.nested.property('[0].max_content_length', 5000);
    // The read-only TAXII 2.0 view: off by default, on and off again with update.
    await ok(['root', 'update', 'de', '--taxii20']);
    expect((await table(['root', 'list'])).rows[0]![3]).to.equal('yes');
    await ok(['root', 'update', 'de', '--no-taxii20']);
    expect(JSON.parse(await ok(['root', 'list', '--json']))).to.have.nested.property('[0].taxii20', false);
    await ok(['root', 'add', 'qradar', '--title', 'QRadar', '--taxii20']);
    expect(JSON.parse(await ok(['root', 'list', '--json']))).to.have.nested.property('[1].taxii20', true);
    await ok(['root', 'remove', 'qradar']);
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
    expect((await table(['root', 'list'])).rows).to.deep.equal([]);
  });

  it('grants: to an account, an organisation, a role; list; remove by id; the audit log shows it all', async () => {
    await ok(['root', 'add', 'fr', '--title', 'France']);
    await ok(['org', 'add', 'fr-police', '--kind', 'member-agency', '--country', 'fr']);
    await ok(['account', 'add', 'officer', '--password-stdin', '--organisation', 'fr-police', '--role', 'subscriber'], 'officer password 1\n');
    await ok(['collection', 'add', '--root', 'fr', '--title', 'Published', '--alias', 'published']);
    await ok(['grant', 'officer', '--collection', 'published', '--read', '--max-tlp', 'red']);
    await ok(['grant', '--organisation', 'fr-police', '--role', 'subscriber', '--collection', 'published', '--root', 'fr', '--read', '--max-tlp', 'green']);
    const lines = (await table(['grant', 'list', '--collection', 'published', '--root', 'fr'])).rows;
    expect(lines.map((l) => l.slice(1))).to.deep.equal([
      ['fr', 'published', 'account:officer', 'read', 'red'],
      ['fr', 'published', 'organisation:fr-police/subscriber', 'read', 'green'],
    ]);
    const json = JSON.parse(await ok(['grant', 'list', '--account', 'officer', '--json'])) as Array<Record<string, unknown>>;
    expect(json).to.have.length(1);
    expect(json[0]).to.include({ account: 'officer', max_tlp: 'red', read: true, write: false });
    await ok(['grant', 'remove', lines[0]![0]!]);
    expect((await table(['grant', 'list'])).rows).to.have.length(1);
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
    const check = await ok(['apply', '--check', example], '', env);
    expect(check).to.match(/^would create organisation interpol-desk\n/);
    expect(check).to.match(/: valid; no store in .* yet: applying would create it and 25 items\n$/);
    await withStore(async (s) => expect(await s.listOrganisations()).to.deep.equal([]));
    const first = await ok(['apply', example], '', env);
    expect(first).to.match(/^created organisation interpol-desk\n/);
    expect(first).to.match(/\n25 created, 0 updated, 0 unchanged\n$/);
    expect(await ok(['apply', example], '', env)).to.equal('nothing to change (25 unchanged)\n');
    expect(await ok(['apply', '--check', example], '', env)).to.equal(`${example}: valid\n`);

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

  it('audit: the newest events first by default, --oldest-first reverses, --limit keeps that end', async () => {
    for (const name of ['first-org', 'second-org', 'third-org']) await ok(['org', 'add', name, '--kind', 'vendor']);
    const targets = async (args: string[]) => (await ok(['audit', '--action', 'organisation.create', '--json', ...args])).trim().split('\n').map((l) => (JSON.parse(l) as { target: string }).target);
    expect(await targets([])).to.deep.equal(['third-org', 'second-org', 'first-org']);
    expect(await targets(['--oldest-first'])).to.deep.equal(['first-org', 'second-org', 'third-org']);
    expect(await targets(['--limit', '2'])).to.deep.equal(['third-org', 'second-org']);
    expect(await targets(['--limit', '2', '--oldest-first'])).to.deep.equal(['first-org', 'second-org']);
    expect(await ok(['audit', '--help'])).to.match(/newest events first/);
  });

  it('collection add --id: only a UUIDv4 unless --allow-non-v4-id; a layout file follows the same rule', async () => {
    await ok(['root', 'add', 'fr', '--title', 'France']);
    const v1 = 'c0ffee00-1234-11ee-8000-000000000001';
    const refused = await cli(['collection', 'add', '--root', 'fr', '--title', 'One', '--id', v1]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.equal(`meridian: --id must be a UUIDv4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx): Microsoft Sentinel and other clients reject other versions (got "${v1}")\n`);
    expect((await cli(['collection', 'add', '--root', 'fr', '--title', 'One', '--id', 'not-a-uuid'])).code).to.equal(2);
    expect((await ok(['collection', 'add', '--root', 'fr', '--title', 'One', '--id', v1, '--allow-non-v4-id'])).trim()).to.equal(v1);
    const v4 = '4d7c5e4a-9a0b-4c3d-8e2f-1a2b3c4d5e6f';
    expect((await ok(['collection', 'add', '--root', 'fr', '--title', 'Two', '--id', v4])).trim()).to.equal(v4);

    const layout = path.join(dir, 'ids.yaml');
    writeFileSync(layout, `collections:\n  - { api_root: fr, title: One, id: ${v1} }\n  - { api_root: fr, title: Three, id: c0ffee00-1234-11ee-8000-000000000003 }\n`);
    const r = await cli(['apply', '--check', layout]);
    expect(r.code).to.equal(1);
    // The stored collection keeps its id; only the new one is refused.
    expect(r.stderr).to.include('collections[1].id must be a UUIDv4').and.not.include('collections[0].id');
  });

  it('apply --check on a path with no store creates nothing there', async () => {
    const fresh = path.join(dir, 'not', 'yet');
    const layout = path.join(dir, 'layout.yaml');
    writeFileSync(layout, 'organisations: [{ name: acme-labs, kind: vendor }]\napi_roots: [{ path: fr, title: France }]\n');
    const r = await run(['node', 'meridian', '--data', fresh, 'apply', '--check', layout], { stdout: () => undefined, stderr: () => undefined, stdin: Readable.from(['']), env: {} });
    expect(r).to.equal(0);
    expect(existsSync(path.join(dir, 'not'))).to.equal(false);
    const out = await cli(['apply', '--check', layout]);
    expect(out.stdout).to.equal(`would create organisation acme-labs\nwould create API root /fr/\n${layout}: valid; no store in ${dir} yet: applying would create it and 2 items\n`);
  });

  it('--version and -V print the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await ok(['--version'])).to.equal(`${version}\n`);
    expect(await ok(['-V'])).to.equal(`${version}\n`);
  });

  it('the real process: serve on a port in use says so in one line and exits 2', async function () {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const r = await runCli(['--data', dir, 'serve', '--port', String(port)], {});
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.equal(`meridian: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE); choose another --port or stop the other process\n`);
      expect(r.stderr).to.not.include('    at ');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('the real process: serve with a missing TLS file says which in one line and exits 2', async () => {
    const r = await runCli(['--data', dir, 'serve', '--port', '0', '--tls-cert', path.join(dir, 'absent.pem'), '--tls-key', path.join(dir, 'absent.key')], {});
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal(`meridian: cannot read the TLS certificate ${path.join(dir, 'absent.pem')} (--tls-cert): no such file\n`);
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
