// `meridian serve`: owns the socket, TLS and signals.
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from './config.js';
import { nowMicros } from '../taxii/time.js';
import { composeApp, openStore } from './compose.js';
import { createHttpServer, reloadTls } from './http/http-server.js';
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
  const { app, service, desk, streams, webhooks } = await composeApp(config, store, logger, { processMetrics: true });
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
  desk.warm();
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

  // Graceful stop: /readyz turns 503 and answers carry Connection: close (a load balancer moves
  // clients elsewhere), no new connection is taken, live streams end (clients resume with
  // Last-Event-ID), in-flight requests and running ingests finish, the store closes. After
  // shutdownTimeoutSeconds the remaining connections are cut; an ingest cut short stays pending
  // in the store and is finished at the next start, so nothing acknowledged is lost either way.
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      app.locals.draining = true;
      clearInterval(purge);
      await webhooks.stop(); // attempts in flight are aborted; their events go out again after the restart
      streams.close();
      const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), config.shutdownTimeoutSeconds * 1000).unref());
      const requests = new Promise<void>((resolve) => server.close(() => resolve())).then(() => 'done' as const);
      // A keep-alive connection whose request was in flight at the signal goes idle later: close those as they do.
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const outcome = await Promise.race([requests, deadline]);
      clearInterval(idle);
      if (outcome === 'late') {
        logger.warn({ event: 'shutdown', timeoutSeconds: config.shutdownTimeoutSeconds }, 'requests still running at the shutdown deadline; closing their connections');
        server.closeAllConnections();
      }
      // Background ingests after the requests (an in-flight POST still needs the ingest worker).
      if ((await Promise.race([service.close().then(() => 'done' as const), deadline])) === 'late') {
        logger.warn({ event: 'shutdown', timeoutSeconds: config.shutdownTimeoutSeconds }, 'ingests still running at the shutdown deadline; they stay pending and are finished at the next start');
      }
      await desk.close();
      await store.close();
      process.removeListener('SIGHUP', onHangup);
      logger.info({ event: 'stopped' }, 'Meridian stopped');
      logger.flush();
    })());
  const onHangup = () => {
    logger.info({ event: 'signal', signal: 'SIGHUP' }, 'reloading the TLS certificate and key');
    reloadTls(server, config, logger);
  };
  if (config.tlsCert) process.on('SIGHUP', onHangup);
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second signal: the operator will not wait.
      if (++signals > 1) {
        logger.warn({ event: 'signal', signal }, 'second signal: exiting now');
        logger.flush();
        process.exit(1);
      }
      logger.info({ event: 'signal', signal }, 'shutting down');
      close().then(() => process.exit(0), () => process.exit(1));
    });
  }
  return { close, port };
}
