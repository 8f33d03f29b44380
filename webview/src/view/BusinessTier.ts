/** Top tier: is the system doing its job? Task completion, SLA compliance, and the alerts firing now. */
import type { HealthModel } from '../model/HealthModel.ts';
import { h, icon, setText } from './dom.ts';
import { count, duration, pct } from './format.ts';
import { kpi, rateTone } from './kpi.ts';

export class BusinessTier {
  readonly el: HTMLElement;
  private readonly tasks = kpi('Task completion', 'pass');
  private readonly sla = kpi('SLA compliance', 'watch');
  private readonly alertCount = kpi('Active alerts', 'bell');
  private readonly list: HTMLUListElement;
  private readonly since = new Map<HTMLElement, number>();

  constructor(private readonly health: HealthModel) {
    this.list = h('ul', { class: 'alerts', 'aria-label': 'Active alerts' });
    this.el = h(
      'section',
      { class: 'tier business', 'aria-labelledby': 'h-business' },
      h('h2', { id: 'h-business' }, icon('organization'), ' Business'),
      h('div', { class: 'kpis' }, this.tasks.el, this.sla.el, this.alertCount.el),
      this.list,
    );
  }

  render(): void {
    const b = this.health.business;
    this.tasks.set(pct(b.taskCompletion), b.tasks !== null ? `of ${count(b.tasks)} tasks` : 'no tasks yet', rateTone(b.taskCompletion));
    this.sla.set(pct(b.sla), b.asks !== null ? `of ${count(b.asks)} asks in target` : 'no asks yet', rateTone(b.sla));
    this.renderAlerts();
  }

  renderAlerts(): void {
    const alerts = [...this.health.alerts.values()].sort((a, b) => (a.level === b.level ? (a.since < b.since ? -1 : 1) : a.level === 'critical' ? -1 : 1));
    const critical = alerts.filter((a) => a.level === 'critical').length;
    this.alertCount.set(String(alerts.length), alerts.length ? `${critical} critical, ${alerts.length - critical} warning` : 'all quiet', critical ? 'bad' : alerts.length ? 'warn' : 'good');
    this.since.clear();
    const items = alerts.map((a) => {
      const when = h('span', { class: 'since' });
      const t = Date.parse(a.since);
      // Without a start time (a client that does not track it) the alert still says it is firing.
      if (Number.isFinite(t)) this.since.set(when, t);
      else when.textContent = 'firing';
      return h(
        'li',
        { class: `alert ${a.level}`, 'aria-label': `${a.level} alert: ${a.message}` },
        icon(a.level === 'critical' ? 'error' : 'warning'),
        h('span', { class: 'alert-level', text: a.level }),
        h('span', { class: 'alert-msg', text: a.message, title: `${a.rule} on ${a.subjectKind ?? ''} ${a.subject}` }),
        when,
      );
    });
    if (items.length === 0) items.push(h('li', { class: 'alert none', text: 'No active alerts.' }));
    this.list.replaceChildren(...items);
    this.tick();
  }

  /** Once a second: how long each alert has been firing. */
  tick(): void {
    const now = Date.now();
    for (const [el, t] of this.since) setText(el, `firing ${duration(now - t)}`);
  }
}
