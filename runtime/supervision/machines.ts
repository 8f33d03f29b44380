/**
 * What the lifecycle machines share: the status words a person sees for a
 * machine state, the JSON definition the `machine` method serves, and the
 * actor each agent or supervisor runs — on the runtime's clock, with every
 * transition reported and every event it does not accept caught.
 */
import { createActor, type Actor, type AnyStateMachine, type ContextFrom, type EventFrom, type InputFrom, type StateValue } from 'xstate';
import type { NodeState } from '../protocol/status.ts';
import { FaultlineError } from '../errors.ts';
import type { Clock } from '../clock.ts';

export { agentMachine } from './agentMachine.ts';
export { supervisorMachine } from './supervisorMachine.ts';

/** A state value as a path: `running`, `starting.loading`. */
export function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key] = Object.keys(value);
  if (key === undefined) return '';
  const child = value[key];
  return child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? key : `${key}.${statePath(child as StateValue)}`;
}

/** The top-level state of a value: `starting` for `starting.loading`. */
export function topState(value: StateValue): string {
  return typeof value === 'string' ? value : (Object.keys(value)[0] ?? '');
}

/** Maps a machine state to the words of the status JSON. */
export function displayState(value: StateValue, restarts: number): NodeState {
  const top = topState(value);
  switch (top) {
    case 'starting':
      return restarts > 0 ? 'restarting' : 'starting';
    case 'exited':
    case 'restarting':
    case 'deciding':
      return 'restarting';
    case 'failing':
      return 'stopping';
    case 'backoff':
    case 'running':
    case 'stopping':
    case 'stopped':
    case 'failed':
      return top;
    default:
      return 'stopped';
  }
}

const definitions = new WeakMap<AnyStateMachine, Record<string, unknown>>();

/**
 * The machine's JSON definition (`machine.toJSON()`), with the eventless
 * (`always`) transitions that `toJSON()` leaves out added to their states as
 * `always`, so every transition the machine can take is in it. Computed once
 * per machine.
 */
export function machineDefinition(machine: AnyStateMachine): Record<string, unknown> {
  let d = definitions.get(machine);
  if (!d) {
    // toJSON() keeps live transition objects (targets are state nodes until stringified): make it plain data once.
    d = JSON.parse(JSON.stringify(machine.toJSON())) as Record<string, unknown>;
    addAlways(machine.root as unknown as StateNodeLike, d);
    definitions.set(machine, d);
  }
  return d;
}

interface StateNodeLike {
  always?: Array<{ target?: Array<{ id: string }>; guard?: unknown; eventType: string }>;
  states: Record<string, StateNodeLike>;
}

function addAlways(node: StateNodeLike, json: Record<string, unknown>) {
  if (node.always?.length) {
    json.always = node.always.map((t) => ({
      target: (t.target ?? []).map((s) => `#${s.id}`),
      ...(t.guard ? { guard: typeof t.guard === 'string' ? t.guard : (t.guard as { type?: string }).type } : {}),
      eventType: '',
    }));
  }
  const states = json.states as Record<string, Record<string, unknown>>;
  for (const [key, child] of Object.entries(node.states)) addAlways(child, states[key]!);
}

/** One transition that changed the state: `from → to` is an edge of the definition for `event`. */
export interface Transition {
  from: string;
  to: string;
  /** The transition's event type; `always` for an eventless one. */
  event: string;
}

/**
 * A machine got an event it does not accept in its current state. That is a
 * bug in the wiring: the effects that event stands for would otherwise run
 * while the machine ignores them.
 */
export class IllegalEventError extends FaultlineError {
  constructor(readonly machine: string, readonly id: string, readonly state: string, readonly event: string) {
    super(`${machine} "${id}" in state ${state} does not accept ${event}: the runtime sent an event its lifecycle does not allow (a bug; please report it)`);
  }
}

/**
 * Under node's test runner (and with FAULTLINE_STRICT_MACHINES=1) an illegal
 * event throws, so a test catches it (the wiring lets it surface as an
 * uncaught exception); in a real run it is logged as an error and the event
 * is not sent: the machine stays where it is, and since the effects are the
 * machine's actions, none of them run.
 */
const strict = !!process.env.NODE_TEST_CONTEXT || process.env.FAULTLINE_STRICT_MACHINES === '1';

export interface LifecycleActorOptions<M extends AnyStateMachine> {
  id: string;
  clock: Clock;
  input: InputFrom<M>;
  /** Every transition that changes the state value (xstate inspection); not called for context-only ones. */
  onTransition?: (t: Transition) => void;
  onIllegal?: (e: IllegalEventError) => void;
  /** Throw on an illegal event (default: under node's test runner or FAULTLINE_STRICT_MACHINES=1). */
  strict?: boolean;
}

/** An xstate actor of a lifecycle machine, started on the runtime's clock. */
export class LifecycleActor<M extends AnyStateMachine> {
  readonly actor: Actor<M>;
  private last = '';

  constructor(readonly machine: M, private readonly o: LifecycleActorOptions<M>) {
    const onTransition = o.onTransition;
    this.actor = (createActor as (m: M, opts: object) => Actor<M>)(machine, {
      clock: o.clock,
      input: o.input,
      ...(onTransition
        ? {
            inspect: (ev: { type: string; actorRef: unknown; snapshot?: { value: StateValue }; _transitions?: Array<{ eventType: string }> }) => {
              if (ev.type !== '@xstate.microstep' || ev.actorRef !== this.actor) return;
              const to = statePath(ev.snapshot!.value);
              const from = this.last;
              this.last = to;
              if (from === to) return; // a context-only transition or a watchdog re-arming itself
              const type = ev._transitions?.[0]?.eventType;
              onTransition({ from, to, event: type === '' ? 'always' : (type ?? '') });
            },
          }
        : {}),
    });
    this.actor.start();
    this.last = statePath(this.snapshot.value);
  }

  get snapshot(): { value: StateValue; context: ContextFrom<M> } {
    return this.actor.getSnapshot() as { value: StateValue; context: ContextFrom<M> };
  }

  /** The state's path, `starting.loading`. */
  get path(): string {
    return statePath(this.snapshot.value);
  }

  /** The top-level state, `starting`. */
  get top(): string {
    return topState(this.snapshot.value);
  }

  /**
   * Sends `event` if the current state accepts it (an explicit `{}`
   * transition counts: accepted, nothing to do). Returns false when not.
   */
  send(event: EventFrom<M>): boolean {
    const snap = this.actor.getSnapshot() as any;
    if (!(snap.machine as AnyStateMachine).getTransitionData(snap, event).length) {
      const err = new IllegalEventError(this.machine.id, this.o.id, statePath(snap.value), (event as { type: string }).type);
      this.o.onIllegal?.(err);
      if (this.o.strict ?? strict) throw err;
      return false;
    }
    this.actor.send(event);
    return true;
  }

  stop() {
    this.actor.stop();
  }
}
