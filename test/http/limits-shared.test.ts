// Request budgets of several instances on one MongoDB (docs/operations.md "Limits"): the buckets
// live in the store's rate_limits collection, so a client spread over two instances gets one budget,
// not two. Runs on MERIDIAN_TEST_MONGO_URL when set, else on a CongoDB stand-in of its own (which
// supports the upsert, $inc, $setOnInsert and duplicate-key retry the limiter uses).
import { expect } from 'chai';
import request from 'supertest';
import { MongoStore } from '../../collections/mongo/mongo-store.js';
import { RATE_LIMIT_COLLECTION } from '../../server/http/limits.js';
import { type MongoTarget, mongoTarget, startStandIn } from '../helpers/mongo.js';
import { testServer } from '../helpers/server.js';
import { TAXII_MEDIA_TYPE } from './support.js';

describe('HTTP rate limits shared by instances on MongoDB', function () {
  this.timeout(60_000);
  let target: MongoTarget;
  const stores: MongoStore[] = [];
  before(async () => {
    target = process.env.MERIDIAN_TEST_MONGO_URL ? await mongoTarget() : await startStandIn();
  });
  after(async () => {
    for (const s of stores) await s.close();
    if (!process.env.MERIDIAN_TEST_MONGO_URL) await target.shutdown();
  });

  it('two instances draw on one budget per account and per address', async () => {
    const uri = target.uri();
    const open = () => {
      const store = new MongoStore({ uri, serverSelectionTimeoutMs: 2000, startupTimeoutMs: 10_000, retryDelayMs: 100, ...target.storeOptions });
      stores.push(store);
      return store;
    };
    // 4 a minute: 4 at once, per account; the address budget likewise.
    const one = await testServer({ rateLimitReadsPerMinute: 4, rateLimitAddressPerMinute: 0 }, open());
    const two = await testServer({ rateLimitReadsPerMinute: 4, rateLimitAddressPerMinute: 0 }, open());
    const reader = await one.account([], 'reader');
    const get = (app: typeof one.app) => request(app).get('/taxii2/').set('Accept', TAXII_MEDIA_TYPE).set('Authorization', reader.auth);
    await get(one.app).expect(200);
    await get(two.app).expect(200);
    await get(one.app).expect(200);
    await get(two.app).expect(200);
    // Each instance alone would still have 2 left: the budget is shared.
    const refused = await get(two.app).expect(429);
    expect(refused.headers['retry-after']).to.match(/^[1-9]\d*$/);
    expect(JSON.parse(refused.text).error_code).to.equal('TAXII_ERR_RATE_LIMITED');
    await get(one.app).expect(429);
    const buckets = await stores[0]!.connection.collection(RATE_LIMIT_COLLECTION).find({}).toArray();
    expect(buckets.map((b) => String(b.key)).sort().join(' ')).to.match(/^read:4:b:\S+ read:4:s:\S+$/);

    const addresses = await testServer({ rateLimitAddressPerMinute: 2 }, open());
    const other = await testServer({ rateLimitAddressPerMinute: 2 }, open());
    await request(addresses.app).get('/taxii2/').expect(401);
    await request(other.app).get('/taxii2/').expect(401);
    expect(JSON.parse((await request(addresses.app).get('/taxii2/').expect(429)).text).error_code).to.equal('TAXII_ERR_RATE_LIMITED');
  });

  it('with MongoDB away, budgets still hold, counted in memory', async function () {
    // Needs the stand-in's outage switch; a real MongoDB cannot be stopped from here.
    if (!target.outage) this.skip();
    const store = new MongoStore({ uri: target.uri(), serverSelectionTimeoutMs: 500, startupTimeoutMs: 10_000, retryDelayMs: 100, ...target.storeOptions });
    stores.push(store);
    const t = await testServer({ rateLimitAddressPerMinute: 2 }, store);
    const reader = await t.account([], 'reader');
    const get = () => request(t.app).get('/taxii2/').set('Accept', TAXII_MEDIA_TYPE).set('Authorization', reader.auth);
    await target.outage!.stop();
    try {
      // The requests that pass the budget fail on the store (503); the one beyond it is refused first.
      await get().expect(503);
      await get().expect(503);
      const refused = await get().expect(429);
      expect(refused.headers['retry-after']).to.match(/^[1-9]\d*$/);
    } finally {
      await target.outage!.start();
    }
  });
});
