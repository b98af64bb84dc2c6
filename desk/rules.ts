// The desk's rules as pure functions: release rules of a target collection, intake auto-publish
// conditions, the four-eyes count, and what a curator sees of a version's changes. The service
// (service.ts) feeds them records; nothing here reads a store.
import type { PolicyCondition, QueueEntry, ReleaseRules, TlpLevel } from '../collections/store.js';
import { TLP_RANK } from '../collections/store.js';

/** A STIX object as JSON. */
export type StixJson = Record<string, unknown>;

export const TLP_NAMES = Object.keys(TLP_RANK) as TlpLevel[];

export function tlpName(rank: number): TlpLevel {
  return TLP_NAMES[rank] ?? 'clear';
}

/** A release rule an object breaks, named as the rule is configured. */
export interface Violation {
  rule: string;
  message: string;
}

/** What the release rules of one target need to know besides the object. */
export interface TargetFacts {
  /** The target's API root path. */
  apiRoot: string;
  /** Some grant on the target names its subject a TLP:RED recipient. */
  hasRedRecipients: boolean;
}

/**
 * Every release rule of `rules` that publishing `object` (with its queue entry) to the target
 * breaks. TLP:RED goes only to collections with named RED recipients, whatever the rules say.
 */
export function releaseViolations(object: StixJson, entry: Pick<QueueEntry, 'tlp' | 'findings'>, rules: ReleaseRules | undefined, target: TargetFacts): Violation[] {
  const out: Violation[] = [];
  const markings = new Set(Array.isArray(object.object_marking_refs) ? (object.object_marking_refs as unknown[]).filter((m): m is string => typeof m === 'string') : []);
  const type = String(object.type);
  if (entry.tlp >= TLP_RANK.red && !target.hasRedRecipients) {
    out.push({ rule: 'red_recipients', message: `TLP:RED may only be published to a collection whose grants name RED recipients; ${target.apiRoot} has none` });
  }
  if (!rules) return out;
  if (rules.maxTlp && entry.tlp > TLP_RANK[rules.maxTlp]) {
    out.push({ rule: 'max_tlp', message: `the object is TLP:${tlpName(entry.tlp).toUpperCase()}; this collection takes at most TLP:${rules.maxTlp.toUpperCase()}` });
  }
  if (rules.allowedMarkings) {
    const extra = [...markings].filter((m) => !rules.allowedMarkings!.includes(m));
    if (extra.length) out.push({ rule: 'allowed_markings', message: `markings not allowed here: ${extra.join(', ')}` });
  }
  for (const m of rules.requiredMarkings ?? []) {
    if (!markings.has(m)) out.push({ rule: 'required_markings', message: `the object lacks the required marking ${m}` });
  }
  if (rules.forbiddenTypes?.includes(type)) out.push({ rule: 'forbidden_types', message: `objects of type '${type}' may not be published here` });
  if (rules.requireCreatedByRef && typeof object.created_by_ref !== 'string') out.push({ rule: 'require_created_by_ref', message: 'the object has no created_by_ref' });
  const blocking = entry.findings.filter((f) => rules.blockingFindings?.includes(f.code)).map((f) => f.code);
  if (blocking.length) out.push({ rule: 'blocking_findings', message: `the object has findings that block publication here: ${[...new Set(blocking)].join(', ')}` });
  return out;
}

/** Approvals a publication to the target needs (four eyes): 2 by default for global and AMBER+STRICT/RED. */
export function approvalsRequired(rules: ReleaseRules | undefined, apiRoot: string, tlp: number): 1 | 2 {
  if (rules?.approvalsRequired) return rules.approvalsRequired;
  return apiRoot === 'global' || tlp >= TLP_RANK['amber+strict'] ? 2 : 1;
}

/** Does an auto-publish condition cover this entry? */
export function conditionHolds(when: PolicyCondition, entry: Pick<QueueEntry, 'organisationId' | 'objectType' | 'tlp' | 'findings'>): boolean {
  if (when.organisations && !(entry.organisationId && when.organisations.includes(entry.organisationId))) return false;
  if (when.types && !when.types.includes(entry.objectType)) return false;
  if (when.maxTlp && entry.tlp > TLP_RANK[when.maxTlp]) return false;
  if (when.noWarnings && entry.findings.length > 0) return false;
  return true;
}

/** The STIX ids an object references (`*_ref`, `*_refs`, nested too), each once. */
export function referencesOf(object: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if ((key.endsWith('_ref') || key.endsWith('_refs')) && /^[a-z0-9-]+--[0-9a-f-]{36}$/.test(value)) found.add(value);
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, key);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(object, '');
  found.delete(String((object as StixJson | null)?.id));
  return [...found];
}

/** One difference between two versions, as a JSON pointer and both values (absent = undefined). */
export interface Difference {
  path: string;
  from?: unknown;
  to?: unknown;
}

function pointer(parts: string[]): string {
  return parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** What changed from `a` to `b`: objects compared key by key, anything else as a whole. */
export function diff(a: unknown, b: unknown, at: string[] = []): Difference[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => (k in a ? (k in b ? diff(a[k], b[k], [...at, k]) : [{ path: pointer([...at, k]), from: a[k] }]) : [{ path: pointer([...at, k]), to: b[k] }]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: pointer(at), from: a, to: b }];
}
