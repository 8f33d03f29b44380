/**
 * What a supervisor needs from a child, agent or supervisor. Production
 * children are `AgentNode` and `Supervisor`; the decision tests use fakes.
 */
import type { ChildSpec } from '../config/load.ts';
import type { LastError, NodeState, TreeNodeStatus } from '../protocol/status.ts';
import type { ExitInfo } from './decisions.ts';

export interface Child {
  readonly id: string;
  readonly spec: ChildSpec;
  /** The displayed state. */
  readonly state: NodeState;
  /** Epoch ms of the last time it became running; null when down. */
  readonly startedAt: number | null;
  /** Starts it; resolves true once running, false when it failed to start. Never rejects. */
  start(): Promise<boolean>;
  /** Stops it gracefully within its shutdown time, then kills it. Resolves once down. */
  stop(reason: string): Promise<void>;
  /** The supervisor's decision after an exit: wait to restart, or stay down. */
  markRestarting(delayMs: number): void;
  markDown(normal: boolean, reason: string): void;
  /** Called by the child when it goes down on its own (crash, exit, escalation). */
  onExit?: (exit: ExitInfo) => void;
  status(): TreeNodeStatus;
  readonly lastError?: LastError;
}

export type ChildFactory = (spec: ChildSpec, parent: { id: string }) => Child;
