/**
 * The three-tier reliability summary the dashboard shows and status JSON
 * carries under `reliability`:
 *
 * - business: did the system do its job? Task completion rate (messages
 *   handled without error) and SLA compliance (share of asks answered within
 *   their target; a failed or timed-out ask is not within target).
 * - system: how are the parts doing? Error rates and breaker states per
 *   dependency, restarts and escalations, checkpoint fallbacks.
 * - infrastructure: what does it cost? CPU and memory per agent process and
 *   of the runtime, API tokens and cost.
 *
 * Each rate is given since start (`total`) and over the recent window, so a
 * recovered system does not look broken forever and a fresh failure shows.
 */
import type { BreakerState, ReliabilitySummary } from '../protocol/status.ts';
import type { Rate } from '../protocol/schema/status.ts';
import { SlidingWindow } from './SlidingWindow.ts';
import type { ProcessSample } from './procStats.ts';

// The summary's shape is the protocol's (status `reliability`, the `metrics` event).
export type { Rate, ReliabilitySummary };

const rate = (good: number, total: number): Rate => ({ total, good, rate: total ? good / total : null });
const inc = (r: Record<string, number>, k: string, by = 1) => (r[k] = (r[k] ?? 0) + by);

interface DepCounts { calls: number; errors: number; retries: number; giveUps: number; breaker: BreakerState | null; window: SlidingWindow }

export class ReliabilityTracker {
  private readonly clock: () => number;
  private readonly windowMs: number;
  private tasks = { total: 0, good: 0 };
  private asks = { total: 0, good: 0 };
  private readonly taskWindow: SlidingWindow;
  private readonly askWindow: SlidingWindow;
  private readonly agents = new Map<string, { tasks: { total: number; good: number }; sla: { total: number; good: number } }>();
  private readonly deps = new Map<string, DepCounts>();
  private readonly restarts: Record<string, number> = {};
  private escalations = 0;
  private fallbacks = 0;
  private deadLetters = 0;
  private readonly cost: Record<string, number> = {};
  private tokens = { prompt: 0, completion: 0 };
  private processes = new Map<string, ProcessSample>();
  private lastCpu: { at: number; micros: number } | null = null;
  private runtimeCpuRatio: number | null = null;

  /**
   * @param opts.slaTargetMs a fixed SLA target for every ask (`alerts.sla.targetMs`); without it each ask's own target (its timeout) applies.
   * @param opts.currency of the configured prices (default USD).
   */
  constructor(private readonly opts: { windowMs?: number; clock?: () => number; slaTargetMs?: number; currency?: string } = {}) {
    this.clock = opts.clock ?? Date.now;
    this.windowMs = opts.windowMs ?? 300_000;
    this.taskWindow = new SlidingWindow(this.windowMs);
    this.askWindow = new SlidingWindow(this.windowMs);
  }

  private agent(id: string) {
    let a = this.agents.get(id);
    if (!a) this.agents.set(id, (a = { tasks: { total: 0, good: 0 }, sla: { total: 0, good: 0 } }));
    return a;
  }

  private dep(id: string): DepCounts {
    let d = this.deps.get(id);
    if (!d) this.deps.set(id, (d = { calls: 0, errors: 0, retries: 0, giveUps: 0, breaker: null, window: new SlidingWindow(this.windowMs) }));
    return d;
  }

  /** A message was handled; an ask passes its SLA target (its timeout) as `targetMs`. */
  message(agent: string, ok: boolean, latencyMs: number, targetMs?: number, now: number = this.clock()): void {
    const a = this.agent(agent);
    this.tasks.total++;
    a.tasks.total++;
    if (ok) {
      this.tasks.good++;
      a.tasks.good++;
    }
    this.taskWindow.add(now, ok);
    const target = this.opts.slaTargetMs ?? targetMs;
    if (target === undefined) return;
    const within = ok && latencyMs <= target;
    this.asks.total++;
    a.sla.total++;
    if (within) {
      this.asks.good++;
      a.sla.good++;
    }
    // The window counts misses as errors.
    this.askWindow.add(now, within);
  }

  /** A message was dead-lettered: a task that will never complete. */
  deadLetter(agent: string): void {
    this.deadLetters++;
    this.tasks.total++;
    this.agent(agent).tasks.total++;
    this.taskWindow.add(this.clock(), false);
  }

  call(dependency: string, ok: boolean, now: number = this.clock()): void {
    const d = this.dep(dependency);
    d.calls++;
    if (!ok) d.errors++;
    d.window.add(now, ok);
  }

  retry(dependency: string): void {
    this.dep(dependency).retries++;
  }

  giveUp(dependency: string): void {
    this.dep(dependency).giveUps++;
  }

  breaker(dependency: string, state: BreakerState): void {
    this.dep(dependency).breaker = state;
  }

  restart(supervisor: string): void {
    inc(this.restarts, supervisor);
  }

  escalation(): void {
    this.escalations++;
  }

  checkpointFallback(): void {
    this.fallbacks++;
  }

  usage(dependency: string, promptTokens: number, completionTokens: number, cost: number): void {
    this.tokens.prompt += Math.max(0, promptTokens);
    this.tokens.completion += Math.max(0, completionTokens);
    if (cost > 0) inc(this.cost, dependency, cost);
  }

  /** The latest process samples (Metrics.sampleProcesses' result); replaces the previous ones. */
  processSamples(samples: ReadonlyMap<string, ProcessSample>): void {
    this.processes = new Map(samples);
  }

  summary(): ReliabilitySummary {
    const now = this.clock();
    const tw = this.taskWindow.stats(now);
    const aw = this.askWindow.stats(now);

    const agents: ReliabilitySummary['business']['agents'] = {};
    for (const [id, a] of this.agents) agents[id] = { tasks: rate(a.tasks.good, a.tasks.total), sla: rate(a.sla.good, a.sla.total) };

    const breakers: Record<BreakerState, number> = { closed: 0, open: 0, 'half-open': 0, isolated: 0 };
    const dependencies: ReliabilitySummary['system']['dependencies'] = {};
    for (const [id, d] of this.deps) {
      const w = d.window.stats(now);
      if (d.breaker) breakers[d.breaker]++;
      dependencies[id] = {
        calls: d.calls,
        errors: d.errors,
        errorRate: d.calls ? d.errors / d.calls : null,
        windowErrorRate: w.count ? w.errorRate : null,
        retries: d.retries,
        giveUps: d.giveUps,
        breaker: d.breaker,
      };
    }

    const cpuAgents: Record<string, number | null> = {};
    const memAgents: Record<string, number> = {};
    let agentsRatio = 0;
    let agentsBytes = 0;
    for (const [id, s] of this.processes) {
      cpuAgents[id] = s.cpuRatio;
      memAgents[id] = s.rssBytes;
      agentsRatio += s.cpuRatio ?? 0;
      agentsBytes += s.rssBytes;
    }

    return {
      time: new Date(now).toISOString(),
      windowMs: this.windowMs,
      business: {
        taskCompletion: { ...rate(this.tasks.good, this.tasks.total), window: rate(tw.count - tw.errors, tw.count) },
        slaCompliance: { ...rate(this.asks.good, this.asks.total), window: rate(aw.count - aw.errors, aw.count), targetMs: this.opts.slaTargetMs ?? null },
        agents,
      },
      system: {
        messageErrorRate: tw.count ? tw.errorRate : null,
        dependencies,
        breakers,
        restarts: { total: Object.values(this.restarts).reduce((a, b) => a + b, 0), bySupervisor: { ...this.restarts }, escalations: this.escalations },
        checkpointFallbacks: this.fallbacks,
        deadLetters: this.deadLetters,
      },
      infrastructure: {
        cpu: { runtimeRatio: this.runtimeCpu(), agentsRatio, agents: cpuAgents },
        memory: { runtimeBytes: process.memoryUsage.rss(), agentsBytes, agents: memAgents },
        api: {
          cost: Object.values(this.cost).reduce((a, b) => a + b, 0),
          currency: this.opts.currency ?? 'USD',
          byDependency: { ...this.cost },
          promptTokens: this.tokens.prompt,
          completionTokens: this.tokens.completion,
        },
      },
    };
  }

  /** The runtime's own CPU share since the previous summary (wall time, not the injectable clock: CPU is real). */
  private runtimeCpu(): number | null {
    const at = performance.now();
    const u = process.cpuUsage();
    const micros = u.user + u.system;
    if (this.lastCpu && at - this.lastCpu.at >= 100) {
      this.runtimeCpuRatio = (micros - this.lastCpu.micros) / 1000 / (at - this.lastCpu.at);
      this.lastCpu = { at, micros };
    } else if (!this.lastCpu) this.lastCpu = { at, micros };
    return this.runtimeCpuRatio;
  }
}
