/**
 * The drill journal: what ran, when, what each probe saw, and the recovery
 * and message accounting — written as JSON by `faultline drill --report` and
 * returned by the `drill.run` control method. `held` is the verdict.
 */
/** Declared once, by the protocol (`drill.run`'s result). */
export type { HypothesisResult, StepResult, DrillStatus, DrillJournal } from '../protocol/schema/drill.ts';
import type { DrillJournal } from '../protocol/schema/drill.ts';

const ms = (x: number | undefined) => (x === undefined ? '?' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

/** The closing lines for a person: recovery, messages and the verdict. */
export function summaryLines(j: DrillJournal): string[] {
  const out: string[] = [];
  const r = j.recovery;
  if (r.incidents.length) {
    const agents = Object.keys(r.agents).length;
    out.push(`recovery: ${agents} agent${agents === 1 ? '' : 's'} went down (${r.incidents.length} incident${r.incidents.length === 1 ? '' : 's'}); detected after ${ms(r.detectMs?.p50)} (median, max ${ms(r.detectMs?.max)}); first back after ${ms(r.firstRecoveredMs)}, all after ${ms(r.allRecoveredMs)}${r.unrecovered.length ? `; NOT back: ${r.unrecovered.join(', ')}` : ''}`);
  }
  for (const d of Object.values(r.dependencies)) {
    out.push(`breaker ${d.dependency}: ${d.transitions.map((t) => `${t.state} at +${ms(t.atMs)}`).join(', ')}${d.detectMs !== undefined ? `; tripped ${ms(d.detectMs)} after the fault` : ''}${d.recoverMs !== undefined ? `; closed ${ms(d.recoverMs)} after the clear` : ''}`);
  }
  for (const x of j.runtimeRestarts) out.push(`runtime: pid ${x.killedPid} killed, pid ${x.pid} answering after ${ms(x.downMs)} (restarted by ${x.restartedBy === 'drill' ? 'this drill' : 'someone else'})`);
  const m = j.messages;
  if (m.sent) out.push(`messages: ${m.sent} sent, ${m.acknowledged} acknowledged, ${m.lost} lost${m.asks.failed + m.sends.failed ? `, ${m.asks.failed + m.sends.failed} failed (${Object.entries(m.errors).map(([k, v]) => `${k} x${v}`).join(', ')})` : ''}`);
  out.push(j.held ? `drill "${j.drill}": the hypothesis held (${ms(j.durationMs)})` : `drill "${j.drill}": ${j.status === 'gate-failed' ? 'the steady state did not hold BEFORE the method; nothing was injected' : j.status === 'aborted' ? 'ABORTED' : 'the hypothesis did NOT hold'}: ${j.failedProbe ?? ''}${j.failure ? ` — ${j.failure}` : ''}`);
  return out;
}
