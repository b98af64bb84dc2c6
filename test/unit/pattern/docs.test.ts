// The catalogue page docs/stix-pattern-findings.md and the code agree: every code, its severity,
// and no extra codes; and the sources use only catalogued codes.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { PATTERN_CODES } from '../../../stix-schemas/pattern/index.js';

const root = new URL('../../../', import.meta.url);
const page = readFileSync(new URL('docs/stix-pattern-findings.md', root), 'utf8');

describe('STIX pattern findings: documentation agrees with the code', () => {
  const documented = new Map<string, string>();
  for (const m of page.matchAll(/^\| `(STIX_PATTERN_[A-Z0-9_]+)` \| (error|warning) \|/gm)) documented.set(m[1]!, m[2]!);

  it('documents every code with its severity', () => {
    const inCode = new Map(Object.entries(PATTERN_CODES).map(([c, i]) => [c, i.severity as string]));
    assert.deepEqual([...documented].sort(), [...inCode].sort());
  });
  it('the sources use only catalogued codes, and every catalogued code is used', () => {
    const dir = new URL('stix-schemas/pattern/', root);
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'codes.ts')) {
      for (const m of readFileSync(new URL(file, dir), 'utf8').matchAll(/'(STIX_PATTERN_[A-Z0-9_]+)'/g)) used.add(m[1]!);
    }
    assert.deepEqual([...used].sort(), Object.keys(PATTERN_CODES).sort());
  });
});
