/**
 * Dependencies beside the tree: each breaker's state with an error-rate
 * sparkline, and each model fallback chain with the model serving now.
 */
import type { HealthModel } from '../model/HealthModel.ts';
import { h, icon } from './dom.ts';
import { pct } from './format.ts';
import { createSparkline, drawSparkline } from './sparkline.ts';

export const BREAKER_ICONS: Record<string, string> = { closed: 'pass', open: 'debug-disconnect', 'half-open': 'debug-pause', isolated: 'lock' };

export class DependenciesView {
  readonly el: HTMLElement;
  private readonly deps: HTMLUListElement;
  private readonly chains: HTMLUListElement;
  private readonly sparks = new Map<string, SVGSVGElement>();

  constructor(private readonly health: HealthModel) {
    this.deps = h('ul', { class: 'deps', 'aria-label': 'Dependencies' });
    this.chains = h('ul', { class: 'chains', 'aria-label': 'Model fallback chains' });
    this.el = h('section', { class: 'dependencies', 'aria-labelledby': 'h-deps' }, h('h3', { id: 'h-deps' }, icon('plug'), ' Dependencies'), this.deps, h('h3', {}, icon('arrow-right'), ' Fallback chains'), this.chains);
  }

  render(): void {
    const items: HTMLElement[] = [];
    for (const d of [...this.health.deps.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const label = `${d.id} error rate ${pct(d.errorRate)}`;
      let spark = this.sparks.get(d.id);
      if (!spark) this.sparks.set(d.id, (spark = createSparkline(label)));
      drawSparkline(spark, d.series, label);
      items.push(
        h(
          'li',
          { class: `dep breaker-${d.breaker}`, 'aria-label': `${d.id}${d.model ? ` (model ${d.model})` : ''}: breaker ${d.breaker}, error rate ${pct(d.errorRate)}` },
          h('span', { class: 'dep-name' }, h('span', { class: 'dep-id', text: d.id }), h('span', { class: 'dep-kind', text: d.model ? `${d.kind ?? 'model'} · ${d.model}` : (d.kind ?? '') })),
          h('span', { class: 'breaker' }, icon(BREAKER_ICONS[d.breaker] ?? 'circle-large-outline'), ` ${d.breaker}`),
          spark,
          h('span', { class: 'dep-rate', text: pct(d.errorRate) }),
        ),
      );
    }
    for (const id of [...this.sparks.keys()]) if (!this.health.deps.has(id)) this.sparks.delete(id);
    if (items.length === 0) items.push(h('li', { class: 'none', text: 'No dependencies configured.' }));
    this.deps.replaceChildren(...items);

    const chains: HTMLElement[] = [];
    for (const c of this.health.chains.values()) {
      const serving = this.health.servingOf(c);
      const links: (HTMLElement | string)[] = [];
      c.deps.forEach((id, i) => {
        if (i > 0) links.push(icon('arrow-right', 'sep'));
        const breaker = this.health.deps.get(id)?.breaker ?? 'closed';
        const isServing = id === serving.id;
        links.push(h('span', { class: `link breaker-${breaker}${isServing ? ' serving' : ''}`, title: `${id}: breaker ${breaker}${isServing ? ', serving' : ''}` }, isServing ? icon('pass-filled') : null, id));
      });
      chains.push(
        h(
          'li',
          { class: 'chain', 'aria-label': `chain ${c.name}: ${c.deps.join(' then ')}; ${serving.id ? `${serving.id} serving${serving.observed ? '' : ' (expected)'}` : 'nothing can serve'}` },
          h('span', { class: 'chain-name', text: c.name }),
          h('span', { class: 'chain-links' }, ...links),
          h('span', { class: 'chain-note', text: serving.id ? (serving.observed ? 'serving' : 'expected') : 'no model available' }),
        ),
      );
    }
    if (chains.length === 0) chains.push(h('li', { class: 'none', text: 'No fallback chains.' }));
    this.chains.replaceChildren(...chains);
  }
}
