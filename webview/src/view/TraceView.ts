/**
 * The selected agent's recent traces in the side panel (the runtime's
 * `traces` method): a list, newest first, and the chosen trace as a
 * waterfall — a row per span, indented by its depth, its bar on the trace's
 * timeline, its events (retry, fallback, fault, checkpoint…) as markers on the
 * bar. Rows are a keyboard tree (arrows, Home/End); Enter or a click opens the
 * span's call site, or its agent's module. Asks at most every TRACE_REFRESH_MS.
 */
import type { DashboardCommand, TracesMessage, TraceSummary } from '../../../runtime/protocol/webview.ts';
import { buildWaterfall, spanMs, type MarkKind, type OpKind, type Waterfall, type WaterfallRow } from '../model/waterfall.ts';
import { h, icon } from './dom.ts';
import { clock } from './format.ts';

/** The panel never asks for traces more often than this, whatever asks it to. */
export const TRACE_REFRESH_MS = 2_000;
/** How many traces it asks for. */
export const TRACE_LIMIT = 20;

export const TRACING_OFF = 'Tracing is off: add a `telemetry` block to the config or set OTEL_EXPORTER_OTLP_ENDPOINT, then restart the runtime.';
export const TRACING_UNSUPPORTED = 'This runtime records no traces (it predates the `traces` method): update Faultline.';

const OP_ICON: Record<OpKind, string> = { invoke_agent: 'hubot', chat: 'comment-discussion', execute_tool: 'tools', other: 'symbol-event' };
const MARK_ICON: Record<MarkKind, string> = { retry: 'sync', fallback: 'arrow-swap', fault: 'zap', checkpoint: 'save', error: 'error', breaker: 'circuit-board', other: 'circle-filled' };

export interface TraceCallbacks {
  /** Posts a command; returns its id. */
  command(c: DashboardCommand): string;
  /** Posts a command whose outcome the panel's status line reports. */
  send(c: DashboardCommand, what: string): void;
}

type Data = { traces: TraceSummary[]; capacity: number } | { message: string; kind: 'off' | 'error' };

export class TraceView {
  readonly el: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly refreshButton: HTMLButtonElement;
  private readonly list: HTMLOListElement;
  private readonly chart: HTMLElement;
  private readonly detail: HTMLElement;
  private data: Data | null = null;
  private traceId: string | null = null;
  private spanId: string | null = null;
  private waterfall: Waterfall | null = null;
  private lastAsked = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: string | null = null;

  constructor(readonly agent: string, private readonly cb: TraceCallbacks) {
    this.caption = h('span', { class: 'traces-caption muted', text: 'Loading traces…' });
    this.refreshButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Reload the traces of ${agent}`, title: 'Reload', onclick: () => this.refresh() }, icon('refresh'));
    this.list = h('ol', { class: 'trace-list', 'aria-label': `Recent traces of ${agent}, newest first` });
    this.chart = h('div', { class: 'waterfall', role: 'tree', 'aria-label': 'Spans of the selected trace' });
    this.detail = h('div', { class: 'span-detail' });
    this.chart.addEventListener('keydown', (e) => this.onKey(e));
    this.el = h('div', { class: 'traces', 'data-agent': agent }, h('div', { class: 'traces-head' }, this.caption, this.refreshButton), this.list, this.chart, this.detail);
    this.draw();
    this.refresh();
  }

  /** Asks for the agent's traces now, or once TRACE_REFRESH_MS has passed since the last ask. */
  refresh(): void {
    if (this.timer !== undefined) return;
    const wait = this.lastAsked + TRACE_REFRESH_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.ask();
      }, wait);
      return;
    }
    this.ask();
  }

  private ask(): void {
    this.lastAsked = performance.now();
    this.pending = this.cb.command({ action: 'traces', target: this.agent, params: { limit: TRACE_LIMIT } });
    this.refreshButton.setAttribute('aria-busy', 'true');
  }

  /** The extension's answer. */
  setTraces(m: TracesMessage): void {
    this.pending = null;
    this.refreshButton.removeAttribute('aria-busy');
    const r = m.result;
    if (m.unsupported) this.data = { kind: 'off', message: TRACING_UNSUPPORTED };
    else if (m.error || !r) this.data = { kind: 'error', message: m.error ?? 'The runtime sent no traces.' };
    else if (r.enabled === false) this.data = { kind: 'off', message: TRACING_OFF };
    else this.data = { traces: (Array.isArray(r.traces) ? r.traces : []).filter((t) => t && typeof t.traceId === 'string'), capacity: Number(r.capacity) || 0 };
    this.draw();
  }

  /** A command failed before the runtime answered (not connected, say): said instead of "Loading…" forever. */
  commandResult(id: string, ok: boolean, error?: string): void {
    if (id !== this.pending || ok) return;
    this.setTraces({ type: 'traces', agent: this.agent, error: error ?? 'The traces could not be fetched.' });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    const refocus = this.focusKey();
    const d = this.data;
    if (!d || !('traces' in d)) {
      this.caption.textContent = d ? '' : 'Loading traces…';
      this.list.replaceChildren();
      this.chart.replaceChildren(...(d ? [h('p', { class: d.kind === 'error' ? 'error-text' : 'traces-off', text: d.message })] : []));
      this.detail.replaceChildren();
      this.waterfall = null;
      return;
    }
    const n = d.traces.length;
    this.caption.textContent = n ? `${n} recent trace${n === 1 ? '' : 's'}` : '';
    this.caption.title = d.capacity ? `The runtime keeps its last ${d.capacity.toLocaleString()} spans.` : '';
    if (!n) {
      this.list.replaceChildren();
      this.chart.replaceChildren(h('p', { class: 'muted', text: `No traces of ${this.agent} yet: one appears when it handles a message.` }));
      this.detail.replaceChildren();
      this.waterfall = null;
      return;
    }
    if (!d.traces.some((t) => t.traceId === this.traceId)) this.traceId = d.traces[0].traceId;
    this.list.replaceChildren(...d.traces.map((t) => this.traceItem(t)));
    this.drawWaterfall(d.traces.find((t) => t.traceId === this.traceId)!);
    this.restoreFocus(refocus);
  }

  private traceItem(t: TraceSummary): HTMLLIElement {
    const when = clock(new Date(t.startMs).toISOString());
    const current = t.traceId === this.traceId;
    const b = h(
      'button',
      { type: 'button', class: `trace-item${t.error ? ' error' : ''}`, 'data-trace-id': t.traceId, 'aria-current': current ? 'true' : undefined, 'aria-label': `${t.name}, ${when}, ${spanMs(t.durationMs)}${t.error ? ', failed' : ''}`, title: Array.isArray(t.agents) && t.agents.length ? `Agents: ${t.agents.join(' → ')}` : undefined, onclick: () => this.selectTrace(t.traceId) },
      icon(t.error ? 'error' : 'pass', 'trace-mark'),
      h('span', { class: 'trace-name', text: t.name }),
      h('span', { class: 'trace-when', text: when }),
      h('span', { class: 'trace-dur', text: spanMs(t.durationMs) }),
    );
    return h('li', {}, b);
  }

  private selectTrace(id: string): void {
    if (id === this.traceId) return;
    this.traceId = id;
    this.spanId = null;
    this.draw();
  }

  private drawWaterfall(t: TraceSummary): void {
    const w = (this.waterfall = buildWaterfall(t));
    this.chart.setAttribute('aria-label', `Spans of ${t.name}, ${spanMs(w.durationMs)}`);
    this.chart.style.setProperty('--wf-step', `${Math.max(1, w.stepPct)}%`);
    const axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' }, ...w.ticks.map((k) => {
      const tick = h('span', { class: `wf-tick${k.pct === 0 ? ' start' : k.pct > 85 ? ' end' : ''}`, text: k.label });
      tick.style.left = `${k.pct}%`;
      return tick;
    }));
    if (!w.rows.some((r) => r.span.spanId === this.spanId)) this.spanId = (w.rows.find((r) => r.error) ?? w.rows.find((r) => r.marks.length) ?? w.rows[0])?.span.spanId ?? null;
    const rows = w.rows.map((r) => this.row(r));
    const more = w.hidden ? [h('p', { class: 'muted', text: `… and ${w.hidden} more spans.` })] : [];
    this.chart.replaceChildren(axis, ...rows, ...more);
    this.showDetail();
  }

  private row(r: WaterfallRow): HTMLElement {
    const s = r.span;
    const open = this.openCommand(r);
    const label = [s.name, spanMs(r.durationMs), `starts at +${spanMs(r.offsetMs)}`, r.summary || (r.error ? 'error' : ''), open ? 'Enter opens the code' : ''].filter(Boolean).join(', ');
    const bar = h('div', { class: 'wf-bar', title: r.title });
    bar.style.left = `${r.leftPct}%`;
    bar.style.width = `${r.widthPct}%`;
    const marks = r.marks.map((m) => {
      const el = h('span', { class: `wf-mark mark-${m.kind}`, 'data-event': m.name, title: m.title, 'aria-hidden': 'true' }, icon(MARK_ICON[m.kind]));
      el.style.left = `${m.pct}%`;
      return el;
    });
    const name = h('div', { class: 'wf-label' }, icon(OP_ICON[r.op], 'wf-op'), r.error ? icon('error', 'wf-error') : null, h('span', { class: 'wf-name', text: s.name }), r.summary ? h('span', { class: 'wf-summary', text: r.summary }) : null, h('span', { class: 'wf-dur', text: spanMs(r.durationMs) }));
    name.style.setProperty('--depth', String(Math.min(r.depth, 8)));
    const row = h(
      'div',
      { class: `wf-row op-${r.op}${r.error ? ' error' : ''}${open ? ' openable' : ''}`, role: 'treeitem', 'aria-level': r.depth + 1, 'aria-label': label, 'aria-selected': s.spanId === this.spanId ? 'true' : 'false', tabindex: s.spanId === this.spanId ? 0 : -1, 'data-span-id': s.spanId, 'data-depth': r.depth, title: r.title },
      name,
      h('div', { class: 'wf-track' }, bar, ...marks),
    );
    row.addEventListener('focus', () => this.focusSpan(s.spanId));
    row.addEventListener('click', () => {
      this.focusSpan(s.spanId);
      this.open(r);
    });
    return row;
  }

  /** Where a row's code is: its call site, else its agent's module, else nowhere. */
  private openCommand(r: WaterfallRow): DashboardCommand | null {
    const s = r.span;
    const target = s.agent || (s.code ? this.agent : '');
    if (!target) return null;
    if (s.code && typeof s.code.file === 'string' && s.code.file && Number.isInteger(s.code.line) && s.code.line >= 1) {
      return { action: 'openCode', target, params: { file: s.code.file, line: s.code.line, ...(Number.isInteger(s.code.column) && s.code.column! >= 1 ? { column: s.code.column } : {}) } };
    }
    return { action: 'openCode', target };
  }

  private open(r: WaterfallRow): void {
    const c = this.openCommand(r);
    if (c?.action !== 'openCode') return;
    this.cb.send(c, c.params ? `Open ${c.params.file}:${c.params.line}` : `Open the module of ${c.target}`);
  }

  private focusSpan(id: string): void {
    if (id === this.spanId) return;
    this.spanId = id;
    for (const el of this.chart.querySelectorAll<HTMLElement>('.wf-row')) {
      const on = el.dataset.spanId === id;
      el.tabIndex = on ? 0 : -1;
      el.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    this.showDetail();
  }

  private onKey(e: KeyboardEvent): void {
    const rows = [...this.chart.querySelectorAll<HTMLElement>('.wf-row')];
    const i = rows.findIndex((r) => r === document.activeElement);
    if (i < 0) return;
    const go = (j: number) => {
      e.preventDefault();
      rows[Math.max(0, Math.min(rows.length - 1, j))].focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(rows.length - 1);
    else if (e.key === 'Enter') {
      e.preventDefault();
      const r = this.waterfall?.rows.find((x) => x.span.spanId === rows[i].dataset.spanId);
      if (r) this.open(r);
    }
  }

  /** The focused span's events and attributes in words: what the markers and tooltips say, for everyone. */
  private showDetail(): void {
    const r = this.waterfall?.rows.find((x) => x.span.spanId === this.spanId);
    if (!r) return void this.detail.replaceChildren();
    const s = r.span;
    const open = this.openCommand(r);
    const where = s.code ? `${s.code.file}:${s.code.line}` : s.agent ? `the module of ${s.agent}` : '';
    const events = r.marks.map((m) => h('li', { class: `mark-${m.kind}` }, icon(MARK_ICON[m.kind], 'ev-icon'), h('span', { class: 'ev-text', text: m.title.split('\n').join(' · ') })));
    const attrs = Object.entries(s.attributes ?? {}).slice(0, 40);
    const parts: (HTMLElement | null)[] = [
      h('h4', { class: `op-${r.op}` }, icon(OP_ICON[r.op], 'wf-op'), ` ${s.name}`),
      h('p', { class: 'muted', text: [`${spanMs(r.durationMs)} from +${spanMs(r.offsetMs)}`, s.agent ? `agent ${s.agent}` : '', s.status === 'error' ? 'failed' : s.status === 'ok' ? 'ok' : ''].filter(Boolean).join(' · ') }),
      s.statusMessage ? h('p', { class: 'error-text', text: s.statusMessage }) : null,
      open && where ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Open ${where}`, onclick: () => this.open(r) }, icon('go-to-file'), ` ${where}`) : null,
      events.length ? h('ol', { class: 'span-events', 'aria-label': 'Events' }, ...events) : null,
      attrs.length ? h('dl', { class: 'span-attrs' }, ...attrs.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: Array.isArray(v) ? v.join(', ') : String(v) })])) : null,
    ];
    this.detail.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
  }

  /** What had focus inside, so that a redraw gives it back. */
  private focusKey(): string | null {
    const a = document.activeElement as HTMLElement | null;
    if (!a || !this.el.contains(a)) return null;
    if (a.dataset.spanId) return `span:${a.dataset.spanId}`;
    // The refresh button is never redrawn: it keeps its focus by itself.
    return a.dataset.traceId ? `trace:${a.dataset.traceId}` : null;
  }

  private restoreFocus(key: string | null): void {
    if (!key) return;
    const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const el = kind === 'span' ? this.chart.querySelector<HTMLElement>(`[data-span-id="${CSS.escape(id)}"]`) : kind === 'trace' ? this.list.querySelector<HTMLElement>(`[data-trace-id="${CSS.escape(id)}"]`) : null;
    el?.focus({ preventScroll: true });
  }
}
