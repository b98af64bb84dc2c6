// `next` tokens (TAXII 2.1 §3.4, §3.5; docs/architecture.md §6): opaque to clients, self-contained (they
// carry the filters, so a client may send `next` alone), HMAC-signed, and bound to the endpoint,
// the collection, the object and the caller. Any instance sharing the store's secret accepts them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TaxiiError, badFilter } from './errors.js';
import type { CanonicalFilters, FilteredEndpoint, ParsedQuery } from './query.js';

export interface PagePosition {
  endpoint: FilteredEndpoint;
  collectionId: string;
  objectId?: string;
  accountId: string;
  filters: CanonicalFilters;
  /** date_added (µs) of the last item served: the next page starts after it. */
  after: number;
}

interface TokenBody {
  v: 1;
  e: FilteredEndpoint;
  c: string;
  o?: string;
  a: string;
  f: CanonicalFilters;
  p: number;
}

function invalid(): TaxiiError {
  return new TaxiiError('TAXII_ERR_BAD_NEXT', 'The next token is invalid, was altered, or belongs to another query or caller.');
}

export class PageTokens {
  constructor(private readonly key: Buffer) {}

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  sign(position: PagePosition): string {
    const body: TokenBody = {
      v: 1,
      e: position.endpoint,
      c: position.collectionId,
      ...(position.objectId ? { o: position.objectId } : {}),
      a: position.accountId,
      f: position.filters,
      p: position.after,
    };
    const encoded = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${encoded}.${this.mac(encoded).toString('base64url')}`;
  }

  /** Verifies a token for this endpoint, collection, object and caller; any mismatch is a 400. */
  verify(token: string, expect: Omit<PagePosition, 'filters' | 'after'>): { filters: CanonicalFilters; after: number } {
    const [encoded, mac, extra] = token.split('.');
    if (!encoded || !mac || extra !== undefined || token.length > 16_384) throw invalid();
    const given = Buffer.from(mac, 'base64url');
    const wanted = this.mac(encoded);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw invalid();
    let body: TokenBody;
    try {
      body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as TokenBody;
    } catch {
      throw invalid();
    }
    if (body.v !== 1 || body.e !== expect.endpoint || body.c !== expect.collectionId || body.a !== expect.accountId || (body.o ?? undefined) !== expect.objectId) {
      throw invalid();
    }
    return { filters: body.f, after: body.p };
  }
}

const FILTER_PARAMETERS: Array<[keyof CanonicalFilters, string]> = [
  ['added_after', 'added_after'],
  ['id', 'match[id]'],
  ['type', 'match[type]'],
  ['version', 'match[version]'],
  ['spec_version', 'match[spec_version]'],
  ['types', 'types'],
];

function sameFilter(a: CanonicalFilters[keyof CanonicalFilters], b: CanonicalFilters[keyof CanonicalFilters]): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The filters and position a request continues from: its own parameters, or a `next` token's. A
 * token carries its filters; parameters repeated beside it must equal them (docs/architecture.md §6a).
 */
export function continueFrom(tokens: PageTokens, q: ParsedQuery, expect: Omit<PagePosition, 'filters' | 'after'>): { filters: CanonicalFilters; position?: number } {
  if (q.next === undefined) return { filters: q.filters, ...(q.filters.added_after !== undefined ? { position: q.filters.added_after } : {}) };
  const token = tokens.verify(q.next, expect);
  for (const [key, param] of FILTER_PARAMETERS) {
    if (q.given.has(param) && !sameFilter(q.filters[key], token.filters[key])) throw badFilter(`${param} differs from the query the next token belongs to`);
  }
  return { filters: token.filters, position: token.after };
}
