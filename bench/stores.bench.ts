/**
 * Checkpoint puts per second and acknowledgement latency at 1 KB and 10 KB,
 * from 100 agents writing at once (each an awaited put after put), per store:
 * SQLite, PostgreSQL and Redis, on real servers this program starts. In the
 * same run, on the same servers, from the same 100 loops:
 * - the raw driver: a single-row autocommit `INSERT` with `pg` (a pool of 8,
 *   as our store uses), a `SET` with ioredis (auto-pipelining on, as ours);
 * - LangGraph.js `PostgresSaver.put` (`@langchain/langgraph-checkpoint-postgres`)
 *   on the same PostgreSQL server, with the same state.
 * Both sides run on PostgreSQL's defaults (fsync on, synchronous_commit on).
 * Rounds alternate between contenders so machine noise hits them alike; the
 * throughput is the median round, latencies are pooled over the rounds.
 * Target: PostgreSQL store >= 5x PostgresSaver.put.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Checkpoint } from '@langchain/langgraph-checkpoint';
import { benchDir, print, round, stateOfSize } from './lib.ts';
import { SqliteCheckpointStore } from '../runtime/state/SqliteCheckpointStore.ts';
import { PostgresCheckpointStore } from '../runtime/state/PostgresCheckpointStore.ts';
import { RedisCheckpointStore } from '../runtime/state/RedisCheckpointStore.ts';
import { PostgresServer, RedisServer } from '../test/helpers/servers.ts';

const AGENTS = 100;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BUDGET_MS = Number(process.env.BUDGET_MS ?? 2_000);
const SIZES = [1_024, 10_240];

v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const dir = benchDir('faultline-bench-stores-');
let ns = 0;

interface Run {
  putsPerSec: number;
  lat: number[];
}
type Put = (agent: number, step: number, state: unknown) => Promise<unknown>;

async function run(bytes: number, put: Put): Promise<Run> {
  collect();
  const lat: number[] = [];
  const start = performance.now();
  const deadline = start + BUDGET_MS;
  await Promise.all(
    Array.from({ length: AGENTS }, async (_, agent) => {
      for (let step = 0; performance.now() < deadline; step++) {
        const state = stateOfSize(bytes, agent, step);
        const t0 = performance.now();
        await put(agent, step, state);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { putsPerSec: lat.length / ((performance.now() - start) / 1000), lat };
}

function report(runs: Run[]) {
  const all = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  const q = (p: number) => round(all[Math.min(all.length - 1, Math.floor(p * all.length))], 2);
  const per = runs.map((r) => r.putsPerSec).sort((a, b) => a - b);
  return { putsPerSec: round(per[per.length >> 1], 0), puts: all.length, ackP50Ms: q(0.5), ackP99Ms: q(0.99) };
}

const pgServer = new PostgresServer();
const redisServer = new RedisServer({ appendfsync: 'everysec' });
try {
  await Promise.all([pgServer.start(), redisServer.start()]);
  const settings = pgServer.psql("SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')");
  const contenders: Record<string, (bytes: number) => Promise<Run>> = {
    sqlite: async (bytes) => {
      const s = new SqliteCheckpointStore(path.join(dir, `${++ns}.db`), { runtimeVersion: 'bench' });
      const r = await run(bytes, (a, _s, state) => s.put({ agent: `agent-${a}`, version: 1, state }));
      await s.close();
      return r;
    },
    postgres: async (bytes) => {
      const s = await PostgresCheckpointStore.open({ url: pgServer.url, schema: `b${++ns}`, runtimeVersion: 'bench' });
      const r = await run(bytes, (a, _s, state) => s.put({ agent: `agent-${a}`, version: 1, state }));
      await s.close();
      return r;
    },
    redis: async (bytes) => {
      const s = await RedisCheckpointStore.open({ url: redisServer.url, prefix: `b${++ns}:`, runtimeVersion: 'bench' });
      const r = await run(bytes, (a, _s, state) => s.put({ agent: `agent-${a}`, version: 1, state }));
      await s.close();
      return r;
    },
    pgRawInsert: async (bytes) => {
      const pool = new pg.Pool({ connectionString: pgServer.url, max: 8 });
      const t = `raw_${++ns}`;
      await pool.query(`CREATE TABLE ${t} (agent text NOT NULL, seq integer NOT NULL, payload text NOT NULL, PRIMARY KEY (agent, seq))`);
      const r = await run(bytes, (a, step, state) => pool.query({ name: `ins_${t}`, text: `INSERT INTO ${t} (agent, seq, payload) VALUES ($1, $2, $3)`, values: [`agent-${a}`, step, JSON.stringify(state)] }));
      await pool.end();
      return r;
    },
    redisRawSet: async (bytes) => {
      const r0 = new Redis(redisServer.url, { enableAutoPipelining: true });
      const p = `raw${++ns}:`;
      const r = await run(bytes, (a, step, state) => r0.set(`${p}agent-${a}:${step}`, JSON.stringify(state)));
      r0.disconnect();
      return r;
    },
    postgresSaverPut: async (bytes) => {
      const saver = PostgresSaver.fromConnString(pgServer.url, { schema: `lg${++ns}` });
      await saver.setup();
      const parent = new Map<number, string>();
      const r = await run(bytes, async (a, step, state) => {
        const id = `${String(step).padStart(8, '0')}-${a}`;
        const checkpoint: Checkpoint = { v: 4, id, ts: new Date().toISOString(), channel_values: { state }, channel_versions: { state: step + 1 }, versions_seen: {} };
        await saver.put({ configurable: { thread_id: `agent-${a}`, checkpoint_ns: '', checkpoint_id: parent.get(a) } }, checkpoint, { source: 'loop', step, parents: {} }, { state: step + 1 });
        parent.set(a, id);
      });
      await saver.end();
      return r;
    },
  };
  const results: Record<string, unknown>[] = [];
  for (const bytes of SIZES) {
    const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
    // Warm-up: JIT, connections, server caches.
    for (const f of Object.values(contenders)) await f(bytes);
    for (let r = 0; r < ROUNDS; r++) for (const [k, f] of Object.entries(contenders)) runs[k].push(await f(bytes));
    const rep = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, report(v)])) as Record<string, ReturnType<typeof report>>;
    const ratio = (a: string, b: string) => round(rep[a].putsPerSec / rep[b].putsPerSec, 2);
    results.push({
      stateBytes: bytes,
      agents: AGENTS,
      sqlite: rep.sqlite,
      postgres: rep.postgres,
      redis: rep.redis,
      baselines: { pgRawInsert: rep.pgRawInsert, redisRawSet: rep.redisRawSet, postgresSaverPut: rep.postgresSaverPut },
      ratios: { postgresVsPostgresSaver: ratio('postgres', 'postgresSaverPut'), postgresVsRawInsert: ratio('postgres', 'pgRawInsert'), redisVsRawSet: ratio('redis', 'redisRawSet') },
      target: { postgresVsPostgresSaver: { ratio: 5, measured: ratio('postgres', 'postgresSaverPut'), met: ratio('postgres', 'postgresSaverPut') >= 5 } },
    });
  }
  print({ benchmark: 'checkpoint store puts, 100 agents at once', postgresSettings: { 'fsync synchronous_commit': settings }, redis: 'appendonly yes, appendfsync everysec', rounds: ROUNDS, budgetMsPerRound: BUDGET_MS, results });
} finally {
  await Promise.allSettled([pgServer.dispose(), redisServer.dispose()]);
}
