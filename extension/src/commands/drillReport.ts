/**
 * Pure helpers for Run Drill…: what a drill file is called, whether it kills
 * the runtime (then it must run from the CLI, outside the runtime), where its
 * report goes, and the one-line verdict a person reads in the notification.
 */
import path from 'node:path';

/**
 * The fields of the runtime's drill journal the extension reads. The full
 * type lives in runtime/drills/journal.ts, which is runtime-internal; only
 * these are relied on, and each is optional so an older journal still shows.
 */
export interface DrillJournalView {
  drill?: string;
  held?: boolean;
  status?: string;
  failedProbe?: string;
  failure?: string;
  durationMs?: number;
  startedAt?: string;
  method?: { name?: string; type?: string; ok?: boolean }[];
  recovery?: { incidents?: unknown[]; allRecoveredMs?: number; unrecovered?: string[] };
  messages?: { sent?: number; acknowledged?: number; lost?: number };
}

/** Whether the journal says the steady-state hypothesis held (undefined: it does not say). */
export function drillHeld(journal: unknown): boolean | undefined {
  const j = journal as Record<string, any> | undefined;
  const v = j?.held ?? j?.hypothesis?.held ?? (typeof j?.status === 'string' ? j.status === 'held' || j.status === 'passed' : undefined);
  return typeof v === 'boolean' ? v : undefined;
}

/** The drill's own name, else its file name without `.json` (what the runtime's CLI does). */
export function drillName(drill: unknown, file: string): string {
  const n = (drill as { name?: unknown } | undefined)?.name;
  return typeof n === 'string' && n ? n : path.basename(file).replace(/\.(drill\.)?json$/i, '');
}

/**
 * A drill with a `kill-runtime` step cannot run inside the runtime it kills
 * (`drill.run` refuses it); `faultline drill FILE` runs it from outside.
 */
export function killsRuntime(drill: unknown): boolean {
  const method = (drill as { method?: unknown } | undefined)?.method;
  return Array.isArray(method) && method.some((s) => (s as { type?: unknown } | null)?.type === 'kill-runtime');
}

/** `.faultline/drills/<drill>-<time>.json`, where `faultline drill` writes its journal too. */
export function reportPath(stateDir: string, name: string, startedAt: string = new Date().toISOString()): string {
  return path.join(stateDir, 'drills', `${name.replace(/[^\w.-]+/g, '_')}-${startedAt.replace(/[:.]/g, '-')}.json`);
}

const ms = (x: number | undefined) => (x === undefined ? '?' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

export interface DrillSummary {
  held: boolean | undefined;
  /** The notification's text. */
  text: string;
  severity: 'info' | 'warning' | 'error';
}

/** The verdict, the method's size and duration, and what recovery and message accounting say. */
export function drillSummary(name: string, journal: unknown): DrillSummary {
  const j = (journal ?? {}) as DrillJournalView;
  const held = drillHeld(j);
  const steps = Array.isArray(j.method) ? j.method.length : undefined;
  const facts: string[] = [];
  if (steps !== undefined) facts.push(`${steps} step${steps === 1 ? '' : 's'} in ${ms(j.durationMs)}`);
  const r = j.recovery;
  if (r?.incidents?.length) facts.push(r.unrecovered?.length ? `NOT back: ${r.unrecovered.join(', ')}` : `all agents back after ${ms(r.allRecoveredMs)}`);
  if (j.messages?.sent) facts.push(`${j.messages.sent} messages, ${j.messages.lost ?? 0} lost`);
  const detail = facts.length ? ` (${facts.join('; ')})` : '';
  if (held === true) return { held, text: `Faultline drill "${name}": the hypothesis held${detail}.`, severity: 'info' };
  if (held === false) {
    const why = j.status === 'gate-failed' ? 'the steady state did not hold BEFORE the method, so nothing was injected' : j.status === 'aborted' ? 'the drill was ABORTED' : 'the hypothesis did NOT hold';
    const where = [j.failedProbe, j.failure].filter(Boolean).join(' — ');
    return { held, text: `Faultline drill "${name}": ${why}${where ? `: ${where}` : ''}${detail}.`, severity: j.status === 'gate-failed' ? 'warning' : 'error' };
  }
  return { held, text: `Faultline drill "${name}" finished${detail}.`, severity: 'info' };
}
