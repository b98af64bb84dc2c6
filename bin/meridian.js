#!/usr/bin/env node
// Entry point of the `meridian` CLI: runs the compiled build (`npm run build`, done by `npm ci`).
import('../dist/server/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`meridian: ${err && err.code === 'ERR_MODULE_NOT_FOUND' ? 'not built yet — run `npm run build`' : err && err.stack ? err.stack : String(err)}\n`);
  process.exit(2);
});
