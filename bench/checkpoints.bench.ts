/**
 * Durable checkpoint throughput: 100 agents (concurrent async callers) each
 * storing its state and waiting for the acknowledgement, which comes only
 * after the commit. Baselines, measured in the same run on the same payloads:
 * - raw better-sqlite3, one autocommit INSERT per checkpoint (WAL, synchronous=NORMAL);
 * - LangGraph.js `SqliteSaver.put`, with synchronous=NORMAL like ours so both
 *   promise the same durability (its as-shipped FULL is reported too, against
 *   our FULL).
 * Contenders run interleaved, in rounds, on fresh files, so background load on
 * the machine hits them alike; throughput is the median round, latencies are
 * pooled over the rounds. Prints one JSON object. Bounded: each run stops at
 * its put count or its time budget.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type { Checkpoint } from '@langchain/langgraph-checkpoint';
import { SqliteCheckpointStore } from '../runtime/state/SqliteCheckpointStore.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const AGENTS = 100;
const ROUNDS = 3;
const BUDGET_MS = 3_000;
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

/** `AGENTS` concurrent loops of awaited puts, until `total` puts or the budget. */
async function run(total: number, put: Put): Promise<Run> {
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
  const ours: Run[] = [];
  const raw: Run[] = [];
  const saver: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    raw.push(rawSingleRow(putsPerRound));
    saver.push(await sqliteSaver(putsPerRound, 'NORMAL'));
    ours.push(await faultline(putsPerRound));
  }
  const f = report(ours);
  const rw = report(raw);
  const sv = report(saver);
  const extraPuts = Math.min(putsPerRound, 4_000);
  const saverFull = report([await sqliteSaver(extraPuts, 'FULL')]);
  const oursFull = report([await faultline(extraPuts, { synchronous: 'FULL' })]);
  const oursInline = report([await faultline(extraPuts, { walWorker: false })]);
  results.push({
    stateBytes: bytes,
    faultline: f,
    baselineRawSingleRow: rw,
    baselineSqliteSaver: sv,
    ratioVsSqliteSaver: round(f.putsPerSec / sv.putsPerSec, 2),
    ratioVsRawSingleRow: round(f.putsPerSec / rw.putsPerSec, 2),
    extra: {
      sqliteSaverAsShipped_synchronousFULL: saverFull,
      faultline_synchronousFULL: oursFull,
      ratioFullVsSqliteSaverFull: round(oursFull.putsPerSec / saverFull.putsPerSec, 2),
      faultline_inlineWalCheckpoints: oursInline,
    },
  });
}

const at1k = results[0];
console.log(
  JSON.stringify({
    benchmark: 'checkpoints',
    unit: 'durable puts per second, each acknowledged after its commit; ack latency in ms',
    agents: AGENTS,
    rounds: ROUNDS,
    node: process.version,
    results,
    targets: {
      ratioVsSqliteSaverAt1KB: { target: 5, measured: at1k.ratioVsSqliteSaver, met: at1k.ratioVsSqliteSaver >= 5 },
      ackP99MsAt1KB: { target: 5, measured: at1k.faultline.ackP99Ms, met: at1k.faultline.ackP99Ms <= 5 },
    },
  }),
);

// --- helpers ---
/** The q-quantile (0..1) of a sample, in the sample's unit. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summary(latenciesMs: number[]) {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50Ms: round(quantile(s, 0.5), 3), p99Ms: round(quantile(s, 0.99), 3), maxMs: round(s.at(-1) ?? NaN, 3) };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A temp directory removed when the process exits, also after a crash of the benchmark. */
function benchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A JSON state of about `bytes` bytes, different per agent and step like real states. */
function stateOfSize(bytes: number, agent: number, step: number) {
  const head = { agent, step, note: `agent ${agent} step ${step}` };
  const room = Math.max(0, bytes - JSON.stringify({ ...head, history: [''] }).length);
  return { ...head, history: ['x'.repeat(room)] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
