// `meridian serve`: owns the socket, TLS and signals.
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from './config.js';
import { nowMicros } from '../taxii/time.js';
import { composeApp, openStore } from './compose.js';
import { createHttpServer } from './http/http-server.js';
import { createLogger } from './logger.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const PURGE_INTERVAL_MS = 15 * 60_000;

/** TAXII requires HTTPS (docs/architecture.md §7): plain HTTP only on loopback unless explicitly allowed. */
export function checkTransport(config: Readonly<Config>): void {
  if (!config.tlsCert && !LOOPBACK.test(config.host) && !config.allowInsecureHttp) {
    throw new ConfigError(`refusing plain HTTP on ${config.host}: give --tls-cert/--tls-key, put a TLS proxy in front and pass --allow-insecure-http, or listen on 127.0.0.1`);
  }
}

export async function serve(config: Readonly<Config>): Promise<{ close: () => Promise<void>; port: number }> {
  checkTransport(config);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const store = openStore(config, logger, 'serving');
  const { app, service, desk, streams, webhooks } = await composeApp(config, store, logger);
  // Timeouts and parser errors answered as TAXII errors: server/http/http-server.ts.
  const server = createHttpServer(config, app, logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const resumed = await service.resumePending();
  // Decisions a crash interrupted are finished, then the intakes' policy meets what waits (both idempotent).
  const decisionsResumed = await store.resumeDecisions();
  void desk.applyPolicy().catch((err: unknown) => logger.error({ err }, 'the start-up policy pass failed; it runs again at the next start'));
  const purge = setInterval(() => {
    service.purgeStatuses().catch((err) => logger.error({ err }, 'status purge failed'));
    // Change-log retention: readers behind it are told to resync (TAXII_ERR_RESYNC).
    store.purgeChanges(nowMicros() - config.changeRetentionDays * 86_400_000_000).catch((err) => logger.error({ err }, 'change-log purge failed'));
  }, PURGE_INTERVAL_MS);
  purge.unref();
  // Webhook deliveries resume from their durable cursors (payload links need the URL listened on).
  webhooks.start(`${config.tlsCert ? 'https' : 'http'}://${config.host}:${port}`);
  logger.info({ event: 'listening', url: `${config.tlsCert ? 'https' : 'http'}://${config.host}:${port}/taxii2/`, store: store.kind, dataDir: config.dataDir, resumed, decisionsResumed }, 'Meridian is listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(purge);
      await webhooks.stop(); // attempts in flight are aborted; their events go out again after the restart
      streams.close(); // live streams would hold the close open; clients resume with Last-Event-ID
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
      await store.close();
      logger.info({ event: 'stopped' }, 'Meridian stopped');
      logger.flush();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ event: 'signal', signal }, 'shutting down');
      // Stop taking connections; idle keep-alive sockets would otherwise hold the close open.
      server.closeIdleConnections?.();
      close().then(() => process.exit(0), () => process.exit(1));
    });
  }
  return { close, port };
}
