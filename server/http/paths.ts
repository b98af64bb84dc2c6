// Paths as TAXII clients build them (docs/architecture.md §6a): repeated slashes from joining a
// base URL ending in "/" with a path starting with one, and discovery probed at paths other than
// /taxii2/ (TAXII 2.0 servers conventionally answer at /taxii/). Only the path is rewritten; the
// query string is read from the original URL.
import type { RequestHandler } from 'express';

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
