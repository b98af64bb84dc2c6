// Every TAXII 2.1 path in one place, each with its section. A trailing slash is
// optional on requests (express non-strict routing), though §3.1 tells clients to send it.
export const ROUTES = {
  /** §4.1 Server Discovery */
  discovery: '/taxii2',
  /** §4.2 Get API Root Information */
  apiRoot: '/:apiRoot',
  /** §4.3 Get Status */
  status: '/:apiRoot/status/:statusId',
  /** §5.1 Get Collections */
  collections: '/:apiRoot/collections',
  /** §5.2 Get a Collection (by id or alias) */
  collection: '/:apiRoot/collections/:collectionId',
  /** §5.3 Get Object Manifests */
  manifest: '/:apiRoot/collections/:collectionId/manifest',
  /** §5.4 Get Objects, §5.5 Add Objects */
  objects: '/:apiRoot/collections/:collectionId/objects',
  /** §5.6 Get an Object, §5.7 Delete an Object */
  object: '/:apiRoot/collections/:collectionId/objects/:objectId',
  /** §5.8 Get Object Versions */
  versions: '/:apiRoot/collections/:collectionId/objects/:objectId/versions',
  /** The change feed (an extension, docs/changes.md); as text/event-stream, the live stream */
  changes: '/:apiRoot/collections/:collectionId/changes',
} as const;
