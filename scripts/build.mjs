// Bundles the runtime (CLI, agent host, SDK, protocol) with esbuild and writes
// the config JSON Schema. Dependencies stay external: they are installed
// packages, and better-sqlite3 is a native module.
import { build } from 'esbuild';
import { mkdir, writeFile, copyFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist');
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
    sdk: path.join(root, 'runtime/sdk.ts'),
    protocol: path.join(root, 'runtime/protocol/index.ts'),
  },
  outdir: out,
});

// Type declarations for the SDK and protocol entry points: re-export the sources'
// types so users get them without a separate declaration build.
await writeFile(path.join(out, 'sdk.d.ts'), "export * from '../runtime/sdk.ts';\n");
await writeFile(path.join(out, 'protocol.d.ts'), "export * from '../runtime/protocol/index.ts';\n");

const { configJsonSchema } = await import(path.join(out, 'cli.js'));
await writeFile(path.join(out, 'faultline.schema.json'), JSON.stringify(configJsonSchema(), null, 2) + '\n');
