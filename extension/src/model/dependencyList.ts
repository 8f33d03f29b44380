/** The Dependencies and Faults views as plain data (see agentTree.ts). */
import type { BreakerState, DependencyStatus } from '../../../runtime/protocol/status.ts';
import type { ItemView } from './agentTree.ts';
import type { FaultView } from './snapshot.ts';

export const BREAKER_ICON: Record<BreakerState, { icon: string; color?: string }> = {
  closed: { icon: 'plug', color: 'testing.iconPassed' },
  'half-open': { icon: 'debug-disconnect', color: 'charts.yellow' },
  open: { icon: 'debug-disconnect', color: 'testing.iconFailed' },
  isolated: { icon: 'lock', color: 'charts.orange' },
};

export function dependencyItems(deps: DependencyStatus[] | undefined, faults: FaultView[]): ItemView[] {
  return (deps ?? []).map((d) => {
    const mine = faults.filter((f) => f.target === d.id);
    const { icon, color } = BREAKER_ICON[d.breaker] ?? BREAKER_ICON.open;
    const rate = `${(Math.max(0, d.errorRate ?? 0) * 100).toFixed(d.errorRate && d.errorRate < 0.1 ? 1 : 0)}% errors`;
    const parts = [d.breaker, rate];
    if (mine.length) parts.push(`⚡${mine.map((f) => f.fault).join(',')}`);
    const tokens = ['dependency', d.breaker];
    if (mine.length) tokens.push('hasFaults');
    const tooltip = [
      `**${d.id}**${d.kind ? ` — ${d.kind}` : ''}`,
      '',
      `breaker **${d.breaker}**, error rate ${((d.errorRate ?? 0) * 100).toFixed(1)}%`,
      ...(mine.length ? ['', `**Active faults:** ${mine.map((f) => `${f.fault}${Object.keys(f.params).length ? ` ${JSON.stringify(f.params)}` : ''} (${f.id})`).join(', ')}`] : []),
    ].join('\n');
    return { id: `dependency:${d.id}`, label: d.id, description: parts.join(' · '), icon, color, contextValue: tokens.join(' '), tooltip };
  });
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
