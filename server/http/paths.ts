// Paths as TAXII clients build them (docs/architecture.md §6a): repeated slashes from joining a
// base URL ending in "/" with a path starting with one, and discovery probed at paths other than
// /taxii2/ (TAXII 2.0 servers conventionally answer at /taxii/). Only the path is rewritten; the
// query string is read from the original URL.
import type { Request, RequestHandler } from 'express';
import { TaxiiError } from '../../taxii/errors.js';
import { type FilteredEndpoint, type ParsedQuery, parseQuery } from '../../taxii/query.js';

/** The discovery aliases of the configuration ("taxii,discovery"), as a set of path segments. */
export function discoveryAliases(setting: string): ReadonlySet<string> {
  return new Set(setting.split(',').filter((s) => s !== ''));
}

/** `url` with runs of slashes in its path collapsed and a discovery alias mapped to /taxii2. */
export function canonicalPath(url: string, aliases: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  let path = (q < 0 ? url : url.slice(0, q)).replace(/\/{2,}/g, '/');
  const alias = /^\/([^/]+)(\/?)$/.exec(path);
  if (alias && aliases.has(alias[1]!)) path = `/taxii2${alias[2]!}`;
  return q < 0 ? path : path + url.slice(q);
}

export function canonicalPaths(aliasSetting: string): RequestHandler {
  const aliases = discoveryAliases(aliasSetting);
  return (req, _res, next) => {
    req.url = canonicalPath(req.url, aliases);
    next();
  };
}

/** The decoded query pairs of a request, from its original URL; undefined when they cannot be decoded. */
export function searchParams(req: Pick<Request, 'originalUrl'>): URLSearchParams | undefined {
  const i = req.originalUrl.indexOf('?');
  try {
    return new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i));
  } catch {
    return undefined;
  }
}

/**
 * The TAXII filters of a request, parsed from the decoded pairs in request order so repeats can be
 * told apart (§3.4); parameters named in `ignore` are left out (the TAXII 2.0 view's).
 */
export function taxiiQuery(req: Pick<Request, 'originalUrl'>, endpoint: FilteredEndpoint, ignore?: ReadonlySet<string>): ParsedQuery {
  const params = searchParams(req);
  if (!params) throw new TaxiiError('TAXII_ERR_BAD_FILTER', 'The query string cannot be decoded.');
  return parseQuery(endpoint, ignore ? [...params.entries()].filter(([name]) => !ignore.has(name)) : params.entries());
}
