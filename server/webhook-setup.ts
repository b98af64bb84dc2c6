// The webhook parts of a serving process (docs/webhooks.md): the delivery worker and the
// subscription service, built from the configuration. The worker runs only once `start` is called
// (after the server listens: payload links need its URL) and stops with the server.
import { readFileSync } from 'node:fs';
import type { Store } from '../collections/store.js';
import { parseSchedule } from '../webhooks/retry.js';
import { Sender } from '../webhooks/sender.js';
import { SubscriptionService } from '../webhooks/service.js';
import { TargetPolicy } from '../webhooks/ssrf.js';
import { DeliveryWorker } from '../webhooks/worker.js';
import { type Config, ConfigError } from './config.js';
import type { Logger } from './logger.js';

export interface Webhooks {
  worker: DeliveryWorker;
  subscriptions: SubscriptionService;
  /** Starts delivering (when this instance delivers: webhookDelivery); `base` is the server's public URL. */
  start(base: string): void;
  stop(): Promise<void>;
}

export function createWebhooks(config: Readonly<Config>, store: Store, logger: Logger): Webhooks {
  const policy = new TargetPolicy(config.webhookAllowTargets.split(',').map((s) => s.trim()).filter(Boolean));
  let ca: string | undefined;
  if (config.webhookCaFile) {
    try {
      ca = readFileSync(config.webhookCaFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read webhookCaFile ${config.webhookCaFile}: ${(err as Error).message}`);
    }
  }
  let base = config.publicBaseUrl?.replace(/\/+$/, '') ?? '';
  const sender = new Sender({ timeoutMs: config.webhookTimeoutSeconds * 1000, policy, ...(ca ? { ca } : {}) });
  const worker = new DeliveryWorker(store, sender, logger, {
    retrySeconds: parseSchedule(config.webhookRetrySeconds),
    disableAfterMs: config.webhookDisableAfterHours * 3600_000,
    pollMs: config.webhookPollMs,
    concurrency: config.webhookConcurrency,
    logRetentionMs: config.webhookLogRetentionDays * 86_400_000,
    publicBase: () => base,
    leaseMs: config.webhookLeaseSeconds * 1000,
  });
  let started = false;
  return {
    worker,
    subscriptions: new SubscriptionService(store, policy, worker),
    start(url: string) {
      base = config.publicBaseUrl?.replace(/\/+$/, '') ?? url;
      if (!config.webhookDelivery) return;
      started = true;
      worker.start();
    },
    async stop() {
      if (started) await worker.stop();
      else sender.close();
    },
  };
}
