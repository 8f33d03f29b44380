/**
 * The OTLP span export, in a worker thread of its own, so that sending
 * (and, for JSON, encoding) does not sit on the runtime's event loop
 * between an agent's messages.
 * - http/protobuf: the runtime writes each span's protobuf as it ends
 *   (otlpSpans.ts) and moves each batch's bytes here; this thread wraps
 *   them in an ExportTraceServiceRequest and sends it with the official
 *   exporter's HTTP transport (its retries, timeouts, headers, compression
 *   and concurrency bound).
 * - http/json: the runtime posts plain records; this thread turns them
 *   into the SDK's ReadableSpan for the official JSON exporter.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { traceRequest } from './otlpSpans.ts';

export interface ExportSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  flags: number;
  startMs: number;
  endMs: number;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
  events: { name: string; timeMs: number; attributes: Record<string, unknown> }[];
}

export interface ExportWorkerData {
  url: string;
  headers: Record<string, string>;
  json: boolean;
  resource: Record<string, string>;
}

/** `spans`: records (JSON); `otlp`: a batch of spans written by `writeSpan` (protobuf). */
export type ToExportWorker = { t: 'spans'; spans: ExportSpan[] } | { t: 'otlp'; bytes: Uint8Array; count: number } | { t: 'shutdown' };
export type FromExportWorker = { t: 'done' } | { t: 'failed'; error: string };

const hr = (ms: number): [number, number] => {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
};

interface Batch {
  bytes: Uint8Array;
  count: number;
}

/** The official OTLP/HTTP protobuf exporter's delegate with a serializer that passes written requests through. */
function bytesExporter(d: ExportWorkerData) {
  const serializer = { serializeRequest: (b: Batch) => traceRequest(d.resource, { name: 'faultline' }, b.bytes), deserializeResponse: ProtobufTraceSerializer.deserializeResponse };
  const options = convertLegacyHttpOptions({ url: d.url, headers: d.headers }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return new OTLPExporterBase<Batch>(createOtlpHttpExportDelegate(options, serializer, 'faultline_otlp_http_span_exporter', { name: 'span', countItems: (b: Batch) => b.count }, undefined));
}

/** Batches waiting to be sent at most; a receiver that is slower than the runtime loses the newest spans, not the runtime's memory. */
const MAX_PENDING = 8;

async function main() {
  const d = workerData as ExportWorkerData;
  const exporter: { export(items: never, cb: (r: { code: number; error?: Error }) => void): void; shutdown(): Promise<void> } = d.json
    ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: d.url, headers: d.headers })
    : (bytesExporter(d) as never);
  const resource = resourceFromAttributes(d.resource);
  const scope = { name: 'faultline' };
  let chain: Promise<void> = Promise.resolve();
  let failures = 0;
  let pending = 0;
  const readable = (s: ExportSpan) => {
    const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: s.flags };
    return {
      name: s.name,
      kind: s.kind,
      spanContext: () => ctx,
      ...(s.parentSpanId ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: s.flags } } : {}),
      startTime: hr(s.startMs),
      endTime: hr(s.endMs),
      duration: hr(Math.max(0, s.endMs - s.startMs)),
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
  };
  parentPort!.on('message', (m: ToExportWorker) => {
    if (m.t === 'spans' || m.t === 'otlp') {
      if (pending >= MAX_PENDING) return;
      pending++;
      const spans = m.t === 'spans' ? m.spans.map(readable) : { bytes: m.bytes, count: m.count };
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            exporter.export(spans as never, (r) => {
              if (r.code !== 0 && failures++ === 0) parentPort!.postMessage({ t: 'failed', error: r.error?.message ?? 'export failed' } satisfies FromExportWorker);
              if (r.code === 0) failures = 0;
              pending--;
              resolve();
            }),
          ),
      );
      return;
    }
    // Shutdown: after the exports in flight.
    chain = chain.then(async () => {
      await exporter.shutdown().catch(() => undefined);
      parentPort!.postMessage({ t: 'done' } satisfies FromExportWorker);
    });
  });
}

void main();
