// The webhook part of the store contract (docs/webhooks.md): subscriptions, cursors that only move
// forward unless rewound, the delivery log. Called once per backend harness, like storeContract.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Store } from '../../collections/store.js';
import { CURATION_SOURCE, type DeliveryRecord, type SubscriptionRecord } from '../../collections/webhook-store.js';
import type { StoreHarness } from './store-contract.js';

function subscription(organisationId: string, at: number): Omit<SubscriptionRecord, 'rev' | 'updatedAt'> {
  return {
    id: randomUUID(), organisationId, url: 'https://receiver.example/hook', secrets: [{ sealed: 'sealed-a', createdAt: at }],
    collections: ['c1', 'c2'], eventTypes: ['object.published'], state: 'enabled', attempts: 0, createdAt: at,
  };
}

function delivery(subscriptionId: string, at: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return { id: randomUUID(), subscriptionId, eventId: randomUUID(), eventType: 'object.published', kind: 'event', attempt: 1, at, outcome: 'success', statusCode: 204, durationMs: 3, ...extra };
}

export function webhookContract(name: string, harness: StoreHarness): void {
  describe(`webhook contract: ${name}`, function () {
    this.timeout(30_000);
    let store: Store;
    beforeEach(async function () {
      store = await harness.open();
    });
    afterEach(async function () {
      await harness.close?.(store);
    });

    it('creates, reads, lists by organisation and state, and deletes subscriptions with their cursors and log', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), { c1: 5, c2: 7, [CURATION_SOURCE]: 0 });
      const b = await store.webhooks.createSubscription(subscription('org-b', 2000), { c1: 9 });
      expect(a.rev).to.equal(1);
      expect(await store.webhooks.getSubscription(a.id)).to.deep.equal(a);
      expect((await store.webhooks.listSubscriptions({})).map((s) => s.id)).to.deep.equal([a.id, b.id]);
      expect((await store.webhooks.listSubscriptions({ organisationId: 'org-b' })).map((s) => s.id)).to.deep.equal([b.id]);
      expect(await store.webhooks.cursors(a.id)).to.deep.equal({ c1: 5, c2: 7, [CURATION_SOURCE]: 0 });
      await store.webhooks.logDelivery(delivery(a.id, 10));
      expect(await store.webhooks.deleteSubscription(a.id)).to.equal(true);
      expect(await store.webhooks.getSubscription(a.id)).to.equal(undefined);
      expect(await store.webhooks.cursors(a.id)).to.deep.equal({});
      expect(await store.webhooks.listDeliveries(a.id, { limit: 10 })).to.deep.equal([]);
      expect(await store.webhooks.deleteSubscription(a.id)).to.equal(false);
    });

    it('updates: API changes bump rev, bookkeeping does not; undefined clears a field; state is listable', async function () {
      const a = await store.webhooks.createSubscription({ ...subscription('org-a', 1000), maxTlp: 'amber' }, {});
      const u1 = await store.webhooks.updateSubscription(a.id, { url: 'https://other.example/', maxTlp: undefined }, true);
      expect(u1!.rev).to.equal(2);
      expect(u1!.url).to.equal('https://other.example/');
      expect(u1).to.not.have.property('maxTlp');
      const u2 = await store.webhooks.updateSubscription(a.id, { attempts: 3, nextAttemptAt: 99, state: 'disabled', disabledReason: 'gone' }, false);
      expect(u2!.rev).to.equal(2);
      expect(u2!.attempts).to.equal(3);
      expect(await store.webhooks.getSubscription(a.id)).to.deep.equal(u2);
      expect((await store.webhooks.listSubscriptions({ state: 'disabled' })).map((s) => s.id)).to.deep.equal([a.id]);
      expect(await store.webhooks.listSubscriptions({ state: 'enabled' })).to.deep.equal([]);
      expect(await store.webhooks.updateSubscription('nope', { attempts: 1 }, true)).to.equal(undefined);
    });

    it('concurrent updates of different fields both land', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), {});
      await Promise.all([
        store.webhooks.updateSubscription(a.id, { attempts: 2 }, false),
        store.webhooks.updateSubscription(a.id, { description: 'x' }, true),
      ]);
      const s = (await store.webhooks.getSubscription(a.id))!;
      expect(s.attempts).to.equal(2);
      expect(s.description).to.equal('x');
    });

    it('cursors advance only forward; setCursors rewinds and replaces', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), { c1: 5, c2: 7 });
      await store.webhooks.advanceCursor(a.id, 'c1', 10);
      await store.webhooks.advanceCursor(a.id, 'c1', 8);
      expect((await store.webhooks.cursors(a.id)).c1).to.equal(10);
      await store.webhooks.setCursors(a.id, { c1: 3 }, false);
      expect(await store.webhooks.cursors(a.id)).to.deep.equal({ c1: 3, c2: 7 });
      await store.webhooks.setCursors(a.id, { c2: 1, c3: 4 }, true);
      expect(await store.webhooks.cursors(a.id)).to.deep.equal({ c2: 1, c3: 4 });
    });

    it('a delivery lease: one holder at a time, renewed by its holder, taken over once it runs out, released only by its holder', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), {});
      expect(await store.webhooks.acquireLease(a.id, 'one', 2000, 1000)).to.deep.equal({ owner: 'one', until: 2000 });
      // Held and not run out: refused, and told who holds it until when.
      expect(await store.webhooks.acquireLease(a.id, 'two', 2500, 1500)).to.deep.equal({ owner: 'one', until: 2000 });
      expect(await store.webhooks.acquireLease(a.id, 'one', 3000, 1500)).to.deep.equal({ owner: 'one', until: 3000 });
      expect(await store.webhooks.acquireLease(a.id, 'two', 3500, 2999)).to.deep.equal({ owner: 'one', until: 3000 });
      // Run out (the holder died): another takes over, and the old holder cannot renew it.
      expect(await store.webhooks.acquireLease(a.id, 'two', 4000, 3000)).to.deep.equal({ owner: 'two', until: 4000 });
      expect(await store.webhooks.acquireLease(a.id, 'one', 4500, 3100)).to.deep.equal({ owner: 'two', until: 4000 });
      await store.webhooks.releaseLease(a.id, 'one'); // not its lease: nothing happens
      expect(await store.webhooks.acquireLease(a.id, 'one', 4500, 3100)).to.deep.equal({ owner: 'two', until: 4000 });
      await store.webhooks.releaseLease(a.id, 'two');
      expect(await store.webhooks.acquireLease(a.id, 'one', 4500, 3100)).to.deep.equal({ owner: 'one', until: 4500 });
      // Leases are per subscription, and go with it.
      const b = await store.webhooks.createSubscription(subscription('org-b', 1000), {});
      expect(await store.webhooks.acquireLease(b.id, 'two', 5000, 3100)).to.deep.equal({ owner: 'two', until: 5000 });
      await store.webhooks.deleteSubscription(a.id);
      expect(await store.webhooks.acquireLease(a.id, 'two', 5000, 3100)).to.deep.equal({ owner: 'two', until: 5000 });
    });

    it('of concurrent takers of a free or run-out lease exactly one gets it', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), {});
      for (const now of [1000, 5000]) { // free, then run out (the first round's lease ends at 2000)
        const owners = Array.from({ length: 8 }, (_, i) => `owner-${now}-${i}`);
        const results = await Promise.all(owners.map((o) => store.webhooks.acquireLease(a.id, o, now + 1000, now)));
        const winners = owners.filter((o, i) => results[i]!.owner === o);
        expect(winners).to.have.length(1);
        for (const r of results) expect(r).to.deep.equal({ owner: winners[0], until: now + 1000 });
      }
    });

    it('a delivery logged with its effects: the entry, the cursor forward only, the worker\'s bookkeeping without a new rev', async function () {
      const a = await store.webhooks.createSubscription({ ...subscription('org-a', 1000), attempts: 2, failingSince: 900 }, { c1: 5, c2: 7 });
      const d = delivery(a.id, 1100, { source: 'c1', position: 20 });
      const written = await store.webhooks.logDelivery(d, { cursor: { source: 'c1', position: 20 }, subscription: { attempts: 0, failingSince: undefined, lastSuccessAt: 1100 } });
      expect(written).to.deep.include({ id: a.id, rev: a.rev, attempts: 0, lastSuccessAt: 1100 });
      expect(written).to.not.have.property('failingSince');
      expect(await store.webhooks.getSubscription(a.id)).to.deep.equal(written);
      expect(await store.webhooks.getDelivery(a.id, d.id)).to.deep.equal(d);
      expect(await store.webhooks.cursors(a.id)).to.deep.equal({ c1: 20, c2: 7 });
      // A late writer's older position does not move the cursor back; no subscription changes: nothing returned.
      expect(await store.webhooks.logDelivery(delivery(a.id, 1200), { cursor: { source: 'c1', position: 15 } })).to.equal(undefined);
      expect((await store.webhooks.cursors(a.id)).c1).to.equal(20);
      expect(await store.webhooks.listDeliveries(a.id, { limit: 10 })).to.have.length(2);
    });

    it('keeps the delivery log newest first with paging, finds one entry, and purges by age', async function () {
      const a = await store.webhooks.createSubscription(subscription('org-a', 1000), {});
      const b = await store.webhooks.createSubscription(subscription('org-b', 1000), {});
      const logged = [];
      for (let i = 1; i <= 5; i++) {
        const d = delivery(a.id, i * 100, i % 2 ? { outcome: 'failure', statusCode: 500, error: 'HTTP 500', nextAttemptAt: i * 100 + 50 } : {});
        logged.push(d);
        await store.webhooks.logDelivery(d);
      }
      await store.webhooks.logDelivery(logged[0]!); // a retried write is kept once
      await store.webhooks.logDelivery(delivery(b.id, 250));
      const page1 = await store.webhooks.listDeliveries(a.id, { limit: 2 });
      expect(page1.map((d) => d.at)).to.deep.equal([500, 400]);
      const page2 = await store.webhooks.listDeliveries(a.id, { before: 400, limit: 10 });
      expect(page2.map((d) => d.at)).to.deep.equal([300, 200, 100]);
      expect(await store.webhooks.getDelivery(a.id, logged[2]!.id)).to.deep.equal(logged[2]);
      expect(await store.webhooks.getDelivery(b.id, logged[2]!.id)).to.equal(undefined);
      expect(await store.webhooks.purgeDeliveries(300)).to.equal(3);
      expect((await store.webhooks.listDeliveries(a.id, { limit: 10 })).map((d) => d.at)).to.deep.equal([500, 400, 300]);
    });
  });
}
