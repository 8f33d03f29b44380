/**
 * Restore latency: `latest(agent)` (read the newest checkpoint, verify its
 * sha256, parse its JSON) against a raw indexed read of the same row on the
 * same file, and a raw read plus JSON.parse to show what verification adds.
 * 100 agents with 20 checkpoints each, per state size. Contenders alternate
 * in rounds. Prints one JSON object.
 */
import { benchDir, quantile, stateOfSize } from './lib.ts';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from '../runtime/state/SqliteCheckpointStore.ts';

const AGENTS = 100;
const PER_AGENT = 20;
const ROUNDS = 3;
const READS_PER_ROUND = 5_000;
const SIZES = [1_024, 10_240, 102_400];
const dir = benchDir('faultline-bench-restore-');

async function time(reads: number, read: (agent: string) => unknown): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < reads; i++) {
    const agent = `agent-${(i * 37) % AGENTS}`;
    const t0 = performance.now();
    await read(agent);
    lat.push(performance.now() - t0);
  }
  return lat;
}

function us(latMs: number[]) {
  const s = [...latMs].sort((a, b) => a - b);
  return { p50Us: round(quantile(s, 0.5) * 1000, 1), p99Us: round(quantile(s, 0.99) * 1000, 1) };
}

const results = [];
for (const bytes of SIZES) {
  const file = path.join(dir, `${bytes}.db`);
  const store = new SqliteCheckpointStore(file, { runtimeVersion: 'bench' });
  for (let step = 0; step < PER_AGENT; step++) {
    await Promise.all(Array.from({ length: AGENTS }, (_, a) => store.put({ agent: `agent-${a}`, version: 1, state: stateOfSize(bytes, a, step) })));
  }
  const raw = new Database(file, { readonly: true });
  const newest = raw.prepare('SELECT payload FROM checkpoints WHERE agent = ? ORDER BY seq DESC LIMIT 1');
  // Sanity: both read the same newest state.
  const check = await store.latest('agent-7');
  if (JSON.stringify(check?.state) !== (newest.get('agent-7') as { payload: string }).payload) throw new Error('contenders disagree on the newest checkpoint');

  const contenders = {
    faultlineLatest: (agent: string) => store.latest(agent),
    rawIndexedRead: (agent: string) => newest.get(agent),
    rawReadAndParse: (agent: string) => JSON.parse((newest.get(agent) as { payload: string }).payload),
  };
  const lat: Record<keyof typeof contenders, number[]> = { faultlineLatest: [], rawIndexedRead: [], rawReadAndParse: [] };
  for (const read of Object.values(contenders)) await time(500, read); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, read] of Object.entries(contenders)) lat[name as keyof typeof contenders].push(...(await time(READS_PER_ROUND, read)));
  }
  const f = us(lat.faultlineLatest);
  const rw = us(lat.rawIndexedRead);
  const rp = us(lat.rawReadAndParse);
  results.push({
    stateBytes: bytes,
    faultlineLatest: f,
    baselineRawIndexedRead: rw,
    rawReadAndParse: rp,
    ratioP50VsRawRead: round(f.p50Us / rw.p50Us, 2),
    ratioP50VsRawReadAndParse: round(f.p50Us / rp.p50Us, 2),
  });
  raw.close();
  await store.close();
}

console.log(
  JSON.stringify({
    benchmark: 'restore',
    unit: 'latency of one restore in µs (latest + verify + parse) vs a raw indexed read; ratio > 1 is the cost of verifying',
    agents: AGENTS,
    checkpointsPerAgent: PER_AGENT,
    readsPerContender: ROUNDS * READS_PER_ROUND,
    node: process.version,
    results,
  }),
);

// --- helpers ---

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}


