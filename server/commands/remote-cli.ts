// `meridian publish` and `meridian poll`: clients of any TAXII 2.1 server, built on client/. The CLI
// entry points start them through `main` here, which loads only the client and the validator (not
// the server, its store drivers and its web framework: about 65 MB of a client's memory).
import v8 from 'node:v8';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runPoll } from './poll.js';
import { type PublishIo, runPublish } from './publish.js';
import { RemoteUsageError, remoteOptions } from './taxii-remote.js';

/** What publish reads and writes; poll takes the same, less stdin. */
export type RemoteIo = PublishIo;

/** The commands this module serves (the entry points look at the first argument). */
export const REMOTE_COMMANDS: readonly string[] = ['publish', 'poll'];

export function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

/**
 * A client's live heap is small (a few envelopes, ~20 MB) but it allocates fast (every object is
 * parsed, validated and serialised), and V8 then lets the heap grow to several times the live size
 * before a full collection. Growing it by a fifth at a time keeps the client's RSS flat whatever the
 * input's size; the full collections of so small a heap cost milliseconds.
 */
function boundHeapGrowth(): void {
  v8.setFlagsFromString('--heap-growing-percent=20');
}

/** Adds publish and poll to a program; `done` receives the exit status. */
export function remoteCommands(program: Command, io: RemoteIo, done: (code: number) => void): void {
  // Exit 0 all good, 1 some objects failed, 2 usage, 3 unreachable or refused.
  remoteOptions(program.command('publish [inputs...]'))
    .description('send STIX bundles, envelopes or JSON Lines (files, a folder, or - for standard input) to a TAXII 2.1 collection; resumable')
    .option('--no-validate', 'send without validating locally first')
    .option('--state <file>', 'resume state (default INPUT.publish-state.json; none for standard input)')
    .option('--fresh', 'ignore an existing state file and send everything')
    .addOption(new Option('--format <format>', 'input format (default: by file name, else sniffed)').choices(['bundle', 'jsonl']))
    .addOption(new Option('--max-objects <n>', 'objects per envelope at most (default 1000)').argParser(positiveInt))
    .addOption(new Option('--concurrency <n>', 'envelopes in flight (default 2)').argParser(positiveInt))
    .option('--quiet', 'no progress output')
    .option('--json', 'one JSON report on standard output')
    .action(async (inputs: string[], o: Parameters<typeof runPublish>[1]) => {
      boundHeapGrowth();
      done(await runPublish(inputs, o, io));
    });
  remoteOptions(program.command('poll'))
    .description('copy a TAXII 2.1 collection incrementally into a bundle (.json), JSON Lines (.jsonl) or a folder (one file per object), applying withdrawals')
    .requiredOption('--out <path>', 'FILE.json, FILE.jsonl or a folder')
    .option('--since <timestamp>', 'first run: only objects added after this (RFC 3339)')
    .option('--type <type...>', 'only these STIX types')
    .option('--follow', 'keep polling until interrupted')
    .addOption(new Option('--interval <seconds>', 'with --follow: seconds between polls (default 30)').argParser(positiveInt))
    .option('--state <file>', 'cursor file (default FOLDER/.meridian-poll.json or FILE.poll-state.json)')
    .option('--quiet', 'no progress output')
    .option('--json', 'one JSON report on standard output')
    .action(async (o: Parameters<typeof runPoll>[0]) => {
      boundHeapGrowth();
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      try {
        done(await runPoll(o, { ...io, signal: ac.signal }));
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      }
    });
}

/** `meridian publish|poll …` on its own: the same commands, options and exit statuses as in the full CLI. */
export async function main(argv: string[]): Promise<void> {
  const io: RemoteIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), stdin: process.stdin, env: process.env, tty: process.stderr.isTTY === true };
  const program = new Command('meridian').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError();
  let code = 0;
  remoteCommands(program, io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) code = err.exitCode === 0 ? 0 : 2;
    else if (err instanceof RemoteUsageError) {
      io.stderr(`meridian: ${err.message}\n`);
      code = 2;
    } else throw err;
  }
  process.exitCode = code;
  if (code !== 0) process.exit(code);
}
