// The real `meridian` process for end-to-end tests: run a CLI command, start `serve --port 0` and
// find its URL in the "listening" log line, stop it. From source (tsx), like `npm start` runs the build.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ENTRY = path.resolve('server/meridian.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `meridian ARGS…` with the given environment and standard input; resolves when it exits. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export interface ServerProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  base: string;
  /** Everything the process logged so far. */
  log: () => string;
}

/** Starts `meridian serve --port 0 [extra…]` and resolves once it logs the URL it listens on. */
export function startServer(env: NodeJS.ProcessEnv, extra: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve', '--port', '0', ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let buffer = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${buffer}`)), timeoutMs);
    child.stderr!.on('data', (d) => {
      buffer += d;
      const m = started ? null : /"url":"(https?:\/\/[^"]+)\/taxii2\/"/.exec(buffer);
      if (m) {
        started = true;
        clearTimeout(timer);
        resolve({ child, base: m[1]!, log: () => buffer });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`the server exited with ${code}: ${buffer}`));
    });
  });
}

/** SIGTERM, then SIGKILL if the process has not gone within 5 s; resolves with the exit code. */
export function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/** SIGKILL: no shutdown code runs (a crash); resolves once the process is gone. */
export function killServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
