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
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { exportWorkerScript } from '../isolation/paths.ts';
import { ProtoWriter, writeSpan } from './otlpSpans.ts';
import type { ExportSpan, ExportWorkerData, FromExportWorker, ToExportWorker } from './exportWorker.ts';
import type { Attributes, Context } from '@opentelemetry/api';
import type { TelemetryConfig } from '../config/load.ts';
import type { TraceSpan, TraceSummary, TracesResult } from '../protocol/schema/traces.ts';


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

type AttrValue = string | number | boolean | string[] | number[] | boolean[];
export type SpanAttributes = Record<string, AttrValue>;

/** Random hex ids from a pool refilled 4 KB at a time: one `randomBytes` call per 256 spans. */
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const s = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * A span as the runtime records it: plain fields, no SDK objects on the
 * path of every message (those cost tens of µs a span on this machine).
 * Ended spans go to the buffer and, when exporting, to the OTLP exporter
 * as the SDK's ReadableSpan.
 */
export class LightSpan {
  readonly spanId = randomHex(8);
  readonly startMs = nowMs();
  endMs = 0;
  status: { code: 0 | 1 | 2; message?: string } = { code: 0 };
  events: { name: string; timeMs: number; attributes: SpanAttributes }[] = [];
  constructor(
    private readonly sink: (s: LightSpan) => void,
    readonly traceId: string,
    readonly parentSpanId: string | undefined,
    readonly name: string,
    readonly kind: 0 | 1 | 2 | 3 | 4,
    readonly attributes: SpanAttributes,
    readonly flags = 1,
  ) {}

  setAttribute(k: string, v: AttrValue | undefined): void {
    if (v !== undefined) this.attributes[k] = v;
  }
  setAttributes(a: Record<string, AttrValue | undefined>): void {
    for (const k in a) if (a[k] !== undefined) this.attributes[k] = a[k]!;
  }
  addEvent(name: string, attributes: SpanAttributes = {}): void {
    if (this.events.length < 128) this.events.push({ name, timeMs: nowMs(), attributes });
  }
  recordException(e: { name?: string; message?: string }): void {
    this.addEvent('exception', { 'exception.type': e.name ?? 'Error', 'exception.message': e.message ?? '' });
  }
  setStatus(s: { code: 0 | 1 | 2; message?: string }): void {
    this.status = s;
  }
  get traceparent(): string {
    return `00-${this.traceId}-${this.spanId}-0${this.flags & 1}`;
  }
  end(): void {
    if (this.endMs) return;
    this.endMs = nowMs();
    this.sink(this);
  }
}

/** The spans the runtime keeps for `traces`: the newest `capacity`. */
class SpanBuffer {
  private spans: LightSpan[] = [];
  constructor(readonly capacity: number) {}

  add(s: LightSpan) {
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
      list.push(plain(s));
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

/** A recorded span as the `traces` method answers it. */
function plain(s: LightSpan): TraceSpan {
  const a = s.attributes;
  const agent = typeof a['gen_ai.agent.name'] === 'string' ? (a['gen_ai.agent.name'] as string) : typeof a['faultline.agent'] === 'string' ? (a['faultline.agent'] as string) : undefined;
  const file = a['code.file.path'];
  const line = a['code.line.number'];
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: KINDS[s.kind] ?? 'internal',
    startMs: s.startMs,
    durationMs: Math.max(0, s.endMs - s.startMs),
    status: s.status.code === 2 ? 'error' : s.status.code === 1 ? 'ok' : 'unset',
    ...(s.status.message ? { statusMessage: s.status.message } : {}),
    ...(agent ? { agent } : {}),
    ...(typeof file === 'string' && typeof line === 'number' ? { code: { file, line, ...(typeof a['code.column.number'] === 'number' ? { column: a['code.column.number'] as number } : {}) } } : {}),
    attributes: { ...a },
    events: s.events.map((e) => ({ ...e, attributes: { ...e.attributes } })),
  };
}

/**
 * Ended spans to the OTLP export worker in batches (every second, or at
 * 512). For protobuf a batch is written in one go when it is sent (one
 * span after another while the writer's code and buffer are hot: about a
 * third of the CPU of writing each span as it ends, between messages) and
 * its bytes are moved to the worker; for JSON the batch goes as records.
 */
class SpanExport {
  private queue: LightSpan[] = [];
  private readonly writer: ProtoWriter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly worker: Worker;
  private stopped: (() => void) | undefined;

  constructor(data: ExportWorkerData, warn: (msg: string) => void) {
    if (!data.json) this.writer = new ProtoWriter();
    this.worker = new Worker(exportWorkerScript(), { workerData: data });
    this.worker.unref();
    this.worker.on('message', (m: FromExportWorker) => {
      if (m.t === 'failed') warn(`cannot export spans to ${data.url}: ${m.error}`);
      else this.stopped?.();
    });
    this.worker.on('error', (e) => warn(`the span export stopped: ${e.message}`));
  }

  add(s: LightSpan) {
    this.queue.push(s);
    if (this.queue.length >= 512) this.send();
    else this.timer ??= setTimeout(() => this.send(), 1000).unref();
  }

  private send() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (!batch.length) return;
    if (this.writer) {
      for (const s of batch) writeSpan(this.writer, s);
      const bytes = this.writer.take();
      this.worker.postMessage({ t: 'otlp', bytes, count: batch.length } satisfies ToExportWorker, [bytes.buffer as ArrayBuffer]);
      return;
    }
    const spans: ExportSpan[] = batch.map((s) => ({ traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name, kind: s.kind, flags: s.flags, startMs: s.startMs, endMs: s.endMs, status: s.status, attributes: s.attributes, events: s.events }));
    this.worker.postMessage({ t: 'spans', spans } satisfies ToExportWorker);
  }

  /** Sends what waits, lets the worker finish its exports (3 s at most), and ends it. */
  async shutdown() {
    this.send();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000).unref();
      this.stopped = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.postMessage({ t: 'shutdown' } satisfies ToExportWorker);
    });
    await this.worker.terminate();
  }
}

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
  span: LightSpan;
  agent: string;
}

/**
 * The runtime's telemetry. `Telemetry.off` does nothing at all; `start`
 * loads the exporters the settings name.
 */
export class Telemetry {
  static readonly off = new Telemetry();

  private running = false;
  private buffer: SpanBuffer | undefined;
  private exporter: SpanExport | undefined;
  private shutdowns: (() => Promise<void>)[] = [];
  private readonly byEnvelope = new Map<string, Active>();
  private readonly byAgent = new Map<string, Active>();
  /** The runtime's own span in progress (a drill's step), for what it sends. */
  private current: LightSpan | undefined;
  private emitLog: ((line: Record<string, unknown>) => void) | undefined;
  private meters: { tokens: { record(v: number, a: SpanAttributes): void }; duration: { record(v: number, a: SpanAttributes): void }; firstChunk: { record(v: number, a: SpanAttributes): void } } | undefined;
  private readonly sink = (sp: LightSpan) => {
    this.buffer?.add(sp);
    this.exporter?.add(sp);
  };
  settings: TelemetrySettings | undefined;

  get on(): boolean {
    return this.running;
  }

  /** Loads the exporters and starts them. */
  static async start(settings: TelemetrySettings, resource: Record<string, string>, warn: (msg: string) => void): Promise<Telemetry> {
    const t = new Telemetry();
    t.settings = settings;
    t.running = true;
    for (const w of settings.warnings) warn(w);
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const res = resourceFromAttributes({ 'service.name': settings.serviceName, ...resource });
    const json = settings.protocol === 'http/json';
    t.buffer = new SpanBuffer(settings.bufferSpans);

    if (settings.traces === 'otlp' && settings.urls.traces) {
      const exporter = (t.exporter = new SpanExport({ url: settings.urls.traces, headers: settings.headers.traces, json, resource: { 'service.name': settings.serviceName, ...resource } }, warn));
      t.shutdowns.push(() => exporter.shutdown());
    }

    if (settings.logs === 'otlp' && settings.urls.logs) {
      const api = await import('@opentelemetry/api');
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
        firstChunk: meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', { unit: 's', description: 'Time from a streamed model call to its first chunk', advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] } }),
      };
      t.shutdowns.push(() => mp.shutdown());
    }
    return t;
  }

  /** A new span under `parent` (a span of ours, or a caller's traceparent), or a root. */
  private startSpan(name: string, kind: LightSpan['kind'], attributes: SpanAttributes, parent: LightSpan | string | undefined): LightSpan {
    if (parent instanceof LightSpan) return new LightSpan(this.sink, parent.traceId, parent.spanId, name, kind, attributes, parent.flags);
    const m = parent ? TRACEPARENT.exec(parent) : null;
    if (m && !/^0+$/.test(m[1]) && !/^0+$/.test(m[2])) return new LightSpan(this.sink, m[1], m[2], name, kind, attributes, parseInt(m[3], 16) & 1);
    return new LightSpan(this.sink, randomHex(16), undefined, name, kind, attributes);
  }

  /** A handled message's span starts: a child of the sender's span, or a root. */
  beginMessage(m: MessageSpanInfo): void {
    if (!this.running) return;
    const attributes: SpanAttributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': m.agent,
      'faultline.message.kind': m.kind,
      'faultline.message.id': m.envelopeId,
      'faultline.delivery': m.delivery,
    };
    if (m.from) attributes['faultline.message.from'] = m.from;
    const span = this.startSpan(`invoke_agent ${m.agent}`, 0, attributes, m.traceparent);
    if (m.delivery > 1) span.addEvent('redelivered', { 'faultline.delivery': m.delivery });
    if (m.fault?.delayMs) span.addEvent('fault', { 'faultline.fault': 'slow', 'faultline.fault.ms': m.fault.delayMs });
    if (m.fault?.crash) span.addEvent('fault', { 'faultline.fault': 'crash' });
    const a = { span, agent: m.agent };
    this.byEnvelope.get(m.envelopeId)?.span.end();
    this.byEnvelope.set(m.envelopeId, a);
    this.byAgent.set(m.agent, a);
  }

  /** The message's handling ended (its reply, or its error). */
  endMessage(envelopeId: string, ok: boolean, error?: Error): void {
    if (!this.running) return;
    const a = this.byEnvelope.get(envelopeId);
    if (!a) return;
    this.byEnvelope.delete(envelopeId);
    if (this.byAgent.get(a.agent) === a) this.byAgent.delete(a.agent);
    if (!ok) {
      if (error) a.span.recordException(error);
      a.span.setStatus({ code: 2, message: error?.message });
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

  /** The trace context of the message the agent is handling (or of the runtime's own span), for what it sends or asks. */
  traceparentOf(agent: string | undefined): string | undefined {
    if (!this.running) return undefined;
    const span = (agent === undefined ? undefined : this.byAgent.get(agent)?.span) ?? this.current;
    return span?.traceparent;
  }

  /** An event on the span of a message being handled (its checkpoint commit, say). */
  messageEvent(envelopeId: string, name: string, attributes: SpanAttributes): void {
    this.byEnvelope.get(envelopeId)?.span.addEvent(name, attributes);
  }

  /** An event on the span of the message the agent is handling (a fault that hit it, say). */
  agentEvent(agent: string, name: string, attributes: SpanAttributes): void {
    this.byAgent.get(agent)?.span.addEvent(name, attributes);
  }

  /**
   * A model call (`chat <model>`) or tool call (`execute_tool <tool>`) by an
   * agent, as a child of its message's span; `fn` hands the span to the
   * gateway, whose events in the call become its events.
   */
  async call<T>(agent: string, op: 'chat' | 'execute_tool', name: string, attributes: SpanAttributes, fn: (span: LightSpan | undefined) => Promise<T>, finish?: (span: LightSpan, value: T) => void): Promise<T> {
    if (!this.running) return fn(undefined);
    const parent = this.byAgent.get(agent)?.span ?? this.current;
    const span = this.startSpan(`${op} ${name}`, 2, { 'gen_ai.operation.name': op, 'faultline.agent': agent, ...attributes }, parent);
    try {
      const v = await fn(span);
      finish?.(span, v);
      return v;
    } catch (e) {
      const err = e as Error;
      span.recordException({ name: err?.name ?? 'Error', message: err?.message ?? String(e) });
      span.setStatus({ code: 2, message: err?.message });
      span.setAttribute('error.type', err?.name ?? 'Error');
      throw e;
    } finally {
      span.end();
      if (op === 'chat' && this.meters) {
        this.meters.duration.record((span.endMs - span.startMs) / 1000, this.metricAttrs(span));
        const ttfc = span.attributes['gen_ai.response.time_to_first_chunk'];
        if (typeof ttfc === 'number') this.meters.firstChunk.record(ttfc, this.metricAttrs(span));
      }
    }
  }

  /** A streamed model call's first chunk, `seconds` after the call began: an attribute of its span (and the GenAI metric when it ends). */
  firstChunk(span: LightSpan | undefined, seconds: number): void {
    span?.setAttribute('gen_ai.response.time_to_first_chunk', seconds);
  }

  /** The token counts of a model call, as the GenAI client metric. */
  tokens(span: LightSpan | undefined, input: number, output: number): void {
    if (!this.meters || !span) return;
    const a = this.metricAttrs(span);
    this.meters.tokens.record(input, { ...a, 'gen_ai.token.type': 'input' });
    this.meters.tokens.record(output, { ...a, 'gen_ai.token.type': 'output' });
  }

  private metricAttrs(span: LightSpan): SpanAttributes {
    const out: SpanAttributes = { 'gen_ai.operation.name': 'chat' };
    for (const k of ['gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'error.type']) if (span.attributes[k] !== undefined) out[k] = span.attributes[k];
    return out;
  }

  /** A span of the runtime's own around `fn` (a drill and its steps), current for what the runtime sends meanwhile. */
  async span<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>): Promise<T> {
    if (!this.running) return fn();
    const before = this.current;
    const span = (this.current = this.startSpan(name, 0, attributes, before));
    try {
      return await fn();
    } catch (e) {
      span.setStatus({ code: 2, message: (e as Error)?.message });
      throw e;
    } finally {
      this.current = before;
      span.end();
    }
  }

  /** trace_id and span_id for a log line about this agent (the message it is handling), or of the runtime's own span. */
  logIds(agent: string | undefined): { trace_id: string; span_id: string } | undefined {
    if (!this.running) return undefined;
    const span = (agent !== undefined ? this.byAgent.get(agent)?.span : undefined) ?? this.current;
    return span ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
  }

  /** A written log line, to the OTLP logs exporter. */
  log(line: Record<string, unknown>): void {
    this.emitLog?.(line);
  }

  traces(o: { agent?: string; limit?: number; traceId?: string }): TracesResult {
    return { enabled: this.on, capacity: this.buffer?.capacity ?? 0, traces: this.buffer?.traces(o) ?? [] };
  }

  async shutdown(): Promise<void> {
    for (const a of this.byEnvelope.values()) a.span.end();
    this.byEnvelope.clear();
    this.byAgent.clear();
    this.running = false;
    await Promise.all(this.shutdowns.map((f) => f().catch(() => undefined)));
  }
}
