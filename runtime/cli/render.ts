/** Human-readable views of the status JSON for the terminal. */
import type { RuntimeStatus, TreeNodeStatus, NodeState } from '../protocol/status.ts';

const COLORS: Record<NodeState, number> = { running: 32, starting: 36, restarting: 33, backoff: 33, stopping: 35, stopped: 90, failed: 31 };

export interface RenderOptions { color: boolean; width?: number }

function paint(s: string, code: number, o: RenderOptions) {
  return o.color ? `\x1b[${code}m${s}\x1b[0m` : s;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The tree, one node a line, with states, pids, restarts and the last error of failed nodes. */
export function renderStatus(st: RuntimeStatus, o: RenderOptions): string {
  const lines: string[] = [];
  const sp = st.runtime.spares;
  const spares = sp ? `  spares ${sp.process}${sp.thread ? ` + ${sp.thread} thread` : ''}` : '';
  lines.push(`${paint(st.runtime.name, 1, o)}  runtime pid ${st.runtime.pid}  up ${duration(st.runtime.uptimeMs)}  v${st.runtime.version}${spares}${st.runtime.port ? `  http://127.0.0.1:${st.runtime.port}` : ''}`);
  const rows: [string, string, string, string][] = [];
  const walk = (n: TreeNodeStatus, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    const state = paint(n.state.padEnd(10), COLORS[n.state] ?? 0, o);
    if (n.kind === 'supervisor') {
      rows.push([`${branch}${n.id}`, `supervisor ${n.strategy}`, state, `restarts ${n.restarts} (${n.intensity.inWindow}/${n.intensity.limit} in ${n.intensity.periodMs / 1000}s)${n.node ? `  on ${n.node}` : ''}${n.lastError ? `  ${n.lastError.message}` : ''}`]);
      const childPrefix = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
      n.children.forEach((c, i) => walk(c, childPrefix, i === n.children.length - 1, false));
    } else {
      const pid = n.pid ? `pid ${n.pid}${n.threadId !== undefined ? `/t${n.threadId}` : ''}` : 'pid -';
      const waits = n.waiting?.length ? `  waiting for ${n.waiting.map((w) => `"${w.name}" since ${w.since.slice(11, 19)}`).join(', ')}` : '';
      const extra = (n.state === 'failed' && n.lastError ? `  ${n.lastError.type}: ${n.lastError.message}` : n.mailbox ? `  mailbox ${n.mailbox}` : '') + waits;
      rows.push([`${branch}${n.id}`, `agent ${n.isolation}`, state, `${pid.padEnd(14)} restarts ${n.restarts}${extra}${n.node ? `  on ${n.node}` : ''}`]);
    }
  };
  walk(st.tree, '', true, true);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const r of rows) lines.push(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}  ${r[3]}`);
  if (st.dependencies.length) {
    lines.push('');
    for (const d of st.dependencies) {
      const color = d.breaker === 'closed' ? 32 : d.breaker === 'half-open' ? 33 : 31;
      const sv = d.server;
      const server = sv ? `  mcp ${sv.transport} ${sv.state}${sv.pid ? ` pid ${sv.pid}` : ''}${sv.restarts ? ` restarts ${sv.restarts}` : ''}${sv.state !== 'running' && sv.lastError ? `  ${sv.lastError.message}` : ''}` : '';
      lines.push(`dependency ${d.id.padEnd(Math.max(10, w0 - 11))}  breaker ${paint(d.breaker.padEnd(9), color, o)}  errors ${(d.errorRate * 100).toFixed(1)}%${server}`);
    }
  }
  if (st.cluster) {
    lines.push('', renderNodes(st, o));
  }
  const width = o.width;
  return (width ? lines.map((l) => truncate(l, width, o.color)) : lines).join('\n');
}

/** A cluster's nodes, one a line: state, the children of the root each holds, its URL and when it was last seen. */
export function renderNodes(st: RuntimeStatus, o: RenderOptions): string {
  const c = st.cluster;
  if (!c) return 'not a cluster: the config has no "cluster" section';
  const rows = c.nodes.map((n) => [
    `${n.id}${n.id === c.node ? ' *' : ''}`,
    paint(n.state.padEnd(4), n.state === 'up' ? 32 : 31, o),
    `${n.children.length} ${n.children.length === 1 ? 'child ' : 'children'}`,
    n.url,
    `seen ${n.lastSeenMs < 1000 ? `${n.lastSeenMs}ms` : duration(n.lastSeenMs)} ago`,
    n.children.join(', '),
  ]);
  const w = [0, 2, 3].map((i) => Math.max(4, ...rows.map((r) => r[i].length)));
  return [`node${' '.repeat(w[0] - 4)}  state  held        url${' '.repeat(w[2] - 3)}  last seen`, ...rows.map((r) => `${r[0].padEnd(w[0])}  ${r[1]}   ${r[2].padEnd(10)}  ${r[3].padEnd(w[2])}  ${r[4]}${r[5] ? `  (${r[5]})` : ''}`)].join('\n');
}

function truncate(line: string, width: number, color: boolean): string {
  const visible = color ? line.replace(/\x1b\[[0-9;]*m/g, '') : line;
  if (visible.length <= width) return line;
  return color ? line : line.slice(0, width - 1) + '…';
}

/** One line for a state event, for plain (non-TTY) output. */
export function renderEvent(name: string, p: any): string | undefined {
  const t = typeof p?.time === 'string' ? p.time.slice(11, 23) : '';
  if (name === 'agent.state' && p.wait) return `${t} agent ${p.agent} ${p.wait.phase === 'start' ? 'waits for' : 'stopped waiting for'} "${p.wait.name}"${p.wait.outcome ? ` (${p.wait.outcome})` : ''}`;
  if (name === 'agent.state') return `${t} agent ${p.agent} ${p.previous} -> ${p.state}${p.pid ? ` pid ${p.pid}` : ''} restarts ${p.restarts}${p.reason ? ` (${p.reason})` : ''}${p.error ? `: ${p.error.type}: ${p.error.message}` : ''}`;
  if (name === 'supervisor.state') return `${t} supervisor ${p.supervisor} ${p.previous} -> ${p.state}${p.reason ? ` (${p.reason})` : ''}`;
  if (name === 'breaker.state') return `${t} breaker ${p.dependency} ${p.previous} -> ${p.state}`;
  if (name === 'alert') return `${t} alert ${p.state ?? ''} ${p.level ?? ''} ${p.rule ?? ''} ${p.subject ?? ''}`;
  return undefined;
}
