/** The Dependencies and Faults views as plain data (see agentTree.ts). */
import type { BreakerState, DependencyStatus } from '../../../runtime/protocol/status.ts';
import type { McpTool } from '../../../runtime/protocol/schema/mcp.ts';
import { esc, type ItemView } from './agentTree.ts';
import type { ToolList } from './McpTools.ts';
import type { FaultView } from './snapshot.ts';

export const BREAKER_ICON: Record<BreakerState, { icon: string; color?: string }> = {
  closed: { icon: 'plug', color: 'testing.iconPassed' },
  'half-open': { icon: 'debug-disconnect', color: 'charts.yellow' },
  open: { icon: 'debug-disconnect', color: 'testing.iconFailed' },
  isolated: { icon: 'lock', color: 'charts.orange' },
};

/** One row per dependency; an MCP dependency's server tools are its children (`tools` gives the lists read so far). */
export function dependencyItems(deps: DependencyStatus[] | undefined, faults: FaultView[], tools?: (dependency: string) => ToolList | undefined): ItemView[] {
  return (deps ?? []).map((d) => {
    const mine = faults.filter((f) => f.target === d.id);
    const { icon, color } = BREAKER_ICON[d.breaker] ?? BREAKER_ICON.open;
    const rate = `${(Math.max(0, d.errorRate ?? 0) * 100).toFixed(d.errorRate && d.errorRate < 0.1 ? 1 : 0)}% errors`;
    const parts = [d.breaker, rate];
    const sv = d.server;
    if (sv) parts.push(sv.state === 'running' ? `${sv.transport}${sv.pid ? ` pid ${sv.pid}` : ''}` : `server ${sv.state}`);
    if (mine.length) parts.push(`⚡${mine.map((f) => f.fault).join(',')}`);
    const tokens = ['dependency', d.breaker];
    if (d.kind === 'mcp') tokens.push('mcp', ...(sv?.transport === 'stdio' ? ['mcpStdio'] : []));
    if (mine.length) tokens.push('hasFaults');
    const tooltip = [
      `**${d.id}**${d.kind ? ` — ${d.kind}` : ''}`,
      '',
      `breaker **${d.breaker}**, error rate ${((d.errorRate ?? 0) * 100).toFixed(1)}%`,
      ...(sv ? ['', `MCP server over ${sv.transport}: **${sv.state}**${sv.pid ? `, pid ${sv.pid}` : ''}, restarts ${sv.restarts}${d.toolErrors ? `, tool errors ${d.toolErrors}` : ''}`, ...(sv.lastError ? [`last: ${esc(sv.lastError.message)}`] : [])] : []),
      ...(mine.length ? ['', `**Active faults:** ${mine.map((f) => `${f.fault}${Object.keys(f.params).length ? ` ${JSON.stringify(f.params)}` : ''} (${f.id})`).join(', ')}`] : []),
    ].join('\n');
    const item: ItemView = { id: `dependency:${d.id}`, label: d.id, description: parts.join(' · '), icon, color, contextValue: tokens.join(' '), tooltip };
    if (d.kind === 'mcp' && tools) {
      const children = toolItems(d.id, tools(d.id));
      if (children.length) Object.assign(item, { children, collapsed: true });
    }
    return item;
  });
}

/** The rows under an MCP dependency: one per tool, or one that says why there are none. */
export function toolItems(dependency: string, list: ToolList | undefined): ItemView[] {
  if (!list) return [];
  if (list.error) return [{ id: `tool:${dependency}:`, label: 'tools unavailable', description: list.error, icon: 'warning', color: 'charts.yellow', contextValue: 'mcpToolsError', tooltip: esc(list.error) }];
  return (list.tools ?? []).map((t) => toolItem(dependency, t, !!list.stale));
}

function toolItem(dependency: string, t: McpTool, stale: boolean): ItemView {
  const props = (t.inputSchema.properties ?? {}) as Record<string, { type?: unknown; description?: unknown }>;
  const required = new Set(Array.isArray(t.inputSchema.required) ? (t.inputSchema.required as string[]) : []);
  const args = Object.entries(props).map(([k, p]) => `| \`${esc(k)}\`${required.has(k) ? ' *' : ''} | ${typeof p?.type === 'string' ? p.type : ''} | ${typeof p?.description === 'string' ? esc(p.description) : ''} |`);
  const ro = t.annotations?.readOnlyHint === true;
  const tooltip = [
    `**${esc(t.title ?? t.name)}** — tool of ${esc(dependency)}${stale ? ' (last known list)' : ''}`,
    ...(t.description ? ['', esc(t.description)] : []),
    ...(args.length ? ['', '| argument | type | |', '|---|---|---|', ...args] : []),
    '',
    `\`ctx.call('${dependency}', { tool: '${t.name}', arguments: {…} })\``,
  ].join('\n');
  return {
    id: `tool:${dependency}:${t.name}`,
    label: t.name,
    description: (t.description ?? '').split('\n')[0].slice(0, 80),
    icon: ro ? 'eye' : 'tools',
    contextValue: 'mcpTool',
    tooltip,
  };
}

/** One line describing a fault's parameters, e.g. `status 503, 2000 ms`. */
export function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (k === 'point' ? `at ${v}` : k.endsWith('Ms') || k === 'ms' ? `${k === 'ms' ? '' : `${k.slice(0, -2)} `}${v} ms` : `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`))
    .join(', ');
}

export function faultItems(faults: FaultView[]): ItemView[] {
  return faults.map((f) => {
    const p = describeParams(f.params);
    return {
      id: `fault:${f.id}`,
      label: `${f.fault} → ${f.target}`,
      description: [p, f.fired ? `fired ${f.fired}×` : '', f.expiresAt ? `until ${f.expiresAt.slice(11, 19)}` : ''].filter(Boolean).join(' · '),
      icon: 'zap',
      color: 'charts.orange',
      contextValue: `fault ${f.kind ?? ''}`.trim(),
      tooltip: `**${f.fault}** on **${f.target}** (${f.id})${p ? `\n\n${p}` : ''}${f.createdAt ? `\n\nsince ${f.createdAt}` : ''}`,
    };
  });
}
