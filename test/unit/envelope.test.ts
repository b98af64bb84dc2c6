// Reading a POSTed envelope without its whole tree (taxii/envelope.ts): for every input the
// verdict is JSON.parse's (valid or 400), the envelope rules are §3.7's (else 422), and each item
// parses to exactly what JSON.parse of the whole body gives.
import { expect } from 'chai';
import fc from 'fast-check';
import { openEnvelope, utf8ErrorOffset } from '../../taxii/envelope.js';
import { TaxiiError } from '../../taxii/errors.js';

type Verdict = { items: unknown[] } | { code: string };

function viaEnvelope(text: string | Buffer): Verdict {
  try {
    const envelope = openEnvelope(typeof text === 'string' ? Buffer.from(text) : text);
    return { items: Array.from({ length: envelope.count }, (_, i) => envelope.object(i)) };
  } catch (err) {
    if (!(err instanceof TaxiiError)) throw err;
    return { code: err.code };
  }
}

/**
 * What the whole-tree reading of §3.7 gives: the reference the scanner must match. A body arrives
 * as bytes, so the text is what its UTF-8 bytes decode to (a lone surrogate becomes U+FFFD).
 */
function viaJsonParse(text: string): Verdict {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text).toString('utf8'));
  } catch {
    return { code: 'TAXII_ERR_BAD_JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { code: 'TAXII_ERR_UNPROCESSABLE' };
  const objects = (body as { objects?: unknown }).objects;
  if (objects === undefined) return Object.keys(body).every((k) => k === 'more' || k === 'next') ? { items: [] } : { code: 'TAXII_ERR_UNPROCESSABLE' };
  return Array.isArray(objects) ? { items: objects } : { code: 'TAXII_ERR_UNPROCESSABLE' };
}

const agree = (text: string) => expect(viaEnvelope(text), text).to.deep.equal(viaJsonParse(text));

describe('envelope reader (§3.7, RFC 8259 grammar)', function () {
  it('reads items as JSON.parse does, whatever the spacing and escapes', function () {
    for (const text of [
      '{"objects":[]}',
      ' \t\r\n{ "objects" : [ ] } \n',
      '{"objects":[{"type":"indicator","id":"indicator--1"},42,"s",null,true,false,[],{},[1,[2,{"a":[]}]]]}',
      '{"more":false,"next":"x","objects":[{"a":"\\"]}\\\\","b":"\\u005d\\/\\b\\f\\n\\r\\t"}]}',
      '{"objects":[-0,0.5,-1.25e+10,3E-2,1e5,123456789012345678901234567890]}',
      '{"objects":["ünïcødé ✓ 😀", "\u2028"]}',
      '{"\\u006fbjects":[1,2]}',
      '{"objects":[1],"objects":[2,3]}',
      '{"objects":[1],"objects":5}',
      '{"objects":5,"objects":[7]}',
      '{"more":[[1]],"objects":[],"next":[{"x":[2]}]}',
      '{"objects":[],"spec_version":"2.1","id":"bundle--1","type":"bundle"}',
      '{}',
      '{"more":true}',
      '{"foo":1}',
      '{"objects":{"a":[1]}}',
      '[{"objects":[1]}]',
      '42',
      '"objects"',
      'null',
    ]) {
      agree(text);
    }
  });

  it('refuses what JSON.parse refuses (400)', function () {
    for (const text of [
      '',
      ' ',
      '{"objects": [',
      '{"objects": [1,]}',
      '{"objects": [1 2]}',
      '{"objects" [1]}',
      '{"objects": [01]}',
      '{"objects": [1.]}',
      '{"objects": [.5]}',
      '{"objects": [-]}',
      '{"objects": [1e]}',
      '{"objects": [+1]}',
      '{"objects": ["a\\x"]}',
      '{"objects": ["\\u12"]}',
      '{"objects": ["tab\there"]}',
      '{"objects": [tru]}',
      '{"objects": [nul]}',
      '{"objects": [True]}',
      "{'objects': []}",
      '{"objects": []} x',
      '{"objects": []}}',
      '{objects: []}',
      '{"a":1,}',
      '\ufeff{"objects":[]}',
      'not json',
    ]) {
      expect(viaEnvelope(text), text).to.deep.equal({ code: 'TAXII_ERR_BAD_JSON' });
      agree(text);
    }
  });

  it('nests deeper than any recursion limit', function () {
    const deep = `{"objects":[${'['.repeat(200_000)}${']'.repeat(200_000)}]}`;
    const verdict = viaEnvelope(deep);
    expect(verdict).to.have.property('items').with.length(1);
    expect(viaEnvelope(`{"objects":[${'['.repeat(200_000)}]}`)).to.deep.equal({ code: 'TAXII_ERR_BAD_JSON' });
  });

  it('refuses bytes that are not UTF-8 (RFC 8259 §8.1) instead of storing U+FFFD', function () {
    for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]]) {
      const bytes = Buffer.concat([Buffer.from('{"objects":["a'), Buffer.from(bad), Buffer.from('"]}')]);
      expect(viaEnvelope(bytes), bad.join(' ')).to.deep.equal({ code: 'TAXII_ERR_BAD_JSON' });
      expect(utf8ErrorOffset(bytes), bad.join(' ')).to.equal(14);
    }
    expect(utf8ErrorOffset(Buffer.from([0x7b, 0xe2, 0x82]))).to.equal(3); // cut short at the end
    expect(viaEnvelope(Buffer.from('{"objects":["😀 漢字 é"]}'))).to.deep.equal({ items: ['😀 漢字 é'] });
  });

  it('notes numbers a double does not hold exactly, per item, with their paths', function () {
    const envelope = openEnvelope(Buffer.from('{"more":1e400,"objects":[{"a":[1,9007199254740993]},{"b":1.5e300,"c":-0,"d":0.1},{"e":{"f":1e-400}}]}'));
    expect(envelope.findings(0).map((f) => [f.code, f.path])).to.deep.equal([['STIX_NUMBER_NOT_EXACT', '/a/1']]);
    expect(envelope.findings(1)).to.deep.equal([]);
    expect(envelope.findings(2).map((f) => [f.code, f.path])).to.deep.equal([['STIX_NUMBER_NOT_EXACT', '/e/f']]);
  });

  it('agrees with JSON.parse on arbitrary JSON, envelopes and near-JSON (property)', function () {
    const envelopeText = fc
      .record({ objects: fc.array(fc.jsonValue({ stringUnit: 'binary' }), { maxLength: 8 }), more: fc.boolean() }, { requiredKeys: [] })
      .map((e) => JSON.stringify(e, null, Math.random() < 0.5 ? 0 : 2));
    // Any Unicode in strings, so that multi-byte UTF-8 (and pairs cut by the mutations) is covered.
    const anyText = fc.oneof(fc.json({ stringUnit: 'binary' }), envelopeText);
    // Near-misses: a valid text cut short, or with one character dropped, doubled or replaced.
    const mutated = fc.tuple(anyText, fc.nat(), fc.constantFrom('cut', 'drop', 'double', 'replace'), fc.constantFrom(...'{}[],:"\\ 0e-.tfnu\x01x')).map(([text, at, how, ch]) => {
      const p = text.length ? at % text.length : 0;
      if (how === 'cut') return text.slice(0, p);
      if (how === 'drop') return text.slice(0, p) + text.slice(p + 1);
      if (how === 'double') return text.slice(0, p + 1) + text.slice(p);
      return text.slice(0, p) + ch + text.slice(p + 1);
    });
    fc.assert(fc.property(fc.oneof(anyText, mutated), (text) => {
      expect(viaEnvelope(text)).to.deep.equal(viaJsonParse(text));
    }), { numRuns: 3000 });
  });
});
