/**
 * One agent's lifecycle as an xstate v5 machine. It owns the agent's context
 * (starts, restarts, the reason of the last change, the last error, the
 * incarnation, heartbeats) and its timers as delayed transitions: the start
 * timeout, the heartbeat timeout and the shutdown timeout. The effects —
 * taking a host from the pool, loading the module, killing the host,
 * reporting to the supervisor — are the named actions and the `boot` actor
 * declared here and implemented by `AgentNode` with `machine.provide()`
 * (start and stop promises resolve from the actor's snapshots).
 * Time is the actor system's clock (`system._clock`), so a test drives every
 * timer with xstate's `SimulatedClock`.
 */
import { assign, fromPromise, setup, type ActorSystem, type AnyActorRef } from 'xstate';
import type { LastError } from '../protocol/status.ts';
import type { SerializedError } from '../errors.ts';
import type { ExitInfo } from './decisions.ts';
import type { Clock } from '../clock.ts';

/** What the machine starts from: the agent's config and what it kept from earlier incarnations. */
export interface AgentInput {
  id: string;
  supervisor: string;
  starts: number;
  restarts: number;
  lastError?: LastError;
  startTimeoutMs: number;
  heartbeatTimeoutMs: number;
  shutdownMs: number;
  /** Off under the debugger: an agent paused at a breakpoint is not hung, so no start or heartbeat timeout. */
  watchdog: boolean;
}

export interface AgentContext extends AgentInput {
  /** Boots so far; a host belongs to the incarnation that took it, and events of an older one are ignored. */
  incarnation: number;
  /** Why the state last changed, as the `agent.state` event says it. */
  reason?: string;
  /** Set when the runtime itself kills the host (unresponsive, load failed): the exit is not a crash of its own. */
  killedFor?: string;
  /** The handler error that made the host exit, for a clearer exit reason. */
  crashCause?: string;
  /** How the last run ended, for the supervisor. */
  exit?: ExitInfo;
  /** Epoch ms it last became running; null when down. */
  startedAt: number | null;
  /** Clock time of the last heartbeat, and of the last one when the watchdog was armed. */
  lastHb: number;
  armedHb: number;
  /** The backoff its supervisor chose, while in `backoff`. */
  backoffMs: number;
}

export interface HostExitEvent {
  type: 'EXIT';
  code: number | null;
  signal: string | null;
  error?: { name: string; message: string };
  /** The last lines the host wrote to stderr, for the error message. */
  tail: string;
}

export type AgentEvent =
  | { type: 'START' }
  | { type: 'READY' }
  | { type: 'LOAD_ERROR'; error: SerializedError }
  | { type: 'HEARTBEAT' }
  /** A handler threw: its error is the last error; `crash` when the host exits because of it. */
  | { type: 'HANDLER_ERROR'; error: SerializedError; crash: boolean }
  | HostExitEvent
  /** The supervisor's decision after an exit: restart after `delayMs`, or stay down. */
  | { type: 'RESTART'; delayMs: number }
  | { type: 'GIVE_UP'; normal: boolean; reason: string }
  | { type: 'STOP'; reason: string };

/** What the `boot` actor gets and resolves with: the host is the wiring's (found through `owner`, the agent's actor), the machine keeps its pid. */
export interface BootInput { incarnation: number; owner: AnyActorRef }
export interface BootOutput { pid: number | null }

/** Delays that must never fire: a disabled watchdog (setTimeout's largest delay, about 24 days). */
const NEVER = 2 ** 31 - 1;

/** Its supervisor decided on a restart: wait out the backoff, or restart at once. */
const onRestart = [
  { guard: 'withBackoff', target: 'backoff', actions: 'restartDecided' },
  { target: 'restarting', actions: 'restartDecided' },
] as const;

/** `backoff` and `restarting`: down, its supervisor's decision taken, waiting to be started. */
const waitingToStart = {
  on: {
    START: { target: 'starting', actions: 'countStart' },
    STOP: { target: 'stopped', actions: 'stopRequested' },
    GIVE_UP: { target: 'stopped', actions: 'gaveUp' },
    RESTART: onRestart,
  },
} as const;

/**
 * The heartbeat watchdog, in `starting.loading` and `running`: re-armed at
 * each timeout while heartbeats come; silent past the timeout → late.
 */
const watchdog = {
  live: {
    entry: 'armWatchdog',
    after: { heartbeatTimeout: [{ guard: 'silent', target: 'late' }, { target: 'live', reenter: true }] },
  },
  // Unresponsive: killed; the exit follows.
  late: { entry: ['unresponsive', 'reportUnresponsive', 'killHost'] },
} as const;

const now = (system: ActorSystem<any>) => (system._clock as Clock).now();
const iso = (system: ActorSystem<any>) => new Date(now(system)).toISOString();

export const agentMachine = setup({
  types: {} as { context: AgentContext; events: AgentEvent; input: AgentInput },
  actors: {
    /** Resolves the module, takes a host from the pool and restores the checkpoint. Provided by AgentNode. */
    boot: fromPromise<BootOutput, BootInput>(async () => {
      throw new Error('agentMachine: boot is provided by AgentNode');
    }),
  },
  actions: {
    // Effects, provided by AgentNode; no-ops here so the machine can be inspected alone.
    /** Sends the host the module to load. */
    load: () => undefined,
    /** SIGKILLs the process (terminates the thread). */
    killHost: () => undefined,
    /** Asks the host to stop gracefully. */
    requestStop: () => undefined,
    /** Tells the supervisor it went down (`context.exit`). */
    reportExit: () => undefined,
    /** Failed to start: says so and fails the asks waiting for it. */
    reportFailed: () => undefined,
    /** Running: says so (the wiring delivers the mailbox once the state is running). */
    reportRunning: () => undefined,
    /** Heartbeats stopped. */
    reportUnresponsive: () => undefined,
    /** Did not stop within its shutdown time. */
    reportShutdownKill: () => undefined,

    countStart: assign(({ context }) => ({
      starts: context.starts + 1,
      restarts: context.starts > 0 ? context.restarts + 1 : context.restarts,
      reason: context.starts > 0 ? 'restart' : undefined,
      killedFor: undefined,
      crashCause: undefined,
      exit: undefined,
    })),
    newIncarnation: assign(({ context }) => ({ incarnation: context.incarnation + 1 })),
    booted: assign(({ system }) => ({ lastHb: now(system), armedHb: now(system) })),
    heartbeat: assign(({ system }) => ({ lastHb: now(system) })),
    armWatchdog: assign(({ context }) => ({ armedHb: context.lastHb })),
    running: assign(({ system }) => ({ startedAt: now(system), lastHb: now(system) })),
    bootFailed: assign(({ event, system }) => {
      const e = (event as unknown as { error: unknown }).error;
      const message = e instanceof Error ? e.message : String(e);
      const type = e instanceof Error && e.name && e.name !== 'Error' ? e.name : 'ModuleLoadError';
      return { reason: 'load failed', lastError: { type, message, time: iso(system) } };
    }),
    loadFailed: assign(({ event, system }) => {
      const e = (event as Extract<AgentEvent, { type: 'LOAD_ERROR' }>).error;
      return { reason: 'load failed', killedFor: 'load failed', lastError: { type: e.type === 'Error' ? 'ModuleLoadError' : e.type, message: e.message, time: iso(system) } };
    }),
    startTimedOut: assign(({ context, system }) => ({
      reason: 'load failed',
      killedFor: 'load failed',
      lastError: { type: 'StartTimeout', message: `${context.id} did not become ready within ${context.startTimeoutMs} ms (a slow or stuck init() or top-level await)`, time: iso(system) },
    })),
    handlerError: assign(({ event, context, system }) => {
      const e = event as Extract<AgentEvent, { type: 'HANDLER_ERROR' }>;
      return {
        lastError: { type: e.error.type, message: e.error.message, time: iso(system) },
        crashCause: e.crash ? `handler threw ${e.error.type}: ${e.error.message}` : context.crashCause,
      };
    }),
    unresponsive: assign(({ context, system }) => ({ killedFor: `unresponsive (no heartbeat for ${Math.round(now(system) - context.lastHb)} ms)` })),
    exited: assign(({ context, event, system }) => {
      const e = event as HostExitEvent;
      const normal = e.code === 0 && !e.signal && !context.killedFor && !context.crashCause;
      const reason = context.killedFor ?? (context.crashCause ? `crashed (${context.crashCause})` : describeExit(e));
      const lastError = normal
        ? context.lastError
        : { type: e.error?.name ?? (context.killedFor ? 'Unresponsive' : 'AgentCrash'), message: `${reason}${e.error ? `: ${e.error.message}` : e.tail && !reason.includes('handler threw') ? `: ${e.tail}` : ''}`, time: iso(system) };
      return { exit: { normal, reason }, reason, lastError, crashCause: undefined, startedAt: null };
    }),
    stopRequested: assign(({ event }) => ({ reason: (event as Extract<AgentEvent, { type: 'STOP' }>).reason, startedAt: null })),
    stoppedAfterExit: assign({ reason: 'stopped', startedAt: null }),
    restartDecided: assign(({ event }) => {
      const { delayMs } = event as Extract<AgentEvent, { type: 'RESTART' }>;
      return { backoffMs: delayMs, reason: delayMs > 0 ? `backoff ${delayMs} ms` : 'restart', startedAt: null };
    }),
    gaveUp: assign(({ event }) => ({ reason: (event as Extract<AgentEvent, { type: 'GIVE_UP' }>).reason, startedAt: null })),
  },
  guards: {
    withBackoff: ({ event }) => (event as Extract<AgentEvent, { type: 'RESTART' }>).delayMs > 0,
    normalExit: ({ event }) => (event as Extract<AgentEvent, { type: 'GIVE_UP' }>).normal,
    /** No heartbeat since the watchdog was armed (it fires `heartbeatTimeoutMs` after the last one). */
    silent: ({ context }) => context.watchdog && context.lastHb === context.armedHb,
  },
  delays: {
    startTimeout: ({ context }) => (context.watchdog ? context.startTimeoutMs : NEVER),
    /** Due `heartbeatTimeoutMs` after the last heartbeat (+1: silent for more than the timeout). */
    heartbeatTimeout: ({ context, system }) => (context.watchdog ? Math.max(1, context.lastHb + context.heartbeatTimeoutMs + 1 - now(system)) : NEVER),
    shutdownTimeout: ({ context }) => context.shutdownMs,
  },
}).createMachine({
  id: 'agent',
  initial: 'stopped',
  context: ({ input }) => ({ ...input, incarnation: 0, startedAt: null, lastHb: 0, armedHb: 0, backoffMs: 0 }),
  states: {
    stopped: {
      on: {
        START: { target: 'starting', actions: 'countStart' },
        RESTART: onRestart,
        // Taken down again (a temporary sibling stopped by its supervisor's strategy): stays stopped.
        GIVE_UP: { actions: 'gaveUp' },
        STOP: {},
      },
    },
    starting: {
      initial: 'booting',
      on: {
        EXIT: { target: 'exited', actions: 'exited' },
        HEARTBEAT: { actions: 'heartbeat' },
        HANDLER_ERROR: { actions: 'handlerError' },
      },
      states: {
        // Module, host and checkpoint: no host to stop yet.
        booting: {
          entry: 'newIncarnation',
          invoke: {
            id: 'boot',
            src: 'boot',
            input: ({ context, self }) => ({ incarnation: context.incarnation, owner: self }),
            onDone: { target: 'loading', actions: 'booted' },
            onError: { target: '#agent.failed', actions: ['bootFailed', 'reportFailed'] },
          },
          on: {
            STOP: { target: '#agent.stopped', actions: 'stopRequested' },
            GIVE_UP: [
              { guard: 'normalExit', target: '#agent.stopped', actions: 'gaveUp' },
              { target: '#agent.failed', actions: 'gaveUp' },
            ],
          },
        },
        // The host runs the module's init(); ready within the start timeout, or failed.
        loading: {
          entry: 'load',
          after: { startTimeout: { target: '#agent.failed', actions: ['startTimedOut', 'reportFailed', 'killHost'] } },
          // The heartbeats start with the host: an init() that blocks the thread is unresponsive too.
          initial: 'live',
          states: watchdog,
          on: {
            READY: { target: '#agent.running', actions: 'running' },
            LOAD_ERROR: { target: '#agent.failed', actions: ['loadFailed', 'reportFailed', 'killHost'] },
            STOP: { target: '#agent.stopping', actions: 'stopRequested' },
          },
        },
      },
    },
    running: {
      initial: 'live',
      entry: 'reportRunning',
      on: {
        EXIT: { target: 'exited', actions: 'exited' },
        STOP: { target: 'stopping', actions: 'stopRequested' },
        HEARTBEAT: { actions: 'heartbeat' },
        HANDLER_ERROR: { actions: 'handlerError' },
      },
      states: watchdog,
    },
    // Down, waiting for its supervisor's decision.
    exited: {
      entry: 'reportExit',
      on: {
        RESTART: onRestart,
        GIVE_UP: [
          { guard: 'normalExit', target: 'stopped', actions: 'gaveUp' },
          { target: 'failed', actions: 'gaveUp' },
        ],
        STOP: { target: 'stopped', actions: 'stopRequested' },
        START: { target: 'starting', actions: 'countStart' },
      },
    },
    // Waiting out the backoff its supervisor times (a group restart starts its children in order).
    backoff: waitingToStart,
    // Restarting at once, waiting for its turn in its supervisor's start order.
    restarting: waitingToStart,
    stopping: {
      initial: 'graceful',
      entry: 'requestStop',
      // A host asked to stop while it loads may still report ready or a load error: too late, it is stopping.
      on: { EXIT: { target: 'stopped', actions: 'stoppedAfterExit' }, STOP: {}, HEARTBEAT: {}, READY: {}, LOAD_ERROR: {}, HANDLER_ERROR: { actions: 'handlerError' } },
      states: {
        graceful: { after: { shutdownTimeout: 'killing' } },
        killing: { entry: ['reportShutdownKill', 'killHost'] },
      },
    },
    failed: {
      on: {
        START: { target: 'starting', actions: 'countStart' },
        RESTART: onRestart,
        GIVE_UP: { actions: 'gaveUp' },
        // The host killed after a load failure or a start timeout may still speak, then exits into the state already reported.
        EXIT: {},
        STOP: {},
        HEARTBEAT: {},
        READY: {},
        LOAD_ERROR: {},
      },
    },
  },
});

function describeExit(e: HostExitEvent): string {
  if (e.error) return `crashed (${e.error.name}: ${e.error.message})`;
  if (e.signal) return `killed (${e.signal})`;
  if (e.code === 0) return 'exited normally';
  if (e.code === 134) return 'crashed (out of memory or abort, exit code 134)';
  return `crashed (exit code ${e.code})`;
}
