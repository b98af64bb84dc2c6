// Runs the real server (`node bin/meridian.js serve`) as a child process on loopback, sets it up
// with the CLI, and watches its memory through /proc.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(REPO, 'bin/meridian.js');

/** Runs one `meridian` CLI command against the data directory (or the store `env` names); returns its stdout. */
export function cli(dataDir: string, args: string[], o: { input?: string; env?: Record<string, string> } = {}): string {
  const r = spawnSync(process.execPath, [BIN, '--data', dataDir, ...args], { input: o.input, encoding: 'utf8', env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn', ...o.env } });
  if (r.status !== 0) throw new Error(`meridian ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * The machine's CPU time stolen by its host (a virtual machine's noisy neighbours) over what `fn`
 * waits for, as a share of all CPU time meanwhile (/proc/stat, all cores); undefined off Linux.
 * A figure taken while the host took a tenth of the CPU is not this code's figure.
 */
export async function withSteal<T>(fn: () => Promise<T>): Promise<{ result: T; steal: number | undefined }> {
  const before = cpuTimes();
  const result = await fn();
  const after = cpuTimes();
  return { result, steal: before && after && after.total > before.total ? (after.steal - before.steal) / (after.total - before.total) : undefined };
}

function cpuTimes(): { steal: number; total: number } | undefined {
  try {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in clock ticks
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: fields[7]!, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

const NO_RATE_LIMITS = {
  MERIDIAN_RATE_LIMIT_ADDRESS_PER_MINUTE: '0',
  MERIDIAN_RATE_LIMIT_READS_PER_MINUTE: '0',
  MERIDIAN_RATE_LIMIT_WRITES_PER_MINUTE: '0',
  MERIDIAN_RATE_LIMIT_LOGINS_PER_MINUTE: '0',
  // Load generators run many concurrent publishers and connections from one account and address.
  MERIDIAN_INGEST_JOBS_PER_ACCOUNT: '0',
  MERIDIAN_MAX_CONNECTIONS_PER_ADDRESS: '0',
};

export interface ServerOptions {
  dataDir: string;
  logLevel: string;
  /** Extra node flags for the server process (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

export class ServerProcess {
  readonly child: ChildProcess;
  port = 0;
  /** Milliseconds from spawn to the "listening" log line. */
  listeningMs = 0;
  private stderrTail = '';
  /** Share of a core under which the server counts as idle: a profiler's sampling thread alone takes about 8 %. */
  private readonly idleShare: number;

  private constructor(child: ChildProcess, profiled: boolean) {
    this.child = child;
    this.idleShare = profiled ? 0.15 : 0.05;
  }

  static async start(o: ServerOptions): Promise<ServerProcess> {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(o.nodeFlags ?? []), BIN, '--data', o.dataDir, 'serve', '--host', '127.0.0.1', '--port', '0'], {
      // The bench measures capacity: the per-address and per-account rate limits (a policy, tested on
      // their own) are off here, or 8 clients of one account would be throttled within seconds.
      env: { ...process.env, MERIDIAN_LOG_LEVEL: o.logLevel, ...NO_RATE_LIMITS, ...o.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const server = new ServerProcess(child, (o.nodeFlags ?? []).some((f) => f.startsWith('--cpu-prof')));
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        server.stderrTail = (server.stderrTail + text).slice(-4000);
        if (server.port) return; // keep draining the pipe; the log is not kept
        buffered += text;
        const m = /"url":"https?:\/\/[^:]+:(\d+)\//.exec(buffered);
        if (m) {
          server.port = Number(m[1]);
          server.listeningMs = performance.now() - t0;
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${server.stderrTail}`)));
    });
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Current and peak resident memory (MiB) from /proc. */
  memory(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  }

  /** Resets the kernel's peak-RSS mark (VmHWM), so a phase's own peak can be read. */
  resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Samples RSS every `everyMs` until stopped; returns the highest sample and the kernel's peak. */
  sampleMemory(everyMs = 25): () => { peakRss: number; hwm: number } {
    let peak = 0;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, this.memory().rss);
      } catch {
        /* the process is gone */
      }
    }, everyMs);
    return () => {
      clearInterval(timer);
      let hwm = NaN;
      try {
        const m = this.memory();
        peak = Math.max(peak, m.rss);
        hwm = m.hwm;
      } catch {
        /* the process is gone */
      }
      return { peakRss: peak, hwm };
    };
  }

  /** CPU time (user + system, all threads) of the process so far, in ms. */
  cpuMs(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  /**
   * Waits until the server is idle (under 5% of a core, 15% when profiled, for 1 s, sampled every 250 ms), for work
   * it does on its own (the start-up policy pass, what follows a submission), so that it is not
   * measured as part of the next figure. Returns the ms waited and the CPU ms spent meanwhile.
   */
  async settle(maxMs = 600_000): Promise<{ ms: number; cpuMs: number }> {
    const t0 = performance.now();
    const cpu0 = this.cpuMs();
    let quiet = 0;
    let last = cpu0;
    let lastAt = t0;
    while (performance.now() - t0 < maxMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = performance.now();
      const cpu = this.cpuMs();
      quiet = (cpu - last) / (now - lastAt) < this.idleShare ? quiet + 1 : 0;
      last = cpu;
      lastAt = now;
      if (quiet >= 4) break;
    }
    return { ms: performance.now() - t0, cpuMs: last - cpu0 };
  }

  /** SIGTERM, then waits for the graceful exit (which also writes a --cpu-prof profile). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}
