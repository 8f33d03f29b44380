/**
 * Durable steps end to end: a runtime started as a user runs it (`faultline
 * up` from the built CLI: logs, metrics and the durable inbox on, the default
 * SQLite store), 50 process-isolated agents whose every message sets a ~1 KB
 * state, awaits `ctx.checkpoint()` and replies. 64 concurrent askers call
 * `ask` over the control channel (a few ws connections), spread over the 50
 * agents; one step is one acknowledged ask, its checkpoint committed before
 * the reply. Baselines, measured in the same run on the same state:
 * - LangGraph.js `SqliteSaver.put` as shipped (WAL, synchronous=FULL), from
 *   64 concurrent loops of awaited puts, as checkpoints.bench.ts does;
 * - the same `SqliteSaver` at synchronous=NORMAL (our default durability);
 * - a whole LangGraph one-node `StateGraph` step with `SqliteSaver`, when
 *   `@langchain/langgraph` is installed (it is not a dependency: skipped then).
 * Rounds alternate between contenders so machine load hits them alike; each
 * throughput is the median round, latencies are pooled over the rounds.
 *
 * With STORE=postgres the runtime keeps its state on a real PostgreSQL server
 * this program starts, and the baseline is LangGraph's `PostgresSaver.put` on
 * the same server (the StateGraph and SqliteSaver runs are skipped).
 *
 * Env: STEPS (measured steps per round, default 20000), ROUNDS (default 3),
 * WARMUP (default 30000), PROFILE_DIR (run the runtime and its agent hosts
 * under the inspector's CPU profiler, bench/cpu-profile.cjs; profiles written there).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type { Checkpoint } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { RuntimeClient } from '../runtime/cli/client.ts';
import { PostgresServer } from '../test/helpers/servers.ts';
import { benchDir, benchUp, benchWorkspace, print, quantile, round, agentSources } from './lib.ts';

const { stepper } = agentSources;

const AGENTS = 50;
const ASKERS = 64;
const CONNECTIONS = 4;
const STEPS = Number(process.env.STEPS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// Each of the 50 agent hosts is its own process with its own JIT: 600 steps each before measuring, so
// the rounds measure optimized code (the peer's put runs in one process and warms up within its own warm-up).
const WARMUP = Number(process.env.WARMUP ?? 30_000);
const PAD = 'x'.repeat(1000);

interface Run {
  perSec: number;
  lat: number[];
}

/** `ASKERS` concurrent loops, each awaiting `step`, until `total` steps are done. */
async function loops(total: number, step: (loop: number, i: number) => Promise<unknown>): Promise<Run> {
  const lat: number[] = [];
  let issued = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: ASKERS }, async (_, loop) => {
      while (issued < total) {
        const i = issued++;
        const t0 = performance.now();
        await step(loop, i);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { perSec: lat.length / ((performance.now() - start) / 1000), lat };
}

const STORE = process.env.STORE === 'postgres' ? 'postgres' : 'sqlite';
const pg = STORE === 'postgres' ? await new PostgresServer().start() : undefined;

async function faultline() {
  const dir = benchWorkspace({ 'stepper.mjs': stepper });
  const children = Array.from({ length: AGENTS }, (_, i) => ({ agent: { id: `a${i}`, module: 'agents/stepper.mjs', isolation: 'process' } }));
  const profiling = process.env.PROFILE_DIR;
  const saved = process.env.NODE_OPTIONS;
  // The runtime and the agent hosts it forks inherit NODE_OPTIONS (this process does not re-read it);
  // --cpu-prof is refused there, so a preload runs the inspector's profiler.
  if (profiling) {
    process.env.PROF_OUT = path.resolve(profiling);
    process.env.NODE_OPTIONS = `${saved ?? ''} --require ${fileURLToPath(new URL('./cpu-profile.cjs', import.meta.url))}`.trim();
  }
  const up = await benchUp(dir, { ...(pg ? { checkpoints: { store: 'postgres', url: pg.url } } : {}), runtime: { spares: 0 }, supervisor: { id: 'root', intensity: 1000, children } });
  if (profiling) {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  const clients = [up.client, ...(await Promise.all(Array.from({ length: CONNECTIONS - 1 }, () => connectTo(dir))))];
  const run = (total: number) =>
    loops(total, (loop, i) => clients[loop % CONNECTIONS].call('ask', { agent: `a${i % AGENTS}`, message: { i }, timeoutMs: 60_000 }, 120_000));
  const close = async () => {
    for (const c of clients.slice(1)) c.close();
    await up.close();
  };
  return { run, close };
}

/** Another control connection to the runtime in `dir`. */
function connectTo(dir: string) {
  return RuntimeClient.connect(JSON.parse(readFileSync(path.join(dir, '.faultline', 'runtime.json'), 'utf8')));
}

const files = benchDir('faultline-bench-steps-');
let fileNo = 0;
const fresh = () => path.join(files, `${++fileNo}.db`);

/** LangGraph's SqliteSaver on a fresh file: `put` of a 1 KB checkpoint per step, one thread per loop. */
async function sqliteSaverPut(total: number, synchronous: 'NORMAL' | 'FULL'): Promise<Run> {
  const db = new Database(fresh());
  const saver = new SqliteSaver(db);
  // SqliteSaver switches the file to WAL on first use and leaves synchronous as it finds it.
  await saver.getTuple({ configurable: { thread_id: 'warm-up' } });
  db.pragma(`synchronous = ${synchronous}`);
  const parent = new Map<number, string>();
  const steps = new Map<number, number>();
  const r = await loops(total, async (loop) => {
    const step = (steps.get(loop) ?? 0) + 1;
    steps.set(loop, step);
    const id = `${String(step).padStart(8, '0')}-${loop}`;
    const checkpoint: Checkpoint = { v: 4, id, ts: new Date().toISOString(), channel_values: { state: { n: step, pad: PAD } }, channel_versions: { state: step }, versions_seen: {} };
    await saver.put({ configurable: { thread_id: `agent-${loop}`, checkpoint_ns: '', checkpoint_id: parent.get(loop) } }, checkpoint, { source: 'loop', step, parents: {} });
    parent.set(loop, id);
  });
  db.close();
  return r;
}

/** LangGraph's PostgresSaver on the same server: `put` of a 1 KB checkpoint per step, one thread per loop. */
async function postgresSaverPut(total: number): Promise<Run> {
  const saver = PostgresSaver.fromConnString(pg!.url, { schema: `lg${++fileNo}` });
  await saver.setup();
  const parent = new Map<number, string>();
  const steps = new Map<number, number>();
  const r = await loops(total, async (loop) => {
    const step = (steps.get(loop) ?? 0) + 1;
    steps.set(loop, step);
    const id = `${String(step).padStart(8, '0')}-${loop}`;
    const checkpoint: Checkpoint = { v: 4, id, ts: new Date().toISOString(), channel_values: { state: { n: step, pad: PAD } }, channel_versions: { state: step }, versions_seen: {} };
    await saver.put({ configurable: { thread_id: `agent-${loop}`, checkpoint_ns: '', checkpoint_id: parent.get(loop) } }, checkpoint, { source: 'loop', step, parents: {} }, { state: step });
    parent.set(loop, id);
  });
  await saver.end();
  return r;
}

/** A one-node LangGraph `StateGraph` compiled with `SqliteSaver`: one `invoke` per step; null when LangGraph is not installed. */
async function stateGraph(): Promise<((total: number) => Promise<Run>) | null> {
  let lg: any;
  try {
    lg = await import('@langchain/langgraph' as string);
  } catch {
    return null;
  }
  return async (total) => {
    const db = new Database(fresh());
    const saver = new SqliteSaver(db);
    const State = lg.Annotation.Root({ n: lg.Annotation(), pad: lg.Annotation() });
    const graph = new lg.StateGraph(State)
      .addNode('step', (s: { n?: number }) => ({ n: (s.n ?? 0) + 1, pad: PAD }))
      .addEdge(lg.START, 'step')
      .addEdge('step', lg.END)
      .compile({ checkpointer: saver });
    const r = await loops(total, (loop) => graph.invoke({}, { configurable: { thread_id: `agent-${loop}` } }));
    db.close();
    return r;
  };
}

function latency(runs: Run[]) {
  const s = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  return { p50Ms: round(quantile(s, 0.5), 2), p99Ms: round(quantile(s, 0.99), 2) };
}
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const perSec = (runs: Run[]) => Math.round(median(runs.map((r) => r.perSec)));

const rt = await faultline();
if (pg) {
  const runs: Record<'steps' | 'saver', Run[]> = { steps: [], saver: [] };
  try {
    await rt.run(WARMUP);
    await postgresSaverPut(WARMUP);
    for (let r = 0; r < ROUNDS; r++) {
      runs.steps.push(await rt.run(STEPS));
      runs.saver.push(await postgresSaverPut(STEPS));
    }
  } finally {
    await rt.close();
    await pg.dispose();
  }
  const steps = { perSec: perSec(runs.steps), ...latency(runs.steps), roundsPerSec: runs.steps.map((r) => Math.round(r.perSec)) };
  const saverPerSec = perSec(runs.saver);
  const ratio = round(steps.perSec / saverPerSec, 2);
  print({
    benchmark: 'steps',
    store: 'postgres',
    unit: 'durable steps per second (ask → handler sets a ~1 KB state → ctx.checkpoint() committed on PostgreSQL → reply), median of rounds; ask latency pooled',
    agents: AGENTS,
    askers: ASKERS,
    connections: CONNECTIONS,
    stepsPerRound: STEPS,
    rounds: ROUNDS,
    node: process.version,
    steps,
    baselines: { postgresSaverPutPerSec: saverPerSec, postgresSaverPut: latency(runs.saver) },
    ratioVsPostgresSaverPut: ratio,
    target: { ratio: 1.5, met: ratio >= 1.5 },
  });
  process.exit(0);
}
const graph = await stateGraph();
const runs: Record<'steps' | 'saverFull' | 'saverNormal' | 'graph', Run[]> = { steps: [], saverFull: [], saverNormal: [], graph: [] };
try {
  await rt.run(WARMUP);
  await sqliteSaverPut(WARMUP, 'NORMAL');
  if (graph) await graph(Math.min(WARMUP, 500));
  for (let r = 0; r < ROUNDS; r++) {
    runs.steps.push(await rt.run(STEPS));
    runs.saverFull.push(await sqliteSaverPut(STEPS, 'FULL'));
    runs.saverNormal.push(await sqliteSaverPut(STEPS, 'NORMAL'));
    if (graph) runs.graph.push(await graph(Math.min(STEPS, 5_000)));
  }
} finally {
  await rt.close();
}

const steps = { perSec: perSec(runs.steps), ...latency(runs.steps), roundsPerSec: runs.steps.map((r) => Math.round(r.perSec)) };
const sqliteSaverPutPerSec = perSec(runs.saverFull);
const ratio = round(steps.perSec / sqliteSaverPutPerSec, 2);
print({
  benchmark: 'steps',
  store: 'sqlite',
  unit: 'durable steps per second (ask → handler sets a ~1 KB state → ctx.checkpoint() committed → reply), median of rounds; ask latency pooled',
  agents: AGENTS,
  askers: ASKERS,
  connections: CONNECTIONS,
  stepsPerRound: STEPS,
  rounds: ROUNDS,
  node: process.version,
  steps,
  baselines: {
    sqliteSaverPutPerSec,
    sqliteSaverPut: { synchronous: 'FULL (as shipped)', ...latency(runs.saverFull) },
    sqliteSaverPutNormalPerSec: perSec(runs.saverNormal),
    langGraphStepPerSec: graph ? perSec(runs.graph) : null,
    ...(graph ? { langGraphStep: latency(runs.graph) } : { langGraphStepSkipped: '@langchain/langgraph is not installed (not a dependency); the StateGraph baseline was not run' }),
  },
  ratioVsSqliteSaverPut: ratio,
  ratioVsSqliteSaverPutNormal: round(steps.perSec / perSec(runs.saverNormal), 2),
  target: { ratio: 1.5, met: ratio >= 1.5 },
});
process.exit(0);
