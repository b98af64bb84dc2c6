// GET /metrics: Prometheus text, open to loopback, a scrape token from elsewhere; the figures move
// with the requests, ingests, logins and refusals that make them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { Admin } from '../../server/admin/admin.js';
import { Metrics } from '../../server/metrics.js';
import { TAXII_MEDIA_TYPE, indicator, world } from './support.js';

const TOKEN = 'scrape-token-0123456789';

/** The value of one sample line, e.g. value(text, 'meridian_logins_total{outcome="failure"}'). */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? Number.NaN : Number(line.slice(sample.length + 1));
}

describe('HTTP /metrics', () => {
  it('serves Prometheus text to loopback callers, with request, ingest, login, store, desk and stream figures', async () => {
    const w = await world();
    await w.add([indicator(), indicator()]);
    await w.get(`${w.base()}/objects/`).expect(200);
    await w.get(`${w.base()}/objects/`, { ...w.rw, auth: `Basic ${Buffer.from(`rw:wrong-password`).toString('base64')}` }).expect(401);
    await w.post(`${w.base()}/objects/`, 'not json').expect(400);

    const res = await request(w.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(value(text, 'meridian_http_request_duration_seconds_count{method="GET",route="/:apiRoot/collections/:collectionId/objects",status="200"}')).to.equal(1);
    expect(value(text, 'meridian_http_request_duration_seconds_count{method="POST",route="/:apiRoot/collections/:collectionId/objects",status="202"}')).to.equal(1);
    expect(value(text, 'meridian_ingest_envelopes_total{outcome="accepted"}')).to.equal(1);
    expect(value(text, 'meridian_ingest_envelopes_total{outcome="refused"}')).to.equal(1);
    expect(value(text, 'meridian_ingest_objects_total{outcome="success"}')).to.equal(2);
    expect(value(text, 'meridian_ingest_bytes_total')).to.be.greaterThan(100);
    expect(value(text, 'meridian_submission_processing_seconds_count')).to.equal(1);
    expect(value(text, 'meridian_logins_total{outcome="failure"}')).to.equal(1);
    expect(value(text, 'meridian_logins_total{outcome="success"}')).to.be.at.least(1);
    // The scrape itself is the one request in flight.
    expect(value(text, 'meridian_http_requests_in_flight')).to.equal(1);
    expect(value(text, 'meridian_live_streams_open')).to.equal(0);
    expect(value(text, 'meridian_desk_queue_depth')).to.equal(0);
    expect(value(text, 'meridian_desk_queue_oldest_age_seconds')).to.equal(0);
    expect(text).to.match(/^meridian_store_operation_duration_seconds_count\{operation="ingest",outcome="ok"\} [1-9]/m);
    // Route labels are templates: no collection id, no object id, no account name in any label.
    expect(text).not.to.include(w.main.id);
    expect(text).not.to.include('wrong-password');
    // The request's log line names the same template.
    const line = w.logs.map((l) => JSON.parse(l) as { msg?: string; status?: number; req?: { route?: string; url?: string }; account?: string; bytes?: number; ms?: number }).find((l) => l.msg === 'request' && l.status === 200 && l.req?.url?.endsWith('/objects/'));
    expect(line?.req?.route).to.equal('/:apiRoot/collections/:collectionId/objects');
    // One line per request: the caller's account (never its secret), duration and the bytes sent, headers included.
    expect(line).to.include({ account: 'rw' });
    expect(line?.ms).to.be.a('number');
    expect(line?.bytes).to.be.greaterThan(Buffer.byteLength(JSON.stringify({ objects: [] })) + 100);
  });

  it('labels requests no route matched "unmatched", whatever their path', async () => {
    const w = await world();
    await w.get('/no/such/path/at/all/').expect(404);
    const text = (await request(w.app).get('/metrics')).text;
    expect(text).not.to.include('/no/such');
    expect(text).to.match(/route="unmatched",status="404"\} 1/);
  });

  it('refuses other addresses without the scrape token, with a TAXII error (403)', async () => {
    const w = await world({ trustProxy: true, metricsToken: TOKEN });
    const from = (r: request.Test) => r.set('X-Forwarded-For', '203.0.113.7');
    const refused = await from(request(w.app).get('/metrics')).expect(403);
    expect(refused.headers['content-type']).to.equal(TAXII_MEDIA_TYPE);
    expect(JSON.parse(refused.text).error_code).to.equal('TAXII_ERR_FORBIDDEN');
    await from(request(w.app).get('/metrics').set('Authorization', 'Bearer scrape-token-wrong-length')).expect(403);
    await from(request(w.app).get('/metrics').set('Authorization', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)).expect(403);
    const ok = await from(request(w.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).expect(200);
    expect(ok.text).to.include('meridian_http_requests_in_flight');
  });

  it('without a scrape token, only loopback may scrape', async () => {
    const w = await world({ trustProxy: true });
    const res = await request(w.app).get('/metrics').set('X-Forwarded-For', '198.51.100.9').set('Authorization', `Bearer ${TOKEN}`).expect(403);
    expect(JSON.parse(res.text).description).to.include('loopback');
  });

  it('counts throttled logins and rate-limited requests by budget', async () => {
    const w = await world({ rateLimitReadsPerMinute: 1, loginFailureLimit: 1 });
    await w.get(`${w.base()}/objects/`).expect(200);
    await w.get(`${w.base()}/objects/`).expect(429);
    const bad = { ...w.reader, auth: `Basic ${Buffer.from('reader:nope-nope').toString('base64')}` };
    await w.get(`${w.base()}/objects/`, bad).expect(401);
    await w.get(`${w.base()}/objects/`, bad).expect(429);
    const text = (await request(w.app).get('/metrics')).text;
    expect(value(text, 'meridian_rate_limited_total{budget="read"}')).to.equal(1);
    expect(value(text, 'meridian_logins_total{outcome="throttled"}')).to.equal(1);
  });

  it('counts refused objects by the code of their first error', async () => {
    const w = await world();
    const { pattern: _, ...noPattern } = indicator();
    const status = await w.add([noPattern, indicator()]);
    expect(status.failure_count).to.equal(1);
    const text = (await request(w.app).get('/metrics')).text;
    const rejections = text.split('\n').filter((l) => l.startsWith('meridian_ingest_rejections_total{'));
    expect(rejections).to.have.length(1);
    expect(rejections[0]).to.match(/^meridian_ingest_rejections_total\{code="STIX_[A-Z0-9_]+"\} 1$/);
  });

  it('webhook subscriptions by state, and the delivery lag behind the change log, read at scrape time', async () => {
    const w = await world();
    const scrape = async () => (await request(w.app).get('/metrics').expect(200)).text;
    const org = await new Admin(w.store, { name: 'test-operator' }).addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
    const webhooks = w.store.webhooks!;
    const sub = { organisationId: org.id, url: 'https://hooks.example.org/meridian', secrets: [], collections: [w.main.id], eventTypes: ['object.published'], state: 'enabled' as const, attempts: 0, createdAt: 1 };
    await webhooks.createSubscription({ ...sub, id: 'sub-current' }, { [w.main.id]: 0 });
    await webhooks.createSubscription({ ...sub, id: 'sub-off', state: 'disabled' }, { [w.main.id]: 0 });
    let text = await scrape();
    expect(value(text, 'meridian_webhook_subscriptions{state="enabled"}')).to.equal(1);
    expect(value(text, 'meridian_webhook_subscriptions{state="disabled"}')).to.equal(1);
    expect(value(text, 'meridian_webhook_subscriptions{state="failing"}')).to.equal(0);
    expect(value(text, 'meridian_webhook_lag_seconds')).to.equal(0);
    // A change nobody delivered yet: the lag is its age.
    await w.add([indicator()]);
    await webhooks.updateSubscription('sub-current', { failingSince: 1 }, false);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the one-second reuse of a scrape's read
    text = await scrape();
    expect(value(text, 'meridian_webhook_lag_seconds')).to.be.greaterThan(0).and.below(60);
    expect(value(text, 'meridian_webhook_subscriptions{state="failing"}')).to.equal(1);
  });

  it('desk queue depth and age move with what waits in an intake; open live streams are counted; process metrics when asked', async () => {
    const w = await world();
    const intake = await w.collection('api1', { title: 'Intake', purpose: 'intake' });
    const vendor = await w.account(['publisher'], 'vendor-feed');
    await w.grant(vendor, intake.id, { read: true, write: true });
    await w.add([indicator(), indicator()], intake, vendor);
    await new Promise((resolve) => setTimeout(resolve, 20));
    let text = (await request(w.app).get('/metrics')).text;
    expect(value(text, 'meridian_desk_queue_depth')).to.equal(2);
    expect(value(text, 'meridian_desk_queue_oldest_age_seconds')).to.be.greaterThan(0).and.below(60);
    expect(value(text, 'meridian_desk_publications')).to.equal(0);

    const server = http.createServer(w.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const stream = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: `${w.base()}/changes/`, headers: { Accept: 'text/event-stream', Authorization: w.rw.auth } });
      const res = await new Promise<http.IncomingMessage>((resolve) => stream.on('response', resolve));
      expect(res.statusCode).to.equal(200);
      text = (await request(w.app).get('/metrics')).text;
      expect(value(text, 'meridian_live_streams_open')).to.equal(1);
      stream.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = (await request(w.app).get('/metrics')).text;
      expect(value(text, 'meridian_live_streams_open')).to.equal(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    const processText = await new Metrics({ processMetrics: true }).registry.metrics();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) expect(processText).to.match(new RegExp(`^${name} `, 'm'));
  });

  it('counts webhook delivery attempts by outcome and kind as the delivery log records them; timed store calls answer as before', async () => {
    const w = await world();
    const metrics = new Metrics();
    const store = metrics.observeStore(w.store);
    const attempt = { subscriptionId: 'sub-1', eventId: 'e1', eventType: 'object.published', attempt: 1, at: 1, durationMs: 3 };
    await store.webhooks.logDelivery({ ...attempt, id: 'd1', kind: 'event', outcome: 'success' });
    await store.webhooks.logDelivery({ ...attempt, id: 'd2', kind: 'event', outcome: 'failure' });
    await store.webhooks.logDelivery({ ...attempt, id: 'd3', kind: 'test', outcome: 'success' });
    expect((await store.listApiRoots()).map((r) => r.path)).to.deep.equal(['api1']);
    const text = await metrics.registry.metrics();
    expect(value(text, 'meridian_webhook_deliveries_total{outcome="success",kind="event"}')).to.equal(1);
    expect(value(text, 'meridian_webhook_deliveries_total{outcome="failure",kind="event"}')).to.equal(1);
    expect(value(text, 'meridian_webhook_deliveries_total{outcome="success",kind="test"}')).to.equal(1);
    expect(value(text, 'meridian_store_operation_duration_seconds_count{operation="listApiRoots",outcome="ok"}')).to.equal(1);
  });
});
