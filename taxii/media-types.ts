// TAXII 2.1 §1.6.8 content negotiation: the TAXII media type with an optional version parameter.
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

function parseParams(parts: string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return params;
}

/** Splits a header on commas that are not inside quoted strings. */
function splitList(header: string): string[] {
  return header.match(/(?:[^,"]|"[^"]*")+/g) ?? [];
}

function parseRange(text: string): MediaRange | undefined {
  const [full, ...rest] = text.split(';');
  const [type, subtype] = (full ?? '').trim().toLowerCase().split('/');
  if (!type || !subtype) return undefined;
  const params = parseParams(rest);
  const qText = params.get('q');
  params.delete('q');
  const q = qText === undefined ? 1 : Number(qText);
  return { type, subtype, params, q: Number.isFinite(q) ? q : 0 };
}

/**
 * How specifically this range names the TAXII 2.1 media type: -1 when it does not match it, then
 * 0 for *\/*, 1 for application/*, 2 for application/taxii+json, 3 with version=2.1.
 */
function taxii21Specificity(range: MediaRange): number {
  if (range.type === '*' && range.subtype === '*') return 0;
  if (range.type !== 'application') return -1;
  if (range.subtype === '*') return 1;
  if (range.subtype !== 'taxii+json') return -1;
  const version = range.params.get('version');
  if (version === undefined) return 2;
  return version === '2.1' ? 3 : -1;
}

/**
 * §3.1: a request must accept a TAXII media type. An absent Accept header is taken as "anything"
 * (RFC 7231 §5.3.2); otherwise the most specific range matching TAXII 2.1 decides, so
 * `application/taxii+json;q=0, *\/*` refuses TAXII (RFC 7231 §5.3.2 precedence) → 406.
 */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  let best = -1;
  let q = 0;
  for (const part of splitList(accept)) {
    const range = parseRange(part);
    if (!range) continue;
    const specificity = taxii21Specificity(range);
    if (specificity > best) [best, q] = [specificity, range.q];
    else if (specificity === best && specificity >= 0) q = Math.max(q, range.q);
  }
  return best >= 0 && q > 0;
}

/** §5.5: POST bodies are TAXII envelopes, `application/taxii+json` with version 2.1 or none. */
export function isTaxiiContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const range = parseRange(contentType);
  if (!range || range.type !== 'application' || range.subtype !== 'taxii+json') return false;
  const version = range.params.get('version');
  return version === undefined || version === '2.1';
}

// TAXII 2.0 (CS01 §1.6.8): the read-only 2.0 view answers these; objects come as STIX 2.0 bundles.
export const TAXII20_MEDIA_TYPE = 'application/vnd.oasis.taxii+json; version=2.0';
export const STIX20_MEDIA_TYPE = 'application/vnd.oasis.stix+json; version=2.0';

/** Whether a range names a TAXII 2.0 media type (TAXII or STIX, version 2.0 or none). */
function isTaxii20Range(range: MediaRange): boolean {
  if (range.type !== 'application' || (range.subtype !== 'vnd.oasis.taxii+json' && range.subtype !== 'vnd.oasis.stix+json')) return false;
  const version = range.params.get('version');
  return version === undefined || version === '2.0';
}

/**
 * Whether a request is for the TAXII 2.0 view: its Accept names a TAXII 2.0 media type (q > 0) and
 * does not name TAXII 2.1 itself. Wildcards and absent headers stay TAXII 2.1.
 */
export function wantsTaxii20(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let named20 = false;
  for (const part of splitList(accept)) {
    const range = parseRange(part);
    if (!range || range.q <= 0) continue;
    if (taxii21Specificity(range) >= 2) return false;
    if (isTaxii20Range(range)) named20 = true;
  }
  return named20;
}
