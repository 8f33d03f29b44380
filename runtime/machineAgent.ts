/**
 * An agent that is an xstate machine (`import { machineAgent } from
 * 'faultline/machine'`). Each message is sent to the machine as an event;
 * the machine's persisted snapshot is the agent's state, so it is
 * checkpointed after every message and restored after a crash or a restart,
 * like any other state. The actor lives as long as the agent's process:
 * delayed transitions and invoked actors run between messages.
 *
 * ```js
 * import { setup } from 'xstate';
 * import { machineAgent } from 'faultline/machine';
 * const door = setup({}).createMachine({ id: 'door', initial: 'closed', states: { closed: { on: { OPEN: 'open' } }, open: { on: { CLOSE: 'closed' } } } });
 * export default machineAgent(door);               // ask it { type: 'OPEN' } → { value: 'open', … }
 * ```
 *
 * Kept apart from the SDK entry so that agents not written as machines do
 * not load xstate.
 */
import { createActor, type Actor, type AnyStateMachine, type EventObject, type SnapshotFrom } from 'xstate';
import type { AgentContext, AgentDefinition, MessageMeta } from './sdk.ts';

export interface MachineAgentOptions<TMachine extends AnyStateMachine> {
  /** Checkpoint version of the machine's snapshot (default 1); bump it with `migrate` when the machine changes shape. */
  version?: number;
  /** Upgrades a persisted snapshot written with an older `version`. */
  migrate?: (old: unknown, fromVersion: number) => unknown;
  /** The machine's `input` when it starts cold. */
  input?: unknown;
  /** Turns a message into the event to send (default: the message itself, which must have a `type`). */
  event?: (message: unknown, meta: MessageMeta) => EventObject;
  /** The reply to an ask, from the snapshot after the event (default: `{ value, context, status }`). */
  reply?: (snapshot: SnapshotFrom<TMachine>) => unknown;
}

/** The agent definition for `machine`. */
export function machineAgent<TMachine extends AnyStateMachine>(machine: TMachine, opts: MachineAgentOptions<TMachine> = {}): AgentDefinition<unknown> {
  let actor: Actor<AnyStateMachine> | undefined;
  const start = (snapshot: unknown): Actor<AnyStateMachine> => {
    const a = createActor(machine as AnyStateMachine, { ...(snapshot === undefined ? {} : { snapshot: snapshot as never }), input: opts.input } as never);
    // Errors are read from the snapshot after each event (and thrown from onMessage); without an
    // observer xstate would also rethrow them later, outside any handler.
    a.subscribe({ error: () => undefined });
    a.start();
    return a;
  };
  const failed = (a: Actor<AnyStateMachine>) => {
    const s = a.getSnapshot() as { status: string; error?: unknown };
    return s.status === 'error' ? (s.error instanceof Error ? s.error : new Error(`the machine failed: ${String(s.error)}`)) : undefined;
  };
  return {
    version: opts.version,
    migrate: opts.migrate,
    init() {
      const a = start(undefined);
      const snapshot = a.getPersistedSnapshot();
      a.stop();
      return snapshot;
    },
    onStart(ctx: AgentContext<unknown>) {
      actor = start(ctx.state);
      const err = failed(actor);
      if (err) throw err;
    },
    onMessage(message: unknown, ctx: AgentContext<unknown>, meta: MessageMeta) {
      const a = (actor ??= start(ctx.state));
      const event = opts.event ? opts.event(message, meta) : (message as EventObject);
      if (typeof event?.type !== 'string') throw new TypeError('a machine agent takes events: send { type: "…" } or give machineAgent an `event` option');
      a.send(event);
      // Let it crash: a machine that errored restarts from its last checkpoint.
      const err = failed(a);
      if (err) throw err;
      ctx.state = a.getPersistedSnapshot();
      const snapshot = a.getSnapshot() as { value: unknown; context: unknown; status: string };
      return opts.reply ? opts.reply(snapshot as SnapshotFrom<TMachine>) : { value: snapshot.value, context: snapshot.context, status: snapshot.status };
    },
    onStop() {
      actor?.stop();
    },
  };
}
