// `meridian curation …`: the desk's queue and decisions at the command line, on the local store,
// through the same DeskService as the curation API (so release rules, four eyes and the audit log
// hold alike). Decisions are made in a curator's name (--as ACCOUNT): the CLI operator vouches for
// who decides, and nobody decides as "the operator". Reading the queue without --as shows it all.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { userInfo } from 'node:os';
import type { QueueState, Store, TlpLevel, WithdrawalReason } from '../../collections/store.js';
import { TLP_NAMES } from '../../desk/rules.js';
import { type DecisionRequest, type DecisionResult, DeskService, QUEUE_STATES, STATS_DEFAULT_DAYS, STATS_MAX_DAYS, WITHDRAWAL_REASONS } from '../../desk/service.js';
import { entryDetailView, entryView, toFilter } from '../../desk/wire.js';
import type { Caller } from '../../taxii/access.js';
import { TaxiiError } from '../../taxii/errors.js';
import { operatorCaller } from '../admin/admin.js';

export interface CurationIo {
  stdout: (s: string) => void;
}

type WithStore = (action: (store: Store, ...args: any[]) => Promise<void>) => (this: Command, ...args: any[]) => Promise<void>;

/** A comma-separated, repeatable option's values. */
export function commaList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** The caller a command acts as: a named account, or (reading only) the operator with every right. */
async function callerOf(store: Store, as: string | undefined, deciding: boolean): Promise<Caller> {
  if (as === undefined) {
    if (deciding) throw new TaxiiError('TAXII_ERR_INVALID', 'a decision is made in a curator\'s name: give --as ACCOUNT');
    return operatorCaller(`cli:${userInfo().username}`);
  }
  const account = await store.getAccountByName(as);
  if (!account || account.disabled) throw new TaxiiError('TAXII_ERR_INVALID', `no active account "${as}"`);
  const organisation = account.organisationId ? await store.getOrganisation(account.organisationId) : undefined;
  if (deciding && !DeskService.decides({ account })) throw new TaxiiError('TAXII_ERR_INVALID', `"${as}" is not a curator with API roots to curate, nor an admin`);
  return { account, ...(organisation ? { organisation } : {}), remote: 'cli' };
}

/** ENTRY or ENTRY@REV: without a rev, the entry as it is now. */
async function entriesOf(store: Store, refs: string[]): Promise<Array<{ id: string; rev: number }>> {
  const wanted = refs.map((r) => {
    const at = r.lastIndexOf('@');
    return at > 0 ? { id: r.slice(0, at), rev: Number(r.slice(at + 1)) } : { id: r, rev: undefined };
  });
  const current = new Map((await store.getQueueEntries(wanted.map((w) => w.id))).map((e) => [e.id, e.rev]));
  return wanted.map((w) => ({ id: w.id, rev: w.rev !== undefined && Number.isInteger(w.rev) ? w.rev : (current.get(w.id) ?? 1) }));
}

function printDecision(io: CurationIo, r: DecisionResult, json: boolean | undefined): void {
  if (json) {
    io.stdout(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  io.stdout(`${r.dry_run ? 'dry run: ' : ''}${r.action}: ${r.entries} entries, ${r.published} published, ${r.withdrawn} withdrawn${r.decision ? ` (decision ${r.decision})` : ''}\n`);
  for (const t of r.targets) {
    io.stdout(`  ${t.target} (${t.api_root}/${t.collection}): ${t.publish.length} to publish`);
    if (t.awaiting_approval.length) io.stdout(`, ${t.awaiting_approval.length} awaiting a second approval`);
    if (t.dangling_refs.length) io.stdout(`, dangling references: ${t.dangling_refs.join(' ')}`);
    if (t.new_recipients.length) io.stdout(`, new recipients: ${t.new_recipients.join(' ')}`);
    io.stdout('\n');
    for (const v of t.violations) io.stdout(`    blocked by ${v.rule}: ${v.message} (${v.object})\n`);
  }
}

export function curationCommands(program: Command, withStore: WithStore, io: CurationIo): void {
  const curation = program.command('curation').description('the desk: review queue, decisions (approve, reject, request changes, withdraw, annotate), statistics');
  const asOption = () => new Option('--as <account>', 'act as this curator (decisions need it; the audit log names them)');
  const selection = (cmd: Command) =>
    cmd.option('--submission <id>', 'every entry of this submission instead of listed entries').option('--dry-run', 'say what would happen; change nothing').option('--json', 'the result as JSON');

  curation
    .command('queue')
    .description('list queue entries, oldest first or --newest-first (pending ones by default)')
    .option('--intake <ref>', 'one intake collection: ROOT/ALIAS or its id')
    .option('--vendor <organisation>', 'entries of one vendor organisation')
    .option('--submission <id>', 'entries of one submission')
    .option('--type <types>', 'STIX types (comma-separated, repeatable)', commaList)
    .option('--finding <code>', 'entries with this pipeline finding code')
    .addOption(new Option('--tlp <level>', 'at most this TLP').choices(TLP_NAMES))
    .option('--state <states>', `states (${QUEUE_STATES.join(', ')}; default pending; "all" for every state)`, commaList)
    .option('--object <id>', 'versions of one STIX object')
    .option('--limit <n>', 'entries per page (default 100)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('an integer from 1 to 1000');
      return n;
    })
    .option('--newest-first', 'newest entries first (a later page continues with --newest-first too)')
    .option('--after <seq>', 'continue after this position (printed as "next" by the previous page)')
    .addOption(asOption())
    .option('--json', 'entries as JSON')
    .action(withStore(async (store, o: { intake?: string; vendor?: string; submission?: string; type?: string[]; finding?: string; tlp?: TlpLevel; state?: string[]; object?: string; limit?: number; newestFirst?: boolean; after?: string; as?: string; json?: boolean }) => {
      const caller = await callerOf(store, o.as, false);
      const desk = new DeskService(store);
      const states = o.state?.includes('all') ? undefined : ((o.state ?? ['pending']) as QueueState[]);
      for (const s of states ?? []) if (!QUEUE_STATES.includes(s)) throw new TaxiiError('TAXII_ERR_INVALID', `--state must be among ${QUEUE_STATES.join(', ')}, or all`);
      const filter = await toFilter(store, {
        ...(states ? { state: states } : {}),
        ...(o.intake ? { intake: o.intake } : {}),
        ...(o.vendor ? { organisation: o.vendor } : {}),
        ...(o.submission ? { submission: o.submission } : {}),
        ...(o.type ? { type: o.type } : {}),
        ...(o.finding ? { finding: o.finding } : {}),
        ...(o.tlp ? { tlp: o.tlp } : {}),
        ...(o.object ? { object: o.object } : {}),
      });
      const page = await desk.queue(caller, filter, o.limit ?? 100, o.after !== undefined ? Number(o.after) : undefined, o.newestFirst ? 'desc' : 'asc');
      const orgs = new Map((await store.listOrganisations()).map((x) => [x.id, x]));
      if (o.json) {
        io.stdout(`${JSON.stringify({ more: page.more, ...(page.next !== undefined ? { next: page.next } : {}), entries: page.entries.map((e) => entryView(e, orgs, false)) }, null, 2)}\n`);
        return;
      }
      const rows = [['ENTRY@REV', 'STATE', 'TYPE', 'OBJECT', 'VERSION', 'VENDOR', 'TLP', 'FINDINGS'], ...page.entries.map((e) => [
        `${e.id}@${e.rev}`, e.state, e.objectType, e.objectId, e.version ?? '-', e.organisationId ? (orgs.get(e.organisationId)?.name ?? '-') : '-', TLP_NAMES[e.tlp] ?? 'clear',
        e.findings.length ? [...new Set(e.findings.map((f) => f.code))].join(',') : '-',
      ])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.stdout(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
      if (page.more && page.next !== undefined) io.stdout(`more: meridian curation queue ${o.newestFirst ? '--newest-first ' : ''}--after ${page.next} …\n`);
    }));

  curation
    .command('show <entry>')
    .description('one entry: the object, its findings, submission, other versions, publications (with a diff) and references')
    .addOption(asOption())
    .action(withStore(async (store, entry: string, o: { as?: string }) => {
      const caller = await callerOf(store, o.as, false);
      const detail = await new DeskService(store).entry(caller, entry);
      const orgs = new Map((await store.listOrganisations()).map((x) => [x.id, x]));
      io.stdout(`${JSON.stringify(entryDetailView(detail, orgs, !DeskService.decides(caller)), null, 2)}\n`);
    }));

  const decide = async (store: Store, o: { as?: string; submission?: string; dryRun?: boolean; json?: boolean }, entries: string[], request: Omit<DecisionRequest, 'entries' | 'submission'>) => {
    const caller = await callerOf(store, o.as, true);
    if ((entries.length > 0) === (o.submission !== undefined)) throw new TaxiiError('TAXII_ERR_INVALID', 'name the entries (ENTRY or ENTRY@REV …) or --submission ID, not both');
    const selection = o.submission !== undefined ? { submission: o.submission } : { entries: await entriesOf(store, entries) };
    printDecision(io, await new DeskService(store).decide(caller, { ...request, ...selection, ...(o.dryRun ? { dryRun: true } : {}) }), o.json);
  };

  selection(curation.command('approve [entries...]').description('publish entries to targets (--to fr,de,global or ROOT/ALIAS)'))
    .requiredOption('--to <targets>', 'target collections: an API root path, ROOT/ALIAS, or global (comma-separated)', commaList)
    .addOption(new Option('--include-refs [which]', 'publish the identities and marking definitions they reference (all: every referenced object)').choices(['all']))
    .addOption(asOption())
    .action(withStore(async (store, entries: string[], o: { to: string[]; includeRefs?: true | 'all'; as?: string; submission?: string; dryRun?: boolean; json?: boolean }) => {
      await decide(store, o, entries, { action: 'approve', targets: o.to, ...(o.includeRefs ? { includeRefs: o.includeRefs === 'all' ? 'all' : true } : {}) });
    }));

  selection(curation.command('reject [entries...]').description('reject entries, with a reason the vendor reads'))
    .requiredOption('--reason <text>', 'why (the vendor sees it, and it is repeated if the same version is sent again)')
    .addOption(asOption())
    .action(withStore(async (store, entries: string[], o: { reason: string; as?: string; submission?: string; dryRun?: boolean; json?: boolean }) => {
      await decide(store, o, entries, { action: 'reject', reason: o.reason });
    }));

  selection(curation.command('request-changes [entries...]').description('ask the vendor for a new version, with a reason and the paths to change'))
    .requiredOption('--reason <text>', 'what to change')
    .option('--path <pointer>', 'a JSON pointer into the object to change (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(asOption())
    .action(withStore(async (store, entries: string[], o: { reason: string; path?: string[]; as?: string; submission?: string; dryRun?: boolean; json?: boolean }) => {
      const changes = (o.path ?? []).map((p) => ({ code: 'DESK_CHANGE_REQUESTED', severity: 'error' as const, path: p, message: o.reason }));
      await decide(store, o, entries, { action: 'request-changes', reason: o.reason, ...(changes.length ? { changes } : {}) });
    }));

  curation
    .command('withdraw <objectId>')
    .description('withdraw a published object from target collections (all its versions there)')
    .requiredOption('--from <targets>', 'target collections (comma-separated)', commaList)
    .addOption(new Option('--reason-code <code>', 'why, as a code').choices(WITHDRAWAL_REASONS).makeOptionMandatory())
    .option('--reason <text>', 'why, in words', '')
    .addOption(asOption())
    .option('--dry-run', 'say what would happen; change nothing')
    .option('--json', 'the result as JSON')
    .action(withStore(async (store, objectId: string, o: { from: string[]; reasonCode: WithdrawalReason; reason: string; as?: string; dryRun?: boolean; json?: boolean }) => {
      const caller = await callerOf(store, o.as, true);
      printDecision(io, await new DeskService(store).decide(caller, { action: 'withdraw', objectId, targets: o.from, reasonCode: o.reasonCode, reason: o.reason, ...(o.dryRun ? { dryRun: true } : {}) }), o.json);
    }));

  selection(curation.command('annotate [entries...]').description("publish the desk's own note or opinion about entries' objects next to them"))
    .requiredOption('--to <targets>', 'target collections (comma-separated)', commaList)
    .option('--note <text>', 'a note (content)')
    .addOption(new Option('--opinion <opinion>', 'an opinion').choices(['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree']))
    .option('--explanation <text>', 'explanation of the opinion')
    .addOption(asOption())
    .action(withStore(async (store, entries: string[], o: { to: string[]; note?: string; opinion?: string; explanation?: string; as?: string; submission?: string; dryRun?: boolean; json?: boolean }) => {
      if ((o.note === undefined) === (o.opinion === undefined)) throw new TaxiiError('TAXII_ERR_INVALID', 'give --note TEXT or --opinion VALUE');
      const annotation = o.note !== undefined ? { type: 'note' as const, content: o.note } : { type: 'opinion' as const, opinion: o.opinion!, ...(o.explanation ? { explanation: o.explanation } : {}) };
      await decide(store, o, entries, { action: 'annotate', targets: o.to, annotation });
    }));

  curation
    .command('stats')
    .description('queue depth and age per intake, decisions per curator, time to publish and submissions per day per vendor')
    .addOption(asOption())
    .option('--days <n>', `submissions per day over this many UTC days ending today (default ${STATS_DEFAULT_DAYS}, at most ${STATS_MAX_DAYS})`, (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > STATS_MAX_DAYS) throw new InvalidArgumentError(`an integer from 1 to ${STATS_MAX_DAYS}`);
      return n;
    })
    .option('--json', 'as JSON')
    .action(withStore(async (store, o: { as?: string; days?: number; json?: boolean }) => {
      const stats = await new DeskService(store).stats(await callerOf(store, o.as, false), o.days);
      if (o.json) {
        io.stdout(`${JSON.stringify(stats, null, 2)}\n`);
        return;
      }
      io.stdout('QUEUE (intake, pending, age p50 / p95 / oldest in seconds)\n');
      for (const q of stats.queues) io.stdout(`  ${q.api_root}/${q.alias ?? q.intake}  ${q.depth}  ${q.age_seconds ? `${q.age_seconds.p50} / ${q.age_seconds.p95} / ${q.age_seconds.oldest}` : '-'}\n`);
      io.stdout('DECISIONS PER CURATOR\n');
      for (const d of stats.decisions_per_curator) io.stdout(`  ${d.curator}  ${d.decisions}\n`);
      io.stdout('TIME TO PUBLISH PER VENDOR (p50 seconds)\n');
      for (const t of stats.time_to_publish) io.stdout(`  ${t.vendor ?? '-'}  ${t.publications}  ${t.p50_seconds}\n`);
      io.stdout(`SUBMISSIONS PER VENDOR PER DAY (UTC, last ${stats.days} days)\n`);
      for (const d of stats.submissions_per_day) io.stdout(`  ${d.day}  ${d.vendor ?? '-'}  ${d.submissions}\n`);
    }));
}
