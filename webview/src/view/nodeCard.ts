/**
 * One node of the tree as a card: state colour and icon, id, and the facts a
 * developer scans for (state, restarts, pid, isolation; for a supervisor its
 * strategy and intensity meter). Colour is never the only cue: each state has
 * its own icon and word, and the whole card has a spoken label.
 */
import type { LaidOut } from '../layout.ts';
import type { NodeVM } from '../model/TreeModel.ts';
import { h, icon, setAttr, setText } from './dom.ts';

export const STATE_ICONS: Record<string, string> = {
  running: 'pass-filled',
  starting: 'debug-start',
  restarting: 'sync',
  backoff: 'watch',
  stopping: 'debug-stop',
  stopped: 'circle-slash',
  failed: 'error',
};

export const stateIcon = (state: string) => STATE_ICONS[state] ?? 'circle-large-outline';

export interface NodeCard {
  el: HTMLDivElement;
  stateIcon: HTMLSpanElement;
  label: HTMLSpanElement;
  meta: HTMLSpanElement;
  badges: HTMLSpanElement;
  twisty?: HTMLSpanElement;
  meterFill?: HTMLSpanElement;
  meterText?: HTMLSpanElement;
  /** What was last drawn: an update that changes nothing touches no DOM. */
  key: string;
}

export function createCard(n: NodeVM): NodeCard {
  const si = icon(stateIcon(n.state), 'state-icon');
  const label = h('span', { class: 'label', text: n.id });
  const meta = h('span', { class: 'meta' });
  const badges = h('span', { class: 'badges' });
  const el = h('div', { class: `node ${n.kind}`, role: 'treeitem', tabindex: '-1' });
  el.dataset.id = n.id;
  const card: NodeCard = { el, stateIcon: si, label, meta, badges, key: '' };
  if (n.kind === 'supervisor') {
    // The twisty is a mouse target only: the keyboard uses ArrowLeft / ArrowRight on the item.
    card.twisty = icon('chevron-down', 'twisty');
    card.twisty.dataset.toggle = '1';
    card.meterFill = h('span', { class: 'meter-fill' });
    card.meterText = h('span', { class: 'meter-text' });
    const meter = h('span', { class: 'meter', title: 'Restarts in the intensity window / limit' }, card.meterFill);
    el.append(card.twisty, si, label, meta, meter, card.meterText, badges);
  } else {
    el.append(si, label, meta, badges);
  }
  return card;
}

/** In a cluster, the node that runs a child of the root, as its card shows it. */
export interface CardOwner {
  id: string;
  /** `unknown`: the cluster does not list the node. */
  state: 'up' | 'down' | 'unknown';
  /** The node the extension is connected to. */
  self: boolean;
}

/** Draws the node's current facts onto its card; cheap when nothing changed. */
export function updateCard(c: NodeCard, n: NodeVM, laid: LaidOut, selected: boolean, faults: number, alerts: number, owner?: CardOwner): void {
  const intensity = n.intensity;
  const key = `${n.state}|${n.restarts}|${n.pid}|${n.isolation}|${n.liveness}|${intensity?.inWindow}/${intensity?.limit}|${laid.expanded}|${laid.hidden}/${laid.hiddenUnhealthy}|${selected}|${faults}|${alerts}|${laid.posinset}/${laid.setsize}/${laid.depth}|${owner ? `${owner.id}/${owner.state}/${owner.self}` : ''}`;
  if (key === c.key) return;
  c.key = key;
  const el = c.el;
  el.className = `node ${n.kind} state-${n.state}${n.liveness === false ? ' unresponsive' : ''}${selected ? ' selected' : ''}${owner ? ' placed' : ''}`;
  c.stateIcon.className = `codicon codicon-${stateIcon(n.state)} state-icon`;
  setAttr(el, 'aria-level', String(laid.depth + 1));
  setAttr(el, 'aria-posinset', String(laid.posinset));
  setAttr(el, 'aria-setsize', String(laid.setsize));
  setAttr(el, 'aria-selected', String(selected));

  const facts: string[] = [];
  const spoken: string[] = [n.id, n.kind, n.liveness === false && n.state === 'running' ? 'running, not responding' : n.state];
  if (n.kind === 'agent') {
    facts.push(n.state, `↻ ${n.restarts}`);
    if (n.pid !== null) facts.push(`pid ${n.pid}`);
    if (n.isolation) facts.push(n.isolation === 'thread' ? 'thread' : 'proc');
    spoken.push(`${n.restarts} restart${n.restarts === 1 ? '' : 's'}`);
    if (n.pid !== null) spoken.push(`pid ${n.pid}`);
    if (n.isolation) spoken.push(`${n.isolation} isolation`);
  } else {
    facts.push(n.strategy ?? '');
    spoken.push(`strategy ${n.strategy ?? 'unknown'}`, `${n.restarts} restart${n.restarts === 1 ? '' : 's'}`);
    const inW = intensity?.inWindow ?? 0;
    const limit = intensity?.limit ?? 0;
    const ratio = limit > 0 ? Math.min(1, inW / limit) : 0;
    c.meterFill!.style.width = `${Math.round(ratio * 100)}%`;
    c.meterFill!.className = `meter-fill${ratio >= 1 ? ' full' : ratio >= 0.6 ? ' high' : ''}`;
    setText(c.meterText!, limit > 0 ? `${inW}/${limit}` : '');
    if (limit > 0) spoken.push(`intensity ${inW} of ${limit}`);
    c.twisty!.className = `codicon codicon-${laid.expanded ? 'chevron-down' : 'chevron-right'} twisty`;
    setAttr(el, 'aria-expanded', String(!!laid.expanded));
  }
  setText(c.meta, facts.join(' · '));

  c.badges.replaceChildren();
  if (owner) {
    const down = owner.state !== 'up';
    const what = `on node ${owner.id}${owner.self ? ', this node' : ''}${owner.state === 'down' ? ', which is down' : owner.state === 'unknown' ? ', not in the cluster' : ''}`;
    c.badges.append(h('span', { class: `badge badge-node${down ? ' down' : ''}${owner.self ? ' self' : ''}`, title: `Runs ${what}` }, icon(down ? 'vm-outline' : 'vm'), h('span', { class: 'badge-text', text: owner.id })));
    spoken.push(what);
  }
  if (laid.hidden > 0) {
    c.badges.append(h('span', { class: `badge badge-hidden${laid.hiddenUnhealthy ? ' warn' : ''}`, text: `+${laid.hidden}`, title: `${laid.hidden} hidden, ${laid.hiddenUnhealthy} unhealthy` }));
    spoken.push(`${laid.hidden} hidden below${laid.hiddenUnhealthy ? `, ${laid.hiddenUnhealthy} unhealthy` : ''}`);
  }
  if (faults > 0) {
    c.badges.append(h('span', { class: 'badge badge-fault', title: `${faults} active fault${faults === 1 ? '' : 's'}` }, icon('zap'), String(faults)));
    spoken.push(`${faults} active fault${faults === 1 ? '' : 's'}`);
  }
  if (alerts > 0) {
    c.badges.append(h('span', { class: 'badge badge-alert', title: `${alerts} active alert${alerts === 1 ? '' : 's'}` }, icon('bell'), String(alerts)));
    spoken.push(`${alerts} alert${alerts === 1 ? '' : 's'}`);
  }
  setAttr(el, 'aria-label', spoken.join(', '));
}

/** A ring that grows out of the card once: a restart happened here. */
export function pulse(c: NodeCard): void {
  if (typeof c.el.animate !== 'function' || matchMedia('(prefers-reduced-motion: reduce)').matches) return;
  c.el.animate(
    [
      { boxShadow: '0 0 0 0 var(--fl-pulse)' },
      { boxShadow: '0 0 0 10px transparent' },
    ],
    { duration: 900, easing: 'ease-out' },
  );
}
