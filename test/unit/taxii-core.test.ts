// Pure TAXII functions: timestamps, content negotiation, query parsing, paging tokens.
import { expect } from 'chai';
import { versionKeyFromMicros } from '../../collections/store.js';
import { timestampKey } from 'stix2-validator-ts/timestamp';
import { TaxiiError } from '../../taxii/errors.js';
import { acceptsTaxii, isTaxiiContentType } from '../../taxii/media-types.js';
import { PageTokens } from '../../taxii/paging.js';
import { parseQuery, versionMatch } from '../../taxii/query.js';
import { formatMicros, parseMicros } from '../../taxii/time.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaxiiError) return err.code;
    throw err;
  }
  return undefined;
}

describe('timestamps in microseconds (docs/architecture.md §6)', function () {
  it('formats with exactly six fractional digits', function () {
    expect(formatMicros(1_700_000_000_123_456)).to.equal('2023-11-14T22:13:20.123456Z');
    expect(formatMicros(1_700_000_000_000_001)).to.equal('2023-11-14T22:13:20.000001Z');
    expect(formatMicros(0)).to.equal('1970-01-01T00:00:00.000000Z');
  });

  it('parses any fractional precision, rounding down, and offsets', function () {
    expect(parseMicros('2023-11-14T22:13:20Z')).to.equal(1_700_000_000_000_000);
    expect(parseMicros('2023-11-14T22:13:20.1Z')).to.equal(1_700_000_000_100_000);
    expect(parseMicros('2023-11-14T22:13:20.123456789Z')).to.equal(1_700_000_000_123_456);
    expect(parseMicros('2023-11-15T00:13:20.5+02:00')).to.equal(1_700_000_000_500_000);
    for (const us of [1, 999, 1_700_000_000_123_456]) expect(parseMicros(formatMicros(us))).to.equal(us);
  });

  it('rejects what is not a real date-time', function () {
    for (const bad of ['2023-02-30T00:00:00Z', '2023-01-01T24:00:00Z', '2023-01-01T00:00:60Z', '2023-01-01', 'yesterday', '2023-01-01T00:00:00', '']) {
      expect(parseMicros(bad), bad).to.equal(undefined);
    }
  });

  it('makes version keys for versionless objects in the STIX key format', function () {
    const us = 1_700_000_000_123_456;
    expect(versionKeyFromMicros(us)).to.equal(timestampKey(formatMicros(us)));
  });
});

describe('content negotiation (TAXII 2.1 §1.6.8, §3.1)', function () {
  it('accepts the TAXII 2.1 media type with or without version, in lists, with q-values and wildcards', function () {
    for (const ok of [undefined, 'application/taxii+json;version=2.1', 'application/taxii+json', 'application/taxii+json; version="2.1"', 'text/html, application/taxii+json;version=2.1;q=0.5', '*/*', 'application/*', 'APPLICATION/TAXII+JSON;VERSION=2.1']) {
      expect(acceptsTaxii(ok), String(ok)).to.equal(true);
    }
  });

  it('refuses other versions, other types and q=0', function () {
    for (const bad of ['application/taxii+json;version=2.0', 'application/json', 'text/html', 'application/taxii+json;version=2.1;q=0', 'application/stix+json;version=2.1']) {
      expect(acceptsTaxii(bad), bad).to.equal(false);
    }
  });

  it('takes POST bodies as application/taxii+json (version 2.1 or none)', function () {
    expect(isTaxiiContentType('application/taxii+json;version=2.1')).to.equal(true);
    expect(isTaxiiContentType('application/taxii+json')).to.equal(true);
    expect(isTaxiiContentType('application/taxii+json; charset=utf-8; version=2.1')).to.equal(true);
    expect(isTaxiiContentType('application/taxii+json;version=2.0')).to.equal(false);
    expect(isTaxiiContentType('application/json')).to.equal(false);
    expect(isTaxiiContentType(undefined)).to.equal(false);
  });
});

describe('query parsing (TAXII 2.1 §3.4)', function () {
  const parse = (endpoint: Parameters<typeof parseQuery>[0], q: string) => parseQuery(endpoint, new URLSearchParams(q).entries());

  it('parses every filter of the objects endpoint', function () {
    const p = parse('objects', 'added_after=2020-01-01T00:00:00Z&limit=10&match[type]=malware,indicator&match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f&match[version]=first,2020-01-01T00:00:00.000Z&match[spec_version]=2.1');
    expect(p.limit).to.equal(10);
    expect(p.filters.added_after).to.equal(1_577_836_800_000_000);
    expect(p.filters.type).to.deep.equal(['indicator', 'malware']);
    expect(p.filters.version).to.deep.equal([timestampKey('2020-01-01T00:00:00Z'), 'first'].sort());
    expect(versionMatch(p.filters.version)).to.deep.equal({ first: true, last: false, keys: [timestampKey('2020-01-01T00:00:00Z')] });
    expect(versionMatch(undefined)).to.deep.equal({ first: false, last: true, keys: [] });
    expect(versionMatch(['all'])).to.deep.equal({ all: true });
  });

  it('answers 400 for malformed, repeated or misplaced parameters', function () {
    const bad: Array<[Parameters<typeof parseQuery>[0], string]> = [
      ['objects', 'limit=0'],
      ['objects', 'limit=-1'],
      ['objects', 'limit=abc'],
      ['objects', 'limit=1&limit=2'],
      ['objects', 'added_after=yesterday'],
      ['objects', 'match[type]=Indicator'],
      ['objects', 'match[type]=a,,b'],
      ['objects', 'match[id]=not-an-id'],
      ['objects', 'match[version]=all,last'],
      ['objects', 'match[version]=last,last'],
      ['objects', 'match[version]=2020-01-01T00:00:00Z,2020-01-01T00:00:00.000Z'],
      ['objects', 'match[version]=2020-13-01T00:00:00Z'],
      ['objects', 'match[spec_version]=two'],
      ['objects', 'next='],
      ['object', 'match[type]=indicator'],
      ['versions', 'match[version]=last'],
      ['delete', 'limit=1'],
    ];
    for (const [endpoint, q] of bad) expect(code(() => parse(endpoint, q)), `${endpoint} ${q}`).to.equal('TAXII_ERR_BAD_FILTER');
  });

  it('ignores parameters and match fields TAXII does not define', function () {
    expect(parse('objects', 'foo=bar&match[color]=red').given.size).to.equal(0);
  });
});

describe('next tokens (docs/architecture.md §6)', function () {
  const tokens = new PageTokens(Buffer.alloc(32, 7));
  const at = { endpoint: 'objects' as const, collectionId: 'c1', accountId: 'a1' };
  const token = tokens.sign({ ...at, filters: { type: ['malware'] }, after: 42 });

  it('round-trips filters and position', function () {
    expect(tokens.verify(token, at)).to.deep.equal({ filters: { type: ['malware'] }, after: 42 });
  });

  it('refuses a tampered token, another caller, collection, endpoint or key', function () {
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), p: 0 })).toString('base64url');
    expect(code(() => tokens.verify(`${forged}.${mac}`, at))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => tokens.verify(`${token}x`, at))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => tokens.verify('garbage', at))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => tokens.verify(token, { ...at, accountId: 'a2' }))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => tokens.verify(token, { ...at, collectionId: 'c2' }))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => tokens.verify(token, { ...at, endpoint: 'manifest' }))).to.equal('TAXII_ERR_BAD_NEXT');
    expect(code(() => new PageTokens(Buffer.alloc(32, 8)).verify(token, at))).to.equal('TAXII_ERR_BAD_NEXT');
  });
});
