/**
 * The one exponential backoff with jitter: the gateway's retry delays, the
 * supervisor's restart delays (runtime/supervision/decisions.ts) and the
 * extension's reconnect and runtime-restart delays. Pure, and `random` is
 * injectable, so tests (and simulated clocks) get exact delays.
 */
export interface BackoffOptions {
  /** Delay of step 0 before jitter, in ms. */
  baseMs: number;
  /** Ceiling of every delay, jitter included, in ms. */
  maxMs: number;
  /** Growth per step (2: doubling). */
  factor: number;
  /** 0..1: the delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/** The delay before step `step` (0-based): `baseMs · factor^step`, capped, with jitter, capped again. */
export function backoffDelay(step: number, o: BackoffOptions, random: () => number = Math.random): number {
  const raw = Math.min(o.maxMs, o.baseMs * Math.pow(o.factor, Math.max(0, step)));
  const scale = 1 + o.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(o.maxMs, raw * scale)));
}
