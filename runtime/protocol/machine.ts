/**
 * The lifecycle machines as the control channel shows them: the `machine`
 * method (`faultline machine <id>`) and the `machine.transition` event.
 */
import { z } from 'zod';

/** `machine` params: an agent's or a supervisor's id. */
export const MachineParams = z.strictObject({ id: z.string().min(1) });

/**
 * A state value as xstate gives it: a state's key, or for a compound state an
 * object of its active child values.
 */
export type StateValue = string | { [key: string]: StateValue };
export const StateValue: z.ZodType<StateValue> = z.union([z.string(), z.record(z.string(), z.lazy(() => StateValue))]);

/** `machine` result: the lifecycle machine's definition and where it is now. */
export const MachineResult = z.strictObject({
  id: z.string(),
  /** The machine's JSON definition (`machine.toJSON()`), loadable by Stately tools. */
  definition: z.record(z.string(), z.unknown()),
  /** The current state value. */
  value: StateValue,
  /** The machine's context (restarts, reason, last error, incarnation, …). */
  context: z.record(z.string(), z.unknown()),
});

/**
 * `machine.transition`: one transition of an agent's or a supervisor's
 * lifecycle machine; `from → to` is an edge of its definition for `event`.
 * `from` and `to` are state paths (`running`, or `running.late` for a nested state).
 */
export const MachineTransitionEvent = z.strictObject({
  time: z.string(),
  id: z.string(),
  kind: z.enum(['agent', 'supervisor']),
  from: z.string(),
  to: z.string(),
  event: z.string(),
});

export type MachineParams = z.infer<typeof MachineParams>;
export type MachineResult = z.infer<typeof MachineResult>;
export type MachineTransitionEvent = z.infer<typeof MachineTransitionEvent>;
