/**
 * What drills, the load generator and the chaos monkey need of a runtime.
 * Small on purpose: the same code then runs inside the runtime (the
 * `drill.run` and `chaos.start` control methods) and outside it (the CLI,
 * over the control channel).
 */

import type { Disposable } from '../protocol/emitter.ts';

export interface HttpReply { status: number; body: string }

export interface RuntimeTarget {
  /** A control-channel request (`status`, `ask`, `inject`, …). */
  call(method: string, params: unknown, timeoutMs?: number): Promise<any>;
  /** Event notifications (`agent.state`, `breaker.state`, …) until disposed. */
  subscribe(events: string[], listener: (event: string, payload: any) => void): Promise<Disposable>;
  /** A GET on the runtime's loopback HTTP port (`/readyz`, `/metrics`). */
  http(path: string): Promise<HttpReply>;
  /** Who this is, for progress lines: "the runtime in this process", "runtime pid 123". */
  readonly describe: string;
  /**
   * The runtime was killed: start it again (when this runner owns it) or wait
   * for whoever does (the extension restarts its runtime), then reconnect;
   * subscriptions carry over. `onDown` is told when the old process is seen
   * gone. Absent when the runner lives inside the runtime.
   */
  recover?(o: { timeoutMs: number; onDown?: (time: number) => void }): Promise<{ pid: number; restartedBy: 'drill' | 'other' }>;
  /** Why the runtime is gone (stopped, failed, connection lost), or undefined while it runs. */
  gone(): string | undefined;
}

/** The error type of a failed call, the same in-process and remote: `AgentTimeoutError`, … */
export function errorType(e: unknown): string {
  const err = e as { type?: unknown; name?: unknown } | null;
  if (err && typeof err.type === 'string' && err.type) return err.type;
  if (err && typeof err.name === 'string' && err.name && err.name !== 'Error') return err.name;
  return 'Error';
}
