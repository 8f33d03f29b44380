import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Observability, categoryOf } from './Observability.ts';
import type { AlertEvent } from './alerts.ts';
import type { LogLine } from './logger.ts';
import type { AgentStatus, RuntimeStatus } from '../protocol/status.ts';

const KEY = 'sk-live-obs-7c1e55aa90';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-obs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function snapshot(over: { planner?: Partial<AgentStatus>; breaker?: 'closed' | 'open'; inWindow?: number } = {}): RuntimeStatus {
  return {
    runtime: { pid: 1, uptimeMs: 1, version: '0.1.0', name: 't', startedAt: '' },
    tree: {
      id: 'root', kind: 'supervisor', state: 'running', strategy: 'one_for_one', restart: 'permanent', restarts: 0,
      intensity: { limit: 5, periodMs: 60_000, inWindow: over.inWindow ?? 0 },
      children: [{ id: 'planner', kind: 'agent', state: 'running', pid: 2, restarts: 0, isolation: 'process', restart: 'permanent', module: 'p.mjs', mailbox: 3, liveness: true, readiness: true, startedAt: '', ...over.planner }],
    },
    dependencies: [{ id: 'primary', breaker: over.breaker ?? 'closed', errorRate: 0, critical: true }],
  };
}

function setup(t: { after(fn: () => void): void }) {
  let now = 1_000_000;
  const dir = tempDir(t);
  const lines: LogLine[] = [];
  const obs = new Observability({
    system: 'test',
    dependencies: { primary: { kind: 'model', apiKeyEnv: 'OBS_TEST_KEY', price: { promptPer1k: 1, completionPer1k: 2 } } },
    env: { OBS_TEST_KEY: KEY },
    log: { dir, onLine: (l) => lines.push(l) },
    clock: () => now,
  });
  const alerts: AlertEvent[] = [];
  obs.onAlert((a) => alerts.push(a));
  return { obs, lines, alerts, dir, advance: (ms: number) => (now += ms) };
}

test('the mock model going 503 and back fires and resolves the error rate alert', async (t) => {
  const { obs, alerts, lines, advance } = setup(t);
  try {
    for (let i = 0; i < 20; i++) {
      obs.gatewayEvent('dependency.call', { dependency: 'primary', phase: 'retry', error: { type: 'DependencyHttpError', status: 503 } });
      obs.gatewayEvent('dependency.call', { dependency: 'primary', phase: 'give-up', reason: 'exhausted', latencyMs: 40, error: { type: 'DependencyHttpError', status: 503 }, agent: 'planner' });
      advance(500);
    }
    obs.alerts.evaluate();
    assert.deepEqual(alerts.map((a) => [a.state, a.level, a.rule, a.subject]), [['firing', 'critical', 'errorRate', 'primary']]);

    for (let i = 0; i < 200; i++) {
      obs.gatewayEvent('dependency.call', { dependency: 'primary', phase: 'success', latencyMs: 30, agent: 'planner' });
      advance(500);
    }
    obs.alerts.evaluate();
    assert.deepEqual(alerts.map((a) => a.state), ['firing', 'resolved']);
    assert.deepEqual(obs.alerts.active(), []);

    const text = (await obs.metricsResponse()).body;
    assert.match(text, /faultline_dependency_give_ups_total\{dependency="primary",error_category="server_error"\} 20/);
    assert.match(text, /faultline_dependency_retries_total\{dependency="primary"\} 20/);
    assert.match(text, /faultline_dependency_calls_total\{dependency="primary",kind="model",agent="planner",outcome="ok"\} 200/);
    // Transitions are logged at their level.
    await obs.log!.flush();
    assert.deepEqual(lines.filter((l) => l.alert).map((l) => l.level), ['error', 'info']);
    assert.equal(obs.summary().system.dependencies.primary.giveUps, 20);
  } finally {
    await obs.close();
  }
});

test('status ticks drive the unresponsive and intensity alerts, the gauges and readyz', async (t) => {
  const { obs, alerts } = setup(t);
  try {
    obs.observeStatus(snapshot({ planner: { liveness: false }, inWindow: 4 }));
    obs.alerts.evaluate();
    assert.deepEqual(alerts.map((a) => [a.rule, a.level]).sort(), [['restartIntensity', 'warning'], ['unresponsive', 'critical']]);
    const text = (await obs.metricsResponse(snapshot({ planner: { liveness: false }, inWindow: 4 }))).body;
    assert.match(text, /faultline_inbox_depth\{agent="planner"\} 3/);
    assert.match(text, /faultline_agent_live\{agent="planner"\} 0/);
    assert.match(text, /faultline_supervisor_intensity_used_ratio\{supervisor="root"\} 0.8/);
    assert.match(text, /faultline_alerts_active\{rule="unresponsive",level="critical"\} 1/);

    assert.equal(obs.readyz(snapshot()).status, 200);
    assert.equal(obs.readyz(snapshot({ breaker: 'open' })).status, 503);
    obs.observeStatus(snapshot({ breaker: 'open' }));
    obs.alerts.evaluate();
    assert.ok(obs.alerts.active().some((a) => a.rule === 'breakerOpen' && a.level === 'critical'));
  } finally {
    await obs.close();
  }
});

test('an API key from the config\'s env never appears in logs, log events, alerts, metrics or the summary', async (t) => {
  const { obs, lines, alerts, dir } = setup(t);
  try {
    obs.messageHandled({ agent: 'planner', task: `echo ${KEY}`, latencyMs: 5, ok: false, errorCategory: KEY });
    obs.dependencyCall({ dependency: 'primary', ok: false, latencyMs: 1, errorCategory: `bad ${KEY}`, agent: 'planner' });
    obs.modelUsage('primary', 100, 50, 'planner');
    obs.log!.logger.error({ err: new Error(`server said: key ${KEY} is invalid`), headers: { authorization: `Bearer ${KEY}` } }, 'call failed');
    obs.log!.agentOutputLine('planner', 'stderr', `printing ${KEY}`);
    obs.agentUnresponsive(`planner-${KEY}`, true);
    obs.alerts.evaluate();
    assert.equal(alerts.length, 1);
    await obs.log!.flush();

    const everything = [
      readFileSync(path.join(dir, 'runtime.log'), 'utf8'),
      JSON.stringify(lines),
      (await obs.metricsResponse()).body,
      JSON.stringify(alerts),
      JSON.stringify(obs.summary()),
    ];
    for (const s of everything) assert.ok(!s.includes(KEY), `secret leaked into: ${s.slice(0, 200)}`);
    assert.ok(lines.length >= 3);
    // The cost used the configured price: 100 * 1/1000 + 50 * 2/1000.
    assert.equal(obs.summary().infrastructure.api.cost, 0.2);
  } finally {
    await obs.close();
  }
});

test('switched off, the hot path records nothing', async (t) => {
  const { obs } = setup(t);
  try {
    obs.enabled = false;
    obs.messageHandled({ agent: 'planner', task: 'x', latencyMs: 5, ok: true, targetMs: 100 });
    obs.dependencyCall({ dependency: 'primary', ok: true, latencyMs: 1 });
    assert.doesNotMatch((await obs.metricsResponse()).body, /faultline_messages_total\{/);
    assert.equal(obs.summary().business.taskCompletion.total, 0);
  } finally {
    await obs.close();
  }
});

test('gateway failures map to bounded error categories', () => {
  assert.equal(categoryOf({ error: { type: 'DependencyHttpError', status: 429 } }), 'rate_limit');
  assert.equal(categoryOf({ error: { type: 'DependencyHttpError', status: 503 } }), 'server_error');
  assert.equal(categoryOf({ error: { type: 'DependencyHttpError', status: 401 } }), 'client_error');
  assert.equal(categoryOf({ reason: 'budget' }), 'timeout');
  assert.equal(categoryOf({ error: { type: 'DependencyTimeoutError' } }), 'timeout');
  assert.equal(categoryOf({ error: { type: 'ContentFilterError' } }), 'content_filter');
  assert.equal(categoryOf({ reason: 'non-retryable' }), 'non_retryable');
});

test('the HTTP routes answer from the status at request time', async (t) => {
  const { obs } = setup(t);
  try {
    let s = snapshot();
    const routes = obs.httpRoutes(() => s);
    const ready = await routes['/readyz']();
    assert.equal(ready.status, 200);
    assert.equal(ready.type, 'application/json');
    assert.equal(JSON.parse(ready.body).status, 'ready');
    s = snapshot({ breaker: 'open' });
    const down = await routes['/readyz']();
    assert.equal(down.status, 503);
    assert.equal(JSON.parse(down.body).reasons[0].subject, 'primary');
    assert.equal((await routes['/livez']()).status, 200);
    const m = await routes['/metrics']();
    assert.match(m.type, /^text\/plain/);
    assert.match(m.body, /faultline_breaker_state\{dependency="primary",state="open"\} 1/);
    assert.deepEqual(Object.keys(obs.statusExtra()).sort(), ['alerts', 'reliability']);
  } finally {
    await obs.close();
  }
});
