/**
 * Runs a chaos schedule: at each scheduled offset it kills the scheduled
 * agent through the fault catalogue's `kill` (the same path as `faultline
 * inject kill`), so kills show as fault events and in the metrics.
 */
import { agentsOf, type RuntimeStatus } from '../protocol/status.ts';
import { globMatch } from '../faults/seededRandom.ts';
import { errorType, type RuntimeTarget } from '../drills/RuntimeTarget.ts';
import { chaosSchedule } from './schedule.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { KillOutcome, ChaosReport } from '../protocol/schema/drill.ts';
import type { KillOutcome, ChaosReport } from '../protocol/schema/drill.ts';

export interface ChaosOptions {
  killIntervalMs: number;
  durationMs: number;
  seed: number;
  /** Glob over agent ids (default `*`). */
  targets?: string;
}



export interface ChaosHooks {
  /** Just before a kill goes out (recovery timing starts here). */
  killing?(k: KillOutcome): void;
  /** After the runtime answered the kill. */
  killed?(k: KillOutcome): void;
}

export const CHAOS_LIMITS = { minIntervalMs: 10, maxDurationMs: 3_600_000 } as const;

/** The agents a glob picks, in tree order; throws when none match. */
export function chaosTargets(status: RuntimeStatus, glob = '*'): string[] {
  const ids = agentsOf(status.tree).map((a) => a.id);
  const picked = ids.filter((id) => globMatch(glob, id));
  if (!picked.length) throw new Error(`No agent matches "${glob}" (agents: ${ids.join(', ') || 'none'})`);
  return picked;
}

export class ChaosMonkey {
  readonly report: ChaosReport;
  readonly done: Promise<ChaosReport>;
  private timers: NodeJS.Timeout[] = [];
  private finish!: () => void;
  private startedAt = 0;
  private pending = 0;
  private elapsed = false;
  private finished = false;

  /** Plans the run; `start` carries it out. */
  constructor(private readonly target: RuntimeTarget, o: ChaosOptions, targets: string[], private readonly hooks: ChaosHooks = {}) {
    const schedule = chaosSchedule({ killIntervalMs: o.killIntervalMs, durationMs: o.durationMs, seed: o.seed, targets });
    this.report = { seed: o.seed, killIntervalMs: o.killIntervalMs, durationMs: o.durationMs, targets, schedule, kills: schedule.map((k) => ({ ...k })), stopped: false };
    this.done = new Promise<void>((r) => (this.finish = r)).then(() => {
      this.finished = true;
      return this.report;
    });
  }

  /** Resolves the targets from the runtime's status, then plans. */
  static async plan(target: RuntimeTarget, o: ChaosOptions, hooks?: ChaosHooks): Promise<ChaosMonkey> {
    validateChaos(o);
    const status = (await target.call('status', {})) as RuntimeStatus;
    return new ChaosMonkey(target, o, chaosTargets(status, o.targets), hooks);
  }

  start(): Promise<ChaosReport> {
    this.startedAt = Date.now();
    this.pending = this.report.kills.length;
    for (const k of this.report.kills) {
      this.timers.push(setTimeout(() => void this.kill(k), k.atMs));
    }
    // The run lasts its whole duration, also after the last kill.
    this.timers.push(setTimeout(() => { this.elapsed = true; this.check(); }, this.report.durationMs));
    return this.done;
  }

  private async kill(k: KillOutcome) {
    k.time = Date.now();
    k.firedAtMs = k.time - this.startedAt;
    this.hooks.killing?.(k);
    try {
      const r = (await this.target.call('inject', { fault: 'kill', target: k.target, params: { source: 'chaos', seed: this.report.seed } })) as { id: string; fired?: number };
      k.faultId = r.id;
      k.killed = (r.fired ?? 0) > 0;
    } catch (e) {
      k.killed = false;
      k.error = `${errorType(e)}: ${(e as Error).message}`;
    }
    this.hooks.killed?.(k);
    this.pending--;
    this.check();
  }

  private check() {
    if (this.elapsed && this.pending <= 0) this.finish();
  }

  /** Started and neither finished nor stopped. */
  get running(): boolean {
    return this.startedAt > 0 && !this.finished;
  }

  /** Cancels the kills not yet made. */
  stop(): ChaosReport {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (!this.report.stopped && !this.finished) {
      this.report.stopped = true;
      this.finished = true;
      this.finish();
    }
    return this.report;
  }
}

export function validateChaos(o: ChaosOptions): void {
  const bad = (m: string) => { throw new RangeError(m); };
  if (!Number.isFinite(o.killIntervalMs) || o.killIntervalMs < CHAOS_LIMITS.minIntervalMs) bad(`the kill interval must be at least ${CHAOS_LIMITS.minIntervalMs} ms`);
  if (!Number.isFinite(o.durationMs) || o.durationMs <= 0 || o.durationMs > CHAOS_LIMITS.maxDurationMs) bad(`the duration must be between 1 and ${CHAOS_LIMITS.maxDurationMs} ms`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 32) bad('the seed must be an integer between 0 and 2^32');
}
