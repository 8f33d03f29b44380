/**
 * Observability through a running runtime: /metrics scraped and parsed after
 * known traffic, /readyz, alerts firing and resolving with the mock model
 * failing and recovering, and the JSON log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { cli, probe, up, workspace, type Running } from './helpers/runtime.ts';
import { samples } from './helpers/prometheus.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

describe('observability', () => {
  let rt: Running;
  let model: MockModelHandle;
  const alerts: any[] = [];
  before(async () => {
    model = await startMockModel({ model: 'solo' });
    rt = await up(workspace({
      name: 'observed',
      dependencies: { solo: { kind: 'model', url: model.url, model: 'solo', critical: true, retry: { maxAttempts: 1 }, breaker: { window: 4, openMs: 60_000 }, price: { promptPer1k: 2, completionPer1k: 4 } } },
      models: { chat: ['solo'] },
      alerts: { windowMs: 3000, minSamples: 3, errorRate: { warning: 0.05, critical: 0.25 } },
      supervisor: { id: 'root', children: [probe('worker'), probe('other')] },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
    await rt.client.call('subscribe', { events: ['alert'] });
    rt.client.onEvent((m, p) => { if (m === 'alert') alerts.push(p); });
  });
  after(async () => {
    await rt.stop();
    await model.close();
  });

  test('/metrics counts the messages, calls and restarts it saw, with labels', async () => {
    for (let i = 0; i < 7; i++) await rt.client.call('ask', { agent: 'worker', message: { op: 'echo', value: i } });
    for (let i = 0; i < 2; i++) await rt.client.call('ask', { agent: 'worker', message: { op: 'chat' } });
    process.kill((await rt.agent('other')).pid!, 'SIGKILL');
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running') && (agentsOf(s.tree).find((a) => a.id === 'other')!.restarts === 1), 'other restarted');
    const res = await fetch(`http://127.0.0.1:${rt.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const msgs = samples(text, "faultline_messages_total").filter((s) => s.labels.agent === "worker");
    assert.equal(msgs.find((s) => s.labels.task === 'echo')?.value, 7);
    assert.equal(msgs.find((s) => s.labels.task === 'chat')?.value, 2);
    const calls = samples(text, 'faultline_dependency_calls_total').filter((s) => s.labels.dependency === 'solo');
    assert.equal(calls.reduce((n, s) => n + s.value, 0), 2);
    const restarts = samples(text, "faultline_restarts_total").find((s) => s.labels.agent === "other");

    assert.equal(restarts?.value, 1);
    assert.match(text, /faultline_message_duration_seconds_bucket\{[^}]*agent="worker"/);
    const tokens = samples(text, 'faultline_api_tokens_total').filter((s) => s.labels.dependency === 'solo');
    const prompt = tokens.find((s) => s.labels.type === 'prompt')?.value ?? 0;
    const completion = tokens.find((s) => s.labels.type === 'completion')?.value ?? 0;
    assert.ok(prompt > 0 && completion > 0, 'token counts from the model replies');
    const cost = samples(text, 'faultline_api_cost_total').find((s) => s.labels.dependency === 'solo')?.value;
    assert.ok(Math.abs(cost! - (prompt * 2 + completion * 4) / 1000) < 1e-9, `cost is tokens times the configured price (${cost})`);
  });

  test('/readyz turns 503 when a critical dependency without fallback is down, and back', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${rt.port}/readyz`)).status, 200);
    const { id } = await rt.client.call('inject', { fault: 'isolate', target: 'solo' });
    const r = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
    assert.equal(r.status, 503);
    assert.match(JSON.stringify(await r.json()), /solo/);
    await rt.client.call('clearFault', { id });
    assert.equal((await fetch(`http://127.0.0.1:${rt.port}/readyz`)).status, 200);
  });

  test('an error-rate alert fires while the model returns 503 and resolves after it recovers', async () => {
    model.setFault({ mode: 'error', status: 503 });
    for (let i = 0; i < 4; i++) await rt.client.call('ask', { agent: 'worker', message: { op: 'chat' } }).catch(() => undefined);
    await rt.until(() => alerts.some((a) => a.state === 'firing' && a.rule === 'errorRate' && a.subject === 'solo'), 'the error-rate alert firing');
    const firing = alerts.find((a) => a.state === 'firing' && a.rule === 'errorRate' && a.subject === 'solo');
    assert.equal(firing.level, 'critical');
    const listed = await cli(['alerts', '--json'], rt.dir);
    assert.equal(listed.code, 0);
    assert.ok(JSON.parse(listed.stdout).some((a: { rule: string; subject: string }) => a.rule === 'errorRate' && a.subject === 'solo'));
    model.setFault(undefined);
    await rt.client.call('inject', { fault: 'isolate', target: 'solo' }).then(({ id }) => rt.client.call('clearFault', { id }));
    for (let i = 0; i < 6; i++) await rt.client.call('ask', { agent: 'worker', message: { op: 'chat' } });
    await rt.until(() => alerts.some((a) => a.state === 'resolved' && a.rule === 'errorRate' && a.subject === 'solo'), 'the alert resolved', 20_000);
  });

  test('log lines are JSON with consistent fields, agent output included', async () => {
    await rt.client.call('ask', { agent: 'worker', message: { op: 'echo' } });
    const lines = readFileSync(path.join(rt.dir, '.faultline', 'logs', 'runtime.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length > 5);
    for (const l of lines) {
      assert.equal(typeof l.time, 'string');
      assert.equal(typeof l.level, 'string');
      assert.equal(typeof l.msg, 'string');
    }
    assert.ok(lines.some((l) => l.agent === 'other' && /went down|running/.test(l.msg)));
  });

  test('status JSON carries the reliability summary, the alerts and the model chains; metrics events stream the summary', async () => {
    const s = (await rt.status()) as unknown as { reliability: { business: unknown; system: unknown; infrastructure: unknown }; alerts: unknown[]; models: Record<string, string[]> };
    assert.ok(s.reliability.business && s.reliability.system && s.reliability.infrastructure);
    assert.ok(Array.isArray(s.alerts));
    assert.deepEqual(s.models, { chat: ['solo'] });
    const got: any[] = [];
    const sub = rt.client.onEvent((m, p) => { if (m === 'metrics') got.push(p); });
    await rt.client.call('subscribe', { events: ['metrics'] });
    await rt.until(() => got.length > 0, 'a metrics event', 10_000);
    sub.dispose();
    assert.equal(typeof got[0].time, 'string');
    assert.ok(got[0].business && got[0].infrastructure);
    assert.equal(typeof got[0].infrastructure.eventLoop?.lagP99Ms, 'number', 'event-loop lag in the summary');
  });
});
