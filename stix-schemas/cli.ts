// `stix2-validate FILE… [--json] [--strict]` (also `meridian validate`): offline STIX 2.1 validation
// of bundles, TAXII envelopes, JSON lists or single objects, from files or "-" (stdin). Exit 0
// clean, 1 errors, 2 unreadable input.
import { readFile } from 'node:fs/promises';
import type { Finding } from './findings.js';
import { unpack } from './container.js';
import { jsonErrorPosition } from './json-position.js';
import { inexactNumbers } from './numbers.js';
import { processObjects } from './pipeline.js';

export interface ValidateIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: NodeJS.ReadableStream;
}

interface ObjectReport { index: number; id?: string; ok: boolean; findings: Finding[] }
interface FileReport {
  file: string;
  /** Set when the file could not be read or parsed. */
  unreadable?: string;
  /** Where the text stops being JSON (1-based line and column, column in code points), when that is why. */
  line?: number;
  column?: number;
  kind?: string;
  objects: number;
  errors: number;
  warnings: number;
  /** Findings about the bundle itself. */
  container: Finding[];
  /** Only the objects that have findings. */
  results: ObjectReport[];
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function validateFile(file: string, strict: boolean, stdin: NodeJS.ReadableStream): Promise<FileReport> {
  const report: FileReport = { file, objects: 0, errors: 0, warnings: 0, container: [], results: [] };
  let doc: unknown;
  let text: string;
  try {
    text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8');
  } catch (e) {
    report.unreadable = e instanceof Error ? e.message : String(e);
    return report;
  }
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // JSON.parse names a character offset at best; people fix files by line and column.
    const at = jsonErrorPosition(text);
    const why = e instanceof Error ? e.message : String(e);
    if (!at) {
      report.unreadable = why;
    } else {
      report.line = at.line;
      report.column = at.column;
      report.unreadable = `not valid JSON at line ${at.line}, column ${at.column}: found ${at.found} (${why})`;
    }
    return report;
  }
  const { kind, objects, findings } = unpack(doc);
  const bump = (f: Finding): void => {
    if (f.severity === 'error' || strict) report.errors++;
    else report.warnings++;
  };
  report.kind = kind;
  report.objects = objects.length;
  // Numbers JSON.parse changed, found in the text as the server finds them, given to their objects.
  const textFindings: Finding[][] = objects.map(() => []);
  const prefix = kind === 'list' ? '' : '/objects';
  for (const f of inexactNumbers(text, 1000)) {
    const m = kind === 'object' ? null : /^\/(\d+)(.*)$/.exec(f.path.slice(prefix.length));
    if (kind === 'object') textFindings[0]!.push(f);
    else if (m && f.path.startsWith(prefix) && textFindings[Number(m[1])]) textFindings[Number(m[1])]!.push({ ...f, path: m[2]! });
    else findings.push(f);
  }
  report.container = findings;
  findings.forEach(bump);
  processObjects(objects, { strict }, textFindings).forEach((outcome, index) => {
    outcome.findings.forEach(bump);
    if (outcome.findings.length) report.results.push({ index, id: outcome.id, ok: outcome.ok, findings: outcome.findings });
  });
  return report;
}

const line = (f: Finding, strict: boolean): string =>
  `    ${strict && f.severity === 'warning' ? 'error*' : f.severity.padEnd(7)} ${f.code} ${f.path || '/'}: ${f.message}`;

function human(r: FileReport, strict: boolean): string {
  if (r.unreadable) return `${r.file}: unreadable: ${r.unreadable}\n`;
  const out = [`${r.file}: ${r.kind}, ${r.objects} object(s), ${r.errors} error(s), ${r.warnings} warning(s)`];
  if (r.container.length) out.push(`  (${r.kind})`, ...r.container.map((f) => line(f, strict)));
  for (const o of r.results) {
    out.push(`  [${o.index}] ${o.id ?? '(no id)'}${o.ok ? '' : ' REJECTED'}`);
    out.push(...o.findings.map((f) => line(f, strict)));
  }
  return `${out.join('\n')}\n`;
}

/** Runs the command; returns the exit code. */
export async function runValidate(files: string[], opts: { json?: boolean; strict?: boolean; command?: string }, io: ValidateIo): Promise<number> {
  const strict = opts.strict === true;
  if (files.length === 0) {
    io.stderr(`${opts.command ?? 'stix2-validate'}: no input (give files, or - for stdin)\n`);
    return 2;
  }
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validateFile(file, strict, io.stdin));
  const unreadable = reports.some((r) => r.unreadable !== undefined);
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const warnings = reports.reduce((n, r) => n + r.warnings, 0);
  const objects = reports.reduce((n, r) => n + r.objects, 0);
  const exitCode = unreadable ? 2 : errors > 0 ? 1 : 0;
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok: exitCode === 0, strict, objects, errors, warnings, files: reports })}\n`);
  } else {
    for (const r of reports) (r.unreadable ? io.stderr : io.stdout)(human(r, strict));
    io.stdout(`${objects} object(s) in ${files.length} input(s): ${errors} error(s), ${warnings} warning(s)${strict ? ' (strict)' : ''}\n`);
  }
  return exitCode;
}
