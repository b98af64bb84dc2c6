#!/usr/bin/env node
// Entry point of the `meridian` CLI: runs the compiled build (`npm run build`, done by `npm ci`).
// publish and poll are clients: their module loads the client and the validator, not the server.
import('../dist/server/commands/remote-cli.js')
  .then(async (remote) => (remote.REMOTE_COMMANDS.includes(process.argv[2]) ? remote : await import('../dist/server/cli.js')).main(process.argv))
  .catch((err) => {
    process.stderr.write(`meridian: ${err && err.code === 'ERR_MODULE_NOT_FOUND' ? 'not built yet — run `npm run build`' : err && err.stack ? err.stack : String(err)}\n`);
    process.exit(2);
  });
