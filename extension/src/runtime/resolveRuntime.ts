/**
 * Which Faultline package runs the user's system. In order: the
 * `faultline.runtime.path` setting; the workspace's own `node_modules/faultline`
 * (its version matches the agents' code); the Faultline repository itself when
 * the workspace is inside it; else the runtime bundled beside the extension.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface RuntimePackage {
  kind: 'setting' | 'workspace' | 'bundled';
  /** Folder holding the package's package.json. */
  dir: string;
  /** The CLI entry (`bin/faultline.js`). */
  cli: string;
  version: string;
}

function readPackage(dir: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function asRuntime(kind: RuntimePackage['kind'], dir: string): RuntimePackage | undefined {
  const pkg = readPackage(dir);
  const cli = path.join(dir, 'bin', 'faultline.js');
  // A package without its built dist/ (a fresh clone before `npm run build`) cannot run.
  if (!pkg || pkg.name !== 'faultline' || !existsSync(cli) || !existsSync(path.join(dir, 'dist', 'cli.js'))) return undefined;
  return { kind, dir, cli, version: pkg.version ?? '0.0.0' };
}

/** Looks upward from the config's folder, the way Node resolves `faultline`. */
export function findWorkspaceRuntime(configFile: string): RuntimePackage | undefined {
  let dir = path.dirname(path.resolve(configFile));
  for (;;) {
    const inModules = asRuntime('workspace', path.join(dir, 'node_modules', 'faultline'));
    if (inModules) return inModules;
    const self = asRuntime('workspace', dir);
    if (self) return self;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function resolveRuntime(o: { configFile: string; settingPath?: string; bundledDir: string }): RuntimePackage | undefined {
  if (o.settingPath) {
    const r = asRuntime('setting', path.resolve(path.dirname(o.configFile), o.settingPath));
    if (r) return r;
  }
  return findWorkspaceRuntime(o.configFile) ?? asRuntimeBundled(o.bundledDir);
}

function asRuntimeBundled(dir: string): RuntimePackage | undefined {
  const r = asRuntime('bundled', dir);
  return r;
}
