/**
 * The method table and the event list against their schemas, the params
 * messages a client sees, and the webview bundle staying free of zod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EVENT_NAMES } from '../events.ts';
import { RpcError, RpcErrorCode } from '../rpc.ts';
import { EVENT_SCHEMAS } from './events.ts';
import { METHOD_NAMES, METHOD_SCHEMAS, validateParams } from './methods.ts';
import { protocolJsonSchema } from './index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('every method of the table has a params and a result schema, every event name a payload schema', () => {
  for (const m of METHOD_NAMES) {
    assert.ok(METHOD_SCHEMAS[m].params && METHOD_SCHEMAS[m].result, m);
  }
  for (const m of ['auth', 'status', 'send', 'ask', 'restart', 'stop', 'inject', 'clearFault', 'faults', 'alerts', 'checkpoints', 'drill.run', 'drill.cancel', 'chaos.start', 'chaos.stop', 'chaos.status', 'machine', 'subscribe', 'unsubscribe', 'shutdown']) {
    assert.ok(METHOD_NAMES.includes(m as never), `method ${m} is in the table`);
  }
  assert.deepEqual(Object.keys(EVENT_SCHEMAS).sort(), [...EVENT_NAMES].sort());
  const doc = protocolJsonSchema() as { events: Record<string, unknown>; methods: Record<string, unknown> };
  assert.deepEqual(Object.keys(doc.events).sort(), [...EVENT_NAMES].sort());
  assert.deepEqual(Object.keys(doc.methods).sort(), [...METHOD_NAMES].sort());
});

test('objects are closed in the JSON Schema, except user data', () => {
  const doc = protocolJsonSchema();
  const open: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const isLogLine = !!(o.properties as Record<string, unknown> | undefined)?.msg && !!(o.properties as Record<string, unknown>).level;
    if (o.type === 'object' && o.properties && o.additionalProperties !== false) open.push(isLogLine ? `log line at ${at}` : at);
    for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`);
  };
  walk(doc, '#');
  // A log line carries an agent's own ctx.log fields: the one object with named fields left open.
  assert.ok(open.includes('log line at #/events/log'), 'the log event is open');
  assert.deepEqual(open.filter((p) => !p.startsWith('log line at ')), [], 'every other object with named fields is closed');
});

test('InvalidParams names the method, the field and what it must be', () => {
  const refused = (method: string, params: unknown, why: RegExp) => {
    assert.throws(() => validateParams(method, params), (e: unknown) => e instanceof RpcError && e.code === RpcErrorCode.InvalidParams && why.test(e.message), `${method} ${JSON.stringify(params)}`);
  };
  refused('ask', { agent: 'a', message: {}, timeoutMs: -5 }, /^Invalid params: ask "timeoutMs" must be a number of milliseconds between 1 and 3600000$/);
  refused('ask', { agent: 5, message: {} }, /ask "agent" must be a non-empty string/);
  refused('ask', { agent: 'a' }, /ask needs "message"/);
  refused('send', {}, /send needs "agent" \(a non-empty string\)/);
  refused('status', { extra: 1 }, /status has no field "extra"/);
  refused('subscribe', { events: ['bogus'] }, /subscribe "events\[0\]" must name events/);
  refused('chaos.start', { intervalMs: 1, durationMs: 1000 }, /chaos\.start "intervalMs" must be an integer between 10 and 3600000/);
  refused('inject', { fault: 'kill', target: 'a', params: [1] }, /inject "params" must be an object/);
  refused('drill.run', {}, /drill\.run needs "drill"/);
  refused('machine', { id: '' }, /machine "id"/);
  refused('status', [1], /takes an object of named params/);
  assert.throws(() => validateParams('nope', {}), (e: unknown) => e instanceof RpcError && e.code === RpcErrorCode.MethodNotFound);
  assert.deepEqual(validateParams('status', undefined), {});
  assert.deepEqual(validateParams('ask', { agent: 'a', message: null }), { agent: 'a', message: null });
  assert.deepEqual(validateParams('unsubscribe', {}), {});
});

test('the webview bundle holds no zod: it imports the protocol types only', async () => {
  const r = await build({ entryPoints: [path.join(root, 'webview/src/main.ts')], bundle: true, write: false, metafile: true, format: 'esm', logLevel: 'silent', loader: { '.css': 'empty' } });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((i) => i.includes('webview/src')), 'the dashboard was bundled');
  assert.deepEqual(inputs.filter((i) => i.includes('node_modules/zod') || i.includes('protocol/schema/')), []);
});
