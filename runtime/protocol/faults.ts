/** Faults as the control channel shows them: `faults`, `inject`, and `fault` events. */

export interface ActiveFault {
  id: string;
  /** The fault's name in the catalogue: `kill`, `slow`, `error`, `corrupt-checkpoint`, … */
  fault: string;
  /** An agent id, a dependency id, or a glob of them (`*` matches any run of characters). */
  target: string;
  /** Parameters as injected: `ms`, `status`, `point`, `count`, `rate`, `seed`, `durationMs`, … */
  params: Record<string, unknown>;
  kind: 'agent' | 'dependency' | 'state' | 'runtime';
  createdAt: string;
  /** When it clears itself (from `durationMs`). */
  expiresAt?: string;
  /** Times it may still fire; absent: unlimited. */
  remaining?: number;
  /** Times it has fired. */
  fired: number;
}

/** Payload of the `fault` event. */
export interface FaultEvent {
  time: string;
  action: 'injected' | 'fired' | 'cleared';
  fault: ActiveFault;
}

/** Agent faults act on the agent's process or thread. */
export const AGENT_FAULTS = ['kill', 'crash', 'hang', 'crash-loop', 'slow', 'memory'] as const;
/** Dependency faults act at the policy layer, on every call or on one call site (`point`). */
export const DEPENDENCY_FAULTS = ['error', 'latency', 'timeout', 'blackhole', 'content-filter', 'stream-cut', 'slow-first-token', 'malformed', 'isolate'] as const;
/** State and runtime faults. */
export const STATE_FAULTS = ['corrupt-checkpoint', 'drop-checkpoint', 'kill-runtime'] as const;
