// The `stix2-validate` command: FILE… [--json] [--strict] ("-" reads standard input).
import { readFileSync } from 'node:fs';
import { runValidate } from './cli.js';

const USAGE = 'usage: stix2-validate FILE… [--json] [--strict]   ("-" reads standard input)\n';

/** The package's version: package.json beside the source, or one level up from dist/. */
function version(): string {
  for (const candidate of ['./package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stix2-validator-ts' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const files: string[] = [];
  const opts: { json?: boolean; strict?: boolean } = {};
  for (const a of argv) {
    if (a === '--json') opts.json = true;
    else if (a === '--strict') opts.strict = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a === '--version' || a === '-V') {
      process.stdout.write(`${version()}\n`);
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      process.stderr.write(`stix2-validate: unknown option ${a}\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  return runValidate(files, { ...opts, command: 'stix2-validate' }, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), stdin: process.stdin });
}
