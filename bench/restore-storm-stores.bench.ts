/**
 * Restore storm per store: 100 process-isolated agents, each with a ~1 KB
 * checkpointed state, SIGKILLed at once (`inject kill *`); measured from the
 * kill to the last agent running again with its state restored (the
 * `agent.state` running event follows the restore). The same system runs on
 * SQLite (the default) and on PostgreSQL (a real server this program starts),
 * both `faultline up` from the built CLI; rounds alternate between the two.
 * After each storm every agent's count is read back: it must hold every
 * increment acknowledged before. Target: PostgreSQL all back <= 1.2x SQLite.
 */
import { performance } from 'node:perf_hooks';
import { benchUp, benchWorkspace, print, round, sleep, until } from './lib.ts';
import { PostgresServer } from '../test/helpers/servers.ts';

const N = Number(process.env.AGENTS ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const counter = `export default {
  init: () => ({ count: 0, pad: 'x'.repeat(1000) }),
  async onMessage(m, ctx) {
    if (m?.op === 'count') { ctx.state.count += 1; await ctx.checkpoint(); }
    return { count: ctx.state.count };
  },
};`;
const note = (s: string) => process.stderr.write(`restore-storm-stores: ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function system(checkpoints: Record<string, unknown> | undefined) {
  const dir = benchWorkspace({ 'counter.mjs': counter });
  const children = Array.from({ length: N }, (_, i) => ({ agent: { id: `a${String(i).padStart(3, '0')}`, module: 'agents/counter.mjs', isolation: 'process' } }));
  const up = await benchUp(dir, {
    ...(checkpoints ? { checkpoints } : {}),
    runtime: { askTimeoutMs: 60_000, heartbeat: { intervalMs: 1000, timeoutMs: 60_000 } },
    supervisor: { id: 'root', intensity: 10_000, backoff: { baseMs: 0, maxMs: 0, jitter: 0, resetAfterMs: 0 }, children },
  });
  const { client } = up;
  await client.call('subscribe', { events: ['agent.state'] });
  const ids = children.map((c) => c.agent.id);
  const expected = new Map(ids.map((id) => [id, 0]));
  const ask = (id: string, op: string) => client.call('ask', { agent: id, message: { op }, timeoutMs: 60_000 }, 90_000) as Promise<{ count: number }>;
  const countAll = () => Promise.all(ids.map((id) => ask(id, 'count').then(() => expected.set(id, expected.get(id)! + 1))));
  await countAll();
  return {
    async storm(): Promise<number> {
      await countAll();
      await sleep(1000); // spares refill, as between real incidents
      const running = new Map<string, number>();
      const events = client.onEvent((method, e: { agent: string; state: string }) => {
        if (method === 'agent.state' && e.state === 'running' && !running.has(e.agent)) running.set(e.agent, performance.now());
      });
      const t0 = performance.now();
      const fired = (await client.call('inject', { fault: 'kill', target: '*' })) as { fired?: number };
      if (fired.fired !== N) throw new Error(`killed ${fired.fired} of ${N}`);
      await until(() => running.size === N, `all ${N} running again`, 120_000);
      events.dispose();
      const allMs = Math.max(...running.values()) - t0;
      const read = await Promise.all(ids.map((id) => ask(id, 'read')));
      const wrong = ids.filter((id, i) => read[i].count !== expected.get(id));
      if (wrong.length) throw new Error(`state not restored for ${wrong.length} agents`);
      return allMs;
    },
    close: up.close,
  };
}

const pg = new PostgresServer();
try {
  await pg.start();
  const sqlite = await system(undefined);
  const postgres = await system({ store: 'postgres', url: pg.url });
  await sqlite.storm(); // warm-up: spares, page caches, connections
  await postgres.storm();
  const times = { sqlite: [] as number[], postgres: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    times.sqlite.push(await sqlite.storm());
    times.postgres.push(await postgres.storm());
    note(`round ${r + 1}: all back after sqlite ${round(times.sqlite[r], 0)} ms, postgres ${round(times.postgres[r], 0)} ms`);
  }
  await Promise.all([sqlite.close(), postgres.close()]);
  const s = median(times.sqlite);
  const p = median(times.postgres);
  const ratio = round(p / s, 2);
  print({
    benchmark: `restore storm: ${N} process agents SIGKILLed at once, each restored from its ~1 KB checkpoint`,
    unit: `ms from the kill to the last agent running again with state restored; median of ${ROUNDS} rounds`,
    sqliteMs: round(s, 1),
    postgresMs: round(p, 1),
    rounds: { sqlite: times.sqlite.map((x) => round(x, 1)), postgres: times.postgres.map((x) => round(x, 1)) },
    ratio,
    target: { ratio: 1.2, met: ratio <= 1.2 },
  });
} finally {
  await pg.dispose();
}
