/**
 * The runtime's own OTLP protobuf for spans (runtime/observability/otlpSpans.ts)
 * against the SDK's serializer: both decoded with the official
 * opentelemetry-proto definitions must be the same message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LightSpan, type SpanAttributes } from '../runtime/observability/telemetry.ts';
import { ProtoWriter, traceRequest, writeSpan } from '../runtime/observability/otlpSpans.ts';
import { protos } from './helpers/otlp.ts';

const hr = (ms: number): [number, number] => {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
};

const scope = { name: 'faultline' };

/** The span as the SDK's ReadableSpan, as the JSON export path builds it. */
function readable(s: LightSpan, resource: ReturnType<typeof resourceFromAttributes>) {
  const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: s.flags };
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ctx,
    ...(s.parentSpanId ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: s.flags } } : {}),
    startTime: hr(s.startMs),
    endTime: hr(s.endMs),
    duration: hr(s.endMs - s.startMs),
    status: s.status,
    attributes: s.attributes,
    links: [],
    events: s.events.map((e) => ({ name: e.name, time: hr(e.timeMs), attributes: e.attributes, droppedAttributesCount: 0 })),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function spans(): LightSpan[] {
  const out: LightSpan[] = [];
  const sink = (s: LightSpan) => out.push(s);
  const attrs: SpanAttributes[] = [
    { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'b', 'faultline.delivery': 1 },
    { big: 2 ** 40 + 3, negative: -7, min: Number.MIN_SAFE_INTEGER, ratio: 0.25, tiny: -1e-9, yes: true, no: false, zero: 0 },
    { 'ünïcödé ключ': 'значение ✓ 🚀', empty: '', long: 'x'.repeat(300), longer: 'é'.repeat(20_000) },
    { strings: ['a', 'b', ''], numbers: [1, 2.5, -3], bools: [true, false], none: [] },
  ];
  const kinds = [0, 1, 2, 3, 4] as const;
  for (let i = 0; i < 12; i++) {
    const s = new LightSpan(sink, 'ab'.repeat(16), i % 2 ? 'cd'.repeat(8) : undefined, i % 3 ? `chat model-${i}` : `execute_tool ünï ${i}`, kinds[i % 5], { ...attrs[i % attrs.length] }, i % 4 === 3 ? 0 : 1);
    if (i % 2) s.addEvent('retry', { attempt: i, 'error.type': 'DependencyHttpError' });
    if (i % 3 === 0) s.recordException({ name: 'TypeError', message: 'bad ✗'.repeat(i) });
    if (i % 4 === 1) s.setStatus({ code: 2, message: 'failed: ' + 'y'.repeat(i * 40) });
    if (i % 4 === 2) s.setStatus({ code: 1 });
    s.end();
  }
  // A span with many events (a body past 16 KB).
  const many = new LightSpan(sink, 'ef'.repeat(16), undefined, 'invoke_agent many', 0, {});
  for (let i = 0; i < 120; i++) many.addEvent(`event ${i}`, { text: 'z'.repeat(200), i });
  many.end();
  return out;
}

test('spans written as they end decode, with the official protos, to what the SDK serializer sends', async () => {
  const root = await protos();
  const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const attributes = { 'service.name': 'svc ✓', 'faultline.node': 'n1' };
  const all = spans();
  const w = new ProtoWriter();
  for (const s of all) writeSpan(w, s);
  const ours = traceRequest(attributes, { name: 'faultline' }, w.take());
  const resource = resourceFromAttributes(attributes);
  const sdk = ProtobufTraceSerializer.serializeRequest(all.map((s) => readable(s, resource)) as never)!;
  const decode = (b: Uint8Array) => type.toObject(type.decode(b), { longs: String, bytes: String, defaults: true, arrays: true });
  const a = decode(ours);
  const b = decode(sdk);
  // The SDK also writes counts of dropped items that are zero; proto3 reads an absent field as zero (defaults: true).
  assert.deepEqual(a, b);
  assert.equal(a.resourceSpans[0].scopeSpans[0].spans.length, all.length);
  // A timestamp to the nanosecond, as written.
  const first = all[0];
  const [sec, ns] = hr(first.startMs);
  assert.equal(a.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano, (BigInt(sec) * 1_000_000_000n + BigInt(ns)).toString());
});

test('the writer starts over after take, and a batch in several takes decodes as its spans', async () => {
  const root = await protos();
  const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const all = spans();
  const w = new ProtoWriter();
  writeSpan(w, all[0]);
  const one = w.take();
  for (const s of all.slice(1)) writeSpan(w, s);
  const rest = w.take();
  const names = (b: Uint8Array) => (type.toObject(type.decode(traceRequest({ 'service.name': 's' }, { name: 'faultline' }, b))) as any).resourceSpans[0].scopeSpans[0].spans.map((s: any) => s.name);
  assert.deepEqual(names(one), [all[0].name]);
  assert.deepEqual(names(rest), all.slice(1).map((s) => s.name));
  assert.equal(w.take().length, 0);
});
