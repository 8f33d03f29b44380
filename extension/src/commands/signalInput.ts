/** The checks of Send Signal…'s inputs, apart from the input boxes so unit tests can run them. */
import type { AgentStatus } from '../../../runtime/protocol/status.ts';

/** The signal name to offer: the oldest wait's, else empty. */
export function suggestedSignal(a: AgentStatus): string {
  return a.waiting?.[0]?.name ?? '';
}

export function signalNameProblem(name: string): string | undefined {
  return name.trim() ? undefined : 'Name the signal (the name the agent passes to ctx.waitFor).';
}

/** The payload's JSON, or why it is not JSON. */
export function parsePayload(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (!text.trim()) return { ok: false, problem: 'Give a JSON payload (null, true, 42, "text", {"ok":true}…).' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, problem: `Not JSON: ${(e as Error).message}` };
  }
}

/** What to tell the user after `signal` answered. */
export function signalOutcome(agent: string, name: string, delivered: boolean): string {
  return delivered
    ? `Signal "${name}" sent to ${agent}: a pending wait took it.`
    : `Signal "${name}" sent to ${agent}: no wait was pending, so it is kept for the next ctx.waitFor("${name}").`;
}
