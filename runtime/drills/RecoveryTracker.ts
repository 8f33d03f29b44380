/**
 * Time to detect and time to recover, from the runtime's own `agent.state`
 * and `breaker.state` events. Each fault the drill makes is a mark; an
 * agent leaving `running` opens an incident that blames the latest mark
 * before it, and its next `running` (started, restored, handling) closes
 * it. Pure: fed events and marks, it keeps no clock of its own.
 */
import { globMatch } from '../faults/seededRandom.ts';
import { percentiles } from '../observability/percentiles.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { Incident, BreakerTiming, RecoverySummary } from '../protocol/schema/drill.ts';
import type { Incident, BreakerTiming, RecoverySummary } from '../protocol/schema/drill.ts';

export interface FaultMark {
  /** Epoch ms. */
  time: number;
  kind: 'inject' | 'clear' | 'chaos' | 'kill-runtime';
  /** What it was aimed at: an agent or dependency glob; `*` for the runtime. */
  subject: string;
  label: string;
}




const DOWN = new Set(['restarting', 'backoff', 'failed', 'stopped', 'stopping']);

export class RecoveryTracker {
  private marks: FaultMark[] = [];
  private open = new Map<string, Incident>();
  private closed: Incident[] = [];
  private breakers = new Map<string, BreakerTiming>();
  private breakerState = new Map<string, string>();

  constructor(private readonly t0: number) {}

  mark(m: FaultMark): void {
    this.marks.push(m);
  }

  /** The latest mark of these kinds at or before `time`, aimed at `id` when given. */
  private blame(time: number, id: string | undefined, kinds: FaultMark['kind'][]): FaultMark | undefined {
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const m = this.marks[i];
      // Event times have millisecond resolution; a mark may be stamped a hair after the event it caused.
      if (m.time <= time + 5 && kinds.includes(m.kind) && (id === undefined || globMatch(m.subject, id))) return m;
    }
    return undefined;
  }

  /** An `agent.state` event (or one made up for a runtime restart). */
  agentState(e: { time: string | number; agent: string; state: string; reason?: string }): void {
    const time = typeof e.time === 'number' ? e.time : Date.parse(e.time);
    const open = this.open.get(e.agent);
    if (e.state === 'running') {
      if (!open) return;
      open.upAtMs = time - this.t0;
      open.recoverMs = open.upAtMs - open.faultAtMs;
      this.open.delete(e.agent);
      this.closed.push(open);
      return;
    }
    if (open || !DOWN.has(e.state)) return;
    // The latest fault anywhere: a sibling that its supervisor takes down is blamed on the kill that did it.
    const m = this.blame(time, undefined, ['inject', 'chaos', 'kill-runtime']);
    const faultAt = m?.time ?? time;
    this.open.set(e.agent, {
      agent: e.agent,
      cause: m?.label ?? 'no fault of this drill',
      faultAtMs: faultAt - this.t0,
      downAtMs: time - this.t0,
      detectMs: Math.max(0, time - faultAt),
      ...(e.reason ? { reason: e.reason } : {}),
    });
  }

  /** A `breaker.state` event. */
  breaker(e: { time: string | number; dependency: string; state: string }): void {
    const time = typeof e.time === 'number' ? e.time : Date.parse(e.time);
    let b = this.breakers.get(e.dependency);
    if (!b) this.breakers.set(e.dependency, (b = { dependency: e.dependency, transitions: [] }));
    b.transitions.push({ state: e.state, atMs: time - this.t0 });
    const prev = this.breakerState.get(e.dependency) ?? 'closed';
    this.breakerState.set(e.dependency, e.state);
    if (prev === 'closed' && e.state !== 'closed' && b.detectMs === undefined) {
      const m = this.blame(time, e.dependency, ['inject']);
      if (m) b.detectMs = time - m.time;
    }
    if (e.state === 'closed' && prev !== 'closed' && b.recoverMs === undefined) {
      const m = this.blame(time, e.dependency, ['clear']);
      if (m) b.recoverMs = time - m.time;
    }
  }

  summary(): RecoverySummary {
    const all = [...this.closed, ...this.open.values()].sort((a, b) => a.downAtMs - b.downAtMs);
    const agents: RecoverySummary['agents'] = {};
    for (const i of all) {
      const a = (agents[i.agent] ??= { incidents: 0, detectMs: i.detectMs, ...(i.recoverMs !== undefined ? { recoverMs: i.recoverMs } : {}) });
      a.incidents++;
      if (i.recoverMs !== undefined) a.maxRecoverMs = Math.max(a.maxRecoverMs ?? 0, i.recoverMs);
    }
    const rec = this.closed.map((i) => i.recoverMs!);
    return {
      incidents: all,
      agents,
      detectMs: percentiles(all.map((i) => i.detectMs)) ?? null,
      recoverMs: percentiles(rec) ?? null,
      ...(rec.length ? { firstRecoveredMs: Math.min(...rec), allRecoveredMs: Math.max(...rec) } : {}),
      unrecovered: [...this.open.keys()].sort(),
      dependencies: Object.fromEntries(this.breakers),
    };
  }
}
