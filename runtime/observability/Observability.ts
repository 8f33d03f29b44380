/**
 * One object the runtime core wires to: it fans each runtime event out to
 * the metrics, the alert engine and the reliability tracker, owns the log and
 * the optional webhook, and answers the HTTP probes. The parts stay usable
 * (and tested) on their own; this file only routes.
 *
 * Hot-path methods (`messageHandled`, `dependencyCall`) are plain calls with
 * no allocation beyond the label objects; `enabled = false` makes them
 * return at once.
 */
import type { AlertsInput } from '../config/alertsSchema.ts';
import { resolveAlertRules } from '../config/alertsSchema.ts';
import type { BreakerState, RuntimeStatus } from '../protocol/status.ts';
import { agentsOf, walkTree } from '../protocol/status.ts';
import { AlertEngine, type AlertListener } from './alerts.ts';
import type { Disposable } from '../protocol/emitter.ts';
import { dependencyHasFallback, livez, readyz, statusView } from './health.ts';
import { createLogger, type LoggerOptions, type RuntimeLog } from './logger.ts';
import { Metrics, type DependencyKind, type Pricing } from './metrics.ts';
import { SecretScrubber } from '../protocol/redact.ts';
import { secretValues } from './redact.ts';
import { ReliabilityTracker } from './reliability.ts';
import { WebhookSink } from './webhook.ts';

/** The dependency fields observability reads from the config. */
export interface ObservedDependency { kind?: DependencyKind; apiKeyEnv?: string; price?: Pricing }

export interface ObservabilityOptions {
  /** The system name (sent with webhook alerts). */
  system?: string;
  /** `alerts` from the config. */
  alerts?: AlertsInput;
  /** `dependencies` from the config: kinds, prices, and the env vars holding secrets. */
  dependencies?: Record<string, ObservedDependency>;
  /** Where secrets are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Log options; without them no log file is written (tests, embedded use). */
  log?: Omit<LoggerOptions, 'redact'> & { redact?: string[] };
  /** The clock of the alert windows and the reliability summary (tests pass a simulated one). */
  clock?: () => number;
  enabled?: boolean;
}

/** A `dependency.call` event as the gateway emits it (runtime/gateway/GatewayEvents.ts). */
export interface GatewayCallEvent {
  dependency: string;
  phase: string;
  agent?: string;
  chain?: string;
  latencyMs?: number;
  reason?: string;
  error?: { type: string; status?: number };
  to?: string;
}

/** Maps a gateway failure to a bounded `error_category`. */
export function categoryOf(e: Pick<GatewayCallEvent, 'reason' | 'error'>): string {
  const status = e.error?.status;
  if (status === 429) return 'rate_limit';
  if (status !== undefined && status >= 500) return 'server_error';
  if (status !== undefined && status >= 400) return 'client_error';
  if (e.reason === 'breaker-open') return 'breaker_open';
  if (e.reason === 'budget' || /timeout/i.test(e.error?.type ?? '')) return 'timeout';
  if (e.error?.type) return e.error.type.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() || 'unknown';
  return e.reason?.replace(/-/g, '_') ?? 'unknown';
}

export class Observability {
  readonly metrics: Metrics;
  readonly alerts: AlertEngine;
  readonly reliability: ReliabilityTracker;
  readonly scrubber: SecretScrubber;
  private runtimeLog: RuntimeLog | null = null;
  private readonly secrets: string[];
  readonly webhook: WebhookSink | null;
  private readonly kinds = new Map<string, DependencyKind>();
  private on: boolean;
  private readonly clock: () => number;
  private readonly timers: Disposable[] = [];

  constructor(opts: ObservabilityOptions = {}) {
    const deps = opts.dependencies ?? {};
    this.clock = opts.clock ?? Date.now;
    for (const [id, d] of Object.entries(deps)) if (d.kind) this.kinds.set(id, d.kind);
    const secrets = [...secretValues(deps, opts.env ?? process.env), ...(opts.log?.redact ?? [])];
    this.secrets = secrets;
    this.scrubber = new SecretScrubber(secrets);
    const pricing: Record<string, Pricing> = {};
    for (const [id, d] of Object.entries(deps)) if (d.price) pricing[id] = d.price;
    const rules = resolveAlertRules(opts.alerts);
    this.on = opts.enabled ?? true;
    this.metrics = new Metrics({ pricing, scrub: (t) => this.scrubber.scrub(t), enabled: this.on });
    this.alerts = new AlertEngine(rules, { clock: opts.clock });
    const currency = Object.values(pricing).find((p) => p.currency)?.currency;
    this.reliability = new ReliabilityTracker({ clock: opts.clock, slaTargetMs: rules.sla.targetMs, currency });
    if (opts.log) this.openLog(opts.log);
    this.webhook = rules.webhook
      ? new WebhookSink({
          ...rules.webhook,
          system: opts.system,
          scrub: (t) => this.scrubber.scrub(t),
          onError: (err, alert) => this.log?.logger.warn({ err, rule: alert.rule, subject: alert.subject }, 'alert webhook delivery failed'),
        })
      : null;
    if (this.webhook) this.timers.push(this.webhook.attach(this.alerts));
    // Every alert transition is logged and mirrored in faultline_alerts_active.
    this.timers.push(
      this.alerts.onAlert((e) => {
        this.metrics.activeAlerts(this.alerts.active());
        const l = this.log?.logger;
        if (!l) return;
        const fields = { alert: { state: e.state, level: e.level, rule: e.rule, subject: e.subject, value: e.value } };
        if (e.state === 'resolved') l.info(fields, `resolved: ${e.message}`);
        else if (e.level === 'critical') l.error(fields, e.message);
        else l.warn(fields, e.message);
      }),
    );
  }

  /** The log, once opened (`log` in the options, or `openLog`); null without one. */
  get log(): RuntimeLog | null {
    return this.runtimeLog;
  }

  /**
   * Opens the log file (creating its directory): separate from the
   * constructor so that a runtime does no I/O before it starts.
   */
  openLog(o: Omit<LoggerOptions, 'redact'> & { redact?: string[] }): RuntimeLog {
    this.runtimeLog ??= createLogger({ ...o, redact: [...this.secrets, ...(o.redact ?? [])] });
    return this.runtimeLog;
  }

  get enabled(): boolean {
    return this.on;
  }
  set enabled(v: boolean) {
    this.on = v;
    this.metrics.enabled = v;
  }

  // ---- events from the runtime ----

  /** An agent replied to a message (or its handler failed). `targetMs` for asks: their timeout, the SLA target. */
  messageHandled(e: { agent: string; task?: string; latencyMs: number; ok: boolean; errorCategory?: string; targetMs?: number }): void {
    if (!this.on) return;
    this.metrics.messageHandled(e.agent, e.task, e.latencyMs / 1000, e.ok, e.errorCategory);
    const now = this.clock();
    this.alerts.observeMessage(e.agent, e.ok, e.latencyMs, e.targetMs, now);
    this.reliability.message(e.agent, e.ok, e.latencyMs, e.targetMs, now);
  }

  /** A message crashed its agent on every delivery and was set aside (do not also report it as handled). */
  deadLetter(agent: string): void {
    if (!this.on) return;
    this.metrics.deadLetter(agent);
    this.reliability.deadLetter(agent);
  }

  /** A dependency call finished after its retries (use `gatewayEvent` when wiring the gateway's events). */
  dependencyCall(e: { dependency: string; latencyMs?: number; ok: boolean; agent?: string; errorCategory?: string; kind?: DependencyKind }): void {
    if (!this.on) return;
    const kind = e.kind ?? this.kinds.get(e.dependency) ?? 'http';
    this.metrics.dependencyCall(e.dependency, kind, (e.latencyMs ?? 0) / 1000, e.ok, { agent: e.agent, category: e.errorCategory });
    const now = this.clock();
    this.alerts.observeCall(e.dependency, e.ok, e.latencyMs, now);
    this.reliability.call(e.dependency, e.ok, now);
  }

  /**
   * Routes the gateway's events: `dependency.call` phases success / give-up /
   * rejected end a call, retry counts a retry, fallback a model fallback;
   * `breaker.state` updates the breaker (fallback presence from the config's
   * chains is the caller's: pass `hasFallback`).
   */
  gatewayEvent(name: 'dependency.call' | 'breaker.state', payload: GatewayCallEvent | { dependency: string; state: BreakerState }, hasFallback = false): void {
    if (!this.on) return;
    if (name === 'breaker.state') {
      const p = payload as { dependency: string; state: BreakerState };
      this.breaker(p.dependency, p.state, hasFallback);
      return;
    }
    const p = payload as GatewayCallEvent;
    switch (p.phase) {
      case 'success':
        return this.dependencyCall({ dependency: p.dependency, latencyMs: p.latencyMs, ok: true, agent: p.agent });
      case 'give-up':
      case 'rejected': {
        // A call its caller aborted is not the dependency's failure (the gateway's health does not count it either).
        if (p.reason === 'aborted') return;
        const category = p.phase === 'rejected' ? 'breaker_open' : categoryOf(p);
        this.dependencyCall({ dependency: p.dependency, latencyMs: p.latencyMs, ok: false, agent: p.agent, errorCategory: category });
        if (p.phase === 'give-up') {
          this.metrics.giveUp(p.dependency, category);
          this.reliability.giveUp(p.dependency);
        }
        return;
      }
      case 'retry':
        this.metrics.retry(p.dependency, categoryOf(p));
        this.reliability.retry(p.dependency);
        return;
      case 'fallback':
        if (p.to) this.metrics.modelFallback(p.chain ?? 'unknown', p.dependency, p.to);
        return;
    }
  }

  /** An MCP call answered with a tool error (the call itself succeeded). */
  toolError(dependency: string, tool: string): void {
    if (this.on) this.metrics.toolError(dependency, tool);
  }

  /** A streamed model call's time to its first text delta. */
  modelFirstToken(dependency: string, seconds: number): void {
    if (this.on) this.metrics.modelFirstToken(dependency, seconds);
  }

  /** Token counts from a model reply. */
  modelUsage(dependency: string, promptTokens: number, completionTokens: number, agent?: string): void {
    if (!this.on) return;
    const cost = this.metrics.modelUsage(dependency, promptTokens, completionTokens, agent);
    this.reliability.usage(dependency, promptTokens, completionTokens, cost);
  }

  breaker(dependency: string, state: BreakerState, hasFallback: boolean): void {
    if (!this.on) return;
    this.metrics.breaker(dependency, state);
    this.alerts.breaker(dependency, state, hasFallback);
    this.reliability.breaker(dependency, state);
  }

  /** A supervisor restarted a child (an agent or a supervisor). */
  restart(child: string, supervisor: string): void {
    if (!this.on) return;
    this.metrics.restart(child, supervisor);
    this.reliability.restart(supervisor);
  }

  /** A supervisor exceeded its intensity and escalated to its parent. */
  escalation(supervisor: string): void {
    if (!this.on) return;
    this.metrics.escalation(supervisor);
    this.reliability.escalation();
  }

  checkpointWrite(agent: string, bytes: number, latencyMs: number, ok = true): void {
    if (this.on) this.metrics.checkpointWrite(agent, bytes, latencyMs / 1000, ok);
  }

  /** A restore used an older checkpoint (`previous`) or none (`cold`) because the latest was corrupt or unreadable. */
  checkpointFallback(agent: string, to: 'previous' | 'cold'): void {
    if (!this.on) return;
    this.metrics.checkpointFallback(agent, to);
    this.alerts.checkpointFallback(agent);
    this.reliability.checkpointFallback();
  }

  /** The checkpoint store stopped answering (with why) or is back (null). */
  storeDown(store: string, message: string | null): void {
    if (this.on) this.alerts.storeDown(store, message);
  }

  /** Heartbeats stopped (true) or resumed / the agent was restarted (false). */
  agentUnresponsive(agent: string, unresponsive: boolean): void {
    if (this.on) this.alerts.agentUnresponsive(agent, unresponsive);
  }

  faultInjected(fault: string): void {
    if (this.on) this.metrics.faultInjected(fault);
  }

  /** The fault names active now (after an inject or a clear). */
  activeFaults(faults: Iterable<string>): void {
    if (this.on) this.metrics.activeFaults(faults);
  }

  /**
   * A status snapshot: mirrors inbox depth, liveness, readiness, restart
   * intensity and breakers into the metrics and the alert rules. Call it on a
   * tick (start() does) and before rendering /metrics.
   */
  observeStatus(status: RuntimeStatus): void {
    if (!this.on) return;
    this.metrics.observeStatus(status);
    for (const a of agentsOf(status.tree)) this.alerts.agentUnresponsive(a.id, a.state === 'running' && !a.liveness);
    for (const { node } of walkTree(status.tree)) {
      if (node.kind === 'supervisor') this.alerts.intensity(node.id, node.intensity.inWindow, node.intensity.limit);
    }
    const view = statusView(status);
    for (const d of status.dependencies) {
      this.alerts.breaker(d.id, d.breaker, dependencyHasFallback(d, view));
      this.reliability.breaker(d.id, d.breaker);
    }
  }

  /** Samples agent processes (agent id → pid, process-isolated agents only). */
  async sampleProcesses(pids: ReadonlyMap<string, number>): Promise<void> {
    if (!this.on) return;
    this.reliability.processSamples(await this.metrics.sampleProcesses(pids));
  }

  // ---- what the runtime serves ----

  /** Alert transitions for the control channel (`alert` events), with secret values scrubbed. */
  onAlert(listener: AlertListener): Disposable {
    return this.alerts.onAlert((e) => listener(this.scrubber.size ? this.scrubber.scrubValue(e) : e));
  }

  livez(status?: RuntimeStatus) {
    return livez(status);
  }

  readyz(status: RuntimeStatus) {
    return readyz(status);
  }

  /** Body and content type of `GET /metrics`; pass the status to refresh the gauges that mirror it. */
  async metricsResponse(status?: RuntimeStatus): Promise<{ contentType: string; body: string }> {
    if (status) this.observeStatus(status);
    return { contentType: this.metrics.contentType, body: await this.metrics.text() };
  }

  /** The `reliability` section of status JSON. */
  summary() {
    const s = this.reliability.summary();
    const lag = this.metrics.eventLoopLag();
    return { ...s, infrastructure: { ...s.infrastructure, eventLoop: lag ? { lagP50Ms: lag.p50Ms, lagP99Ms: lag.p99Ms, maxMs: lag.maxMs } : null } };
  }

  /** What status JSON gains: `reliability` and the active `alerts` (merged into `Runtime.status()`). */
  statusExtra(): { reliability: ReturnType<Observability['summary']>; alerts: ReturnType<AlertEngine['active']> } {
    return { reliability: this.summary(), alerts: this.scrubber.scrubValue(this.alerts.active()) };
  }

  /**
   * `GET /livez`, `/readyz` and `/metrics` in the shape of the control
   * server's HTTP routes (`{ status, type, body }`), computed from `status()`
   * at request time.
   */
  httpRoutes(status: () => RuntimeStatus): Record<'/livez' | '/readyz' | '/metrics', () => Promise<{ status: number; type: string; body: string }>> {
    const json = (r: { status: number; body: unknown }) => ({ status: r.status, type: 'application/json', body: JSON.stringify(r.body) });
    return {
      '/livez': async () => json(livez(status())),
      '/readyz': async () => json(readyz(status())),
      '/metrics': async () => {
        const m = await this.metricsResponse(status());
        return { status: 200, type: m.contentType, body: m.body };
      },
    };
  }

  /**
   * Starts the periodic work: every `everyMs` (default 1 s) observe the status
   * and evaluate the alerts; every `sampleEveryMs` (default 5 s) sample the
   * agent processes. Timers do not keep the process alive.
   */
  start(sources: { status: () => RuntimeStatus; pids: () => ReadonlyMap<string, number> }, opts: { everyMs?: number; sampleEveryMs?: number } = {}): void {
    const tick = setInterval(() => {
      try {
        this.observeStatus(sources.status());
        this.alerts.evaluate();
      } catch (e) {
        this.log?.logger.warn({ err: e }, 'observability tick failed');
      }
    }, opts.everyMs ?? 1_000);
    tick.unref();
    let sampling = false;
    const sample = setInterval(() => {
      if (sampling) return;
      sampling = true;
      this.sampleProcesses(sources.pids())
        .catch((e) => this.log?.logger.warn({ err: e }, 'process sampling failed'))
        .finally(() => (sampling = false));
    }, opts.sampleEveryMs ?? 5_000);
    sample.unref();
    this.timers.push({ dispose: () => clearInterval(tick) }, { dispose: () => clearInterval(sample) });
  }

  /** Stops the timers, sends pending webhooks, closes the log. */
  async close(): Promise<void> {
    for (const t of this.timers.splice(0)) t.dispose();
    await this.webhook?.flush();
    this.metrics.dispose();
    await this.log?.close();
  }
}
