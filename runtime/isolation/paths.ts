/** Where the built runtime files are, whether running from dist/ or from sources. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package root (the folder with faultline's package.json). */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'faultline') return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the faultline package root');
    dir = up;
  }
}

/** The agent host script; run `npm run build` first when working from sources. */
export function hostScript(): string {
  const p = path.join(packageRoot(), 'dist', 'agent-host.js');
  if (!existsSync(p)) throw new Error(`the agent host is not built (${p} is missing): run \`npm run build\``);
  return p;
}

/** The worker that encodes and sends spans over OTLP (dist/otlp-export.js). */
export function exportWorkerScript(): string {
  const p = path.join(packageRoot(), 'dist', 'otlp-export.js');
  if (!existsSync(p)) throw new Error(`the OTLP export worker is not built (${p} is missing): run \`npm run build\``);
  return p;
}

export function runtimeVersion(): string {
  return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
}
