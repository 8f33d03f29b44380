/**
 * The strip across the top: which runtime, whether the extension is linked to
 * it, the agent counts, and the view switches (pause live updates, unhealthy
 * only, refresh). Switches are toggle buttons with aria-pressed.
 */
import type { RuntimeInfo } from '../model/HealthModel.ts';
import { h, icon, setAttr, setText } from './dom.ts';
import { duration } from './format.ts';

export interface ToolbarCallbacks {
  togglePause(): void;
  toggleUnhealthy(): void;
  refresh(): void;
}

export class Toolbar {
  readonly el: HTMLElement;
  private readonly runtime: HTMLElement;
  private readonly link: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly pause: HTMLButtonElement;
  private readonly unhealthy: HTMLButtonElement;
  private info: RuntimeInfo | null = null;

  constructor(cb: ToolbarCallbacks) {
    this.runtime = h('span', { class: 'runtime', text: 'no runtime yet' });
    this.link = h('span', { class: 'link-state connecting', role: 'status', text: 'connecting' });
    this.counts = h('span', { class: 'counts', 'aria-live': 'off' });
    this.pause = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', 'data-action': 'pause', onclick: () => cb.togglePause() });
    this.unhealthy = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', 'data-action': 'unhealthy', onclick: () => cb.toggleUnhealthy() }, icon('filter'), ' Unhealthy only');
    const refresh = h('button', { type: 'button', class: 'toggle', 'data-action': 'refresh', 'aria-label': 'Refresh: ask for a full snapshot', title: 'Refresh', onclick: () => cb.refresh() }, icon('refresh'));
    this.el = h(
      'header',
      { class: 'toolbar' },
      h('h1', {}, icon('type-hierarchy'), ' Faultline'),
      this.runtime,
      this.link,
      this.counts,
      h('span', { class: 'spacer' }),
      h('div', { class: 'switches', role: 'toolbar', 'aria-label': 'View' }, this.pause, this.unhealthy, refresh),
    );
    this.setPaused(false, 0);
  }

  setRuntime(info: RuntimeInfo): void {
    this.info = info;
    this.tick();
  }

  /** Once a second: the uptime keeps counting between snapshots. */
  tick(): void {
    const i = this.info;
    if (!i || !i.name) return;
    const up = i.uptimeMs !== null ? ` · up ${duration(i.uptimeMs + performance.now() - i.at)}` : '';
    setText(this.runtime, `${i.name}${i.version ? ` v${i.version}` : ''}${i.pid !== null ? ` · pid ${i.pid}` : ''}${up}`);
  }

  setLink(state: string, message?: string): void {
    this.link.className = `link-state ${state}`;
    setText(this.link, message ? `${state}: ${message}` : state);
  }

  setCounts(c: { agents: number; unhealthy: number; byState: Map<string, number> }): void {
    const parts = [`${c.agents} agents`];
    for (const s of ['running', 'starting', 'restarting', 'backoff', 'stopping', 'stopped', 'failed']) {
      const n = c.byState.get(s);
      if (n) parts.push(`${n} ${s}`);
    }
    setText(this.counts, parts.join(' · '));
  }

  setPaused(paused: boolean, held: number): void {
    setAttr(this.pause, 'aria-pressed', String(paused));
    this.pause.replaceChildren(icon(paused ? 'debug-continue' : 'debug-pause'), paused ? ` Resume${held ? ` (${held} held)` : ''}` : ' Pause');
    setAttr(this.pause, 'aria-label', paused ? `Resume live updates${held ? `, ${held} updates held` : ''}` : 'Pause live updates');
  }

  setUnhealthy(on: boolean): void {
    setAttr(this.unhealthy, 'aria-pressed', String(on));
    this.unhealthy.firstElementChild!.className = `codicon codicon-${on ? 'filter-filled' : 'filter'}`;
  }
}
