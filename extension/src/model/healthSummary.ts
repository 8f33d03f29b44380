/** The status bar's text: agents up/total, open breakers, active faults, worst alert. */
import { agentsOf } from '../../../runtime/protocol/status.ts';
import type { RuntimeState } from '../runtime/RuntimeManager.ts';
import type { Snapshot } from './snapshot.ts';

export interface HealthSummary {
  text: string;
  /** Markdown. */
  tooltip: string;
  severity: 'ok' | 'warning' | 'error' | 'off';
  up: number;
  total: number;
  openBreakers: number;
  faults: number;
}

export function healthSummary(state: RuntimeState, s: Snapshot, o: { chaos?: boolean } = {}): HealthSummary {
  if (state !== 'connected' || !s.status) {
    const word = { stopped: 'stopped', starting: 'starting…', reconnecting: 'reconnecting…', failed: 'failed', connected: 'connecting…' }[state];
    return { text: `$(${state === 'failed' ? 'error' : state === 'stopped' ? 'circle-slash' : 'loading~spin'}) Faultline ${word}`, tooltip: `Faultline runtime ${word}`, severity: state === 'failed' ? 'error' : 'off', up: 0, total: 0, openBreakers: 0, faults: 0 };
  }
  const agents = agentsOf(s.status.tree);
  const up = agents.filter((a) => a.state === 'running').length;
  const openBreakers = (s.status.dependencies ?? []).filter((d) => d.breaker === 'open' || d.breaker === 'isolated').length;
  const worst = s.alerts.find((a) => a.level === 'critical') ?? s.alerts.find((a) => a.level === 'warning');
  const parts = [`$(pulse) ${up}/${agents.length}`];
  if (openBreakers) parts.push(`$(debug-disconnect) ${openBreakers}`);
  if (s.faults.length) parts.push(`$(zap) ${s.faults.length}`);
  if (worst) parts.push(`$(${worst.level === 'critical' ? 'error' : 'warning'}) ${worst.rule}`);
  if (o.chaos) parts.push('$(bug) chaos');
  const severity = worst?.level === 'critical' || agents.some((a) => a.state === 'failed') ? 'error' : worst || openBreakers || up < agents.length ? 'warning' : 'ok';
  const tooltip = [
    `**Faultline** — ${s.status.runtime.name} (pid ${s.status.runtime.pid})`,
    '',
    `agents up: ${up} of ${agents.length}`,
    `open breakers: ${openBreakers}`,
    `active faults: ${s.faults.length}`,
    worst ? `worst alert: **${worst.level}** ${worst.message}` : 'no alerts',
    ...(o.chaos ? ['**the chaos monkey is running** (Faultline: Stop Chaos Monkey)'] : []),
    '',
    'Click to open the dashboard.',
  ].join('\n\n');
  return { text: parts.join('  '), tooltip, severity, up, total: agents.length, openBreakers, faults: s.faults.length };
}
