// STIX 2.1 §6.3 domain-name and §6.15 url values MUST conform to RFC 1034 / RFC 5890 and RFC 3986.
import { expect } from 'chai';
import { processObject } from '../../../stix-schemas/pipeline.js';

function codes(obj: Record<string, unknown>): string[] {
  return processObject({ spec_version: '2.1', ...obj }).findings.filter((f) => f.severity === 'error').map((f) => f.code);
}

describe('SCO value formats (§6.3 domain-name, §6.15 url)', function () {
  it('accepts real domain names, including IDNs and underscore labels', function () {
    for (const value of ['example.com', 'münchen.de', 'xn--mnchen-3ya.de', '_dmarc.example.com', 'localhost']) {
      expect(codes({ type: 'domain-name', value }), value).to.deep.equal([]);
    }
  });

  it('rejects what cannot be a domain name (STIX_VALUE_FORMAT)', function () {
    for (const value of ['a..b', '-bad.example', 'exa mple.com', `${'x'.repeat(64)}.com`, 'http://example.com']) {
      expect(codes({ type: 'domain-name', value }), value).to.include('STIX_VALUE_FORMAT');
    }
  });

  it('accepts URLs with a scheme and rejects the rest (STIX_VALUE_FORMAT)', function () {
    for (const value of ['https://example.com/a?b=c#d', 'ftp://files.example.org/x', 'http://[2001:db8::1]/']) {
      expect(codes({ type: 'url', value }), value).to.deep.equal([]);
    }
    for (const value of ['example.com/path', 'not a url', 'http://exa mple.com/']) {
      expect(codes({ type: 'url', value }), value).to.include('STIX_VALUE_FORMAT');
    }
  });
});
