// The `meridian` command line (ARCHITECTURE §8): serve, and the admin commands on the local store.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Role, Store, TlpLevel } from '../collections/store.js';
import { StoreConflictError } from '../collections/store.js';
import { userInfo } from 'node:os';
import { Admin, AdminError, ROLES } from './admin/admin.js';
import { ConfigError, type Config, loadConfig } from './config.js';
import { openStore } from './compose.js';
import { runValidate } from './commands/validate.js';
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

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return Number(value);
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
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const config = (cmd: Command, overrides: Record<string, unknown> = {}): Readonly<Config> => {
    const g = cmd.optsWithGlobals() as { data?: string; config?: string };
    return loadConfig({ file: g.config, env: io.env, overrides: { dataDir: g.data, ...overrides } });
  };
  let code = 0;
  /** Runs an admin action on the local store as the operator (audited as cli:<user>). */
  const withAdmin = (action: (admin: Admin, store: Store, ...args: any[]) => Promise<void>) =>
    async function (this: Command, ...args: any[]) {
      const store = openStore(config(this));
      try {
        await action(new Admin(store, { name: `cli:${userInfo().username}` }), store, ...args);
      } finally {
        await store.close();
      }
    };

  program
    .command('serve')
    .description('run the TAXII 2.1 server')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port to listen on (default 8470)').argParser(port))
    .option('--tls-cert <file>', 'TLS certificate (PEM); TLS 1.2 minimum')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--allow-insecure-http', 'allow plain HTTP on a non-loopback address (behind a TLS proxy)')
    .option('--public-base-url <url>', 'base URL clients see, for discovery behind a proxy')
    .action(async function (this: Command, o: { host?: string; port?: number; tlsCert?: string; tlsKey?: string; allowInsecureHttp?: boolean; publicBaseUrl?: string }) {
      const server = await serve(config(this, { host: o.host, port: o.port, tlsCert: o.tlsCert, tlsKey: o.tlsKey, allowInsecureHttp: o.allowInsecureHttp, publicBaseUrl: o.publicBaseUrl }));
      await new Promise(() => undefined); // runs until a signal closes it
      await server.close();
    });

  const account = program.command('account').description('manage accounts');
  account
    .command('add <name>')
    .description('create an account (the password is read from standard input)')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .addOption(new Option('--role <role...>', 'roles of the account').choices(ROLES as string[]).default([]))
    .option('--organisation <name>', 'organisation the account belongs to')
    .option('--curator-root <path...>', 'API roots a curator curates')
    .action(withAdmin(async (admin, _store, name: string, o: { role: Role[]; organisation?: string; curatorRoot?: string[] }) => {
      const created = await admin.addAccount({ name, password: await readSecret(io.stdin), roles: o.role, organisation: o.organisation, curatorRoots: o.curatorRoot });
      io.stdout(`${created.id}\n`);
    }));
  account
    .command('list')
    .description('list accounts')
    .action(withAdmin(async (admin) => {
      for (const a of await admin.listAccounts()) io.stdout(`${a.name}\t${a.id}\t${a.roles.join(',') || '-'}\t${a.disabled ? 'disabled' : 'enabled'}\n`);
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

  const root = program.command('root').description('manage API roots');
  root
    .command('add <path>')
    .description('create an API root, served at /<path>/')
    .requiredOption('--title <title>', 'title of the API root')
    .option('--description <text>', 'description')
    .addOption(new Option('--max-content-length <bytes>', 'largest accepted POST body (default 104857600)').argParser(positiveInt))
    .option('--country <cc>', 'member country of a named root (a two-letter root is its country\'s)')
    .action(withAdmin(async (admin, _store, rootPath: string, o: { title: string; description?: string; maxContentLength?: number; country?: string }) => {
      await admin.addApiRoot({ path: rootPath, title: o.title, description: o.description, maxContentLength: o.maxContentLength, country: o.country });
    }));
  root
    .command('list')
    .description('list API roots')
    .action(withAdmin(async (admin) => {
      for (const r of await admin.listApiRoots()) io.stdout(`${r.path}\t${r.country ?? '-'}\t${r.title}\t${r.maxContentLength}\n`);
    }));

  const collection = program.command('collection').description('manage collections');
  collection
    .command('add')
    .description('create a collection; prints its id')
    .requiredOption('--root <path>', 'API root of the collection')
    .requiredOption('--title <title>', 'title (unique within the API root)')
    .option('--alias <alias>', 'alias (unique within the API root)')
    .option('--description <text>', 'description')
    .option('--id <uuid>', 'use this id instead of a new UUIDv4')
    .addOption(new Option('--purpose <purpose>', 'intake (vendors write, curators read) or published').choices(['intake', 'published']).default('published'))
    .action(withAdmin(async (admin, _store, o: { root: string; title: string; alias?: string; description?: string; id?: string; purpose: 'intake' | 'published' }) => {
      const created = await admin.addCollection({ apiRoot: o.root, title: o.title, alias: o.alias, description: o.description, id: o.id, purpose: o.purpose });
      io.stdout(`${created.id}\n`);
    }));
  collection
    .command('list')
    .description('list collections')
    .option('--root <path>', 'only this API root')
    .action(withAdmin(async (admin, _store, o: { root?: string }) => {
      for (const c of await admin.listCollections(o.root)) io.stdout(`${c.apiRoot}\t${c.id}\t${c.alias ?? '-'}\t${c.purpose}\t${c.title}\n`);
    }));
  collection
    .command('remove <idOrAlias>')
    .description('delete a collection with all its objects')
    .option('--root <path>', 'API root (needed for an alias used in several roots)')
    .action(withAdmin(async (admin, _store, idOrAlias: string, o: { root?: string }) => {
      await admin.removeCollection(idOrAlias, o.root);
    }));

  program
    .command('grant [account]')
    .description('set the rights of an account, an organisation, or a role in one, on a collection (neither --read nor --write revokes)')
    .requiredOption('--collection <idOrAlias>', 'collection id or alias')
    .option('--root <path>', 'API root (needed for an alias used in several roots)')
    .option('--organisation <name>', 'grant to this organisation instead of an account')
    .addOption(new Option('--role <role>', 'with --organisation: only its accounts with this role').choices(ROLES as string[]))
    .option('--read', 'may read (GET objects, manifest, versions)')
    .option('--write', 'may write (POST objects)')
    .addOption(new Option('--max-tlp <level>', 'hide objects marked above this TLP level; red names the subject a TLP:RED recipient').choices(['clear', 'green', 'amber', 'amber+strict', 'red']))
    .action(withAdmin(async (admin, _store, accountName: string | undefined, o: { collection: string; root?: string; organisation?: string; role?: Role; read?: boolean; write?: boolean; maxTlp?: TlpLevel }) => {
      await admin.grant({ collection: o.collection, apiRoot: o.root, account: accountName, organisation: o.organisation, role: o.role, read: o.read, write: o.write, maxTlp: o.maxTlp });
    }));

  program
    .command('validate <files...>')
    .description('validate STIX 2.1 bundles, envelopes, objects or lists offline ("-" reads standard input)')
    .option('--json', 'print one machine-readable report')
    .option('--strict', 'treat warnings as errors')
    .action(async (files: string[], o: { json?: boolean; strict?: boolean }) => {
      code = await runValidate(files, o, io);
    });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ConfigError) {
      io.stderr(`meridian: ${err.message}\n`);
      return 2;
    }
    if (err instanceof AdminError || err instanceof StoreConflictError) {
      io.stderr(`meridian: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export async function main(argv: string[]): Promise<void> {
  process.exitCode = await run(argv);
}
