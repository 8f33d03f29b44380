/**
 * The model of an agent's checkpoints on a time axis: which of them are shown
 * (the newest N by seq), where each sits in percent of the axis, and what its
 * mark says. Pure, so its geometry is tested without a DOM.
 */
import type { DashboardCheckpoint } from '../../../runtime/protocol/webview.ts';

export type CheckpointKind = DashboardCheckpoint['kind'];

export interface CheckpointMark {
  seq: number;
  kind: CheckpointKind;
  valid: boolean;
  /** Where the mark sits on the axis, 0–100. */
  pct: number;
  timeMs: number;
  /** A short word drawn under restore and fork marks, which change the agent's history; empty for the others. */
  label: string;
  /** The hover text: seq, kind, size, time, and whether it is corrupt. */
  title: string;
}

export interface CheckpointTimeline {
  marks: CheckpointMark[];
  startMs: number;
  endMs: number;
  /** Checkpoints left off: older than the newest `limit`, or without a readable time. */
  hidden: number;
}

export const DEFAULT_TIMELINE_LIMIT = 50;
/** Marks this close to either end would be cut by the track's edge. */
const INSET_PCT = 2;

const LABELS: Partial<Record<CheckpointKind, string>> = { restore: 'restore', fork: 'fork' };

/** The time axis of the newest `limit` checkpoints (by seq); a lone checkpoint, or several at one instant, sit in the middle. */
export function buildCheckpointTimeline(rows: readonly DashboardCheckpoint[], limit = DEFAULT_TIMELINE_LIMIT, formatTime: (iso: string) => string = (iso) => iso): CheckpointTimeline {
  const timed = rows.map((c) => ({ c, t: Date.parse(c.time) })).filter((x) => Number.isFinite(x.t));
  const shown = timed.sort((a, b) => a.c.seq - b.c.seq).slice(-Math.max(0, limit));
  const hidden = rows.length - shown.length;
  if (shown.length === 0) return { marks: [], startMs: 0, endMs: 0, hidden };
  const startMs = Math.min(...shown.map((x) => x.t));
  const endMs = Math.max(...shown.map((x) => x.t));
  const span = endMs - startMs;
  const marks = shown.map(({ c, t }) => ({
    seq: c.seq,
    kind: c.kind,
    valid: c.valid,
    pct: span === 0 ? 50 : INSET_PCT + ((t - startMs) / span) * (100 - 2 * INSET_PCT),
    timeMs: t,
    label: LABELS[c.kind] ?? '',
    title: `#${c.seq} ${c.kind}${c.valid ? '' : ' (corrupt)'}\n${c.size.toLocaleString('en-US')} B · v${c.version}\n${formatTime(c.time)}`,
  }));
  return { marks, startMs, endMs, hidden };
}
