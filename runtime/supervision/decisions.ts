/**
 * The supervisor's decisions as pure functions: which children restart,
 * whether the restart intensity is exceeded, and how long to wait. No
 * processes, no timers: time comes in as `now`.
 */
import type { RestartType, Strategy } from '../protocol/status.ts';
import type { BackoffOptions } from '../config/load.ts';
import { backoffDelay } from '../protocol/backoff.ts';

export interface ExitInfo {
  /** A normal exit: code 0 with no signal, not killed by the runtime for a fault. */
  normal: boolean;
  reason: string;
}

/** OTP's rule: permanent always, transient only after an abnormal exit, temporary never. */
export function shouldRestart(restart: RestartType, exit: ExitInfo): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return !exit.normal;
  return false;
}

export interface ChildRef { id: string; restart: RestartType }

export interface RestartPlan {
  /** Siblings to stop first, in the order to stop them (reverse start order). */
  stop: string[];
  /** Children to start again, in start order (the failed child included). */
  start: string[];
  /** Children taken down that stay down: temporary ones. */
  drop: string[];
}

/**
 * Which children a supervisor restarts when `failedId` exits and is to be
 * restarted. A temporary sibling taken down by the strategy is not restarted.
 */
export function restartPlan(strategy: Strategy, children: readonly ChildRef[], failedId: string): RestartPlan {
  const i = children.findIndex((c) => c.id === failedId);
  if (i < 0) throw new Error(`unknown child ${failedId}`);
  const affected = strategy === 'one_for_one' ? [children[i]] : strategy === 'one_for_all' ? [...children] : children.slice(i);
  const others = affected.filter((c) => c.id !== failedId);
  return {
    stop: others.map((c) => c.id).reverse(),
    start: affected.filter((c) => c.id === failedId || c.restart !== 'temporary').map((c) => c.id),
    drop: others.filter((c) => c.restart === 'temporary').map((c) => c.id),
  };
}

/**
 * Restart intensity: records a restart at `now` in a sliding window and says
 * whether more than `intensity` restarts fell within `periodMs`.
 */
export function recordRestart(history: readonly number[], now: number, intensity: number, periodMs: number, others: readonly number[] = []): { history: number[]; exceeded: boolean } {
  const kept = history.filter((t) => now - t < periodMs);
  kept.push(now);
  // Restarts another node of the cluster made under the same supervisor (the root) count toward the same window.
  return { history: kept, exceeded: kept.length + restartsInWindow(others, now, periodMs) > intensity };
}

/** Restarts within the window at `now`, for the status' intensity meter. */
export function restartsInWindow(history: readonly number[], now: number, periodMs: number): number {
  let n = 0;
  for (const t of history) if (now - t < periodMs) n++;
  return n;
}

/**
 * Delay before restarting a child that crashed at `now` after running since
 * `startedAt`. A child that was stable (up at least `resetAfterMs`) restarts
 * at once and its streak resets; otherwise the delay grows exponentially with
 * the streak of quick crashes, capped, with jitter. `random` is injectable so
 * tests are deterministic.
 */
export function restartDelay(
  streak: number,
  startedAt: number | null,
  now: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): { delayMs: number; streak: number } {
  const stable = startedAt !== null && now - startedAt >= o.resetAfterMs;
  const next = stable ? 1 : streak + 1;
  if (next === 1) return { delayMs: 0, streak: 1 };
  return { delayMs: backoffDelay(next - 2, o, random), streak: next };
}
