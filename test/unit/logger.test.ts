// The logger in both formats: JSON lines with level names and ISO-8601 times, pretty lines for a
// person; credentials redacted in each.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger, withRequestId } from '../../server/logger.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } }), text: () => chunks.join('') };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('logger', () => {
  it('JSON: "level":"info" and an ISO-8601 time, the password redacted', async () => {
    const out = sink();
    createLogger('info', out.stream).info({ password: 'hunter2 secret', req: { headers: { authorization: 'Basic c2VjcmV0' } } }, 'a json line');
    await settle();
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line.level).to.equal('info');
    expect(line.time).to.be.a('string').and.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line.msg).to.equal('a json line');
    expect(out.text()).to.not.include('hunter2').and.not.include('c2VjcmV0');
  });

  it('the options form with format json is the same as a bare level', async () => {
    const out = sink();
    createLogger({ level: 'warn', format: 'json' }, out.stream).warn('careful');
    await settle();
    expect(JSON.parse(out.text().trim())).to.include({ level: 'warn', msg: 'careful' });
  });

  it('pretty: INFO and the message, no JSON, no secret', async () => {
    const out = sink();
    createLogger({ level: 'info', format: 'pretty' }, out.stream).info({ password: 'hunter2 secret', authorization: 'Bearer eyJtoken' }, 'Meridian is listening');
    await settle();
    const text = out.text();
    expect(text).to.include('INFO').and.include('Meridian is listening');
    expect(text).to.not.match(/^\{/);
    expect(text).to.not.include('hunter2').and.not.include('eyJtoken');
    expect(text).to.include('[redacted]');
  });

  it('pretty honours the level', async () => {
    const out = sink();
    const logger = createLogger({ level: 'warn', format: 'pretty' }, out.stream);
    logger.info('quiet');
    logger.error('loud');
    await settle();
    expect(out.text()).to.include('ERROR').and.include('loud').and.not.include('quiet');
  });

  it('redacts secrets, API keys, cookies and password hashes, also one level down', async () => {
    const out = sink();
    createLogger('info', out.stream).info(
      { secret: 's3cr3t-a', account: { passwordHash: 'scrypt$hash-b' }, config: { jwtSecret: 'jwt-c', metricsToken: 'scrape-d' }, req: { headers: { cookie: 'sid=e', 'x-api-key': 'key-f' } }, apiKey: 'key-g' },
      'many secrets',
    );
    await settle();
    for (const secret of ['s3cr3t-a', 'hash-b', 'jwt-c', 'scrape-d', 'sid=e', 'key-f', 'key-g']) expect(out.text()).not.to.include(secret);
    expect(JSON.parse(out.text().trim())).to.include({ msg: 'many secrets' });
  });

  it('lines logged while handling a request carry its id, across awaits; others do not', async () => {
    const out = sink();
    const logger = createLogger('info', out.stream);
    await withRequestId('req-42', async () => {
      logger.info('before');
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('after');
    });
    logger.info('outside');
    await settle();
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; requestId?: string });
    expect(lines.map((l) => [l.msg, l.requestId])).to.deep.equal([['before', 'req-42'], ['after', 'req-42'], ['outside', undefined]]);
  });
});
