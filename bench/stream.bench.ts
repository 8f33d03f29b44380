/**
 * Time to first token of a streamed model call: an agent's
 * `ctx.model('chat').stream()` through `faultline up` (agent process → IPC →
 * runtime → dependency policy → HTTP → the model server, and each delta back
 * across the process boundary) against a direct `fetch` of the same SSE
 * stream from an agent process of the same runtime, in the same run.
 * Target: <= +2 ms at the median.
 *
 * The model server is the mock (runtime/mockModel) in this process, on
 * loopback, with a delay between chunks as a real model has; both contenders
 * read the whole stream and time its first text delta inside the agent.
 * Rounds alternate (the order rotating each round) so that both see the same
 * machine load; each figure is the median over rounds of each round's median.
 *
 *   node --import tsx bench/stream.bench.ts
 */
import { startMockModel } from '../runtime/mockModel/MockModelServer.ts';
import { benchUp, benchWorkspace, print, quantile, round } from './lib.ts';

const N = Number(process.env.STREAMS ?? 300);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const TARGET_MS = 2;

/** Times `open(i)` n times: ms to the first delta and to the end, each stream checked. */
const LOOP = `async function loop(n, open) {
  const first = [], whole = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let t1 = 0, text = '';
    for await (const d of open(i)) {
      if (!t1) t1 = performance.now();
      text += d;
    }
    if (!text.startsWith('echo: stream ' + i)) throw new Error('bad stream: ' + JSON.stringify(text));
    first.push(t1 - t0);
    whole.push(performance.now() - t0);
  }
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const p99 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
  return { first: med(first), firstP99: p99(first), whole: med(whole) };
}
const request = (i) => ({ messages: [{ role: 'user', content: 'stream ' + i + ' of the benchmark, a few words more' }] });`;

const gateway = `${LOOP}
export default {
  onMessage: (m, ctx) => loop(m.n, async function* (i) {
    for await (const c of ctx.model('chat').stream(request(i))) if (!c.done) yield c.delta;
  }),
};`;

/** The same stream read with fetch and a plain SSE parser (what a client without Faultline does). */
const direct = `${LOOP}
export default {
  onMessage: (m) => loop(m.n, async function* (i) {
    const res = await fetch(m.url + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', stream: true, ...request(i) }) });
    if (!res.ok) throw new Error('status ' + res.status);
    const dec = new TextDecoder();
    let buf = '';
    for await (const bytes of res.body) {
      buf += dec.decode(bytes, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\\n\\n')) >= 0) {
        const ev = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        for (const line of ev.split('\\n')) {
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') return;
          const d = JSON.parse(data).choices?.[0]?.delta?.content;
          if (d) yield d;
        }
      }
    }
  }),
};`;

type Round = { first: number; firstP99: number; whole: number };

const mock = await startMockModel({ model: 'mock', chunkDelayMs: 1 });
const dir = benchWorkspace({ 'gateway.mjs': gateway, 'direct.mjs': direct });
const up = await benchUp(dir, {
  runtime: { spares: 0 },
  dependencies: { primary: { kind: 'model', url: mock.url, model: 'mock', timeoutMs: 30_000 } },
  models: { chat: ['primary'] },
  supervisor: {
    id: 'root',
    children: [
      { agent: { id: 'gateway', module: 'agents/gateway.mjs', isolation: 'process' } },
      { agent: { id: 'direct', module: 'agents/direct.mjs', isolation: 'process' } },
    ],
  },
});
const run = (agent: string) => (n: number) => up.client.call('ask', { agent, message: { n, url: mock.url }, timeoutMs: 300_000 }, 310_000) as Promise<Round>;
const contenders: Record<string, (n: number) => Promise<Round>> = { gateway: run('gateway'), direct: run('direct') };
const names = Object.keys(contenders);
const rounds: Record<string, Round[]> = Object.fromEntries(names.map((k) => [k, []]));
const t0 = Date.now();
try {
  for (const name of names) await contenders[name](50); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      rounds[name].push(await contenders[name](N));
    }
  }
} finally {
  await up.close();
  await mock.close();
}

const medianOf = (xs: number[]) => quantile([...xs].sort((x, y) => x - y), 0.5);
const summary = (rs: Round[]) => ({
  firstTokenMs: round(medianOf(rs.map((r) => r.first)), 3),
  firstTokenP99Ms: round(medianOf(rs.map((r) => r.firstP99)), 3),
  wholeStreamMs: round(medianOf(rs.map((r) => r.whole)), 3),
  roundFirstTokenMs: rs.map((r) => round(r.first, 3)),
});
const g = summary(rounds.gateway);
const d = summary(rounds.direct);
const added = round(g.firstTokenMs - d.firstTokenMs, 3);
print({
  benchmark: 'stream-time-to-first-token',
  what: 'Time to the first text delta of a streamed chat (mock model server on loopback, 1 ms between chunks), timed inside an agent process: ctx.model(chain).stream() through the runtime against fetch + an SSE parser on the same server',
  unit: 'ms; median over interleaved rounds of each round’s median',
  streamsPerRound: N,
  rounds: ROUNDS,
  seconds: round((Date.now() - t0) / 1000, 1),
  figure: { gateway: g },
  baseline: { directFetch: d },
  addedFirstTokenMs: added,
  ratio: round(g.firstTokenMs / d.firstTokenMs, 3),
  target: { addedFirstTokenMs: `<= ${TARGET_MS}`, met: added <= TARGET_MS },
  node: process.version,
});
process.exit(0);
