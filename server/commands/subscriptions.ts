// `meridian subscription …`: webhook subscriptions at the command line, on the local store, through
// the same SubscriptionService as /admin/v1/subscriptions (validation, the SSRF policy, audit). The
// operator acts as an admin: every subscription names its organisation. A secret is printed once.
import { type Command, Option } from 'commander';
import { userInfo } from 'node:os';
import type { Store, TlpLevel } from '../../collections/store.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError } from '../../taxii/errors.js';
import { parseMicros } from '../../taxii/time.js';
import { EVENT_TYPES } from '../../webhooks/events.js';
import type { SubscriptionInput, SubscriptionService } from '../../webhooks/service.js';
import type { Config } from '../config.js';
import { createWebhooks } from '../webhook-setup.js';
import { createLogger } from '../logger.js';
import { operatorCaller } from '../admin/admin.js';
import { commaList } from './curation.js';

export interface SubscriptionIo {
  stdout: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

type WithStore = (action: (store: Store, config: Readonly<Config>, ...args: any[]) => Promise<void>) => (this: Command, ...args: any[]) => Promise<void>;

const TLP = ['clear', 'green', 'amber', 'amber+strict', 'red'];

/** The operator at the CLI, as an admin of the subscription API. */
function operator(): Caller {
  return operatorCaller(`cli:${userInfo().username}`);
}

/** A whsec_ secret from the named environment variable (never from the command line, which ps shows). */
export function secretFrom(env: NodeJS.ProcessEnv, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = env[variable];
  if (!value) throw new TaxiiError('TAXII_ERR_INVALID', `the environment variable ${variable} (the secret) is not set`);
  return value;
}

/** The subscription service of a short CLI process (its worker never runs here). */
export function subscriptionService(store: Store, config: Readonly<Config>): SubscriptionService {
  return createWebhooks(config, store, createLogger('error')).subscriptions;
}

export function subscriptionCommands(program: Command, withStore: WithStore, io: SubscriptionIo): void {
  const sub = program.command('subscription').description('webhook subscriptions of organisations (signed per Standard Webhooks): add, list, show, update, disable, enable, rotate-secret, remove, deliveries, redeliver');
  const print = (value: unknown) => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  const filters = (cmd: Command) =>
    cmd
      .option('--collection <refs>', 'published collections to follow: ROOT/ALIAS, ROOT/ID or ID (comma-separated, repeatable)', commaList)
      .option('--event-type <types>', `event types (${EVENT_TYPES.join(', ')}; comma-separated, repeatable)`, commaList)
      .option('--object-type <types>', 'only objects of these STIX types (comma-separated, repeatable)', commaList)
      .addOption(new Option('--max-tlp <level>', 'only objects marked up to this TLP').choices(TLP))
      .option('--description <text>', 'what the subscription is for');
  const input = (o: { url?: string; collection?: string[]; eventType?: string[]; objectType?: string[]; maxTlp?: string; description?: string }): SubscriptionInput => ({
    ...(o.url !== undefined ? { url: o.url } : {}),
    ...(o.collection ? { collections: o.collection } : {}),
    ...(o.eventType ? { event_types: o.eventType } : {}),
    ...(o.objectType ? { object_types: o.objectType } : {}),
    ...(o.maxTlp ? { max_tlp: o.maxTlp as TlpLevel } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
  });

  filters(sub.command('add').description('subscribe an organisation; prints the subscription and its secret (shown this once)'))
    .requiredOption('--organisation <name>', 'the organisation the subscription belongs to')
    .requiredOption('--url <url>', 'the receiver (HTTPS; a private or loopback target must be in webhookAllowTargets)')
    .option('--secret-env <variable>', 'take the whsec_ secret from this environment variable instead of making one')
    .action(withStore(async (store, config, o: { organisation: string; url: string; secretEnv?: string } & Parameters<typeof input>[0]) => {
      const secret = secretFrom(io.env, o.secretEnv);
      print(await subscriptionService(store, config).create(operator(), { ...input(o), organisation: o.organisation, ...(secret ? { secret } : {}) }));
    }));

  sub
    .command('list')
    .description('every subscription (never a secret)')
    .action(withStore(async (store, config) => print(await subscriptionService(store, config).list(operator()))));

  sub
    .command('show <id>')
    .description('one subscription: filters, state, failures, next attempt')
    .action(withStore(async (store, config, id: string) => print(await subscriptionService(store, config).get(operator(), id))));

  filters(sub.command('update <id>').description('change the receiver or the filters (a newly followed collection starts now)'))
    .option('--url <url>', 'a new receiver')
    .action(withStore(async (store, config, id: string, o: Parameters<typeof input>[0]) => {
      const changes = input(o);
      if (Object.keys(changes).length === 0) throw new TaxiiError('TAXII_ERR_INVALID', 'nothing to change');
      print(await subscriptionService(store, config).update(operator(), id, changes));
    }));

  sub
    .command('disable <id>')
    .description('stop delivering (events wait at the cursor)')
    .option('--reason <text>', 'why')
    .action(withStore(async (store, config, id: string, o: { reason?: string }) => print(await subscriptionService(store, config).disable(operator(), id, o.reason))));

  sub
    .command('enable <id>')
    .description('deliver again, from where delivery stopped')
    .action(withStore(async (store, config, id: string) => print(await subscriptionService(store, config).enable(operator(), id))));

  sub
    .command('rotate-secret <id>')
    .description('a new secret (printed once); the previous one keeps signing for 24 hours')
    .option('--secret-env <variable>', 'take the new whsec_ secret from this environment variable')
    .action(withStore(async (store, config, id: string, o: { secretEnv?: string }) => print(await subscriptionService(store, config).rotateSecret(operator(), id, secretFrom(io.env, o.secretEnv)))));

  sub
    .command('remove <id>')
    .description('delete a subscription and its delivery log')
    .action(withStore(async (store, config, id: string) => {
      await subscriptionService(store, config).remove(operator(), id);
    }));

  sub
    .command('deliveries <id>')
    .description('the delivery log, newest first: attempt, status, duration, error, next attempt')
    .option('--limit <n>', 'at most this many (default 50)', (v) => Number(v))
    .option('--before <timestamp>', 'older than this time (RFC 3339)')
    .action(withStore(async (store, config, id: string, o: { limit?: number; before?: string }) => {
      const before = o.before === undefined ? undefined : parseMicros(o.before);
      if (o.before !== undefined && before === undefined) throw new TaxiiError('TAXII_ERR_INVALID', '--before must be an RFC 3339 timestamp');
      const limit = o.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TaxiiError('TAXII_ERR_INVALID', '--limit must be an integer from 1 to 1000');
      print(await subscriptionService(store, config).deliveries(operator(), id, { limit, ...(before !== undefined ? { before } : {}) }));
    }));

  sub
    .command('redeliver <id>')
    .description('replay everything since a time (in order, through the running server\'s worker)')
    .requiredOption('--from <timestamp>', 'replay changes after this time (RFC 3339)')
    .action(withStore(async (store, config, id: string, o: { from: string }) => {
      const from = parseMicros(o.from);
      if (from === undefined) throw new TaxiiError('TAXII_ERR_INVALID', '--from must be an RFC 3339 timestamp');
      print(await subscriptionService(store, config).redeliver(operator(), id, { from }));
    }));
}
