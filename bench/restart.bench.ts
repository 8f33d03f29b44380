/**
 * Single restart: SIGKILL an agent → it answers an ask again. Process
 * isolation with a warm spare and cold, and thread isolation; against a bare
 * fork → ready of the same host script and against PM2 restarting the same
 * crash, all in this run. Target: warm spare <= 0.25x PM2.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostScript } from '../runtime/isolation/paths.ts';
import { benchRuntime, benchWorkspace, print, round, sleep, stats } from './lib.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const echo = `export default { onMessage: (m) => ({ pid: process.pid, m }) };`;

async function faultlineRestart(isolation: 'process' | 'thread', spares: number) {
  const dir = benchWorkspace({ 'echo.mjs': echo });
  const { rt, close } = await benchRuntime(dir, {
    runtime: { spares, maxConcurrentStarts: 2 },
    supervisor: { id: 'root', intensity: 10_000, backoff: { baseMs: 0, maxMs: 0, jitter: 0, resetAfterMs: 0 }, children: [{ agent: { id: 'a', module: 'agents/echo.mjs', isolation } }] },
  });
  const samples: number[] = [];
  try {
    await rt.router.ask('a', 'warmup', { timeoutMs: 10_000 });
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(spares ? 400 : 50); // let the pool refill its spare, as between real crashes
      const node = rt.agent('a')!;
      const t0 = performance.now();
      if (isolation === 'process') process.kill(node.pid!, 'SIGKILL');
      else node.kill();
      await rt.router.ask('a', i, { timeoutMs: 10_000 });
      samples.push(performance.now() - t0);
    }
  } finally {
    await close();
  }
  return stats(samples);
}

/** Bare: fork the host script and wait for its first IPC message. */
async function bareFork() {
  const script = hostScript();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const child = fork(script, [], { execArgv: [], stdio: 'ignore', env: { ...process.env, FAULTLINE_HOST: '1' } });
    await new Promise((r) => child.once('message', r));
    samples.push(performance.now() - t0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  return stats(samples);
}

/** PM2 restarting an HTTP app after SIGKILL, measured until it answers again. */
async function pm2Restart() {
  const home = mkdtempSync(path.join(tmpdir(), 'faultline-pm2-'));
  process.env.PM2_HOME = home;
  const require = createRequire(import.meta.url);
  const pm2 = require('pm2');
  const app = path.join(home, 'app.cjs');
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(app, `require('http').createServer((q, s) => s.end(String(process.pid))).listen(${port}, '127.0.0.1');`);
  const p = <T>(fn: (cb: (e: Error | null, r?: T) => void) => void) => new Promise<T>((res, rej) => fn((e, r) => (e ? rej(e) : res(r as T))));
  const get = () => new Promise<string | null>((res) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => res(b)); });
    req.on('error', () => res(null));
  });
  const samples: number[] = [];
  let daemonPid: number | undefined;
  try {
    await p((cb) => pm2.connect(cb));
    daemonPid = Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8'));
    await p((cb) => pm2.start({ script: app, name: 'bench', autorestart: true, restart_delay: 0, min_uptime: 0, max_restarts: 100000 }, cb));
    let pid: string | null = null;
    for (let t = 0; t < 500 && !(pid = await get()); t++) await sleep(10);
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(300);
      const t0 = performance.now();
      process.kill(Number(pid), 'SIGKILL');
      let next: string | null = null;
      while (!(next = await get()) || next === pid) await sleep(1);
      samples.push(performance.now() - t0);
      pid = next;
    }
  } finally {
    await p((cb) => pm2.delete('bench', cb)).catch(() => undefined);
    await p((cb) => pm2.killDaemon(cb)).catch(() => undefined);
    pm2.disconnect();
    if (daemonPid) try { process.kill(daemonPid, 'SIGKILL'); } catch { /* already gone */ }
    rmSync(home, { recursive: true, force: true });
  }
  return stats(samples);
}

const bare = await bareFork();
const pm2 = await pm2Restart();
const warm = await faultlineRestart('process', 2);
const cold = await faultlineRestart('process', 0);
const thread = await faultlineRestart('thread', 0);
print({
  benchmark: 'restart',
  unit: 'ms (SIGKILL → agent answers again), median over rounds',
  rounds: ROUNDS,
  baseline: { bareForkToReady: bare, pm2: pm2 },
  faultline: { processWarmSpare: warm, processCold: cold, thread },
  ratios: {
    warmSpareVsPm2: round(warm.median / pm2.median),
    coldVsPm2: round(cold.median / pm2.median),
    coldVsBareFork: round(cold.median / bare.median),
    threadVsPm2: round(thread.median / pm2.median),
  },
  target: { warmSpareVsPm2: '<= 0.25', met: warm.median / pm2.median <= 0.25 },
});
process.exit(0);
