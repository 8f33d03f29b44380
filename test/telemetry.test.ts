/**
 * OpenTelemetry out of a real runtime (`faultline up`, agents in processes
 * and threads, real mock model servers), into a receiver that decodes the
 * OTLP/HTTP exports with the official proto definitions, in both encodings:
 * one ask is one trace across agents and through a crash and redelivery; the
 * GenAI attributes; a retry on an injected 503 and a fallback on the chat
 * span; logs correlated by trace id; metrics; the standard variables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { cli, probe, up, workspace, type Running } from './helpers/runtime.ts';
import { OtlpReceiver, type Span } from './helpers/otlp.ts';
import { agentsOf } from '../runtime/protocol/status.ts';
import type { TracesResult } from '../runtime/protocol/schema/traces.ts';

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

let primary: MockModelHandle;
let backup: MockModelHandle;
before(async () => {
  primary = await startMockModel({ model: 'big', name: 'primary' });
  backup = await startMockModel({ model: 'small', name: 'backup' });
});
after(async () => {
  await Promise.all([primary.close(), backup.close()]);
});

function config(extra: Record<string, unknown> = {}) {
  return {
    name: 'telemetry',
    dependencies: {
      primary: { kind: 'model', url: primary.url, model: 'big', retry: { maxAttempts: 3, baseDelayMs: 10 }, breaker: { window: 20, failureRatio: 0.9, openMs: 1000 }, timeoutMs: 2000 },
      backup: { kind: 'model', url: backup.url, model: 'small', retry: { maxAttempts: 2, baseDelayMs: 10 } },
    },
    models: { chat: ['primary', 'backup'] },
    supervisor: { id: 'root', children: [probe('a1'), probe('t1', { isolation: 'thread' }), probe('a2')] },
    ...extra,
  };
}

async function start(env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}): Promise<Running> {
  const r = await up(workspace(config(extra)), [], { OTEL_METRIC_EXPORT_INTERVAL: '300', ...env });
  await r.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'every agent running');
  return r;
}

const byName = (spans: Span[], name: string) => spans.filter((s) => s.name === name);

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`exports over OTLP ${protocol}`, () => {
    const receiver = new OtlpReceiver();
    let rt: Running;
    before(async () => {
      await receiver.start();
      rt = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'research-crew', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme,authorization=Bearer%20s3cret' });
    });
    after(async () => {
      await rt.stop();
      await receiver.dispose();
    });

    test('an outside caller\'s ask is one trace: a1 (process) asks t1 (thread), whose chat retries an injected 503; GenAI attributes; service name and headers', async () => {
      const traceId = hex(32);
      const callerSpan = hex(16);
      const f = await cli(['inject', 'error', 'primary', '--status', '503', '--count', '1', '--state-dir', `${rt.dir}/.faultline`], rt.dir);
      assert.equal(f.code, 0, f.stderr);
      const r = await cli(['ask', 'a1', JSON.stringify({ op: 'ask', to: 't1', message: { op: 'chat', content: 'traced' } }), '--traceparent', `00-${traceId}-${callerSpan}-01`, '--state-dir', `${rt.dir}/.faultline`], rt.dir);
      assert.equal(r.code, 0, r.stderr);
      const spans = await receiver.waitFor(() => {
        const t = receiver.spans().filter((s) => s.traceId === traceId);
        return t.some((s) => s.name === 'chat big') && t.some((s) => s.name === 'invoke_agent a1') ? t : undefined;
      }, 10_000, 'the trace of the ask');
      const a1 = byName(spans, 'invoke_agent a1')[0];
      const t1 = byName(spans, 'invoke_agent t1')[0];
      const chat = byName(spans, 'chat big')[0];
      assert.equal(a1.parentSpanId, callerSpan, 'a1 continues the caller\'s trace');
      assert.equal(t1.parentSpanId, a1.spanId, 't1 (a worker thread) is a child of a1 (a process)');
      assert.equal(chat.parentSpanId, t1.spanId, 'the model call is a child of the message that made it');
      assert.equal(a1.attributes['gen_ai.operation.name'], 'invoke_agent');
      assert.equal(a1.attributes['gen_ai.agent.name'], 'a1');
      assert.equal(chat.attributes['gen_ai.operation.name'], 'chat');
      assert.equal(chat.attributes['gen_ai.provider.name'], 'openai');
      assert.equal(chat.attributes['gen_ai.request.model'], 'big');
      assert.equal(chat.attributes['gen_ai.response.model'], 'big');
      assert.equal(chat.attributes['faultline.dependency'], 'primary');
      assert.ok(Number(chat.attributes['gen_ai.usage.input_tokens']) > 0 && Number(chat.attributes['gen_ai.usage.output_tokens']) > 0, 'token usage');
      assert.match(String(chat.attributes['code.file.path']), /agents\/probe\.mjs$/, 'the call site');
      assert.ok(Number(chat.attributes['code.line.number']) > 0);
      const names = chat.events.map((e) => e.name);
      assert.ok(names.includes('fault'), `the injected fault is an event of the span it hit: ${names}`);
      assert.ok(names.includes('retry'), `the retry: ${names}`);
      const retry = chat.events.find((e) => e.name === 'retry')!;
      assert.equal(retry.attributes['http.response.status_code'], 503);
      assert.ok(a1.startNs <= t1.startNs && t1.endNs <= a1.endNs, 'the child inside its parent');
      assert.equal(a1.resource['service.name'], 'research-crew', 'OTEL_SERVICE_NAME');
      const req = receiver.requests.find((x) => x.path === '/v1/traces')!;
      assert.equal(req.headers['x-tenant'], 'acme', 'OTEL_EXPORTER_OTLP_HEADERS');
      assert.equal(req.headers.authorization, 'Bearer s3cret');
      assert.equal(req.contentType, protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      // The same trace, kept by the runtime for the dashboard.
      const kept = (await rt.client.call('traces', { traceId })) as TracesResult;
      assert.equal(kept.enabled, true);
      assert.deepEqual(kept.traces[0].agents, ['a1', 't1']);
      assert.equal(kept.traces[0].spans.find((s) => s.name === 'chat big')?.code?.file, chat.attributes['code.file.path']);
      // And as text: the tree of spans with the retry on the model call.
      const text = await cli(['traces', '--trace', traceId, '--state-dir', `${rt.dir}/.faultline`], rt.dir);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^${traceId}  invoke_agent a1 `, 'm'));
      assert.match(text.stdout, /^  invoke_agent a1 .*\n    invoke_agent t1 .*\n      chat big .*\[.*retry.*\].*agents\/probe\.mjs:\d+$/m);
    });

    test('a fallback is visible on the chat span; log records carry the trace; the GenAI metrics', async () => {
      primary.setFault({ mode: 'error', status: 503, count: 3 });
      const traceId = hex(32);
      await rt.client.call('ask', { agent: 'a2', message: { op: 'chat', content: 'fall back' }, traceparent: `00-${traceId}-${hex(16)}-01` });
      const chat = await receiver.waitFor(() => receiver.spans().find((s) => s.traceId === traceId && s.name === 'chat big'), 10_000, 'the chat span');
      assert.equal(chat.attributes['faultline.dependency'], 'backup');
      assert.equal(chat.attributes['gen_ai.response.model'], 'small');
      const events = chat.events.map((e) => e.name);
      assert.ok(events.includes('fallback'), `${events}`);
      assert.equal(chat.events.find((e) => e.name === 'fallback')!.attributes['faultline.fallback.to'], 'backup');
      assert.equal(events.filter((e) => e === 'retry').length, 2, 'primary retried twice before the chain moved on');
      // The runtime's log lines about that call, exported with the trace; the JSON lines carry it too.
      const logs = await receiver.waitFor(() => {
        const l = receiver.logs().filter((x) => x.traceId === traceId);
        return l.length ? l : undefined;
      }, 10_000, 'log records of the trace');
      assert.ok(logs.some((l) => /primary/.test(String(l.body))), logs.map((l) => l.body).join('\n'));
      assert.ok(logs.every((l) => l.resource['service.name'] === 'research-crew'));
      const lines = readFileSync(path.join(rt.dir, '.faultline', 'logs', 'runtime.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(lines.some((l) => l.trace_id === traceId && typeof l.span_id === 'string'), 'JSON log lines carry trace_id and span_id');
      const metrics = await receiver.waitFor(() => {
        const m = receiver.metrics();
        return m.some((x) => x.name === 'gen_ai.client.token.usage') && m.some((x) => x.name === 'gen_ai.client.operation.duration') ? m : undefined;
      }, 10_000, 'the GenAI metrics');
      const usage = metrics.find((x) => x.name === 'gen_ai.client.token.usage')!;
      assert.equal(usage.kind, 'histogram');
      assert.ok(usage.points.some((p) => p.attributes['gen_ai.token.type'] === 'input') && usage.points.some((p) => p.attributes['gen_ai.token.type'] === 'output'));
    });

    test('through a crash and redelivery: the message\'s first span ends in error with the crash, the redelivery is another span under the same parent', async () => {
      const traceId = hex(32);
      const parent = hex(16);
      const marker = path.join(tmpdir(), `faultline-tel-${process.pid}-${protocol.replace('/', '-')}`);
      const reply = await rt.client.call('ask', { agent: 'a2', message: { op: 'chat-then-die', marker }, timeoutMs: 15_000, traceparent: `00-${traceId}-${parent}-01` });
      assert.ok(reply);
      const spans = await receiver.waitFor(() => {
        const s = receiver.spans().filter((x) => x.traceId === traceId && x.name === 'invoke_agent a2');
        return s.length >= 2 ? s : undefined;
      }, 15_000, 'two spans of the message');
      const [first, second] = spans.sort((a, b) => a.startNs - b.startNs);
      assert.equal(first.parentSpanId, parent);
      assert.equal(second.parentSpanId, parent, 'the redelivery stays in the caller\'s trace');
      assert.equal(first.status.code, 2, 'the crashed handling is an error');
      assert.ok(first.events.some((e) => e.name === 'crash'), `${first.events.map((e) => e.name)}`);
      assert.equal(second.attributes['faultline.delivery'], 2);
      assert.ok(second.events.some((e) => e.name === 'redelivered'));
      assert.equal(first.attributes['faultline.message.id'], second.attributes['faultline.message.id']);
    });
  });
}

describe('the standard variables', () => {
  test('OTEL_TRACES_EXPORTER=none sends no span (the runtime still keeps them for `traces`); OTEL_SDK_DISABLED=true turns it all off', async () => {
    const receiver = await new OtlpReceiver().start();
    const quiet = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' });
    const off = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' });
    const none = await start({});
    try {
      for (const r of [quiet, off, none]) await r.client.call('ask', { agent: 'a1', message: { op: 'ask', to: 't1', message: { op: 'echo', value: 1 } } });
      const kept = (await quiet.client.call('traces', { agent: 't1' })) as TracesResult;
      assert.equal(kept.enabled, true);
      assert.ok(kept.traces[0].spans.some((s) => s.name === 'invoke_agent t1'));
      assert.deepEqual(await off.client.call('traces', {}), { enabled: false, capacity: 0, traces: [] });
      assert.deepEqual(await none.client.call('traces', {}), { enabled: false, capacity: 0, traces: [] }, 'no variable and no telemetry block: off');
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(receiver.requests.map((x) => x.path), [], 'nothing was sent');
    } finally {
      await Promise.all([quiet.stop(), off.stop(), none.stop()]);
      await receiver.dispose();
    }
  });

  test('a bad traceparent is refused with the JSON path; an unknown exporter is said once and the rest goes on', async () => {
    const receiver = await new OtlpReceiver().start();
    const r = await up(workspace(config()), [], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_LOGS_EXPORTER: 'zipkin' });
    try {
      await r.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
      await assert.rejects(r.client.call('ask', { agent: 'a1', message: { op: 'echo' }, traceparent: 'not-a-traceparent' }), /traceparent/);
      const bad = await cli(['ask', 'a1', '{"op":"echo"}', '--traceparent', '00-xyz', '--state-dir', `${r.dir}/.faultline`], r.dir);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--traceparent must be a W3C traceparent/);
      assert.match(r.output(), /OTEL_LOGS_EXPORTER=zipkin is not supported/);
    } finally {
      await r.stop();
      await receiver.dispose();
    }
  });
});

test('the receiver decodes with the official definitions: what is not OTLP is refused (400)', async () => {
  const receiver = await new OtlpReceiver().start();
  try {
    const post = (path: string, type: string, body: string | Buffer) => fetch(`${receiver.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    assert.equal((await post('/v1/traces', 'application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff, 0x01]))).status, 400, 'a truncated protobuf');
    assert.equal((await post('/v1/traces', 'application/json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not hex","name":"x"}]}]}]}')).status, 400, 'a JSON span id that is not hex');
    assert.equal((await post('/v1/traces', 'application/json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":7}]}]}]}')).status, 400, 'a name that is not a string');
    assert.equal((await post('/v1/traces', 'application/json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"ok","kind":1}]}]}]}')).status, 200);
    assert.deepEqual(receiver.spans().map((s) => [s.name, s.traceId, s.spanId]), [['ok', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331']]);
  } finally {
    await receiver.dispose();
  }
});

test('prompts and replies are recorded only with captureContent, and the API key in them is scrubbed', async () => {
  const key = 'sk-capture-9f8e7d6c5b4a3f2e';
  const dep = (extra: Record<string, unknown>) => ({
    ...config(extra),
    dependencies: { primary: { kind: 'model', url: primary.url, model: 'big', apiKeyEnv: 'CAPTURE_KEY', retry: { maxAttempts: 1 } } },
    models: { chat: ['primary'] },
  });
  const plain = await up(workspace(dep({ telemetry: { traces: 'none', logs: 'none', metrics: 'none' } })), [], { CAPTURE_KEY: key });
  const capturing = await up(workspace(dep({ telemetry: { traces: 'none', logs: 'none', metrics: 'none', captureContent: true } })), [], { CAPTURE_KEY: key });
  try {
    for (const r of [plain, capturing]) {
      await r.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
      await r.client.call('ask', { agent: 'a1', message: { op: 'chat', content: `my key is ${key}, keep it` } });
    }
    const chatOf = async (r: Running) => ((await r.client.call('traces', { agent: 'a1' })) as TracesResult).traces[0].spans.find((s) => s.name === 'chat big')!;
    const off = await chatOf(plain);
    assert.equal(off.attributes['gen_ai.input.messages'], undefined, 'no content by default');
    assert.equal(off.attributes['gen_ai.output.messages'], undefined);
    const on = await chatOf(capturing);
    const input = String(on.attributes['gen_ai.input.messages']);
    assert.match(input, /my key is .*, keep it/);
    assert.doesNotMatch(input, new RegExp(key), 'the key is scrubbed');
    assert.match(String(on.attributes['gen_ai.output.messages']), /assistant/);
    assert.doesNotMatch(String(on.attributes['gen_ai.output.messages']), new RegExp(key));
  } finally {
    await Promise.all([plain.stop(), capturing.stop()]);
  }
});
