/**
 * One trace as a waterfall, without the DOM: a row per span in tree order
 * (parent links, children by start), indented by depth, its bar placed on the
 * trace's timeline in percent, its events as markers at their time, and the
 * time axis's round ticks. The runtime's answer is read defensively: a span
 * whose parent is missing is a root, a cycle is broken, times out of range are
 * clamped, and nothing here throws on a field it did not expect.
 */
import type { TraceSpan, TraceSpanEvent, TraceSummary } from '../../../runtime/protocol/webview.ts';

/** What a span does, in the GenAI conventions: colours the bar. */
export type OpKind = 'invoke_agent' | 'chat' | 'execute_tool' | 'other';
/** What an event means for reliability: each has its own marker. */
export type MarkKind = 'retry' | 'fallback' | 'fault' | 'checkpoint' | 'error' | 'breaker' | 'other';
type AttrValue = TraceSpanEvent['attributes'][string];

export interface EventMark {
  name: string;
  kind: MarkKind;
  /** From the trace's start. */
  offsetMs: number;
  /** Position on the trace's timeline, inside the span's bar. */
  pct: number;
  /** The event's name, time and attributes, for a tooltip. */
  title: string;
}

export interface WaterfallRow {
  span: TraceSpan;
  depth: number;
  op: OpKind;
  error: boolean;
  offsetMs: number;
  durationMs: number;
  leftPct: number;
  widthPct: number;
  marks: EventMark[];
  /** The reliability story in a few words: `2 retries · fallback → backup · served by small`. */
  summary: string;
  /** The span's facts and attributes, for a tooltip. */
  title: string;
}

export interface AxisTick {
  ms: number;
  pct: number;
  label: string;
}

export interface Waterfall {
  traceId: string;
  startMs: number;
  durationMs: number;
  rows: WaterfallRow[];
  /** Spans left out beyond `maxRows`. */
  hidden: number;
  ticks: AxisTick[];
  /** One tick step in percent of the timeline (for the grid). */
  stepPct: number;
}

const num = (x: unknown, dflt = 0): number => (typeof x === 'number' && Number.isFinite(x) ? x : dflt);
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round = (x: number) => Math.round(x * 1000) / 1000;

/** A duration on a span's scale: 0.4 ms, 12 ms, 1.24 s, 2m 05s. */
export function spanMs(v: number): string {
  if (!Number.isFinite(v) || v < 0) return '—';
  if (v < 1) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  const s = Math.round(v / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

export function opKind(span: Pick<TraceSpan, 'name' | 'attributes'>): OpKind {
  const op = span.attributes?.['gen_ai.operation.name'];
  const word = typeof op === 'string' ? op : String(span.name ?? '').split(' ')[0];
  if (word === 'invoke_agent' || word === 'create_agent') return 'invoke_agent';
  if (word === 'chat' || word === 'text_completion' || word === 'generate_content') return 'chat';
  if (word === 'execute_tool') return 'execute_tool';
  return 'other';
}

/** The runtime's event names (its gateway's call phases among them) by what they mean. */
export function markKind(name: string): MarkKind {
  switch (name) {
    case 'retry':
    case 'redelivered':
    case 'replayed':
      return 'retry';
    case 'fallback':
    case 'degraded':
      return 'fallback';
    case 'fault':
      return 'fault';
    case 'checkpoint':
    case 'restore':
      return 'checkpoint';
    case 'exception':
    case 'crash':
    case 'give_up':
    case 'rejected':
    case 'dropped':
      return 'error';
    case 'breaker':
      return 'breaker';
    default:
      return 'other';
  }
}

const show = (v: AttrValue): string => (Array.isArray(v) ? v.join(', ') : String(v));
const attrLines = (a: Record<string, AttrValue> | undefined) => Object.entries(a ?? {}).map(([k, v]) => `${k} = ${show(v)}`);

/** A tick's label: round numbers stay round (500 ms, 1.5 s, 2 s, 1m 30s). */
function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (v < 1000) return `${+v.toFixed(3)} ms`;
  if (v < 60_000) return `${+(v / 1000).toFixed(3)} s`;
  const s = Math.round(v / 1000);
  return s % 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s / 60}m`;
}

/** Round ticks (1, 2 or 5 × 10ⁿ ms apart) from 0 to the end: `max` steps or fewer. */
export function axisTicks(durationMs: number, max = 5): { ticks: AxisTick[]; stepMs: number } {
  const total = durationMs > 0 && Number.isFinite(durationMs) ? durationMs : 1;
  const raw = total / Math.max(1, max);
  const p = 10 ** Math.floor(Math.log10(raw));
  const stepMs = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * p;
  const ticks: AxisTick[] = [];
  for (let i = 0; i * stepMs <= total * (1 + 1e-9); i++) {
    const ms = round(i * stepMs);
    ticks.push({ ms, pct: round(Math.min(100, (ms / total) * 100)), label: tickLabel(ms) });
  }
  return { ticks, stepMs };
}

/** Tree order: each root, then its children by start, depth-first; orphans are roots, a cycle is cut where it closes. */
function treeOrder(spans: TraceSpan[]): { span: TraceSpan; depth: number }[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const kids = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const s of spans) {
    const parent = s.parentSpanId && s.parentSpanId !== s.spanId ? byId.get(s.parentSpanId) : undefined;
    if (parent) kids.set(parent.spanId, [...(kids.get(parent.spanId) ?? []), s]);
    else roots.push(s);
  }
  const byStart = (a: TraceSpan, b: TraceSpan) => num(a.startMs) - num(b.startMs);
  const out: { span: TraceSpan; depth: number }[] = [];
  const seen = new Set<string>();
  const walk = (s: TraceSpan, depth: number) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    out.push({ span: s, depth });
    for (const c of (kids.get(s.spanId) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  // Spans only reachable through a cycle: shown as roots rather than lost.
  for (const s of [...spans].sort(byStart)) walk(s, 0);
  return out;
}

function summaryOf(span: TraceSpan, marks: EventMark[], events: TraceSpanEvent[]): string {
  const parts: string[] = [];
  const retries = marks.filter((m) => m.kind === 'retry').length;
  if (retries) parts.push(retries === 1 ? '1 retry' : `${retries} retries`);
  for (const e of events) {
    if (markKind(e.name) !== 'fallback') continue;
    const to = e.attributes?.['faultline.fallback.to'];
    parts.push(to === undefined ? e.name : `${e.name} → ${show(to)}`);
  }
  for (const e of events) {
    if (markKind(e.name) !== 'fault') continue;
    const f = e.attributes?.['faultline.fault'];
    parts.push(f === undefined ? 'fault' : `fault: ${show(f)}`);
  }
  const asked = span.attributes?.['gen_ai.request.model'];
  const served = span.attributes?.['gen_ai.response.model'];
  if (served !== undefined && served !== asked) parts.push(`served by ${show(served)}`);
  if (span.status === 'error') parts.push(span.statusMessage ? `error: ${span.statusMessage}` : 'error');
  return parts.join(' · ');
}

/** Builds the waterfall of one trace; at most `maxRows` rows (the rest are counted in `hidden`). */
export function buildWaterfall(trace: TraceSummary, maxRows = 200): Waterfall {
  const spans = (Array.isArray(trace?.spans) ? trace.spans : []).filter((s): s is TraceSpan => !!s && typeof s.spanId === 'string');
  let start = num(trace?.startMs, Infinity);
  let end = start + num(trace?.durationMs);
  for (const s of spans) {
    start = Math.min(start, num(s.startMs, start));
    end = Math.max(end, num(s.startMs, start) + Math.max(0, num(s.durationMs)));
  }
  if (!Number.isFinite(start)) start = end = 0;
  if (!Number.isFinite(end)) end = start;
  const durationMs = end - start;
  const total = durationMs > 0 ? durationMs : 1;
  const pctOf = (t: number) => clamp(((t - start) / total) * 100, 0, 100);

  const ordered = treeOrder(spans);
  const rows = ordered.slice(0, maxRows).map(({ span, depth }): WaterfallRow => {
    const s0 = num(span.startMs, start);
    const d = Math.max(0, num(span.durationMs));
    const leftPct = pctOf(s0);
    const widthPct = clamp(((s0 + d - start) / total) * 100, 0, 100) - leftPct;
    const events = Array.isArray(span.events) ? span.events.filter((e) => e && typeof e.name === 'string') : [];
    const marks = events.map((e): EventMark => {
      const t = clamp(num(e.timeMs, s0), s0, s0 + d);
      const offsetMs = t - start;
      return { name: e.name, kind: markKind(e.name), offsetMs, pct: round(pctOf(t)), title: [`${e.name} at +${spanMs(offsetMs)}`, ...attrLines(e.attributes)].join('\n') };
    });
    const op = opKind(span);
    const error = span.status === 'error';
    const facts = [`${span.name} — ${spanMs(d)} from +${spanMs(s0 - start)}${error ? ' (error)' : ''}`];
    if (span.statusMessage) facts.push(span.statusMessage);
    if (span.agent) facts.push(`agent ${span.agent}`);
    if (span.code) facts.push(`at ${span.code.file}:${span.code.line}${span.code.column ? `:${span.code.column}` : ''}`);
    return { span, depth, op, error, offsetMs: s0 - start, durationMs: d, leftPct: round(leftPct), widthPct: round(Math.max(0, widthPct)), marks, summary: summaryOf(span, marks, events), title: [...facts, ...attrLines(span.attributes)].join('\n') };
  });
  const { ticks, stepMs } = axisTicks(durationMs);
  return { traceId: String(trace?.traceId ?? ''), startMs: start, durationMs, rows, hidden: ordered.length - rows.length, ticks, stepPct: round((stepMs / total) * 100) };
}
