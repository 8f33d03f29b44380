/**
 * The OTLP span export, in a worker thread of its own: encoding spans as
 * OTLP protobuf or JSON and sending them costs tens of µs a span, which
 * must not sit on the runtime's event loop between an agent's messages.
 * The runtime posts ended spans as plain records; this thread turns them
 * into the SDK's ReadableSpan and hands them to the official exporter.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resourceFromAttributes } from '@opentelemetry/resources';

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

export type ToExportWorker = { t: 'spans'; spans: ExportSpan[] } | { t: 'shutdown' };
export type FromExportWorker = { t: 'done' } | { t: 'failed'; error: string };

const hr = (ms: number): [number, number] => {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
};

async function main() {
  const d = workerData as ExportWorkerData;
  const { OTLPTraceExporter } = d.json ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
  const exporter = new OTLPTraceExporter({ url: d.url, headers: d.headers });
  const resource = resourceFromAttributes(d.resource);
  const scope = { name: 'faultline' };
  let chain: Promise<void> = Promise.resolve();
  let failures = 0;
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
    if (m.t === 'spans') {
      const spans = m.spans.map(readable);
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            exporter.export(spans as never, (r) => {
              if (r.code !== 0 && failures++ === 0) parentPort!.postMessage({ t: 'failed', error: r.error?.message ?? 'export failed' } satisfies FromExportWorker);
              if (r.code === 0) failures = 0;
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
