/**
 * The live statechart of one node's lifecycle machine, in the side panel:
 * drawn from the machine's JSON definition (the runtime's `machine` method),
 * the current state highlighted, and each `machine.transition` played as it
 * streams in — the edge taken lights up, then the state it reached. Several
 * transitions arriving together are played in order, a step each, so a kill
 * is watched going exited → backoff → starting → running.
 */
import type { MachineResult, MachineTransitionEvent } from '../../../runtime/protocol/machine.ts';
import { h, svg } from './dom.ts';
import { activePaths, layoutStatechart, type DefinitionNode, type StatechartLayout } from './statechartLayout.ts';

/** How long each step of a burst of transitions stays on screen. */
export const STEP_MS = 260;
/** How many states the trail keeps (for the caption and tests). */
const TRAIL = 12;

function pathOf(value: MachineResult['value']): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value)[0] ?? [];
  return k === undefined ? '' : v === undefined || (typeof v === 'object' && !Object.keys(v).length) ? k : `${k}.${pathOf(v)}`;
}

export class Statechart {
  readonly el: HTMLElement;
  private readonly caption: HTMLElement;
  private svgEl: SVGSVGElement | null = null;
  private layout: StatechartLayout | null = null;
  private current = '';
  private readonly pending: MachineTransitionEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private trail: string[] = [];

  constructor(readonly id: string) {
    this.caption = h('p', { class: 'statechart-caption muted', 'aria-live': 'polite' });
    this.el = h('div', { class: 'statechart', 'data-machine': id }, h('p', { class: 'muted', text: 'Loading the lifecycle machine…' }));
  }

  /** The machine arrived (or the runtime refused). */
  setMachine(m: MachineResult | undefined, error?: string): void {
    this.stopPlaying();
    if (!m) {
      this.layout = null;
      this.svgEl = null;
      this.el.replaceChildren(h('p', { class: 'error-text', text: error ?? 'The runtime did not send this machine.' }));
      return;
    }
    const width = Math.max(260, Math.min(420, (this.el.parentElement?.clientWidth || 356) - 4));
    this.layout = layoutStatechart(m.definition as DefinitionNode, { width });
    this.svgEl = this.draw(this.layout);
    this.current = pathOf(m.value);
    this.trail = [this.current];
    this.el.replaceChildren(this.svgEl, this.caption);
    this.highlight(this.current, null);
  }

  /** A transition of this node's machine: queued and played in order. */
  transition(e: MachineTransitionEvent): void {
    if (e.id !== this.id || !this.layout) return;
    this.pending.push(e);
    if (this.timer === undefined) this.step();
  }

  dispose(): void {
    this.stopPlaying();
  }

  private stopPlaying(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.length = 0;
  }

  private step(): void {
    const e = this.pending.shift();
    if (!e) {
      this.timer = undefined;
      this.svgEl?.querySelectorAll('.taken').forEach((x) => x.classList.remove('taken'));
      return;
    }
    this.current = e.to;
    this.trail = [...this.trail, e.to].slice(-TRAIL);
    this.highlight(e.to, e);
    this.timer = setTimeout(() => this.step(), STEP_MS);
  }

  private highlight(path: string, via: MachineTransitionEvent | null): void {
    const s = this.svgEl;
    if (!s) return;
    const active = new Set(activePaths(path));
    s.querySelectorAll<SVGGElement>('g.state').forEach((g) => g.classList.toggle('active', active.has(g.dataset.path ?? '')));
    s.querySelectorAll('.taken').forEach((x) => x.classList.remove('taken'));
    const top = path.split('.')[0];
    s.querySelectorAll<SVGGElement>('g.edge, g.edge-label').forEach((g) => g.classList.toggle('out', g.dataset.from === top));
    if (via) {
      const sel = `[data-from="${CSS.escape(via.from.split('.')[0])}"][data-to="${CSS.escape(top)}"]`;
      s.querySelectorAll(`g.edge${sel}, g.edge-label${sel}`).forEach((x) => x.classList.add('taken'));
    }
    s.dataset.state = path;
    s.dataset.trail = this.trail.join(' ');
    s.setAttribute('aria-label', `Lifecycle machine of ${this.id}: now ${path}`);
    this.caption.textContent = via ? `${via.from} → ${via.to} on ${via.event}` : `Now ${path}.`;
  }

  private draw(l: StatechartLayout): SVGSVGElement {
    const s = svg('svg', { class: 'statechart-svg', width: l.width, height: l.height, viewBox: `0 0 ${l.width} ${l.height}`, role: 'img', 'aria-label': `Lifecycle machine of ${this.id}` });
    const defs = svg('defs');
    const marker = svg('marker', { id: `arrow-${l.id}`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M 0 0 L 8 4 L 0 8 z', class: 'arrowhead' }));
    defs.append(marker);
    s.append(defs);
    const edges = svg('g', { class: 'edges' });
    const labels = svg('g', { class: 'edge-labels' });
    for (const e of l.edges) {
      const g = svg('g', { class: `edge${e.always ? ' always' : ''}`, 'data-from': e.from, 'data-to': e.to });
      const title = svg('title');
      title.textContent = `${e.from} → ${e.to}: ${e.labels.join(', ')}`;
      g.append(title, svg('path', { d: e.d, 'marker-end': `url(#arrow-${l.id})` }));
      edges.append(g);
      const lg = svg('g', { class: 'edge-label', 'data-from': e.from, 'data-to': e.to });
      const text = svg('text', { x: Math.round(e.lx), y: Math.round(e.ly), 'text-anchor': 'middle' });
      text.textContent = e.labels.length > 2 ? `${e.labels.slice(0, 2).join(', ')} +${e.labels.length - 2}` : e.labels.join(', ');
      lg.append(text);
      labels.append(lg);
    }
    const states = svg('g', { class: 'states' });
    for (const b of l.boxes) {
      const g = svg('g', { class: `state depth-${b.depth}${b.initial ? ' initial' : ''}`, 'data-path': b.path });
      g.append(svg('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: b.depth === 0 ? 6 : 4 }));
      const label = svg('text', { x: b.depth === 2 ? b.x + b.w / 2 : b.x + 8, y: b.y + (b.depth === 0 && b.h > 30 ? 15 : b.h / 2 + 4), 'text-anchor': b.depth === 2 ? 'middle' : 'start' });
      label.textContent = b.label;
      g.append(label);
      if (b.initial) g.append(svg('circle', { class: 'initial-dot', cx: b.x - 4, cy: b.y + 10, r: 3 }));
      states.append(g);
    }
    // Transitions inside one box, listed under its children.
    for (const b of l.boxes.filter((x) => x.depth === 0)) {
      const inner = l.inner.filter((t) => t.owner === b.path);
      inner.forEach((t, i) => {
        const text = svg('text', { class: 'inner-transition', x: b.x + 8, y: b.y + b.h - 6 - (inner.length - 1 - i) * 14 });
        text.textContent = `${t.from.slice(b.path.length + 1)} → ${t.to.slice(b.path.length + 1)} · ${t.label}`;
        states.append(text);
      });
    }
    // Edges under the boxes, labels over everything.
    s.append(edges, states, labels);
    return s;
  }
}
