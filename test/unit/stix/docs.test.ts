// The finding-code catalogue and docs/stix-findings.md agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FINDING_CODES } from '../../../stix-schemas/codes.js';

describe('docs/stix-findings.md', () => {
  it('lists exactly the codes of stix-schemas/codes.ts, with the same severities', () => {
    const text = readFileSync(new URL('../../../docs/stix-findings.md', import.meta.url), 'utf8');
    const documented = new Map<string, string>();
    for (const m of text.matchAll(/^\| `(STIX_[A-Z0-9_]+)` \| (error|warning) \|/gm)) documented.set(m[1]!, m[2]!);
    const catalogued = new Map(Object.entries(FINDING_CODES).map(([c, i]) => [c, i.severity as string]));
    assert.deepEqual([...documented].sort(), [...catalogued].sort());
  });
});
