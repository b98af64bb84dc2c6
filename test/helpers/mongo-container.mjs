// A real MongoDB from testcontainers where a container engine answers: a single-node replica set.
// Used once per `npm test` by test/run-all.mjs, and by test/helpers/mongo.ts when a test file is run
// on its own. testcontainers is imported here only, dynamically: 12.x fails at import on Node 20,
// so it stays pinned to 11.14.0, and a checkout without it still runs every test on the stand-in.

// 8.0: the tag the MongoDB module reads to choose mongosh for the replica-set initiation.
export const MONGO_IMAGE = 'mongo:8.0';

/** `{ url, description, stop }` for a started container, or `{ skipped }` saying why there is none. */
export async function containerMongo() {
  let testcontainers;
  let mongodb;
  try {
    testcontainers = await import('testcontainers');
    mongodb = await import('@testcontainers/mongodb');
  } catch (err) {
    return { skipped: `testcontainers cannot be loaded (${err.code ?? err.message})` };
  }
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch (err) {
    return { skipped: `no container engine (${err.message})` };
  }
  try {
    const started = await new mongodb.MongoDBContainer(MONGO_IMAGE).start();
    return {
      // The replica set announces the container's own host name: connect to the mapped port directly.
      url: `${started.getConnectionString()}/?directConnection=true`,
      description: `testcontainers, ${MONGO_IMAGE} single-node replica set`,
      stop: () => started.stop(),
    };
  } catch (err) {
    return { skipped: `a container engine answered but ${MONGO_IMAGE} did not start (${err.message})` };
  }
}
