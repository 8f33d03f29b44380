/**
 * Everything on the dashboard that is not the tree: the business tier (task
 * completion, SLA compliance, alerts), dependencies (breakers, error-rate
 * history, which model of each fallback chain serves), active faults, and the
 * infrastructure tier. Fed by snapshots and by `breaker.state`, `alert`,
 * `fault`, `metrics` and `dependency.call` events; every field may be missing.
 */
import { admitsCalls, alertKey, servingModel } from '../../../runtime/protocol/clientModel.ts';
import type { BreakerStateEvent } from '../../../runtime/protocol/events.ts';
import type { DashboardAlert, DashboardFault, DashboardStatus } from '../../../runtime/protocol/webview.ts';
import { at, isObj, num, numberMap, rate, str, type Obj } from './read.ts';

export interface DependencyVM {
  id: string;
  kind?: string;
  model?: string;
  breaker: string;
  errorRate: number | null;
  /** Error-rate samples, oldest first, for the sparkline. */
  series: number[];
}

export interface ChainVM {
  name: string;
  deps: string[];
  /** The dependency the last call was served by (from events), or the first one whose breaker admits calls. */
  serving: string | null;
  observed: boolean;
}

export interface Business {
  taskCompletion: number | null;
  tasks: number | null;
  sla: number | null;
  asks: number | null;
}

export interface Infra {
  cpuRuntime: number | null;
  cpuAgents: number | null;
  memRuntime: number | null;
  memAgents: number | null;
  /** Per-agent memory (bytes) and CPU (ratio) from the reliability summary. */
  agentMem: Map<string, number>;
  agentCpu: Map<string, number>;
  loopLagMs: number | null;
  apiCost: number | null;
  currency: string;
  tokens: number | null;
}

export interface RuntimeInfo {
  name: string | null;
  pid: number | null;
  version: string | null;
  uptimeMs: number | null;
  /** performance.now() when uptimeMs was read, so the toolbar can keep counting. */
  at: number;
}

const SERIES = 40;

export class HealthModel {
  readonly deps = new Map<string, DependencyVM>();
  readonly chains = new Map<string, ChainVM>();
  readonly alerts = new Map<string, DashboardAlert>();
  readonly faults = new Map<string, DashboardFault>();
  business: Business = { taskCompletion: null, tasks: null, sla: null, asks: null };
  infra: Infra = { cpuRuntime: null, cpuAgents: null, memRuntime: null, memAgents: null, agentMem: new Map(), agentCpu: new Map(), loopLagMs: null, apiCost: null, currency: 'USD', tokens: null };
  runtime: RuntimeInfo = { name: null, pid: null, version: null, uptimeMs: null, at: 0 };
  /** Which sections changed since `takeDirty()`. */
  private dirty = new Set<'business' | 'alerts' | 'deps' | 'infra' | 'faults' | 'runtime'>();

  takeDirty() {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  applySnapshot(s: DashboardStatus): void {
    this.runtime = { name: str(s, 'runtime.name'), pid: num(s, 'runtime.pid'), version: str(s, 'runtime.version'), uptimeMs: num(s, 'runtime.uptimeMs'), at: performance.now() };
    this.dirty.add('runtime');
    const rel = s.reliability;
    const seen = new Set<string>();
    for (const d of Array.isArray(s.dependencies) ? s.dependencies : []) {
      if (!isObj(d) || typeof d.id !== 'string') continue;
      seen.add(d.id);
      const vm = this.dep(d.id);
      vm.kind = typeof d.kind === 'string' ? d.kind : vm.kind;
      vm.model = typeof d.model === 'string' ? d.model : vm.model;
      vm.breaker = typeof d.breaker === 'string' ? d.breaker : vm.breaker;
      // The summary's recent window shows a fresh failure; the status rate is since start.
      vm.errorRate = num(rel, `system.dependencies.${d.id}.windowErrorRate`) ?? num(d, 'errorRate');
      if (vm.errorRate !== null) this.sample(vm, vm.errorRate);
    }
    for (const id of [...this.deps.keys()]) if (!seen.has(id)) this.deps.delete(id);
    this.dirty.add('deps');

    const models = isObj(s.models) ? s.models : null;
    if (models) {
      for (const [name, ids] of Object.entries(models)) {
        if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) continue;
        const c = this.chains.get(name) ?? { name, deps: ids, serving: null, observed: false };
        c.deps = ids;
        this.chains.set(name, c);
      }
    }

    if (Array.isArray(s.alerts)) {
      this.alerts.clear();
      for (const a of s.alerts) if (isAlert(a)) this.alerts.set(alertKey(a), a);
      this.dirty.add('alerts');
    }
    if (Array.isArray(s.faults)) {
      this.faults.clear();
      for (const f of s.faults) if (isFault(f)) this.faults.set(f.id, f);
      this.dirty.add('faults');
    }
    if (rel !== undefined) this.applyReliability(rel);
  }

  /** The reliability summary, from a snapshot or a `metrics` event. */
  applyReliability(rel: unknown): void {
    if (!isObj(rel)) return;
    const tasks = rate(at(rel, 'business.taskCompletion') ?? at(rel, 'business.taskCompletionRate'));
    const sla = rate(at(rel, 'business.slaCompliance'));
    this.business = { taskCompletion: tasks.rate, tasks: tasks.total, sla: sla.rate, asks: sla.total };
    this.dirty.add('business');
    const inf = at(rel, 'infrastructure');
    const memRuntime = num(inf, 'memory.runtimeBytes');
    const memAgents = num(inf, 'memory.agentsBytes');
    this.infra = {
      cpuRuntime: num(inf, 'cpu.runtimeRatio', 'cpu.runtime'),
      cpuAgents: num(inf, 'cpu.agentsRatio', 'cpu.agents'),
      memRuntime,
      memAgents,
      agentMem: numberMap(at(inf, 'memory.agents')),
      agentCpu: numberMap(at(inf, 'cpu.agents')),
      // Not in the summary yet: read it where it is likely to land, or from a metrics event.
      loopLagMs: num(inf, 'eventLoop.lagP99Ms', 'eventLoop.p99Ms', 'eventLoop.lagMs', 'eventLoopLagMs', 'eventLoopLag.p99Ms') ?? this.infra.loopLagMs,
      apiCost: num(inf, 'api.cost', 'apiCost'),
      currency: str(inf, 'api.currency') ?? 'USD',
      tokens: (num(inf, 'api.promptTokens') ?? 0) + (num(inf, 'api.completionTokens') ?? 0) || null,
    };
    this.dirty.add('infra');
    for (const [id, d] of Object.entries(isObj(at(rel, 'system.dependencies')) ? (at(rel, 'system.dependencies') as Obj) : {})) {
      const vm = this.deps.get(id);
      const r = num(d, 'windowErrorRate', 'errorRate');
      if (vm && r !== null) {
        vm.errorRate = r;
        this.dirty.add('deps');
      }
    }
  }

  /** A `metrics` event: a reliability summary (bare or under `reliability`) and loose gauges. */
  applyMetrics(p: unknown): void {
    if (!isObj(p)) return;
    const lag = num(p, 'eventLoopLagMs', 'eventLoop.lagP99Ms', 'eventLoop.p99Ms');
    if (lag !== null) {
      this.infra.loopLagMs = lag;
      this.dirty.add('infra');
    }
    if (isObj(p.reliability)) this.applyReliability(p.reliability);
    else if (isObj(p.business) || isObj(p.infrastructure)) this.applyReliability(p);
    for (const vm of this.deps.values()) if (vm.errorRate !== null) this.sample(vm, vm.errorRate);
  }

  applyBreaker(e: BreakerStateEvent): void {
    const vm = this.dep(e.dependency);
    vm.breaker = e.state;
    this.dirty.add('deps');
  }

  applyAlert(p: unknown): void {
    if (!isAlert(p)) return;
    const state = (p as unknown as Obj).state;
    if (state === 'resolved') this.alerts.delete(alertKey(p));
    else this.alerts.set(alertKey(p), p);
    this.dirty.add('alerts');
  }

  /** A fault event: the catalogue's `{ action, fault }`, or a bare fault with a `state`. */
  applyFault(p: unknown): void {
    if (!isObj(p)) return;
    const f = isObj(p.fault) ? p.fault : p;
    if (!isFault(f)) return;
    const action = p.action ?? p.state;
    if (action === 'cleared' || action === 'expired') this.faults.delete(f.id);
    else this.faults.set(f.id, f);
    this.dirty.add('faults');
  }

  /** `dependency.call` events tell which model of a chain serves (only the phases that say so are read). */
  applyDependencyCall(p: unknown): void {
    if (!isObj(p) || typeof p.chain !== 'string' || typeof p.dependency !== 'string') return;
    let serving: string | null = null;
    if (p.phase === 'success') serving = p.dependency;
    else if (p.phase === 'fallback' && typeof p.to === 'string') serving = p.to;
    if (!serving) return;
    let c = this.chains.get(p.chain);
    if (!c) this.chains.set(p.chain, (c = { name: p.chain, deps: [p.dependency], serving: null, observed: false }));
    if (!c.deps.includes(serving)) c.deps.push(serving);
    if (c.serving !== serving || !c.observed) {
      c.serving = serving;
      c.observed = true;
      this.dirty.add('deps');
    }
  }

  /** Which dependency of a chain serves: the observed one, else the first that admits calls. */
  servingOf(c: ChainVM): { id: string | null; observed: boolean } {
    if (c.observed && c.serving) {
      const d = this.deps.get(c.serving);
      // An observed server whose breaker has since opened no longer serves.
      if (!d || admitsCalls(d.breaker)) return { id: c.serving, observed: true };
    }
    return { id: servingModel(c.deps, (id) => this.deps.get(id)?.breaker), observed: false };
  }

  faultsOn(target: string): DashboardFault[] {
    const out: DashboardFault[] = [];
    for (const f of this.faults.values()) if (f.target === target) out.push(f);
    return out;
  }

  private dep(id: string): DependencyVM {
    let d = this.deps.get(id);
    if (!d) this.deps.set(id, (d = { id, breaker: 'closed', errorRate: null, series: [] }));
    return d;
  }

  private sample(vm: DependencyVM, r: number): void {
    vm.series.push(r);
    if (vm.series.length > SERIES) vm.series.splice(0, vm.series.length - SERIES);
  }
}

function isAlert(a: unknown): a is DashboardAlert {
  return isObj(a) && (a.level === 'warning' || a.level === 'critical') && typeof a.rule === 'string' && typeof a.subject === 'string' && typeof a.message === 'string';
}

function isFault(f: unknown): f is DashboardFault {
  return isObj(f) && typeof f.id === 'string' && typeof f.fault === 'string' && typeof f.target === 'string';
}
