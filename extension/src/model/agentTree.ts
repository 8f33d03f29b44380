/**
 * The Agents view as plain data: one item per supervisor and agent, with the
 * icon, colour, description, tooltip and context tokens a tree item needs.
 * Pure, so unit tests check what a person would see without an editor.
 */
import type { AgentStatus, NodeState, SupervisorStatus, TreeNodeStatus } from '../../../runtime/protocol/status.ts';
import type { FaultView } from './snapshot.ts';

export interface ItemView {
  id: string;
  label: string;
  description: string;
  /** codicon id for ThemeIcon. */
  icon: string;
  /** theme colour id for ThemeColor, if any. */
  color?: string;
  /** Space-separated tokens menus match with `viewItem =~ /\btoken\b/`. */
  contextValue: string;
  /** Markdown. */
  tooltip: string;
  children?: ItemView[];
  /** With children: shown folded (default unfolded). */
  collapsed?: boolean;
  node?: TreeNodeStatus;
  /** A row of the Checkpoints view: whose checkpoint, which seq. */
  checkpoint?: { agent: string; seq: number };
}

export const STATE_ICON: Record<NodeState, { icon: string; color?: string }> = {
  starting: { icon: 'loading~spin', color: 'charts.blue' },
  running: { icon: 'pass-filled', color: 'testing.iconPassed' },
  restarting: { icon: 'sync~spin', color: 'charts.yellow' },
  backoff: { icon: 'watch', color: 'charts.yellow' },
  stopping: { icon: 'loading~spin', color: 'charts.orange' },
  stopped: { icon: 'circle-slash', color: 'disabledForeground' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
};

/** An agent whose message in flight waits for a signal (`ctx.waitFor`): running, but not working. */
export const WAITING_ICON = { icon: 'bell', color: 'charts.purple' };

/** The local time of day of an ISO time ("23:04:05"). */
export function clockText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Escapes text for the Markdown of a tooltip. */
export const esc = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');

function agentItem(a: AgentStatus, faults: FaultView[]): ItemView {
  const mine = faults.filter((f) => f.target === a.id);
  const waits = a.state === 'running' ? a.waiting ?? [] : [];
  const { icon, color } = mine.length && a.state === 'running' ? { icon: 'zap', color: 'charts.orange' } : waits.length ? WAITING_ICON : STATE_ICON[a.state] ?? STATE_ICON.failed;
  const parts: string[] = [a.state];
  // Right after the state: the sidebar is narrow, and a wait is what the user came to see.
  if (waits.length) parts.push(`waiting for ${waits.map((w) => `"${w.name}"`).join(', ')} since ${clockText(waits[0].since)}`);
  if (a.restarts) parts.push(`↻${a.restarts}`);
  if (a.pid !== null && a.pid !== undefined) parts.push(a.isolation === 'thread' ? `thread ${a.threadId ?? '?'}` : `pid ${a.pid}`);
  if (a.mailbox) parts.push(`✉${a.mailbox}`);
  if (mine.length) parts.push(`⚡${mine.map((f) => f.fault).join(',')}`);
  const tokens = ['agent', a.state, a.isolation];
  if (a.state !== 'stopped' && a.state !== 'failed' && a.state !== 'stopping') tokens.push('alive');
  tokens.push('canRestart');
  if (mine.length) tokens.push('hasFaults');
  if (waits.length) tokens.push('waiting');
  if (a.inspect) tokens.push('debuggable');
  const lines = [
    `**${esc(a.id)}** — agent, ${a.state}`,
    '',
    `| | |`,
    `|---|---|`,
    `| pid | ${a.pid ?? '—'}${a.isolation === 'thread' ? ` (thread ${a.threadId ?? '?'})` : ''} |`,
    `| restarts | ${a.restarts} |`,
    `| isolation | ${a.isolation} |`,
    `| restart type | ${a.restart} |`,
    `| module | \`${a.module}\` |`,
    `| mailbox | ${a.mailbox} |`,
    `| live / ready | ${a.liveness ? 'yes' : 'no'} / ${a.readiness ? 'yes' : 'no'} |`,
  ];
  if (a.startedAt) lines.push(`| started | ${a.startedAt} |`);
  if (a.inspect) lines.push(`| inspector | \`${a.inspect}\` |`);
  if (a.lastError) lines.push('', `**Last error** (${esc(a.lastError.type)}, ${a.lastError.time}): ${esc(a.lastError.message)}`);
  if (waits.length) lines.push('', `**Waiting** (\`ctx.waitFor\`): ${waits.map((w) => `signal "${esc(w.name)}" since ${w.since}`).join('; ')} — *Send Signal…* from the context menu`);
  if (mine.length) lines.push('', `**Active faults:** ${mine.map((f) => `${f.fault} (${f.id})`).join(', ')}`);
  return { id: `agent:${a.id}`, label: a.id, description: parts.join(' · '), icon, color, contextValue: tokens.join(' '), tooltip: lines.join('\n'), node: a };
}

function supervisorItem(s: SupervisorStatus, faults: FaultView[]): ItemView {
  const { icon, color } = s.state === 'running' ? { icon: 'organization', color: undefined } : STATE_ICON[s.state] ?? STATE_ICON.failed;
  const children = s.children.map((c) => nodeItem(c, faults));
  const parts: string[] = [s.strategy, s.state];
  if (s.restarts) parts.push(`↻${s.restarts}`);
  const lines = [
    `**${esc(s.id)}** — supervisor, ${s.state}`,
    '',
    `strategy \`${s.strategy}\`, intensity ${s.intensity.inWindow}/${s.intensity.limit} in ${Math.round(s.intensity.periodMs / 1000)} s, restarts ${s.restarts}`,
  ];
  if (s.lastError) lines.push('', `**Last error** (${esc(s.lastError.type)}): ${esc(s.lastError.message)}`);
  return { id: `supervisor:${s.id}`, label: s.id, description: parts.join(' · '), icon, color, contextValue: `supervisor ${s.state}`, tooltip: lines.join('\n'), children, node: s };
}

export function nodeItem(node: TreeNodeStatus, faults: FaultView[] = []): ItemView {
  return node.kind === 'agent' ? agentItem(node, faults) : supervisorItem(node, faults);
}

/** The whole tree under its root supervisor, whose strategy and intensity matter too. */
export function agentTree(tree: SupervisorStatus | undefined, faults: FaultView[] = []): ItemView[] {
  if (!tree) return [];
  return [supervisorItem(tree, faults)];
}
