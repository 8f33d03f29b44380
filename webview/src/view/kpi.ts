/** A key figure: a title, a big value and a line under it, with a health tone. */
import { h, setText } from './dom.ts';

export type Tone = 'good' | 'warn' | 'bad' | 'none';

export interface Kpi {
  el: HTMLElement;
  set(value: string, sub: string, tone?: Tone): void;
}

export function kpi(title: string, iconName: string): Kpi {
  const value = h('span', { class: 'kpi-value', text: '—' });
  const sub = h('span', { class: 'kpi-sub' });
  const el = h('div', { class: 'kpi tone-none', role: 'group', 'aria-label': title }, h('span', { class: 'kpi-title' }, h('span', { class: `codicon codicon-${iconName}`, 'aria-hidden': 'true' }), ` ${title}`), value, sub);
  return {
    el,
    set(v, s, tone = 'none') {
      setText(value, v);
      setText(sub, s);
      const cls = `kpi tone-${tone}`;
      if (el.className !== cls) el.className = cls;
    },
  };
}

/**
 * A display heuristic for rates where higher is better: the alert rules decide
 * what fires; this only tints the figure so a drop catches the eye.
 */
export function rateTone(r: number | null): Tone {
  if (r === null) return 'none';
  return r >= 0.99 ? 'good' : r >= 0.95 ? 'warn' : 'bad';
}
