// The composition root: config → store → service → app. Used by `meridian serve` and by tests.
import type { Store } from '../collections/store.js';
import { MongoStore } from '../collections/mongo/mongo-store.js';
import { SqliteStore } from '../collections/sqlite/sqlite-store.js';
import { ChangeFeed } from '../changes/feed.js';
import { ChangeStreams, STREAM_DEFAULTS } from '../changes/stream.js';
import { DeskService } from '../desk/service.js';
import { DecisionThread } from '../desk/decision-thread.js';
import { IngestRunner } from '../taxii/ingest-runner.js';
import { PageTokens } from '../taxii/paging.js';
import { TaxiiService } from '../taxii/service.js';
import { createApp } from './app.js';
import { createWebhooks } from './webhook-setup.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';

/**
 * Opens the store the configuration names: `store` = "sqlite" (default, in `dataDir`) or a
 * mongodb:// URI. The MongoDB store connects in the background (retrying, logged); its first
 * operations wait for it. A serving process checkpoints SQLite's WAL in a worker thread; a short
 * CLI command lets SQLite do it inline.
 */
export function openStore(config: Pick<Config, 'dataDir' | 'store'> & Partial<Pick<Config, 'checkpointThreadNice'>>, logger?: Logger, role: 'serving' | 'command' = 'command'): Store {
  const log = logger && ((level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => logger[level]({ event: 'store', ...fields }, message));
  if (/^mongodb(\+srv)?:\/\//.test(config.store)) return new MongoStore({ uri: config.store, ...(log ? { log } : {}) });
  return new SqliteStore({
    location: config.dataDir, checkpoints: role === 'serving' ? 'background' : 'inline',
    ...(config.checkpointThreadNice !== undefined ? { checkpointNice: config.checkpointThreadNice } : {}), ...(log ? { log } : {}),
  });
}

async function pageTokens(config: Readonly<Config>, store: Store): Promise<PageTokens> {
  return new PageTokens(config.pagingSecret ? Buffer.from(config.pagingSecret, 'utf8') : await store.secret('paging'));
}

export async function createService(config: Readonly<Config>, store: Store, logger: Logger): Promise<TaxiiService> {
  return new TaxiiService(
    store,
    {
      title: config.title,
      ...(config.description ? { description: config.description } : {}),
      ...(config.contact ? { contact: config.contact } : {}),
      ...(config.defaultApiRoot ? { defaultApiRoot: config.defaultApiRoot } : {}),
      maxPageSize: config.maxPageSize,
      defaultPageSize: config.defaultPageSize,
      queryScanLimit: config.queryScanLimit,
      statusRetentionMs: config.statusRetentionHours * 3600_000,
      syncIngestLimit: config.syncIngestLimit,
      scoIds: config.scoIds,
      statusListLimit: config.statusListLimit,
    },
    await pageTokens(config, store),
    logger,
    new IngestRunner(config.ingestWorkerThreshold, config.ingestBatchSize),
  );
}

export async function composeApp(config: Readonly<Config>, given: Store, logger: Logger, options: { processMetrics?: boolean } = {}) {
  const metrics = new Metrics(options);
  // Everything below reaches the store through the timing proxy (store operation latency).
  const store = metrics.observeStore(given);
  metrics.observeDesk(store);
  metrics.observeWebhooks(store);
  const service = await createService(config, store, logger);
  // On SQLite, large decisions are made by a thread of their own (readers keep the event loop).
  const desk = new DeskService(
    store, logger,
    given instanceof SqliteStore && given.companion ? new DecisionThread(given.companion.location, config.decisionThreadNice, (decision) => given.checkpointsHeldDuring(decision)) : undefined,
  );
  // What lands in an intake meets the intake's policy (auto-publish, revocations) once validated.
  service.onSubmissionComplete(async (submissionId) => {
    await desk.applyPolicy(submissionId);
  });
  service.onSubmissionComplete(async (submissionId) => {
    const done = await store.getSubmission(submissionId);
    if (done) metrics.submissionComplete(done);
  });
  const feed = new ChangeFeed(store, await pageTokens(config, store), { maxPageSize: config.maxPageSize, defaultPageSize: config.defaultPageSize });
  const streams = new ChangeStreams(store, feed, { ...STREAM_DEFAULTS, maxStreamsPerAccount: config.streamsPerAccount, heartbeatMs: config.streamHeartbeatSeconds * 1000 });
  const webhooks = createWebhooks(config, store, logger);
  return { service, desk, streams, metrics, webhooks, app: createApp({ config, store, service, desk, changes: { feed, streams }, logger, metrics, webhooks: webhooks.subscriptions }) };
}
