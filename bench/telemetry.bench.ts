/**
 * What tracing costs an ask round trip agent → agent (A asks B through the
 * runtime, as ask.bench measures it): three runtimes from the built CLI in
 * the same run —
 * - telemetry off (no `telemetry` block, no OTEL_* variables): the baseline;
 * - on without export (`telemetry: { traces: "none", … }`: spans recorded in
 *   the runtime's buffer for `traces` and the dashboard, nothing sent);
 * - on and exporting traces, logs and metrics over OTLP/HTTP protobuf to a
 *   receiver on loopback in this process (which reads every request whole).
 * Each round starts the three afresh, one at a time, and runs each alone
 * (the order rotating), so that machine load favours none; each figure is the median
 * over rounds of each round's median, and the paired ratio the median of
 * the rounds' ratios to that round's `off`.
 * Pinned (the default; PIN=0 to let the scheduler place them): every
 * process of each runtime — the runtime with its export worker, and both
 * agents — runs on one core, and this process (the receiver, the client) on
 * the other. On this 2-core machine where an instance's three processes
 * happen to land decides its speed more than any setting does (the same
 * config measured 72–208 µs across instances, unpinned); on one core the
 * spread is a few percent, and everything telemetry costs — the export
 * worker and the garbage collector included — is in the round trip rather
 * than hidden on an idle core.
 * Beside the latency, the CPU time the runtime and its agent processes spent
 * per ask (from /proc, all their threads, the export worker included): a
 * figure the machine's other load hardly moves.
 * Targets: exporting within 10% of off; off within 2% of no telemetry at all,
 * measured as what its hooks cost a message (each returns at once; timed
 * here, in this process) against the round trip.
 */
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { benchUp, benchWorkspace, print, quantile, round, agentSources } from './lib.ts';

const { asker, answerer } = agentSources;

const N = Number(process.env.ASKS ?? 6000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
/** Asks before the measured ones: the JIT warm, the export worker's modules loaded, the first batches sent. */
const WARMUP = 2000;
const PIN = process.env.PIN !== '0';
if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

/** CPU ms (user + system) of a process and its descendants, all threads, from /proc. */
function treeCpuMs(pid: number): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let ms = 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ms += (Number(f[11]) + Number(f[12])) * tick;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) ms += treeCpuMs(Number(c));
    }
  } catch {
    // a process that just ended
  }
  return ms;
}

let received = { requests: 0, bytes: 0 };
const sink = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (d: Buffer) => (n += d.length));
  req.on('end', () => {
    received = { requests: received.requests + 1, bytes: received.bytes + n };
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
const endpoint = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;

async function runtime(telemetry: Record<string, unknown> | undefined) {
  const dir = benchWorkspace({ 'a.mjs': asker, 'b.mjs': answerer });
  const up = await benchUp(dir, {
    runtime: { spares: 0 },
    ...(telemetry ? { telemetry } : {}),
    supervisor: { id: 'root', children: [{ agent: { id: 'a', module: 'agents/a.mjs', isolation: 'process' } }, { agent: { id: 'b', module: 'agents/b.mjs', isolation: 'process' } }] },
  }, undefined, PIN ? { cpu: 1 } : {});
  return {
    run: async (n: number) => {
      const cpu0 = treeCpuMs(up.pid);
      const r = (await up.client.call('ask', { agent: 'a', message: { n }, timeoutMs: 600_000 }, 700_000)) as { median: number; p99: number };
      return { ...r, cpuUs: ((treeCpuMs(up.pid) - cpu0) * 1000) / n };
    },
    close: () => up.close(),
  };
}

const configs = {
  off: undefined,
  buffered: { traces: 'none', logs: 'none', metrics: 'none' },
  exporting: { endpoint },
} as const;
type Name = keyof typeof configs;
const names = Object.keys(configs) as Name[];
const rounds: Record<Name, { median: number; p99: number; cpuUs: number }[]> = { off: [], buffered: [], exporting: [] };
try {
  for (let r = 0; r < ROUNDS; r++) {
    // A fresh runtime for each config every round, alone on its core while it is measured.
    const order = names.slice(r % 3).concat(names.slice(0, r % 3));
    for (const k of order) {
      const rt = await runtime(configs[k]);
      try {
        await rt.run(WARMUP);
        rounds[k].push(await rt.run(N));
      } finally {
        await rt.close();
      }
    }
  }
} finally {
  sink.close();
}
// What telemetry off adds to a message: its hooks, each returning at once (measured in this process, same code).
const { Telemetry } = await import('../runtime/observability/telemetry.ts');
const hooks = () => {
  const t = Telemetry.off;
  const N_HOOKS = 2_000_000;
  const t0 = performance.now();
  for (let i = 0; i < N_HOOKS; i++) {
    t.beginMessage({ agent: 'b', envelopeId: 'e', kind: 'ask', delivery: 1 });
    t.traceparentOf('a');
    t.messageEvent('e', 'checkpoint', {});
    t.endMessage('e', true);
  }
  return ((performance.now() - t0) * 1e6) / N_HOOKS;
};
hooks();
const hookNs = Math.min(hooks(), hooks(), hooks());

const med = (k: keyof typeof rounds) => quantile(rounds[k].map((x) => x.median).sort((a, b) => a - b), 0.5);
const p99 = (k: keyof typeof rounds) => quantile(rounds[k].map((x) => x.p99).sort((a, b) => a - b), 0.5);
const off = med('off');
const sorted = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const paired = (k: keyof typeof rounds) => round(sorted(rounds[k].map((x, i) => x.median / rounds.off[i].median)), 3);
const cpu = (k: keyof typeof rounds) => sorted(rounds[k].map((x) => x.cpuUs));
// The faster half of the rounds: interference (another tenant of the core, a slow instance) only ever adds time.
const fast = (k: keyof typeof rounds) => quantile(rounds[k].map((x) => x.median).sort((a, b) => a - b), 0.25);
print({
  what: `ask round trip agent → agent (two process agents), µs, median of ${ROUNDS} rounds of ${N} asks`,
  pinned: PIN ? 'each runtime with its agents on core 1, the receiver on core 0' : false,
  baseline: { telemetry: 'off', medianUs: round(off, 1), p25Us: round(fast('off'), 1), p99Us: round(p99('off'), 1), cpuUsPerAsk: round(cpu('off'), 1), offHooksNsPerMessage: round(hookNs, 1), offHooksShareOfRoundTrip: round(hookNs / 1000 / off, 5) },
  buffered: { telemetry: 'on, no export (spans kept for `traces`)', medianUs: round(med('buffered'), 1), p99Us: round(p99('buffered'), 1), ratio: round(med('buffered') / off, 3), pairedRatio: paired('buffered'), p25Us: round(fast('buffered'), 1), p25Ratio: round(fast('buffered') / fast('off'), 3), cpuUsPerAsk: round(cpu('buffered'), 1), cpuRatio: round(cpu('buffered') / cpu('off'), 3) },
  exporting: { telemetry: 'on, exporting traces, logs and metrics over OTLP/HTTP protobuf to a loopback receiver', medianUs: round(med('exporting'), 1), p99Us: round(p99('exporting'), 1), ratio: round(med('exporting') / off, 3), pairedRatio: paired('exporting'), p25Us: round(fast('exporting'), 1), p25Ratio: round(fast('exporting') / fast('off'), 3), cpuUsPerAsk: round(cpu('exporting'), 1), cpuRatio: round(cpu('exporting') / cpu('off'), 3), received },
  roundMediansUs: Object.fromEntries(names.map((k) => [k, rounds[k].map((x) => round(x.median, 1))])),
  target: 'exporting <= 1.10x off (pairedRatio); off: its hooks within 2% of the round trip',
});
