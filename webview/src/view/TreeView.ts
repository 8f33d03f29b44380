/**
 * The supervision tree on screen: node cards placed by the layout over one SVG
 * path of links, as an ARIA tree with a roving tabindex. Structure changes
 * (a snapshot with other nodes, the filter, collapsing) re-place cards; state
 * changes only redraw the cards that changed.
 *
 * Keys follow the WAI-ARIA tree pattern: Up/Down move, Home/End jump,
 * Right expands or enters a supervisor, Left collapses or goes to the parent,
 * Enter/Space selects (opens the details), Escape clears the selection.
 */
import { CARD_H, CARD_W, type Layout } from '../layout.ts';
import type { NodeVM, TreeModel } from '../model/TreeModel.ts';
import { h, svg } from './dom.ts';
import { createCard, pulse, updateCard, type CardOwner, type NodeCard } from './nodeCard.ts';

export interface TreeViewCallbacks {
  select(id: string | null): void;
  toggle(id: string, expand?: boolean): void;
  /** Faults and alerts on a node, for its badges. */
  marks(id: string): { faults: number; alerts: number };
  /** In a cluster: the node a child of the root runs on, for its badge (undefined outside a cluster). */
  owner(node: string): CardOwner | undefined;
}

export class TreeView {
  readonly el: HTMLElement;
  private readonly canvas: HTMLDivElement;
  private readonly linkPath: SVGPathElement;
  private readonly linkSvg: SVGSVGElement;
  private readonly empty: HTMLParagraphElement;
  private readonly cards = new Map<string, NodeCard>();
  private layout: Layout | null = null;
  private focused: string | null = null;
  private selected: string | null = null;
  /** The scrolled-to band of the tree, kept from scroll events so drawing never forces a layout read. */
  private view = { top: 0, bottom: Infinity };

  constructor(private readonly model: TreeModel, private readonly cb: TreeViewCallbacks) {
    this.linkPath = svg('path', { class: 'links' });
    this.linkSvg = svg('svg', { class: 'tree-links', 'aria-hidden': 'true' });
    this.linkSvg.append(this.linkPath);
    this.canvas = h('div', { class: 'tree-canvas', role: 'tree', 'aria-label': 'Supervision tree' });
    this.empty = h('p', { class: 'empty', text: 'Waiting for the runtime…' });
    this.el = h('div', { class: 'tree-scroll' }, this.empty, this.linkSvg, this.canvas);
    this.canvas.addEventListener('click', this.onClick);
    this.canvas.addEventListener('keydown', this.onKey);
    const measure = () => (this.view = { top: this.el.scrollTop, bottom: this.el.scrollTop + this.el.clientHeight });
    this.el.addEventListener('scroll', measure, { passive: true });
    new ResizeObserver(measure).observe(this.el);
    this.canvas.addEventListener('focusin', (e) => {
      const id = (e.target as HTMLElement).closest<HTMLElement>('.node')?.dataset.id;
      if (id) this.setFocus(id, false);
    });
  }

  /** Places every visible card (after a structure change). */
  setLayout(layout: Layout, selected: string | null): void {
    this.layout = layout;
    this.selected = selected;
    this.empty.hidden = layout.nodes.length > 0;
    if (this.model.rootId && layout.nodes.length === 0) this.empty.textContent = 'Nothing to show.';
    const w = `${layout.width}px`;
    const hgt = `${layout.height}px`;
    this.canvas.style.width = w;
    this.canvas.style.height = hgt;
    this.linkSvg.setAttribute('width', String(layout.width));
    this.linkSvg.setAttribute('height', String(layout.height));
    this.linkPath.setAttribute('d', layout.links);

    for (const [id, c] of this.cards) {
      if (!layout.byId.has(id) || !this.model.get(id) || this.model.get(id)!.kind !== (c.el.classList.contains('agent') ? 'agent' : 'supervisor')) {
        c.el.remove();
        this.cards.delete(id);
      }
    }
    // Appending in visual order keeps DOM order = reading order for screen readers.
    const frag = document.createDocumentFragment();
    for (const laid of layout.nodes) {
      const n = this.model.get(laid.id)!;
      let c = this.cards.get(laid.id);
      if (!c) {
        c = createCard(n);
        c.el.style.width = `${CARD_W}px`;
        c.el.style.height = `${CARD_H}px`;
        this.cards.set(laid.id, c);
      }
      c.el.style.transform = `translate(${laid.x}px,${laid.y}px)`;
      frag.append(c.el);
      this.draw(c, n);
    }
    this.canvas.append(frag);
    if (!this.focused || !layout.byId.has(this.focused)) this.focused = selected && layout.byId.has(selected) ? selected : (layout.nodes[0]?.id ?? null);
    this.applyTabStops();
  }

  /** Redraws the cards of the given nodes (state changes); plays the restart pulse. */
  update(ids: Iterable<string>): void {
    for (const id of ids) {
      const c = this.cards.get(id);
      const n = this.model.get(id);
      if (c && n) this.draw(c, n);
    }
  }

  setSelected(id: string | null): void {
    const prev = this.selected;
    this.selected = id;
    this.update([prev, id].filter((x): x is string => !!x));
    if (id && this.layout?.byId.has(id)) {
      this.focused = id;
      this.applyTabStops();
    }
  }

  /** Moves keyboard focus to a node (scrolling it into view). */
  focusNode(id: string): void {
    this.setFocus(id, true);
  }

  cardOf(id: string): HTMLElement | undefined {
    return this.cards.get(id)?.el;
  }

  private draw(c: NodeCard, n: NodeVM): void {
    const laid = this.layout?.byId.get(n.id);
    if (!laid) return;
    const m = this.cb.marks(n.id);
    updateCard(c, n, laid, n.id === this.selected, m.faults, m.alerts, n.node ? this.cb.owner(n.node) : undefined);
    if (n.pulse) {
      n.pulse = false;
      // Only where it can be seen: a storm of restarts off-screen would animate hundreds of cards for nothing.
      if (laid.y + CARD_H >= this.view.top && laid.y <= this.view.bottom) pulse(c);
    }
  }

  private applyTabStops(): void {
    for (const [id, c] of this.cards) {
      const t = id === this.focused ? '0' : '-1';
      if (c.el.tabIndex !== Number(t)) c.el.tabIndex = Number(t);
    }
  }

  private setFocus(id: string, move: boolean): void {
    if (!this.layout?.byId.has(id)) return;
    this.focused = id;
    this.applyTabStops();
    const el = this.cards.get(id)?.el;
    if (move && el && document.activeElement !== el) el.focus({ preventScroll: false });
  }

  private onClick = (e: MouseEvent) => {
    const target = e.target as HTMLElement;
    const card = target.closest<HTMLElement>('.node');
    const id = card?.dataset.id;
    if (!id) return;
    if (target.dataset.toggle) {
      this.cb.toggle(id);
      return;
    }
    this.setFocus(id, true);
    this.cb.select(id);
  };

  private onKey = (e: KeyboardEvent) => {
    const L = this.layout;
    if (!L || !this.focused) return;
    const i = L.nodes.findIndex((n) => n.id === this.focused);
    const cur = L.nodes[i];
    if (!cur) return;
    let next: string | undefined;
    switch (e.key) {
      case 'ArrowDown':
        next = L.nodes[Math.min(L.nodes.length - 1, i + 1)].id;
        break;
      case 'ArrowUp':
        next = L.nodes[Math.max(0, i - 1)].id;
        break;
      case 'Home':
        next = L.nodes[0].id;
        break;
      case 'End':
        next = L.nodes[L.nodes.length - 1].id;
        break;
      case 'ArrowRight':
        if (cur.expanded === false) this.cb.toggle(cur.id, true);
        else if (cur.expanded && L.nodes[i + 1]?.parent === cur.id) next = L.nodes[i + 1].id;
        break;
      case 'ArrowLeft':
        if (cur.expanded) this.cb.toggle(cur.id, false);
        else if (cur.parent) next = cur.parent;
        break;
      case 'Enter':
      case ' ':
        this.cb.select(cur.id);
        break;
      case 'Escape':
        this.cb.select(null);
        break;
      default:
        return;
    }
    e.preventDefault();
    if (next) this.setFocus(next, true);
  };
}
