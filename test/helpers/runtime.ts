/**
 * Test helpers: a throwaway workspace with a config and agents, and a real
 * `faultline up` process started from the built CLI, with a connected client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeClient } from '../../runtime/cli/client.ts';
import type { RuntimeFile } from '../../runtime/protocol/runtimeFile.ts';
import type { AgentStatus, RuntimeStatus } from '../../runtime/protocol/status.ts';
import { agentsOf, findNode } from '../../runtime/protocol/status.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(repoRoot, 'bin', 'faultline.js');
export const fixtures = path.join(repoRoot, 'test', 'fixtures');

/** A temp workspace holding `config` and the fixture agents under agents/. */
export function workspace(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-test-'));
  cpSync(path.join(fixtures, 'agents'), path.join(dir, 'agents'), { recursive: true });
  writeFileSync(path.join(dir, 'faultline.config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return dir;
}

export const probe = (id: string, extra: Record<string, unknown> = {}) => ({ agent: { id, module: 'agents/probe.mjs', ...extra } });

export interface Running {
  dir: string;
  proc: ChildProcess;
  port: number;
  file: RuntimeFile;
  client: RuntimeClient;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  status(): Promise<RuntimeStatus>;
  agent(id: string): Promise<AgentStatus>;
  /** Polls until `check` passes, or fails with the last status after `timeoutMs`. */
  until(check: (s: RuntimeStatus) => boolean, what: string, timeoutMs?: number): Promise<RuntimeStatus>;
  stop(): Promise<void>;
}

/** Runs `faultline <args>` to completion. */
export function cli(args: string[], cwd: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`faultline ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`)); }, timeoutMs);
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

/** Starts `faultline up` in `dir` and connects to it. */
export async function up(dir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<Running> {
  // `wrap`: a command that runs the runtime (in a network namespace: ip netns exec NAME), exec'ing it in its own place.
  const argv = [process.execPath, cliPath, 'up', '--no-live', ...extraArgs];
  const cmd = [...wrap, ...argv];
  const proc = spawn(cmd[0], cmd.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`runtime did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = out.match(/Faultline runtime listening on http:\/\/[^\s/]+:(\d+)/);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => { clearTimeout(t); reject(new Error(`runtime exited before listening:\n${out}`)); });
  });
  const sd = extraArgs.indexOf('--state-dir');
  const stateDir = sd >= 0 ? path.resolve(dir, extraArgs[sd + 1]) : path.join(dir, '.faultline');
  const file = JSON.parse(readFileSync(path.join(stateDir, 'runtime.json'), 'utf8')) as RuntimeFile;
  const client = await RuntimeClient.connect(file);
  const r: Running = {
    dir, proc, port, file, client, exited,
    output: () => out,
    status: () => client.call('status', {}),
    async agent(id) {
      const n = findNode((await r.status()).tree, id);
      if (!n || n.kind !== 'agent') throw new Error(`no agent ${id}`);
      return n;
    },
    async until(check, what, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      let last: RuntimeStatus | undefined;
      while (Date.now() < end) {
        last = await r.status();
        if (check(last)) return last;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`timed out waiting for ${what}; last status:\n${JSON.stringify(last?.tree, null, 1)}\n--- runtime output ---\n${out}`);
    },
    async stop() {
      client.close();
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

/** All agents running with a pid. */
export const allRunning = (s: RuntimeStatus) => agentsOf(s.tree).every((a) => a.state === 'running');
export const stateOf = (s: RuntimeStatus, id: string) => findNode(s.tree, id)?.state;
export const pidOf = (s: RuntimeStatus, id: string) => (findNode(s.tree, id) as AgentStatus | undefined)?.pid ?? null;
