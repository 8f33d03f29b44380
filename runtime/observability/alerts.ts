/**
 * Alert rules at two levels, `warning` and `critical`, evaluated over sliding
 * windows. The runtime feeds observations in as they happen and calls
 * `evaluate()` on a tick; firing, level changes and resolving come out as
 * `alert` events. Time comes from an injectable clock so tests drive the
 * windows with a simulated one.
 *
 * One alert exists per (rule, subject): when an error rate climbs from the
 * warning to the critical level the alert fires again at the new level
 * (`previousLevel` set) rather than two alerts firing for one problem.
 */
import { resolveAlertRules, type AlertRules, type Thresholds } from '../config/alertsSchema.ts';
import type { ActiveAlert, AlertLevel, AlertRuleName, AlertSubjectKind, BreakerState } from '../protocol/status.ts';
import type { AlertEvent } from '../protocol/events.ts';
import { SlidingWindow } from './SlidingWindow.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';

// The alert shapes are the protocol's (`alert` events, the `alerts` method).
export type { ActiveAlert, AlertEvent, AlertLevel, AlertRuleName, AlertSubjectKind };

export type AlertListener = (e: AlertEvent) => void;

interface Verdict { level: AlertLevel; value: number; threshold: number; message: string }
interface Active extends ActiveAlert { sinceMs: number }

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const dur = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`);
const key = (rule: string, kind: string, subject: string) => `${rule}\u0000${kind}\u0000${subject}`;

/** The level a value reaches when higher is worse; `inclusive` makes the threshold itself count. */
function above(value: number, t: Thresholds, inclusive = false): { level: AlertLevel; threshold: number } | null {
  const over = (x: number | undefined) => x !== undefined && (inclusive ? value >= x : value > x);
  if (over(t.critical)) return { level: 'critical', threshold: t.critical! };
  if (over(t.warning)) return { level: 'warning', threshold: t.warning! };
  return null;
}

/** The level a value reaches when lower is worse (SLA compliance). */
function below(value: number, t: Thresholds): { level: AlertLevel; threshold: number } | null {
  if (t.critical !== undefined && value < t.critical) return { level: 'critical', threshold: t.critical };
  if (t.warning !== undefined && value < t.warning) return { level: 'warning', threshold: t.warning };
  return null;
}

export class AlertEngine {
  readonly rules: AlertRules;
  private readonly clock: () => number;
  private readonly calls = new Map<string, SlidingWindow>();
  private readonly messages = new Map<string, SlidingWindow>();
  private readonly sla = new Map<string, SlidingWindow>();
  private readonly unresponsive = new Set<string>();
  private readonly storeDownMessage = new Map<string, string>();
  private readonly breakers = new Map<string, { state: BreakerState; hasFallback: boolean }>();
  private readonly intensities = new Map<string, { inWindow: number; limit: number }>();
  private readonly fallbacks = new Map<string, number[]>();
  private readonly activeAlerts = new Map<string, Active>();
  private readonly transitions = new Emitter<AlertEvent>();

  constructor(rules: AlertRules = resolveAlertRules(), opts: { clock?: () => number } = {}) {
    this.rules = rules;
    this.clock = opts.clock ?? Date.now;
  }

  private window(map: Map<string, SlidingWindow>, id: string): SlidingWindow {
    let w = map.get(id);
    if (!w) map.set(id, (w = new SlidingWindow(this.rules.windowMs)));
    return w;
  }

  /** A call to an external dependency finished (after its retries). `now` defaults to the clock (pass it when one event feeds several parts). */
  observeCall(dependency: string, ok: boolean, latencyMs?: number, now: number = this.clock()): void {
    this.window(this.calls, dependency).add(now, ok, latencyMs);
  }

  /**
   * An agent finished handling a message. For an ask, `targetMs` (its SLA
   * target: the configured `alerts.sla.targetMs`, else its timeout) makes it
   * count toward SLA compliance.
   */
  observeMessage(agent: string, ok: boolean, latencyMs?: number, targetMs?: number, now: number = this.clock()): void {
    this.window(this.messages, agent).add(now, ok, latencyMs);
    const target = this.rules.sla.targetMs ?? targetMs;
    if (target !== undefined) this.window(this.sla, agent).add(now, ok && latencyMs !== undefined && latencyMs <= target);
  }

  /** An agent started or stopped missing heartbeats. */
  agentUnresponsive(agent: string, unresponsive: boolean): void {
    if (unresponsive) this.unresponsive.add(agent);
    else this.unresponsive.delete(agent);
  }

  /** The checkpoint store stopped (a message) or resumed (null) answering. */
  storeDown(store: string, message: string | null): void {
    if (message === null) this.storeDownMessage.delete(store);
    else this.storeDownMessage.set(store, message);
  }

  /** A dependency's breaker state; `hasFallback` when calls still have somewhere to go. */
  breaker(dependency: string, state: BreakerState, hasFallback: boolean): void {
    this.breakers.set(dependency, { state, hasFallback });
  }

  /** Restarts a supervisor used within its period, against its intensity. */
  intensity(supervisor: string, inWindow: number, limit: number): void {
    this.intensities.set(supervisor, { inWindow, limit });
  }

  /** An agent's restore fell back to an older checkpoint or a cold start. */
  checkpointFallback(agent: string): void {
    const list = this.fallbacks.get(agent) ?? [];
    list.push(this.clock());
    this.fallbacks.set(agent, list);
  }

  /** Forgets everything about a subject that left the system (a removed agent, say); its alerts resolve at the next evaluation. */
  forget(kind: AlertSubjectKind, id: string): void {
    if (kind === 'dependency') {
      this.calls.delete(id);
      this.breakers.delete(id);
    } else if (kind === 'agent') {
      this.messages.delete(id);
      this.sla.delete(id);
      this.unresponsive.delete(id);
      this.fallbacks.delete(id);
    } else this.intensities.delete(id);
  }

  /** Subscribes to firing and resolving transitions. */
  onAlert(listener: AlertListener): Disposable {
    return this.transitions.event(listener);
  }

  /** The alerts firing now, critical first. */
  active(): ActiveAlert[] {
    return [...this.activeAlerts.values()]
      .map(({ sinceMs: _s, ...a }) => a)
      .sort((a, b) => (a.level === b.level ? a.since.localeCompare(b.since) : a.level === 'critical' ? -1 : 1));
  }

  /** Evaluates every rule at `now` and emits the transitions; also returns them. */
  evaluate(now: number = this.clock()): AlertEvent[] {
    const want = new Map<string, { rule: AlertRuleName; kind: AlertSubjectKind; subject: string; v: Verdict }>();
    const put = (rule: AlertRuleName, kind: AlertSubjectKind, subject: string, v: Verdict | null) => {
      if (v) want.set(key(rule, kind, subject), { rule, kind, subject, v });
    };
    const r = this.rules;
    const over = `over the last ${dur(r.windowMs)}`;

    const rates = (kind: AlertSubjectKind, map: Map<string, SlidingWindow>) => {
      for (const [id, w] of map) {
        const s = w.stats(now);
        const what = `${kind} "${id}"`;
        if (r.errorRate && s.count >= r.minSamples) {
          const hit = above(s.errorRate, r.errorRate);
          if (hit) put('errorRate', kind, id, { ...hit, value: s.errorRate, message: `Error rate of ${what} is ${pct(s.errorRate)} ${over} (${hit.level} above ${pct(hit.threshold)})` });
        }
        if (r.latencyMs && s.p95Ms !== null && s.latencies >= r.minSamples) {
          const hit = above(s.p95Ms, r.latencyMs);
          if (hit) put('latencyP95', kind, id, { ...hit, value: s.p95Ms, message: `p95 latency of ${what} is ${dur(s.p95Ms)} ${over} (${hit.level} above ${dur(hit.threshold)})` });
        }
      }
    };
    rates('dependency', this.calls);
    rates('agent', this.messages);

    if (r.sla.warning !== undefined || r.sla.critical !== undefined) {
      for (const [id, w] of this.sla) {
        const s = w.stats(now);
        if (s.count < r.minSamples) continue;
        const compliance = 1 - s.errorRate;
        const hit = below(compliance, r.sla);
        if (hit) put('slaCompliance', 'agent', id, { ...hit, value: compliance, message: `Only ${pct(compliance)} of asks to agent "${id}" were answered within target ${over} (${hit.level} below ${pct(hit.threshold)})` });
      }
    }

    // Always on: a store that does not answer means nothing new is durable.
    for (const [store, message] of this.storeDownMessage) put('storeDown', 'store', store, { level: 'critical', value: 1, threshold: 1, message });
    if (r.unresponsive) {
      for (const id of this.unresponsive) put('unresponsive', 'agent', id, { level: 'critical', value: 1, threshold: 1, message: `Agent "${id}" misses its heartbeats` });
    }

    if (r.breakerOpen) {
      for (const [id, b] of this.breakers) {
        if (b.state !== 'open' && b.state !== 'isolated') continue;
        put('breakerOpen', 'dependency', id, {
          level: b.hasFallback ? 'warning' : 'critical',
          value: 1,
          threshold: 1,
          message: `Breaker of dependency "${id}" is ${b.state}; ${b.hasFallback ? 'calls go to the fallback' : 'no fallback, calls fail'}`,
        });
      }
    }

    if (r.restartIntensity) {
      for (const [id, i] of this.intensities) {
        if (i.limit <= 0 || i.inWindow <= 0) continue;
        const ratio = i.inWindow / i.limit;
        const hit = above(ratio, r.restartIntensity, true);
        if (hit) put('restartIntensity', 'supervisor', id, { ...hit, value: ratio, message: `Supervisor "${id}" used ${i.inWindow} of the ${i.limit} restarts its intensity allows in its period; past the limit it fails and escalates` });
      }
    }

    for (const [id, list] of this.fallbacks) {
      const recent = list.filter((t) => t > now - r.windowMs);
      if (recent.length) this.fallbacks.set(id, recent);
      else this.fallbacks.delete(id);
      if (r.checkpointFallback && recent.length) {
        put('checkpointFallback', 'agent', id, { level: 'warning', value: recent.length, threshold: 1, message: `Agent "${id}" fell back to an older checkpoint or a cold start ${recent.length} time(s) ${over}` });
      }
    }

    return this.transition(now, want);
  }

  private transition(now: number, want: Map<string, { rule: AlertRuleName; kind: AlertSubjectKind; subject: string; v: Verdict }>): AlertEvent[] {
    const time = new Date(now).toISOString();
    const out: AlertEvent[] = [];
    for (const [k, a] of this.activeAlerts) {
      if (want.has(k)) continue;
      this.activeAlerts.delete(k);
      const { sinceMs: _s, ...rest } = a;
      out.push({ ...rest, state: 'resolved', time });
    }
    for (const [k, w] of want) {
      const cur = this.activeAlerts.get(k);
      const base = { level: w.v.level, rule: w.rule, subject: w.subject, subjectKind: w.kind, value: w.v.value, threshold: w.v.threshold, message: w.v.message };
      if (cur && cur.level === w.v.level) {
        // Still firing at the same level: refresh the value quietly.
        Object.assign(cur, base);
        continue;
      }
      const sinceMs = cur?.sinceMs ?? now;
      const next: Active = { ...base, since: new Date(sinceMs).toISOString(), sinceMs };
      this.activeAlerts.set(k, next);
      const { sinceMs: _s, ...rest } = next;
      out.push({ ...rest, state: 'firing', time, ...(cur ? { previousLevel: cur.level } : {}) });
    }
    for (const e of out) this.transitions.fire(e);
    return out;
  }

  /** Evaluates every `everyMs` on a timer that does not keep the process alive. */
  start(everyMs = 1_000): Disposable {
    const t = setInterval(() => this.evaluate(), everyMs);
    t.unref();
    return { dispose: () => clearInterval(t) };
  }
}
