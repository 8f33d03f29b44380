/**
 * One supervisor's lifecycle as an xstate v5 machine. It owns the
 * supervisor's context — restarts, the restart-intensity window, the backoff
 * streak of each child, the children waiting to restart, the last error — and
 * makes OTP's decisions on a child's exit by calling `decisions.ts`. The
 * restart backoff is a delayed event on the actor system's clock, one per
 * restart group (several groups may wait at once under `one_for_one`).
 *
 * The work that takes time — stopping and starting children — is done by
 * `Supervisor`, which hears the machine's decisions as emitted effects
 * (`restart`, `startGroup`, `down`, `escalate`) and runs them one at a time.
 */
import { assign, emit, enqueueActions, setup, type ActorSystem } from 'xstate';
import type { BackoffOptions } from '../config/load.ts';
import type { LastError, RestartType, Strategy } from '../protocol/status.ts';
import { recordRestart, restartDelay, restartPlan, shouldRestart, type ChildRef, type ExitInfo, type RestartPlan } from './decisions.ts';
import type { Clock } from '../clock.ts';

export interface SupervisorInput {
  id: string;
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  backoff: BackoffOptions;
}

export interface SupervisorContext extends SupervisorInput {
  /** Restarts performed since it last started. */
  restarts: number;
  /** The restart-intensity window: clock times of the restarts within `periodMs`. */
  history: number[];
  /** Quick crashes in a row, per child, for the backoff. */
  streaks: Record<string, number>;
  /** Children waiting to restart, with the restart group (generation) they wait in. */
  pending: Record<string, number>;
  gen: number;
  /** Set the moment a stop is requested: exits from then on are not crashes. */
  halting: boolean;
  /** Set by a child's exit while the decision is made. */
  exceeded: boolean;
  lastError?: LastError;
  startedAt: number | null;
}

export type SupervisorEvent =
  /** Start afresh; `history` is the window kept from the previous run (the first start of a run only). */
  | { type: 'START'; history: number[] }
  | { type: 'READY' }
  /** A child went down on its own. `draw` is the random number of the backoff's jitter. */
  | { type: 'CHILD_EXIT'; child: string; restart: RestartType; startedAt: number | null; exit: ExitInfo; children: ChildRef[]; draw: number; others?: number[] }
  /** A restart group's backoff is over. */
  | { type: 'BACKOFF_DONE'; gen: number }
  /** A waiting child is being started now, or a user restarted or stopped it: it waits no more. */
  | { type: 'UNPEND'; child: string }
  /** The children of a restart group were started. */
  | { type: 'GROUP_STARTED' }
  | { type: 'HALT' }
  | { type: 'STOP' }
  | { type: 'STOPPED' };

/** Effects the machine asks its wiring for. */
export type SupervisorEffect =
  | { type: 'down'; child: string; exit: ExitInfo; restart: RestartType }
  | { type: 'restart'; child: string; exit: ExitInfo; plan: RestartPlan; delayMs: number; gen: number }
  | { type: 'startGroup'; children: string[]; gen: number }
  | { type: 'escalate'; message: string };

const now = (system: ActorSystem<any>) => (system._clock as Clock).now();
const exitEvent = (e: SupervisorEvent) => e as Extract<SupervisorEvent, { type: 'CHILD_EXIT' }>;
const backoffId = (gen: number) => `backoff.${gen}`;

export const supervisorMachine = setup({
  types: {} as { context: SupervisorContext; events: SupervisorEvent; input: SupervisorInput; emitted: SupervisorEffect },
  actions: {
    fresh: assign(({ event }) => ({
      restarts: 0,
      history: [...(event as Extract<SupervisorEvent, { type: 'START' }>).history],
      streaks: {},
      pending: {},
      halting: false,
      exceeded: false,
      lastError: undefined,
    })),
    up: assign(({ system }) => ({ startedAt: now(system) })),
    down: assign({ startedAt: null }),
    /** Pending backoffs are cancelled: a stopping subtree restarts nothing. */
    halt: enqueueActions(({ context, enqueue }) => {
      for (const gen of new Set(Object.values(context.pending))) enqueue.cancel(backoffId(gen));
      enqueue.assign({ halting: true, pending: {} });
    }),
    notRestarted: emit(({ event }) => {
      const e = exitEvent(event);
      return { type: 'down' as const, child: e.child, exit: e.exit, restart: e.restart };
    }),
    recordRestart: assign(({ context, event, system }) => {
      const { history, exceeded } = recordRestart(context.history, now(system), context.intensity, context.periodMs, exitEvent(event).others);
      return { history, exceeded };
    }),
    escalate: enqueueActions(({ context, event, system, enqueue }) => {
      const e = exitEvent(event);
      const message = `restart intensity exceeded: more than ${context.intensity} restarts within ${context.periodMs} ms (last: ${e.child}, ${e.exit.reason})`;
      enqueue.assign({ exceeded: false, lastError: { type: 'RestartIntensityExceeded', message, time: new Date(now(system)).toISOString() } });
      enqueue.emit({ type: 'escalate', message });
    }),
    /** OTP's strategy: which children restart, after which backoff, as one group. */
    planRestart: enqueueActions(({ context, event, system, enqueue }) => {
      const e = exitEvent(event);
      const plan = restartPlan(context.strategy, e.children, e.child);
      const d = restartDelay(context.streaks[e.child] ?? 0, e.startedAt, now(system), context.backoff, () => e.draw);
      const gen = context.gen + 1;
      const pending = { ...context.pending };
      for (const id of plan.start) pending[id] = gen;
      enqueue.assign({ restarts: context.restarts + 1, streaks: { ...context.streaks, [e.child]: d.streak }, gen, pending });
      enqueue.emit({ type: 'restart', child: e.child, exit: e.exit, plan, delayMs: d.delayMs, gen });
      if (d.delayMs > 0) enqueue.raise({ type: 'BACKOFF_DONE', gen }, { delay: d.delayMs, id: backoffId(gen) });
    }),
    startGroup: emit(({ context, event }) => {
      const { gen } = event as Extract<SupervisorEvent, { type: 'BACKOFF_DONE' }>;
      return { type: 'startGroup' as const, gen, children: Object.keys(context.pending).filter((id) => context.pending[id] === gen) };
    }),
    unpend: assign(({ context, event }) => {
      const { child } = event as Extract<SupervisorEvent, { type: 'UNPEND' }>;
      if (!(child in context.pending)) return {};
      const pending = { ...context.pending };
      delete pending[child];
      return { pending };
    }),
  },
  guards: {
    halting: ({ context }) => context.halting,
    notRestartable: ({ event }) => {
      const e = exitEvent(event);
      return !shouldRestart(e.restart, e.exit);
    },
    exceeded: ({ context }) => context.exceeded,
    noneWaiting: ({ context }) => Object.keys(context.pending).length === 0,
  },
}).createMachine({
  id: 'supervisor',
  initial: 'stopped',
  context: ({ input }) => ({ ...input, restarts: 0, history: [], streaks: {}, pending: {}, gen: 0, halting: false, exceeded: false, startedAt: null }),
  // Accepted in every state: the serial work they report may finish after a stop or a failure.
  on: {
    HALT: { actions: 'halt' },
    UNPEND: { actions: 'unpend' },
    BACKOFF_DONE: { actions: 'startGroup' },
    GROUP_STARTED: {},
    CHILD_EXIT: {},
  },
  states: {
    stopped: { on: { START: { target: 'starting', actions: 'fresh' }, STOP: {} } },
    // Starting its children in order.
    starting: { on: { READY: { target: 'running', actions: 'up' }, STOP: 'stopping' } },
    running: {
      on: {
        CHILD_EXIT: [{ guard: 'halting' }, { guard: 'notRestartable', actions: 'notRestarted' }, { target: 'deciding', actions: 'recordRestart' }],
        STOP: 'stopping',
      },
    },
    // Applying its strategy; running again once no child waits to restart.
    restarting: {
      on: {
        CHILD_EXIT: [{ guard: 'halting' }, { guard: 'notRestartable', actions: 'notRestarted' }, { target: 'deciding', actions: 'recordRestart' }],
        GROUP_STARTED: [{ guard: 'noneWaiting', target: 'running' }, {}],
        STOP: 'stopping',
      },
    },
    // A restart was counted: within the intensity it restarts, past it it fails.
    deciding: {
      always: [
        { guard: 'exceeded', target: 'failing', actions: 'escalate' },
        { target: 'restarting', actions: 'planRestart' },
      ],
    },
    stopping: { entry: 'halt', on: { STOPPED: { target: 'stopped', actions: 'down' }, STOP: {} } },
    // Stopping its children before reporting the failure to its parent.
    failing: { entry: 'halt', on: { STOPPED: { target: 'failed', actions: 'down' }, STOP: {} } },
    failed: { on: { START: { target: 'starting', actions: 'fresh' }, STOP: {} } },
  },
});
