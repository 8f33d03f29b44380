/**
 * A drill journal read as test results: each method step passed, failed or
 * skipped (it never ran: the gate failed or the method stopped before it),
 * and the drill's own verdict with one message per failed probe, located at
 * that probe's line in the drill file. Pure; the controller turns these into
 * `run.passed/failed/skipped` and `TestMessage`s.
 */
import type { DrillJournalView } from '../commands/drillReport.ts';
import type { DrillOutline } from './drillOutline.ts';
import type { Span } from './jsonLocations.ts';

interface ProbeView {
  name?: string;
  type?: string;
  held?: boolean;
  message?: string;
  expected?: string;
  value?: unknown;
}
interface StepView {
  index?: number;
  name?: string;
  startedAtMs?: number;
  ok?: boolean;
  error?: string;
  durationMs?: number;
  probe?: ProbeView;
}
/** The journal fields read here: those the drill report reads, with the steps' probes and the hypothesis. */
export interface JournalView extends Omit<DrillJournalView, 'method'> {
  hypothesis?: { before?: { held?: boolean; probes?: ProbeView[] }; after?: { held?: boolean; probes?: ProbeView[] } };
  method?: StepView[];
}

export interface Located {
  text: string;
  /** Where in the drill file; undefined: the drill item's own place. */
  span?: Span;
}

export type StepOutcome =
  | { index: number; state: 'passed'; durationMs?: number }
  | { index: number; state: 'failed'; durationMs?: number; message: Located }
  | { index: number; state: 'skipped'; why: string };

export interface DrillOutcome {
  state: 'passed' | 'failed';
  durationMs?: number;
  /** Empty when it passed. */
  messages: Located[];
  steps: StepOutcome[];
}

const show = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > 200 ? `${s.slice(0, 200)}…` : s;
};

function probeText(p: ProbeView, when: string): string {
  return `${when}: probe "${p.name ?? p.type}" failed: ${p.message ?? 'no message'}${p.expected ? ` (expected ${p.expected}${p.value !== undefined ? `, got ${show(p.value)}` : ''})` : ''}`;
}

/**
 * The hypothesis's probe results in the file's order: the runner prepends a
 * `system` check when the drill names its system, then runs the probes of
 * `steadyState.probes` in order.
 */
function hypothesisMessages(probes: ProbeView[] | undefined, outline: DrillOutline, when: string): Located[] {
  const out: Located[] = [];
  let k = 0;
  for (const p of probes ?? []) {
    if (p.type === 'system') {
      if (!p.held) out.push({ text: `${when}: ${p.message ?? 'another system'} but this drill is for "${p.expected}"`, span: outline.systemSpan });
      continue;
    }
    const at = outline.probes[k++];
    if (!p.held) out.push({ text: probeText(p, when), span: at?.span });
  }
  return out;
}

/**
 * `cancelledAt` (epoch ms): the run was cancelled then; a step still running
 * at that moment was cut short (a wait ends early), so it is skipped rather
 * than passed.
 */
export function drillOutcome(journal: unknown, outline: DrillOutline, o: { cancelledAt?: number } = {}): DrillOutcome {
  const j = (journal ?? {}) as JournalView;
  const t0 = j.startedAt ? Date.parse(j.startedAt) : NaN;
  const cutShort = (r: StepView) => o.cancelledAt !== undefined && (Number.isNaN(t0) || (r.startedAtMs ?? 0) + (r.durationMs ?? 0) >= o.cancelledAt - t0);
  const ran = new Map<number, StepView>();
  (j.method ?? []).forEach((s, i) => ran.set(typeof s.index === 'number' ? s.index : i, s));
  const gate = j.status === 'gate-failed';
  const steps: StepOutcome[] = outline.steps.map((s) => {
    const r = ran.get(s.index);
    if (!r) return { index: s.index, state: 'skipped', why: gate ? 'the steady state did not hold before the method: nothing was injected' : o.cancelledAt !== undefined || j.status === 'aborted' ? 'the method stopped before this step' : 'not run' };
    if (r.ok && cutShort(r)) return { index: s.index, state: 'skipped', why: 'the run was cancelled during this step' };
    if (r.ok) return { index: s.index, state: 'passed', durationMs: r.durationMs };
    const text = r.probe ? probeText(r.probe, `step ${s.index + 1}`) : `step ${s.index + 1} (${r.name ?? s.label}) failed: ${r.error ?? 'no error given'}`;
    return { index: s.index, state: 'failed', durationMs: r.durationMs, message: { text, span: s.span } };
  });
  if (j.held === true) return { state: 'passed', durationMs: j.durationMs, messages: [], steps };

  const messages: Located[] = [
    ...hypothesisMessages(j.hypothesis?.before?.probes, outline, 'steady state before the method'),
    ...steps.filter((s): s is Extract<StepOutcome, { state: 'failed' }> => s.state === 'failed').map((s) => s.message),
    ...hypothesisMessages(j.hypothesis?.after?.probes, outline, 'steady state after the method'),
  ];
  // Lost messages, an aborted method: the journal's own words, at the drill.
  if (!messages.length || j.status === 'aborted') {
    const verdict = gate ? 'the steady state did not hold BEFORE the method; nothing was injected' : j.status === 'aborted' ? 'the drill was ABORTED' : 'the hypothesis did NOT hold';
    messages.push({ text: `${verdict}${j.failedProbe ? `: ${j.failedProbe}` : ''}${j.failure ? ` — ${j.failure}` : ''}` });
  }
  return { state: 'failed', durationMs: j.durationMs, messages, steps };
}
