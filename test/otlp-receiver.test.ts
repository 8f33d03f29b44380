/**
 * The OTLP/HTTP receiver (test/helpers/otlp.ts) against the real
 * OpenTelemetry JS exporters, in both encodings: what they export (spans with
 * a parent, attributes and an event; a log record inside an active span; a
 * counter and a histogram) is what it decodes with the official proto
 * definitions. And it refuses what a collector would refuse (400), answers an
 * injected status when told to, and the exporters retry through that.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { gzipSync } from 'node:zlib';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OtlpReceiver } from './helpers/otlp.ts';

type ExporterConfig = NonNullable<ConstructorParameters<typeof TraceProto>[0]>;
const GZIP = 'gzip' as unknown as NonNullable<ExporterConfig['compression']>;
const SERVICE = 'otlp-receiver-test';
const resource = () => resourceFromAttributes({ 'service.name': SERVICE, 'deployment.environment.name': 'test' });

const ENCODINGS = {
  'http/protobuf': {
    contentType: 'application/x-protobuf',
    traces: (c: ExporterConfig): SpanExporter => new TraceProto(c),
    logs: (c: ExporterConfig): LogRecordExporter => new LogsProto(c),
    metrics: (c: ExporterConfig): PushMetricExporter => new MetricsProto(c),
  },
  'http/json': {
    contentType: 'application/json',
    traces: (c: ExporterConfig): SpanExporter => new TraceJson(c),
    logs: (c: ExporterConfig): LogRecordExporter => new LogsJson(c),
    metrics: (c: ExporterConfig): PushMetricExporter => new MetricsJson(c),
  },
} as const;

/** An active context for `startActiveSpan` (what @opentelemetry/context-async-hooks does, in a few lines). */
class AlsContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...a: unknown[]) => unknown;
    return ((...a: unknown[]) => this.with(ctx, fn, undefined, ...a)) as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.als.disable();
    return this;
  }
}
before(() => {
  assert.ok(context.setGlobalContextManager(new AlsContextManager()), 'no other context manager is registered');
});
after(() => {
  context.disable();
});

for (const [encoding, enc] of Object.entries(ENCODINGS)) {
  describe(`OtlpReceiver: the OpenTelemetry JS exporters over OTLP ${encoding}`, () => {
    const receiver = new OtlpReceiver();
    before(async () => {
      await receiver.start();
    });
    after(async () => {
      await receiver.dispose();
    });
    beforeEach(() => receiver.clear());

    test('a parent and a child span: hex ids and the parent link, attributes, an event, status, resource and scope; headers', async () => {
      const provider = new BasicTracerProvider({
        resource: resource(),
        spanProcessors: [new SimpleSpanProcessor(enc.traces({ url: `${receiver.url}/v1/traces`, headers: { 'x-tenant': 'acme' } }))],
      });
      const tracer = provider.getTracer('receiver-test', '1.2.3');
      const parent = tracer.startSpan('parent op', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'retry.count': 3, ratio: 0.25, cached: false, tags: ['a', 'b'] } });
      const child = tracer.startSpan('child op', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'model' } }, trace.setSpan(ROOT_CONTEXT, parent));
      child.addEvent('retry', { attempt: 2, reason: 'status 503' });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'gave up' });
      child.end();
      parent.end();
      await provider.forceFlush();
      const spans = await receiver.waitFor(() => (receiver.spans().length >= 2 ? receiver.spans() : undefined), 5000, 'two spans');
      await provider.shutdown();

      const p = spans.find((s) => s.name === 'parent op')!;
      const c = spans.find((s) => s.name === 'child op')!;
      assert.ok(p && c, `both spans: ${spans.map((s) => s.name)}`);
      assert.match(p.traceId, /^[0-9a-f]{32}$/);
      assert.match(p.spanId, /^[0-9a-f]{16}$/);
      assert.equal(p.traceId, parent.spanContext().traceId);
      assert.equal(p.spanId, parent.spanContext().spanId);
      assert.equal(p.parentSpanId, undefined, 'the parent is a root span');
      assert.equal(c.traceId, p.traceId, 'one trace');
      assert.equal(c.spanId, child.spanContext().spanId);
      assert.equal(c.parentSpanId, p.spanId, 'the child links to its parent');
      assert.equal(p.kind, 2, 'SPAN_KIND_SERVER');
      assert.equal(c.kind, 3, 'SPAN_KIND_CLIENT');
      assert.deepEqual(p.attributes, { 'http.request.method': 'POST', 'retry.count': 3, ratio: 0.25, cached: false, tags: ['a', 'b'] });
      assert.deepEqual(c.attributes, { 'peer.service': 'model' });
      assert.equal(c.events.length, 1);
      assert.equal(c.events[0].name, 'retry');
      assert.deepEqual(c.events[0].attributes, { attempt: 2, reason: 'status 503' });
      assert.ok(c.events[0].timeNs >= c.startNs && c.events[0].timeNs <= c.endNs, 'the event inside its span');
      assert.deepEqual(c.status, { code: 2, message: 'gave up' }, 'STATUS_CODE_ERROR');
      assert.equal(p.status.code, 0, 'STATUS_CODE_UNSET');
      assert.ok(p.startNs > 1.6e18 && p.endNs >= p.startNs, `Unix nanoseconds: ${p.startNs}..${p.endNs}`);
      assert.ok(p.startNs <= c.startNs && c.endNs <= p.endNs, 'the child inside its parent');
      assert.deepEqual(p.resource, { 'service.name': SERVICE, 'deployment.environment.name': 'test' }, 'the resource as given (SDK 2.x merges no defaults into it)');
      assert.deepEqual(c.resource, p.resource);
      assert.equal(p.scope, 'receiver-test');

      const req = receiver.requests.find((r) => r.path === '/v1/traces')!;
      assert.equal(req.contentType, enc.contentType);
      assert.equal(req.headers['x-tenant'], 'acme');
      assert.ok(Array.isArray(req.body.resourceSpans), 'the decoded ExportTraceServiceRequest is kept');
    });

    test('gzip, through a BatchSpanProcessor', async () => {
      const provider = new BasicTracerProvider({
        resource: resource(),
        spanProcessors: [new BatchSpanProcessor(enc.traces({ url: `${receiver.url}/v1/traces`, compression: GZIP }), { scheduledDelayMillis: 60_000 })],
      });
      const tracer = provider.getTracer('receiver-test');
      for (let i = 0; i < 3; i++) tracer.startSpan(`batched ${i}`, { attributes: { i } }).end();
      await provider.forceFlush();
      const spans = await receiver.waitFor(() => (receiver.spans().length >= 3 ? receiver.spans() : undefined), 5000, 'three batched spans');
      await provider.shutdown();
      assert.deepEqual(spans.map((s) => s.name).sort(), ['batched 0', 'batched 1', 'batched 2']);
      assert.deepEqual(spans.map((s) => s.attributes.i).sort(), [0, 1, 2]);
      assert.equal(receiver.requests.length, 1, 'one batch, one export');
      assert.equal(receiver.requests[0].headers['content-encoding'], 'gzip');
      assert.equal(receiver.requests[0].contentType, enc.contentType);
    });

    test('log records: one inside an active span carries its trace and span ids; severity, body (a string, a map), attributes, resource', async () => {
      const tracerProvider = new BasicTracerProvider({ resource: resource() });
      const loggerProvider = new LoggerProvider({
        resource: resource(),
        processors: [new SimpleLogRecordProcessor({ exporter: enc.logs({ url: `${receiver.url}/v1/logs` }) })],
      });
      const logger = loggerProvider.getLogger('receiver-test');
      const ids = tracerProvider.getTracer('receiver-test').startActiveSpan('with a log', (span) => {
        logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk almost full', attributes: { 'disk.free.bytes': 5_000_000, mount: '/data' } });
        span.end();
        return span.spanContext();
      });
      logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: { event: 'started', port: 8080, tags: ['x'] } });
      await loggerProvider.forceFlush();
      const logs = await receiver.waitFor(() => (receiver.logs().length >= 2 ? receiver.logs() : undefined), 5000, 'two log records');
      await Promise.all([loggerProvider.shutdown(), tracerProvider.shutdown()]);

      const warn = logs.find((l) => l.severityText === 'WARN')!;
      assert.ok(warn, `the WARN record: ${JSON.stringify(logs)}`);
      assert.equal(warn.severityNumber, SeverityNumber.WARN);
      assert.equal(warn.body, 'disk almost full');
      assert.deepEqual(warn.attributes, { 'disk.free.bytes': 5_000_000, mount: '/data' });
      assert.equal(warn.traceId, ids.traceId, 'the active span\'s trace');
      assert.equal(warn.spanId, ids.spanId, 'the active span');
      assert.ok(warn.timeNs > 1.6e18, `Unix nanoseconds: ${warn.timeNs}`);
      assert.equal(warn.resource['service.name'], SERVICE);
      const info = logs.find((l) => l.severityText === 'INFO')!;
      assert.deepEqual(info.body, { event: 'started', port: 8080, tags: ['x'] }, 'a map body, flattened');
      assert.equal(info.traceId, undefined, 'no active span, no trace id');
      assert.equal(info.spanId, undefined);
      assert.equal(receiver.requests[0].contentType, enc.contentType);
    });

    test('metrics: a counter (sum) and a histogram, with their attributes, unit and description', async () => {
      const reader = new PeriodicExportingMetricReader({ exporter: enc.metrics({ url: `${receiver.url}/v1/metrics` }), exportIntervalMillis: 60_000 });
      const provider = new MeterProvider({ resource: resource(), readers: [reader] });
      const meter = provider.getMeter('receiver-test');
      const jobs = meter.createCounter('jobs.done', { unit: '{job}', description: 'Jobs finished' });
      jobs.add(3, { queue: 'a' });
      jobs.add(2, { queue: 'a' });
      jobs.add(7, { queue: 'b' });
      const duration = meter.createHistogram('job.duration', { unit: 'ms', description: 'How long a job took' });
      duration.record(10, { queue: 'a' });
      duration.record(30, { queue: 'a' });
      await provider.forceFlush();
      const metrics = await receiver.waitFor(() => {
        const m = receiver.metrics();
        return m.some((x) => x.name === 'jobs.done') && m.some((x) => x.name === 'job.duration') ? m : undefined;
      }, 5000, 'the counter and the histogram');
      await provider.shutdown();

      const counter = metrics.find((m) => m.name === 'jobs.done')!;
      assert.equal(counter.kind, 'sum');
      assert.equal(counter.unit, '{job}');
      assert.equal(counter.description, 'Jobs finished');
      assert.equal(counter.resource['service.name'], SERVICE);
      const byQueue = Object.fromEntries(counter.points.map((p) => [p.attributes.queue, p.value]));
      assert.deepEqual(byQueue, { a: 5, b: 7 });
      const hist = metrics.find((m) => m.name === 'job.duration')!;
      assert.equal(hist.kind, 'histogram');
      assert.equal(hist.unit, 'ms');
      assert.equal(hist.points.length, 1);
      assert.deepEqual(hist.points[0].attributes, { queue: 'a' });
      assert.equal(hist.points[0].count, 2);
      assert.equal(hist.points[0].sum, 40);
      assert.equal(receiver.requests[0].contentType, enc.contentType);
    });

    test('failNext: the next export gets the status, and the exporter retries through it', async () => {
      receiver.failNext(503, 1);
      const provider = new BasicTracerProvider({ resource: resource(), spanProcessors: [new SimpleSpanProcessor(enc.traces({ url: `${receiver.url}/v1/traces` }))] });
      provider.getTracer('receiver-test').startSpan('after a 503').end();
      await provider.forceFlush();
      const span = await receiver.waitFor(() => receiver.spans().find((s) => s.name === 'after a 503'), 10_000, 'the retried span');
      await provider.shutdown();
      assert.equal(span.resource['service.name'], SERVICE);
      assert.equal(receiver.requests.length, 1, 'the refused export is not recorded');
    });
  });
}

describe('OtlpReceiver: what it refuses, and how it answers', () => {
  const receiver = new OtlpReceiver();
  before(async () => {
    await receiver.start();
  });
  after(async () => {
    await receiver.dispose();
  });
  beforeEach(() => receiver.clear());
  const post = (path: string, contentType: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
    fetch(`${receiver.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

  // The example in the OTLP specification (docs/specification.md, "JSON Protobuf Encoding"), trimmed.
  const specExample = () => ({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'my.service' } }] },
      scopeSpans: [{
        scope: { name: 'my.library', version: '1.0.0' },
        spans: [{
          traceId: '5B8EFFF798038103D269B633813FC60C',
          spanId: 'EEE19B7EC3C1B174',
          parentSpanId: 'EEE19B7EC3C1B173',
          name: 'I\'m a server span',
          startTimeUnixNano: '1544712660000000000',
          endTimeUnixNano: '1544712661000000000',
          kind: 2,
          attributes: [{ key: 'my.span.attr', value: { stringValue: 'some value' } }, { key: 'count', value: { intValue: '42' } }],
        }],
      }],
    }],
  });

  test('hand-written OTLP/JSON (hex ids, int64 as strings, enums as integers) decodes; the answer is an empty JSON response', async () => {
    const res = await post('/v1/traces', 'application/json', JSON.stringify(specExample()));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), {});
    const [s] = receiver.spans();
    assert.equal(s.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(s.spanId, 'eee19b7ec3c1b174');
    assert.equal(s.parentSpanId, 'eee19b7ec3c1b173');
    assert.equal(s.kind, 2);
    assert.equal(s.startNs, 1544712660000000000);
    assert.deepEqual(s.attributes, { 'my.span.attr': 'some value', count: 42 });
    assert.equal(s.resource['service.name'], 'my.service');
    assert.equal(s.scope, 'my.library');
  });

  test('gzipped JSON decodes', async () => {
    const res = await post('/v1/traces', 'application/json', gzipSync(JSON.stringify(specExample())), { 'content-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(receiver.spans()[0]?.name, 'I\'m a server span');
  });

  test('an empty protobuf request is a valid one; the answer is an empty protobuf response', async () => {
    const res = await post('/v1/logs', 'application/x-protobuf', new Uint8Array());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await res.arrayBuffer()).byteLength, 0, 'an ExportLogsServiceResponse with nothing set encodes to no bytes');
    assert.equal(receiver.requests.length, 1);
    assert.deepEqual(receiver.logs(), []);
  });

  test('a malformed protobuf body is refused with 400', async () => {
    for (const bytes of [[0xff, 0xff, 0xff, 0xff], [0x0a, 0x64, 0x01, 0x02], [0x0f]]) {
      const res = await post('/v1/traces', 'application/x-protobuf', new Uint8Array(bytes));
      assert.equal(res.status, 400, `bytes ${bytes}`);
      assert.match(await res.text(), /cannot decode/);
    }
    const gz = await post('/v1/metrics', 'application/x-protobuf', new Uint8Array([1, 2, 3]), { 'content-encoding': 'gzip' });
    assert.equal(gz.status, 400, 'not gzip although it says so');
    assert.equal(receiver.requests.length, 0, 'nothing refused is recorded');
  });

  test('malformed JSON, and JSON that is not an OTLP request, are refused with 400', async () => {
    const bad = (mutate: (x: any) => void) => {
      const x = specExample();
      mutate(x.resourceSpans[0].scopeSpans[0].spans[0]);
      return JSON.stringify(x);
    };
    const bodies: [string, string][] = [
      ['not JSON', '{"resourceSpans": ['],
      ['a trace id that is not hex', bad((s) => (s.traceId = 'not-hex-at-all'))],
      ['a number where a string goes', bad((s) => (s.name = 42))],
      ['a string where an enum goes', bad((s) => (s.kind = 'SPAN_KIND_SERVER'))],
      ['a timestamp that is not an integer', bad((s) => (s.startTimeUnixNano = 'soon'))],
      ['an object where a list goes', JSON.stringify({ resourceSpans: { nope: true } })],
    ];
    for (const [what, body] of bodies) {
      const res = await post('/v1/traces', 'application/json', body);
      assert.equal(res.status, 400, what);
    }
    assert.equal(receiver.requests.length, 0, 'nothing refused is recorded');
  });

  test('an unknown content type is 400, an unknown path or method 404', async () => {
    assert.equal((await post('/v1/traces', 'text/plain', 'hello')).status, 400);
    assert.equal((await post('/v1/profiles', 'application/x-protobuf', new Uint8Array())).status, 404);
    assert.equal((await fetch(`${receiver.url}/v1/traces`)).status, 404);
    assert.equal(receiver.requests.length, 0);
  });

  test('failNext(status, n) answers n exports with the status, then takes them again', async () => {
    receiver.failNext(429, 2);
    assert.equal((await post('/v1/logs', 'application/x-protobuf', new Uint8Array())).status, 429);
    assert.equal((await post('/v1/logs', 'application/x-protobuf', new Uint8Array())).status, 429);
    assert.equal((await post('/v1/logs', 'application/x-protobuf', new Uint8Array())).status, 200);
    assert.equal(receiver.requests.length, 1);
  });

  test('waitFor fails after its timeout, saying what it waited for', async () => {
    await assert.rejects(receiver.waitFor(() => undefined, 100, 'a span that never comes'), /timed out waiting for a span that never comes/);
  });
});
