/**
 * `faultline machine <agent|supervisor> [--json]`: an agent's or a
 * supervisor's lifecycle machine — where it is, its context, and the
 * transitions it can take from there. `--json` prints the `machine` method's
 * result (definition, value, context), loadable by Stately tools.
 */
import type { MachineResult } from '../protocol/machine.ts';

export const MACHINE_USAGE = `Usage: faultline machine <agent|supervisor> [--json]

Shows the lifecycle machine of an agent or a supervisor: its current state,
its context (restarts, reason, last error, incarnation, ...) and the
transitions it can take from there, timers included. --json prints
{ id, definition, value, context }; definition is the machine's JSON
definition (xstate's machine.toJSON(), eventless transitions as "always").`;

interface StateJson {
  id: string;
  states?: Record<string, StateJson>;
  on?: Record<string, Array<{ target?: string[]; guard?: unknown; delay?: unknown }>>;
  always?: Array<{ target?: string[]; guard?: unknown }>;
}

/** The state path of a value: `running.live`. */
function pathOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') {
    const [k] = Object.keys(value);
    if (k !== undefined) return [k, ...pathOf((value as Record<string, unknown>)[k])];
  }
  return [];
}

const short = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The human rendering of a `machine` result. */
export function renderMachine(m: MachineResult): string {
  const def = m.definition as unknown as StateJson;
  const path = pathOf(m.value);
  const lines = [`${def.id} ${m.id}: ${path.join('.')}`];
  const ctx = Object.entries(m.context).filter(([, v]) => v !== undefined);
  if (ctx.length) lines.push('context:', ...ctx.map(([k, v]) => `  ${k.padEnd(18)} ${short(v)}`));
  // The active state and its ancestors, innermost first: the transitions that can fire now.
  const chain: StateJson[] = [];
  let node: StateJson | undefined = def;
  const nodes = [def];
  for (const key of path) {
    node = node?.states?.[key];
    if (node) nodes.push(node);
  }
  chain.push(...nodes.reverse());
  const seen = new Set<string>();
  const out: string[] = [];
  const name = (t?: string[]) => (t?.length ? t.map((s) => s.replace(`#${def.id}.`, '')).join(', ') : '(stays)');
  for (const n of chain) {
    for (const [event, ts] of Object.entries(n.on ?? {})) {
      if (seen.has(event)) continue; // an inner state's handler overrides its ancestors'
      seen.add(event);
      for (const t of ts) {
        const label = event.startsWith('xstate.after.') ? `after ${String(t.delay)}` : event.startsWith('xstate.done.actor.') ? `${event.split('.')[3]} done` : event.startsWith('xstate.error.actor.') ? `${event.split('.')[3]} failed` : event;
        out.push(`  ${label}${t.guard ? ` [${short(t.guard)}]` : ''} → ${name(t.target)}`);
      }
    }
    for (const t of n.always ?? []) out.push(`  always${t.guard ? ` [${short(t.guard)}]` : ''} → ${name(t.target)}`);
  }
  if (out.length) lines.push('transitions from here:', ...out);
  return lines.join('\n');
}
