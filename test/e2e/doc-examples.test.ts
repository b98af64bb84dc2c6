// Every fenced shell block (```sh, ```bash, ```shell) of README.md and docs/*.md, run as written, in
// document order per file, so a new operator copying them from a fresh clone gets what the page says.
// Each file gets a fresh data folder (MERIDIAN_DATA_DIR), a fresh working folder and HOME, and
// `meridian` / `npx meridian` resolving to this checkout's built CLI. When a block talks to the server
// (curl, or the documented address 127.0.0.1:8470), the test starts the real built server on a free
// port and points the block's URLs at it. curl is wrapped with --fail-with-body, so an HTTP error
// fails the block as an exit status would. A block preceded by `<!-- not run: REASON -->` is reported
// as skipped with that reason; the few lines the test does itself (starting the server) or must not
// do (installing, the whole test suite) are listed in SKIPPED_LINES and reported when skipped.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { EXAMPLE_ENV } from '../helpers/layout-example.js';
import { stopServer } from '../helpers/process.js';

const REPO = path.resolve('.');
const CLI = path.join(REPO, 'bin', 'meridian.js');
const DOCUMENTED_ADDRESS = '127.0.0.1:8470';
const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const NOT_RUN = /^<!--\s*not run:\s*(.+?)\s*-->$/;

/** Whole lines (comment after the command ignored) that the test does not run, and why. */
const SKIPPED_LINES: Record<string, string> = {
  'npm ci && npm start': 'the test starts the built server itself, on a free port',
  'npm ci && npm test': 'installs dependencies and runs the whole test suite',
  'npx meridian serve': 'the test starts the built server itself, on a free port',
  'meridian serve': 'the test starts the built server itself, on a free port',
};

/** Files the examples expect in the working folder, beside what the pages create themselves. */
const LAYOUT_EXAMPLE = readFileSync(path.join(REPO, 'docs/examples/layout.yaml'), 'utf8');
const FIXTURES: Record<string, string> = {
  'site.yaml': LAYOUT_EXAMPLE,
  'site.json': JSON.stringify(parseYaml(LAYOUT_EXAMPLE), null, 2),
};

/** Passwords the examples read from the environment; docs/security.md names these variables. */
const FIXTURE_ENV: Record<string, string> = {
  ...EXAMPLE_ENV,
  ADMIN_PASSWORD: 'desk admin passphrase 1',
  CURATOR_PASSWORD: 'desk curator passphrase 1',
  FEED_PASSWORD: 'acme feed passphrase 1',
  OFFICER_PASSWORD: 'fr officer passphrase 1',
  RED_DESK_PASSWORD: 'fr red desk passphrase 1',
};

interface Block {
  file: string;
  line: number; // of the opening fence, 1-based
  language: string;
  body: string;
  notRun?: string;
}

/** The fenced shell blocks of one Markdown file, in order, each with the reason it is not run if marked. */
export function shellBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, language] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence![0]}{${fence!.length},}\\s*$`).test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    if (SHELL_LANGUAGES.has(language!.toLowerCase())) {
      let k = i - 1;
      while (k >= 0 && lines[k]!.trim() === '') k--;
      const marker = k >= 0 ? NOT_RUN.exec(lines[k]!.trim()) : null;
      blocks.push({ file, line: i + 1, language: language!, body: body.join('\n'), ...(marker ? { notRun: marker[1]! } : {}) });
    }
    i = j;
  }
  return blocks;
}

/** The block with SKIPPED_LINES removed (and reported) and the documented address replaced by the test server's. */
function prepare(block: Block, address: string | undefined, report: (s: string) => void): string {
  return block.body
    .split('\n')
    .map((line, n) => {
      const command = line.replace(/\s+#.*$/, '').trim();
      const reason = SKIPPED_LINES[command];
      if (reason === undefined) return address ? line.split(DOCUMENTED_ADDRESS).join(address) : line;
      report(`  skipped ${block.file}:${block.line + 1 + n} \`${command}\`: ${reason}`);
      return ': skipped by the doc-examples test';
    })
    .join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The built server (`node bin/meridian.js serve`) on MERIDIAN_PORT; resolves once it logs that it listens. */
function startBuiltServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; log: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], { env, cwd: env.DOC_WORKDIR, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${log}`)), 20_000);
    child.stderr!.on('data', (d) => {
      log += d;
      if (log.includes('"event":"listening"')) {
        clearTimeout(timer);
        resolve({ child, log: () => log });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}: ${log}`));
    });
  });
}

function runBlock(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function writeShims(dir: string): void {
  const realCurl = spawnSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).stdout.trim();
  const shims: Record<string, string> = {
    meridian: `exec "${process.execPath}" "${CLI}" "$@"`,
    npx: `if [ "$1" = meridian ]; then shift; exec "${process.execPath}" "${CLI}" "$@"; fi\necho "doc-examples: only \\"npx meridian\\" is provided here, not: npx $*" >&2\nexit 127`,
    curl: `exec "${realCurl}" --fail-with-body --silent --show-error "$@"`,
  };
  for (const [name, body] of Object.entries(shims)) {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  }
}

const DOCS = ['README.md', ...readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

describe('documentation examples run as written', function () {
  this.timeout(60_000);

  before(function () {
    if (!existsSync(path.join(REPO, 'dist/server/cli.js'))) throw new Error('the CLI is not built: run `npm run build` first');
    if (!spawnSync('sh', ['-c', 'command -v curl']).stdout.length) throw new Error('curl is not installed');
  });

  for (const file of DOCS) {
    const blocks = shellBlocks(file, readFileSync(path.join(REPO, file), 'utf8'));
    if (blocks.length === 0) continue;

    describe(file, function () {
      let root: string;
      let env: NodeJS.ProcessEnv;
      let server: { child: ChildProcess; log: () => string } | undefined;
      let address: string | undefined;

      before(function () {
        root = mkdtempSync(path.join(tmpdir(), 'meridian-doc-'));
        for (const d of ['bin', 'data', 'work', 'home']) mkdirSync(path.join(root, d));
        writeShims(path.join(root, 'bin'));
        for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(path.join(root, 'work', name), content);
        const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MERIDIAN_')));
        env = {
          ...inherited,
          ...FIXTURE_ENV,
          PATH: `${path.join(root, 'bin')}:${process.env.PATH}`,
          HOME: path.join(root, 'home'),
          MERIDIAN_DATA_DIR: path.join(root, 'data'),
          MERIDIAN_LOG_LEVEL: 'info',
          DOC_WORKDIR: path.join(root, 'work'),
        };
        console.log(`    fixtures in the working folder: ${Object.keys(FIXTURES).join(', ')}; environment: ${Object.keys(FIXTURE_ENV).join(', ')}`);
      });

      after(async function () {
        if (server) await stopServer(server.child);
        rmSync(root, { recursive: true, force: true });
      });

      for (const block of blocks) {
        const title = `${file}:${block.line} (${block.language})`;
        if (block.notRun !== undefined) {
          it.skip(`${title}: not run: ${block.notRun}`);
          continue;
        }
        it(title, async function () {
          if (!server && (block.body.includes(DOCUMENTED_ADDRESS) || /\bcurl\b/.test(block.body))) {
            const port = await freePort();
            server = await startBuiltServer({ ...env, MERIDIAN_PORT: String(port) });
            address = `127.0.0.1:${port}`;
            console.log(`    started the built server at http://${address}/ (the pages' ${DOCUMENTED_ADDRESS} is rewritten to it)`);
          }
          const script = prepare(block, address, (s) => console.log(s));
          const r = await runBlock(script, env, path.join(root, 'work'));
          expect(r.code, `${title} exited with ${r.code}\n--- block ---\n${script}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}${server ? `\n--- server log (tail) ---\n${server.log().slice(-2000)}` : ''}`).to.equal(0);
        });
      }
    });
  }
});
