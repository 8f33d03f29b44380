/**
 * The chaos monkey's schedule as a pure function of its inputs: the same
 * seed, interval, duration and target list always give the same kills at the
 * same offsets, so a run that found a bug can be replayed exactly.
 */
import { seededRandom } from '../faults/seededRandom.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { ScheduledKill } from '../protocol/schema/drill.ts';
import type { ScheduledKill } from '../protocol/schema/drill.ts';

export interface ChaosPlan {
  /** Mean time between kills; each gap is drawn uniformly from 0.5x to 1.5x of it. */
  killIntervalMs: number;
  durationMs: number;
  seed: number;
  /** The agents to pick from, in a stable order (the tree's). */
  targets: string[];
}


/** At most this many kills in one run: a typo in the interval must not become a fork bomb. */
export const MAX_KILLS = 10_000;

export function chaosSchedule(p: ChaosPlan): ScheduledKill[] {
  if (!p.targets.length) return [];
  const random = seededRandom(p.seed);
  const out: ScheduledKill[] = [];
  let at = 0;
  while (out.length < MAX_KILLS) {
    at += Math.max(1, Math.round(p.killIntervalMs * (0.5 + random())));
    if (at > p.durationMs) break;
    out.push({ atMs: at, target: p.targets[Math.floor(random() * p.targets.length) % p.targets.length] });
  }
  return out;
}

/** One line per kill, for the terminal and logs: `+1234 ms  kill planner`. */
export function formatSchedule(s: ScheduledKill[]): string[] {
  return s.map((k) => `+${String(k.atMs).padStart(6)} ms  kill ${k.target}`);
}
