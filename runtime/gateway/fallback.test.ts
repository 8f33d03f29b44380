/**
 * Model fallback chains over two real mock model servers: the chain moves
 * on after an exhausted or non-retryable failure, skips a primary whose
 * breaker is open without contacting it (for every agent at once, since the
 * breaker is shared), and returns to the primary once its breaker closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMockModel } from '../mockModel/MockModelServer.ts';
import { gatewayWith, modelDep, ask, OPEN_MS } from './testkit.ts';
import { BreakerOpenError, FallbackExhaustedError, RetriesExhaustedError, UnknownDependencyError } from './errors.ts';
import { AlertEngine } from '../observability/alerts.ts';
import { dependencyHasFallback, statusView } from '../observability/health.ts';

async function twoModels() {
  const primary = await startMockModel({ model: 'big' });
  const backup = await startMockModel({ model: 'small' });
  const h = gatewayWith(
    {
      dependencies: {
        primary: modelDep(primary, { model: 'big', retry: { maxAttempts: 2, baseDelayMs: 1 } }),
        backup: modelDep(backup, { model: 'small', retry: { maxAttempts: 2, baseDelayMs: 1 } }),
      },
      models: { chat: ['primary', 'backup'] },
    },
    [primary, backup],
  );
  return { ...h, primary, backup };
}

test('the first healthy model answers and the reply says which', async () => {
  const h = await twoModels();
  try {
    const reply = await h.gw.chat('chat', ask('hi'));
    assert.equal(reply.dependency, 'primary');
    assert.equal(reply.model, 'big');
    assert.equal(h.backup.stats().chat, 0);
  } finally {
    await h.close();
  }
});

test('an exhausted primary falls back to the backup', async () => {
  const h = await twoModels();
  try {
    h.primary.setFault({ mode: 'error', status: 503 });
    const reply = await h.gw.chat('chat', ask('hi'), { agent: 'planner' });
    assert.equal(reply.dependency, 'backup');
    assert.equal(reply.model, 'small');
    assert.equal(reply.content, 'echo: hi');
    assert.equal(h.primary.stats().chat, 2, 'the primary had its maxAttempts first');
    const [fb] = h.calls('fallback');
    assert.equal(fb.dependency, 'primary');
    assert.equal(fb.to, 'backup');
    assert.equal(fb.chain, 'chat');
    assert.equal(fb.agent, 'planner');
  } finally {
    await h.close();
  }
});

test('a non-retryable failure falls back after one attempt', async () => {
  const h = await twoModels();
  try {
    h.primary.setFault({ mode: 'error', status: 401 });
    assert.equal((await h.gw.chat('chat', ask())).dependency, 'backup');
    assert.equal(h.primary.stats().chat, 1);
  } finally {
    await h.close();
  }
});

test('when the primary breaker opens every agent switches at once, and all return when it closes', async () => {
  const h = await twoModels();
  try {
    h.primary.setFault({ mode: 'error', status: 503 });
    for (let i = 0; i < 4; i++) assert.equal((await h.gw.chat('chat', ask(), { agent: 'a' })).dependency, 'backup');
    assert.equal(h.gw.health('primary').breaker, 'open');

    // Another agent's call goes straight to the backup: the primary is not contacted.
    const before = h.primary.stats().chat;
    for (const agent of ['a', 'b', 'c']) assert.equal((await h.gw.chat('chat', ask(), { agent })).dependency, 'backup');
    assert.equal(h.primary.stats().chat, before);

    // The primary recovers: probes go to it (one at a time), then all traffic does.
    h.primary.setFault(undefined);
    h.clock.advance(OPEN_MS);
    const answered: string[] = [];
    for (let i = 0; i < 5; i++) answered.push((await h.gw.chat('chat', ask(), { agent: i % 2 ? 'a' : 'b' })).dependency);
    assert.deepEqual(answered, ['primary', 'primary', 'primary', 'primary', 'primary']);
    assert.equal(h.gw.health('primary').breaker, 'closed');
    assert.deepEqual(h.breaker('primary'), ['closed->open', 'open->half-open', 'half-open->closed']);
  } finally {
    await h.close();
  }
});

test('while the primary is half-open with a probe in flight, other calls use the backup', async () => {
  const h = await twoModels();
  try {
    h.primary.setFault({ mode: 'error', status: 503 });
    for (let i = 0; i < 4; i++) await h.gw.chat('chat', ask());
    h.primary.setFault({ mode: 'latency', ms: 100 });
    h.clock.advance(OPEN_MS);
    const probe = h.gw.chat('chat', ask('probe'));
    const meanwhile = await h.gw.chat('chat', ask('meanwhile'));
    assert.equal(meanwhile.dependency, 'backup');
    assert.equal((await probe).dependency, 'primary');
  } finally {
    await h.close();
  }
});

test('when every model fails the error lists each failure', async () => {
  const h = await twoModels();
  try {
    h.primary.setFault({ mode: 'error', status: 500 });
    h.backup.setFault({ mode: 'error', status: 400 });
    const e = await h.gw.chat('chat', ask()).catch((x) => x);
    assert.ok(e instanceof FallbackExhaustedError, String(e));
    assert.equal(e.name, 'FallbackExhaustedError');
    assert.deepEqual(e.failures.map((f: { dependency: string; type: string }) => [f.dependency, f.type]), [
      ['primary', 'RetriesExhaustedError'],
      ['backup', 'DependencyHttpError'],
    ]);
    assert.match(e.message, /Every model of chain "chat" failed/);
  } finally {
    await h.close();
  }
});

test('a single model dependency works as a chain of one and keeps its own error', async () => {
  const h = await twoModels();
  try {
    assert.equal((await h.gw.chat('backup', ask())).dependency, 'backup');
    h.backup.setFault({ mode: 'error', status: 503 });
    await assert.rejects(h.gw.chat('backup', ask()), RetriesExhaustedError);
    h.gw.isolate('backup');
    await assert.rejects(h.gw.chat('backup', ask()), BreakerOpenError);
    await assert.rejects(h.gw.chat('nope', ask()), UnknownDependencyError);
  } finally {
    await h.close();
  }
});

test('readiness: a critical dependency down is a problem only without a healthy fallback', async () => {
  const primary = await startMockModel();
  const lone = await startMockModel();
  const h = gatewayWith(
    {
      dependencies: {
        primary: modelDep(primary, { critical: true }),
        backup: modelDep(primary),
        lone: modelDep(lone, { critical: true }),
      },
      models: { chat: ['primary', 'backup'] },
    },
    [primary, lone],
  );
  try {
    assert.deepEqual(h.gw.readinessProblems(), []);
    h.gw.isolate('primary');
    assert.deepEqual(h.gw.readinessProblems(), []);
    h.gw.isolate('backup');
    h.gw.isolate('lone');
    assert.deepEqual(h.gw.readinessProblems(), [
      'critical dependency "primary" is isolated and no fallback is available',
      'critical dependency "lone" is isolated and no fallback is available',
    ]);
    assert.equal(h.gw.status().find((d) => d.id === 'primary')!.hasFallback, true);
    assert.equal(h.gw.status().find((d) => d.id === 'lone')!.hasFallback, false);
  } finally {
    await h.close();
  }
});

test('one fallback rule: a degrade "cache" dependency down is a warning whether the breaker event or the status tick reports it', async () => {
  const primary = await startMockModel();
  const h = gatewayWith({ dependencies: { search: { kind: 'http', url: `${primary.url}/search`, degrade: 'cache', critical: true }, lone: modelDep(primary, { critical: true }) } }, [primary]);
  try {
    h.gw.isolate('search');
    h.gw.isolate('lone');
    const alerts = new AlertEngine();
    const levels = () => alerts.evaluate(0).filter((e) => e.state === 'firing').map((e) => [e.subject, e.level]);
    // What the gateway's breaker.state event hands the alerts ...
    for (const id of ['search', 'lone']) alerts.breaker(id, 'isolated', h.gw.hasFallback(id));
    assert.deepEqual(levels(), [['search', 'warning'], ['lone', 'critical']]);
    // ... and what the observability tick decides from the status JSON, the same.
    const status = { dependencies: h.gw.status(), models: {} };
    for (const d of status.dependencies) alerts.breaker(d.id, d.breaker, dependencyHasFallback(d, statusView(status)));
    assert.deepEqual(alerts.evaluate(1).map((e) => [e.subject, e.level]), [], 'no level changed');
    assert.deepEqual(h.gw.readinessProblems(), ['critical dependency "lone" is isolated and no fallback is available']);
  } finally {
    await h.close();
  }
});
