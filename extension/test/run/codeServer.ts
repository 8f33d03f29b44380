/**
 * Starts a real code-server (VS Code 1.139 server + web workbench, from the
 * cache .ci/vscode-setup.sh fills) and drives it with Debian's chromium
 * through playwright-core (../../../shared/REAL-VSCODE.md, sibling of the repo).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, cpSync, symlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { endTree } from './processes.ts';

export const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = path.dirname(extensionDir);
export const outDir = path.join(extensionDir, 'test-output');

const cache = process.env.FAULTLINE_CI_CACHE ?? path.join(os.homedir(), '.cache', 'faultline-ci');
export const node24 = process.env.FAULTLINE_NODE24 ?? path.join(cache, 'bin', 'node');
export const codeServerEntry = process.env.FAULTLINE_CODE_SERVER ?? path.join(cache, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromiumPath = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A copy of the example system with `node_modules/faultline` linked to this repository (built). */
export function exampleWorkspace(name: string): string {
  const ws = path.join(outDir, name, 'research-team');
  rmSync(path.dirname(ws), { recursive: true, force: true });
  cpSync(path.join(repoRoot, 'examples', 'research-team'), ws, { recursive: true, filter: (s) => !s.includes(`${path.sep}.faultline`) });
  mkdirSync(path.join(ws, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, path.join(ws, 'node_modules', 'faultline'), 'dir');
  return ws;
}

export interface CodeServer {
  port: number;
  pid: number;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
  logs: string[];
}

export async function startCodeServer(o: { name: string; workspace: string; extraArgs?: string[]; settings?: Record<string, unknown>; env?: NodeJS.ProcessEnv; vsix?: string }): Promise<CodeServer> {
  if (!existsSync(codeServerEntry)) throw new Error(`code-server is not installed at ${codeServerEntry}: run .ci/vscode-setup.sh first`);
  const dataDir = path.join(outDir, o.name, 'cs');
  rmSync(dataDir, { recursive: true, force: true });
  const userData = path.join(dataDir, 'user-data');
  const exts = path.join(dataDir, 'extensions');
  const home = path.join(dataDir, 'home');
  const tmp = path.join(dataDir, 'tmp');
  for (const d of [path.join(userData, 'User'), exts, home, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'workbench.tips.enabled': false,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      'git.openRepositoryInParentFolders': 'never',
      'remote.autoForwardPorts': false,
      // The runtime runs under the Node that runs these tests (the one better-sqlite3 was built for).
      'faultline.runtime.nodePath': process.execPath,
      ...o.settings,
    }, null, 2),
  );
  if (o.vsix) await installVsix(o.vsix, { userData, exts, home });
  const port = await freePort();
  const args = [codeServerEntry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', exts, ...(o.extraArgs ?? []), o.workspace];
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CACHE_HOME: path.join(home, '.cache'), TMPDIR: tmp, ...o.env };
  const child: ChildProcess = spawn(node24, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.trim()) logs.push(l);
    if (logs.length > 2000) logs.splice(0, logs.length - 2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}): ${logs.slice(-10).join('\n')}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await endTree(child.pid!);
      throw new Error(`code-server did not answer /healthz within 30 s: ${logs.slice(-10).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, pid: child.pid!, url, dataDir, logs, stop: () => endTree(child.pid!) };
}

/** Installs a packaged .vsix into a code-server data dir (a one-shot code-server run). */
export async function installVsix(vsix: string, cs: { userData: string; exts: string; home: string }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(node24, [codeServerEntry, '--user-data-dir', cs.userData, '--extensions-dir', cs.exts, '--install-extension', vsix], { env: { ...process.env, HOME: cs.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--install-extension failed (${code}): ${out}`))));
  });
}

export async function launchChromium(name: string): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = path.join(outDir, name, 'chromium-profile');
  rmSync(profile, { recursive: true, force: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close: () => context.close() };
}
