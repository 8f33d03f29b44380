/**
 * The cluster's nodes above the supervision tree, one chip each: up or down
 * (icon, word and colour), which one this is (the node the extension is
 * connected to), how many children of the root it holds and how long ago its
 * last heartbeat was. Renders nothing when the runtime is not a cluster.
 */
import type { ClusterModel, ClusterNodeVM } from '../model/ClusterModel.ts';
import { h, icon, setText } from './dom.ts';
import { age } from './format.ts';

const children = (n: number) => `${n} ${n === 1 ? 'child' : 'children'}`;

export class ClusterView {
  readonly el: HTMLElement;
  private readonly summary: HTMLSpanElement;
  private readonly list: HTMLUListElement;
  /** Each chip's heartbeat text and its node, for the once-a-second tick. */
  private readonly ages = new Map<HTMLElement, ClusterNodeVM>();

  constructor(private readonly cluster: ClusterModel) {
    this.summary = h('span', { class: 'cluster-summary' });
    this.list = h('ul', { class: 'cluster-nodes', 'aria-label': 'Cluster nodes' });
    this.el = h('div', { class: 'cluster', role: 'group', 'aria-labelledby': 'h-cluster', hidden: true }, h('h3', { id: 'h-cluster' }, icon('server-environment'), ' Nodes ', this.summary), this.list);
  }

  render(): void {
    const c = this.cluster;
    this.el.hidden = !c.active;
    this.ages.clear();
    if (!c.active) {
      this.list.replaceChildren();
      return;
    }
    const up = c.nodes.filter((n) => n.state === 'up').length;
    setText(this.summary, `${up} of ${c.nodes.length} up`);
    this.list.replaceChildren(
      ...c.nodes.map((n) => {
        const beat = h('span', { class: 'cn-age' });
        this.ages.set(beat, n);
        const held = n.children.length ? n.children.join(', ') : 'nothing';
        return h(
          'li',
          { class: `cluster-node ${n.state}${n.self ? ' self' : ''}`, title: `${n.url || 'no control URL'}\nholds ${held}` },
          icon(n.state === 'up' ? 'vm-running' : 'vm-outline', 'cn-icon'),
          h('span', { class: 'cn-id', text: n.id }),
          n.self ? h('span', { class: 'cn-self', text: 'this node' }) : null,
          h('span', { class: 'cn-state', text: n.state }),
          h('span', { class: 'cn-held', text: children(n.children.length) }),
          beat,
        );
      }),
    );
    this.tick();
  }

  /** Once a second: a node that is down keeps ageing between snapshots. */
  tick(): void {
    const now = performance.now();
    for (const [el, n] of this.ages) {
      const a = this.cluster.heartbeatAge(n, now);
      const text = Number.isFinite(a) ? `heartbeat ${age(a)} ago` : 'no heartbeat seen';
      setText(el, text);
      const li = el.parentElement!;
      const label = `node ${n.id}${n.self ? ', this node' : ''}, ${n.state}, holds ${children(n.children.length)}, ${text}`;
      if (li.getAttribute('aria-label') !== label) li.setAttribute('aria-label', label);
    }
  }
}
