/** Small helpers shared by the durable-state benchmarks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The q-quantile (0..1) of a sample, in the sample's unit. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function summary(latenciesMs: number[]) {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50Ms: round(quantile(s, 0.5), 3), p99Ms: round(quantile(s, 0.99), 3), maxMs: round(s.at(-1) ?? NaN, 3) };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A temp directory removed when the process exits, also after a crash of the benchmark. */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A JSON state of about `bytes` bytes, different per agent and step like real states. */
export function stateOfSize(bytes: number, agent: number, step: number) {
  const head = { agent, step, note: `agent ${agent} step ${step}` };
  const room = Math.max(0, bytes - JSON.stringify({ ...head, history: [''] }).length);
  return { ...head, history: ['x'.repeat(room)] };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
