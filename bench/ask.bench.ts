/**
 * ask round trip agent → agent through the runtime (A asks B; the runtime
 * routes both ways), against the same four messages relayed by a bare parent
 * with raw `process.send` (A → parent → B → parent → A). Target <= 1.5x.
 *
 * The runtime is `faultline up` from the built CLI, as a user runs it (logs,
 * metrics and the durable inbox on). Rounds alternate between the bare relay
 * and the runtime so that both see the same machine load; each figure is the
 * median over rounds of each round's median.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchUp, benchWorkspace, print, quantile, round, agentSources } from './lib.ts';

const { asker, answerer } = agentSources;

const N = Number(process.env.ASKS ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 11);

type Round = { median: number; p99: number };

/** A runtime with agents a and b under `isolation`; `run(n)` has a ask b n times. */
async function throughRuntime(isolation: 'process' | 'thread') {
  const dir = benchWorkspace({ 'a.mjs': asker, 'b.mjs': answerer });
  const up = await benchUp(dir, {
    runtime: { spares: 0 },
    supervisor: { id: 'root', children: [{ agent: { id: 'a', module: 'agents/a.mjs', isolation } }, { agent: { id: 'b', module: 'agents/b.mjs', isolation } }] },
  });
  const run = (n: number) => up.client.call('ask', { agent: 'a', message: { n }, timeoutMs: 120_000 }) as Promise<Round>;
  return { run, close: up.close };
}

/** The bare relay: two children and a parent forwarding raw messages. */
function bareRelay() {
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
  const run = (n: number) => new Promise<Round>((resolve) => {
    const on = (m: any) => {
      if (m.done) { ca.off('message', on); resolve(m.done); } else cb.send(m);
    };
    ca.on('message', on);
    ca.send({ start: n });
  });
  const close = async () => {
    ca.kill('SIGKILL');
    cb.kill('SIGKILL');
  };
  return { run, close };
}

const medianOf = (xs: number[]) => quantile([...xs].sort((x, y) => x - y), 0.5);
const summary = (rounds: Round[]) => ({
  medianUs: round(medianOf(rounds.map((r) => r.median)), 1),
  p99Us: round(medianOf(rounds.map((r) => r.p99)), 1),
  roundMediansUs: rounds.map((r) => round(r.median, 1)),
});

const contenders = { bare: bareRelay(), process: await throughRuntime('process'), thread: await throughRuntime('thread') };
const rounds: Record<keyof typeof contenders, Round[]> = { bare: [], process: [], thread: [] };
try {
  for (const c of Object.values(contenders)) await c.run(500); // warm-up
  for (let r = 0; r < ROUNDS; r++) for (const [name, c] of Object.entries(contenders)) rounds[name as keyof typeof contenders].push(await c.run(N));
} finally {
  for (const c of Object.values(contenders)) await c.close();
}
const bare = summary(rounds.bare);
const proc = summary(rounds.process);
const thread = summary(rounds.thread);
print({
  benchmark: 'ask-round-trip',
  unit: 'µs per ask, agent → agent; median over interleaved rounds of each round’s median',
  asksPerRound: N,
  rounds: ROUNDS,
  baseline: { rawProcessSendRelay: bare },
  faultline: { process: proc, thread },
  ratios: { processVsRaw: round(proc.medianUs / bare.medianUs), threadVsRaw: round(thread.medianUs / bare.medianUs) },
  target: { processVsRaw: '<= 1.5', met: proc.medianUs / bare.medianUs <= 1.5 },
});
process.exit(0);
