/**
 * What the extension knows of the runtime at one moment: the status JSON plus
 * the active faults and alerts. The fault and alert shapes are read
 * defensively: they come from runtime features that grow independently.
 */
import type { RuntimeStatus } from '../../../runtime/protocol/status.ts';
import { applyAlertEvent as applyAlert } from '../../../runtime/protocol/clientModel.ts';

export interface FaultView {
  id: string;
  fault: string;
  target: string;
  params: Record<string, unknown>;
  kind?: string;
  createdAt?: string;
  expiresAt?: string;
  fired?: number;
}

export interface AlertView {
  level: 'warning' | 'critical';
  rule: string;
  subject: string;
  /** What the subject is (`agent`, `supervisor`, `dependency`): part of the alert's identity. */
  subjectKind?: string;
  message: string;
  /** ISO time the alert first fired ('' when the runtime did not say). */
  since: string;
}

export interface Snapshot {
  status?: RuntimeStatus;
  faults: FaultView[];
  alerts: AlertView[];
}

export const EMPTY: Snapshot = { faults: [], alerts: [] };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function toFaults(list: unknown): FaultView[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObj).filter((f) => typeof f.id === 'string' && typeof f.fault === 'string').map((f) => ({
    id: f.id as string,
    fault: f.fault as string,
    target: typeof f.target === 'string' ? f.target : '',
    params: isObj(f.params) ? f.params : {},
    kind: typeof f.kind === 'string' ? f.kind : undefined,
    createdAt: typeof f.createdAt === 'string' ? f.createdAt : undefined,
    expiresAt: typeof f.expiresAt === 'string' ? f.expiresAt : undefined,
    fired: typeof f.fired === 'number' ? f.fired : undefined,
  }));
}

export function toAlerts(list: unknown): AlertView[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObj).filter((a) => a.level === 'warning' || a.level === 'critical').map((a) => ({
    level: a.level as AlertView['level'],
    rule: String(a.rule ?? ''),
    subject: String(a.subject ?? ''),
    ...(typeof a.subjectKind === 'string' ? { subjectKind: a.subjectKind } : {}),
    message: String(a.message ?? `${a.rule} ${a.subject}`),
    since: typeof a.since === 'string' ? a.since : '',
  }));
}

/** Applies one `alert` event to the list of firing alerts (keyed as the runtime keys them: rule, subject kind, subject). */
export function applyAlertEvent(alerts: AlertView[], e: unknown): AlertView[] {
  if (!isObj(e) || typeof e.rule !== 'string' || typeof e.subject !== 'string') return alerts;
  return applyAlert(alerts, e as unknown as AlertView & { state?: string }, (x) => toAlerts([x])[0]);
}
