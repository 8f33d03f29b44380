/**
 * The bundled runtime ships without node_modules: better-sqlite3 is a native
 * module that must be built for the user's Node (not VS Code's), and esbuild
 * brings a per-platform binary. On first start the bundled package is copied
 * into the extension's global storage and its dependencies are installed there
 * with the user's own npm; a stamp records the Node ABI it was built for, so a
 * Node upgrade triggers a fresh install.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RuntimePackage } from './resolveRuntime.ts';
import type { Log } from '../util/log.ts';

const run = promisify(execFile);

/** The npm beside the chosen node (a version manager's), else npm on PATH. */
export function npmFor(nodePath: string): string {
  if (path.isAbsolute(nodePath)) {
    const beside = path.join(path.dirname(nodePath), process.platform === 'win32' ? 'npm.cmd' : 'npm');
    if (existsSync(beside)) return beside;
  }
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

export async function nodeAbi(nodePath: string): Promise<string> {
  const { stdout } = await run(nodePath, ['-p', 'process.versions.modules + "-" + process.platform + "-" + process.arch'], { timeout: 15_000 });
  return stdout.trim();
}

interface BundledOptions {
  bundled: RuntimePackage;
  storageDir: string;
  nodePath: string;
}

async function installTarget(o: BundledOptions): Promise<{ abi: string; target: string; pkg: RuntimePackage }> {
  const abi = await nodeAbi(o.nodePath);
  const target = path.join(o.storageDir, `runtime-${o.bundled.version}-${abi}`);
  return { abi, target, pkg: { ...o.bundled, dir: target, cli: path.join(target, 'bin', 'faultline.js') } };
}

/** The installed copy of the bundled runtime for this Node, or undefined when it has to be installed first. */
export async function installedBundledRuntime(o: BundledOptions): Promise<RuntimePackage | undefined> {
  const { abi, target, pkg } = await installTarget(o);
  const stamp = path.join(target, '.faultline-installed');
  return existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === abi ? pkg : undefined;
}

/**
 * Copies the bundled runtime into the storage folder and installs its
 * dependencies there. `progress` gets what it is doing: a line per step and
 * one per npm output line.
 */
export async function installBundledRuntime(o: BundledOptions & { log: Log; progress?: (line: string) => void; signal?: AbortSignal }): Promise<RuntimePackage> {
  const { abi, target, pkg } = await installTarget(o);
  const stamp = path.join(target, '.faultline-installed');
  o.log.info(`installing the bundled runtime's dependencies into ${target} with ${npmFor(o.nodePath)} (Node ABI ${abi}); better-sqlite3 may compile from source`);
  o.progress?.('copying the bundled runtime into the extension\'s storage');
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await cp(o.bundled.dir, target, { recursive: true });
  o.progress?.('npm install: better-sqlite3 builds for your Node (a few minutes)');
  await new Promise<void>((resolve, reject) => {
    const env = { ...process.env };
    // npm must build native modules for the runtime's Node, so that Node runs npm.
    if (path.isAbsolute(o.nodePath)) env.PATH = `${path.dirname(o.nodePath)}${path.delimiter}${env.PATH ?? ''}`;
    const child = spawn(npmFor(o.nodePath), ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: target, env, signal: o.signal, shell: process.platform === 'win32' });
    const onData = (d: Buffer) => {
      for (const line of d.toString().split(/\r?\n/)) if (line.trim()) o.progress?.(`npm: ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install for the bundled Faultline runtime failed (exit ${code}); see the Faultline output. Or add faultline to the workspace: npm i -D faultline`))));
  });
  await writeFile(stamp, abi + '\n');
  return pkg;
}
