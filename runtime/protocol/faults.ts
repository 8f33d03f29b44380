/**
 * Faults as the control channel shows them: `faults`, `inject`, and `fault`
 * events. The shapes are declared once, as schemas, in `schema/faults.ts`;
 * this module holds the fault names and no zod.
 */
export type { ActiveFault, FaultEvent, FaultSpec } from './schema/faults.ts';

/** Agent faults act on the agent's process or thread. */
export const AGENT_FAULTS = ['kill', 'crash', 'hang', 'crash-loop', 'slow', 'memory'] as const;
/** Dependency faults act at the policy layer, on every call or on one call site (`point`). */
export const DEPENDENCY_FAULTS = ['error', 'latency', 'timeout', 'blackhole', 'content-filter', 'stream-cut', 'slow-first-token', 'malformed', 'isolate'] as const;
/** State and runtime faults. */
export const STATE_FAULTS = ['corrupt-checkpoint', 'drop-checkpoint', 'kill-runtime'] as const;
/** Node faults, for a cluster: kill a node, or pause it (SIGSTOP, then SIGCONT after `ms`). */
export const NODE_FAULTS = ['kill-node', 'pause-node'] as const;
/** MCP server faults: `kill-server` SIGKILLs the process of a stdio MCP dependency (target: the dependency id), which is then restarted with backoff. */
export const MCP_FAULTS = ['kill-server'] as const;
