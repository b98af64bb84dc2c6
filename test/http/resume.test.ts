// Submissions left pending by a crash (TAXII 2.1 §4.3, §5.5; docs/architecture.md §3): one acknowledged
// with a 202 before processing is finished from its retained body; one that was being processed
// before its 202 (no body kept) is closed with a failure telling the client to resend.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { indicator, testServer } from '../helpers/server.js';

describe('resuming submissions at start-up', function () {
  it('finishes a submission from its retained body, and closes one that was never acknowledged', async function () {
    const t = await testServer();
    await t.root('api1');
    const c = await t.collection('api1');
    const vendor = await t.account([], 'vendor');
    await t.grant(vendor, c.id, { read: true, write: true });
    const account = (await t.store.getAccountByName('vendor'))!;
    const objects = [indicator(), indicator()];
    const acknowledged = randomUUID();
    const interrupted = randomUUID();
    const base = { apiRoot: 'api1', collectionId: c.id, accountId: account.id, requestTimestamp: Date.now() * 1000, totalCount: 2 };
    await t.store.createSubmission({ ...base, id: acknowledged, body: Buffer.from(JSON.stringify({ objects })) });
    await t.store.createSubmission({ ...base, id: interrupted });

    expect(await t.service.resumePending()).to.equal(2);
    await t.service.idle();

    const done = (await t.store.getSubmission(acknowledged))!;
    expect([done.status, done.successCount, done.failureCount]).to.deep.equal(['complete', 2, 0]);
    expect(await t.store.hasObject(c.id, objects[1]!.id)).to.equal(true);
    const closed = (await t.store.getSubmission(interrupted))!;
    expect([closed.status, closed.successCount, closed.failureCount]).to.deep.equal(['complete', 0, 2]);
    const items = await t.store.submissionItems(interrupted);
    expect(items[0]!.message).to.match(/send it again/);
    expect(await t.store.pendingSubmissions()).to.deep.equal([]);
  });
});
