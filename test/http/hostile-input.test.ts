// POST …/objects/ (§5.5) with numbers a double would change and bytes that are not UTF-8: refused,
// never stored altered; exact numbers and valid multibyte text are stored and read back unchanged.
import { expect } from 'chai';
import request from 'supertest';
import { TAXII_MEDIA_TYPE, json } from '../helpers/taxii-schemas.js';
import { type World, indicator, world } from './support.js';

/** An indicator's JSON text with `"x_value": <token>` spliced in as raw text. */
function withRaw(token: string): { id: string; text: string } {
  const o = indicator();
  return { id: o.id, text: JSON.stringify(o).replace(/}$/, `,"x_value":${token}}`) };
}

describe('HTTP §5.5 hostile input: inexact numbers and invalid UTF-8', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it('refuses each number a double would change, stores its exact siblings with equal values', async () => {
    const bad = ['1e400', '-1e400', '12345678901234567890', '9007199254740993', '1e-400', '0.12345678901234567890123'].map(withRaw);
    const good = [['9007199254740991', 9007199254740991], ['1.5e300', 1.5e300], ['0.1', 0.1], ['-0', 0], ['1e2', 100]] as const;
    const goods = good.map(([t]) => withRaw(t));
    const body = `{"objects":[${[...bad, ...goods].map((x) => x.text).join(',')}]}`;
    const res = await w.post(`${w.base()}/objects/`, body);
    expect(res.status).to.equal(202);
    await w.service.idle();
    const status = json(res);
    expect(status).to.include({ success_count: goods.length, failure_count: bad.length });
    for (const f of status.failures) expect(f.message).to.match(/STIX_NUMBER_NOT_EXACT at \/x_value/);
    expect(status.failures.map((f: { id: string }) => f.id)).to.have.members(bad.map((b) => b.id));
    for (let k = 0; k < goods.length; k++) {
      const got = json(await w.get(`${w.base()}/objects/${goods[k]!.id}/`));
      expect(got.objects[0].x_value, good[k]![0]).to.equal(good[k]![1]);
    }
  });

  it('refuses bodies that are not UTF-8 with a 400 naming the byte offset; stores emoji and CJK exactly', async () => {
    for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const o = indicator();
      const [head, tail] = JSON.stringify({ objects: [{ ...o, name: '@@' }] }).split('@@') as [string, string];
      const body = bytes[0] === 0xe2 ? Buffer.concat([Buffer.from(head), Buffer.from(bytes)]) : Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
      // Sent as raw bytes: superagent would serialise a Buffer as JSON for a +json content type.
      const res = await request(w.app).post(`${w.base()}/objects/`).set('Accept', TAXII_MEDIA_TYPE).set('Content-Type', TAXII_MEDIA_TYPE)
        .set('Authorization', w.rw.auth).serialize((b: unknown) => b as string).send(body as unknown as string);
      expect(res.status, `${bytes.join(' ')} ${res.text}`).to.equal(400);
      expect(json(res).error_code).to.equal('TAXII_ERR_BAD_JSON');
      expect(json(res).description).to.match(/not valid UTF-8 \(byte offset \d+\)/);
    }
    const o = { ...indicator(), name: 'Ünïcødé 😀 漢字 ✓' };
    const res = await w.post(`${w.base()}/objects/`, JSON.stringify({ objects: [o] }));
    expect(json(res)).to.include({ success_count: 1 });
    await w.service.idle();
    expect(json(await w.get(`${w.base()}/objects/${o.id}/`)).objects[0].name).to.equal(o.name);
  });
});
