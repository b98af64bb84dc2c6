// `meridian validate`, driven through runValidate with captured output.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runValidate } from '../../../server/commands/validate.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/stix/files/${name}`, import.meta.url));

async function run(files: string[], opts: { json?: boolean; strict?: boolean } = {}, stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runValidate(files, opts, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, stdin: Readable.from([stdinText]) });
  return { code, out, err };
}

describe('meridian validate', () => {
  it('exits 0 on a clean bundle and summarises', async () => {
    const r = await run([fixture('bundle-valid.json')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /bundle, 2 object\(s\), 0 error\(s\), 0 warning\(s\)/);
  });

  it('exits 0 with warnings, 1 with --strict', async () => {
    const r = await run([fixture('envelope-warning.json')]);
    assert.equal(r.code, 0);
    assert.match(r.out, /STIX_VOCAB_VALUE \/malware_types\/0/);
    assert.equal((await run([fixture('envelope-warning.json')], { strict: true })).code, 1);
  });

  it('exits 1 on errors, grouping findings by object', async () => {
    const r = await run([fixture('list-invalid.json')]);
    assert.equal(r.code, 1);
    assert.match(r.out, /\[0\] malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061 REJECTED\n\s+error\s+STIX_MODIFIED_BEFORE_CREATED/);
    assert.match(r.out, /\[1\] tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f REJECTED\n\s+error\s+STIX_NULL_VALUE \/description/);
  });

  it('prints one machine-readable report with --json', async () => {
    const r = await run([fixture('bundle-valid.json'), fixture('list-invalid.json')], { json: true });
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out) as { ok: boolean; objects: number; errors: number; files: Array<{ file: string; results: unknown[] }> };
    assert.equal(report.ok, false);
    assert.equal(report.objects, 4);
    assert.equal(report.errors, 2);
    assert.equal(report.files[1]?.results.length, 2);
  });

  it('reads - from stdin (a single object)', async () => {
    const obj = { type: 'ipv4-addr', id: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4', value: '198.51.100.3' };
    const r = await run(['-'], {}, JSON.stringify(obj));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /object, 1 object\(s\)/);
  });

  it('exits 2 on unreadable input (missing file, bad JSON)', async () => {
    assert.equal((await run(['/nonexistent/file.json'])).code, 2);
    const bad = await run(['-'], {}, '{"type": "bundle",');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unreadable/);
    assert.equal((await run([])).code, 2);
  });
});

describe('meridian validate: unreadable JSON', () => {
  it('reports the line and column where the text stops being JSON', async () => {
    const bad = await run(['-'], {}, '{\n  "type": "bundle",\n  "id": x\n}');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unreadable: not valid JSON at line 3, column 9: found "x"/);
    const cut = await run(['-'], { json: true }, '[\r\n  {"type": "malware",\r\n');
    const report = JSON.parse(cut.out) as { files: Array<{ unreadable: string; line: number; column: number }> };
    assert.deepEqual([report.files[0]?.line, report.files[0]?.column], [3, 1]);
    assert.match(report.files[0]!.unreadable, /found the end of the text/);
  });
  it('counts columns in characters, not UTF-16 units', async () => {
    const bad = await run(['-'], {}, '{"name": "😀😀", oops}');
    assert.match(bad.err, /line 1, column 16: found "o"/);
  });
});
