/**
 * The error `ctx.waitFor(name, { timeoutMs })` rejects with when no signal
 * came in time. Kept in a file of its own, free of imports beyond the base
 * error, because the agent host (which every restart loads) throws it.
 */
import { FaultlineError } from '../errors.ts';

export class WaitTimeoutError extends FaultlineError {
  constructor(readonly agent: string, readonly signalName: string, readonly timeoutMs: number) {
    super(`Agent "${agent}" waited ${timeoutMs} ms for the signal "${signalName}" and none came; send it with \`faultline signal ${agent} ${signalName} <json>\`, or raise timeoutMs`);
  }

  /**
   * By name, not prototype: the agent's module may import `faultline` from
   * another copy of the package than the host's bundle, and an `instanceof`
   * there must still hold.
   */
  static [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof Error && x.name === 'WaitTimeoutError';
  }
}
