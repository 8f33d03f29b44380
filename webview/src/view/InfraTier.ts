/** Bottom tier: what it costs to run. CPU, memory per agent and in total, event-loop lag, API spend. */
import type { HealthModel } from '../model/HealthModel.ts';
import type { TreeModel } from '../model/TreeModel.ts';
import { h, icon } from './dom.ts';
import { mib, money, ms, NONE, pct } from './format.ts';
import { kpi } from './kpi.ts';

const TOP = 8;

export class InfraTier {
  readonly el: HTMLElement;
  private readonly cpu = kpi('CPU', 'pulse');
  private readonly mem = kpi('Memory', 'server-process');
  private readonly lag = kpi('Event-loop lag', 'history');
  private readonly cost = kpi('API cost', 'credit-card');
  private readonly bars: HTMLOListElement;

  constructor(private readonly health: HealthModel, private readonly tree: TreeModel) {
    this.bars = h('ol', { class: 'bars', 'aria-label': `Memory per agent, top ${TOP}` });
    this.el = h(
      'section',
      { class: 'tier infra', 'aria-labelledby': 'h-infra' },
      h('h2', { id: 'h-infra' }, icon('server'), ' Infrastructure'),
      h('div', { class: 'kpis' }, this.cpu.el, this.mem.el, this.lag.el, this.cost.el),
      h('h3', { text: 'Memory per agent' }),
      this.bars,
    );
  }

  /** Per-agent memory and CPU: the summary's maps, else what the status gives per node. */
  private perAgent(): { id: string; mem: number; cpu: number | null }[] {
    const inf = this.health.infra;
    const out: { id: string; mem: number; cpu: number | null }[] = [];
    for (const n of this.tree.nodes.values()) {
      if (n.kind !== 'agent') continue;
      const mem = inf.agentMem.get(n.id) ?? n.rssBytes;
      if (mem === undefined) continue;
      out.push({ id: n.id, mem, cpu: inf.agentCpu.get(n.id) ?? n.cpu ?? null });
    }
    return out;
  }

  render(): void {
    const inf = this.health.infra;
    const agents = this.perAgent();
    const agentsMem = inf.memAgents ?? (agents.length ? agents.reduce((s, a) => s + a.mem, 0) : null);
    const total = inf.memRuntime !== null || agentsMem !== null ? (inf.memRuntime ?? 0) + (agentsMem ?? 0) : null;
    this.cpu.set(inf.cpuRuntime !== null || inf.cpuAgents !== null ? pct((inf.cpuRuntime ?? 0) + (inf.cpuAgents ?? 0), 0) : NONE, `runtime ${pct(inf.cpuRuntime, 0)} · agents ${pct(inf.cpuAgents, 0)}`);
    this.mem.set(mib(total), `runtime ${mib(inf.memRuntime)} · agents ${mib(agentsMem)}`);
    this.lag.set(ms(inf.loopLagMs), 'p99 of the runtime', inf.loopLagMs === null ? 'none' : inf.loopLagMs > 200 ? 'bad' : inf.loopLagMs > 50 ? 'warn' : 'good');
    this.cost.set(money(inf.apiCost, inf.currency), inf.tokens !== null ? `${inf.tokens.toLocaleString()} tokens` : 'no model calls yet');

    agents.sort((a, b) => b.mem - a.mem);
    const top = agents.slice(0, TOP);
    const max = top[0]?.mem ?? 1;
    const items = top.map((a) => {
      const fill = h('span', { class: 'bar-fill' });
      fill.style.width = `${Math.max(2, Math.round((a.mem / max) * 100))}%`;
      return h('li', { class: 'bar', 'aria-label': `${a.id}: ${mib(a.mem)}, CPU ${pct(a.cpu, 0)}` }, h('span', { class: 'bar-label', text: a.id }), h('span', { class: 'bar-track' }, fill), h('span', { class: 'bar-value', text: `${mib(a.mem)} · ${pct(a.cpu, 0)}` }));
    });
    if (items.length === 0) items.push(h('li', { class: 'bar none', text: 'No per-agent samples yet.' }));
    this.bars.replaceChildren(...items);
  }
}
