/**
 * Lays the visible part of the supervision tree out as an indented graph: one
 * row per node in config order, each supervisor's children one step to the
 * right, joined to it by elbow links. d3-hierarchy builds the hierarchy,
 * applies the filter and collapsing, and walks it in order. Not d3's tidy
 * `tree()`: a sideways tidy tree needs a column per level (about 1,000 px for
 * three levels, wider than a VS Code panel beside an editor) and centres each
 * parent on its children, which with 1,000 agents puts the root in the middle
 * of a 30,000-pixel column. Here the root is always top-left, the order on
 * screen is the order of keyboard navigation, and width grows by one indent
 * per level.
 */
import { hierarchy } from 'd3-hierarchy';
import { isUnhealthy, type NodeVM, type TreeModel } from './model/TreeModel.ts';

export const ROW = 32;
export const CARD_H = 26;
export const INDENT = 24;
export const CARD_W = 340;
/** Where the link spine runs under a parent card: beneath its first icon. */
const SPINE = 13;
const PAD = 10;

export interface LaidOut {
  id: string;
  x: number;
  y: number;
  depth: number;
  parent: string | null;
  /** Position among its visible siblings (1-based) and their number: aria-posinset / aria-setsize. */
  posinset: number;
  setsize: number;
  /** Children not drawn: collapsed, or hidden by the filter. */
  hidden: number;
  /** Of those, how many are unhealthy (shown on the collapsed badge). */
  hiddenUnhealthy: number;
  expanded: boolean | null;
}

export interface Layout {
  /** In visual (pre-)order: what ArrowUp / ArrowDown walk. */
  nodes: LaidOut[];
  byId: Map<string, LaidOut>;
  width: number;
  height: number;
  /** One SVG path for every link. */
  links: string;
}

export interface LayoutOptions {
  collapsed: ReadonlySet<string>;
  unhealthyOnly: boolean;
}

interface Datum {
  node: NodeVM;
}

export function layoutTree(model: TreeModel, o: LayoutOptions): Layout {
  const empty: Layout = { nodes: [], byId: new Map(), width: 0, height: 0, links: '' };
  const root = model.rootId ? model.get(model.rootId) : undefined;
  if (!root) return empty;

  // With the filter on, a node stays when it or something below it is unhealthy.
  const keep = new Map<string, boolean>();
  const mark = (n: NodeVM): boolean => {
    let k = isUnhealthy(n);
    for (const c of n.children) {
      const child = model.get(c);
      if (child && mark(child)) k = true;
    }
    keep.set(n.id, k);
    return k;
  };
  if (o.unhealthyOnly) mark(root);

  const stats = new Map<string, { hidden: number; hiddenUnhealthy: number }>();
  const countBelow = (n: NodeVM, acc: { hidden: number; hiddenUnhealthy: number }) => {
    for (const c of n.children) {
      const child = model.get(c);
      if (!child) continue;
      acc.hidden++;
      if (isUnhealthy(child)) acc.hiddenUnhealthy++;
      countBelow(child, acc);
    }
  };

  const h = hierarchy<Datum>({ node: root }, (d) => {
    const n = d.node;
    if (n.kind !== 'supervisor') return null;
    const acc = { hidden: 0, hiddenUnhealthy: 0 };
    stats.set(n.id, acc);
    if (o.collapsed.has(n.id)) {
      countBelow(n, acc);
      return null;
    }
    const out: Datum[] = [];
    for (const c of n.children) {
      const child = model.get(c);
      if (!child) continue;
      if (o.unhealthyOnly && !keep.get(c)) {
        acc.hidden++;
        continue;
      }
      out.push({ node: child });
    }
    return out;
  });

  const nodes: LaidOut[] = [];
  const byId = new Map<string, LaidOut>();
  let maxDepth = 0;
  let links = '';
  h.eachBefore((hn) => {
    const n = hn.data.node;
    const s = stats.get(n.id);
    const siblings = hn.parent?.children ?? [hn];
    const item: LaidOut = {
      id: n.id,
      x: PAD + hn.depth * INDENT,
      y: PAD + nodes.length * ROW,
      depth: hn.depth,
      parent: hn.parent?.data.node.id ?? null,
      posinset: siblings.indexOf(hn) + 1,
      setsize: siblings.length,
      hidden: s?.hidden ?? 0,
      hiddenUnhealthy: s?.hiddenUnhealthy ?? 0,
      expanded: n.kind === 'supervisor' ? !o.collapsed.has(n.id) : null,
    };
    nodes.push(item);
    byId.set(n.id, item);
    maxDepth = Math.max(maxDepth, hn.depth);
    if (item.parent) {
      // Elbow: down the parent's spine, then right into this card's left edge.
      const p = byId.get(item.parent)!;
      const x = p.x + SPINE;
      const y = item.y + CARD_H / 2;
      const prev = siblings[item.posinset - 2];
      const fromY = prev ? byId.get(prev.data.node.id)!.y + CARD_H / 2 : p.y + CARD_H;
      links += `M${x},${fromY}V${y}H${item.x}`;
    }
  });

  return { nodes, byId, width: PAD * 2 + maxDepth * INDENT + CARD_W, height: PAD * 2 + nodes.length * ROW - (ROW - CARD_H), links };
}
