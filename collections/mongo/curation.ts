// The desk on MongoDB (docs/architecture.md §5): queue entries, desk rules, decisions, publications,
// withdrawals and the change log. Nothing here rests on multi-document transactions: every document
// has an identity `_id` (a retried write meets the one already there), and a decision is recorded
// with its whole plan before anything it decides is written, then rolled forward to the end:
//   recording → preparing (plan stored) → every entry's rev compare-and-set (a stale one undoes
//   the others and the record) → applying → publications, changes, withdrawals, audit → applied.
// resumeDecisions() finishes whatever a crash left preparing or applying.
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import {
  type ChangeRecord,
  type CurationStats,
  type DecisionOutcome,
  type DecisionPlan,
  type DecisionRecord,
  type DeskRules,
  type NewObject,
  type Page,
  type PublicationRecord,
  type QueueEntry,
  type QueueQuery,
  type SubmissionsPerDay,
  MICROS_PER_DAY,
  StaleDecisionError,
  StoreConflictError,
  intakeFacts,
  versionKeyFromMicros,
} from '../store.js';
import { type CollectionDoc, MAJORITY, type ObjectDoc, UNVERSIONED, identityId, isDuplicateKey, nowMicros, opt } from './schemas.js';

type Doc = Record<string, any>;
type Filter = Record<string, unknown>;

/** A decision still being recorded after this long was abandoned by a crashed writer (µs). */
const ABANDONED_US = 60_000_000;
/** Plan chunks stay well below MongoDB's 16 MB document limit (UTF-16 units; at most 3 bytes each in UTF-8). */
const PLAN_CHUNK = 4_000_000;

export interface CurationModels {
  collections: Model<CollectionDoc>;
  accounts: Model<any>;
  meta: Model<any>;
  audit: Model<any>;
  deskRules: Model<any>;
  queue: Model<any>;
  publications: Model<any>;
  changes: Model<any>;
  withdrawals: Model<any>;
  decisions: Model<any>;
  decisionPlans: Model<any>;
}

/** What the desk borrows from the store: objects, date_added leases, flags, sequences. */
export interface CurationContext extends CurationModels {
  objectsFor(apiRoot: string): Promise<Model<ObjectDoc>>;
  allocate(collectionId: string, n: number): Promise<{ start: number; token: string } | undefined>;
  release(collectionId: string, token: string): Promise<void>;
  visibleUpTo(c: CollectionDoc): number;
  refreshFlags(model: Model<ObjectDoc>, collectionId: string, objectIds: string[]): Promise<void>;
  insertIgnoringDuplicates(model: Model<any>, docs: Doc[]): Promise<Set<number>>;
  nextSeq(name: string): Promise<number>;
}

/** An object stored (or found as an exact duplicate) in an intake by ingest. */
export interface StoredInIntake {
  object: NewObject;
  dateAdded: number;
}

type Move = {
  entryId: string;
  rev: number;
  set: Doc;
  /** The fields the move changes, as they were (undefined: absent). */
  before: Doc;
};

type Recorded = { plan: DecisionPlan; moves: Move[] };

/** The version identity of an object in a collection: no version means one version only. */
function vidOf(o: NewObject, versionKey: string): string {
  return o.version === undefined ? UNVERSIONED : versionKey;
}

function toQueueEntry(d: Doc): QueueEntry {
  return {
    id: d.id, seq: d.seq, intakeId: d.intakeId, apiRoot: d.apiRoot, objectId: d.objectId, objectType: d.objectType, ...opt('version', d.version as string),
    versionKey: d.versionKey, dateAdded: d.dateAdded, submissionId: d.submissionId, accountId: d.accountId, ...opt('organisationId', d.organisationId as string),
    tlp: d.tlp ?? 0, revoked: d.revoked === true, findings: d.findings ? JSON.parse(d.findings) : [], state: d.state, rev: d.rev,
    ...opt('reason', d.reason as string), ...opt('requestedChanges', d.requestedChanges ? JSON.parse(d.requestedChanges) : undefined),
    ...opt('supersededBy', d.supersededBy as string),
    approvals: ((d.approvals ?? []) as Doc[]).map((a) => ({ targetId: a.targetId, accountId: a.accountId, ...opt('organisationId', a.organisationId as string), at: a.at })),
    createdAt: d.createdAt, updatedAt: d.updatedAt,
  };
}

function toPublication(d: Doc): PublicationRecord {
  return {
    collectionId: d.collectionId, objectId: d.objectId, objectType: d.objectType, ...opt('version', d.version as string), versionKey: d.versionKey,
    dateAdded: d.dateAdded, ...opt('entryId', d.entryId as string), decisionId: d.decisionId, provenance: d.provenance ? JSON.parse(d.provenance) : {},
    ...opt('withdrawnAt', d.withdrawnAt as number),
  };
}

function toChange(d: Doc): ChangeRecord {
  return {
    id: d.id, collectionId: d.collectionId, dateAdded: d.dateAdded, type: d.type, objectType: d.objectType, objectId: d.objectId, ...opt('version', d.version as string),
    actorKind: d.actorKind, ...opt('reason', d.reason as string), ...opt('lastVersion', d.lastVersion as string), tlp: d.tlp ?? 0,
  };
}

/** The value at rank `k` of sorted values (the nearest-rank pick every backend uses). */
function at<T>(sorted: T[], k: number): T {
  return sorted[Math.min(sorted.length - 1, Math.max(0, k))]!;
}

export class MongoCuration {
  constructor(private readonly x: CurationContext) {}

  // ---- desk rules ---------------------------------------------------------------------------

  async getDeskRules(collectionId: string): Promise<DeskRules> {
    const d = await this.x.deskRules.findById(identityId('desk-rules', collectionId)).lean<Doc>(); // _id
    return { ...(d?.policy ? { policy: JSON.parse(d.policy) } : {}), ...(d?.release ? { release: JSON.parse(d.release) } : {}) };
  }

  async putDeskRules(collectionId: string, rules: DeskRules): Promise<void> {
    if (!(await this.x.collections.exists({ _id: identityId('collection', collectionId) }))) throw new StoreConflictError(`collection ${collectionId} does not exist`); // _id
    const _id = identityId('desk-rules', collectionId);
    if (!rules.policy && !rules.release) {
      await this.x.deskRules.deleteOne({ _id }, MAJORITY);
      return;
    }
    const doc = { collectionId, ...opt('policy', rules.policy ? JSON.stringify(rules.policy) : undefined), ...opt('release', rules.release ? JSON.stringify(rules.release) : undefined) };
    try {
      await this.x.deskRules.collection.replaceOne({ _id }, doc, { upsert: true, ...MAJORITY });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.x.deskRules.collection.replaceOne({ _id }, doc, MAJORITY); // lost the first-insert race: replace the winner
    }
  }

  // ---- the queue ----------------------------------------------------------------------------

  /** The latest rejected entry of each (object id, version key) among the objects (sticky rejections). */
  async rejections(objects: NewObject[]): Promise<Map<string, QueueEntry>> {
    const out = new Map<string, QueueEntry>();
    const keyed = objects.filter((o) => o.versionKey !== undefined);
    if (keyed.length === 0) return out;
    const docs = await this.x.queue.find({ objectId: { $in: [...new Set(keyed.map((o) => o.id))] }, state: 'rejected' }).sort({ seq: 1 }).lean<Doc[]>(); // queue_by_object
    for (const d of docs) out.set(`${d.objectId}\u0000${d.versionKey}`, toQueueEntry(d)); // later seq wins
    return out;
  }

  static rejectionKey(o: NewObject): string | undefined {
    return o.versionKey === undefined ? undefined : `${o.id}\u0000${o.versionKey}`;
  }

  async rejectionOf(objectId: string, versionKey: string): Promise<QueueEntry | undefined> {
    const d = await this.x.queue.findOne({ objectId, versionKey, state: 'rejected' }).sort({ seq: -1 }).lean<Doc>(); // queue_by_object
    return d ? toQueueEntry(d) : undefined;
  }

  /** `n` consecutive numbers of a named sequence (one round trip for a whole batch). */
  private async seqs(name: string, n: number): Promise<number> {
    const _id = identityId('seq', name);
    for (;;) {
      try {
        // _id
        const doc = await this.x.meta.findOneAndUpdate({ _id }, { $inc: { value: n } }, { upsert: true, new: true, ...MAJORITY }).lean<Doc>();
        return (doc!.value as number) - n + 1;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // two first upserts raced: the loser retries as an update
      }
    }
  }

  /**
   * The queue entries of objects ingest stored in an intake (once per intake, object and version),
   * superseding older undecided versions. Idempotent: a resumed ingest finds its entries by `_id`
   * and finishes the supersession of any still marked `superseding`.
   */
  async enqueue(intake: { id: string; apiRoot: string }, submissionId: string, accountId: string, stored: StoredInIntake[]): Promise<void> {
    if (stored.length === 0) return;
    const account = await this.x.accounts.findById(identityId('account', accountId), { organisationId: 1 }).lean<Doc>(); // _id
    const organisationId = account?.organisationId as string | undefined;
    const now = Date.now() * 1000;
    const wanted = new Map<string, Doc>();
    for (const { object: o, dateAdded } of stored) {
      const versionKey = o.versionKey ?? versionKeyFromMicros(dateAdded);
      const _id = identityId('queue', intake.id, o.id, versionKey);
      if (wanted.has(String(_id))) continue;
      const facts = intakeFacts(o);
      wanted.set(String(_id), {
        _id, id: randomUUID(), intakeId: intake.id, apiRoot: intake.apiRoot, objectId: o.id, objectType: o.type, ...opt('version', o.version), versionKey, dateAdded,
        submissionId, accountId, ...opt('organisationId', organisationId), tlp: o.tlp, revoked: facts.revoked, findings: JSON.stringify(facts.findings),
        findingCodes: facts.codes, state: 'pending', rev: 1, approvals: [], superseding: true, createdAt: now, updatedAt: now,
      });
    }
    const present = new Map((await this.x.queue.find({ _id: { $in: [...wanted.values()].map((d) => d._id) } }, { id: 1, objectId: 1, versionKey: 1, seq: 1, superseding: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
    const fresh = [...wanted.values()].filter((d) => !present.has(String(d._id)));
    // Entries of this batch that still have to supersede older ones: new ones, and any a crash left marked.
    const settling: Doc[] = [...present.values()].filter((d) => d.superseding === true);
    if (fresh.length > 0) {
      const first = await this.seqs('queue', fresh.length);
      fresh.forEach((d, i) => { d.seq = first + i; });
      const lost = await this.x.insertIgnoringDuplicates(this.x.queue, fresh);
      const won = fresh.filter((_, i) => !lost.has(i));
      settling.push(...won);
      if (lost.size > 0) {
        // A concurrent ingest of the same version queued it first: it supersedes (or has) on its own.
        const winners = await this.x.queue.find({ _id: { $in: [...lost].map((i) => fresh[i]!._id) }, superseding: true }, { id: 1, objectId: 1, versionKey: 1, seq: 1 }).lean<Doc[]>(); // _id
        settling.push(...winners);
      }
    }
    if (settling.length === 0) return;
    settling.sort((a, b) => a.seq - b.seq);
    // Only objects that have an older undecided entry need an update (one query finds them).
    const candidates = await this.x.queue.find({ intakeId: intake.id, objectId: { $in: [...new Set(settling.map((d) => d.objectId))] }, state: { $in: ['pending', 'changes_requested'] } }, { objectId: 1, versionKey: 1 }).lean<Doc[]>(); // queue_by_object
    const oldest = new Map<string, string>();
    for (const c of candidates) if (!oldest.has(c.objectId) || c.versionKey < oldest.get(c.objectId)!) oldest.set(c.objectId, c.versionKey);
    const ops = settling
      .filter((d) => oldest.has(d.objectId) && oldest.get(d.objectId)! < d.versionKey)
      .map((d) => ({
        updateMany: {
          filter: { intakeId: intake.id, objectId: d.objectId, versionKey: { $lt: d.versionKey }, state: { $in: ['pending', 'changes_requested'] } },
          update: { $set: { state: 'superseded', supersededBy: d.id, updatedAt: now }, $inc: { rev: 1 } },
        },
      }));
    // Ordered, in seq order: with several versions in one batch, each supersedes the one before.
    if (ops.length > 0) await this.x.queue.bulkWrite(ops, { ordered: true, ...MAJORITY });
    await this.x.queue.updateMany({ _id: { $in: settling.map((d) => d._id) } }, { $unset: { superseding: 1 } }, MAJORITY); // _id
  }

  async queryQueue(q: QueueQuery): Promise<Page<QueueEntry>> {
    if (q.intakeIds.length === 0) return { items: [], more: false };
    const f: Filter = { intakeId: { $in: q.intakeIds } };
    if (q.states) f.state = { $in: q.states };
    if (q.organisationId !== undefined) f.organisationId = q.organisationId;
    if (q.submissionId !== undefined) f.submissionId = q.submissionId;
    if (q.types) f.objectType = { $in: q.types };
    if (q.findingCode !== undefined) f.findingCodes = q.findingCode;
    if (q.maxTlp !== undefined) f.tlp = { $lte: q.maxTlp };
    if (q.createdBefore !== undefined || q.createdAfter !== undefined) f.createdAt = { ...opt('$lt', q.createdBefore), ...opt('$gt', q.createdAfter) };
    if (q.objectId !== undefined) f.objectId = q.objectId;
    if (q.revoked !== undefined) f.revoked = q.revoked;
    const desc = q.order === 'desc';
    if (q.afterSeq !== undefined) f.seq = desc ? { $lt: q.afterSeq } : { $gt: q.afterSeq };
    // queue_by_intake_state with states, queue_by_organisation / _by_submission / _by_object by filter, else queue_by_intake (newest first: walked backwards)
    const docs = await this.x.queue.find(f).sort({ seq: desc ? -1 : 1 }).limit(q.limit + 1).lean<Doc[]>();
    const more = docs.length > q.limit;
    return { items: (more ? docs.slice(0, q.limit) : docs).map(toQueueEntry), more };
  }

  async getQueueEntries(ids: string[]): Promise<QueueEntry[]> {
    if (ids.length === 0) return [];
    return (await this.x.queue.find({ id: { $in: ids } }).sort({ seq: 1 }).lean<Doc[]>()).map(toQueueEntry); // queue_by_id
  }

  // ---- decisions ----------------------------------------------------------------------------

  async applyDecision(plan: DecisionPlan): Promise<DecisionOutcome> {
    const moves = await this.plannedMoves(plan);
    await this.checkPublications(plan);
    await this.record(plan, moves);
    const stale = await this.moveEntries(plan.id, moves);
    if (stale !== undefined) {
      await this.undo(plan.id, moves);
      await this.forget(plan.id);
      throw new StaleDecisionError(stale);
    }
    await this.x.decisions.updateOne({ _id: identityId('decision', plan.id), status: 'preparing' }, { $set: { status: 'applying' } }, MAJORITY); // _id
    return this.finish(plan);
  }

  /** Reads the entries (one query) and computes each one's move; a missing or changed one is stale before anything is written. */
  private async plannedMoves(plan: DecisionPlan): Promise<Move[]> {
    const ids = plan.entries.map((e) => e.entryId);
    const docs = ids.length === 0 ? [] : await this.x.queue.find({ id: { $in: ids } }).lean<Doc[]>(); // queue_by_id
    const byId = new Map(docs.map((d) => [d.id as string, d]));
    // Policy decisions have no account: they approve as their actor name.
    const approver = plan.accountId ?? plan.actorName;
    const seen = new Set<string>();
    return plan.entries.map((e) => {
      const d = byId.get(e.entryId);
      // A plan naming an entry twice is stale on the second, as one update after another would be.
      if (!d || d.rev !== e.rev || seen.has(e.entryId)) throw new StaleDecisionError(e.entryId);
      seen.add(e.entryId);
      const approvals = ((d.approvals ?? []) as Doc[]).map((a) => ({ targetId: a.targetId, accountId: a.accountId, ...opt('organisationId', a.organisationId as string), at: a.at }));
      for (const targetId of e.approvals ?? []) {
        if (!approvals.some((a) => a.targetId === targetId && a.accountId === approver)) {
          approvals.push({ targetId, accountId: approver, ...opt('organisationId', plan.organisationId), at: plan.at });
        }
      }
      const set: Doc = { rev: e.rev + 1, approvals, updatedAt: plan.at, decisionId: plan.id, ...opt('state', e.state), ...opt('reason', e.reason), ...opt('requestedChanges', e.requestedChanges ? JSON.stringify(e.requestedChanges) : undefined) };
      const before: Doc = {};
      for (const k of Object.keys(set)) before[k] = d[k];
      return { entryId: e.entryId, rev: e.rev, set, before };
    });
  }

  /** Every target exists and holds no other object under a published version (else nothing is written). */
  private async checkPublications(plan: DecisionPlan): Promise<void> {
    for (const [collectionId, group] of this.byCollection(plan)) {
      const c = await this.x.collections.findById(identityId('collection', collectionId), { apiRoot: 1 }).lean<CollectionDoc>(); // _id
      if (!c) throw new StoreConflictError(`collection ${collectionId} does not exist`);
      const model = await this.x.objectsFor(c.apiRoot);
      const wanted = new Map(group.map((p) => {
        const _id = identityId('object', collectionId, p.object.id, vidOf(p.object, this.versionKey(plan, p.object)));
        return [String(_id), { _id, p }] as const;
      }));
      for (const d of await model.find({ _id: { $in: [...wanted.values()].map((w) => w._id) } }, { json: 1 }).lean<Doc[]>()) { // _id
        const p = wanted.get(String(d._id))?.p;
        if (p && p.object.json !== d.json) throw new StoreConflictError(`${p.object.id} (${p.object.version ?? 'no version'}) in collection ${collectionId}: a different object with this id and version is already in the collection`);
      }
    }
  }

  private versionKey(plan: DecisionPlan, o: NewObject): string {
    return o.versionKey ?? versionKeyFromMicros(plan.at);
  }

  private byCollection(plan: DecisionPlan): Map<string, DecisionPlan['publications']> {
    const groups = new Map<string, DecisionPlan['publications']>();
    for (const p of plan.publications) {
      const group = groups.get(p.collectionId);
      if (group) group.push(p);
      else groups.set(p.collectionId, [p]);
    }
    return groups;
  }

  /** Claims the decision id and stores the plan with the entries' pre-images, before anything moves. */
  private async record(plan: DecisionPlan, moves: Move[]): Promise<void> {
    const _id = identityId('decision', plan.id);
    const json = JSON.stringify({ plan, moves } satisfies Recorded);
    const chunks = Math.max(1, Math.ceil(json.length / PLAN_CHUNK));
    try {
      await this.x.decisions.collection.insertOne({
        _id, id: plan.id, kind: plan.kind, actorKind: plan.actorKind, ...opt('accountId', plan.accountId), actorName: plan.actorName, at: plan.at,
        entries: plan.entries.length, publications: 0, status: 'recording', chunks, startedAt: nowMicros(),
      }, MAJORITY);
    } catch (err) {
      if (isDuplicateKey(err)) throw new StoreConflictError(`decision ${plan.id} was already made`);
      throw err;
    }
    await this.x.decisionPlans.bulkWrite(Array.from({ length: chunks }, (_, n) => ({
      replaceOne: { filter: { _id: identityId('decision-plan', plan.id, String(n)) }, replacement: { decisionId: plan.id, n, data: json.slice(n * PLAN_CHUNK, (n + 1) * PLAN_CHUNK) }, upsert: true },
    })), { ordered: false, ...MAJORITY });
    await this.x.decisions.updateOne({ _id, status: 'recording' }, { $set: { status: 'preparing' } }, MAJORITY); // _id
  }

  private async recorded(d: Doc): Promise<Recorded> {
    const ids = Array.from({ length: d.chunks as number }, (_, n) => identityId('decision-plan', d.id, String(n)));
    const parts = await this.x.decisionPlans.find({ _id: { $in: ids } }).lean<Doc[]>(); // _id
    parts.sort((a, b) => a.n - b.n);
    return JSON.parse(parts.map((p) => p.data as string).join('')) as Recorded;
  }

  /**
   * Compare-and-sets every entry's rev in one bulk write; returns the first entry (in plan order)
   * that did not move, if any. An entry this decision already moved (a resumed one) counts as moved.
   */
  private async moveEntries(decisionId: string, moves: Move[]): Promise<string | undefined> {
    if (moves.length === 0) return undefined;
    const res = await this.x.queue.bulkWrite(moves.map((m) => ({ updateOne: { filter: { id: m.entryId, rev: m.rev }, update: { $set: m.set } } })), { ordered: false, ...MAJORITY }); // queue_by_id
    if (res.matchedCount === moves.length) return undefined;
    const docs = await this.x.queue.find({ id: { $in: moves.map((m) => m.entryId) } }, { id: 1, rev: 1, decisionId: 1 }).lean<Doc[]>(); // queue_by_id
    const byId = new Map(docs.map((d) => [d.id as string, d]));
    return moves.find((m) => {
      const d = byId.get(m.entryId);
      return !d || d.decisionId !== decisionId || d.rev !== m.rev + 1;
    })?.entryId;
  }

  /** Puts back the entries this decision moved, rev included: as if it had never been tried. */
  private async undo(decisionId: string, moves: Move[]): Promise<void> {
    if (moves.length === 0) return;
    await this.x.queue.bulkWrite(moves.map((m) => {
      const $set: Doc = { rev: m.rev };
      const $unset: Doc = {};
      for (const [k, v] of Object.entries(m.before)) if (k !== 'rev') (v === undefined || v === null ? $unset : $set)[k] = v ?? 1;
      return { updateOne: { filter: { id: m.entryId, rev: m.rev + 1, decisionId }, update: { $set, ...(Object.keys($unset).length ? { $unset } : {}) } } };
    }), { ordered: false, ...MAJORITY }); // queue_by_id
  }

  private async forget(decisionId: string): Promise<void> {
    const d = await this.x.decisions.findById(identityId('decision', decisionId), { chunks: 1 }).lean<Doc>(); // _id
    const ids = Array.from({ length: (d?.chunks as number | undefined) ?? 0 }, (_, n) => identityId('decision-plan', decisionId, String(n)));
    if (ids.length > 0) await this.x.decisionPlans.deleteMany({ _id: { $in: ids } }, MAJORITY); // _id
    await this.x.decisions.deleteOne({ _id: identityId('decision', decisionId) }, MAJORITY); // _id
  }

  /** Everything after the entries moved; each step idempotent, so a resumed decision just runs it again. */
  private async finish(plan: DecisionPlan): Promise<DecisionOutcome> {
    for (const [collectionId, group] of this.byCollection(plan)) await this.publish(plan, collectionId, group);
    let withdrawn = 0;
    for (const w of plan.withdrawals) withdrawn += await this.withdraw(plan, w);
    const published = await this.x.publications.countDocuments({ decisionId: plan.id }); // publications_by_decision
    await this.auditOnce(plan, published, withdrawn);
    await this.x.decisions.updateOne({ _id: identityId('decision', plan.id) }, { $set: { status: 'applied', publications: published } }, MAJORITY); // _id
    return { published, withdrawn };
  }

  /** Publishes into one collection: objects, flags, publication records and changes, in bulk. */
  private async publish(plan: DecisionPlan, collectionId: string, group: DecisionPlan['publications']): Promise<void> {
    const c = await this.x.collections.findById(identityId('collection', collectionId), { apiRoot: 1 }).lean<CollectionDoc>(); // _id
    if (!c) return; // deleted since the decision was recorded: nothing to publish into
    const model = await this.x.objectsFor(c.apiRoot);
    type Item = { p: DecisionPlan['publications'][number]; versionKey: string; vid: string; pubId: ReturnType<typeof identityId>; objId: ReturnType<typeof identityId>; dateAdded?: number };
    const items: Item[] = [];
    const seen = new Set<string>();
    for (const p of group) {
      const versionKey = this.versionKey(plan, p.object);
      const vid = vidOf(p.object, versionKey);
      const pubId = identityId('publication', collectionId, p.object.id, vid);
      if (seen.has(String(pubId))) continue;
      seen.add(String(pubId));
      items.push({ p, versionKey, vid, pubId, objId: identityId('object', collectionId, p.object.id, vid) });
    }
    const pubs = new Map((await this.x.publications.find({ _id: { $in: items.map((i) => i.pubId) } }, { decisionId: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
    // Ours already (an interrupted attempt): only its change may be missing. Others': skipped.
    const ours = items.filter((i) => pubs.get(String(i.pubId))?.decisionId === plan.id);
    const todo = items.filter((i) => !pubs.has(String(i.pubId)));
    if (todo.length === 0 && ours.length === 0) return;
    const objects = new Map((await model.find({ _id: { $in: todo.map((i) => i.objId) } }, { json: 1, dateAdded: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
    const lease = await this.x.allocate(collectionId, 2 * todo.length + ours.length);
    if (!lease) return;
    try {
      let next = lease.start;
      const newObjects: ObjectDoc[] = [];
      const placed: Item[] = [];
      const changeAt = new Map<Item, number>();
      for (const i of todo) {
        const existing = objects.get(String(i.objId));
        if (existing) {
          if (existing.json !== i.p.object.json) continue; // a clash that appeared after the check: not published
          i.dateAdded = existing.dateAdded as number;
        } else {
          i.dateAdded = next++;
          newObjects.push(this.objectDoc(plan, collectionId, i.p, i.objId, i.vid, i.dateAdded));
        }
        changeAt.set(i, next++);
        placed.push(i);
      }
      for (const i of ours) changeAt.set(i, next++);
      const lost = await this.x.insertIgnoringDuplicates(model, newObjects);
      if (lost.size > 0) {
        // A concurrent writer stored the same version first: publish its copy if it is the same object.
        const winners = new Map((await model.find({ _id: { $in: [...lost].map((n) => newObjects[n]!._id) } }, { json: 1, dateAdded: 1 }).lean<Doc[]>()).map((d) => [String(d._id), d])); // _id
        for (const i of placed) {
          const w = winners.get(String(i.objId));
          if (!w) continue;
          if (w.json === i.p.object.json) i.dateAdded = w.dateAdded as number;
          else i.dateAdded = undefined;
        }
      }
      if (newObjects.length > 0) await this.x.refreshFlags(model, collectionId, newObjects.map((o) => o.id));
      const publishable = placed.filter((i) => i.dateAdded !== undefined);
      const pubDocs = publishable.map((i) => ({
        _id: i.pubId, collectionId, objectId: i.p.object.id, objectType: i.p.object.type, ...opt('version', i.p.object.version), versionKey: i.versionKey,
        dateAdded: i.dateAdded, ...opt('entryId', i.p.entryId), decisionId: plan.id, provenance: JSON.stringify(i.p.provenance),
      }));
      const lostPubs = await this.x.insertIgnoringDuplicates(this.x.publications, pubDocs);
      // A concurrent decision published the same version first: its change is its own.
      const changed = [...publishable.filter((_, n) => !lostPubs.has(n)), ...ours];
      await this.x.insertIgnoringDuplicates(this.x.changes, changed.map((i) => ({
        _id: identityId('change', plan.id, collectionId, i.p.object.id, i.vid), id: randomUUID(), collectionId, dateAdded: changeAt.get(i)!, type: i.p.changeType,
        objectType: i.p.object.type, objectId: i.p.object.id, ...opt('version', i.p.object.version), actorKind: plan.actorKind, tlp: i.p.object.tlp,
      })));
    } finally {
      await this.x.release(collectionId, lease.token);
    }
  }

  private objectDoc(plan: DecisionPlan, collectionId: string, p: DecisionPlan['publications'][number], _id: ObjectDoc['_id'], vid: string, dateAdded: number): ObjectDoc {
    const o = p.object;
    return {
      _id, collectionId, dateAdded, id: o.id, type: o.type, ...opt('version', o.version),
      // A version-less object's key is its date_added here, as for any object stored without a version.
      versionKey: o.version === undefined ? versionKeyFromMicros(dateAdded) : this.versionKey(plan, o), vid, specVersion: o.specVersion, mediaType: o.mediaType,
      isFirst: false, isLast: false, isLatestSpec: false, firstAt: [], lastAt: [], tlp: o.tlp,
      submissionId: (p.provenance.submission as string | undefined) ?? plan.id, ...opt('warnings', o.warnings), json: o.json,
    };
  }

  /** Withdraws every version of one object from one collection; returns how many versions it removed. */
  private async withdraw(plan: DecisionPlan, w: DecisionPlan['withdrawals'][number]): Promise<number> {
    const c = await this.x.collections.findById(identityId('collection', w.collectionId), { apiRoot: 1 }).lean<CollectionDoc>(); // _id
    if (!c) return 0;
    const model = await this.x.objectsFor(c.apiRoot);
    const _id = identityId('withdrawal', plan.id, w.collectionId, w.objectId);
    // The withdrawal record is written first, with what was there: a resumed one finds it after the objects are gone.
    let record = await this.x.withdrawals.findById(_id).lean<Doc>(); // _id
    if (!record) {
      const versions = await model.find({ collectionId: w.collectionId, id: w.objectId }, { version: 1, versionKey: 1, type: 1, tlp: 1 }).sort({ versionKey: 1 }).lean<Doc[]>(); // objects_by_id
      if (versions.length === 0) return 0;
      const last = versions.at(-1)!;
      const doc = {
        _id, id: randomUUID(), collectionId: w.collectionId, objectId: w.objectId, objectType: last.type, ...opt('lastVersion', last.version as string), tlp: last.tlp ?? 0,
        versions: versions.length, reasonCode: w.reasonCode, reason: w.reason, decisionId: plan.id, at: plan.at,
      };
      await this.x.insertIgnoringDuplicates(this.x.withdrawals, [doc]);
      record = (await this.x.withdrawals.findById(_id).lean<Doc>())!; // _id
    }
    await model.deleteMany({ collectionId: w.collectionId, id: w.objectId }, MAJORITY); // objects_by_id
    await this.x.publications.updateMany({ collectionId: w.collectionId, objectId: w.objectId, withdrawnAt: { $exists: false } }, { $set: { withdrawnAt: plan.at } }, MAJORITY); // publications_by_object
    const changeId = identityId('change', plan.id, w.collectionId, w.objectId, 'withdrawn');
    if (!(await this.x.changes.exists({ _id: changeId }))) { // _id
      const lease = await this.x.allocate(w.collectionId, 1);
      if (lease) {
        try {
          await this.x.insertIgnoringDuplicates(this.x.changes, [{
            _id: changeId, id: randomUUID(), collectionId: w.collectionId, dateAdded: lease.start, type: 'object.withdrawn', objectType: record.objectType, objectId: w.objectId,
            ...opt('version', record.lastVersion as string), actorKind: plan.actorKind, reason: `${w.reasonCode}: ${w.reason}`, ...opt('lastVersion', record.lastVersion as string), tlp: record.tlp ?? 0,
          }]);
        } finally {
          await this.x.release(w.collectionId, lease.token);
        }
      }
    }
    return record.versions as number;
  }

  /** The decision's audit event: its sequence number is taken once and kept in the decision, so a retry writes the same event. */
  private async auditOnce(plan: DecisionPlan, published: number, withdrawn: number): Promise<void> {
    const _id = identityId('decision', plan.id);
    let seq = (await this.x.decisions.findById(_id, { auditSeq: 1 }).lean<Doc>())?.auditSeq as number | undefined; // _id
    if (seq === undefined) {
      await this.x.decisions.updateOne({ _id, auditSeq: { $exists: false } }, { $set: { auditSeq: await this.x.nextSeq('audit') } }, MAJORITY); // _id
      seq = (await this.x.decisions.findById(_id, { auditSeq: 1 }).lean<Doc>())!.auditSeq as number; // _id
    }
    const a = plan.audit;
    await this.x.insertIgnoringDuplicates(this.x.audit, [{
      _id: identityId('audit', String(seq)), seq, at: a.at, ...opt('actor', a.actor), action: a.action, outcome: a.outcome, ...opt('target', a.target), ...opt('remote', a.remote),
      detail: JSON.stringify({ ...a.detail, decision: plan.id, published, withdrawn }),
    }]);
  }

  async resumeDecisions(): Promise<number> {
    let finished = 0;
    const docs = await this.x.decisions.find({ status: { $in: ['recording', 'preparing', 'applying'] } }).sort({ at: 1 }).lean<Doc[]>(); // decisions_by_at
    for (const d of docs) {
      if (d.status === 'recording') {
        // Nothing moved yet; a young one may be another instance's decision in progress.
        if ((d.startedAt ?? 0) < nowMicros() - ABANDONED_US) await this.forget(d.id);
        continue;
      }
      const { plan, moves } = await this.recorded(d);
      if (d.status === 'preparing') {
        const stale = await this.moveEntries(plan.id, moves);
        if (stale !== undefined) {
          await this.undo(plan.id, moves);
          await this.forget(plan.id);
          continue;
        }
        await this.x.decisions.updateOne({ _id: d._id, status: 'preparing' }, { $set: { status: 'applying' } }, MAJORITY); // _id
      }
      await this.finish(plan);
      finished++;
    }
    return finished;
  }

  // ---- publications, changes, decisions, statistics ------------------------------------------

  async listPublications(filter: { objectId?: string; objectIds?: string[]; collectionId?: string; entryId?: string }): Promise<PublicationRecord[]> {
    const f: Filter = {};
    if (filter.objectIds !== undefined) f.objectId = { $in: filter.objectIds };
    if (filter.objectId !== undefined) f.objectId = filter.objectId;
    if (filter.collectionId !== undefined) f.collectionId = filter.collectionId;
    if (filter.entryId !== undefined) f.entryId = filter.entryId;
    // publications_by_object / _by_collection / _by_entry by the filter given
    return (await this.x.publications.find(f).sort({ dateAdded: 1 }).lean<Doc[]>()).map(toPublication);
  }

  async readChanges(collectionId: string, afterDateAdded: number, limit: number): Promise<Page<ChangeRecord>> {
    const c = await this.x.collections.findById(identityId('collection', collectionId), { lastDateAdded: 1, leases: 1 }).lean<CollectionDoc>(); // _id
    if (!c) return { items: [], more: false };
    // Below the oldest live lease, like objects: a change committed late never lands behind a page already read.
    const docs = await this.x.changes.find({ collectionId, dateAdded: { $gt: afterDateAdded, $lte: this.x.visibleUpTo(c) } }).sort({ dateAdded: 1 }).limit(limit + 1).lean<Doc[]>(); // changes_page
    const more = docs.length > limit;
    return { items: (more ? docs.slice(0, limit) : docs).map(toChange), more };
  }

  async getChange(collectionId: string, changeId: string): Promise<ChangeRecord | undefined> {
    const d = await this.x.changes.findOne({ collectionId, id: changeId }).lean<Doc>(); // changes_by_id
    return d ? toChange(d) : undefined;
  }

  async purgeChanges(before: number): Promise<number> {
    let purged = 0;
    for (const c of await this.x.collections.find({}, { id: 1 }).lean<Doc[]>()) {
      const newest = await this.x.changes.findOne({ collectionId: c.id, dateAdded: { $lt: before } }, { dateAdded: 1 }).sort({ dateAdded: -1 }).lean<Doc>(); // changes_page
      if (!newest) continue;
      // The horizon moves before the entries go: a crash in between sends a reader to resync early, never past a gap unnoticed.
      await this.x.collections.updateOne({ _id: c._id }, { $max: { changeHorizon: newest.dateAdded as number } }, MAJORITY); // _id
      purged += (await this.x.changes.deleteMany({ collectionId: c.id, dateAdded: { $lt: before } }, MAJORITY)).deletedCount; // changes_page
    }
    return purged;
  }

  async changeHorizon(collectionId: string): Promise<number> {
    return (await this.x.collections.findById(identityId('collection', collectionId), { changeHorizon: 1 }).lean<CollectionDoc>())?.changeHorizon ?? 0; // _id
  }

  async listDecisions(filter: { accountId?: string; limit: number }): Promise<DecisionRecord[]> {
    const f: Filter = { status: 'applied', ...opt('accountId', filter.accountId) };
    // decisions_by_account with an account, else decisions_by_at
    return (await this.x.decisions.find(f).sort({ at: -1, id: 1 }).limit(filter.limit).lean<Doc[]>()).map((d) => ({
      id: d.id, kind: d.kind, actorKind: d.actorKind, ...opt('accountId', d.accountId as string), actorName: d.actorName, at: d.at, entries: d.entries, publications: d.publications,
    }));
  }

  async curationStats(intakeIds: string[]): Promise<CurationStats> {
    const queues: CurationStats['queues'] = [];
    for (const intakeId of intakeIds) {
      const pending = { intakeId, state: 'pending' };
      const depth = await this.x.queue.countDocuments(pending); // queue_by_intake_state
      if (depth === 0) {
        queues.push({ intakeId, depth });
        continue;
      }
      // queue_by_intake_state walks pending entries in seq order, which is createdAt order.
      const pick = async (k: number) => (await this.x.queue.findOne(pending, { createdAt: 1 }).sort({ seq: 1 }).skip(k).lean<Doc>())!.createdAt as number;
      queues.push({ intakeId, depth, oldest: await pick(0), p50: await pick(Math.floor((depth - 1) * 0.5)), p95: await pick(Math.floor((depth - 1) * 0.05)) });
    }
    const perAccount = await this.x.decisions.aggregate<{ _id: { accountId?: string; actorName: string }; n: number }>([
      { $match: { status: 'applied', actorKind: 'desk' } }, // decisions_by_at
      { $group: { _id: { accountId: '$accountId', actorName: '$actorName' }, n: { $sum: 1 } } },
      { $sort: { n: -1 } },
    ]);
    const decisionsPerAccount = perAccount.map((g) => ({ accountId: g._id.accountId ?? '', actorName: g._id.actorName, decisions: g.n }));
    const timeToPublish: CurationStats['timeToPublish'] = [];
    if (intakeIds.length > 0) {
      const firsts = await this.x.publications.aggregate<{ _id: string; first: number }>([
        { $match: { entryId: { $exists: true } } }, // publications_by_entry
        { $group: { _id: '$entryId', first: { $min: '$dateAdded' } } },
      ]);
      const first = new Map(firsts.map((f) => [f._id, f.first]));
      const entries = first.size === 0 ? [] : await this.x.queue.find({ id: { $in: [...first.keys()] }, intakeId: { $in: intakeIds } }, { id: 1, organisationId: 1, createdAt: 1 }).lean<Doc[]>(); // queue_by_id
      const byOrg = new Map<string | undefined, number[]>();
      for (const e of entries) {
        const waits = byOrg.get(e.organisationId) ?? [];
        waits.push(first.get(e.id)! - (e.createdAt as number));
        byOrg.set(e.organisationId, waits);
      }
      for (const [org, waits] of byOrg) {
        waits.sort((a, b) => a - b);
        timeToPublish.push({ ...opt('organisationId', org), publications: waits.length, p50: at(waits, Math.floor((waits.length - 1) / 2)) });
      }
    }
    return { queues, decisionsPerAccount, timeToPublish };
  }

  async submissionsPerDay(intakeIds: string[], since: number): Promise<SubmissionsPerDay[]> {
    if (intakeIds.length === 0) return [];
    const groups = await this.x.audit.aggregate<{ _id: { actor?: string; day: number }; n: number }>([
      { $match: { at: { $gte: since }, action: 'objects.add', target: { $in: intakeIds } } }, // audit_submissions
      { $group: { _id: { actor: '$actor', day: { $subtract: ['$at', { $mod: ['$at', MICROS_PER_DAY] }] } }, n: { $sum: 1 } } },
    ]);
    const names = [...new Set(groups.flatMap((g) => (g._id.actor === undefined ? [] : [g._id.actor])))];
    const accounts = names.length === 0 ? [] : await this.x.accounts.find({ name: { $in: names } }, { name: 1, organisationId: 1 }).lean<Doc[]>(); // accounts_by_name
    const orgOf = new Map(accounts.map((a) => [a.name as string, a.organisationId as string | undefined]));
    // Accounts of one organisation add up; the organisation is the account's.
    const rows = new Map<string, SubmissionsPerDay>();
    for (const g of groups) {
      const org = g._id.actor === undefined ? undefined : orgOf.get(g._id.actor);
      const key = `${g._id.day} ${org ?? ''}`;
      const row = rows.get(key) ?? { ...opt('organisationId', org), day: g._id.day, submissions: 0 };
      row.submissions += g.n;
      rows.set(key, row);
    }
    // By day, then organisation in binary order (as SQLite sorts), accounts without one first.
    const byOrg = (a: SubmissionsPerDay, b: SubmissionsPerDay) => ((a.organisationId ?? '') < (b.organisationId ?? '') ? -1 : (a.organisationId ?? '') > (b.organisationId ?? '') ? 1 : 0);
    return [...rows.values()].sort((a, b) => a.day - b.day || byOrg(a, b));
  }

  /** A deleted collection takes its queue, desk rules, publications and change log with it. */
  async collectionDeleted(collectionId: string): Promise<void> {
    await this.x.queue.deleteMany({ intakeId: collectionId }, MAJORITY); // queue_by_intake
    await this.x.publications.deleteMany({ collectionId }, MAJORITY); // publications_by_collection
    await this.x.changes.deleteMany({ collectionId }, MAJORITY); // changes_page
    await this.x.deskRules.deleteOne({ _id: identityId('desk-rules', collectionId) }, MAJORITY); // _id
  }
}
