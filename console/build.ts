// Bundles the console (console/src, Preact + TypeScript) into dist/console/ with esbuild:
// one ES module, one stylesheet and the page, all served by server/console.ts. `npm run build`
// runs it after tsc; the browser tests call buildConsole() so they always test the current source.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONSOLE_OUT = path.join(HERE, '..', 'dist', 'console');

export async function buildConsole(outDir = CONSOLE_OUT): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(HERE, 'src', 'main.tsx')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(HERE, 'tsconfig.json'),
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(path.join(HERE, 'src', file), path.join(outDir, file));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildConsole();
