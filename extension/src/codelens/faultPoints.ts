/**
 * Pure helpers for inline fault injection: the id of a call site ("point"),
 * the fault each lens arms there, and the dependency a model chain calls first.
 */
import path from 'node:path';
import type { CallSite } from './callSites.ts';
import type { FaultView } from '../model/snapshot.ts';

/**
 * The point a fault aims at: the site's own `{ point: '…' }` when the code
 * names it (the runtime matches faults by that name), else
 * `agents/planner.mjs:12` (relative to the config, POSIX separators, 1-based).
 */
export function pointId(configFile: string, file: string, site: Pick<CallSite, 'line' | 'point'>): string {
  if (site.point) return site.point;
  return `${path.relative(path.dirname(configFile), file).split(path.sep).join('/')}:${site.line + 1}`;
}

export type LensAction = 'fail' | 'delay' | 'block' | 'crash';

export const LENS_ACTIONS: { action: LensAction; title: string; fault: string; params?: Record<string, unknown> }[] = [
  { action: 'fail', title: 'Fail', fault: 'error', params: { status: 503 } },
  { action: 'delay', title: 'Delay', fault: 'latency', params: { ms: 2000 } },
  { action: 'block', title: 'Block', fault: 'blackhole' },
  { action: 'crash', title: 'Crash here', fault: 'crash' },
];

/** The dependency a site calls: `ctx.call('search')` → search; `ctx.model('chat')` → the chain's first. */
export function siteDependency(site: CallSite, models: Record<string, string[]> | undefined): string | undefined {
  if (!site.name) return undefined;
  return site.kind === 'model' ? models?.[site.name]?.[0] ?? site.name : site.name;
}

export function faultsAt(faults: FaultView[], point: string): FaultView[] {
  return faults.filter((f) => f.params.point === point);
}
