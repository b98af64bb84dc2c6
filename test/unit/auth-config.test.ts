// Unit tests of the authentication building blocks: the JWT/login configuration keys, RFC 7617
// Basic parsing, and API-key shapes.
import { expect } from 'chai';
import { apiKeyPrefix, newApiKey } from '../../server/auth/api-keys.js';
import { parseBasic } from '../../server/auth/basic-strategy.js';
import { ConfigError, loadConfig } from '../../server/config.js';

describe('auth configuration', () => {
  it('defaults: HS256, iss "meridian", aud "meridian-taxii", 900 s tokens, 5 per name / 20 per address in 900 s', () => {
    const c = loadConfig({ env: {} });
    expect(c).to.include({ jwtAlgorithm: 'HS256', jwtIssuer: 'meridian', jwtAudience: 'meridian-taxii', tokenTtlSeconds: 900, loginFailureLimit: 5, loginAddressFailureLimit: 20, loginWindowSeconds: 900 });
    expect(c.jwtSecret).to.equal(undefined);
  });

  it('reads MERIDIAN_JWT_* from the environment', () => {
    const c = loadConfig({ env: { MERIDIAN_JWT_SECRET: 'x'.repeat(32), MERIDIAN_TOKEN_TTL_SECONDS: '300', MERIDIAN_JWT_AUDIENCE: 'taxii' } });
    expect(c).to.include({ jwtSecret: 'x'.repeat(32), tokenTtlSeconds: 300, jwtAudience: 'taxii' });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a short jwtSecret', { jwtSecret: 'too-short' }, /jwtSecret/],
    ['an unknown algorithm', { jwtAlgorithm: 'none' }, /jwtAlgorithm/],
    ['RS256 without a private key file', { jwtAlgorithm: 'RS256' }, /needs jwtPrivateKeyFile/],
    ['key files with HS256', { jwtPrivateKeyFile: '/tmp/k.pem' }, /need jwtAlgorithm RS256 or ES256/],
    ['a token lifetime under a minute', { tokenTtlSeconds: 10 }, /tokenTtlSeconds/],
    ['a zero failure limit', { loginFailureLimit: 0 }, /loginFailureLimit/],
  ];
  for (const [what, overrides, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => loadConfig({ env: {}, overrides })).to.throw(ConfigError, message);
    });
  }
});

describe('HTTP Basic parsing (RFC 7617)', () => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  it('splits at the first colon only and decodes UTF-8', () => {
    expect(parseBasic(`Basic ${b64('alice:pa:ss')}`)).to.deep.equal({ name: 'alice', secret: 'pa:ss' });
    expect(parseBasic(`basic ${b64('jöhn:pässwörd')}`)).to.deep.equal({ name: 'jöhn', secret: 'pässwörd' });
    expect(parseBasic(`BASIC ${b64('key:')}`)).to.deep.equal({ name: 'key', secret: '' });
  });
  it('refuses what is not Basic credentials', () => {
    for (const header of [undefined, '', 'Basic', 'Basic ', `Bearer ${b64('a:b')}`, `Basic ${b64('no-colon')}`, 'Basic !!!', `Basic ${b64('a:b')} extra`]) {
      expect(parseBasic(header), String(header)).to.equal(undefined);
    }
  });
});

describe('API key shape', () => {
  it('a new key has its prefix; other strings have none', () => {
    const { prefix, secret } = newApiKey();
    expect(apiKeyPrefix(secret)).to.equal(prefix);
    for (const s of ['', 'password', `mrd_${prefix}_short`, secret.slice(1), `${secret}x`]) expect(apiKeyPrefix(s), s).to.equal(undefined);
  });
});
