/**
 * OpenTelemetry for the runtime: spans in the GenAI semantic conventions,
 * log records and the GenAI client metrics, exported over OTLP/HTTP
 * (protobuf, or JSON on request) with the official JS SDK.
 *
 * Turned on by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT and the
 * per-signal ones, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER /
 * OTEL_METRICS_EXPORTER, OTEL_SDK_DISABLED) or a `telemetry` block in the
 * config; the variables win. Off, nothing of the SDK is loaded and every
 * hook is a no-op.
 *
 * Agents need no SDK of their own: every message, model call and tool call
 * passes through the runtime, which knows which message each agent is
 * handling. A message carries the W3C trace context of whoever sent it
 * (another agent's span, a control-channel caller's `traceparent`), so the
 * `invoke_agent` span of the agent handling it is a child of that span,
 * whichever process, thread or node it runs on.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { TelemetryConfig } from '../config/load.ts';
import type { TraceSpan, TraceSummary, TracesResult } from '../protocol/schema/traces.ts';

type Api = typeof import('@opentelemetry/api');

export interface TelemetrySettings {
  traces: 'otlp' | 'none';
  logs: 'otlp' | 'none';
  metrics: 'otlp' | 'none';
  protocol: 'http/protobuf' | 'http/json';
  urls: { traces?: string; logs?: string; metrics?: string };
  headers: { traces: Record<string, string>; logs: Record<string, string>; metrics: Record<string, string> };
  serviceName: string;
  captureContent: boolean;
  bufferSpans: number;
  /** Why a setting was not taken (an unknown protocol), for one warning at start. */
  warnings: string[];
}

/** `k=v,k2=v2` (values URL-encoded), as OTEL_EXPORTER_OTLP_HEADERS has it. */
export function parseHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a malformed pair is left out
    }
  }
  return out;
}

const truthy = (v: string | undefined) => v !== undefined && /^(true|1|yes)$/i.test(v.trim());

/**
 * What the variables and the config's `telemetry` block ask for; undefined
 * when telemetry is off (no block, no endpoint variable, or OTEL_SDK_DISABLED).
 */
export function telemetrySettings(cfg: TelemetryConfig | undefined, systemName: string, env: NodeJS.ProcessEnv = process.env): TelemetrySettings | undefined {
  if (truthy(env.OTEL_SDK_DISABLED)) return undefined;
  const signalEnv = (s: 'TRACES' | 'LOGS' | 'METRICS', k: string) => env[`OTEL_EXPORTER_OTLP_${s}_${k}`];
  const anyEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || signalEnv('TRACES', 'ENDPOINT') || signalEnv('LOGS', 'ENDPOINT') || signalEnv('METRICS', 'ENDPOINT') || cfg?.endpoint;
  if (!cfg && !anyEndpoint) return undefined;
  if (cfg?.enabled === false) return undefined;
  const warnings: string[] = [];
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT || cfg?.endpoint)?.replace(/\/+$/, '');
  const url = (s: 'TRACES' | 'LOGS' | 'METRICS', path: string) => signalEnv(s, 'ENDPOINT') || (base ? `${base}${path}` : undefined);
  const exporter = (s: 'TRACES' | 'LOGS' | 'METRICS', configured: 'otlp' | 'none' | undefined, u: string | undefined): 'otlp' | 'none' => {
    const v = env[`OTEL_${s}_EXPORTER`]?.trim().toLowerCase();
    if (v === 'none') return 'none';
    if (v && v !== 'otlp') warnings.push(`OTEL_${s}_EXPORTER=${v} is not supported here (otlp or none): using ${u ? 'otlp' : 'none'}`);
    if (!v && configured === 'none') return 'none';
    return u ? 'otlp' : 'none';
  };
  const urls = { traces: url('TRACES', '/v1/traces'), logs: url('LOGS', '/v1/logs'), metrics: url('METRICS', '/v1/metrics') };
  let protocol = (signalEnv('TRACES', 'PROTOCOL') || env.OTEL_EXPORTER_OTLP_PROTOCOL || cfg?.protocol || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    warnings.push(`OTLP protocol "${protocol}" is not supported (http/protobuf or http/json): using http/protobuf`);
    protocol = 'http/protobuf';
  }
  const common = { ...(cfg?.headers ?? {}), ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS) };
  const headers = {
    traces: { ...common, ...parseHeaders(signalEnv('TRACES', 'HEADERS')) },
    logs: { ...common, ...parseHeaders(signalEnv('LOGS', 'HEADERS')) },
    metrics: { ...common, ...parseHeaders(signalEnv('METRICS', 'HEADERS')) },
  };
  return {
    traces: exporter('TRACES', cfg?.traces, urls.traces),
    logs: exporter('LOGS', cfg?.logs, urls.logs),
    metrics: exporter('METRICS', cfg?.metrics, urls.metrics),
    protocol: protocol as TelemetrySettings['protocol'],
    urls,
    headers,
    serviceName: env.OTEL_SERVICE_NAME || cfg?.serviceName || systemName,
    captureContent: cfg?.captureContent ?? truthy(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT),
    bufferSpans: cfg?.bufferSpans ?? 5000,
    warnings,
  };
}

/** A W3C traceparent: version 00, a trace id, a parent id and flags. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The spans the runtime keeps for `traces`: the newest `capacity`, as plain records. */
class SpanBuffer {
  private spans: TraceSpan[] = [];
  constructor(readonly capacity: number) {}

  add(s: TraceSpan) {
    if (this.capacity === 0) return;
    this.spans.push(s);
    if (this.spans.length > this.capacity * 1.25) this.spans.splice(0, this.spans.length - this.capacity);
  }

  traces(o: { agent?: string; limit?: number; traceId?: string }): TraceSummary[] {
    const byTrace = new Map<string, TraceSpan[]>();
    for (let i = Math.max(0, this.spans.length - this.capacity); i < this.spans.length; i++) {
      const s = this.spans[i];
      if (o.traceId && s.traceId !== o.traceId) continue;
      let list = byTrace.get(s.traceId);
      if (!list) byTrace.set(s.traceId, (list = []));
      list.push(s);
    }
    const out: TraceSummary[] = [];
    for (const [traceId, spans] of byTrace) {
      spans.sort((a, b) => a.startMs - b.startMs);
      const agents: string[] = [];
      for (const s of spans) if (s.agent && !agents.includes(s.agent)) agents.push(s.agent);
      if (o.agent && !agents.includes(o.agent)) continue;
      const ids = new Set(spans.map((s) => s.spanId));
      const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? spans[0];
      const start = Math.min(...spans.map((s) => s.startMs));
      const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
      out.push({ traceId, name: root.name, startMs: start, durationMs: Math.max(0, end - start), agents, error: spans.some((s) => s.status === 'error'), spans });
    }
    out.sort((a, b) => b.startMs - a.startMs);
    return out.slice(0, o.limit ?? 50);
  }
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
const hrMs = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
const plainAttrs = (a: Attributes): TraceSpan['attributes'] => {
  const out: TraceSpan['attributes'] = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== null) out[k] = v as TraceSpan['attributes'][string];
  return out;
};

/** What a handled message's span needs to know about the agent and the message. */
export interface MessageSpanInfo {
  agent: string;
  envelopeId: string;
  kind: 'send' | 'ask';
  from?: string;
  traceparent?: string;
  delivery: number;
  fault?: { delayMs: number; crash: boolean };
}

interface Active {
  span: Span;
  ctx: Context;
  agent: string;
}

/**
 * The runtime's telemetry. `Telemetry.off` does nothing at all; `start`
 * loads the SDK and the exporters the settings name.
 */
export class Telemetry {
  static readonly off = new Telemetry();

  private api: Api | undefined;
  private tracer: Tracer | undefined;
  private buffer: SpanBuffer | undefined;
  private shutdowns: (() => Promise<void>)[] = [];
  private flushes: (() => Promise<void>)[] = [];
  private readonly byEnvelope = new Map<string, Active>();
  private readonly byAgent = new Map<string, Active>();
  /** Spans of model and tool calls, for the gateway's events that happen inside them. */
  private readonly calls = new WeakSet<Span>();
  private emitLog: ((line: Record<string, unknown>) => void) | undefined;
  private meters: { tokens: { record(v: number, a: Attributes): void }; duration: { record(v: number, a: Attributes): void } } | undefined;
  settings: TelemetrySettings | undefined;

  get on(): boolean {
    return this.tracer !== undefined;
  }

  /** Loads the SDK and starts the exporters. */
  static async start(settings: TelemetrySettings, resource: Record<string, string>, warn: (msg: string) => void): Promise<Telemetry> {
    const t = new Telemetry();
    t.settings = settings;
    for (const w of settings.warnings) warn(w);
    const api = (t.api = await import('@opentelemetry/api'));
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const res = resourceFromAttributes({ 'service.name': settings.serviceName, ...resource });
    const json = settings.protocol === 'http/json';

    const buffer = (t.buffer = new SpanBuffer(settings.bufferSpans));
    const processors: import('@opentelemetry/sdk-trace-base').SpanProcessor[] = [
      {
        onStart() {},
        onEnd(s) {
          const ctx = s.spanContext();
          const attrs = plainAttrs(s.attributes);
          const agent = typeof attrs['gen_ai.agent.name'] === 'string' ? (attrs['gen_ai.agent.name'] as string) : typeof attrs['faultline.agent'] === 'string' ? (attrs['faultline.agent'] as string) : undefined;
          const file = attrs['code.file.path'];
          const line = attrs['code.line.number'];
          buffer.add({
            traceId: ctx.traceId,
            spanId: ctx.spanId,
            ...(s.parentSpanContext?.spanId ? { parentSpanId: s.parentSpanContext.spanId } : {}),
            name: s.name,
            kind: KINDS[s.kind] ?? 'internal',
            startMs: hrMs(s.startTime),
            durationMs: Math.max(0, hrMs(s.duration)),
            status: s.status.code === 2 ? 'error' : s.status.code === 1 ? 'ok' : 'unset',
            ...(s.status.message ? { statusMessage: s.status.message } : {}),
            ...(agent ? { agent } : {}),
            ...(typeof file === 'string' && typeof line === 'number' ? { code: { file, line, ...(typeof attrs['code.column.number'] === 'number' ? { column: attrs['code.column.number'] as number } : {}) } } : {}),
            attributes: attrs,
            events: s.events.map((e) => ({ name: e.name, timeMs: hrMs(e.time), attributes: plainAttrs(e.attributes ?? {}) })),
          });
        },
        async forceFlush() {},
        async shutdown() {},
      },
    ];
    if (settings.traces === 'otlp' && settings.urls.traces) {
      const { OTLPTraceExporter } = json ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.urls.traces, headers: settings.headers.traces }), { scheduledDelayMillis: 1000 }));
    }
    const provider = new BasicTracerProvider({ resource: res, spanProcessors: processors });
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    t.tracer = provider.getTracer('faultline');
    t.flushes.push(() => provider.forceFlush());
    t.shutdowns.push(() => provider.shutdown());

    if (settings.logs === 'otlp' && settings.urls.logs) {
      const { LoggerProvider, BatchLogRecordProcessor } = await import('@opentelemetry/sdk-logs');
      const { OTLPLogExporter } = json ? await import('@opentelemetry/exporter-logs-otlp-http') : await import('@opentelemetry/exporter-logs-otlp-proto');
      const lp = new LoggerProvider({ resource: res, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: settings.urls.logs, headers: settings.headers.logs }), scheduledDelayMillis: 1000 })] });
      const logger = lp.getLogger('faultline');
      const severity: Record<string, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };
      t.emitLog = (line) => {
        const { time, level, msg, trace_id, span_id, ...rest } = line as Record<string, unknown>;
        const attributes: Attributes = {};
        for (const [k, v] of Object.entries(rest)) {
          if (v === null || v === undefined) continue;
          attributes[k] = typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
        }
        let context: Context | undefined;
        if (typeof trace_id === 'string' && typeof span_id === 'string') context = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: trace_id, spanId: span_id, traceFlags: 1, isRemote: false });
        logger.emit({
          timestamp: typeof time === 'string' ? new Date(time) : new Date(),
          severityText: String(level ?? 'info').toUpperCase(),
          severityNumber: severity[String(level)] ?? 9,
          body: String(msg ?? ''),
          attributes,
          ...(context ? { context } : {}),
        });
      };
      t.flushes.push(() => lp.forceFlush());
      t.shutdowns.push(() => lp.shutdown());
    }

    if (settings.metrics === 'otlp' && settings.urls.metrics) {
      const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
      const { OTLPMetricExporter } = json ? await import('@opentelemetry/exporter-metrics-otlp-http') : await import('@opentelemetry/exporter-metrics-otlp-proto');
      const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 10_000;
      const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: settings.urls.metrics, headers: settings.headers.metrics }), exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30_000) });
      const mp = new MeterProvider({ resource: res, readers: [reader] });
      const meter = mp.getMeter('faultline');
      t.meters = {
        tokens: meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Tokens used per model call', advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] } }),
        duration: meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'Duration of model calls', advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] } }),
      };
      t.flushes.push(() => mp.forceFlush());
      t.shutdowns.push(() => mp.shutdown());
    }
    return t;
  }

  /** A handled message's span starts: a child of the sender's span, or a root. */
  beginMessage(m: MessageSpanInfo): void {
    const api = this.api;
    if (!api || !this.tracer) return;
    const parent = this.parentContext(m.traceparent);
    const attributes: Attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': m.agent,
      'faultline.message.kind': m.kind,
      'faultline.message.id': m.envelopeId,
      'faultline.delivery': m.delivery,
    };
    if (m.from) attributes['faultline.message.from'] = m.from;
    const span = this.tracer.startSpan(`invoke_agent ${m.agent}`, { kind: api.SpanKind.INTERNAL, attributes }, parent);
    if (m.delivery > 1) span.addEvent('redelivered', { 'faultline.delivery': m.delivery });
    if (m.fault?.delayMs) span.addEvent('fault', { 'faultline.fault': 'slow', 'faultline.fault.ms': m.fault.delayMs });
    if (m.fault?.crash) span.addEvent('fault', { 'faultline.fault': 'crash' });
    const a = { span, ctx: api.trace.setSpan(parent, span), agent: m.agent };
    this.byEnvelope.get(m.envelopeId)?.span.end();
    this.byEnvelope.set(m.envelopeId, a);
    this.byAgent.set(m.agent, a);
  }

  /** The message's handling ended (its reply, or its error). */
  endMessage(envelopeId: string, ok: boolean, error?: Error): void {
    const a = this.byEnvelope.get(envelopeId);
    if (!a) return;
    this.byEnvelope.delete(envelopeId);
    if (this.byAgent.get(a.agent) === a) this.byAgent.delete(a.agent);
    if (!ok) {
      if (error) a.span.recordException({ name: error.name, message: error.message });
      a.span.setStatus({ code: this.api!.SpanStatusCode.ERROR, message: error?.message });
    }
    a.span.end();
  }

  /** The agent went down while handling the message: the span ends in error; a redelivery starts another. */
  crashed(envelopeId: string, reason: string): void {
    const a = this.byEnvelope.get(envelopeId);
    if (!a) return;
    a.span.addEvent('crash', { 'faultline.reason': reason });
    this.endMessage(envelopeId, false, Object.assign(new Error(reason), { name: 'AgentCrashed' }));
  }

  /** The trace context of the message the agent is handling, for what it sends or asks. */
  traceparentOf(agent: string | undefined): string | undefined {
    if (!this.api) return undefined;
    const a = agent === undefined ? undefined : this.byAgent.get(agent);
    const span = a ? a.span : this.api.trace.getSpan(this.api.context.active());
    if (!span) return undefined;
    const c = span.spanContext();
    return `00-${c.traceId}-${c.spanId}-0${c.traceFlags & 1}`;
  }

  /** An event on the span of a message being handled (its checkpoint commit, say). */
  messageEvent(envelopeId: string, name: string, attributes: Attributes): void {
    this.byEnvelope.get(envelopeId)?.span.addEvent(name, attributes);
  }

  /** An event on the span of the message the agent is handling (a fault that hit it, say). */
  agentEvent(agent: string, name: string, attributes: Attributes): void {
    this.byAgent.get(agent)?.span.addEvent(name, attributes);
  }

  /** An event on the model or tool call running in this async context (retry, fallback, fault, breaker). */
  callEvent(name: string, attributes: Attributes): boolean {
    const api = this.api;
    if (!api) return false;
    const span = api.trace.getSpan(api.context.active());
    if (!span || !this.calls.has(span)) return false;
    span.addEvent(name, attributes);
    return true;
  }

  /**
   * A model call (`chat <model>`) or tool call (`execute_tool <tool>`) by an
   * agent, as a child of its message's span; the gateway's events inside
   * it become its events.
   */
  async call<T>(agent: string, op: 'chat' | 'execute_tool', name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>, finish?: (span: Span, value: T) => void): Promise<T> {
    const api = this.api;
    if (!api || !this.tracer) return fn(undefined);
    const parent = this.byAgent.get(agent)?.ctx ?? api.context.active();
    const span = this.tracer.startSpan(`${op} ${name}`, { kind: api.SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': op, 'faultline.agent': agent, ...attributes } }, parent);
    this.calls.add(span);
    const t0 = performance.now();
    try {
      const v = await api.context.with(api.trace.setSpan(parent, span), () => fn(span));
      finish?.(span, v);
      return v;
    } catch (e) {
      const err = e as Error;
      span.recordException({ name: err?.name ?? 'Error', message: err?.message ?? String(e) });
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: err?.message });
      span.setAttribute('error.type', err?.name ?? 'Error');
      throw e;
    } finally {
      if (op === 'chat' && this.meters) this.meters.duration.record((performance.now() - t0) / 1000, this.metricAttrs(span));
      span.end();
    }
  }

  /** The token counts of a model call, as the GenAI client metric. */
  tokens(span: Span | undefined, input: number, output: number): void {
    if (!this.meters || !span) return;
    const a = this.metricAttrs(span);
    this.meters.tokens.record(input, { ...a, 'gen_ai.token.type': 'input' });
    this.meters.tokens.record(output, { ...a, 'gen_ai.token.type': 'output' });
  }

  private metricAttrs(span: Span): Attributes {
    const attrs = (span as unknown as { attributes?: Attributes }).attributes ?? {};
    const out: Attributes = { 'gen_ai.operation.name': 'chat' };
    for (const k of ['gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'error.type']) if (attrs[k] !== undefined) out[k] = attrs[k];
    return out;
  }

  /** A span of the runtime's own around `fn` (a drill and its steps), current for what `fn` sends. */
  async span<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    const api = this.api;
    if (!api || !this.tracer) return fn();
    return this.tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await fn();
      } catch (e) {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: (e as Error)?.message });
        throw e;
      } finally {
        span.end();
      }
    });
  }

  /** trace_id and span_id for a log line about this agent (the message it is handling), or of the current context. */
  logIds(agent: string | undefined): { trace_id: string; span_id: string } | undefined {
    if (!this.api) return undefined;
    const span = (agent !== undefined ? this.byAgent.get(agent)?.span : undefined) ?? this.api.trace.getSpan(this.api.context.active());
    if (!span) return undefined;
    const c = span.spanContext();
    return { trace_id: c.traceId, span_id: c.spanId };
  }

  /** A written log line, to the OTLP logs exporter. */
  log(line: Record<string, unknown>): void {
    this.emitLog?.(line);
  }

  traces(o: { agent?: string; limit?: number; traceId?: string }): TracesResult {
    return { enabled: this.on, capacity: this.buffer?.capacity ?? 0, traces: this.buffer?.traces(o) ?? [] };
  }

  private parentContext(traceparent: string | undefined): Context {
    const api = this.api!;
    const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
    if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return api.ROOT_CONTEXT;
    return api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & 1, isRemote: true });
  }

  /** Sends what is buffered (before a stop, and in tests). */
  async flush(): Promise<void> {
    await Promise.all(this.flushes.map((f) => f().catch(() => undefined)));
  }

  async shutdown(): Promise<void> {
    for (const a of this.byEnvelope.values()) a.span.end();
    this.byEnvelope.clear();
    this.byAgent.clear();
    await Promise.all(this.shutdowns.map((f) => f().catch(() => undefined)));
  }
}
