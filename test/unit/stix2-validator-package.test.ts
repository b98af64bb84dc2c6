// stix-schemas/ as the package stix2-validator-ts: its API, its command, its README's code tables,
// and its independence (only node: built-ins and its two declared dependencies).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { FINDING_CODES, PATTERN_CODES, normalise, parsePattern, upgrade20to21, validate } from 'stix2-validator-ts';

const PKG = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../stix-schemas');

/** A valid STIX 2.1 indicator (no server helpers: the package's tests run without the server). */
function indicator() {
  const at = '2024-01-01T00:00:00.000Z';
  return { type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: at, modified: at, name: 'Bad IP', indicator_types: ['malicious-activity'], pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: at };
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return f === 'dist' || f === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('stix2-validator-ts (stix-schemas/ as a package)', () => {
  it('validates a bundle: per-object findings with codes, severities and JSON pointers', () => {
    const good = indicator();
    const bad = { ...indicator(), pattern: "[ipv4-addr:value = '1.2.3.4'" };
    const r = validate({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [good, bad] });
    expect(r.kind).to.equal('bundle');
    expect(r.ok).to.equal(false);
    expect(r.objects[0]!.ok).to.equal(true);
    expect(r.objects[1]!.ok).to.equal(false);
    const f = r.objects[1]!.findings.find((x) => x.severity === 'error')!;
    expect(f.code).to.match(/^STIX_PATTERN_/);
    expect(f.path).to.match(/^\/pattern/);
    expect(validate(good).ok).to.equal(true);
  });

  it('normalises idempotently, upgrades 2.0 to 2.1, parses patterns', () => {
    const n = normalise({ ...indicator(), created: '2024-01-01T00:00:00Z' });
    expect(normalise(n)).to.deep.equal(n);
    const up = upgrade20to21({ type: 'malware', id: `malware--${crypto.randomUUID()}`, created: '2016-01-01T00:00:00.000Z', modified: '2016-01-01T00:00:00.000Z', name: 'x', labels: ['ransomware'] });
    expect(up.object).to.include({ spec_version: '2.1', is_family: true });
    expect(up.object.malware_types).to.deep.equal(['ransomware']);
    expect(up.findings.map((x) => x.code)).to.include('STIX_UPGRADED_FROM_20');
    expect(parsePattern("[ipv4-addr:value = '198.51.100.1']").ok).to.equal(true);
    expect(parsePattern('[ipv4-addr:value = ').ok).to.equal(false);
  });

  it('README lists exactly the finding and pattern codes, with their severities', () => {
    const text = readFileSync(path.join(PKG, 'README.md'), 'utf8');
    const documented = [...text.matchAll(/^\| `(STIX_[A-Z0-9_]+)` \| (error|warning) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const catalogued = Object.entries({ ...FINDING_CODES, ...PATTERN_CODES }).map(([c, i]) => `${c} ${i.severity}`).sort();
    expect(documented).to.deep.equal(catalogued);
  });

  it('imports only node: built-ins, its own files and its declared dependencies', () => {
    const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; bin: Record<string, string> };
    expect(pkg.name).to.equal('stix2-validator-ts');
    expect(pkg.bin).to.have.property('stix2-validate');
    for (const file of sources(PKG)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^import[^'"]*from '([^']+)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || spec in pkg.dependencies) continue;
        expect(spec.startsWith('.'), `${file}: ${spec}`).to.equal(true);
        expect(path.resolve(path.dirname(file), spec).startsWith(`${PKG}${path.sep}`), `${file} reaches outside the package: ${spec}`).to.equal(true);
      }
    }
  });

  it('is consumed by its package name: every export has a source file and a tsconfig "paths" entry, and nothing else', () => {
    const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const tsconfig = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(path.join(PKG, '../tsconfig.json'), 'utf8')).config as { compilerOptions: { paths: Record<string, string[]> } };
    const modules = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'index' : k.slice(2)));
    const expected = Object.fromEntries(modules.map((m) => [m === 'index' ? 'stix2-validator-ts' : `stix2-validator-ts/${m}`, [`./stix-schemas/${m}.ts`]]));
    expect(tsconfig.compilerOptions.paths).to.deep.equal(expected);
    for (const m of modules) {
      expect(statSync(path.join(PKG, `${m}.ts`)).isFile(), m).to.equal(true);
      expect(pkg.exports[m === 'index' ? '.' : `./${m}`]).to.deep.equal({ types: `./dist/${m}.d.ts`, default: `./dist/${m}.js` });
    }
  });

  it('stix2-validate: exit 0 clean, 1 with errors, 2 unreadable; --json', function () {
    this.timeout(30_000);
    const run = (args: string[], input = '') => spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(path.join(PKG, 'main.ts'))}).then((m) => m.main(${JSON.stringify(args)})).then((c) => { process.exitCode = c; })`], { input, encoding: 'utf8' });
    const clean = run(['-'], JSON.stringify(indicator()));
    expect(clean.status, clean.stderr).to.equal(0);
    const errors = run(['--json', '-'], JSON.stringify({ type: 'indicator' }));
    expect(errors.status).to.equal(1);
    expect(JSON.parse(errors.stdout)).to.include({ ok: false });
    const unreadable = run(['-'], '{"type": ');
    expect(unreadable.status).to.equal(2);
    expect(unreadable.stderr).to.match(/line 1, column/);
    expect(run(['--bogus']).status).to.equal(2);
  });
});
