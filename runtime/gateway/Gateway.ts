/**
 * The gateway: every external call of every agent runs here, in the runtime
 * process, through its dependency's one policy (see README.md for why). It
 * owns the policies, walks model fallback chains, applies degrade modes,
 * keeps the health registry and persists breaker state.
 *
 * ```ts
 * const gw = new Gateway({ dependencies: config.dependencies, models: config.models, log });
 * gw.onEvent((name, payload) => control.notify(name, payload));
 * const reply = await gw.chat('chat', { messages: [{ role: 'user', content: 'hi' }] }, { agent: 'planner' });
 * reply.dependency; // which dependency answered
 * ```
 */
import { DependencyPolicy, errInfo, type CallOptions, type LogFn } from './DependencyPolicy.ts';
import type { GatewayEvent, GatewayListener } from './GatewayEvents.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';
import { CallQueue, type QueuedCall, type QueueStore, type ReplayOutcome } from './CallQueue.ts';
import { httpCall } from './httpCall.ts';
import { ResponseCache, markStale } from './ResponseCache.ts';
import { SecretScrubber } from '../protocol/redact.ts';
import { sleep, systemClock, type Clock } from './clock.ts';
import { resolveDependency, type DependencyConfig } from './policyConfig.ts';
import { classify, type Classifier } from './classify.ts';
import { httpTransport, type AttemptContext, type HttpDeps, type Transport } from './httpTransport.ts';
import { chatTransport } from './chatTransport.ts';
import { anthropicTransport } from './anthropicTransport.ts';
import { LIST_TOOLS, mcpCall, mcpTransport } from './mcpTransport.ts';
import { McpServers, type McpConnections } from './mcpServers.ts';
import type { McpTool } from '../protocol/schema/mcp.ts';
import type { FaultHook } from './faults.ts';
import { blocksReadiness, dependencyHasFallback, type FallbackView } from '../observability/health.ts';
import { RuntimeStoppingError } from '../errors.ts';
import {
  BreakerOpenError,
  BudgetExceededError,
  DependencyError,
  FallbackExhaustedError,
  InvalidCallError,
  QueueFullError,
  RetriesExhaustedError,
  StreamInterruptedError,
  UnknownDependencyError,
  type DependencyQueued,
  type DependencyUnavailable,
} from './errors.ts';
import type { ChatReply, ChatRequest, DependencyHealth } from '../sdk.ts';
import type { BreakerState, DependencyStatus } from '../protocol/status.ts';

/** An in-process tool behind a `kind: "tool"` dependency. */
export type ToolHandler = (request: unknown, ctx: { readonly signal: AbortSignal; readonly dependency: string }) => unknown;

/** Where breaker state is kept across runtime restarts (the durable-state layer provides one). */
export interface GatewayStateStore {
  get(key: string): unknown;
  put(key: string, json: unknown): void;
}

export interface GatewayOptions {
  dependencies: Record<string, DependencyConfig>;
  /** Model fallback chains: chain name → dependency ids in order. */
  models?: Record<string, string[]>;
  clock?: Clock;
  /** Waits out a retry delay (default: a timer on `clock`); tests pass `SteppingClock.sleep` to skip it. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
  /** Where `apiKeyEnv` variables are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: LogFn;
  stateStore?: GatewayStateStore;
  /** Where `degrade: "queue"` holds calls (default in memory). */
  queueStore?: QueueStore;
  /** Handlers of `kind: "tool"` dependencies. */
  tools?: Record<string, ToolHandler>;
  /** Per-dependency classifier extensions (code; the config's `classifier` covers statuses and codes). */
  classifiers?: Record<string, Classifier>;
  /** Cached responses kept for `degrade: "cache"` (default 1000). */
  cacheLimit?: number;
  /** Held calls per dependency for `degrade: "queue"` (default 1000). */
  queueLimit?: number;
  /** The servers of `kind: "mcp"` dependencies (default: the gateway's own, started on first use and closed by dispose). */
  mcp?: McpConnections;
  /** Where an own `mcp` registry resolves relative paths (default the working directory). */
  baseDir?: string;
  /** An MCP call answered with a tool error (`isError: true`). */
  onToolError?: (dependency: string, tool: string) => void;
}

/** A call's options as agents give them: `http` unchecked (the gateway checks it against the dependency). */
export type GatewayCallOptions = Omit<CallOptions, 'chain' | 'http'> & { http?: unknown };

/** What the degrade cache keys a call on: its request, and for an http call also its method and URL. */
const cached = (request: unknown, o: CallOptions): unknown => (o.http ? { method: o.http.method, url: o.http.url, request } : request);

export const breakerStateKey = (dependency: string) => `gateway.breaker.${dependency}`;

export class Gateway {
  private readonly policies = new Map<string, DependencyPolicy>();
  private readonly chains: Record<string, string[]>;
  private readonly emitter = new Emitter<GatewayEvent>();
  private readonly scrubber: SecretScrubber;
  private readonly cache: ResponseCache;
  private readonly queue: CallQueue;
  private readonly tools = new Map<string, ToolHandler>();
  private readonly disposer = new AbortController();
  private faultHook: FaultHook | undefined;
  private readonly mcp: McpConnections;
  private readonly ownMcp: McpServers | undefined;
  /** What the fallback rule sees of this gateway: its chains and live breaker states. */
  private readonly view: FallbackView = { models: undefined, breakerOf: (id) => this.policies.get(id)?.breaker.state };

  constructor(private readonly opts: GatewayOptions) {
    const env = opts.env ?? process.env;
    this.chains = opts.models ?? {};
    this.view.models = this.chains;
    this.scrubber = new SecretScrubber(Object.values(opts.dependencies).map((d) => (d.apiKeyEnv ? env[d.apiKeyEnv] : undefined)));
    this.cache = new ResponseCache(opts.cacheLimit);
    this.queue = new CallQueue(opts.queueStore, opts.queueLimit);
    for (const [id, fn] of Object.entries(opts.tools ?? {})) this.tools.set(id, fn);
    this.ownMcp = opts.mcp || !Object.values(opts.dependencies).some((d) => d.kind === 'mcp') ? undefined : new McpServers({ dependencies: opts.dependencies, baseDir: opts.baseDir ?? process.cwd(), env, log: opts.log, clock: opts.clock });
    this.mcp = opts.mcp ?? this.ownMcp ?? { get: () => undefined };
    const http: HttpDeps = { fetch: opts.fetch ?? globalThis.fetch, env, scrubber: this.scrubber };
    for (const [id, cfg] of Object.entries(opts.dependencies)) {
      const dep = resolveDependency(id, cfg);
      const transport = dep.kind === 'mcp' ? mcpTransport(dep, () => this.mcp.get(id)) : dep.kind === 'model' ? (dep.api === 'anthropic' ? anthropicTransport(dep, http) : chatTransport(dep, http)) : dep.kind === 'http' ? httpTransport(dep, http) : this.toolTransport(id);
      const policy = new DependencyPolicy(
        dep,
        transport,
        {
          clock: opts.clock ?? systemClock,
          sleep: opts.sleep ?? ((ms, signal) => sleep(opts.clock ?? systemClock, ms, signal)),
          emitter: this.emitter,
          scrubber: this.scrubber,
          log: opts.log,
          classifier: opts.classifiers?.[id],
          faultHook: () => this.faultHook,
          disposed: this.disposer.signal,
          onBreakerTransition: (d, s, p) => this.onBreakerTransition(d, s, p),
        },
        this.readState(id),
      );
      this.policies.set(id, policy);
    }
    // Calls held by a durable queue store before a restart go out once their dependency is up.
    for (const p of this.policies.values()) if (p.dep.degrade === 'queue' && p.breaker.state === 'closed') this.drain(p);
  }

  /**
   * Calls a dependency through its policy. Resolves with the reply, or with a
   * `DependencyUnavailable` / stale cached reply / `DependencyQueued` receipt
   * when the dependency is unavailable and its `degrade` mode says so.
   */
  async call(dependency: string, request: unknown, given: GatewayCallOptions = {}): Promise<unknown> {
    const p = this.policy(dependency);
    const o: CallOptions = given.http === undefined ? (given as CallOptions) : { ...given, http: httpCall(p.dep, given.http, request) };
    if (p.dep.kind === 'mcp') request = mcpCall(p.dep, request);
    try {
      return this.succeeded(p, request, await p.execute(request, o), o);
    } catch (e) {
      return this.degrade([p], request, o, e);
    }
  }

  /**
   * Chats through a model fallback chain (or a single model dependency named
   * directly): the first dependency whose breaker admits the call answers;
   * a non-retryable or exhausted failure moves on to the next. The reply's
   * `dependency` and `model` say who answered.
   */
  chat(chain: string, request: ChatRequest, given: GatewayCallOptions = {}): Promise<ChatReply> {
    return this.walk(chain, request, given);
  }

  private async walk(chain: string, request: ChatRequest, given: GatewayCallOptions, onDelta?: (text: string, dependency: string) => void): Promise<ChatReply> {
    const ids = this.chainOf(chain);
    const { http, ...o } = given;
    if (http !== undefined) throw new InvalidCallError(ids[0], '"http" options are for kind "http" dependencies, not model chats');
    const failures: { dependency: string; type: string; message: string }[] = [];
    let last: unknown;
    for (let i = 0; i < ids.length; i++) {
      const p = this.policy(ids[i]);
      try {
        const co: CallOptions = onDelta ? { ...o, chain, onDelta: (t) => onDelta(t, p.dep.id) } : { ...o, chain };
        return this.succeeded(p, request, await p.execute(request, co), o) as ChatReply;
      } catch (e) {
        if (o.signal?.aborted || this.disposer.signal.aborted || e instanceof StreamInterruptedError) throw e;
        last = e;
        failures.push({ dependency: ids[i], ...errInfo(e) });
        if (i + 1 < ids.length) {
          if (this.emitter.active || o.trace) p.event('fallback', { ...o, chain }, { to: ids[i + 1], error: errInfo(e) });
          this.opts.log?.('info', `model chain ${chain}: ${ids[i]} failed (${(e as Error).name}); trying ${ids[i + 1]}`, { chain, dependency: ids[i], to: ids[i + 1], agent: o.agent });
        }
      }
    }
    const degraded = this.degrade(ids.map((id) => this.policy(id)), request, { ...o, chain }, last, true);
    if (degraded !== undefined) return degraded as ChatReply;
    throw ids.length === 1 ? last : new FallbackExhaustedError(chain, failures);
  }

  /**
   * Chats through a chain with `stream: true`: `onDelta` gets each text delta
   * as it arrives, and the promise the assembled reply. A failure before the
   * first delta is retried or falls back as for `chat`; one after it rejects
   * with `StreamInterruptedError` (its `partial` text), on that dependency.
   * `onDelta` is told which dependency is answering.
   */
  chatStream(chain: string, request: ChatRequest, given: GatewayCallOptions, onDelta: (text: string, dependency: string) => void): Promise<ChatReply> {
    return this.walk(chain, { ...request, stream: true }, given, onDelta);
  }

  /** The model name a dependency is configured with (its id when it names none). */
  modelOf(dependency: string): string {
    const d = this.policy(dependency).dep;
    return d.model ?? d.id;
  }

  /**
   * Lists the tools of an `mcp` dependency's server, through its policy.
   * While the server is unavailable, `degrade: "cache"` answers with the last
   * list (`stale: true`); other modes fail (a listing is not held or skipped).
   */
  async listTools(dependency: string, given: Omit<GatewayCallOptions, 'http'> = {}): Promise<{ tools: McpTool[]; stale?: boolean; cachedAt?: string }> {
    const p = this.policy(dependency);
    if (p.dep.kind !== 'mcp') throw new InvalidCallError(dependency, `only "mcp" dependencies list tools; this one is kind "${p.dep.kind}"`);
    const o = given as CallOptions;
    try {
      return this.succeeded(p, LIST_TOOLS, await p.execute(LIST_TOOLS, o), o) as { tools: McpTool[] };
    } catch (e) {
      if (p.dep.degrade !== 'cache') throw e;
      return this.degrade([p], LIST_TOOLS, o, e) as { tools: McpTool[]; stale: true; cachedAt: string };
    }
  }

  /** `text` with the dependencies' secrets (API keys from the environment) replaced, for what leaves the runtime. */
  scrub(text: string): string {
    return this.scrubber.scrub(text);
  }

  /** The health of one dependency as the registry sees it. */
  health(dependency: string): DependencyHealth {
    const p = this.policy(dependency);
    const s = p.stats;
    const h: DependencyHealth = {
      id: dependency,
      breaker: p.breaker.state,
      errorRate: round3(s.errorRate),
      calls: s.calls,
      attempts: s.attempts,
      retries: s.retries,
      failures: s.failures,
      rejected: s.rejected,
      degraded: s.degraded,
    };
    const p50 = s.latency(0.5);
    if (p50 !== undefined) {
      h.latencyMs = p50;
      h.latencyP95Ms = s.latency(0.95);
    }
    if (p.breaker.state === 'open') h.retryInMs = p.breaker.retryInMs();
    if (p.dep.degrade === 'queue') h.queued = this.queue.size(dependency);
    if (s.lastError) h.lastError = s.lastError;
    if (p.dep.kind === 'mcp') {
      h.toolErrors = s.toolErrors;
      const server = this.mcp.get(dependency)?.status();
      if (server) h.server = server;
    }
    if (s.promptTokens || s.completionTokens) {
      h.tokens = { prompt: s.promptTokens, completion: s.completionTokens };
      if (p.dep.price) h.cost = { total: round6(s.cost), currency: p.dep.price.currency };
    }
    return h;
  }

  /** Every dependency, for the status JSON's `dependencies`. */
  status(): DependencyStatus[] {
    return [...this.policies.values()].map((p) => {
      const { id, breaker, errorRate, ...rest } = this.health(p.dep.id);
      const out: DependencyStatus = { id, kind: p.dep.kind, breaker, errorRate, ...rest, profile: p.dep.profile, degrade: p.dep.degrade, critical: p.dep.critical, hasFallback: this.chained(p.dep.id) };
      if (p.dep.model) out.model = p.dep.model;
      if (p.dep.url) out.url = p.dep.url;
      return out;
    });
  }

  /** The dependencies that keep the runtime from being ready, by the rule `/readyz` applies (observability/health.ts). */
  readinessProblems(): string[] {
    return this.status()
      .filter((d) => blocksReadiness(d, this.view))
      .map((d) => `critical dependency "${d.id}" is ${d.breaker} and no fallback is available`);
  }

  /**
   * Whether calls to this dependency still get an answer while it is down
   * (the one fallback rule, observability/health.ts): its degrade mode, or a
   * chain member that is not down. The `breakerOpen` alert's level follows it.
   */
  hasFallback(dependency: string): boolean {
    return dependencyHasFallback({ id: dependency, degrade: this.policy(dependency).dep.degrade }, this.view);
  }

  /** Whether some model chain offers another dependency besides this one (the status JSON's `hasFallback`). */
  private chained(dependency: string): boolean {
    return Object.values(this.chains).some((c) => c.includes(dependency) && c.length > 1);
  }

  /** Subscribes to `breaker.state` and `dependency.call` events. */
  onEvent(listener: GatewayListener): Disposable {
    return this.emitter.event((e) => listener(e.name, e.payload));
  }

  /** Holds a dependency's breaker open by hand: calls fail at once until `reset`. */
  isolate(dependency: string): void {
    this.policy(dependency).breaker.isolate();
  }

  /** Closes a dependency's breaker and clears its window, from any state. */
  reset(dependency: string): void {
    const p = this.policy(dependency);
    p.breaker.reset();
    p.stats.clearWindow();
  }

  /** Installs (or with undefined removes) the fault hook asked before every attempt. */
  setFaultHook(hook: FaultHook | undefined): void {
    this.faultHook = hook;
  }

  /** Registers the handler of a `kind: "tool"` dependency. */
  registerTool(dependency: string, handler: ToolHandler): Disposable {
    this.policy(dependency);
    this.tools.set(dependency, handler);
    return { dispose: () => void (this.tools.get(dependency) === handler && this.tools.delete(dependency)) };
  }

  /** Dependency ids, in config order. */
  get dependencyIds(): string[] {
    return [...this.policies.keys()];
  }

  /** Persists breaker state, ends retry sleeps and attempts in flight, drops listeners. */
  dispose(): void {
    if (this.disposer.signal.aborted) return;
    this.disposer.abort();
    const stopping = new RuntimeStoppingError();
    for (const p of this.policies.values()) {
      this.writeState(p.dep.id);
      p.cancelAll(stopping);
    }
    this.emitter.dispose();
    void this.ownMcp?.close();
  }

  private policy(id: string): DependencyPolicy {
    const p = this.policies.get(id);
    if (!p) throw new UnknownDependencyError('dependency', id, [...this.policies.keys()]);
    return p;
  }

  private chainOf(chain: string): string[] {
    const ids = this.chains[chain];
    if (ids) return ids;
    if (this.policies.get(chain)?.dep.kind === 'model') return [chain];
    throw new UnknownDependencyError('model chain', chain, Object.keys(this.chains));
  }

  private toolTransport(id: string): Transport {
    return async (request: unknown, ctx: AttemptContext) => {
      const handler = this.tools.get(id);
      if (!handler) throw new UnknownDependencyError('tool handler', id, [...this.tools.keys()]);
      return handler(request, { get signal() { return ctx.signal; }, dependency: id });
    };
  }

  /** Bookkeeping after a successful call: tokens and cost, the cache, a pending replay. */
  private succeeded(p: DependencyPolicy, request: unknown, value: unknown, o: CallOptions): unknown {
    const usage = (value as ChatReply | undefined)?.usage;
    if (usage) {
      p.stats.promptTokens += usage.prompt_tokens;
      p.stats.completionTokens += usage.completion_tokens;
      if (typeof (value as ChatReply).cost === 'number') p.stats.cost += (value as ChatReply).cost as number;
    }
    // A tool that ran and failed: the server answered, but this is no reply to serve from the cache.
    const toolError = p.dep.kind === 'mcp' && (value as { isError?: unknown } | undefined)?.isError === true;
    if (toolError) {
      p.stats.toolErrors += 1;
      this.opts.onToolError?.(p.dep.id, (request as { tool?: string }).tool ?? '');
    }
    if (p.dep.degrade === 'cache') {
      if (!toolError) this.cache.put(p.dep.id, cached(request, o), value);
    }
    // Replays wait for a closed breaker: while half-open they would compete with the probes.
    else if (p.dep.degrade === 'queue' && p.breaker.state === 'closed' && this.queue.size(p.dep.id) > 0) this.drain(p);
    return value;
  }

  /**
   * Applies the first applicable degrade mode of `ps` (in order) to a failed
   * call. Rethrows when none applies, unless `orUndefined` (a chain decides then).
   * Only unavailability degrades: a rejected request (400, 401, content filter)
   * is the caller's to fix, so it always fails.
   */
  private degrade(ps: DependencyPolicy[], request: unknown, o: CallOptions, error: unknown, orUndefined = false): unknown {
    const unavailable = isUnavailability(error, ps[ps.length - 1]);
    for (const p of unavailable ? ps : []) {
      const mode = p.dep.degrade;
      if (mode === 'skip') {
        p.stats.degraded += 1;
        if (this.emitter.active || o.trace) p.event('degraded', o, { mode, error: errInfo(error) });
        const e = error as Error;
        const r: DependencyUnavailable = { unavailable: true, dependency: p.dep.id, reason: e.name, message: e.message, content: '', model: '' };
        return r;
      }
      if (mode === 'cache') {
        const hit = this.cache.get(p.dep.id, cached(request, o));
        if (!hit) continue;
        p.stats.degraded += 1;
        if (this.emitter.active || o.trace) p.event('degraded', o, { mode, error: errInfo(error) });
        this.opts.log?.('warn', `dependency ${p.dep.id} unavailable; answering from cache (stale since ${hit.at})`, { dependency: p.dep.id, agent: o.agent });
        return markStale(hit.value, hit.at);
      }
      if (mode === 'queue') {
        const item = this.queue.hold(p.dep.id, request, o);
        if (!item) throw new QueueFullError(p.dep.id, this.queue.limitPerDependency);
        p.stats.degraded += 1;
        if (this.emitter.active) p.event('queued', o, { id: item.id, error: errInfo(error) });
        this.opts.log?.('warn', `dependency ${p.dep.id} unavailable; call ${item.id} held for replay`, { dependency: p.dep.id, agent: o.agent, id: item.id });
        const r: DependencyQueued = { queued: true, dependency: p.dep.id, id: item.id, reason: (error as Error).name };
        return r;
      }
    }
    if (orUndefined) return undefined;
    throw error;
  }

  private drain(p: DependencyPolicy): void {
    const run = async (item: QueuedCall): Promise<ReplayOutcome> => {
      const o = { agent: item.agent, point: item.point, http: item.http };
      try {
        this.succeeded(p, item.request, await p.execute(item.request, o), o);
        if (this.emitter.active) p.event('replayed', o, { id: item.id });
        return 'replayed';
      } catch (e) {
        if (this.disposer.signal.aborted || isUnavailability(e, p)) return 'stopped';
        if (this.emitter.active) p.event('dropped', o, { id: item.id, error: errInfo(e) });
        this.opts.log?.('warn', `dependency ${p.dep.id}: held call ${item.id} dropped on replay: ${(e as Error).message}`, { dependency: p.dep.id, id: item.id });
        return 'dropped';
      }
    };
    this.queue.drain(p.dep.id, run).catch((e) => this.opts.log?.('error', `dependency ${p.dep.id}: replay failed: ${(e as Error).message}`, { dependency: p.dep.id }));
  }

  private onBreakerTransition(dependency: string, state: BreakerState, previous: BreakerState): void {
    if (this.emitter.active) this.emitter.fire({ name: 'breaker.state', payload: { time: new Date().toISOString(), dependency, state, previous } });
    this.opts.log?.(state === 'open' || state === 'isolated' ? 'warn' : 'info', `dependency ${dependency} breaker ${previous} → ${state}`, { dependency, state, previous });
    this.writeState(dependency);
    const p = this.policies.get(dependency);
    if (state === 'closed' && p?.dep.degrade === 'queue') this.drain(p);
  }

  private readState(dependency: string): unknown {
    try {
      return this.opts.stateStore?.get(breakerStateKey(dependency));
    } catch (e) {
      this.opts.log?.('warn', `dependency ${dependency}: saved breaker state unreadable, starting closed: ${(e as Error).message}`, { dependency });
      return undefined;
    }
  }

  private writeState(dependency: string): void {
    const p = this.policies.get(dependency);
    if (!p || !this.opts.stateStore) return;
    try {
      this.opts.stateStore.put(breakerStateKey(dependency), p.breaker.toJSON());
    } catch (e) {
      this.opts.log?.('warn', `dependency ${dependency}: breaker state not saved: ${(e as Error).message}`, { dependency });
    }
  }
}

/** Whether a failure means "the dependency is not available" (as opposed to "the request was refused"). */
function isUnavailability(e: unknown, p: DependencyPolicy): boolean {
  if (e instanceof BreakerOpenError) return true;
  if (e instanceof DependencyError) return e.retryable || e instanceof RetriesExhaustedError || e instanceof BudgetExceededError;
  return classify(e, p.dep).retryable;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
