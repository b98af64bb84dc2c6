// The desk's records as the curation API, the CLI and layout files show and accept them: wire
// names in snake_case, organisations by name, collections as "root/alias" (or "root/id").
// One schema per input, compiled once; the same conversion serves every interface.
import { Ajv } from 'ajv';
import type { CollectionRecord, DeskRules, IntakePolicy, OrganisationRecord, QueueEntry, QueueState, ReleaseRules, Store, TlpLevel } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';
import { TaxiiError, schemaProblems } from '../taxii/errors.js';
import { formatMicros, parseMicros } from '../taxii/time.js';
import { TLP_NAMES, tlpName } from './rules.js';
import type { DeskService, QueueFilter } from './service.js';

const strings = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, uniqueItems: true } as const;
const tlp = { enum: TLP_NAMES } as const;

export const RULES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: { enum: ['review', 'auto-publish'] },
        targets: strings,
        revocation_fast_path: { type: 'boolean' },
        rules: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['targets'],
            properties: {
              targets: { ...strings, minItems: 1 },
              when: {
                type: 'object',
                additionalProperties: false,
                properties: { organisations: strings, types: strings, max_tlp: tlp, no_warnings: { type: 'boolean' } },
              },
            },
          },
        },
      },
    },
    release: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowed_markings: strings,
        required_markings: strings,
        max_tlp: tlp,
        forbidden_types: strings,
        require_created_by_ref: { type: 'boolean' },
        blocking_findings: strings,
        approvals_required: { enum: [1, 2] },
      },
    },
  },
} as const;

export interface RulesWire {
  policy?: {
    mode: 'review' | 'auto-publish';
    targets?: string[];
    revocation_fast_path?: boolean;
    rules?: Array<{ targets: string[]; when?: { organisations?: string[]; types?: string[]; max_tlp?: TlpLevel; no_warnings?: boolean } }>;
  };
  release?: {
    allowed_markings?: string[];
    required_markings?: string[];
    max_tlp?: TlpLevel;
    forbidden_types?: string[];
    require_created_by_ref?: boolean;
    blocking_findings?: string[];
    approvals_required?: 1 | 2;
  };
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateRules = ajv.compile(RULES_SCHEMA);

/** Checks and converts rules as written (targets by reference, organisations by name) to stored rules. */
export async function parseRules(store: Store, desk: DeskService, collection: CollectionRecord, value: unknown): Promise<DeskRules> {
  if (!validateRules(value)) throw new TaxiiError('TAXII_ERR_INVALID', schemaProblems(validateRules.errors));
  const wire = value as RulesWire;
  if (wire.policy && collection.purpose !== 'intake') throw new TaxiiError('TAXII_ERR_INVALID', `"policy" applies to intake collections; ${collection.apiRoot}/${collection.alias ?? collection.id} is published`);
  if (wire.release && collection.purpose !== 'published') throw new TaxiiError('TAXII_ERR_INVALID', `"release" applies to published collections; ${collection.apiRoot}/${collection.alias ?? collection.id} is an intake`);
  const ids = async (refs: string[]) => (await desk.resolveTargets(refs)).map((t) => t.collection.id);
  const orgIds = async (names: string[]) =>
    Promise.all(
      names.map(async (n) => {
        const org = await store.getOrganisationByName(n);
        if (!org) throw new TaxiiError('TAXII_ERR_INVALID', `no organisation "${n}"`);
        return org.id;
      }),
    );
  const out: DeskRules = {};
  if (wire.policy) {
    const p = wire.policy;
    const policy: IntakePolicy = { mode: p.mode };
    if (p.targets) policy.targets = await ids(p.targets);
    if (p.revocation_fast_path !== undefined) policy.revocationFastPath = p.revocation_fast_path;
    if (p.rules) {
      policy.rules = [];
      for (const r of p.rules) {
        const w = r.when ?? {};
        policy.rules.push({
          targets: await ids(r.targets),
          when: {
            ...(w.organisations ? { organisations: await orgIds(w.organisations) } : {}),
            ...(w.types ? { types: w.types } : {}),
            ...(w.max_tlp ? { maxTlp: w.max_tlp } : {}),
            ...(w.no_warnings !== undefined ? { noWarnings: w.no_warnings } : {}),
          },
        });
      }
    }
    if (p.mode === 'auto-publish' && !policy.rules?.length) throw new TaxiiError('TAXII_ERR_INVALID', '/policy: auto-publish needs at least one rule');
    out.policy = policy;
  }
  if (wire.release) {
    const r = wire.release;
    const release: ReleaseRules = {
      ...(r.allowed_markings ? { allowedMarkings: r.allowed_markings } : {}),
      ...(r.required_markings ? { requiredMarkings: r.required_markings } : {}),
      ...(r.max_tlp ? { maxTlp: r.max_tlp } : {}),
      ...(r.forbidden_types ? { forbiddenTypes: r.forbidden_types } : {}),
      ...(r.require_created_by_ref !== undefined ? { requireCreatedByRef: r.require_created_by_ref } : {}),
      ...(r.blocking_findings ? { blockingFindings: r.blocking_findings } : {}),
      ...(r.approvals_required ? { approvalsRequired: r.approvals_required } : {}),
    };
    out.release = release;
  }
  return out;
}

/** Collection ids → "root/alias" (or "root/id") for display. */
async function collectionRefs(store: Store, ids: string[]): Promise<string[]> {
  const all = (await Promise.all((await store.listApiRoots()).map((r) => store.listCollections(r.path)))).flat();
  return ids.map((id) => {
    const c = all.find((x) => x.id === id);
    return c ? `${c.apiRoot}/${c.alias ?? c.id}` : id;
  });
}

export async function rulesView(store: Store, rules: DeskRules): Promise<RulesWire> {
  const out: RulesWire = {};
  const orgs = new Map((await store.listOrganisations()).map((o) => [o.id, o.name]));
  if (rules.policy) {
    const p = rules.policy;
    out.policy = {
      mode: p.mode,
      ...(p.targets ? { targets: await collectionRefs(store, p.targets) } : {}),
      ...(p.revocationFastPath !== undefined ? { revocation_fast_path: p.revocationFastPath } : {}),
      ...(p.rules
        ? {
            rules: await Promise.all(
              p.rules.map(async (r) => ({
                targets: await collectionRefs(store, r.targets),
                when: {
                  ...(r.when.organisations ? { organisations: r.when.organisations.map((id) => orgs.get(id) ?? id) } : {}),
                  ...(r.when.types ? { types: r.when.types } : {}),
                  ...(r.when.maxTlp ? { max_tlp: r.when.maxTlp } : {}),
                  ...(r.when.noWarnings !== undefined ? { no_warnings: r.when.noWarnings } : {}),
                },
              })),
            ),
          }
        : {}),
    };
  }
  if (rules.release) {
    const r = rules.release;
    out.release = {
      ...(r.allowedMarkings ? { allowed_markings: r.allowedMarkings } : {}),
      ...(r.requiredMarkings ? { required_markings: r.requiredMarkings } : {}),
      ...(r.maxTlp ? { max_tlp: r.maxTlp } : {}),
      ...(r.forbiddenTypes ? { forbidden_types: r.forbiddenTypes } : {}),
      ...(r.requireCreatedByRef !== undefined ? { require_created_by_ref: r.requireCreatedByRef } : {}),
      ...(r.blockingFindings ? { blocking_findings: r.blockingFindings } : {}),
      ...(r.approvalsRequired ? { approvals_required: r.approvalsRequired } : {}),
    };
  }
  return out;
}

/** A queue entry on the wire; vendors see their states and reasons, not who decided. */
export function entryView(e: QueueEntry, organisations: Map<string, OrganisationRecord>, forVendor: boolean) {
  return {
    id: e.id,
    rev: e.rev,
    state: e.state,
    intake: e.intakeId,
    api_root: e.apiRoot,
    object_id: e.objectId,
    object_type: e.objectType,
    ...(e.version !== undefined ? { version: e.version } : {}),
    date_added: formatMicros(e.dateAdded),
    submission: e.submissionId,
    ...(e.organisationId ? { vendor: organisations.get(e.organisationId)?.name ?? e.organisationId } : {}),
    tlp: tlpName(e.tlp),
    revoked: e.revoked,
    findings: e.findings,
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.requestedChanges ? { requested_changes: e.requestedChanges } : {}),
    ...(e.supersededBy ? { superseded_by: e.supersededBy } : {}),
    ...(forVendor ? {} : { approvals: e.approvals.map((a) => ({ target: a.targetId, account: a.accountId, at: formatMicros(a.at) })) }),
    created: formatMicros(e.createdAt),
    updated: formatMicros(e.updatedAt),
  };
}

/** An entry with its object, submission, other versions, publications (with a diff) and references. */
export function entryDetailView(detail: Awaited<ReturnType<DeskService['entry']>>, organisations: Map<string, OrganisationRecord>, forVendor: boolean) {
  const s = detail.submission;
  return {
    ...entryView(detail.entry, organisations, forVendor),
    object: detail.object,
    ...(s ? { submission_status: { id: s.id, status: s.status, total_count: s.totalCount, success_count: s.successCount, failure_count: s.failureCount } } : {}),
    other_versions: detail.versions.map((e) => entryView(e, organisations, forVendor)),
    published: detail.published.map((p) => ({
      collection: p.collectionId, ...(p.version ? { version: p.version } : {}), date_added: formatMicros(p.dateAdded), decision: p.decisionId, provenance: p.provenance,
      ...(p.withdrawnAt !== undefined ? { withdrawn: formatMicros(p.withdrawnAt) } : {}), ...('diff' in p && p.diff ? { diff: p.diff } : {}),
    })),
    references: detail.references,
  };
}

/** A queue filter as the curation API and the CLI take it: wire names, vendors by name, intakes as root/alias or id. */
export interface FilterWire {
  intake?: string;
  organisation?: string;
  submission?: string;
  type?: string[];
  finding?: string;
  tlp?: TlpLevel;
  older_than?: string;
  newer_than?: string;
  state?: QueueState[];
  object?: string;
}


function timestamp(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const us = parseMicros(value);
  if (us === undefined) throw new TaxiiError('TAXII_ERR_INVALID', `${what} must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z`);
  return us;
}

/** A queue filter as written (query string or decision body) → the service's, names resolved. */
export async function toFilter(store: Store, w: FilterWire): Promise<QueueFilter> {
  const f: QueueFilter = {};
  if (w.intake !== undefined) f.intake = await intakeId(store, w.intake);
  if (w.organisation !== undefined) {
    const org = await store.getOrganisationByName(w.organisation);
    f.organisation = org?.id ?? `unknown:${w.organisation}`; // an unknown vendor matches nothing
  }
  if (w.submission !== undefined) f.submission = w.submission;
  if (w.type?.length) f.types = w.type;
  if (w.finding !== undefined) f.findingCode = w.finding;
  if (w.tlp !== undefined) f.tlp = TLP_RANK[w.tlp];
  const older = timestamp(w.older_than, 'older_than');
  const newer = timestamp(w.newer_than, 'newer_than');
  if (older !== undefined) f.olderThan = older;
  if (newer !== undefined) f.newerThan = newer;
  if (w.state?.length) f.states = w.state;
  if (w.object !== undefined) f.objectId = w.object;
  return f;
}

/** An intake named as its id, or as root/alias. Unknown ones match nothing (no existence leak). */
async function intakeId(store: Store, ref: string): Promise<string> {
  const slash = ref.indexOf('/');
  if (slash > 0) return (await store.getCollection(ref.slice(0, slash), ref.slice(slash + 1)))?.id ?? `unknown:${ref}`;
  return ref;
}
