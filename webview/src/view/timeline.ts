/**
 * A node's state history: a strip of coloured spans over the recent past (the
 * shape of a crash loop is visible at a glance) and the transitions as a list.
 */
import type { Transition } from '../model/TreeModel.ts';
import { h, svg } from './dom.ts';
import { clock } from './format.ts';

const W = 300;
const H = 14;
const MIN_SPAN_MS = 60_000;
const MAX_SPAN_MS = 10 * 60_000;

export function timeline(history: readonly Transition[], now = Date.now()): SVGSVGElement {
  const times = history.map((t) => Date.parse(t.time));
  const first = times.find((t) => Number.isFinite(t)) ?? now;
  const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, now - first));
  const start = now - span;
  const s = svg('svg', { class: 'timeline', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `State over the last ${Math.round(span / 1000)} seconds` });
  s.append(svg('rect', { class: 'track', x: 0, y: 0, width: W, height: H }));
  history.forEach((t, i) => {
    const from = Math.max(start, Number.isFinite(times[i]) ? times[i] : start);
    const to = i + 1 < history.length && Number.isFinite(times[i + 1]) ? times[i + 1] : now;
    if (to <= start) return;
    const x = ((from - start) / span) * W;
    const w = Math.max(1, ((Math.min(now, to) - from) / span) * W);
    const r = svg('rect', { class: `seg state-${t.state}`, x: x.toFixed(1), y: 0, width: w.toFixed(1), height: H });
    r.append(svg('title', {}));
    r.firstChild!.textContent = `${t.state} from ${clock(t.time)}`;
    s.append(r);
  });
  return s;
}

export function historyList(history: readonly Transition[], max = 15): HTMLOListElement {
  const items = history
    .slice(-max)
    .reverse()
    .map((t) => h('li', { class: `transition state-${t.state}` }, h('span', { class: 'log-time', text: clock(t.time) }), h('span', { class: 'from-to', text: t.previous && t.previous !== t.state ? `${t.previous} → ${t.state}` : t.state }), t.reason ? h('span', { class: 'muted', text: t.reason }) : null));
  return h('ol', { class: 'history', 'aria-label': 'State transitions, newest first' }, ...items);
}
