// The error-code catalogue and its documentation agree.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ERROR_CATALOGUE, TaxiiError, type ErrorCode } from '../../taxii/errors.js';

describe('error catalogue (TAXII 2.1 §3.6)', function () {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map([...doc.matchAll(/^\| `(TAXII_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));

  it('documents every code with its status, and nothing else', function () {
    const inCode = new Map(Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, e.status]));
    expect([...documented.entries()].sort()).to.deep.equal([...inCode.entries()].sort());
  });

  it('serialises as the §3.6.1 error resource with http_status as a string', function () {
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      const body = new TaxiiError(code, 'why').toJSON('req-1');
      expect(body).to.deep.equal({ title: ERROR_CATALOGUE[code].title, description: 'why', error_id: 'req-1', error_code: code, http_status: String(ERROR_CATALOGUE[code].status) });
    }
  });
});
