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

/** A state of a `definition`, as far as its edges go. */
interface DefinitionNode {
  id: string;
  states?: Record<string, DefinitionNode>;
  on?: Record<string, Array<{ target?: string[] }>>;
  always?: Array<{ target?: string[] }>;
}

/**
 * True when `from → to` on `event` is an edge of `definition` (a `machine`
 * result's): a transition for `event` (`always` for an eventless one),
 * declared on `from` or an ancestor of it, targets `to` or an ancestor of it
 * (entering a state enters its initial children). Pure; for clients that
 * draw or check the machine.
 */
export function isMachineEdge(definition: Record<string, unknown>, t: Pick<MachineTransitionEvent, 'from' | 'to' | 'event'>): boolean {
  const root = definition as unknown as DefinitionNode;
  const at = (path: string[]) => path.reduce<DefinitionNode | undefined>((n, k) => n?.states?.[k], root);
  const chain = (path: string): DefinitionNode[] => {
    const keys = path.split('.');
    const nodes: DefinitionNode[] = [];
    for (let i = keys.length; i > 0; i--) {
      const n = at(keys.slice(0, i));
      if (n) nodes.push(n);
    }
    return nodes;
  };
  const targets = new Set(chain(t.to).map((n) => `#${n.id}`));
  if (!targets.size) return false;
  return [...chain(t.from), root].some((n) => (t.event === 'always' ? n.always : n.on?.[t.event])?.some((e) => (e.target ?? []).some((id) => targets.has(id))));
}
