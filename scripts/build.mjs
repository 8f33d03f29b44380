// Bundles the runtime (CLI, agent host, SDK, protocol) with esbuild and writes
// the JSON Schemas of the config and of the control protocol. Dependencies
// stay external: they are installed packages, and better-sqlite3 is a native
// module.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: {
    cli: path.join(root, 'runtime/cli/main.ts'),
    'agent-host': path.join(root, 'runtime/isolation/host.ts'),
    'otlp-export': path.join(root, 'runtime/observability/exportWorker.ts'),
    sdk: path.join(root, 'runtime/sdk.ts'),
    machine: path.join(root, 'runtime/machineAgent.ts'),
    'ai-sdk': path.join(root, 'runtime/aiSdk.ts'),
    protocol: path.join(root, 'runtime/protocol/index.ts'),
  },
  outdir: out,
});

// Type declarations come from `tsc -p tsconfig.types.json` (see the build script).
const { configJsonSchema, protocolJsonSchema } = await import(path.join(out, 'cli.js'));
await writeFile(path.join(out, 'faultline.schema.json'), JSON.stringify(configJsonSchema(), null, 2) + '\n');
await writeFile(path.join(out, 'faultline.protocol.schema.json'), JSON.stringify(protocolJsonSchema(), null, 2) + '\n');

// Declarations for the SDK and the protocol; their relative imports point at
// the emitted .d.ts files (through .js specifiers), not at the sources.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
for (const entry of await readdir(path.join(out, 'types'), { recursive: true })) {
  if (!entry.endsWith('.d.ts')) continue;
  const file = path.join(out, 'types', entry);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(/(from '\.{1,2}\/[^']+)\.ts'/g, "$1.js'"));
}
