/** Shared pieces of the benchmark programs: statistics, workspaces, an in-process runtime. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeClient } from '../runtime/cli/client.ts';
import { agentsOf } from '../runtime/protocol/status.ts';
import { resolveConfig } from '../runtime/config/load.ts';
import { Runtime } from '../runtime/Runtime.ts';

export function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: round(q(0.5)), p99: round(q(0.99)), min: round(s[0]), max: round(s[s.length - 1]) };
}

export const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
/** Node's own promise timer. */
export { setTimeout as sleep } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A workspace in a temp dir with the given agent sources. */
export function benchWorkspace(agents: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-bench-'));
  mkdirSync(path.join(dir, 'agents'));
  for (const [name, src] of Object.entries(agents)) writeFileSync(path.join(dir, 'agents', name), src);
  return dir;
}

/** Starts a runtime in this process (no runtime.json, logs to the workspace). */
export async function benchRuntime(dir: string, config: Record<string, unknown>) {
  const cfg = resolveConfig({ name: 'bench', ...config }, path.join(dir, 'faultline.config.json'));
  const rt = new Runtime({ config: cfg, stateDir: path.join(dir, '.faultline'), writeRuntimeFile: false });
  await rt.start();
  return {
    rt,
    async close() {
      await rt.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` is true, polling. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** The q-quantile of sorted samples: the runtime's one percentile (nearest rank). */
export { percentile as quantile } from '../runtime/observability/percentiles.ts';

/** A temp directory removed when the process exits, also after a crash of the benchmark. */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A JSON state of about `bytes` bytes, different per agent and step like real states. */
export function stateOfSize(bytes: number, agent: number, step: number) {
  const head = { agent, step, note: `agent ${agent} step ${step}` };
  const room = Math.max(0, bytes - JSON.stringify({ ...head, history: [''] }).length);
  return { ...head, history: ['x'.repeat(room)] };
}

export function print(result: unknown) {
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/**
 * Starts `faultline up` from the built CLI in `dir` (as a user runs it), with
 * `config` written to faultline.config.json; resolves once every agent runs.
 */
export async function benchUp(dir: string, config: Record<string, unknown>, bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'faultline.js'), o: { cpu?: number } = {}) {
  writeFileSync(path.join(dir, 'faultline.config.json'), JSON.stringify({ name: 'bench', ...config }));
  // `cpu`: the runtime and every process it starts on that one core (taskset execs, so the pid is the runtime's).
  const [cmd, args] = o.cpu === undefined ? [process.execPath, [bin, 'up', '--no-live']] : ['taskset', ['-c', String(o.cpu), process.execPath, bin, 'up', '--no-live']];
  const proc = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  await until(() => /listening on/.test(out) || proc.exitCode !== null, 'faultline up to listen');
  if (proc.exitCode !== null) throw new Error(`faultline up exited:\n${out}`);
  const client = await RuntimeClient.connect(JSON.parse(readFileSync(path.join(dir, '.faultline', 'runtime.json'), 'utf8')));
  for (;;) {
    const agents = agentsOf((await client.call('status', {})).tree);
    if (agents.every((a) => a.state === 'running')) break;
    await sleep(20);
  }
  return {
    client,
    pid: proc.pid!,
    async close() {
      client.close();
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Agent sources the benchmarks share. `asker`: asks agent `b` `m.n` times and
 * answers the median and p99 round trip in µs, measured inside the agent;
 * `answerer`: b's reply; `stepper`: a durable step (a ~1 KB state, awaited
 * `ctx.checkpoint()`, then the reply).
 */
export const agentSources = {
  asker: `export default {
  async onMessage(m, ctx) {
    const t = [];
    for (let i = 0; i < m.n; i++) {
      const t0 = process.hrtime.bigint();
      await ctx.ask('b', { i, text: 'ping ping ping ping' }, { timeoutMs: 5000 });
      t.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    t.sort((a, b) => a - b);
    return { median: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)] };
  },
};`,
  answerer: `export default { onMessage: (m) => ({ i: m.i, text: 'pong pong pong pong' }) };`,
  stepper: `export default {
  init: () => ({ n: 0, pad: '' }),
  async onMessage(m, ctx) {
    const n = ctx.state.n + 1;
    ctx.state = { n, pad: 'x'.repeat(1000) };
    await ctx.checkpoint();
    return { n, i: m.i };
  },
};`,
};
