/**
 * Lays out an xstate v5 machine definition (`machine.toJSON()`, as the
 * runtime's `machine` method serves it) for the side panel: pure, no DOM.
 *
 * The panel is narrow, so the drawing is a vertical layered chart: the
 * top-level states are boxes in layers from the initial state (breadth first
 * over the transitions between them), at most `columns` a row; a compound
 * state draws its children inside its box, one row each, a grandchild as a
 * chip in its parent's row. Transitions between top-level states are edges
 * (one per pair, all its events on its label); a transition inside one
 * top-level state is listed in that box (`live → late · after heartbeatTimeout`).
 * Delayed transitions are labelled `after <delay>`, eventless ones `always`.
 */

/** The parts of an xstate JSON state node the layout reads. */
export interface DefinitionNode {
  id?: string;
  key?: string;
  type?: string;
  initial?: { target?: string[] } | string;
  states?: Record<string, DefinitionNode>;
  on?: Record<string, DefinitionTransition[]>;
  always?: DefinitionTransition[];
}
export interface DefinitionTransition {
  target?: string[];
  delay?: string | number;
  eventType?: string;
  guard?: unknown;
}

export interface StateBox {
  /** State path below the machine: `running`, `running.live`. */
  path: string;
  label: string;
  depth: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Final or initial markers: the machine's initial state. */
  initial: boolean;
}

export interface Edge {
  from: string;
  to: string;
  /** Event labels of every transition from `from` to `to`, in definition order. */
  labels: string[];
  /** Only eventless transitions: drawn dashed. */
  always: boolean;
  /** SVG path data. */
  d: string;
  /** Where the label goes. */
  lx: number;
  ly: number;
}

export interface InnerTransition {
  /** The top-level state whose box lists it. */
  owner: string;
  from: string;
  to: string;
  label: string;
}

export interface StatechartLayout {
  id: string;
  width: number;
  height: number;
  boxes: StateBox[];
  edges: Edge[];
  inner: InnerTransition[];
}

export interface LayoutOptions {
  width?: number;
  columns?: number;
}

const PAD = 8;
const GAP_X = 28;
const GAP_Y = 34;
const HEADER = 22;
const CHILD_H = 20;
const CHILD_GAP = 4;
const INNER_LINE = 14;
const LEAF_H = 28;

/** A transition's label: its event, `after <delay>` for a delayed one, `always` for an eventless one. */
export function transitionLabel(event: string, t: DefinitionTransition): string {
  if (t.delay !== undefined || event.startsWith('xstate.after.')) {
    const d = t.delay ?? event.split('.')[2];
    return typeof d === 'number' ? `after ${d} ms` : `after ${d}`;
  }
  if (event === 'always' || event === '') return 'always';
  if (event.startsWith('xstate.done.actor.')) return `done ${event.slice('xstate.done.actor.'.length)}`;
  if (event.startsWith('xstate.error.actor.')) return `error ${event.slice('xstate.error.actor.'.length)}`;
  return event;
}

/** The path below the machine of a `#machine.a.b` target: `a.b`. */
function targetPath(machineId: string, target: string): string | null {
  const t = target.startsWith('#') ? target.slice(1) : target;
  if (t === machineId) return null;
  return t.startsWith(`${machineId}.`) ? t.slice(machineId.length + 1) : null;
}

function initialKey(node: DefinitionNode): string | undefined {
  const i = node.initial;
  if (typeof i === 'string') return i;
  const t = i?.target?.[0];
  return t ? t.slice(t.lastIndexOf('.') + 1) : undefined;
}

interface RawTransition { from: string; to: string; label: string; always: boolean }

/** Every transition of the definition, from the state path that declares it to its target path. */
export function transitionsOf(def: DefinitionNode): RawTransition[] {
  const machineId = def.id ?? 'machine';
  const out: RawTransition[] = [];
  const visit = (node: DefinitionNode, path: string) => {
    const add = (event: string, t: DefinitionTransition) => {
      for (const target of t.target ?? []) {
        const to = targetPath(machineId, target);
        if (to !== null && path) out.push({ from: path, to, label: transitionLabel(event, t), always: event === 'always' });
      }
    };
    for (const [event, ts] of Object.entries(node.on ?? {})) for (const t of ts ?? []) add(event, t);
    for (const t of node.always ?? []) add('always', t);
    for (const [key, child] of Object.entries(node.states ?? {})) visit(child, path ? `${path}.${key}` : key);
  };
  visit(def, '');
  return out;
}

const top = (path: string) => path.split('.')[0];

/** Computes where every state, edge and label goes. */
export function layoutStatechart(def: DefinitionNode, opts: LayoutOptions = {}): StatechartLayout {
  const width = opts.width ?? 340;
  const columns = Math.max(1, opts.columns ?? 2);
  const states = def.states ?? {};
  const keys = Object.keys(states);
  const transitions = transitionsOf(def);

  // Layers: breadth first from the initial state over edges between top-level states; unreachable ones last.
  const next = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const t of transitions) {
    const a = top(t.from);
    const b = top(t.to);
    if (a !== b && next.has(a) && next.has(b) && !next.get(a)!.includes(b)) next.get(a)!.push(b);
  }
  const layerOf = new Map<string, number>();
  const first = initialKey(def) ?? keys[0];
  const queue = first ? [first] : [];
  if (first) layerOf.set(first, 0);
  while (queue.length) {
    const k = queue.shift()!;
    for (const n of next.get(k) ?? []) {
      if (!layerOf.has(n)) {
        layerOf.set(n, layerOf.get(k)! + 1);
        queue.push(n);
      }
    }
  }
  let last = Math.max(-1, ...layerOf.values());
  for (const k of keys) if (!layerOf.has(k)) layerOf.set(k, ++last);

  // Rows: each layer in definition order, wrapped at `columns`.
  const rows: string[][] = [];
  for (let l = 0; l <= last; l++) {
    const inLayer = keys.filter((k) => layerOf.get(k) === l);
    for (let i = 0; i < inLayer.length; i += columns) rows.push(inLayer.slice(i, i + columns));
  }

  const inner: InnerTransition[] = [];
  const seenInner = new Set<string>();
  for (const t of transitions) {
    if (top(t.from) !== top(t.to) || t.from === t.to) continue;
    const key = `${t.from}\u0000${t.to}\u0000${t.label}`;
    if (seenInner.has(key)) continue;
    seenInner.add(key);
    inner.push({ owner: top(t.from), from: t.from, to: t.to, label: t.label });
  }

  const boxes: StateBox[] = [];
  let y = PAD;
  for (const row of rows) {
    const w = (width - 2 * PAD - GAP_X * (row.length - 1)) / row.length;
    const heights = row.map((k) => boxHeight(states[k], inner.filter((t) => t.owner === k).length));
    const rowH = Math.max(...heights);
    row.forEach((k, i) => {
      const x = PAD + i * (w + GAP_X);
      const h = heights[i];
      const by = y + (rowH - h) / 2;
      boxes.push({ path: k, label: k, depth: 0, x, y: by, w, h, initial: k === first });
      let cy = by + HEADER;
      for (const [ck, child] of Object.entries(states[k].states ?? {})) {
        const path = `${k}.${ck}`;
        boxes.push({ path, label: ck, depth: 1, x: x + 6, y: cy, w: w - 12, h: CHILD_H, initial: false });
        const grand = Object.keys(child.states ?? {});
        if (grand.length) {
          const gw = Math.min(52, (w - 12 - 60) / grand.length - 4);
          grand.forEach((gk, gi) => boxes.push({ path: `${path}.${gk}`, label: gk, depth: 2, x: x + w - 8 - (grand.length - gi) * (gw + 4), y: cy + 3, w: gw, h: CHILD_H - 6, initial: false }));
        }
        cy += CHILD_H + CHILD_GAP;
      }
    });
    y += rowH + GAP_Y;
  }
  const height = y - GAP_Y + PAD + 4;

  const box = new Map(boxes.filter((b) => b.depth === 0).map((b) => [b.path, b]));
  const pairs = new Map<string, { from: string; to: string; labels: string[]; always: boolean }>();
  for (const t of transitions) {
    const a = top(t.from);
    const b = top(t.to);
    if (a === b && t.from !== t.to && a !== t.from) continue; // inside one box: listed there
    if (a === b && t.from !== a) continue;
    const key = `${a}\u0000${b}`;
    const e = pairs.get(key) ?? { from: a, to: b, labels: [], always: true };
    if (!e.labels.includes(t.label)) e.labels.push(t.label);
    e.always &&= t.always;
    pairs.set(key, e);
  }
  const edges: Edge[] = [];
  for (const e of pairs.values()) {
    const a = box.get(e.from);
    const b = box.get(e.to);
    if (!a || !b) continue;
    edges.push({ ...e, ...route(a, b, width) });
  }
  return { id: def.id ?? 'machine', width, height, boxes, edges, inner };
}

function boxHeight(node: DefinitionNode, innerCount: number): number {
  const children = Object.keys(node.states ?? {}).length;
  if (!children) return LEAF_H;
  return HEADER + children * (CHILD_H + CHILD_GAP) + innerCount * INNER_LINE + 4;
}

/** A curve from one box to another: down or up between rows, around the side within a row, a loop for a self-transition. */
function route(a: StateBox, b: StateBox, width: number): { d: string; lx: number; ly: number } {
  const r = (n: number) => Math.round(n * 10) / 10;
  if (a === b) {
    const x = a.x + a.w;
    const y = a.y + Math.min(14, a.h / 2);
    return { d: `M ${r(x)} ${r(y - 6)} C ${r(x + 22)} ${r(y - 14)}, ${r(x + 22)} ${r(y + 14)}, ${r(x)} ${r(y + 6)}`, lx: x + 4, ly: y - 12 };
  }
  const ax = a.x + a.w / 2;
  const bx = b.x + b.w / 2;
  if (Math.abs(a.y - b.y) < 1) {
    // Same row: over the top between the two boxes.
    const [l, rgt] = a.x < b.x ? [a, b] : [b, a];
    const sx = a === l ? l.x + l.w : rgt.x;
    const tx = a === l ? rgt.x : l.x + l.w;
    const y = Math.min(a.y, b.y) + 10;
    return { d: `M ${r(sx)} ${r(y)} C ${r((sx + tx) / 2)} ${r(y - 16)}, ${r((sx + tx) / 2)} ${r(y - 16)}, ${r(tx)} ${r(y)}`, lx: (sx + tx) / 2, ly: y - 14 };
  }
  const down = b.y > a.y;
  const sy = down ? a.y + a.h : a.y;
  const ty = down ? b.y : b.y + b.h;
  // Upward edges leave and arrive off-centre so they do not sit on the downward ones.
  const shift = down ? 0 : Math.min(a.w, b.w) / 4;
  const sx = ax + shift;
  const tx = bx + shift;
  const bend = Math.max(18, Math.abs(ty - sy) / 2);
  if (!down && Math.abs(b.y - a.y) > 2 * (a.h + GAP_Y)) {
    // A long way up: around the right edge of the chart, clear of the rows between.
    const gx = width - 3;
    return { d: `M ${r(a.x + a.w)} ${r(a.y + a.h / 2)} C ${r(gx)} ${r(a.y + a.h / 2)}, ${r(gx)} ${r(b.y + b.h / 2)}, ${r(b.x + b.w)} ${r(b.y + b.h / 2)}`, lx: gx - 4, ly: (a.y + b.y + b.h) / 2 };
  }
  return { d: `M ${r(sx)} ${r(sy)} C ${r(sx)} ${r(sy + (down ? bend : -bend))}, ${r(tx)} ${r(ty + (down ? -bend : bend))}, ${r(tx)} ${r(ty)}`, lx: (sx + tx) / 2, ly: (sy + ty) / 2 };
}

/** The state paths active at `path` (`running.live` → `running`, `running.live`). */
export function activePaths(path: string): string[] {
  const parts = path.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}
