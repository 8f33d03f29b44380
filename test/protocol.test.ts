/**
 * The protocol's JSON Schema document, checked against a real run by an
 * independent validator (ajv): every notification a subscriber to `*` gets
 * while agents are killed, a dependency fails (breakers and alerts move), a
 * fault is injected and cleared and a supervisor restarts; the status; and
 * the result of every method the run calls.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { cli, probe, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';
import { EVENT_NAMES } from '../runtime/protocol/events.ts';
import { METHOD_NAMES } from '../runtime/protocol/schema/methods.ts';

type Schema = Record<string, unknown>;
interface ProtocolDocument { status: Schema; events: Record<string, Schema>; methods: Record<string, { params: Schema; result: Schema }> }

/** The document as the build wrote it: what a user of the package validates with. */
const doc = JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'faultline.protocol.schema.json'), 'utf8')) as ProtocolDocument;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();
const validator = (key: string, schema: Schema) => {
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(schema)));
  return v;
};
const problems = (v: ValidateFunction) => ajv.errorsText(v.errors, { separator: '\n' });

function assertEvent(name: string, payload: unknown) {
  const schema = doc.events[name];
  assert.ok(schema, `event "${name}" has a schema`);
  const v = validator(`event:${name}`, schema);
  assert.ok(v(payload), `event ${name} does not match its schema:\n${problems(v)}\n${JSON.stringify(payload)}`);
}
function assertResult(method: string, result: unknown) {
  const v = validator(`result:${method}`, doc.methods[method].result);
  assert.ok(v(result), `the result of ${method} does not match its schema:\n${problems(v)}\n${JSON.stringify(result).slice(0, 2000)}`);
  return result;
}

describe('protocol schemas against a real run', () => {
  let rt: Running;
  let model: MockModelHandle;
  const seen: { name: string; payload: unknown }[] = [];
  /** Calls a method, checking its params against the schema first and its result after. */
  const call = async (method: string, params: Record<string, unknown>): Promise<any> => {
    const pv = validator(`params:${method}`, doc.methods[method].params);
    assert.ok(pv(params), `params of ${method} do not match their schema:\n${problems(pv)}`);
    return assertResult(method, await rt.client.call(method as never, params as never));
  };

  before(async () => {
    model = await startMockModel({ model: 'solo' });
    rt = await up(workspace({
      name: 'protocol',
      dependencies: { solo: { kind: 'model', url: model.url, model: 'solo', critical: true, retry: { maxAttempts: 1 }, breaker: { window: 4, minimumCalls: 4, openMs: 60_000 }, price: { promptPer1k: 2, completionPer1k: 4 } } },
      models: { chat: ['solo'] },
      alerts: { windowMs: 3000, minSamples: 3, errorRate: { warning: 0.05, critical: 0.25 } },
      supervisor: { id: 'root', intensity: 1000, periodMs: 60_000, children: [probe('worker'), { supervisor: { id: 'crew', strategy: 'one_for_all', children: [probe('a'), probe('b')] } }] },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'every agent running');
    rt.client.onEvent((name, payload) => seen.push({ name, payload }));
    await call('subscribe', { events: ['*'] });
  });
  after(async () => {
    await rt?.stop();
    await model?.close();
  });

  test('every notification, the status and every result match the document', async () => {
    assertResult('status', await call('status', {}));
    await call('ask', { agent: 'worker', message: { op: 'echo', value: 1 } });
    await call('send', { agent: 'worker', message: { op: 'count' } });
    await call('ask', { agent: 'worker', message: { op: 'chat' } });
    await call('ask', { agent: 'worker', message: { op: 'health', dependency: 'solo' } });

    // An agent killed: agent.state through the restart, a fault injected and fired, log lines.
    await call('inject', { fault: 'kill', target: 'worker' });
    await rt.until((s) => (findNode(s.tree, 'worker') as { restarts: number }).restarts >= 1 && findNode(s.tree, 'worker')!.state === 'running', 'worker restarted');

    // A supervisor restarted on request: supervisor.state.
    await call('restart', { agent: 'crew' });
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'crew running again');

    // A dependency failing: dependency.call, breaker.state, alerts.
    const { id } = await call('inject', { fault: 'error', target: 'solo', params: { status: 503 } });
    // A failing call crashes the handler (and its redeliveries): the high intensity keeps the tree up.
    for (let i = 0; i < 4; i++) await rt.client.call('ask', { agent: 'worker', message: { op: 'chat' } }).catch(() => undefined);
    await rt.until((s) => s.dependencies.some((d) => d.id === 'solo' && d.breaker === 'open'), 'the breaker open');
    const faults = await call('faults', {});
    assert.equal(faults.length, 1);
    await rt.until(() => seen.some((e) => e.name === 'alert'), 'an alert event', 10_000);
    await call('alerts', {});
    assertResult('status', await call('status', {}));
    assert.deepEqual(await call('clearFault', { id }), { cleared: 1 });

    // A fault kept active and cleared.
    const slow = await call('inject', { fault: 'slow', target: 'worker', params: { ms: 10 } });
    assert.deepEqual(await call('clearFault', { id: slow.id }), { cleared: 1 });

    await call('checkpoints', { agent: 'worker' });
    await call('chaos.status', {});
    await call('drill.cancel', {});
    // The reliability summary goes out every 2 s to those who listen.
    await rt.until(() => seen.some((e) => e.name === 'metrics'), 'a metrics event', 10_000);
    assertResult('status', await call('status', {}));

    for (const e of seen) assertEvent(e.name, e.payload);
    const names = new Set(seen.map((e) => e.name));
    for (const n of ['agent.state', 'supervisor.state', 'breaker.state', 'fault', 'alert', 'metrics', 'log', 'dependency.call']) assert.ok(names.has(n), `a "${n}" event was seen (seen: ${[...names].join(', ')})`);
    assert.ok(seen.length > 20, `${seen.length} notifications validated`);
  });

  test('a field the schema does not know is refused', () => {
    const state = seen.find((e) => e.name === 'agent.state')!.payload as Record<string, unknown>;
    assertEvent('agent.state', state);
    const v = validator('event:agent.state', doc.events['agent.state']);
    assert.equal(v({ ...state, surprise: 1 }), false, 'an unknown field fails the closed schema');
    assert.match(problems(v), /must NOT have additional properties/);
    const status = validator('status', doc.status);
    assert.equal(status({ runtime: {}, tree: {}, dependencies: [], extra: true }), false);
  });

  test('faultline schema --protocol prints the same document the build wrote', async () => {
    const r = await cli(['schema', '--protocol'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), doc);
    const help = await cli(['--help'], rt.dir);
    assert.match(help.stdout, /schema \[--protocol\]/);
  });

  test('every method of the table and every event name has a schema in the document', () => {
    for (const m of METHOD_NAMES) assert.ok(doc.methods[m]?.params && doc.methods[m]?.result, `method ${m}`);
    for (const e of EVENT_NAMES) assert.ok(doc.events[e], `event ${e}`);
    assert.deepEqual(Object.keys(doc.methods).sort(), [...METHOD_NAMES].sort());
  });
});
