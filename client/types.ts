// The TAXII 2.1 resources the client reads, as the specification defines them (§4, §5), plus
// Meridian's change feed (docs/changes.md). Properties a server may add pass through untyped.

export type StixObject = { type: string; id: string; spec_version?: string; modified?: string; created?: string } & Record<string, unknown>;

export interface Discovery {
  title: string;
  description?: string;
  contact?: string;
  default?: string;
  api_roots?: string[];
}

export interface ApiRootInfo {
  title: string;
  description?: string;
  versions: string[];
  max_content_length: number;
}

export interface CollectionInfo {
  id: string;
  title: string;
  description?: string;
  alias?: string;
  can_read: boolean;
  can_write: boolean;
  media_types?: string[];
}

export interface ManifestRecord {
  id: string;
  date_added: string;
  version: string;
  media_type?: string;
}

export interface StatusDetail {
  id: string;
  version: string;
  message?: string;
}

export interface Status {
  id: string;
  status: 'complete' | 'pending';
  request_timestamp?: string;
  total_count: number;
  success_count: number;
  successes?: StatusDetail[];
  failure_count: number;
  failures?: StatusDetail[];
  pending_count: number;
  pendings?: StatusDetail[];
}

export type ChangeType = 'object.published' | 'object.updated' | 'object.revoked' | 'object.withdrawn';

export interface ChangeEntry {
  id: string;
  date_added: string;
  type: ChangeType | string;
  object: { type: string; id: string; version?: string };
  actor?: string;
  reason?: string;
  last_version?: string;
}

/** Filters of the paged endpoints (§3.4); lists are sent comma-separated. */
export interface Filters {
  /** RFC 3339; strictly after. */
  addedAfter?: string;
  /** Page size asked for (a server may send fewer). */
  limit?: number;
  id?: string | string[];
  type?: string | string[];
  version?: string | string[];
  specVersion?: string | string[];
  /** Change feed only: change types. */
  changeTypes?: string | string[];
}

/** One page of a paged endpoint, with the headers a cursor needs. */
export interface Page<T> {
  items: T[];
  more: boolean;
  next?: string;
  /** X-TAXII-Date-Added-First / -Last, when the server sent them (some omit them on empty pages). */
  dateAddedFirst?: string;
  dateAddedLast?: string;
}
