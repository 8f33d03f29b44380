/**
 * The runtime's Prometheus metrics, all named `faultline_*`, on a registry of
 * their own (not prom-client's global one, so two runtimes in one test
 * process do not collide). The runtime calls the typed methods as things
 * happen; `text()` renders `/metrics`.
 *
 * `enabled = false` turns every method into an early return, so the cost of
 * instrumentation can be measured against nothing (bench/instrumentation).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState, RuntimeStatus } from '../protocol/status.ts';
import { agentsOf, walkTree } from '../protocol/status.ts';
import { ProcessSampler, type ProcessSample } from './procStats.ts';
import { FastHistogram, type HistogramSeries } from './FastHistogram.ts';

export type DependencyKind = 'model' | 'tool' | 'http' | 'mcp';
/** A model's price per 1000 tokens: `dependencies.<id>.price` in the config. */
export interface Pricing { promptPer1k: number; completionPer1k: number; currency?: string }
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

// Message handling spans a 1 ms echo to a multi-minute model chain.
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const CHECKPOINT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
/** Distinct `task` values kept per agent before the rest are counted as `other`. */
const MAX_TASKS_PER_AGENT = 50;

/** Label values from the outside world: bounded length, no control characters. */
export function labelValue(v: string | undefined, fallback = 'unknown'): string {
  if (!v) return fallback;
  const s = v.length > 64 ? v.slice(0, 64) : v;
  return /[\u0000-\u001f]/.test(s) ? s.replace(/[\u0000-\u001f]/g, '_') : s;
}

/** Error categories are an enumeration (`timeout`, `rate_limit`, …): anything else collapses to snake case. */
export function errorCategory(v: string | undefined): string {
  if (!v) return 'unknown';
  return v.length <= 32 && /^[a-z0-9_]+$/.test(v) ? v : v.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase().slice(0, 32) || 'unknown';
}

/**
 * The per-(agent, task) state of the message hot path: the duration series
 * and the outcome counts, copied into `faultline_messages_total` when it is
 * scraped. Held in a two-level Map so a handled message costs two lookups
 * and a few increments instead of prom-client's label hashing and validation
 * (0.2-0.7 µs per call; see FastHistogram.ts and bench/instrumentation).
 */
interface MessageSeries {
  agent: string;
  task: string;
  ok: number;
  error: number;
  duration: HistogramSeries;
}

export interface MetricsOptions {
  /** Price per 1k tokens by dependency id, for `faultline_api_cost_total`. */
  pricing?: Record<string, Pricing>;
  /** Scrubs secret values from the rendered text (SecretScrubber.scrub). */
  scrub?: (text: string) => string;
  enabled?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;
  private on: boolean;
  private pricing: Record<string, Pricing>;
  private readonly scrub: (t: string) => string;
  private readonly breakerStates = new Map<string, BreakerState>();
  private readonly cpuSeen = new Map<string, { pid: number; cpuSeconds: number }>();
  private readonly sampler = new ProcessSampler();
  private readonly loop: IntervalHistogram;

  private readonly c = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly g = (name: string, help: string, labelNames: string[] = [], collect?: () => void) =>
    new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });

  /** agent → raw message type → series (the hot-path cache). */
  private readonly messageSeries = new Map<string, Map<string, MessageSeries>>();
  /** `agent\0task label` → series: each label set once. */
  private readonly seriesByLabel = new Map<string, MessageSeries>();
  readonly messages: Counter<string> = new Counter({
    name: 'faultline_messages_total',
    help: 'Messages handled by agents',
    labelNames: ['agent', 'task', 'outcome'],
    registers: [this.registry],
    collect: () => this.flushMessageCounts(),
  });
  readonly messageErrors = this.c('faultline_message_errors_total', 'Messages whose handling failed, by error category', ['agent', 'task', 'error_category']);
  readonly messageDuration = new FastHistogram({ name: 'faultline_message_duration_seconds', help: 'Time from delivery to reply of a message', labelNames: ['agent', 'task'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly deadLetters = this.c('faultline_dead_letters_total', 'Messages set aside after crashing their agent on every delivery', ['agent']);

  readonly calls = this.c('faultline_dependency_calls_total', 'Calls to external dependencies (models, tools, HTTP), after retries', ['dependency', 'kind', 'agent', 'outcome']);
  readonly callDuration = new Histogram({ name: 'faultline_dependency_call_duration_seconds', help: 'Latency of dependency calls including retries', labelNames: ['dependency', 'kind'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly callErrors = this.c('faultline_dependency_errors_total', 'Failed dependency attempts by error category', ['dependency', 'error_category']);
  readonly retries = this.c('faultline_dependency_retries_total', 'Retried dependency attempts', ['dependency']);
  readonly giveUps = this.c('faultline_dependency_give_ups_total', 'Dependency calls that failed after their last retry', ['dependency', 'error_category']);
  readonly toolErrors = this.c('faultline_dependency_tool_errors_total', 'MCP tool calls the server answered with a tool error (isError: true); not failures of the dependency', ['dependency', 'tool']);
  readonly timeToFirstToken = new Histogram({ name: 'faultline_model_time_to_first_token_seconds', help: 'Time from a streamed model call to its first text delta, retries and fallbacks included', labelNames: ['dependency'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly modelFallbacks = this.c('faultline_model_fallbacks_total', 'Model chain calls that moved on to the next model', ['chain', 'from', 'to']);

  readonly breakerState = this.g('faultline_breaker_state', 'Circuit breaker state per dependency: 1 for the current state, 0 for the others', ['dependency', 'state']);
  readonly breakerTransitions = this.c('faultline_breaker_transitions_total', 'Circuit breaker state changes', ['dependency', 'from', 'to']);

  readonly restarts = this.c('faultline_restarts_total', 'Child restarts by supervisor; `agent` is the restarted child (an agent or a supervisor)', ['supervisor', 'agent']);
  readonly escalations = this.c('faultline_escalations_total', 'Supervisors that exceeded their restart intensity and escalated to their parent', ['supervisor']);
  readonly intensityUsed = this.g('faultline_supervisor_intensity_used_ratio', 'Restarts in the current period over the intensity limit', ['supervisor']);

  readonly checkpointWrites = this.c('faultline_checkpoint_writes_total', 'Checkpoint writes', ['agent', 'outcome']);
  readonly checkpointBytes = this.c('faultline_checkpoint_bytes_total', 'Bytes of checkpoints written', ['agent']);
  readonly checkpointDuration = new Histogram({ name: 'faultline_checkpoint_write_duration_seconds', help: 'Checkpoint write latency (durable on return)', labelNames: ['agent'], buckets: CHECKPOINT_BUCKETS, registers: [this.registry] });
  readonly checkpointFallbacks = this.c('faultline_checkpoint_fallbacks_total', 'Restores that fell back to an older checkpoint (`previous`) or a cold start (`cold`)', ['agent', 'to']);

  readonly inbox = this.g('faultline_inbox_depth', 'Messages waiting in an agent\'s mailbox', ['agent']);
  readonly agentLive = this.g('faultline_agent_live', '1 while the agent\'s heartbeats arrive in time', ['agent']);
  readonly agentReady = this.g('faultline_agent_ready', '1 while the agent is started, restored and handling messages', ['agent']);
  readonly activeFaultsGauge = this.g('faultline_active_faults', 'Injected faults active now, by fault', ['fault']);
  readonly faultsInjected = this.c('faultline_faults_injected_total', 'Faults injected', ['fault']);
  readonly alertsActive = this.g('faultline_alerts_active', 'Alerts firing now', ['rule', 'level']);

  readonly agentRss = this.g('faultline_agent_resident_memory_bytes', 'Resident memory of an agent\'s process', ['agent']);
  readonly agentCpu = this.c('faultline_agent_cpu_seconds_total', 'CPU time of an agent\'s processes, kept across restarts', ['agent']);
  readonly agentCpuRatio = this.g('faultline_agent_cpu_ratio', 'Share of one core an agent\'s process used since the previous sample', ['agent']);
  readonly runtimeRss = this.g('faultline_runtime_resident_memory_bytes', 'Resident memory of the runtime process', [], () => this.runtimeRss.set(process.memoryUsage.rss()));
  readonly runtimeCpu = this.g('faultline_runtime_cpu_seconds', 'CPU time of the runtime process (user + system)', [], () => {
    const u = process.cpuUsage();
    this.runtimeCpu.set((u.user + u.system) / 1e6);
  });
  readonly loopLagP50 = this.g('faultline_event_loop_lag_p50_seconds', 'Median event-loop delay of the runtime since the previous scrape', [], () => this.collectLoop());
  readonly loopLagP99 = this.g('faultline_event_loop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape');
  readonly loopLagMax = this.g('faultline_event_loop_lag_max_seconds', 'Largest event-loop delay since the previous scrape');

  readonly tokens = this.c('faultline_api_tokens_total', 'Model tokens used, from model replies', ['dependency', 'agent', 'type']);
  readonly cost = this.c('faultline_api_cost_total', 'API cost: tokens times the configured price per 1k tokens (in the price\'s currency)', ['dependency', 'agent']);

  constructor(opts: MetricsOptions = {}) {
    this.pricing = { ...(opts.pricing ?? {}) };
    this.scrub = opts.scrub ?? ((t) => t);
    // A 100 ms sampling timer: 10-20 ms added ~0.9 µs of CPU to every IPC
    // round trip (7 % of an ask) on this machine class, 50 ms and up nothing
    // measurable; 10 samples a second still give a p99 per 15 s scrape.
    this.loop = monitorEventLoopDelay({ resolution: 100 });
    this.on = opts.enabled ?? true;
    if (this.on) this.loop.enable();
  }

  /** Instrumentation on or off; off makes every method a no-op (scrapes still render what was recorded). */
  get enabled(): boolean {
    return this.on;
  }
  set enabled(v: boolean) {
    this.on = v;
    if (v) this.loop.enable();
    else this.loop.disable();
  }

  setPricing(pricing: Record<string, Pricing>): void {
    this.pricing = { ...pricing };
  }

  /** The cached series of (agent, task); message types past the cap share `other`. */
  private series(agent: string, task: string | undefined): MessageSeries {
    let byTask = this.messageSeries.get(agent);
    if (!byTask) this.messageSeries.set(agent, (byTask = new Map()));
    const raw = task ?? '';
    const hit = byTask.get(raw);
    if (hit) return hit;
    // Message types come from user code; cap them so a bad `type` field
    // cannot blow up the series count, nor this cache: past the cap a type
    // is not cached and takes this slower path.
    const capped = byTask.size >= MAX_TASKS_PER_AGENT;
    const t = capped ? 'other' : labelValue(task, 'message');
    const labelKey = `${agent}\u0000${t}`;
    let s = this.seriesByLabel.get(labelKey);
    if (!s) this.seriesByLabel.set(labelKey, (s = { agent, task: t, ok: 0, error: 0, duration: this.messageDuration.seriesFor(labelKey, { agent, task: t }) }));
    if (!capped) byTask.set(raw, s);
    return s;
  }

  private flushMessageCounts(): void {
    this.messages.reset();
    for (const s of this.seriesByLabel.values()) {
      if (s.ok) this.messages.inc({ agent: s.agent, task: s.task, outcome: 'ok' }, s.ok);
      if (s.error) this.messages.inc({ agent: s.agent, task: s.task, outcome: 'error' }, s.error);
    }
  }

  /** An agent finished a message (`task` is the message type). */
  messageHandled(agent: string, task: string | undefined, seconds: number, ok: boolean, category?: string): void {
    if (!this.on) return;
    const s = this.series(agent, task);
    this.messageDuration.observeIn(s.duration, seconds);
    if (ok) s.ok++;
    else {
      s.error++;
      this.messageErrors.inc({ agent, task: s.task, error_category: errorCategory(category) });
    }
  }

  deadLetter(agent: string): void {
    if (this.on) this.deadLetters.inc({ agent });
  }

  /** A dependency call finished, after retries. */
  dependencyCall(dependency: string, kind: DependencyKind, seconds: number, ok: boolean, opts: { agent?: string; category?: string } = {}): void {
    if (!this.on) return;
    this.calls.inc({ dependency, kind, agent: labelValue(opts.agent, 'runtime'), outcome: ok ? 'ok' : 'error' });
    this.callDuration.observe({ dependency, kind }, seconds);
    if (!ok) this.callErrors.inc({ dependency, error_category: errorCategory(opts.category) });
  }

  /** An MCP tool ran and reported a failure (`isError: true`). */
  toolError(dependency: string, tool: string): void {
    if (this.on) this.toolErrors.inc({ dependency, tool: labelValue(tool, 'unknown') });
  }

  /** One attempt failed and will be retried. */
  retry(dependency: string, category?: string): void {
    if (!this.on) return;
    this.retries.inc({ dependency });
    this.callErrors.inc({ dependency, error_category: errorCategory(category) });
  }

  giveUp(dependency: string, category?: string): void {
    if (this.on) this.giveUps.inc({ dependency, error_category: errorCategory(category) });
  }

  modelFallback(chain: string, from: string, to: string): void {
    if (this.on) this.modelFallbacks.inc({ chain, from, to });
  }

  /** Seconds from a streamed model call to its first text delta, by the dependency that answered. */
  modelFirstToken(dependency: string, seconds: number): void {
    if (this.on) this.timeToFirstToken.observe({ dependency }, seconds);
  }

  /** Token counts of a model reply; returns the cost added (0 without a price). */
  modelUsage(dependency: string, promptTokens: number, completionTokens: number, agent?: string): number {
    if (!this.on) return 0;
    const a = labelValue(agent, 'runtime');
    if (promptTokens > 0) this.tokens.inc({ dependency, agent: a, type: 'prompt' }, promptTokens);
    if (completionTokens > 0) this.tokens.inc({ dependency, agent: a, type: 'completion' }, completionTokens);
    const price = this.pricing[dependency];
    if (!price) return 0;
    const cost = (Math.max(0, promptTokens) * price.promptPer1k + Math.max(0, completionTokens) * price.completionPer1k) / 1000;
    if (cost > 0) this.cost.inc({ dependency, agent: a }, cost);
    return cost;
  }

  /** A breaker's state; transitions are counted when it differs from the last known one, so repeating a state is harmless. */
  breaker(dependency: string, state: BreakerState): void {
    if (!this.on) return;
    const prev = this.breakerStates.get(dependency);
    if (prev === state) return;
    this.breakerStates.set(dependency, state);
    if (prev) this.breakerTransitions.inc({ dependency, from: prev, to: state });
    for (const s of BREAKER_STATES) this.breakerState.set({ dependency, state: s }, s === state ? 1 : 0);
  }

  restart(agent: string, supervisor: string): void {
    if (this.on) this.restarts.inc({ supervisor, agent });
  }

  escalation(supervisor: string): void {
    if (this.on) this.escalations.inc({ supervisor });
  }

  checkpointWrite(agent: string, bytes: number, seconds: number, ok = true): void {
    if (!this.on) return;
    this.checkpointWrites.inc({ agent, outcome: ok ? 'ok' : 'error' });
    if (ok) {
      this.checkpointBytes.inc({ agent }, Math.max(0, bytes));
      this.checkpointDuration.observe({ agent }, seconds);
    }
  }

  checkpointFallback(agent: string, to: 'previous' | 'cold'): void {
    if (this.on) this.checkpointFallbacks.inc({ agent, to });
  }

  inboxDepth(agent: string, depth: number): void {
    if (this.on) this.inbox.set({ agent }, depth);
  }

  faultInjected(fault: string): void {
    if (this.on) this.faultsInjected.inc({ fault: labelValue(fault) });
  }

  /** The faults active now, by fault name (replaces the previous set). */
  activeFaults(faults: Iterable<string>): void {
    if (!this.on) return;
    const counts = new Map<string, number>();
    for (const f of faults) counts.set(labelValue(f), (counts.get(labelValue(f)) ?? 0) + 1);
    this.activeFaultsGauge.reset();
    for (const [fault, n] of counts) this.activeFaultsGauge.set({ fault }, n);
  }

  /** The alerts firing now (replaces the previous set). */
  activeAlerts(alerts: Iterable<{ rule: string; level: string }>): void {
    if (!this.on) return;
    this.alertsActive.reset();
    const counts = new Map<string, { rule: string; level: string; n: number }>();
    for (const a of alerts) {
      const k = `${a.rule}/${a.level}`;
      const c = counts.get(k) ?? { rule: a.rule, level: a.level, n: 0 };
      c.n++;
      counts.set(k, c);
    }
    for (const c of counts.values()) this.alertsActive.set({ rule: c.rule, level: c.level }, c.n);
  }

  /**
   * Gauges that mirror the status snapshot: inbox depth, liveness and
   * readiness per agent, intensity use per supervisor, breaker states. Call it
   * before rendering `/metrics` (or on a tick).
   */
  observeStatus(status: RuntimeStatus): void {
    if (!this.on) return;
    for (const a of agentsOf(status.tree)) {
      this.inbox.set({ agent: a.id }, a.mailbox);
      this.agentLive.set({ agent: a.id }, a.liveness ? 1 : 0);
      this.agentReady.set({ agent: a.id }, a.readiness ? 1 : 0);
    }
    for (const { node } of walkTree(status.tree)) {
      if (node.kind === 'supervisor' && node.intensity.limit > 0) this.intensityUsed.set({ supervisor: node.id }, node.intensity.inWindow / node.intensity.limit);
    }
    for (const d of status.dependencies) this.breaker(d.id, d.breaker);
  }

  /**
   * Samples CPU and memory of agent processes (agent id → pid; leave out
   * thread-isolated agents, whose pid is the runtime's). Agents missing from
   * the map lose their gauges. Returns the samples for the reliability summary.
   */
  async sampleProcesses(pids: ReadonlyMap<string, number>): Promise<Map<string, ProcessSample>> {
    if (!this.on) return new Map();
    const samples = await this.sampler.sample(pids);
    for (const [agent, s] of samples) {
      this.agentRss.set({ agent }, s.rssBytes);
      if (s.cpuRatio !== null) this.agentCpuRatio.set({ agent }, s.cpuRatio);
      const seen = this.cpuSeen.get(agent);
      // Same process: add what it used since; a new pid (restart) started from zero.
      const delta = seen && seen.pid === s.pid ? s.cpuSeconds - seen.cpuSeconds : s.cpuSeconds;
      if (delta > 0) this.agentCpu.inc({ agent }, delta);
      this.cpuSeen.set(agent, { pid: s.pid, cpuSeconds: s.cpuSeconds });
    }
    for (const agent of [...this.cpuSeen.keys()]) {
      if (samples.has(agent)) continue;
      this.cpuSeen.delete(agent);
      this.agentRss.remove({ agent });
      this.agentCpuRatio.remove({ agent });
    }
    return samples;
  }

  private collectLoop(): void {
    if (!this.on || this.loop.count === 0) return;
    // The histogram is in nanoseconds; reset so each scrape sees its own interval.
    this.lastLoop = this.readLoop();
    this.loopLagP50.set(this.lastLoop.p50Ms / 1000);
    this.loopLagP99.set(this.lastLoop.p99Ms / 1000);
    this.loopLagMax.set(this.lastLoop.maxMs / 1000);
    this.loop.reset();
  }

  private lastLoop: { p50Ms: number; p99Ms: number; maxMs: number } | null = null;
  private readLoop() {
    return { p50Ms: this.loop.percentile(50) / 1e6, p99Ms: this.loop.percentile(99) / 1e6, maxMs: this.loop.max / 1e6 };
  }

  /** The runtime's event-loop delay since the last scrape (or as of it), for the reliability summary; null before any sample. */
  eventLoopLag(): { p50Ms: number; p99Ms: number; maxMs: number } | null {
    if (this.on && this.loop.count > 0) return this.readLoop();
    return this.lastLoop;
  }

  /** The Prometheus text exposition for `GET /metrics`, secrets scrubbed. */
  async text(): Promise<string> {
    return this.scrub(await this.registry.metrics());
  }

  /** Stops the event-loop monitor (on shutdown). */
  dispose(): void {
    this.loop.disable();
  }
}
