// The desk workflow (docs/architecture.md §3): the review queue of intake collections, decisions
// (approve, reject, request changes, withdraw, annotate), release rules, four eyes, and the policy
// that publishes on its own (auto-publish rules, the revocation fast path). Every path — the
// curation API, the CLI, auto-publish — goes through this class, so the rules hold for all.
// A decision is applied by the store as one unit (Store.applyDecision) with its audit event.
import { randomUUID } from 'node:crypto';
import type {
  AccountRecord,
  CollectionRecord,
  DecisionPlan,
  DeskRules,
  FindingRecord,
  IntakePolicy,
  ManifestEntry,
  NewObject,
  ObjectQuery,
  OrganisationRecord,
  Page,
  PublicationRecord,
  QueueEntry,
  QueueQuery,
  QueueState,
  ReleaseRules,
  Store,
  StoredObject,
  WithdrawalReason,
} from '../collections/store.js';
import { MICROS_PER_DAY, StaleDecisionError, TLP_RANK, versionKeyFromMicros } from '../collections/store.js';
import { tlpLevelOf } from 'stix2-validator-ts/markings';
import { uuidV5 } from 'stix2-validator-ts/sco-id';
import { timestampKey } from 'stix2-validator-ts/timestamp';
import { type Caller, accessTo, curates, isAdmin } from '../taxii/access.js';
import { TaxiiError, notFound } from '../taxii/errors.js';
import { STIX_MEDIA_TYPE } from '../taxii/media-types.js';
import { formatMicros, nowMicros } from '../taxii/time.js';
import { type StixJson, type Violation, approvalsRequired, conditionHolds, diff, referencesOf, releaseViolations } from './rules.js';

export const WITHDRAWAL_REASONS: readonly WithdrawalReason[] = ['false_positive', 'legal', 'handling_violation', 'vendor_request', 'other'];
export const QUEUE_STATES: readonly QueueState[] = ['pending', 'approved', 'rejected', 'changes_requested', 'superseded'];
/** Entries one decision may cover (a submission or a filter); more must be narrowed. */
export const MAX_DECISION_ENTRIES = 100_000;
/** The window of submissions per day in the statistics: default and largest, in UTC days ending today. */
export const STATS_DEFAULT_DAYS = 14;
export const STATS_MAX_DAYS = 90;
/** Curators without a read grant on an intake see its queue up to this TLP (RED needs a RED grant). */
const CURATOR_QUEUE_TLP = TLP_RANK['amber+strict'];
/** Namespace of the desk identities' ids (uuid v5 of the organisation id). */
const DESK_IDENTITY_NAMESPACE = '5c0d8e3a-9a53-4d8e-8f7e-5b1f3f0a7c21';

export type DecisionAction = 'approve' | 'reject' | 'request-changes' | 'withdraw' | 'annotate';

/** Which entries a decision covers: listed ones (with the rev the curator saw), a submission, or a filter. */
export interface Selection {
  entries?: Array<{ id: string; rev: number }>;
  submission?: string;
  filter?: QueueFilter;
}

export interface QueueFilter {
  intake?: string;
  organisation?: string;
  submission?: string;
  types?: string[];
  findingCode?: string;
  tlp?: number;
  olderThan?: number;
  newerThan?: number;
  states?: QueueState[];
  objectId?: string;
}

export interface DecisionRequest extends Selection {
  action: DecisionAction;
  targets?: string[];
  reason?: string;
  changes?: FindingRecord[];
  reasonCode?: WithdrawalReason;
  objectId?: string;
  /** true: identities and marking definitions the objects reference; 'all': every referenced object in the intake. */
  includeRefs?: boolean | 'all';
  dryRun?: boolean;
  annotation?: { type: 'note' | 'opinion'; content?: string; abstract?: string; opinion?: string; explanation?: string };
}

/** Per target, what a decision publishes (or would), and what stands in its way. */
export interface TargetReport {
  target: string;
  collection: string;
  api_root: string;
  publish: Array<{ id: string; type: string; version?: string; change: string }>;
  awaiting_approval: Array<{ entry: string; approvals: number; required: number }>;
  dangling_refs: string[];
  new_recipients: string[];
  violations: Array<{ entry?: string; object: string } & Violation>;
}

export interface DecisionResult {
  decision?: string;
  action: DecisionAction;
  dry_run: boolean;
  entries: number;
  published: number;
  withdrawn: number;
  targets: TargetReport[];
}

/** A decision's result as the API sends it. */
export interface DecisionJson {
  dryRun: boolean;
  json: string;
}

export function decisionJson(result: DecisionResult): DecisionJson {
  return { dryRun: result.dry_run, json: JSON.stringify(result) };
}

interface Target {
  ref: string;
  collection: CollectionRecord;
  release?: ReleaseRules;
  hasRedRecipients: boolean;
}

interface Visibility {
  /** Intake collections the caller may see entries of, with the TLP cap per intake. */
  intakes: Map<string, { collection: CollectionRecord; maxTlp: number }>;
  /** A vendor sees only its organisation's entries. */
  organisationId?: string;
  /** Curators and admins may decide; vendors only read. */
  decides: boolean;
}

function invalid(message: string, details?: Record<string, unknown>): TaxiiError {
  return new TaxiiError('TAXII_ERR_INVALID', message, details);
}

/** Lets requests in between steps of a large decision (on SQLite every store call is synchronous). */
function yieldToReaders(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Milliseconds of a decision's work on the event loop between two chances for requests to run. */
const SLICE_MS = 4;

/** A pause for readers once SLICE_MS have passed since the last one (a slice's length, not a count of items, is what a waiting poll feels). */
function slicer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < SLICE_MS) return undefined;
    return yieldToReaders().then(() => {
      since = performance.now();
    });
  };
}

/**
 * Every stored version (any spec version) of these object ids, 500 ids per query, page by page;
 * `between` runs after each 500. By id: asking for ids × version keys would probe the index for
 * every combination.
 */
async function eachVersion<T extends ManifestEntry>(
  read: (query: ObjectQuery) => Promise<Page<T>>, ids: string[], visit: (version: T) => void, between?: () => Promise<void> | undefined,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    let addedAfter: number | undefined;
    for (;;) {
      const page = await read({ ids: batch, versions: { all: true }, specVersions: ['2.0', '2.1'], limit: 1000, ...(addedAfter !== undefined ? { addedAfter } : {}) });
      for (const version of page.items) visit(version);
      if (!page.more || page.items.length === 0) break;
      addedAfter = page.items.at(-1)!.dateAdded;
    }
    await between?.();
  }
}

function versionKeyOf(o: Pick<StoredObject, 'version' | 'dateAdded'>): string {
  return (o.version !== undefined ? timestampKey(o.version) : undefined) ?? versionKeyFromMicros(o.dateAdded);
}

/** Decisions covering more entries than this are made by the decision thread, when there is one. */
const THREAD_ENTRIES = 100;

export class DeskService {
  constructor(
    private readonly store: Store,
    private readonly log: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void } = { warn: () => {}, info: () => {} },
    /** Where large decisions are made off the event loop (SQLite: decision-thread.ts); the same code runs there. */
    private readonly thread?: { decideAsJson(caller: Caller, req: DecisionRequest): Promise<DecisionJson>; warm(): void; close(): Promise<void> },
  ) {}

  /** Readies the decision thread, if there is one, so that the first large decision does not wait for it to start. */
  warm(): void {
    this.thread?.warm();
  }

  /** Stops the decision thread (a decision in progress ends at a transaction boundary and is finished at the next start). */
  async close(): Promise<void> {
    await this.thread?.close();
  }

  /** A decision selecting entries by submission or filter, or listing many: planning it takes long enough to keep readers waiting. */
  private static large(req: DecisionRequest): boolean {
    if (req.action !== 'approve' && req.action !== 'reject' && req.action !== 'request-changes') return false;
    return req.submission !== undefined || req.filter !== undefined || (req.entries?.length ?? 0) > THREAD_ENTRIES;
  }

  // ---- who sees what ----------------------------------------------------------------------------

  private async allCollections(): Promise<CollectionRecord[]> {
    const roots = await this.store.listApiRoots();
    return (await Promise.all(roots.map((r) => this.store.listCollections(r.path)))).flat();
  }

  /** Candidate targets of an intake: its policy's, else every published collection. */
  private candidateTargets(all: CollectionRecord[], policy?: IntakePolicy): CollectionRecord[] {
    const published = all.filter((c) => c.purpose === 'published');
    return policy?.targets ? published.filter((c) => policy.targets!.includes(c.id)) : published;
  }

  async visibility(caller: Caller): Promise<Visibility> {
    const all = await this.allCollections();
    const intakes = new Map<string, { collection: CollectionRecord; maxTlp: number }>();
    const account = caller.account;
    if (isAdmin(caller)) {
      for (const c of all) if (c.purpose === 'intake') intakes.set(c.id, { collection: c, maxTlp: TLP_RANK.red });
      return { intakes, decides: true };
    }
    if (caller.organisation?.disabled) return { intakes, decides: false };
    if (account.roles.includes('curator') && account.curatorRoots.length > 0) {
      for (const c of all) {
        if (c.purpose !== 'intake') continue;
        const policy = (await this.store.getDeskRules(c.id)).policy;
        const targets = this.candidateTargets(all, policy);
        if (!curates(caller, c.apiRoot) && !targets.some((t) => curates(caller, t.apiRoot))) continue;
        const access = await accessTo(this.store, caller, c);
        intakes.set(c.id, { collection: c, maxTlp: access.canRead ? TLP_RANK[access.maxTlp] : CURATOR_QUEUE_TLP });
      }
      return { intakes, decides: true };
    }
    if (account.roles.includes('publisher') && caller.organisation) {
      for (const c of all) if (c.purpose === 'intake') intakes.set(c.id, { collection: c, maxTlp: TLP_RANK.red });
      return { intakes, organisationId: caller.organisation.id, decides: false };
    }
    return { intakes, decides: false };
  }

  /** The curation API exists for admins, curators and vendors (their own entries); for others it is a 404. */
  static mayUse(caller: Caller): boolean {
    const roles = caller.account.roles;
    return roles.includes('admin') || (roles.includes('curator') && caller.account.curatorRoots.length > 0) || (roles.includes('publisher') && caller.organisation !== undefined);
  }

  /** Curators and admins decide; vendors only follow their own entries. */
  static decides(caller: Caller): boolean {
    const roles = caller.account.roles;
    return roles.includes('admin') || (roles.includes('curator') && caller.account.curatorRoots.length > 0);
  }

  private visible(v: Visibility, e: QueueEntry): boolean {
    const intake = v.intakes.get(e.intakeId);
    if (!intake || e.tlp > intake.maxTlp) return false;
    return v.organisationId === undefined || e.organisationId === v.organisationId;
  }

  // ---- the queue ---------------------------------------------------------------------------------

  /** One page of the queue as the caller may see it, oldest or newest first; `next` continues after its last entry. */
  async queue(caller: Caller, filter: QueueFilter, limit: number, afterSeq?: number, order: 'asc' | 'desc' = 'asc'): Promise<{ entries: QueueEntry[]; more: boolean; next?: number }> {
    const v = await this.visibility(caller);
    let intakeIds = [...v.intakes.keys()];
    if (filter.intake !== undefined) intakeIds = intakeIds.filter((id) => id === filter.intake);
    // Each intake has its own cap: list intakes sharing a cap together, so paging stays one keyset.
    const caps = new Set(intakeIds.map((id) => v.intakes.get(id)!.maxTlp));
    const capOf = (n: number) => (filter.tlp === undefined ? n : Math.min(n, filter.tlp));
    const base: Omit<QueueQuery, 'intakeIds' | 'limit' | 'maxTlp'> = {
      ...(filter.states ? { states: filter.states } : {}),
      ...(v.organisationId !== undefined ? { organisationId: v.organisationId } : filter.organisation !== undefined ? { organisationId: filter.organisation } : {}),
      ...(filter.submission !== undefined ? { submissionId: filter.submission } : {}),
      ...(filter.types ? { types: filter.types } : {}),
      ...(filter.findingCode !== undefined ? { findingCode: filter.findingCode } : {}),
      ...(filter.olderThan !== undefined ? { createdBefore: filter.olderThan } : {}),
      ...(filter.newerThan !== undefined ? { createdAfter: filter.newerThan } : {}),
      ...(filter.objectId !== undefined ? { objectId: filter.objectId } : {}),
      ...(afterSeq !== undefined ? { afterSeq } : {}),
      order,
    };
    if (caps.size <= 1) {
      const cap = capOf(caps.values().next().value ?? TLP_RANK.red);
      const page = await this.store.queryQueue({ ...base, intakeIds, maxTlp: cap, limit });
      return { entries: page.items, more: page.more, ...(page.more && page.items.length ? { next: page.items.at(-1)!.seq } : {}) };
    }
    // Several caps: merge the pages of each cap group by seq.
    const pages = await Promise.all([...caps].map((cap) => this.store.queryQueue({ ...base, intakeIds: intakeIds.filter((id) => v.intakes.get(id)!.maxTlp === cap), maxTlp: capOf(cap), limit })));
    const merged = pages.flatMap((p) => p.items).sort((a, b) => (order === 'asc' ? a.seq - b.seq : b.seq - a.seq));
    const entries = merged.slice(0, limit);
    const more = merged.length > limit || pages.some((p) => p.more);
    return { entries, more, ...(more && entries.length ? { next: entries.at(-1)!.seq } : {}) };
  }

  private async entryFor(v: Visibility, id: string): Promise<QueueEntry> {
    const [entry] = await this.store.getQueueEntries([id]);
    if (!entry || !this.visible(v, entry)) throw notFound('No queue entry with this id, or you do not have access to it.');
    return entry;
  }

  /** The objects of entries as stored in their intakes, by `intake|id|versionKey`. */
  private async objectsOf(entries: QueueEntry[]): Promise<Map<string, StoredObject>> {
    const out = new Map<string, StoredObject>();
    const byIntake = new Map<string, QueueEntry[]>();
    for (const e of entries) {
      const list = byIntake.get(e.intakeId);
      if (list) list.push(e);
      else byIntake.set(e.intakeId, [e]);
    }
    const pause = slicer();
    for (const [intakeId, list] of byIntake) {
      // Every version of these ids: usually one each.
      const ids = [...new Set(list.map((e) => e.objectId))];
      await eachVersion((query) => this.store.queryObjects(intakeId, query), ids, (o) => out.set(`${intakeId}|${o.id}|${versionKeyOf(o)}`, o), pause);
    }
    return out;
  }

  private objectOf(objects: Map<string, StoredObject>, e: QueueEntry): StixJson {
    const o = objects.get(`${e.intakeId}|${e.objectId}|${e.versionKey}`);
    if (!o) throw new TaxiiError('TAXII_ERR_CONFLICT', `the object of queue entry ${e.id} is no longer in its intake collection`);
    return JSON.parse(o.json) as StixJson;
  }

  /** An entry with its object, submission, earlier published versions (with a diff) and references. */
  async entry(caller: Caller, id: string) {
    const v = await this.visibility(caller);
    const entry = await this.entryFor(v, id);
    const objects = await this.objectsOf([entry]);
    const object = this.objectOf(objects, entry);
    const submission = await this.store.getSubmission(entry.submissionId);
    const versions = (await this.store.queryQueue({ intakeIds: [entry.intakeId], objectId: entry.objectId, maxTlp: v.intakes.get(entry.intakeId)!.maxTlp, limit: 100, ...(v.organisationId ? { organisationId: v.organisationId } : {}) })).items;
    let published: Array<PublicationRecord & { diff?: ReturnType<typeof diff> }> = [];
    if (v.decides) {
      published = await this.store.listPublications({ objectId: entry.objectId });
      const latest = published.filter((p) => p.versionKey < entry.versionKey).at(-1);
      if (latest) {
        const earlier = (await this.store.queryQueue({ intakeIds: [...v.intakes.keys()], objectId: entry.objectId, limit: 1000 })).items.find((q) => q.versionKey === latest.versionKey);
        if (earlier) {
          const prior = this.objectOf(await this.objectsOf([earlier]), earlier);
          published = published.map((p) => (p === latest ? { ...p, diff: diff(prior, object) } : p));
        }
      }
    }
    const refs = referencesOf(object);
    const present = new Set<string>();
    for (let i = 0; i < refs.length; i += 500) {
      const page = await this.store.queryManifest(entry.intakeId, { ids: refs.slice(i, i + 500), versions: { first: false, last: true, keys: [] }, limit: 500 });
      for (const m of page.items) present.add(m.id);
    }
    return {
      entry,
      object,
      submission,
      versions: versions.filter((q) => q.id !== entry.id),
      published: v.decides ? published : [],
      references: refs.map((r) => ({ id: r, in_intake: present.has(r) })),
    };
  }

  // ---- decisions --------------------------------------------------------------------------------

  /** Resolves target references: `global`, an API root path (its one published collection), `root/alias-or-id`, or a collection id. */
  async resolveTargets(refs: string[], caller?: Caller): Promise<Target[]> {
    const out: Target[] = [];
    const all = await this.allCollections();
    for (const ref of [...new Set(refs)]) {
      const [rootPath, rest] = ref.includes('/') ? [ref.slice(0, ref.indexOf('/')), ref.slice(ref.indexOf('/') + 1)] : [undefined, undefined];
      let matches: CollectionRecord[];
      if (rootPath !== undefined) matches = all.filter((c) => c.apiRoot === rootPath && (c.id === rest || c.alias === rest));
      else if (/^[0-9a-f-]{36}$/.test(ref)) matches = all.filter((c) => c.id === ref);
      else {
        const inRoot = all.filter((c) => c.apiRoot === ref && c.purpose === 'published');
        matches = inRoot.length > 1 ? inRoot.filter((c) => c.alias === 'published') : inRoot;
        if (inRoot.length > 1 && matches.length === 0) throw invalid(`API root "${ref}" has several published collections: name one as ${ref}/<alias or id>`);
      }
      const collection = matches.find((c) => c.purpose === 'published');
      // A target the caller does not curate is indistinguishable from one that does not exist.
      if (!collection || (caller && !isAdmin(caller) && !curates(caller, collection.apiRoot))) throw notFound(`No published collection "${ref}" that you curate.`);
      const grants = await this.store.listGrants({ collectionId: collection.id });
      const release = (await this.store.getDeskRules(collection.id)).release;
      out.push({ ref, collection, ...(release ? { release } : {}), hasRedRecipients: grants.some((g) => g.canRead && g.maxTlp === 'red') });
    }
    return out;
  }

  /** The entries a decision covers, visible to the caller, with the rev it decides on. */
  private async select(caller: Caller, v: Visibility, s: Selection, states: QueueState[]): Promise<Array<{ entry: QueueEntry; rev: number }>> {
    const given = [s.entries !== undefined, s.submission !== undefined, s.filter !== undefined].filter(Boolean).length;
    if (given !== 1) throw invalid('name the entries to decide on: exactly one of "entries", "submission" or "filter"');
    if (s.entries) {
      if (s.entries.length === 0) throw invalid('"entries" is empty');
      if (s.entries.length > MAX_DECISION_ENTRIES) throw invalid(`at most ${MAX_DECISION_ENTRIES} entries per decision`);
      const found = new Map((await this.store.getQueueEntries(s.entries.map((e) => e.id))).filter((e) => this.visible(v, e)).map((e) => [e.id, e]));
      return s.entries.map((e) => {
        const entry = found.get(e.id);
        if (!entry) throw notFound(`No queue entry ${e.id}, or you do not have access to it.`);
        if (entry.rev !== e.rev) throw new TaxiiError('TAXII_ERR_CONFLICT', `queue entry ${e.id} is at rev ${entry.rev}, not ${e.rev}: it changed since you read it; reload it and decide again`, { entry: e.id, rev: entry.rev });
        if (!states.includes(entry.state)) throw new TaxiiError('TAXII_ERR_CONFLICT', `queue entry ${e.id} is ${entry.state}; this decision needs ${states.join(' or ')}`, { entry: e.id, state: entry.state });
        return { entry, rev: entry.rev };
      });
    }
    const filter: QueueFilter = s.submission !== undefined ? { submission: s.submission, states } : { ...s.filter!, states: s.filter!.states?.filter((x) => states.includes(x)) ?? states };
    const out: Array<{ entry: QueueEntry; rev: number }> = [];
    let after: number | undefined;
    for (;;) {
      if (after !== undefined) await yieldToReaders();
      const page = await this.queue(caller, filter, 1000, after);
      for (const entry of page.entries) out.push({ entry, rev: entry.rev });
      if (out.length > MAX_DECISION_ENTRIES) throw invalid(`the selection covers more than ${MAX_DECISION_ENTRIES} entries; narrow it`);
      if (!page.more || page.next === undefined) break;
      after = page.next;
    }
    if (out.length === 0) throw notFound('No queue entries match this selection that you may decide on.');
    return out;
  }

  /**
   * A decision as its JSON text, for the API: a large one made by the decision thread comes back
   * serialised there (its report lists every publication), so this thread only sends it on.
   */
  async decideAsJson(caller: Caller, req: DecisionRequest): Promise<DecisionJson> {
    if (this.thread && DeskService.large(req)) return this.thread.decideAsJson(caller, req);
    return decisionJson(await this.decide(caller, req));
  }

  async decide(caller: Caller, req: DecisionRequest): Promise<DecisionResult> {
    const v = await this.visibility(caller);
    if (!v.decides) throw notFound();
    switch (req.action) {
      case 'approve':
        return this.approve(caller, v, req);
      case 'reject':
      case 'request-changes':
        return this.refuse(caller, v, req);
      case 'withdraw':
        return this.withdraw(caller, req);
      case 'annotate':
        return this.annotate(caller, v, req);
      default:
        throw invalid(`unknown action "${String(req.action)}" (allowed: approve, reject, request-changes, withdraw, annotate)`);
    }
  }

  private actor(caller: Caller): Pick<DecisionPlan, 'actorKind' | 'accountId' | 'organisationId' | 'actorName'> {
    return { actorKind: 'desk', accountId: caller.account.id, ...(caller.organisation ? { organisationId: caller.organisation.id } : {}), actorName: caller.account.name };
  }

  private async apply(plan: DecisionPlan, dryRun: boolean): Promise<{ published: number; withdrawn: number }> {
    if (dryRun) return { published: 0, withdrawn: 0 };
    try {
      return await this.store.applyDecision(plan);
    } catch (err) {
      if (err instanceof StaleDecisionError) throw new TaxiiError('TAXII_ERR_CONFLICT', `queue entry ${err.entryId} changed while the decision was made; reload it and decide again`, { entry: err.entryId });
      throw err;
    }
  }

  private async refuse(caller: Caller, v: Visibility, req: DecisionRequest): Promise<DecisionResult> {
    const reason = req.reason?.trim();
    if (!reason) throw invalid(`"${req.action}" needs a reason the vendor can read`);
    const selected = await this.select(caller, v, req, req.action === 'reject' ? ['pending', 'changes_requested'] : ['pending']);
    const state: QueueState = req.action === 'reject' ? 'rejected' : 'changes_requested';
    const plan: DecisionPlan = {
      id: randomUUID(), kind: req.action as 'reject' | 'request-changes', ...this.actor(caller), at: nowMicros(),
      entries: selected.map(({ entry, rev }) => ({ entryId: entry.id, rev, state, reason, ...(req.changes ? { requestedChanges: req.changes } : {}) })),
      publications: [], withdrawals: [],
      audit: this.auditEvent(caller, `curation.${req.action}`, selected.map((s) => s.entry), { reason }),
    };
    const outcome = await this.apply(plan, Boolean(req.dryRun));
    return { ...(req.dryRun ? {} : { decision: plan.id }), action: req.action, dry_run: Boolean(req.dryRun), entries: selected.length, ...outcome, targets: [] };
  }

  private auditEvent(caller: Caller | undefined, action: string, entries: QueueEntry[], detail: Record<string, unknown>) {
    const objects = [...new Set(entries.map((e) => e.objectId))];
    // Per vendor organisation, its own objects: the source of vendors' curation webhooks (webhooks/events.ts).
    const vendors: Record<string, string[]> = {};
    for (const e of entries) {
      if (!e.organisationId) continue;
      const own = (vendors[e.organisationId] ??= []);
      if (own.length < 100 && !own.includes(e.objectId)) own.push(e.objectId);
    }
    return {
      at: nowMicros(), ...(caller ? { actor: caller.account.name } : { actor: 'policy' }), action, outcome: 'success' as const,
      ...(entries.length === 1 ? { target: entries[0]!.id } : {}), ...(caller?.remote ? { remote: caller.remote } : {}),
      detail: { entries: entries.length, objects: objects.slice(0, 100), ...(objects.length > 100 ? { more_objects: objects.length - 100 } : {}), vendors, ...detail },
    };
  }

  private async approve(caller: Caller, v: Visibility, req: DecisionRequest): Promise<DecisionResult> {
    if (!req.targets?.length) throw invalid('"approve" needs "targets": published collections (e.g. fr, de/published, global)');
    const targets = await this.resolveTargets(req.targets, caller);
    // An approved entry may be published to more targets (or get a target's second approval).
    const selected = await this.select(caller, v, req, ['pending', 'approved']);
    // Four eyes: nobody approves what their own organisation submitted.
    const own = selected.find(({ entry }) => caller.organisation && entry.organisationId === caller.organisation.id);
    if (own) {
      await this.refusal(caller, 'curation.approve', `entry ${own.entry.id}: you may not approve what your own organisation submitted`);
      throw new TaxiiError('TAXII_ERR_FORBIDDEN', `queue entry ${own.entry.id} was submitted by your own organisation: another organisation's curator must approve it`);
    }
    const objects = await this.objectsOf(selected.map((s) => s.entry));
    const plan = await this.publicationPlan(caller, selected, objects, targets, req, 'approve');
    const outcome = await this.apply(plan.plan, Boolean(req.dryRun));
    return { ...(req.dryRun ? {} : { decision: plan.plan.id }), action: 'approve', dry_run: Boolean(req.dryRun), entries: selected.length, ...outcome, targets: plan.reports };
  }

  /**
   * The plan and per-target report of publishing entries to targets: release rules (any violation
   * blocks the whole decision unless it is a dry run), approvals (four eyes), references.
   */
  private async publicationPlan(
    caller: Caller | undefined,
    selected: Array<{ entry: QueueEntry; rev: number }>,
    objects: Map<string, StoredObject>,
    targets: Target[],
    req: Pick<DecisionRequest, 'includeRefs' | 'dryRun'>,
    kind: DecisionPlan['kind'],
  ): Promise<{ plan: DecisionPlan; reports: TargetReport[] }> {
    const at = nowMicros();
    const decidedAt = formatMicros(at);
    const reports: TargetReport[] = targets.map((t) => ({ target: t.ref, collection: t.collection.id, api_root: t.collection.apiRoot, publish: [], awaiting_approval: [], dangling_refs: [], new_recipients: [], violations: [] }));
    const entries: DecisionPlan['entries'] = [];
    const publications: DecisionPlan['publications'] = [];
    const organisations = new Map<string, OrganisationRecord | undefined>();
    const orgName = async (id?: string) => {
      if (!id) return undefined;
      if (!organisations.has(id)) organisations.set(id, await this.store.getOrganisation(id));
      return organisations.get(id)?.name;
    };
    const publishedNow = targets.map(() => new Set<string>());
    const provenances = new Map<string, Record<string, unknown>>();
    // The curators of a publication no one approved before: the caller (none for policy).
    const alone = caller ? [caller.account.id] : [];
    // Each object parsed once, and one copy to publish shared by its targets (a worker thread gets it once).
    const parsed = new Map<QueueEntry, StixJson>();
    const pause = slicer();
    // Earlier publications of the objects, a few hundred objects per query.
    const publishedBefore = new Map<string, PublicationRecord[]>();
    const objectIds = [...new Set(selected.map((s) => s.entry.objectId))];
    for (let i = 0; i < objectIds.length; i += 500) {
      await pause();
      for (const p of await this.store.listPublications({ objectIds: objectIds.slice(i, i + 500) })) {
        const list = publishedBefore.get(p.objectId);
        if (list) list.push(p);
        else publishedBefore.set(p.objectId, [p]);
      }
    }
    for (const { entry, rev } of selected) {
      await pause();
      const object = this.objectOf(objects, entry);
      parsed.set(entry, object);
      let copy: NewObject | undefined;
      const earlier = publishedBefore.get(entry.objectId) ?? [];
      const votes: string[] = [];
      let publishedSomewhere = false;
      for (const [i, t] of targets.entries()) {
        const already = earlier.find((p) => p.collectionId === t.collection.id && p.versionKey === entry.versionKey);
        if (already) continue; // published before: nothing to do (idempotent)
        if (kind === 'auto-publish' && earlier.some((p) => p.collectionId === t.collection.id && p.withdrawnAt !== undefined)) {
          reports[i]!.violations.push({ entry: entry.id, object: entry.objectId, rule: 'withdrawn', message: 'the desk withdrew this object from this collection; policy never publishes it again' });
          continue;
        }
        for (const violation of releaseViolations(object, entry, t.release, { apiRoot: t.collection.apiRoot, hasRedRecipients: t.hasRedRecipients })) {
          reports[i]!.violations.push({ entry: entry.id, object: entry.objectId, ...violation });
        }
        const required = kind === 'revocation' ? 1 : approvalsRequired(t.release, t.collection.apiRoot, entry.tlp);
        // Earlier approvals of this entry for this target (most entries have none).
        const before = entry.approvals.length === 0 ? entry.approvals : entry.approvals.filter((a) => a.targetId === t.collection.id);
        const others = new Set(before.filter((a) => a.accountId !== caller?.account.id).map((a) => a.accountId));
        if (caller && before.some((a) => a.accountId === caller.account.id)) {
          throw new TaxiiError('TAXII_ERR_CONFLICT', `you already approved queue entry ${entry.id} for ${t.ref}; a second approval must come from another curator`);
        }
        if (!caller && required > 1) {
          reports[i]!.violations.push({ entry: entry.id, object: entry.objectId, rule: 'approvals_required', message: `${t.ref} needs ${required} approvals; policy cannot give them` });
          continue;
        }
        if (others.size + 1 < required) {
          votes.push(t.collection.id);
          reports[i]!.awaiting_approval.push({ entry: entry.id, approvals: others.size + 1, required });
          continue;
        }
        const change = entry.revoked ? 'object.revoked' : earlier.some((p) => p.collectionId === t.collection.id) ? 'object.updated' : 'object.published';
        const curators = before.length === 0 ? alone : [...new Set([...before.map((a) => a.accountId), ...alone])];
        // Entries of one vendor's submission mostly share their provenance: one object for all (serialised once when written).
        const key = `${entry.organisationId ?? ''}|${entry.submissionId}|${entry.intakeId}|${curators.join()}`;
        let provenance = provenances.get(key);
        if (!provenance) {
          provenance = {
            vendor: entry.organisationId ?? null, vendor_name: (await orgName(entry.organisationId)) ?? null, submission: entry.submissionId, intake: entry.intakeId,
            curators, decided_at: decidedAt, policy: caller ? 'review' : kind,
          };
          provenances.set(key, provenance);
        }
        publications.push({ collectionId: t.collection.id, entryId: entry.id, object: (copy ??= this.newObject(objects, entry)), source: entry.intakeId, changeType: change, provenance });
        publishedNow[i]!.add(entry.objectId);
        reports[i]!.publish.push({ id: entry.objectId, type: entry.objectType, ...(entry.version ? { version: entry.version } : {}), change });
        publishedSomewhere = true;
      }
      entries.push({ entryId: entry.id, rev, ...(publishedSomewhere || votes.length === 0 ? { state: 'approved' as const } : {}), ...(votes.length ? { approvals: votes } : {}) });
    }
    // References: published along on request, else reported when they would dangle.
    const selectedObjects = selected.map((s) => parsed.get(s.entry)!);
    const selectedIds = new Set(selected.map((s) => s.entry.objectId));
    const refs = [...new Set(selectedObjects.flatMap((o) => referencesOf(o)))].filter((r) => !selectedIds.has(r));
    const wanted = req.includeRefs === 'all' ? refs : req.includeRefs ? refs.filter((r) => r.startsWith('identity--') || r.startsWith('marking-definition--')) : [];
    const intakeIds = [...new Set(selected.map((s) => s.entry.intakeId))];
    const refObjects = new Map<string, { object: StoredObject; intakeId: string }>();
    for (const intakeId of intakeIds) {
      for (let i = 0; i < wanted.length; i += 500) {
        const page = await this.store.queryObjects(intakeId, { ids: wanted.slice(i, i + 500), versions: { first: false, last: true, keys: [] }, limit: 500 });
        for (const o of page.items) refObjects.set(o.id, { object: o, intakeId });
      }
    }
    for (const [i, t] of targets.entries()) {
      const report = reports[i]!;
      if (report.publish.length === 0) continue;
      const present = await this.presentIn(t.collection.id, refs.filter((ref) => !publishedNow[i]!.has(ref) && !refObjects.has(ref)));
      for (const ref of refs) {
        await pause();
        if (publishedNow[i]!.has(ref)) continue;
        const found = refObjects.get(ref);
        if (found) {
          const along = found.object;
          publications.push({
            collectionId: t.collection.id, object: this.storedToNew(along), source: found.intakeId, changeType: 'object.published',
            provenance: { included_by: kind, intake: intakeIds[0], curators: caller ? [caller.account.id] : [], decided_at: formatMicros(at), policy: caller ? 'review' : kind },
          });
          report.publish.push({ id: along.id, type: along.type, ...(along.version ? { version: along.version } : {}), change: 'object.published' });
          continue;
        }
        if (ref.startsWith('marking-definition--') && /^marking-definition--(613f2e26|34098fce|f88d31f6|5e57c739|94868c89|bab4a63c|55d920b0|939a9414)/.test(ref)) continue; // predefined TLP markings
        if (!present.has(ref)) report.dangling_refs.push(ref);
      }
      report.new_recipients = await this.newRecipients(t, report.publish.map((p) => p.id), Math.max(0, ...selected.map((s) => s.entry.tlp)));
    }
    const violations = reports.flatMap((r) => r.violations.map((x) => ({ target: r.target, ...x })));
    if (violations.length > 0 && !req.dryRun && caller) {
      await this.refusal(caller, `curation.${kind}`, violations.slice(0, 5).map((x) => `${x.target}: ${x.rule}`).join('; '));
      const first = violations[0]!;
      throw new TaxiiError('TAXII_ERR_UNPROCESSABLE', `release rule "${first.rule}" of ${first.target} blocks this decision: ${first.message}${violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''}`, { violations: violations.slice(0, 100) });
    }
    const plan: DecisionPlan = {
      id: randomUUID(), kind, ...(caller ? this.actor(caller) : { actorKind: 'policy' as const, actorName: 'policy' }), at, entries, publications, withdrawals: [],
      audit: this.auditEvent(caller, `curation.${kind}`, selected.map((s) => s.entry), { targets: targets.map((t) => t.ref) }),
    };
    return { plan, reports };
  }

  /** Which of these object ids the collection holds (any version), a few hundred per query. */
  private async presentIn(collectionId: string, ids: string[]): Promise<Set<string>> {
    const present = new Set<string>();
    await eachVersion((query) => this.store.queryManifest(collectionId, query), ids, (m) => present.add(m.id));
    return present;
  }

  /** Organisations that would newly see objects in the target: readers of it under whose cap they fall. */
  private async newRecipients(t: Target, objectIds: string[], tlp: number): Promise<string[]> {
    const grants = (await this.store.listGrants({ collectionId: t.collection.id })).filter((g) => g.canRead && TLP_RANK[g.maxTlp] >= tlp);
    const names = new Set<string>();
    const unseen = await Promise.all(objectIds.slice(0, 200).map(async (id) => !(await this.store.hasObject(t.collection.id, id))));
    if (!unseen.some(Boolean)) return [];
    for (const g of grants) {
      if (g.organisationId) names.add((await this.store.getOrganisation(g.organisationId))?.name ?? g.organisationId);
      else if (g.accountId) {
        const a: AccountRecord | undefined = await this.store.getAccount(g.accountId);
        const org = a?.organisationId ? await this.store.getOrganisation(a.organisationId) : undefined;
        if (org) names.add(org.name);
      }
    }
    return [...names].sort();
  }

  /** The entry's object as a new version to store: the queue entry already knows its version key and TLP. */
  private newObject(objects: Map<string, StoredObject>, e: QueueEntry): NewObject {
    const o = objects.get(`${e.intakeId}|${e.objectId}|${e.versionKey}`)!;
    return { id: o.id, type: o.type, specVersion: o.specVersion, ...(o.version !== undefined ? { version: o.version } : {}), versionKey: e.versionKey, mediaType: o.mediaType, tlp: e.tlp, json: o.json };
  }

  private storedToNew(o: StoredObject): NewObject {
    const parsed = JSON.parse(o.json) as StixJson;
    const tlp = tlpLevelOf(parsed);
    return {
      id: o.id, type: o.type, specVersion: o.specVersion, ...(o.version !== undefined ? { version: o.version, versionKey: versionKeyOf(o) } : {}),
      mediaType: o.mediaType, tlp: tlp ? TLP_RANK[tlp] : 0, json: o.json,
    };
  }

  private async withdraw(caller: Caller, req: DecisionRequest): Promise<DecisionResult> {
    if (!req.objectId) throw invalid('"withdraw" needs "object_id"');
    if (!req.targets?.length) throw invalid('"withdraw" needs "targets": the published collections to withdraw the object from');
    if (!req.reasonCode || !WITHDRAWAL_REASONS.includes(req.reasonCode)) throw invalid(`"withdraw" needs "reason_code": one of ${WITHDRAWAL_REASONS.join(', ')}`);
    const reason = req.reason?.trim() ?? '';
    const targets = await this.resolveTargets(req.targets, caller);
    const reports: TargetReport[] = [];
    for (const t of targets) {
      if (!(await this.store.hasObject(t.collection.id, req.objectId))) throw notFound(`${req.objectId} is not published in ${t.ref}.`);
      reports.push({ target: t.ref, collection: t.collection.id, api_root: t.collection.apiRoot, publish: [], awaiting_approval: [], dangling_refs: [], new_recipients: [], violations: [] });
    }
    const plan: DecisionPlan = {
      id: randomUUID(), kind: 'withdraw', ...this.actor(caller), at: nowMicros(), entries: [], publications: [],
      withdrawals: targets.map((t) => ({ collectionId: t.collection.id, objectId: req.objectId!, reasonCode: req.reasonCode!, reason })),
      audit: {
        at: nowMicros(), actor: caller.account.name, action: 'curation.withdraw', outcome: 'success', target: req.objectId, ...(caller.remote ? { remote: caller.remote } : {}),
        detail: { targets: targets.map((t) => t.ref), reason_code: req.reasonCode, reason },
      },
    };
    const outcome = await this.apply(plan, Boolean(req.dryRun));
    return { ...(req.dryRun ? {} : { decision: plan.id }), action: 'withdraw', dry_run: Boolean(req.dryRun), entries: 0, ...outcome, targets: reports };
  }

  /** The STIX identity the desk signs its own notes and opinions with (one per organisation, stable id). */
  deskIdentity(organisation: OrganisationRecord | undefined, account: AccountRecord): StixJson {
    const name = organisation?.name ?? account.name;
    const created = formatMicros(organisation?.createdAt ?? account.createdAt).replace(/(\.\d{3})\d{3}Z$/, '$1Z');
    return {
      type: 'identity', spec_version: '2.1', id: `identity--${uuidV5(DESK_IDENTITY_NAMESPACE, organisation?.id ?? account.id)}`,
      created, modified: created, name, identity_class: 'organization',
    };
  }

  private async annotate(caller: Caller, v: Visibility, req: DecisionRequest): Promise<DecisionResult> {
    const a = req.annotation;
    if (!a || (a.type !== 'note' && a.type !== 'opinion')) throw invalid('"annotate" needs "annotation": {"type": "note", "content": …} or {"type": "opinion", "opinion": …}');
    if (a.type === 'note' && !a.content?.trim()) throw invalid('a note needs "content"');
    const OPINIONS = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'];
    if (a.type === 'opinion' && !OPINIONS.includes(a.opinion ?? '')) throw invalid(`an opinion needs "opinion": one of ${OPINIONS.join(', ')}`);
    if (!req.targets?.length) throw invalid('"annotate" needs "targets": where the annotation is published next to the object');
    const targets = await this.resolveTargets(req.targets, caller);
    const selected = await this.select(caller, v, req, ['pending', 'approved', 'changes_requested']);
    const identity = this.deskIdentity(caller.organisation, caller.account);
    const now = formatMicros(nowMicros()).replace(/(\.\d{3})\d{3}Z$/, '$1Z');
    const objectIds = [...new Set(selected.map((s) => s.entry.objectId))];
    const annotation: StixJson = {
      type: a.type, spec_version: '2.1', id: `${a.type}--${randomUUID()}`, created: now, modified: now, created_by_ref: identity.id, object_refs: objectIds,
      ...(a.type === 'note' ? { content: a.content!.trim(), ...(a.abstract ? { abstract: a.abstract } : {}) } : { opinion: a.opinion, ...(a.explanation ? { explanation: a.explanation } : {}) }),
    };
    // The annotation carries the highest marking of what it annotates: it says something about them.
    const tlp = Math.max(0, ...selected.map((s) => s.entry.tlp));
    const markings = [...new Set([...(await this.objectsOf(selected.map((s) => s.entry))).values()].flatMap((o) => ((JSON.parse(o.json) as StixJson).object_marking_refs as string[] | undefined) ?? []))];
    if (markings.length) annotation.object_marking_refs = markings;
    const toNew = (o: StixJson, level: number): NewObject => ({
      id: String(o.id), type: String(o.type), specVersion: '2.1', version: String(o.modified), versionKey: timestampKey(String(o.modified))!, mediaType: STIX_MEDIA_TYPE, tlp: level, json: JSON.stringify(o),
    });
    const reports: TargetReport[] = [];
    const publications: DecisionPlan['publications'] = [];
    for (const t of targets) {
      const violations = releaseViolations(annotation, { tlp, findings: [] }, t.release, { apiRoot: t.collection.apiRoot, hasRedRecipients: t.hasRedRecipients });
      if (violations.length && !req.dryRun) throw new TaxiiError('TAXII_ERR_UNPROCESSABLE', `release rule "${violations[0]!.rule}" of ${t.ref} blocks this annotation: ${violations[0]!.message}`, { violations });
      const provenance = { desk: caller.organisation?.name ?? null, curators: [caller.account.id], decided_at: now, annotates: objectIds };
      publications.push({ collectionId: t.collection.id, object: toNew(identity, 0), changeType: 'object.published', provenance });
      publications.push({ collectionId: t.collection.id, object: toNew(annotation, tlp), changeType: 'object.published', provenance });
      reports.push({
        target: t.ref, collection: t.collection.id, api_root: t.collection.apiRoot, publish: [{ id: String(annotation.id), type: a.type, version: now, change: 'object.published' }],
        awaiting_approval: [], dangling_refs: [], new_recipients: [], violations: violations.map((x) => ({ object: String(annotation.id), ...x })),
      });
    }
    const plan: DecisionPlan = {
      id: randomUUID(), kind: 'annotate', ...this.actor(caller), at: nowMicros(), entries: [], publications, withdrawals: [],
      audit: this.auditEvent(caller, 'curation.annotate', selected.map((s) => s.entry), { annotation: annotation.id, targets: targets.map((t) => t.ref) }),
    };
    const outcome = await this.apply(plan, Boolean(req.dryRun));
    return { ...(req.dryRun ? {} : { decision: plan.id }), action: 'annotate', dry_run: Boolean(req.dryRun), entries: selected.length, ...outcome, targets: reports };
  }

  private async refusal(caller: Caller, action: string, why: string): Promise<void> {
    await this.store.appendAudit({ at: nowMicros(), actor: caller.account.name, action, outcome: 'failure', ...(caller.remote ? { remote: caller.remote } : {}), detail: { refused: why } });
  }

  // ---- policy: auto-publish and the revocation fast path ------------------------------------------

  /**
   * Applies the intake's policy to the pending entries of one submission (or, with no submission,
   * of every intake: the start-up pass after a crash). Idempotent: what is published stays
   * published, and a decision is applied wholly or not at all.
   */
  async applyPolicy(submissionId?: string): Promise<number> {
    let published = 0;
    let intakes: CollectionRecord[];
    if (submissionId !== undefined) {
      // Called after every submission: one that went to a published collection costs two lookups.
      const sub = await this.store.getSubmission(submissionId);
      const collection = sub ? await this.store.getCollection(sub.apiRoot, sub.collectionId) : undefined;
      intakes = collection?.purpose === 'intake' ? [collection] : [];
    } else intakes = (await this.allCollections()).filter((c) => c.purpose === 'intake');
    for (const intake of intakes) {
      const policy: IntakePolicy = (await this.store.getDeskRules(intake.id)).policy ?? { mode: 'review' };
      const fastPath = policy.revocationFastPath !== false;
      if (!fastPath && policy.mode !== 'auto-publish') continue;
      let after: number | undefined;
      for (;;) {
        // In review mode only revocations are the policy's to publish: the others are not even read.
        const page = await this.store.queryQueue({
          intakeIds: [intake.id], states: ['pending'], limit: 1000, ...(policy.mode === 'review' ? { revoked: true } : {}),
          ...(submissionId ? { submissionId } : {}), ...(after !== undefined ? { afterSeq: after } : {}),
        });
        published += await this.policyOnPage(intake, policy, fastPath, page.items);
        if (!page.more || page.items.length === 0) break;
        after = page.items.at(-1)!.seq;
      }
    }
    return published;
  }

  private async policyOnPage(intake: CollectionRecord, policy: IntakePolicy, fastPath: boolean, entries: QueueEntry[]): Promise<number> {
    const objects = await this.objectsOf(entries);
    // Entries that go to the same targets the same way are decided together: one decision each.
    const groups = new Map<string, { kind: DecisionPlan['kind']; targetIds: string[]; entries: QueueEntry[] }>();
    for (const entry of entries) {
      let kind: DecisionPlan['kind'];
      let targetIds: string[];
      if (entry.revoked && fastPath) {
        const live = (await this.store.listPublications({ objectId: entry.objectId })).filter((p) => p.withdrawnAt === undefined);
        if (live.length === 0) continue; // never published: a curator decides
        kind = 'revocation';
        targetIds = [...new Set(live.map((p) => p.collectionId))].sort();
      } else if (policy.mode === 'auto-publish') {
        const rule = policy.rules?.find((r) => conditionHolds(r.when, entry));
        if (!rule) continue;
        kind = 'auto-publish';
        targetIds = [...rule.targets].sort();
      } else continue;
      const key = `${kind}|${targetIds.join(',')}`;
      const group = groups.get(key) ?? { kind, targetIds, entries: [] };
      group.entries.push(entry);
      groups.set(key, group);
    }
    let published = 0;
    for (const group of groups.values()) {
      let targets: Target[];
      try {
        targets = await this.resolveTargets(group.targetIds);
      } catch {
        this.log.warn({ event: 'curation.policy', intake: intake.id, entries: group.entries.length }, 'a policy target no longer exists; the entries wait for a curator');
        continue;
      }
      let selected = group.entries.map((entry) => ({ entry, rev: entry.rev }));
      const first = await this.publicationPlan(undefined, selected, objects, targets, { includeRefs: false }, group.kind);
      let plan = first.plan;
      const reports = first.reports;
      const blocked = new Map<string, string[]>();
      for (const r of reports) for (const x of r.violations) if (x.entry) blocked.set(x.entry, [...(blocked.get(x.entry) ?? []), `${r.target}: ${x.rule}`]);
      if (blocked.size > 0) {
        // Left for a curator, and said once per entry version in the audit log.
        for (const [entryId, why] of blocked) {
          const entry = group.entries.find((e) => e.id === entryId)!;
          await this.store.appendAudit({ at: nowMicros(), actor: 'policy', action: `curation.${group.kind}`, outcome: 'failure', target: entryId, detail: { refused: why.join('; '), object: entry.objectId } });
        }
        selected = selected.filter((s) => !blocked.has(s.entry.id));
        if (selected.length === 0) continue;
        ({ plan } = await this.publicationPlan(undefined, selected, objects, targets, { includeRefs: false }, group.kind));
      }
      try {
        published += (await this.store.applyDecision(plan)).published;
      } catch (err) {
        if (!(err instanceof StaleDecisionError)) throw err;
        // A curator decided on one of them first: theirs stands; the others go one by one.
        for (const one of selected) {
          const [fresh] = await this.store.getQueueEntries([one.entry.id]);
          if (!fresh || fresh.state !== 'pending') continue;
          const single = await this.publicationPlan(undefined, [{ entry: fresh, rev: fresh.rev }], objects, targets, { includeRefs: false }, group.kind);
          published += await this.store.applyDecision(single.plan).then((o) => o.published, (e: unknown) => (e instanceof StaleDecisionError ? 0 : Promise.reject(e)));
        }
      }
    }
    return published;
  }

  // ---- rules and statistics ---------------------------------------------------------------------

  /** The desk rules of a collection: admins, and curators of its API root (no caller: an operator at the CLI). */
  /** Desk rules are for admins and curators of the collection's root (no caller: the operator); others get a 404. */
  private requireRulesAccess(caller: Caller | undefined, collection: CollectionRecord): void {
    if (caller && !isAdmin(caller) && !curates(caller, collection.apiRoot)) throw notFound();
  }

  async rules(caller: Caller | undefined, collection: CollectionRecord): Promise<DeskRules> {
    this.requireRulesAccess(caller, collection);
    return this.store.getDeskRules(collection.id);
  }

  async setRules(caller: Caller | undefined, collection: CollectionRecord, rules: DeskRules): Promise<void> {
    this.requireRulesAccess(caller, collection);
    await this.store.putDeskRules(collection.id, rules);
    await this.store.appendAudit({
      at: nowMicros(), actor: caller?.account.name ?? 'cli', action: 'curation.rules', outcome: 'success', target: collection.id,
      ...(caller?.remote ? { remote: caller.remote } : {}), detail: { policy: rules.policy?.mode ?? null, release: rules.release !== undefined },
    });
  }

  /** Desk statistics; a vendor gets only its own submissions per day (the desk's sections empty). `days` (1 to STATS_MAX_DAYS) ends today (UTC). */
  async stats(caller: Caller, days = STATS_DEFAULT_DAYS) {
    const v = await this.visibility(caller);
    if (!v.decides && v.organisationId === undefined) throw notFound();
    if (!Number.isInteger(days) || days < 1 || days > STATS_MAX_DAYS) throw invalid(`days must be an integer from 1 to ${STATS_MAX_DAYS}`);
    const names = new Map((await this.store.listOrganisations()).map((o) => [o.id, o.name]));
    const now = nowMicros();
    const since = now - (now % MICROS_PER_DAY) - (days - 1) * MICROS_PER_DAY;
    const perDay = (await this.store.submissionsPerDay([...v.intakes.keys()], since)).filter((r) => v.organisationId === undefined || r.organisationId === v.organisationId);
    const submissions = {
      days,
      // By day, then vendor name (accounts without an organisation last).
      submissions_per_day: perDay
        .map((r) => ({ day: formatMicros(r.day).slice(0, 10), vendor: r.organisationId ? (names.get(r.organisationId) ?? r.organisationId) : null, submissions: r.submissions }))
        .sort((a, b) => a.day.localeCompare(b.day) || (a.vendor ?? '\uffff').localeCompare(b.vendor ?? '\uffff')),
    };
    if (!v.decides) return { queues: [], decisions_per_curator: [], time_to_publish: [], ...submissions };
    const stats = await this.store.curationStats([...v.intakes.keys()]);
    const seconds = (us?: number) => (us === undefined ? undefined : Math.round((now - us) / 1e4) / 100);
    return {
      queues: stats.queues.map((q) => {
        const intake = v.intakes.get(q.intakeId)!.collection;
        return { intake: q.intakeId, api_root: intake.apiRoot, ...(intake.alias ? { alias: intake.alias } : {}), depth: q.depth, ...(q.depth ? { age_seconds: { p50: seconds(q.p50), p95: seconds(q.p95), oldest: seconds(q.oldest) } } : {}) };
      }),
      decisions_per_curator: stats.decisionsPerAccount.map((d) => ({ curator: d.actorName, decisions: d.decisions })),
      time_to_publish: stats.timeToPublish.map((t) => ({ vendor: t.organisationId ? (names.get(t.organisationId) ?? t.organisationId) : null, publications: t.publications, p50_seconds: Math.round(t.p50 / 1e4) / 100 })),
      ...submissions,
    };
  }
}
