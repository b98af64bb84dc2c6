// The read-only TAXII 2.0 view (docs/clients.md): requests whose Accept names a TAXII 2.0 media
// type are answered here, on the same paths as TAXII 2.1; everything else passes on. Only GET (and
// HEAD) exist: every other method is a 405 with a TAXII 2.0 error body.
import express, { type Request, type Response } from 'express';
import type { Caller } from '../taxii/access.js';
import { TaxiiError } from '../taxii/errors.js';
import { wantsTaxii20 } from '../taxii/media-types.js';
import type { FilteredEndpoint } from '../taxii/query.js';
import { taxiiQuery } from './http/paths.js';
import type { TaxiiResponse } from '../taxii/service.js';
import { type Taxii20Service, parseItemRange } from '../taxii/taxii20/service.js';
import { ROUTES } from './routes.js';

/** TAXII 2.0 §3.5 filters; 2.1's limit, next and match[spec_version] are not 2.0's and are ignored. */
const NOT_TAXII20 = new Set(['limit', 'next', 'match[spec_version]']);

function queryOf(req: Request, endpoint: FilteredEndpoint) {
  return taxiiQuery(req, endpoint, NOT_TAXII20);
}

function send(res: Response, r: TaxiiResponse): void {
  res.status(r.status);
  for (const [name, value] of Object.entries(r.headers ?? {})) res.setHeader(name, value);
  res.end(JSON.stringify(r.body));
}

/** Marks TAXII 2.0 requests (before authentication, so a 401 is a 2.0 error too). */
export function markTaxii20(): express.RequestHandler {
  return (req, res, next) => {
    res.locals.taxii20 = wantsTaxii20(req.headers.accept);
    next();
  };
}

export function taxii20Routes(service: Taxii20Service, publicBase: (req: Request) => string): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => next(res.locals.taxii20 === true ? undefined : 'router'));
  const caller = (res: Response) => res.locals.caller as Caller;
  const p = (req: Request, name: string) => (typeof req.params[name] === 'string' ? req.params[name] : '');
  const routes: Array<[string, express.RequestHandler]> = [
    [ROUTES.discovery, async (req, res) => send(res, await service.discovery(caller(res), publicBase(req)))],
    [ROUTES.apiRoot, async (req, res) => send(res, await service.apiRoot(caller(res), p(req, 'apiRoot')))],
    [ROUTES.collections, async (req, res) => send(res, await service.collections(caller(res), p(req, 'apiRoot')))],
    [ROUTES.collection, async (req, res) => send(res, await service.collection(caller(res), p(req, 'apiRoot'), p(req, 'collectionId')))],
    [ROUTES.manifest, async (req, res) => send(res, await service.manifest(caller(res), p(req, 'apiRoot'), p(req, 'collectionId'), queryOf(req, 'manifest'), parseItemRange(req.get('Range'))))],
    [ROUTES.objects, async (req, res) => send(res, await service.objects(caller(res), p(req, 'apiRoot'), p(req, 'collectionId'), queryOf(req, 'objects'), parseItemRange(req.get('Range'))))],
    [ROUTES.object, async (req, res) => send(res, await service.object(caller(res), p(req, 'apiRoot'), p(req, 'collectionId'), p(req, 'objectId'), queryOf(req, 'object')))],
  ];
  for (const [path, handler] of routes) {
    router.route(path).get(handler).all((_req, _res, next) => next(new TaxiiError('TAXII_ERR_METHOD_NOT_ALLOWED', 'The TAXII 2.0 view is read-only. Allowed: GET, HEAD.').withHeader('Allow', 'GET, HEAD')));
  }
  router.use((_req, _res, next) => next(new TaxiiError('TAXII_ERR_NOT_FOUND', 'No TAXII 2.0 endpoint at this path.')));
  return router;
}
