/**
 * An OTLP/HTTP receiver for the tests: what a collector would see. It
 * decodes every export with the official OpenTelemetry proto definitions
 * (test/fixtures/otlp-proto, loaded by protobufjs) — the protobuf encoding
 * as the wire format, the JSON encoding through the protobuf JSON mapping
 * with OTLP's exceptions (hex trace and span ids) — and refuses what does
 * not decode (400), as a collector does.
 */
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { repoRoot } from './runtime.ts';

const PROTO_DIR = path.join(repoRoot, 'test', 'fixtures', 'otlp-proto');

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startNs: number;
  endNs: number;
  attributes: Record<string, unknown>;
  events: { name: string; timeNs: number; attributes: Record<string, unknown> }[];
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface LogRecord {
  timeNs: number;
  severityText?: string;
  severityNumber?: number;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId?: string;
  spanId?: string;
  resource: Record<string, unknown>;
}

export interface Metric {
  name: string;
  unit?: string;
  description?: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  points: { attributes: Record<string, unknown>; value?: number; count?: number; sum?: number }[];
  resource: Record<string, unknown>;
}

interface Received {
  path: string;
  contentType: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
}

const SIGNALS = {
  '/v1/traces': ['opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'],
  '/v1/logs': ['opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'],
  '/v1/metrics': ['opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest', 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'],
} as const;

let rootPromise: Promise<protobuf.Root> | undefined;
export function protos(): Promise<protobuf.Root> {
  rootPromise ??= (async () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    await root.load(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto', 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto'], { keepCase: false });
    root.resolveAll();
    return root;
  })();
  return rootPromise;
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
/** 64-bit integer fields, which the protobuf JSON mapping writes as decimal strings. */
const INT64_FIELDS = /UnixNano$|^(asInt|intValue|count|bucketCounts|zeroCount)$/;
/**
 * OTLP/JSON as the protobuf JSON mapping has it, but with trace and span ids
 * in hex: ids become bytes, and 64-bit integers written as decimal strings
 * numbers, for protobufjs to check.
 */
function idsToBytes(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => idsToBytes(x, key));
  if (typeof v === 'string' && INT64_FIELDS.test(key)) {
    if (!/^-?\d+$/.test(v)) throw new Error(`${key} "${v}" is not an integer`);
    return Number(v);
  }
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (ID_FIELDS.has(k) && typeof x === 'string') {
      if (x !== '' && !/^[0-9a-fA-F]+$/.test(x)) throw new Error(`${k} "${x}" is not hex`);
      out[k] = Buffer.from(x, 'hex');
    } else out[k] = idsToBytes(x, k);
  }
  return out;
}

const hexOf = (b: unknown): string | undefined => {
  if (b instanceof Uint8Array && b.length) return Buffer.from(b).toString('hex');
  return undefined;
};
const num = (v: unknown): number => (typeof v === 'number' ? v : v && typeof (v as { toNumber?: () => number }).toNumber === 'function' ? (v as { toNumber(): number }).toNumber() : Number(v ?? 0));

function anyValue(v: any): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) return num(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  if (v.bytesValue) return Buffer.from(v.bytesValue).toString('base64');
  return undefined;
}
function attrs(list: any[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

export class OtlpReceiver {
  readonly requests: Received[] = [];
  private server: http.Server | undefined;
  private failing: { status: number; left: number } | undefined;
  url = '';

  async start(): Promise<this> {
    const root = await protos();
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const p = (req.url ?? '').split('?')[0] as keyof typeof SIGNALS;
        const names = SIGNALS[p];
        if (req.method !== 'POST' || !names) {
          res.writeHead(404).end();
          return;
        }
        const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim();
        const json = contentType === 'application/json';
        const [reqType, resType] = [root.lookupType(names[0]), root.lookupType(names[1])];
        if (this.failing && this.failing.left > 0) {
          this.failing.left--;
          res.writeHead(this.failing.status).end();
          return;
        }
        let body: Record<string, any>;
        try {
          let raw = Buffer.concat(chunks);
          if (String(req.headers['content-encoding'] ?? '') === 'gzip') raw = gunzipSync(raw);
          let msg: protobuf.Message;
          if (json) {
            const obj = idsToBytes(JSON.parse(raw.toString('utf8')));
            // Checked as sent (fromObject alone would coerce a number into a string field).
            const why = reqType.verify(obj as Record<string, unknown>);
            if (why) throw new Error(why);
            msg = reqType.fromObject(obj as Record<string, unknown>);
          } else if (contentType === 'application/x-protobuf') {
            msg = reqType.decode(raw);
          } else throw new Error(`content type "${contentType}" is neither application/x-protobuf nor application/json`);
          body = reqType.toObject(msg, { longs: Number, defaults: false, arrays: true }) as Record<string, any>;
        } catch (e) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode the export: ${(e as Error).message}`);
          return;
        }
        this.requests.push({ path: p, contentType, headers: req.headers, body });
        const empty = resType.create({});
        if (json) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(resType.toObject(empty)));
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(resType.encode(empty).finish()));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** The next `n` exports get `status` instead of being taken. */
  failNext(status: number, n = 1): void {
    this.failing = { status, left: n };
  }

  spans(): Span[] {
    const out: Span[] = [];
    for (const r of this.requests) {
      if (r.path !== '/v1/traces') continue;
      for (const rs of r.body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({
              traceId: hexOf(s.traceId) ?? '',
              spanId: hexOf(s.spanId) ?? '',
              ...(hexOf(s.parentSpanId) ? { parentSpanId: hexOf(s.parentSpanId) } : {}),
              name: s.name,
              kind: num(s.kind),
              startNs: num(s.startTimeUnixNano),
              endNs: num(s.endTimeUnixNano),
              attributes: attrs(s.attributes),
              events: (s.events ?? []).map((e: any) => ({ name: e.name, timeNs: num(e.timeUnixNano), attributes: attrs(e.attributes) })),
              status: { code: num(s.status?.code), ...(s.status?.message ? { message: s.status.message } : {}) },
              resource,
              scope: ss.scope?.name ?? '',
            });
          }
        }
      }
    }
    return out;
  }

  logs(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const r of this.requests) {
      if (r.path !== '/v1/logs') continue;
      for (const rl of r.body.resourceLogs ?? []) {
        const resource = attrs(rl.resource?.attributes);
        for (const sl of rl.scopeLogs ?? []) {
          for (const l of sl.logRecords ?? []) {
            out.push({
              timeNs: num(l.timeUnixNano),
              severityText: l.severityText,
              severityNumber: l.severityNumber === undefined ? undefined : num(l.severityNumber),
              body: anyValue(l.body),
              attributes: attrs(l.attributes),
              ...(hexOf(l.traceId) ? { traceId: hexOf(l.traceId) } : {}),
              ...(hexOf(l.spanId) ? { spanId: hexOf(l.spanId) } : {}),
              resource,
            });
          }
        }
      }
    }
    return out;
  }

  metrics(): Metric[] {
    const out: Metric[] = [];
    for (const r of this.requests) {
      if (r.path !== '/v1/metrics') continue;
      for (const rm of r.body.resourceMetrics ?? []) {
        const resource = attrs(rm.resource?.attributes);
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            const kind = (['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const).find((k) => m[k]);
            if (!kind) continue;
            const points = (m[kind].dataPoints ?? []).map((p: any) => ({
              attributes: attrs(p.attributes),
              ...(p.asDouble !== undefined ? { value: p.asDouble } : p.asInt !== undefined ? { value: num(p.asInt) } : {}),
              ...(p.count !== undefined ? { count: num(p.count) } : {}),
              ...(p.sum !== undefined ? { sum: p.sum } : {}),
            }));
            out.push({ name: m.name, unit: m.unit, description: m.description, kind, points, resource });
          }
        }
      }
    }
    return out;
  }

  /** Polls `pick` until it returns something, or fails after `timeoutMs` saying what it waited for. */
  async waitFor<T>(pick: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${this.requests.length} export(s): ${this.spans().map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  clear(): void {
    this.requests.length = 0;
  }

  async dispose(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
