// Builds the extension: the activation bundle (dist/extension.js, `vscode`
// external), the lazily loaded call-site parser (dist/callSites.js), the
// integration tests (out/test), and the files the .vsix ships beside the
// code: the config JSON Schema, the runtime (runtime/: the faultline
// package's bin + dist and a package.json, without node_modules), the sample
// system and the dashboard webview (webview/dist). Whatever is shipped is
// built here, and the build fails when any of it is missing (shipped.mjs).
//   node build.mjs [--production] [--watch]
// --production (the package script) rebuilds the runtime from source too; a
// development build reuses the runtime's dist/ when it is there.
import { build, context } from 'esbuild';
import { cp, mkdir, readFile, rm, writeFile, stat, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingIn } from './shipped.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// The runtime's own build writes dist/ (CLI, agent host) and the config schema.
if (production || !existsSync(path.join(root, 'dist', 'cli.js')) || !existsSync(path.join(root, 'dist', 'faultline.schema.json'))) {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
}
// The dashboard: its own build (webview/build.mjs, about a second) writes webview/dist.
execFileSync(process.execPath, [path.join(root, 'webview', 'build.mjs')], { stdio: 'inherit', cwd: path.join(root, 'webview') });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  sourcemap: production ? false : 'linked',
  minify: production,
  // ws's optional native speedups: absent is fine, ws falls back to JS.
  external: ['vscode', 'bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
};

const extension = {
  ...common,
  entryPoints: { extension: path.join(here, 'src/extension.ts'), callSites: path.join(here, 'src/codelens/callSites.ts'), webviewMessages: path.join(here, 'src/dashboard/webviewMessages.ts'), drillValidator: path.join(here, 'src/testing/drillValidator.ts') },
  outdir: path.join(here, 'dist'),
  metafile: true,
};

const testFiles = (await readdir(path.join(here, 'test/integration'))).filter((f) => f.endsWith('.ts'));
const tests = {
  ...common,
  minify: false,
  sourcemap: 'inline',
  entryPoints: Object.fromEntries(testFiles.map((f) => [f.replace(/\.ts$/, ''), path.join(here, 'test/integration', f)])),
  outdir: path.join(here, 'out/test/integration'),
  external: [...common.external, 'mocha'],
};

async function copyAssets() {
  await mkdir(path.join(here, 'schema'), { recursive: true });
  await cp(path.join(root, 'dist', 'faultline.schema.json'), path.join(here, 'schema', 'faultline.schema.json'));

  const rt = path.join(here, 'runtime');
  await rm(rt, { recursive: true, force: true });
  await mkdir(path.join(rt, 'dist'), { recursive: true });
  await cp(path.join(root, 'bin'), path.join(rt, 'bin'), { recursive: true });
  for (const f of ['cli.js', 'agent-host.js', 'sdk.js', 'protocol.js', 'machine.js', 'faultline.schema.json', 'faultline.protocol.schema.json']) await cp(path.join(root, 'dist', f), path.join(rt, 'dist', f));
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  // What `npm install --omit=dev` needs on first start (see src/runtime/bundledInstall.ts).
  // The package's entry points without their type declarations (not shipped): `faultline`, `faultline/protocol`, `faultline/machine`.
  const exportsMap = Object.fromEntries(Object.entries(pkg.exports).map(([k, v]) => [k, typeof v === 'string' ? v : v.import]));
  const runtimePkg = { name: pkg.name, version: pkg.version, private: true, type: pkg.type, bin: pkg.bin, exports: exportsMap, engines: pkg.engines, dependencies: pkg.dependencies, allowScripts: pkg.allowScripts };
  await writeFile(path.join(rt, 'package.json'), JSON.stringify(runtimePkg, null, 2) + '\n');

  const sample = path.join(here, 'sample', 'research-team');
  await rm(path.join(here, 'sample'), { recursive: true, force: true });
  await cp(path.join(root, 'examples', 'research-team'), sample, { recursive: true, filter: (src) => !src.includes(`${path.sep}.faultline`) && !src.includes(`${path.sep}node_modules`) });

  await rm(path.join(here, 'webview'), { recursive: true, force: true });
  await cp(path.join(root, 'webview', 'dist'), path.join(here, 'webview', 'dist'), { recursive: true });
}

/** Ends the build with the list of shipped files that are not there. */
function checkShipped() {
  const missing = missingIn(here);
  if (missing.length) {
    console.error(`extension: the build lacks files the .vsix ships:\n${missing.map((m) => `  ${m}`).join('\n')}`);
    process.exit(1);
  }
}

if (watch) {
  await copyAssets();
  const ctx = await context(extension);
  const tctx = await context(tests);
  await Promise.all([ctx.watch(), tctx.watch()]);
  console.log('watching src/ and test/integration/ …');
} else {
  await rm(path.join(here, 'dist'), { recursive: true, force: true });
  const [result] = await Promise.all([build(extension), build(tests), copyAssets()]);
  checkShipped();
  const size = (await stat(path.join(here, 'dist', 'extension.js'))).size;
  const parser = (await stat(path.join(here, 'dist', 'callSites.js'))).size;
  console.log(`extension: dist/extension.js ${(size / 1024).toFixed(1)} KB (activation path), dist/callSites.js ${(parser / 1024).toFixed(1)} KB (lazy)`);
  if (size > 400 * 1024) {
    console.error('extension: the activation bundle is over 400 KB');
    process.exit(1);
  }
  void result;
}
