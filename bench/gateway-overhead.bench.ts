/**
 * Per-call overhead of the gateway's dependency policy (breaker admission,
 * retry loop, per-attempt timeout, classification path, health figures,
 * events and log lines) on an in-process no-op tool, against a bare call and
 * against cockatiel's plain wrap(retry, breaker, timeout), in the same run.
 *
 * Prints one JSON object. Target: <= +12 µs over the bare call at the median.
 * Variants run interleaved in rounds so drift (JIT, GC, frequency) hits all alike.
 *
 *   node --import tsx bench/gateway-overhead.bench.ts
 */
import { ExponentialBackoff, CountBreaker, TimeoutStrategy, circuitBreaker, handleAll, retry, timeout, wrap } from 'cockatiel';
import { Gateway } from '../runtime/gateway/Gateway.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const PER_ROUND = 2_000;
const WARMUP = 30_000;
const TARGET_US = 12;
const DEADLINE = Date.now() + 50_000;

const reply = { ok: true };
const noop = () => Promise.resolve(reply);

// The gateway as the runtime runs it: events subscribed, a log function, the
// default fast profile (30 s attempt timeout, 4 attempts, 20-call window).
const gw = new Gateway({ dependencies: { noop: { kind: 'tool' } }, tools: { noop }, log: () => undefined });
let events = 0;
gw.onEvent(() => void (events += 1));

const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new CountBreaker({ threshold: 0.5, size: 20 }) }),
  timeout(30_000, TimeoutStrategy.Cooperative),
);

const variants: Record<string, () => Promise<unknown>> = {
  bare: () => noop(),
  gateway: () => gw.call('noop', undefined, { agent: 'bench', point: 'noop' }),
  cockatiel: () => cockatiel.execute(() => noop()),
};

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));

async function run(name: string, n: number, record: boolean): Promise<void> {
  const fn = variants[name];
  const out = samples[name];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (record) out.push(dt * 1000);
  }
}

for (const name of Object.keys(variants)) await run(name, WARMUP, false);
let rounds = 0;
for (; rounds < ROUNDS && Date.now() < DEADLINE; rounds++) {
  // Rotate the order each round so none always runs first after a GC.
  const names = Object.keys(variants);
  for (let k = 0; k < names.length; k++) await run(names[(k + rounds) % names.length], PER_ROUND, true);
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { medianUs: round(at(0.5)), p99Us: round(at(0.99)), samples: s.length };
}
const round = (x: number) => Math.round(x * 100) / 100;

const bare = stats(samples.bare);
const policy = stats(samples.gateway);
const plain = stats(samples.cockatiel);
const overhead = round(policy.medianUs - bare.medianUs);
const cockatielOverhead = round(plain.medianUs - bare.medianUs);

console.log(
  JSON.stringify({
    bench: 'gateway-overhead',
    unit: 'µs per call',
    figure: { name: 'gateway policy overhead over a bare call, median', value: overhead, gateway: policy },
    baseline: { bare, cockatiel: { ...plain, overheadMedianUs: cockatielOverhead }, p99OverheadUs: round(policy.p99Us - bare.p99Us) },
    ratio: { overheadVsCockatiel: cockatielOverhead > 0 ? round(overhead / cockatielOverhead) : null, gatewayVsBare: round(policy.medianUs / bare.medianUs) },
    target: { overheadMedianUs: TARGET_US, met: overhead <= TARGET_US },
    rounds,
    eventsPerCall: round(events / (WARMUP + rounds * PER_ROUND)),
    node: process.version,
  }),
);
gw.dispose();
