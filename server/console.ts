// The desk's web console (console/, bundled by `npm run build` into dist/console/) served at
// /console/ as static files, before authentication: the assets hold no data, and every call the
// page makes goes to the public APIs with the signed-in account's Bearer token.
// A strict Content-Security-Policy: scripts, styles and connections from this origin only, no
// inline script or style, no framing; the bundle never needs anything else.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

export const CONSOLE_PATH = '/console';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** dist/console/ of the package this file belongs to (run from server/ by tsx, or from dist/server/). */
export function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'console');
}

export function consoleAssets(dir = defaultConsoleDir()): Router {
  const router = express.Router({ strict: true });
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });
  // Relative asset URLs in index.html need the trailing slash.
  router.get('/', (req, res, next) => {
    if (req.originalUrl.split('?')[0] === CONSOLE_PATH) return res.redirect(301, `${CONSOLE_PATH}/`);
    next();
  });
  router.use(express.static(dir, { index: 'index.html', redirect: false, fallthrough: true, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  router.use((_req, res) => {
    const built = existsSync(path.join(dir, 'index.html'));
    res.status(404).type('text/plain').end(built ? 'Not found.\n' : 'The console is not built: run `npm run build`.\n');
  });
  return router;
}
