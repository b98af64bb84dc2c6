// Numbers a double does not hold exactly are refused from their text (stix-schemas/numbers.ts).
import assert from 'node:assert/strict';
import { inexactNumbers, isExactNumberText } from '../../../stix-schemas/numbers.js';

describe('STIX_NUMBER_NOT_EXACT: number tokens a double would change', () => {
  it('keeps what round-trips with its value', () => {
    for (const t of ['0', '-0', '-0.0e-5', '1.10', '1e2', '1E+2', '0.1', '9007199254740991', '9007199254740992', '1.5e300', '5e-324', '0e999', '1e21', '100000000000000000000000', '0.30000000000000004']) {
      assert.equal(isExactNumberText(t), true, t);
    }
  });
  it('refuses what JSON.parse would change', () => {
    for (const t of ['1e400', '-1e400', '1e-400', '-1e-400', '9007199254740993', '12345678901234567890', '0.12345678901234567890123', '0.3000000000000000444']) {
      assert.equal(isExactNumberText(t), false, t);
    }
  });
  it('names each bad token by its JSON pointer, and nothing else', () => {
    const found = inexactNumbers('{"a":[1,2,1e400,{"b/c":9007199254740993,"d":"x\\"1e400"}],"e":1e-400,"f":[[1],[0.1234567890123456789]],"g":0.1}');
    assert.deepEqual(found.map((f) => f.path), ['/a/2', '/a/3/b~1c', '/e', '/f/1/0']);
    assert.match(found[1]!.message, /9007199254740993.*9007199254740992.*§2\.10.*RFC 7493/);
  });
});
