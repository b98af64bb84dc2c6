// Configuration errors a person can act on: an enum error names the allowed values and what was given.
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../server/config.js';

describe('configuration', () => {
  it('an enum error lists the allowed values and the value given', () => {
    expect(() => loadConfig({ env: { MERIDIAN_LOG_LEVEL: 'loud' } })).to.throw(ConfigError, 'logLevel: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")');
  });

  it('every enum key gets the same treatment (scoIds from a flag)', () => {
    expect(() => loadConfig({ env: {}, overrides: { scoIds: 'maybe' } })).to.throw(ConfigError, 'scoIds: must be one of keep, fill, recompute (got "maybe")');
  });

  it('logFormat: json by default, pretty from MERIDIAN_LOG_FORMAT, anything else refused with the choices', () => {
    expect(loadConfig({ env: {} }).logFormat).to.equal('json');
    expect(loadConfig({ env: { MERIDIAN_LOG_FORMAT: 'pretty' } }).logFormat).to.equal('pretty');
    expect(() => loadConfig({ env: { MERIDIAN_LOG_FORMAT: 'xml' } })).to.throw(ConfigError, 'logFormat: must be one of json, pretty (got "xml")');
  });
});
