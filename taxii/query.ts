// TAXII 2.1 §3.4 query parameters, parsed once into a typed query. Malformed or
// repeated parameters are 400s; match fields TAXII does not define are ignored (§3.4 "MAY ignore").
import { timestampKey } from 'stix2-validator-ts/timestamp';
import type { VersionMatch } from '../collections/store.js';
import { badFilter } from './errors.js';
import { parseMicros } from './time.js';

/** The endpoints that take filters, and the parameters each accepts (§5.3, §5.4, §5.6, §5.7, §5.8). */
export const ENDPOINT_PARAMETERS = {
  manifest: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  objects: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  object: ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'],
  delete: ['match[version]', 'match[spec_version]'],
  versions: ['added_after', 'limit', 'next', 'match[spec_version]'],
  /** The change feed (an extension: GET …/changes/): `types` are change types, match[type] object types. */
  changes: ['added_after', 'limit', 'next', 'match[type]', 'types'],
} as const;

export type FilteredEndpoint = keyof typeof ENDPOINT_PARAMETERS;

const TAXII_PARAMETERS = new Set<string>([...ENDPOINT_PARAMETERS.objects, ...ENDPOINT_PARAMETERS.changes]);
const CHANGE_TYPE = /^object\.(published|updated|revoked|withdrawn)$/;
const STIX_ID = /^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const STIX_TYPE = /^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$/;
const SPEC_VERSION = /^\d{1,3}\.\d{1,3}$/;
const LIMIT = /^[1-9]\d{0,8}$/;

/** The filters of a request in canonical form: what a `next` token is bound to. */
export interface CanonicalFilters {
  added_after?: number;
  id?: string[];
  type?: string[];
  version?: string[];
  spec_version?: string[];
  /** Change types (change feed only). */
  types?: string[];
}

export interface ParsedQuery {
  filters: CanonicalFilters;
  /** Which parameters the request named (to tell "not given" from "given" when a token is used). */
  given: Set<string>;
  limit?: number;
  next?: string;
}

function list(name: string, value: string, check: RegExp, what: string): string[] {
  const items = value.split(',');
  for (const item of items) {
    if (!check.test(item)) throw badFilter(`${name}: "${item}" is not ${what}`);
  }
  return [...new Set(items)].sort();
}

function parseVersions(value: string): string[] {
  const items = value.split(',');
  if (new Set(items).size !== items.length) throw badFilter('match[version]: a value occurs more than once (§3.4.1)');
  for (const item of items) {
    if (item === 'all' || item === 'first' || item === 'last') continue;
    if (!timestampKey(item)) throw badFilter(`match[version]: "${item}" is neither all, first, last nor a STIX timestamp`);
  }
  if (items.includes('all') && items.length > 1) throw badFilter('match[version]: "all" must not be combined with other values (§3.4.1)');
  // Two spellings of one instant are the same version: compare by key.
  const keys = items.map((i) => (i === 'all' || i === 'first' || i === 'last' ? i : timestampKey(i)!));
  if (new Set(keys).size !== keys.length) throw badFilter('match[version]: a version occurs more than once (§3.4.1)');
  return keys.sort();
}

/**
 * Parses the query string of a filtered endpoint. `entries` are the decoded name/value pairs in
 * request order (URLSearchParams); a repeated parameter is a 400 (§3.4).
 */
export function parseQuery(endpoint: FilteredEndpoint, entries: Iterable<[string, string]>): ParsedQuery {
  const allowed = new Set<string>(ENDPOINT_PARAMETERS[endpoint]);
  const seen = new Map<string, string>();
  for (const [name, value] of entries) {
    if (!TAXII_PARAMETERS.has(name)) continue; // unknown parameters and match fields are ignored
    if (!allowed.has(name)) throw badFilter(`${name} is not a filter of this endpoint`);
    if (seen.has(name)) throw badFilter(`${name} must not occur more than once (§3.4)`);
    seen.set(name, value);
  }
  const filters: CanonicalFilters = {};
  const parsed: ParsedQuery = { filters, given: new Set(seen.keys()) };
  for (const [name, value] of seen) {
    switch (name) {
      case 'added_after': {
        // A "+" of a numeric offset arrives as a space when the client did not percent-encode it.
        const micros = parseMicros(value.replace(' ', '+'));
        if (micros === undefined) throw badFilter(`added_after: "${value}" is not an RFC 3339 timestamp`);
        filters.added_after = micros;
        break;
      }
      case 'limit':
        if (!LIMIT.test(value)) throw badFilter('limit must be a positive integer (§3.4)');
        parsed.limit = Number(value);
        break;
      case 'next':
        if (value === '') throw badFilter('next must not be empty');
        parsed.next = value;
        break;
      case 'match[id]':
        filters.id = list(name, value, STIX_ID, 'a STIX identifier');
        break;
      case 'match[type]':
        filters.type = list(name, value, STIX_TYPE, 'a STIX type');
        break;
      case 'match[version]':
        filters.version = parseVersions(value);
        break;
      case 'match[spec_version]':
        filters.spec_version = list(name, value, SPEC_VERSION, 'a specification version like 2.1');
        break;
      case 'types':
        filters.types = list(name, value, CHANGE_TYPE, 'a change type (object.published, object.updated, object.revoked, object.withdrawn)');
        break;
    }
  }
  return parsed;
}

/** §3.4.1: no match[version] means `last`. */
export function versionMatch(keys: string[] | undefined): VersionMatch {
  if (!keys) return { first: false, last: true, keys: [] };
  if (keys.includes('all')) return { all: true };
  return { first: keys.includes('first'), last: keys.includes('last'), keys: keys.filter((k) => k !== 'first' && k !== 'last') };
}
