/**
 * Builds the dashboard: dist/dashboard.js (one IIFE bundle, d3-hierarchy
 * inside), dist/dashboard.css, and the codicons stylesheet and font copied to
 * dist/codicons/ (the webview may load nothing from outside the extension).
 * `--watch` rebuilds on change.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const require = createRequire(import.meta.url);
const codicons = path.dirname(require.resolve('@vscode/codicons/dist/codicon.css'));

mkdirSync(path.join(dist, 'codicons'), { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(path.join(codicons, f), path.join(dist, 'codicons', f));

const options = {
  entryPoints: [
    { in: path.join(here, 'src/main.ts'), out: 'dashboard' },
    { in: path.join(here, 'src/styles/dashboard.css'), out: 'dashboard' },
  ],
  outdir: dist,
  bundle: true,
  format: 'iife',
  // The webview runs in VS Code's Chromium (Electron or a browser for code-server): recent syntax is fine.
  target: ['chrome114'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
};

if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('watching webview/src …');
} else {
  await esbuild.build(options);
}
