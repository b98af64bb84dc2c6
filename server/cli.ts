// The `meridian` command line (docs/architecture.md §8): serve, the admin commands on the local store, and migrate.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AuditEvent, AuditQuery, CollectionPurpose, CollectionRecord, OrganisationKind, Role, Store, TlpLevel } from '../collections/store.js';
import { StoreConflictError } from '../collections/store.js';
import { SchemaTooNewError } from '../collections/migrations.js';
import { parseMicros } from '../taxii/time.js';
import { Admin, AdminError, ORGANISATION_KINDS, PURPOSES, ROLES, TLP_LEVELS, collectionIdProblem, hashPasswordForLayout } from './admin/admin.js';
import { LayoutError, applyLayoutText, checkReferences, parseLayout, validateLayout } from './admin/layout.js';
import { accountView, apiKeyView, apiRootView, auditView, collectionView, grantView, organisationView } from './admin/routes.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { openStore } from './compose.js';
import { type MigrateReport, migrate } from './commands/migrate.js';
import { runValidate } from './commands/validate.js';
import { curationCommands } from './commands/curation.js';
import { subscriptionCommands, subscriptionService } from './commands/subscriptions.js';
import { positiveInt, remoteCommands } from './commands/remote-cli.js';
import { RemoteUsageError } from './commands/taxii-remote.js';
import { maintenanceCommands } from './commands/maintenance.js';
import { TaxiiError } from '../taxii/errors.js';
import { serve } from './main.js';

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: process.stdin,
  env: process.env,
};

/** A command used wrongly, or a server that cannot start: one line on standard error, exit 2. */
class UsageError extends Error {}

/** The version in package.json (one directory up from the source, two from the build). */
function packageVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'meridian-taxii' && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return 'unknown';
}

/**
 * Every list command prints through this: a header row and aligned columns for a person, or with
 * --json an array of the records as the admin API shows them (the columns are read from those
 * same records, so neither can show a secret the other hides).
 */
function printList<T>(io: Io, json: boolean | undefined, records: T[], columns: Array<[header: string, cell: (record: T) => string]>): void {
  if (json) {
    io.stdout(`${JSON.stringify(records, null, 2)}\n`);
    return;
  }
  const rows = [columns.map(([header]) => header), ...records.map((r) => columns.map(([, cell]) => cell(r)))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) io.stdout(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`);
}

/** Newest first: the store reads forward from the oldest, so page through and keep the last `limit`. */
async function newestAudit(admin: Admin, query: AuditQuery): Promise<AuditEvent[]> {
  const PAGE = 1000;
  const kept: AuditEvent[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const page = await admin.auditLog({ ...query, limit: PAGE, ...(afterSeq !== undefined ? { afterSeq } : {}) });
    kept.push(...page);
    if (kept.length > query.limit) kept.splice(0, kept.length - query.limit);
    if (page.length < PAGE) break;
    afterSeq = page[page.length - 1]!.seq;
  }
  return kept.reverse();
}

/** Why `serve` could not start, in one line, for the errors a person can fix themselves. */
function startFailure(err: unknown, config: Readonly<Config>): string | undefined {
  const e = err as NodeJS.ErrnoException;
  const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (e?.code === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use (EADDRINUSE); choose another --port or stop the other process`;
  if (e?.code === 'EACCES') return `cannot listen on ${where}: permission denied (EACCES); ports below 1024 need privileges, choose another --port`;
  if (e?.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such local address (EADDRNOTAVAIL); choose another --host`;
  return undefined;
}

/** The TLS files must be readable before the server opens its store. */
function checkTlsFiles(config: Readonly<Config>): void {
  for (const [flag, file] of [['--tls-cert', config.tlsCert], ['--tls-key', config.tlsKey]] as const) {
    if (file === undefined) continue;
    try {
      readFileSync(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
      throw new UsageError(`cannot read the TLS ${flag === '--tls-cert' ? 'certificate' : 'private key'} ${file} (${flag}): ${why}`);
    }
  }
}

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return Number(value);
}

function mongoUri(value: string): string {
  if (!/^mongodb(\+srv)?:\/\/\S+$/.test(value)) throw new InvalidArgumentError('must be a mongodb:// or mongodb+srv:// URI');
  return value;
}

function timestamp(value: string): number {
  const us = parseMicros(value);
  if (us === undefined) throw new InvalidArgumentError('must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z');
  return us;
}

function enrichmentOf(o: { defaultMarking?: string[]; defaultCreatedBy?: string }): CollectionRecord['enrichment'] | undefined {
  if (!o.defaultMarking && !o.defaultCreatedBy) return undefined;
  return { ...(o.defaultMarking ? { defaultMarkingRefs: o.defaultMarking } : {}), ...(o.defaultCreatedBy ? { defaultCreatedByRef: o.defaultCreatedBy } : {}) };
}

/** Leaves out undefined values (the Admin inputs distinguish "absent" from "set"). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

async function readSecret(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Runs the CLI; returns the exit code (serve resolves only once the server stops). */
export async function run(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = new Command('meridian')
    .description('Meridian — a TAXII 2.1 server for STIX 2.1 threat intelligence')
    .option('--data <dir>', 'data directory of the embedded store (env MERIDIAN_DATA_DIR; default ./data)')
    .option('--config <file>', 'configuration file, JSON or YAML (env MERIDIAN_CONFIG)')
    .version(packageVersion(), '-V, --version', 'print the version of Meridian')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const config = (cmd: Command, overrides: Record<string, unknown> = {}): Readonly<Config> => {
    const g = cmd.optsWithGlobals() as { data?: string; config?: string };
    return loadConfig({ file: g.config, env: io.env, overrides: { dataDir: g.data, ...overrides } });
  };
  let code = 0;
  /** Runs an admin action on the local store as the operator (audited as cli:<user>). */
  /** Runs an action on the local store (and the configuration it was opened with). */
  const withStore = (action: (store: Store, config: Readonly<Config>, ...args: any[]) => Promise<void>) =>
    async function (this: Command, ...args: any[]) {
      const c = config(this);
      const store = openStore(c);
      try {
        await action(store, c, ...args);
      } finally {
        await store.close();
      }
    };
  const withAdmin = (action: (admin: Admin, store: Store, ...args: any[]) => Promise<void>) =>
    withStore((store, _config, ...args) => action(new Admin(store, { name: `cli:${userInfo().username}` }), store, ...args));

  program
    .command('serve')
    .description('run the TAXII 2.1 server')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port to listen on (default 8470)').argParser(port))
    .option('--tls-cert <file>', 'TLS certificate (PEM); TLS 1.2 minimum')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--allow-insecure-http', 'allow plain HTTP on a non-loopback address (behind a TLS proxy)')
    .option('--public-base-url <url>', 'base URL clients see, for discovery behind a proxy')
    .addOption(new Option('--log-format <format>', 'json lines (default), or pretty for a person at a terminal (env MERIDIAN_LOG_FORMAT)').choices(['json', 'pretty']))
    .action(async function (this: Command, o: { host?: string; port?: number; tlsCert?: string; tlsKey?: string; allowInsecureHttp?: boolean; publicBaseUrl?: string; logFormat?: string }) {
      const c = config(this, { host: o.host, port: o.port, tlsCert: o.tlsCert, tlsKey: o.tlsKey, allowInsecureHttp: o.allowInsecureHttp, publicBaseUrl: o.publicBaseUrl, logFormat: o.logFormat });
      checkTlsFiles(c);
      let server: Awaited<ReturnType<typeof serve>>;
      try {
        server = await serve(c);
      } catch (err) {
        const failure = startFailure(err, c);
        if (failure === undefined) throw err;
        throw new UsageError(failure);
      }
      await new Promise(() => undefined); // runs until a signal closes it
      await server.close();
    });

  const org = program.command('org').description('manage organisations (member agencies, vendors, the desk)');
  org
    .command('add <name>')
    .description('create an organisation; prints its id')
    .addOption(new Option('--kind <kind>', 'what the organisation is').choices(ORGANISATION_KINDS as string[]).makeOptionMandatory())
    .option('--country <cc>', 'ISO 3166-1 alpha-2 country of a member agency')
    .action(withAdmin(async (admin, _store, name: string, o: { kind: OrganisationKind; country?: string }) => {
      io.stdout(`${(await admin.addOrganisation(defined({ name, kind: o.kind, country: o.country }))).id}\n`);
    }));
  org
    .command('list')
    .description('list organisations')
    .option('--json', 'a JSON array of the organisations, as the admin API shows them')
    .action(withAdmin(async (admin, _store, o: { json?: boolean }) => {
      printList(io, o.json, (await admin.listOrganisations()).map(organisationView), [
        ['NAME', (x) => x.name],
        ['ID', (x) => x.id],
        ['KIND', (x) => x.kind],
        ['COUNTRY', (x) => x.country ?? '-'],
        ['STATE', (x) => (x.disabled ? 'disabled' : 'enabled')],
      ]);
    }));
  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    org
      .command(`${verb} <name>`)
      .description(`${verb} an organisation (a disabled organisation's accounts see nothing)`)
      .action(withAdmin(async (admin, _store, name: string) => {
        await admin.setOrganisationDisabled(name, disabled);
      }));
  }
  org
    .command('remove <name>')
    .description('delete an organisation that has no accounts left, with its grants')
    .action(withAdmin(async (admin, _store, name: string) => {
      await admin.removeOrganisation(name);
    }));

  const account = program.command('account').description('manage accounts');
  account
    .command('add <name>')
    .description('create an account (the password is read from standard input)')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .addOption(new Option('--role <role...>', 'roles of the account').choices(ROLES as string[]).default([]))
    .option('--organisation <name>', 'organisation the account belongs to')
    .option('--curator-root <path...>', 'API roots a curator curates')
    .action(withAdmin(async (admin, _store, name: string, o: { role: Role[]; organisation?: string; curatorRoot?: string[] }) => {
      const created = await admin.addAccount(defined({ name, password: await readSecret(io.stdin), roles: o.role, organisation: o.organisation, curatorRoots: o.curatorRoot }));
      io.stdout(`${created.id}\n`);
    }));
  account
    .command('list')
    .description('list accounts (never their password hashes)')
    .option('--json', 'a JSON array of the accounts, as the admin API shows them')
    .action(withAdmin(async (admin, store, o: { json?: boolean }) => {
      const views = [];
      for (const a of await admin.listAccounts()) views.push(accountView(a, a.organisationId ? await store.getOrganisation(a.organisationId) : undefined));
      printList(io, o.json, views, [
        ['NAME', (a) => a.name],
        ['ID', (a) => a.id],
        ['ORGANISATION', (a) => a.organisation ?? '-'],
        ['ROLES', (a) => a.roles.join(',') || '-'],
        ['CURATOR ROOTS', (a) => a.curator_roots?.join(',') ?? '-'],
        ['STATE', (a) => (a.disabled ? 'disabled' : 'enabled')],
      ]);
    }));
  account
    .command('update <name>')
    .description('change an account: roles, curated API roots, organisation, password, enabled')
    .addOption(new Option('--role <role...>', 'replace the roles').choices(ROLES as string[]))
    .option('--no-roles', 'remove every role')
    .option('--curator-root <path...>', 'replace the API roots a curator curates')
    .option('--organisation <name>', 'move the account to this organisation')
    .option('--password-stdin', 'set a new password, read from standard input')
    .option('--disable', 'disable the account')
    .option('--enable', 'enable the account')
    .action(withAdmin(async (admin, _store, name: string, o: { role?: Role[]; roles?: boolean; curatorRoot?: string[]; organisation?: string; passwordStdin?: boolean; disable?: boolean; enable?: boolean }) => {
      if (o.disable && o.enable) throw new AdminError('--disable and --enable exclude each other');
      const changes = defined({
        roles: o.roles === false ? [] : o.role,
        curatorRoots: o.curatorRoot,
        organisation: o.organisation,
        disabled: o.disable ? true : o.enable ? false : undefined,
        password: o.passwordStdin ? await readSecret(io.stdin) : undefined,
      });
      if (Object.keys(changes).length === 0) throw new AdminError('nothing to change (see meridian account update --help)');
      await admin.updateAccount(name, changes);
    }));
  account
    .command('remove <name>')
    .description('delete an account and its grants')
    .action(withAdmin(async (admin, _store, name: string) => {
      await admin.removeAccount(name);
    }));
  account
    .command('passwd <name>')
    .description('set a new password (read from standard input)')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .action(withAdmin(async (admin, _store, name: string) => {
      await admin.updateAccount(name, { password: await readSecret(io.stdin) });
    }));
  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    account
      .command(`${verb} <name>`)
      .description(`${verb} an account`)
      .action(withAdmin(async (admin, _store, name: string) => {
        await admin.updateAccount(name, { disabled });
      }));
  }

  const apikey = program.command('apikey').description('manage API keys (sent as the HTTP Basic password)');
  apikey
    .command('add <account>')
    .description('create an API key for an account; prints the key once (only its hash is kept)')
    .requiredOption('--name <name>', 'what the key is for (e.g. the SIEM connector)')
    .addOption(new Option('--expires <timestamp>', 'RFC 3339 expiry time').argParser(timestamp))
    .action(withAdmin(async (admin, _store, accountName: string, o: { name: string; expires?: number }) => {
      const { key, secret } = await admin.addApiKey(accountName, defined({ name: o.name, expiresAt: o.expires }));
      io.stdout(`${secret}\n`);
      io.stderr(`API key ${key.id} (${key.prefix}) created for ${accountName}; store it now, it is not shown again\n`);
    }));
  apikey
    .command('list <account>')
    .description('list the API keys of an account (never the secrets or their hashes)')
    .option('--json', 'a JSON array of the keys, as the admin API shows them')
    .action(withAdmin(async (admin, _store, accountName: string, o: { json?: boolean }) => {
      printList(io, o.json, (await admin.listApiKeys(accountName)).map(apiKeyView), [
        ['ID', (k) => k.id],
        ['PREFIX', (k) => k.prefix],
        ['NAME', (k) => k.name],
        ['CREATED', (k) => k.created],
        ['STATE', (k) => (k.revoked !== undefined ? `revoked ${k.revoked}` : k.expires !== undefined ? `expires ${k.expires}` : 'active')],
        ['LAST USED', (k) => k.last_used ?? 'never'],
      ]);
    }));
  apikey
    .command('revoke <account> <key>')
    .description('revoke an API key (by id or prefix)')
    .action(withAdmin(async (admin, _store, accountName: string, key: string) => {
      await admin.revokeApiKey(accountName, key);
    }));

  const root = program.command('root').description('manage API roots');
  root
    .command('add <path>')
    .description('create an API root, served at /<path>/')
    .requiredOption('--title <title>', 'title of the API root')
    .option('--description <text>', 'description')
    .addOption(new Option('--max-content-length <bytes>', 'largest accepted POST body (default 104857600)').argParser(positiveInt))
    .option('--country <cc>', 'member country of a named root (a two-letter root is its country\'s)')
    .option('--taxii20', 'also serve a read-only TAXII 2.0 view of it (docs/clients.md)')
    .action(withAdmin(async (admin, _store, rootPath: string, o: { title: string; description?: string; maxContentLength?: number; country?: string; taxii20?: boolean }) => {
      await admin.addApiRoot({ path: rootPath, title: o.title, description: o.description, maxContentLength: o.maxContentLength, country: o.country, taxii20: o.taxii20 === true });
    }));
  root
    .command('list')
    .description('list API roots')
    .option('--json', 'a JSON array of the API roots, as the admin API shows them')
    .action(withAdmin(async (admin, _store, o: { json?: boolean }) => {
      printList(io, o.json, (await admin.listApiRoots()).map(apiRootView), [
        ['PATH', (r) => r.path],
        ['COUNTRY', (r) => r.country ?? '-'],
        ['MAX CONTENT LENGTH', (r) => String(r.max_content_length)],
        ['TAXII 2.0', (r) => (r.taxii20 ? 'yes' : 'no')],
        ['TITLE', (r) => r.title],
      ]);
    }));
  root
    .command('update <path>')
    .description('change the title, description, max_content_length or TAXII 2.0 view of an API root')
    .option('--title <title>', 'title')
    .option('--description <text>', 'description')
    .addOption(new Option('--max-content-length <bytes>', 'largest accepted POST body').argParser(positiveInt))
    .option('--taxii20', 'serve the read-only TAXII 2.0 view of it')
    .option('--no-taxii20', 'stop serving the TAXII 2.0 view of it')
    .action(withAdmin(async (admin, _store, rootPath: string, o: { title?: string; description?: string; maxContentLength?: number; taxii20?: boolean }) => {
      const changes = defined({ title: o.title, description: o.description, maxContentLength: o.maxContentLength, taxii20: o.taxii20 });
      if (Object.keys(changes).length === 0) throw new AdminError('nothing to change (see meridian root update --help)');
      await admin.updateApiRoot(rootPath, changes);
    }));
  root
    .command('remove <path>')
    .description('delete an API root that has no collections left')
    .action(withAdmin(async (admin, _store, rootPath: string) => {
      await admin.removeApiRoot(rootPath);
    }));

  const collection = program.command('collection').description('manage collections');
  collection
    .command('add')
    .description('create a collection; prints its id')
    .requiredOption('--root <path>', 'API root of the collection')
    .requiredOption('--title <title>', 'title (unique within the API root)')
    .option('--alias <alias>', 'alias (unique within the API root)')
    .option('--description <text>', 'description')
    .option('--id <uuid>', 'use this id (a UUIDv4) instead of a new one')
    .option('--allow-non-v4-id', 'accept an --id that is not a UUIDv4 (Microsoft Sentinel and other clients reject those)')
    .addOption(new Option('--purpose <purpose>', 'intake (vendors write, curators read) or published').choices(PURPOSES as string[]).default('published'))
    .option('--default-marking <id...>', 'marking-definition ids added to posted objects that have no markings')
    .option('--default-created-by <identity>', 'created_by_ref added to posted objects that have none')
    .action(withAdmin(async (admin, _store, o: { root: string; title: string; alias?: string; description?: string; id?: string; allowNonV4Id?: boolean; purpose: CollectionPurpose; defaultMarking?: string[]; defaultCreatedBy?: string }) => {
      const idProblem = o.id !== undefined ? collectionIdProblem(o.id, '--id', { allowNonV4: o.allowNonV4Id === true }) : undefined;
      if (idProblem) throw new UsageError(idProblem);
      const created = await admin.addCollection(defined({ apiRoot: o.root, title: o.title, alias: o.alias, description: o.description, id: o.id, allowNonV4Id: o.allowNonV4Id, purpose: o.purpose, enrichment: enrichmentOf(o) }));
      io.stdout(`${created.id}\n`);
    }));
  collection
    .command('list')
    .description('list collections')
    .option('--root <path>', 'only this API root')
    .option('--json', 'a JSON array of the collections, as the admin API shows them')
    .action(withAdmin(async (admin, _store, o: { root?: string; json?: boolean }) => {
      printList(io, o.json, (await admin.listCollections(o.root)).map(collectionView), [
        ['API ROOT', (c) => c.api_root],
        ['ID', (c) => c.id],
        ['ALIAS', (c) => c.alias ?? '-'],
        ['PURPOSE', (c) => c.purpose],
        ['TITLE', (c) => c.title],
      ]);
    }));
  collection
    .command('update <idOrAlias>')
    .description('change the title, description, purpose or enrichment of a collection')
    .option('--root <path>', 'API root (needed for an alias used in several roots)')
    .option('--title <title>', 'title')
    .option('--description <text>', 'description')
    .addOption(new Option('--purpose <purpose>', 'intake or published').choices(PURPOSES as string[]))
    .option('--default-marking <id...>', 'marking-definition ids added to posted objects that have no markings')
    .option('--default-created-by <identity>', 'created_by_ref added to posted objects that have none')
    .action(withAdmin(async (admin, _store, idOrAlias: string, o: { root?: string; title?: string; description?: string; purpose?: CollectionPurpose; defaultMarking?: string[]; defaultCreatedBy?: string }) => {
      const changes = defined({ title: o.title, description: o.description, purpose: o.purpose, enrichment: enrichmentOf(o) });
      if (Object.keys(changes).length === 0) throw new AdminError('nothing to change (see meridian collection update --help)');
      await admin.updateCollection(idOrAlias, o.root, changes);
    }));
  collection
    .command('remove <idOrAlias>')
    .description('delete a collection with all its objects')
    .option('--root <path>', 'API root (needed for an alias used in several roots)')
    .action(withAdmin(async (admin, _store, idOrAlias: string, o: { root?: string }) => {
      await admin.removeCollection(idOrAlias, o.root);
    }));

  const grant = program
    .command('grant [account]')
    .description('set the rights of an account, an organisation, or a role in one, on a collection (neither --read nor --write revokes); grant list / grant remove ID')
    .enablePositionalOptions() // so that `grant list --collection …` reaches the subcommand
    .option('--collection <idOrAlias>', 'collection id or alias (required)')
    .option('--root <path>', 'API root (needed for an alias used in several roots)')
    .option('--organisation <name>', 'grant to this organisation instead of an account')
    .addOption(new Option('--role <role>', 'with --organisation: only its accounts with this role').choices(ROLES as string[]))
    .option('--read', 'may read (GET objects, manifest, versions)')
    .option('--write', 'may write (POST objects)')
    .addOption(new Option('--max-tlp <level>', 'hide objects marked above this TLP level; red names the subject a TLP:RED recipient (default amber+strict)').choices(TLP_LEVELS as string[]))
    .action(withAdmin(async (admin, _store, accountName: string | undefined, o: { collection?: string; root?: string; organisation?: string; role?: Role; read?: boolean; write?: boolean; maxTlp?: TlpLevel }) => {
      if (o.collection === undefined) throw new AdminError("required option '--collection <idOrAlias>' not specified");
      await admin.grant(defined({ collection: o.collection, apiRoot: o.root, account: accountName, organisation: o.organisation, role: o.role, read: o.read, write: o.write, maxTlp: o.maxTlp }));
    }));
  grant
    .command('list')
    .description('list grants: id, API root, collection, subject, rights, TLP cap')
    .option('--collection <idOrAlias>', 'only this collection')
    .option('--root <path>', 'API root of the collection alias')
    .option('--account <name>', 'only the grants to this account')
    .option('--organisation <name>', 'only the grants to this organisation')
    .option('--json', 'a JSON array of the grants, as the admin API shows them')
    .action(withAdmin(async (admin, store, o: { collection?: string; root?: string; account?: string; organisation?: string; json?: boolean }) => {
      const views = [];
      for (const g of await admin.listGrants(defined({ collection: o.collection, apiRoot: o.root, account: o.account, organisation: o.organisation }))) views.push(await grantView(store, g));
      printList(io, o.json, views, [
        ['ID', (v) => v.id],
        ['API ROOT', (v) => v.api_root ?? '-'],
        ['COLLECTION', (v) => v.collection_alias ?? v.collection],
        ['SUBJECT', (v) => (v.account !== undefined ? `account:${v.account}` : `organisation:${v.organisation ?? '?'}${v.role ? `/${v.role}` : ''}`)],
        ['RIGHTS', (v) => [v.read ? 'read' : '', v.write ? 'write' : ''].filter(Boolean).join('+')],
        ['MAX TLP', (v) => v.max_tlp],
      ]);
    }));
  grant
    .command('remove <id>')
    .description('delete a grant by its id (see grant list)')
    .action(withAdmin(async (admin, _store, id: string) => {
      await admin.removeGrant(id);
    }));

  program
    .command('audit')
    .description('read the audit log: the newest events first (the last --limit of them), or with --oldest-first the oldest')
    .option('--actor <name>', 'only this actor (account name, or cli:<user>)')
    .option('--action <action>', 'only this action (e.g. grant.set, object.delete, login)')
    .addOption(new Option('--outcome <outcome>', 'only successes or failures').choices(['success', 'failure']))
    .option('--target <target>', 'only this target')
    .addOption(new Option('--since <timestamp>', 'from this time (RFC 3339)').argParser(timestamp))
    .addOption(new Option('--until <timestamp>', 'up to this time (RFC 3339)').argParser(timestamp))
    .addOption(new Option('--limit <n>', 'at most this many events (the newest, or with --oldest-first the oldest)').argParser(positiveInt).default(1000))
    .option('--oldest-first', 'the oldest events first')
    .option('--json', 'one JSON object per line')
    .action(withAdmin(async (admin, _store, o: { actor?: string; action?: string; outcome?: 'success' | 'failure'; target?: string; since?: number; until?: number; limit: number; oldestFirst?: boolean; json?: boolean }) => {
      const query: AuditQuery = defined({ actor: o.actor, action: o.action, outcome: o.outcome, target: o.target, since: o.since, until: o.until, limit: o.limit });
      for (const e of o.oldestFirst ? await admin.auditLog(query) : await newestAudit(admin, query)) {
        const v = auditView(e);
        if (o.json) io.stdout(`${JSON.stringify(v)}\n`);
        else io.stdout(`${v.seq}\t${v.at}\t${v.actor ?? '-'}\t${v.action}\t${v.outcome}\t${v.target ?? '-'}\t${v.remote ?? '-'}\t${v.detail ? JSON.stringify(v.detail) : ''}\n`);
      }
    }));

  curationCommands(program, (action) => withStore((store, _config, ...args) => action(store, ...args)), io);
  subscriptionCommands(program, withStore, io);
  maintenanceCommands(program, (cmd) => config(cmd), io, (c) => (code = c));

  program
    .command('hash-password')
    .description('read a password from standard input and print its scrypt hash (for password_hash in a layout file)')
    .action(async () => {
      io.stdout(`${await hashPasswordForLayout(await readSecret(io.stdin))}\n`);
    });

  program
    .command('apply <file>')
    .description('apply a layout file (JSON or YAML): organisations, API roots, collections, accounts, grants; idempotent ("-" reads standard input)')
    .option('--check', 'only validate the file against the schema and the store, and say what applying would do; changes nothing (not even a missing data directory)')
    .action(async function (this: Command, file: string, o: { check?: boolean }) {
      const source = file === '-' ? 'stdin' : file;
      let text: string;
      try {
        text = file === '-' ? await readSecret(io.stdin) : readFileSync(file, 'utf8');
      } catch (err) {
        throw new LayoutError([`${source}: ${(err as Error).message}`]);
      }
      const c = config(this);
      const actor = { name: `cli:${userInfo().username}` };
      if (o.check) {
        // Opening an embedded store creates its directory and file; a check of a store not made yet
        // runs the whole layout against an empty in-memory store instead, so it can say what applying would create.
        if (c.store === 'sqlite' && !existsSync(path.join(c.dataDir, 'meridian.sqlite'))) {
          const scratch = openStore({ store: 'sqlite', dataDir: ':memory:' });
          try {
            const report = await applyLayoutText(scratch, new Admin(scratch, actor), text, io.env, source, subscriptionService(scratch, c));
            for (const x of report.created) io.stdout(`would create ${x}\n`);
            io.stdout(`${source}: valid; no store in ${c.dataDir} yet: applying would create it and ${report.created.length} items\n`);
          } finally {
            await scratch.close();
          }
          return;
        }
        const store = openStore(c);
        try {
          await checkReferences(store, validateLayout(parseLayout(text, source), io.env));
        } finally {
          await store.close();
        }
        io.stdout(`${source}: valid\n`);
        return;
      }
      const store = openStore(c);
      try {
        const report = await applyLayoutText(store, new Admin(store, actor), text, io.env, source, subscriptionService(store, c));
        for (const x of report.created) io.stdout(`created ${x}\n`);
        for (const u of report.updated) io.stdout(`updated ${u}\n`);
        io.stdout(report.created.length || report.updated.length ? `${report.created.length} created, ${report.updated.length} updated, ${report.unchanged} unchanged\n` : `nothing to change (${report.unchanged} unchanged)\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('migrate')
    .description('copy an embedded (SQLite) store into MongoDB: resumable, keeps date_added, verifies counts (stop the server first)')
    .requiredOption('--from <dir>', 'data directory of the embedded store (holds meridian.sqlite)')
    .addOption(new Option('--to <uri>', 'mongodb:// or mongodb+srv:// URI of the target database').argParser(mongoUri).makeOptionMandatory())
    .addOption(new Option('--batch-size <n>', 'objects per batch (default 1000)').argParser(positiveInt))
    .action(async (o: { from: string; to: string; batchSize?: number }) => {
      if (!existsSync(path.join(o.from, 'meridian.sqlite'))) {
        io.stderr(`meridian: no embedded store in ${o.from} (meridian.sqlite not found)\n`);
        code = 1;
        return;
      }
      // Progress goes to standard error (a bar on a terminal, a line per 10 % otherwise).
      const progress = Object.assign(new Writable({ write(chunk, _enc, cb) { io.stderr(String(chunk)); cb(); } }), { isTTY: io === defaultIo && process.stderr.isTTY === true });
      let report: MigrateReport;
      try {
        report = await migrate({ from: o.from, to: o.to, progress, ...(o.batchSize ? { batchSize: o.batchSize } : {}) });
      } catch (err) {
        io.stderr(`meridian: migration failed: ${(err as Error).message}\n`);
        code = 1;
        return;
      }
      for (const [kind, n] of Object.entries(report.counts)) io.stdout(`${kind}\t${n.source}\t${n.target}${n.source === n.target ? '' : '\tMISMATCH'}\n`);
      if (report.ok) io.stderr('migration complete: every count matches\n');
      else {
        io.stderr('meridian: migration incomplete: counts differ (see MISMATCH); run it again to resume\n');
        code = 1;
      }
    });

  program
    .command('validate <files...>')
    .description('validate STIX 2.1 bundles, envelopes, objects or lists offline ("-" reads standard input)')
    .option('--json', 'print one machine-readable report')
    .option('--strict', 'treat warnings as errors')
    .action(async (files: string[], o: { json?: boolean; strict?: boolean }) => {
      code = await runValidate(files, { ...o, command: 'meridian validate' }, io);
    });

  // Clients of any TAXII 2.1 server (built on client/).
  remoteCommands(program, { ...io, tty: io === defaultIo && process.stderr.isTTY === true }, (c) => (code = c));

  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    // A store from a newer Meridian is not touched: the operator runs that release or restores a backup.
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof RemoteUsageError || err instanceof SchemaTooNewError) {
      io.stderr(`meridian: ${err.message}\n`);
      return 2;
    }
    if (err instanceof TaxiiError) {
      // The desk's refusals, as the curation API would answer them: bad input exits 2, a refusal 1.
      io.stderr(`meridian: ${err.description ?? err.title}\n`);
      return err.status === 400 ? 2 : 1;
    }
    if (err instanceof AdminError || err instanceof StoreConflictError || err instanceof LayoutError) {
      io.stderr(`meridian: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
  // A failed command may leave handles open that it cannot reach (when serve cannot listen, the
  // store and app it opened stay up); do not wait on them. Standard streams to pipes, files and
  // terminals are written synchronously, so nothing printed is lost.
  if (code !== 0) process.exit(code);
}
