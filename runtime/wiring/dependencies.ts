/**
 * Wires the gateway into the runtime: `ctx.call`, `ctx.model(...).chat`,
 * `ctx.tools` and `ctx.health` from agents run here, through one policy per
 * dependency; its events go to subscribers and to observability; dependency
 * faults plug into the catalogue; mocked dependencies get a local mock model
 * server; MCP servers are started, supervised and stopped here.
 */
import type { LightSpan as Span, SpanAttributes, Telemetry } from '../observability/telemetry.ts';
import type { DependencyCallEvent } from '../protocol/events.ts';
import { Gateway } from '../gateway/Gateway.ts';
import { startMockModel, type MockModelHandle } from '../mockModel/MockModelServer.ts';
import type { DependencyConfig } from '../config/dependencySchema.ts';
import type { Observability } from '../observability/Observability.ts';
import type { FaultCatalogue } from '../faults/FaultCatalogue.ts';
import { dependencyFaults } from '../faults/dependencyFaults.ts';
import { mcpFaults } from '../faults/mcpFaults.ts';
import { McpServers } from '../gateway/mcpServers.ts';
import type { HostOpHandlers } from '../isolation/hostProtocol.ts';
import type { EventName } from '../protocol/events.ts';
import type { ChatReply } from '../sdk.ts';

export interface DependencyWiring {
  gateway: Gateway;
  /** The servers of `kind: "mcp"` dependencies. */
  servers: McpServers;
  /** Starts the mock servers of `mock: true` dependencies. */
  startMocks(): Promise<void>;
  /** Starts the MCP servers (stdio) and connects to them (http); one that fails leaves its dependency down. */
  startServers(): Promise<void>;
  /**
   * Runs `make` as the next journaled call of the message `agent` is
   * handling: a redelivery gets the result journaled by an earlier delivery
   * instead. `make` learns the message and the call's index (none when no
   * message is in flight or there is no journal). `ctx.waitFor` shares it.
   */
  journaled(agent: string, make: (slot?: { msgId: string; index: number }) => Promise<unknown>): Promise<unknown>;
  close(): Promise<void>;
}

export interface DependencyHost {
  dependencies: Record<string, DependencyConfig>;
  models: Record<string, string[]>;
  /** The config's directory: MCP servers' relative paths resolve against it. */
  baseDir?: string;
  obs: Observability;
  faults: FaultCatalogue;
  hostOps: HostOpHandlers;
  stateStore?: { get(key: string): unknown; put(key: string, json: unknown): void };
  /** Where completed calls are journaled per message, so a redelivered message does not call again. */
  journal?: {
    journalCall(agent: string, msgId: string, callIndex: number, result: unknown): Promise<void>;
    journaled(agent: string, msgId: string): Promise<unknown[]>;
  };
  /** The message an agent is handling now, and which delivery of it. */
  inflight?(agent: string): { msgId: string; delivery: number } | undefined;
  emit(name: EventName, payload: unknown): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Spans of model and tool calls (off: no spans). */
  telemetry?: Telemetry;
}

export function wireDependencies(h: DependencyHost): DependencyWiring {
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => h.log(level, msg, fields);
  const servers = new McpServers({ dependencies: h.dependencies, baseDir: h.baseDir ?? process.cwd(), log });
  const gateway = new Gateway({
    dependencies: h.dependencies,
    models: h.models,
    log,
    stateStore: h.stateStore,
    mcp: servers,
    onToolError: (dependency, tool) => h.obs.toolError(dependency, tool),
  });
  const tel = h.telemetry;
  const sub = gateway.onEvent((name, payload) => {
    const p = payload as { dependency: string };
    h.emit(name, payload);
    h.obs.gatewayEvent(name, payload as never, gateway.hasFallback(p.dependency));
  });
  h.faults.register(dependencyFaults(gateway, () => Object.keys(h.dependencies), (f) => h.faults.recordFired(f)));
  h.faults.register(mcpFaults(servers));

  const opts = (args: any, agent: string) => ({ agent, point: args.point, timeoutMs: args.timeoutMs, http: args.http });
  // Calls are numbered within the message being handled; a replay of the
  // message gets the journaled results of the calls that had completed
  // (at-most-once per completed call), and makes the rest.
  // The journal is read once per delivery (its first call), not per call:
  // a delivery's own results are never replayed to it.
  const counters = new Map<string, { delivery: number; next: number; done: Promise<unknown[]> }>();
  const journaled = async (agent: string, make: (slot?: { msgId: string; index: number }) => Promise<unknown>): Promise<unknown> => {
    const cur = h.inflight?.(agent);
    if (!cur || !h.journal) return make();
    const { msgId, delivery } = cur;
    let c = counters.get(agent);
    if (!c || c.delivery !== delivery) counters.set(agent, (c = { delivery, next: 0, done: h.journal.journaled(agent, msgId) }));
    const index = c.next++;
    const done = await c.done;
    if (index < done.length) {
      h.log('info', `${agent}: call ${index} of message ${msgId} replayed from the journal`, { agent, msgId });
      return done[index];
    }
    const result = await make({ msgId, index });
    // Not waited for: each store orders an agent's writes, so what the message
    // does next durably (a checkpoint, its ack) commits after this row, and
    // waiting would add a commit to every call. A row lost with the runtime
    // (or refused by the store) means a redelivery makes that call again.
    h.journal.journalCall(agent, msgId, index, result ?? null).catch((e: Error) =>
      h.log('warn', `${agent}: call ${index} of message ${msgId} was not journaled (${e.message}); a redelivery makes it again`, { agent, msgId }),
    );
    return result;
  };
  const crashHere = (agent: string, point: string | undefined) => {
    if (h.faults.beforeCall(agent, point)) throw Object.assign(new Error(`injected crash at ${point} (crash fault)`), { name: 'InjectedCrash' });
  };
  // Where in the agent's module the call was made: `file:line` (relative to the config's directory), as the host saw it.
  const site = (args: any): SpanAttributes => {
    const m = typeof args?.site === 'string' ? /^(.+):(\d+)$/.exec(args.site) : null;
    return m ? { 'code.file.path': m[1], 'code.line.number': Number(m[2]) } : {};
  };
  const point = (args: any): SpanAttributes => (typeof args?.point === 'string' ? { 'faultline.point': args.point } : {});
  h.hostOps.set('call', async (agent, args) => {
    const run = (span?: Span) => {
      crashHere(agent, args.point);
      return journaled(agent, () => gateway.call(args.dependency, args.request, traced(opts(args, agent), span)));
    };
    if (!tel?.on) return run();
    // An MCP call is named for the tool it calls; any other call for its dependency.
    const mcpTool = h.dependencies[args.dependency]?.kind === 'mcp' && typeof (args.request as { tool?: unknown } | null)?.tool === 'string' ? (args.request as { tool: string }).tool : undefined;
    const tool = mcpTool ?? String(args.dependency);
    return tel.call(agent, 'execute_tool', tool, { 'gen_ai.tool.name': tool, 'faultline.dependency': String(args.dependency), ...point(args), ...site(args) }, run, (span, result) => {
      if (mcpTool === undefined || (result as { isError?: unknown } | null)?.isError !== true) return;
      span.setStatus({ code: 2, message: 'the tool reported an error (isError)' });
      span.setAttribute('error.type', 'tool_error');
    });
  });
  h.hostOps.set('tools', async (agent, args) => {
    crashHere(agent, args.point);
    return journaled(agent, async () => (await gateway.listTools(args.dependency, { agent, point: args.point, timeoutMs: args.timeoutMs })).tools);
  });
  // `model` and `stream` share the journal, the crash points and the span; a
  // stream passes its deltas to `chunk`, and a reply that had none (replayed
  // from the journal, or from the degrade cache) goes as one chunk.
  const chat = async (agent: string, args: any, chunk?: (delta: string, model: string) => void) => {
    const t0 = performance.now();
    const run = (span?: Span) => {
      crashHere(agent, args.point);
      let streamed = false;
      return journaled(agent, async () => {
        const o = traced(opts(args, agent), span);
        const reply = chunk
          ? await gateway.chatStream(args.chain, args.request, o, (d, dependency) => {
              if (!streamed) {
                streamed = true;
                const s = (performance.now() - t0) / 1000;
                h.obs.modelFirstToken(dependency, s);
                tel?.firstChunk(span, s);
              }
              chunk(d, gateway.modelOf(dependency));
            })
          : ((await gateway.chat(args.chain, args.request, o)) as ChatReply);
        if (reply.usage) h.obs.modelUsage(reply.dependency, reply.usage.prompt_tokens ?? 0, reply.usage.completion_tokens ?? 0, agent);
        if (span && reply.usage) tel!.tokens(span, reply.usage.prompt_tokens ?? 0, reply.usage.completion_tokens ?? 0);
        return reply;
      }).then((reply) => {
        const r = reply as ChatReply;
        if (chunk && !streamed && r?.content) chunk(r.content, r.model);
        return r;
      });
    };
    if (!tel?.on) return run();
    const chain = String(args.chain);
    const first = (h.models[chain] ?? [chain])[0];
    const dep = h.dependencies[first];
    const requested = dep?.model ?? first;
    const attrs: SpanAttributes = { 'gen_ai.provider.name': providerOf(dep), 'gen_ai.request.model': requested, 'faultline.chain': chain, ...point(args), ...site(args) };
    if (tel.settings?.captureContent) Object.assign(attrs, { 'gen_ai.input.messages': gateway.scrub(JSON.stringify(args.request?.messages ?? null)) });
    return tel.call(agent, 'chat', requested, attrs, run, (span, reply) => {
      const r = reply as ChatReply;
      const d = h.dependencies[r.dependency];
      span.setAttributes({
        'gen_ai.response.model': r.model,
        'faultline.dependency': r.dependency,
        'gen_ai.provider.name': providerOf(d),
        ...(r.usage ? { 'gen_ai.usage.input_tokens': r.usage.prompt_tokens ?? 0, 'gen_ai.usage.output_tokens': r.usage.completion_tokens ?? 0 } : {}),
        ...(r.dependency !== first ? { 'faultline.fallback': true } : {}),
        ...(r.stale ? { 'faultline.stale': true } : {}),
        ...(tel.settings?.captureContent ? { 'gen_ai.output.messages': gateway.scrub(JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: r.content }] }])) } : {}),
      });
    });
  };
  h.hostOps.set('model', (agent, args) => chat(agent, args));
  h.hostOps.set('stream', (agent, args, chunk) => chat(agent, args, chunk ?? (() => {})));
  h.hostOps.set('health', async (_agent, args) => gateway.health(args.dependency));

  const mocks: MockModelHandle[] = [];
  return {
    gateway,
    servers,
    journaled,
    async startMocks() {
      for (const [id, d] of Object.entries(h.dependencies)) {
        if (!d.mock || !d.url) continue;
        const url = new URL(d.url);
        const m = typeof d.mock === 'object' ? d.mock : {};
        try {
          mocks.push(await startMockModel({ port: Number(url.port || 80), model: m.model ?? d.model ?? id, name: id, seed: m.seed }));
        } catch (e) {
          throw new Error(`cannot start the mock server of dependency "${id}" on ${url.host}: ${(e as Error).message}`);
        }
        h.log('info', `mock model server for "${id}" on http://127.0.0.1:${url.port}`, { dependency: id });
      }
    },
    startServers: () => servers.start(),
    async close() {
      sub.dispose();
      gateway.dispose();
      await Promise.all([servers.close(), ...mocks.splice(0).map((m) => m.close())]);
    },
  };
}

/** The GenAI provider name of a model dependency: `anthropic` for `"api": "anthropic"`, else `openai` (the default API). */
function providerOf(d: DependencyConfig | undefined): string {
  return d?.api === 'anthropic' ? 'anthropic' : 'openai';
}

/** A call's options with its span, which gets the policy's events (retry, fallback, give-up, fault, …). */
function traced<T extends object>(o: T, span: Span | undefined): T {
  return span ? { ...o, trace: (phase: string, e: DependencyCallEvent) => spanEvent(span, phase, e) } : o;
}

/** A gateway event inside a model or tool call, as an event of its span. */
function spanEvent(span: Span, phase: string, p: DependencyCallEvent): void {
  if (phase === 'attempt' || phase === 'success') return;
  const attrs: Record<string, string | number> = { 'faultline.dependency': String(p.dependency) };
  if (typeof p.attempt === 'number') attrs['faultline.attempt'] = p.attempt;
  if (typeof p.delayMs === 'number') attrs['faultline.retry.delay_ms'] = p.delayMs;
  if (typeof p.to === 'string') attrs['faultline.fallback.to'] = p.to;
  if (typeof p.reason === 'string') attrs['faultline.reason'] = p.reason;
  if (typeof p.mode === 'string') attrs['faultline.degrade.mode'] = p.mode;
  const err = p.error as { type?: string; message?: string; status?: number } | undefined;
  if (err?.type) attrs['error.type'] = err.type;
  if (err?.message) attrs['faultline.error.message'] = err.message;
  if (typeof err?.status === 'number') attrs['http.response.status_code'] = err.status;
  span.addEvent(phase === 'give-up' ? 'give_up' : phase, attrs);
}
