/**
 * An agent's checkpoints as marks on a horizontal time axis: full and summary
 * as dots, restore and fork with their own icon and a word under it (they
 * change the agent's history), corrupt ones in the error colour with a cross.
 * Positions are set through the CSSOM (the page's CSP allows no style attributes).
 */
import type { DashboardCheckpoint } from '../../../runtime/protocol/webview.ts';
import { buildCheckpointTimeline, DEFAULT_TIMELINE_LIMIT } from '../model/checkpointTimeline.ts';
import { h, icon } from './dom.ts';
import { clock } from './format.ts';

const KIND_ICON: Record<DashboardCheckpoint['kind'], string> = { full: 'circle-filled', summary: 'circle-small-filled', restore: 'history', fork: 'repo-forked' };

export function checkpointTimeline(agent: string, rows: readonly DashboardCheckpoint[], limit = DEFAULT_TIMELINE_LIMIT): HTMLElement {
  const t = buildCheckpointTimeline(rows, limit, clock);
  // The lane is inset from the track's ends so that a label under the first or last mark stays inside.
  const lane = h('div', { class: 'cp-lane', role: 'list', 'aria-label': `Checkpoints of ${agent} over time, oldest first` });
  const track = h('div', { class: 'cp-track' }, lane);
  for (const m of t.marks) {
    const mark = h(
      'div',
      { class: `cp-mark kind-${m.kind}${m.valid ? '' : ' invalid'}`, role: 'listitem', title: m.title, 'aria-label': m.title.replace(/\n/g, ', '), 'data-seq': String(m.seq), 'data-kind': m.kind },
      icon(m.valid ? KIND_ICON[m.kind] : 'error', 'cp-icon'),
      m.label ? h('span', { class: 'cp-label', text: m.label }) : null,
    );
    mark.style.left = `${m.pct}%`;
    lane.append(mark);
  }
  const axis = h('div', { class: 'cp-axis' }, h('span', { text: t.marks.length ? clock(new Date(t.startMs).toISOString()) : '' }), h('span', { text: t.marks.length > 1 ? clock(new Date(t.endMs).toISOString()) : '' }));
  const caption = t.hidden > 0 ? h('p', { class: 'muted cp-caption', text: `The newest ${t.marks.length} of ${rows.length}.` }) : null;
  return h('div', { class: 'cp-timeline' }, track, axis, caption);
}
