/**
 * Chat calls per second from 10 concurrent callers to the mock model server
 * (its own process, on 127.0.0.1) through the Gateway, against the same
 * callers posting to it directly with fetch, in the same run. Both parse the
 * whole JSON reply. The agent→runtime IPC hop (~60 µs, see BASELINES.md) is
 * not included: this measures the gateway itself.
 *
 * Prints one JSON object; runs about 20 s.
 *
 *   node --import tsx bench/gateway-throughput.bench.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Gateway } from '../runtime/gateway/Gateway.ts';

const CALLERS = 10;
const SLICE_MS = 1_500;
const ROUNDS = 6;
const WARMUP_MS = 1_000;

const cli = fileURLToPath(new URL('../runtime/mockModel/cli.ts', import.meta.url));
const server = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(cli)}).then((m) => m.runMockModel(['--port', '0', '--json', '--model', 'bench']))`], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const kill = () => server.pid && !server.killed && server.kill('SIGTERM');
process.on('exit', kill);
const [line] = (await Promise.race([once(server.stdout!, 'data'), new Promise((_, r) => setTimeout(() => r(new Error('the mock model did not start')), 15_000))])) as [Buffer];
const { url } = JSON.parse(line.toString()) as { url: string };

const request = { messages: [{ role: 'user' as const, content: 'How many calls per second can you take?' }] };
const gw = new Gateway({ dependencies: { mock: { kind: 'model', url, model: 'bench', timeoutMs: 5_000 } }, models: { chat: ['mock'] }, log: () => undefined });
gw.onEvent(() => undefined);

const variants: Record<string, () => Promise<unknown>> = {
  direct: async () => {
    const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, model: 'bench' }) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const j = (await res.json()) as { choices: { message: { content: string } }[] };
    return j.choices[0].message.content;
  },
  gateway: () => gw.chat('chat', request, { agent: 'bench' }),
};

/** Runs CALLERS loops for `ms`; returns completed calls and errors. */
async function drive(fn: () => Promise<unknown>, ms: number): Promise<{ ok: number; errors: number; seconds: number }> {
  const end = performance.now() + ms;
  let ok = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < end) {
        try {
          await fn();
          ok += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { ok, errors, seconds: (performance.now() - t0) / 1000 };
}

for (const fn of Object.values(variants)) await drive(fn, WARMUP_MS);
const totals: Record<string, { ok: number; errors: number; seconds: number }> = { direct: { ok: 0, errors: 0, seconds: 0 }, gateway: { ok: 0, errors: 0, seconds: 0 } };
for (let r = 0; r < ROUNDS; r++) {
  const names = r % 2 ? ['gateway', 'direct'] : ['direct', 'gateway'];
  for (const n of names) {
    const x = await drive(variants[n], SLICE_MS);
    totals[n].ok += x.ok;
    totals[n].errors += x.errors;
    totals[n].seconds += x.seconds;
  }
}
const rate = (n: string) => Math.round(totals[n].ok / totals[n].seconds);
const direct = rate('direct');
const through = rate('gateway');
console.log(
  JSON.stringify({
    bench: 'gateway-throughput',
    unit: 'chat calls/s, 10 concurrent callers, mock model on 127.0.0.1 in its own process',
    figure: { name: 'through the Gateway', value: through, errors: totals.gateway.errors },
    baseline: { name: 'direct fetch', value: direct, errors: totals.direct.errors },
    ratio: Math.round((through / direct) * 1000) / 1000,
    seconds: Math.round((totals.direct.seconds + totals.gateway.seconds) * 10) / 10,
    node: process.version,
  }),
);
gw.dispose();
kill();
await once(server, 'exit');
process.off('exit', kill);
