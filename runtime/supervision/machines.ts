/**
 * Lifecycles as xstate v5 machines. The agent machine and the supervisor
 * machine hold the states a person sees in the status and enforce which
 * transitions are legal; the effects (spawning, killing, timers) live in
 * `AgentNode` and `Supervisor`, which send these machines events.
 */
import { createActor, setup, type Actor, type AnyStateMachine } from 'xstate';
import type { NodeState } from '../protocol/status.ts';

/** Events shared by both machines. */
export type LifecycleEvent =
  | { type: 'START' }
  | { type: 'READY' }
  | { type: 'EXIT' }
  | { type: 'RESTART'; delayMs: number }
  | { type: 'GIVE_UP'; normal: boolean }
  | { type: 'STOP' }
  | { type: 'STOPPED' }
  | { type: 'FAIL' };

/**
 * One agent: stopped → starting → running; on an exit the supervisor decides
 * between backoff/restarting (RESTART) and stopped/failed (GIVE_UP).
 */
export const agentMachine = setup({
  types: {} as { context: { incarnation: number }; events: LifecycleEvent },
}).createMachine({
  id: 'agent',
  initial: 'stopped',
  context: { incarnation: 0 },
  states: {
    stopped: { on: { START: 'starting', FAIL: 'failed', RESTART: [{ guard: ({ event }) => event.delayMs > 0, target: 'backoff' }, { target: 'restarting' }] } },
    starting: { on: { READY: 'running', EXIT: 'exited', FAIL: 'failed', STOP: 'stopping' } },
    running: { on: { EXIT: 'exited', STOP: 'stopping' } },
    // Down, waiting for its supervisor's decision.
    exited: {
      on: {
        RESTART: [{ guard: ({ event }) => event.delayMs > 0, target: 'backoff' }, { target: 'restarting' }],
        GIVE_UP: [{ guard: ({ event }) => event.normal, target: 'stopped' }, { target: 'failed' }],
        STOP: 'stopped',
        START: 'starting',
      },
    },
    backoff: { on: { START: 'starting', STOP: 'stopped' } },
    restarting: { on: { START: 'starting', STOP: 'stopped' } },
    stopping: { on: { STOPPED: 'stopped', EXIT: 'stopped' } },
    failed: { on: { START: 'starting', STOP: 'failed', EXIT: 'failed', RESTART: [{ guard: ({ event }) => event.delayMs > 0, target: 'backoff' }, { target: 'restarting' }] } },
  },
});

/**
 * One supervisor: starting its children in order → running; restarting while
 * it applies its strategy; failed once its restart intensity is exceeded.
 */
export const supervisorMachine = setup({
  types: {} as { context: Record<string, never>; events: LifecycleEvent },
}).createMachine({
  id: 'supervisor',
  initial: 'stopped',
  context: {},
  states: {
    stopped: { on: { START: 'starting' } },
    starting: { on: { READY: 'running', STOP: 'stopping', FAIL: 'failing' } },
    running: { on: { RESTART: 'restarting', STOP: 'stopping', FAIL: 'failing' } },
    restarting: { on: { READY: 'running', RESTART: 'restarting', STOP: 'stopping', FAIL: 'failing' } },
    stopping: { on: { STOPPED: 'stopped' } },
    // Stopping its children before reporting the failure to its parent.
    failing: { on: { STOPPED: 'failed' } },
    failed: { on: { START: 'starting', STOP: 'failed' } },
  },
});

/** Maps a machine state to the words of the status JSON. */
export function displayState(value: string, restarts: number): NodeState {
  switch (value) {
    case 'starting':
      return restarts > 0 ? 'restarting' : 'starting';
    case 'exited':
    case 'restarting':
      return 'restarting';
    case 'failing':
      return 'stopping';
    case 'backoff':
    case 'running':
    case 'stopping':
    case 'stopped':
    case 'failed':
      return value;
    default:
      return 'stopped';
  }
}

/** Clock shared by the machines and the supervisor's timers; tests pass xstate's SimulatedClock. */
export interface Clock {
  now(): number;
  setTimeout(fn: (...args: any[]) => void, ms: number): any;
  clearTimeout(id: any): void;
}
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export function startMachine<M extends AnyStateMachine>(machine: M, clock: Clock): Actor<M> {
  const actor = (createActor as (m: M, o: { clock: Clock }) => Actor<M>)(machine, { clock });
  actor.start();
  return actor;
}
