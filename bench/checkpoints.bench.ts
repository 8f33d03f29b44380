/**
 * Durable checkpoint throughput: 100 agents (concurrent async callers) each
 * storing its state and waiting for the acknowledgement, which comes only
 * after the commit. Baselines, measured in the same run on the same payloads:
 * - raw better-sqlite3, one autocommit INSERT per checkpoint (WAL, synchronous=NORMAL);
 * - LangGraph.js `SqliteSaver.put` as shipped (WAL, SQLite's default
 *   synchronous=FULL), the peer figure of BASELINES.md and the target;
 * - the same `SqliteSaver` set to synchronous=NORMAL, our default, so the
 *   ratio at equal durability is on record too (and our FULL against its FULL).
 * Contenders run interleaved, in rounds, on fresh files, so background load on
 * the machine hits them alike; throughput is the median round, latencies are
 * pooled over the rounds. Prints one JSON object. Bounded: each run stops at
 * its put count or its time budget.
 */
import { benchDir, quantile, stateOfSize } from './lib.ts';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type { Checkpoint } from '@langchain/langgraph-checkpoint';
import { SqliteCheckpointStore } from '../runtime/state/SqliteCheckpointStore.ts';

const AGENTS = 100;
const ROUNDS = 3;
const BUDGET_MS = 2_000;
const SIZES = [
  { bytes: 1_024, putsPerRound: 10_000 },
  { bytes: 10_240, putsPerRound: 4_000 },
];
const dir = benchDir('faultline-bench-cp-');
let files = 0;
const fresh = () => path.join(dir, `${++files}.db`);

interface Run {
  putsPerSec: number;
  lat: number[];
}

type Put = (agent: number, step: number, state: unknown) => Promise<unknown>;
// The state size of the section being measured.
let BYTES = 0;

// Every contender shares this process's heap: each run starts from a
// collected one, so that none pays for the garbage another left behind.
v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** `AGENTS` concurrent loops of awaited puts, until `total` puts or the budget. */
async function run(total: number, put: Put): Promise<Run> {
  collect();
  const lat: number[] = [];
  let issued = 0;
  const start = performance.now();
  const deadline = start + BUDGET_MS;
  await Promise.all(
    Array.from({ length: AGENTS }, async (_, agent) => {
      for (let step = 0; issued < total && performance.now() < deadline; step++) {
        issued++;
        const state = stateOfSize(BYTES, agent, step);
        const t0 = performance.now();
        await put(agent, step, state);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { putsPerSec: lat.length / ((performance.now() - start) / 1000), lat };
}

async function faultline(total: number, opts: { synchronous?: 'NORMAL' | 'FULL'; walWorker?: boolean } = {}): Promise<Run> {
  const store = new SqliteCheckpointStore(fresh(), { ...opts, runtimeVersion: 'bench' });
  const r = await run(total, (agent, _step, state) => store.put({ agent: `agent-${agent}`, version: 1, state }));
  await store.close();
  return r;
}

/** The physical baseline: each checkpoint its own autocommit INSERT, serialization included. */
function rawSingleRow(total: number): Run {
  collect();
  const db = new Database(fresh());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE checkpoints (agent TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (agent, seq))');
  const insert = db.prepare('INSERT INTO checkpoints (agent, seq, payload) VALUES (?, ?, ?)');
  const lat: number[] = [];
  const start = performance.now();
  for (let i = 0; i < total && performance.now() - start < BUDGET_MS; i++) {
    const agent = i % AGENTS;
    const step = Math.floor(i / AGENTS);
    const state = stateOfSize(BYTES, agent, step);
    const t0 = performance.now();
    insert.run(`agent-${agent}`, step, JSON.stringify(state));
    lat.push(performance.now() - t0);
  }
  const r = { putsPerSec: lat.length / ((performance.now() - start) / 1000), lat };
  db.close();
  return r;
}

async function sqliteSaver(total: number, synchronous: 'NORMAL' | 'FULL'): Promise<Run> {
  const db = new Database(fresh());
  const saver = new SqliteSaver(db);
  // SqliteSaver switches the file to WAL on first use and leaves synchronous as it finds it.
  await saver.getTuple({ configurable: { thread_id: 'warm-up' } });
  db.pragma(`synchronous = ${synchronous}`);
  const parent = new Map<number, string>();
  const r = await run(total, async (agent, step, state) => {
    const id = `${String(step).padStart(8, '0')}-${agent}`;
    const checkpoint: Checkpoint = { v: 4, id, ts: new Date().toISOString(), channel_values: { state }, channel_versions: { state: step + 1 }, versions_seen: {} };
    await saver.put({ configurable: { thread_id: `agent-${agent}`, checkpoint_ns: '', checkpoint_id: parent.get(agent) } }, checkpoint, { source: 'loop', step, parents: {} });
    parent.set(agent, id);
  });
  db.close();
  return r;
}

function report(runs: Run[]) {
  const s = summary(runs.flatMap((r) => r.lat));
  return { putsPerSec: round(median(runs.map((r) => r.putsPerSec)), 0), puts: runs.reduce((n, r) => n + r.lat.length, 0), ackP50Ms: s.p50Ms, ackP99Ms: s.p99Ms, ackMaxMs: s.maxMs };
}

const results = [];
for (const { bytes, putsPerRound } of SIZES) {
  BYTES = bytes;
  // Warm the JIT and the page cache for every contender before measuring.
  await faultline(1_000);
  rawSingleRow(1_000);
  await sqliteSaver(1_000, 'NORMAL');
  const runs: Record<'ours' | 'raw' | 'saverShipped' | 'saverNormal' | 'oursFull', Run[]> = { ours: [], raw: [], saverShipped: [], saverNormal: [], oursFull: [] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.raw.push(rawSingleRow(putsPerRound));
    runs.saverShipped.push(await sqliteSaver(putsPerRound, 'FULL'));
    runs.saverNormal.push(await sqliteSaver(putsPerRound, 'NORMAL'));
    runs.ours.push(await faultline(putsPerRound));
    runs.oursFull.push(await faultline(putsPerRound, { synchronous: 'FULL' }));
  }
  const ours = report(runs.ours);
  const raw = report(runs.raw);
  const shipped = report(runs.saverShipped);
  const normal = report(runs.saverNormal);
  const oursFull = report(runs.oursFull);
  results.push({
    stateBytes: bytes,
    faultline: ours,
    baselineRawSingleRow: raw,
    baselineSqliteSaverAsShipped: shipped,
    ratioVsSqliteSaverAsShipped: round(ours.putsPerSec / shipped.putsPerSec, 2),
    ratioVsRawSingleRow: round(ours.putsPerSec / raw.putsPerSec, 2),
    sameDurability: {
      sqliteSaverNormal: normal,
      ratioNormalVsSqliteSaverNormal: round(ours.putsPerSec / normal.putsPerSec, 2),
      faultlineFull: oursFull,
      ratioFullVsSqliteSaverFull: round(oursFull.putsPerSec / shipped.putsPerSec, 2),
    },
    faultlineInlineWalCheckpoints: report([await faultline(Math.min(putsPerRound, 4_000), { walWorker: false })]),
  });
}

const at1k = results[0];
console.log(
  JSON.stringify({
    benchmark: 'checkpoints',
    unit: 'durable puts per second, each acknowledged after its commit (median of rounds); ack latency in ms (pooled)',
    agents: AGENTS,
    rounds: ROUNDS,
    node: process.version,
    results,
    targets: {
      ratioVsSqliteSaverAsShippedAt1KB: { target: 5, measured: at1k.ratioVsSqliteSaverAsShipped, met: at1k.ratioVsSqliteSaverAsShipped >= 5 },
      ackP99MsAt1KB: { target: 5, measured: at1k.faultline.ackP99Ms, met: at1k.faultline.ackP99Ms <= 5 },
    },
  }),
);

// --- helpers ---

function summary(latenciesMs: number[]) {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50Ms: round(quantile(s, 0.5), 3), p99Ms: round(quantile(s, 0.99), 3), maxMs: round(s.at(-1) ?? NaN, 3) };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}



function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
