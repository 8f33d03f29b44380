/**
 * Memory per agent: RSS of an agent host process (a loaded, idle agent)
 * against a bare forked Node child, and the runtime's RSS growth per
 * thread-isolated agent against a bare worker thread. Target: process
 * isolation <= bare + 8 MiB.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { benchRuntime, benchWorkspace, print, round, sleep } from './lib.ts';

const AGENTS = Number(process.env.AGENTS ?? 10);
const idle = `export default { init: () => ({ n: 0 }), onMessage: (m, ctx) => ({ n: ++ctx.state.n }) };`;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function bareChildren() {
  const dir = benchWorkspace({});
  const script = path.join(dir, 'bare.cjs');
  writeFileSync(script, `process.on('message', (m) => process.send(m)); process.send('ready');`);
  const kids = Array.from({ length: AGENTS }, () => fork(script, [], { execArgv: [], stdio: 'ignore' }));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
  await sleep(1000);
  const rss = kids.map((k) => rssMiB(k.pid!));
  for (const k of kids) k.kill('SIGKILL');
  return median(rss);
}

async function agentProcesses() {
  const dir = benchWorkspace({ 'idle.mjs': idle });
  const children = Array.from({ length: AGENTS }, (_, i) => ({ agent: { id: `a${i}`, module: 'agents/idle.mjs' } }));
  const { rt, close } = await benchRuntime(dir, { runtime: { spares: 0 }, supervisor: { id: 'root', children } });
  try {
    for (let i = 0; i < AGENTS; i++) await rt.router.ask(`a${i}`, {}, { timeoutMs: 10_000 });
    await sleep(1000);
    return median(children.map((_, i) => rssMiB(rt.agent(`a${i}`)!.pid!)));
  } finally {
    await close();
  }
}

/** RSS growth of this process per started thread, measured over AGENTS threads. */
async function threadGrowth(start: () => Promise<() => Promise<void>>) {
  globalThis.gc?.();
  await sleep(300);
  const before = rssMiB(process.pid);
  const stop = await start();
  await sleep(1000);
  const after = rssMiB(process.pid);
  await stop();
  return (after - before) / AGENTS;
}

const bareWorkers = () => threadGrowth(async () => {
  const ws = Array.from({ length: AGENTS }, () => new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m)); require('node:worker_threads').parentPort.postMessage('ready');`, { eval: true, execArgv: [] }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  return async () => { await Promise.all(ws.map((w) => w.terminate())); };
});

const agentThreads = async () => {
  const dir = benchWorkspace({ 'idle.mjs': idle });
  const children = Array.from({ length: AGENTS }, (_, i) => ({ agent: { id: `t${i}`, module: 'agents/idle.mjs', isolation: 'thread' } }));
  // Start the runtime with no agents' threads counted: measure around the tree start.
  let handle: Awaited<ReturnType<typeof benchRuntime>> | undefined;
  const growth = await threadGrowth(async () => {
    handle = await benchRuntime(dir, { runtime: { spares: 0 }, supervisor: { id: 'root', children } });
    for (let i = 0; i < AGENTS; i++) await handle.rt.router.ask(`t${i}`, {}, { timeoutMs: 10_000 });
    return async () => {};
  });
  await handle!.close();
  return growth;
};

const bare = await bareChildren();
const proc = await agentProcesses();
const bareThread = await bareWorkers();
const thread = await agentThreads();
print({
  benchmark: 'memory-per-agent',
  unit: 'MiB RSS per agent (median over agents; threads: runtime RSS growth per thread)',
  agents: AGENTS,
  baseline: { bareForkedChild: round(bare, 1), bareWorkerThread: round(bareThread, 1) },
  faultline: { process: round(proc, 1), thread: round(thread, 1) },
  deltas: { processMinusBare: round(proc - bare, 1), threadMinusBare: round(thread - bareThread, 1) },
  ratios: { processVsBare: round(proc / bare), threadVsBare: round(thread / bareThread) },
  target: { processMinusBare: '<= 8 MiB', met: proc - bare <= 8 },
});
process.exit(0);
