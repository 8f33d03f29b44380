/**
 * ask round trip agent → agent through the runtime (A asks B; the runtime
 * routes both ways), against the same four messages relayed by a bare parent
 * with raw `process.send` (A → parent → B → parent → A). Target <= 1.5x.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchRuntime, benchWorkspace, print, round } from './lib.ts';

const N = Number(process.env.ASKS ?? 5000);
const ROUNDS = 5;

const asker = `export default {
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
};`;
const answerer = `export default { onMessage: (m) => ({ i: m.i, text: 'pong pong pong pong' }) };`;

async function throughRuntime(isolation: 'process' | 'thread') {
  const dir = benchWorkspace({ 'a.mjs': asker, 'b.mjs': answerer });
  const { rt, close } = await benchRuntime(dir, {
    runtime: { spares: 0 },
    supervisor: { id: 'root', children: [{ agent: { id: 'a', module: 'agents/a.mjs', isolation } }, { agent: { id: 'b', module: 'agents/b.mjs', isolation } }] },
  });
  try {
    await rt.router.ask('a', { n: 500 }, { timeoutMs: 60_000 });
    const runs: { median: number; p99: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) runs.push((await rt.router.ask('a', { n: N }, { timeoutMs: 120_000 })) as { median: number; p99: number });
    return best(runs);
  } finally {
    await close();
  }
}

const best = (runs: { median: number; p99: number }[]) => {
  runs.sort((x, y) => x.median - y.median);
  const m = runs[runs.length >> 1];
  return { medianUs: round(m.median, 1), p99Us: round(m.p99, 1) };
};

/** The bare relay: two children and a parent forwarding raw messages. */
async function bareRelay() {
  const dir = benchWorkspace({});
  const a = path.join(dir, 'a.cjs');
  const b = path.join(dir, 'b.cjs');
  writeFileSync(a, `
    let t0, t = [], n = 0, want = 0;
    process.on('message', (m) => {
      if (m.start) { want = m.start; t = []; n = 0; t0 = process.hrtime.bigint(); process.send({ to: 'b', i: 0, text: 'ping ping ping ping' }); return; }
      t.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (++n === want) { t.sort((x, y) => x - y); process.send({ done: { median: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)] } }); return; }
      t0 = process.hrtime.bigint();
      process.send({ to: 'b', i: n, text: 'ping ping ping ping' });
    });`);
  writeFileSync(b, `process.on('message', (m) => process.send({ to: 'a', i: m.i, text: 'pong pong pong pong' }));`);
  const ca = fork(a, [], { execArgv: [] });
  const cb = fork(b, [], { execArgv: [] });
  cb.on('message', (m) => ca.send(m));
  const run = (n: number) => new Promise<{ median: number; p99: number }>((resolve) => {
    const on = (m: any) => {
      if (m.done) { ca.off('message', on); resolve(m.done); } else cb.send(m);
    };
    ca.on('message', on);
    ca.send({ start: n });
  });
  await run(500);
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await run(N));
  ca.kill('SIGKILL');
  cb.kill('SIGKILL');
  return best(runs);
}

const bare = await bareRelay();
const proc = await throughRuntime('process');
const thread = await throughRuntime('thread');
print({
  benchmark: 'ask-round-trip',
  unit: 'µs per ask, agent → agent, median of the median over rounds',
  asksPerRound: N,
  baseline: { rawProcessSendRelay: bare },
  faultline: { process: proc, thread },
  ratios: { processVsRaw: round(proc.medianUs / bare.medianUs), threadVsRaw: round(thread.medianUs / bare.medianUs) },
  target: { processVsRaw: '<= 1.5', met: proc.medianUs / bare.medianUs <= 1.5 },
});
process.exit(0);
