// The shapes the console reads, as the curation and admin APIs write them (desk/wire.ts,
// server/admin/routes.ts); only the fields the console uses.
export type Tlp = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
export const TLPS: Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
export const QUEUE_STATES = ['pending', 'approved', 'rejected', 'changes_requested', 'superseded'] as const;
export const WITHDRAWAL_REASONS = ['false_positive', 'legal', 'handling_violation', 'vendor_request', 'other'] as const;
export const ROLES = ['admin', 'curator', 'publisher', 'subscriber'] as const;

export interface Me {
  id: string;
  name: string;
  organisation?: string;
  roles: string[];
  curator_roots?: string[];
}

export interface Finding {
  code: string;
  severity: 'error' | 'warning';
  path: string;
  message: string;
}

export interface Entry {
  id: string;
  rev: number;
  state: string;
  intake: string;
  api_root: string;
  object_id: string;
  object_type: string;
  version?: string;
  date_added: string;
  submission: string;
  vendor?: string;
  tlp: Tlp;
  revoked: boolean;
  findings: Finding[];
  reason?: string;
  approvals?: Array<{ target: string; account: string; at: string }>;
  created: string;
  updated: string;
}

export type StixObject = Record<string, unknown> & { id: string; type: string };

export interface EntryDetail extends Entry {
  object: StixObject;
  submission_status?: { id: string; status: string; total_count: number; success_count: number; failure_count: number };
  other_versions: Entry[];
  published: Array<{ collection: string; version?: string; date_added: string; decision: string; withdrawn?: string; diff?: Array<{ path: string; from?: unknown; to?: unknown }> }>;
  references: Array<{ id: string; in_intake: boolean }>;
}

export interface QueuePage {
  more: boolean;
  next?: string;
  entries: Entry[];
}

export interface TargetReport {
  target: string;
  collection: string;
  api_root: string;
  publish: Array<{ id: string; type: string; version?: string; change: string }>;
  awaiting_approval: Array<{ entry: string; approvals: number; required: number }>;
  dangling_refs: string[];
  new_recipients: string[];
  violations: Array<{ entry?: string; object: string; rule?: string; message?: string }>;
}

export interface DecisionResult {
  decision?: string;
  action: string;
  dry_run: boolean;
  entries: number;
  published: number;
  withdrawn: number;
  targets: TargetReport[];
}

export interface Stats {
  queues: Array<{ intake: string; api_root: string; alias?: string; depth: number; age_seconds?: { p50?: number; p95?: number; oldest?: number } }>;
  decisions_per_curator: Array<{ curator: string; decisions: number }>;
  time_to_publish: Array<{ vendor: string | null; publications: number; p50_seconds: number }>;
  /** The window of submissions_per_day, in UTC days ending today. */
  days: number;
  /** Days without submissions are left out. */
  submissions_per_day: Array<{ day: string; vendor: string | null; submissions: number }>;
}

export interface Collection {
  id: string;
  api_root: string;
  title: string;
  alias?: string;
  purpose: 'intake' | 'published';
}

/** A collection's desk rules (GET/PUT /admin/v1/curation/rules/…): an intake's policy or a published collection's release rules. */
export interface RulesWire {
  policy?: {
    mode: 'review' | 'auto-publish';
    targets?: string[];
    revocation_fast_path?: boolean;
    rules?: Array<{ targets: string[]; when?: { organisations?: string[]; types?: string[]; max_tlp?: Tlp; no_warnings?: boolean } }>;
  };
  release?: {
    allowed_markings?: string[];
    required_markings?: string[];
    max_tlp?: Tlp;
    forbidden_types?: string[];
    require_created_by_ref?: boolean;
    blocking_findings?: string[];
    approvals_required?: 1 | 2;
  };
}
