/**
 * Fault injection at the policy layer (setFaultHook), in-process tools, and
 * the event sequence of a call. Injected errors never reach the server, yet
 * the retries and the breaker react to them as to real failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { single, ask, gatewayWith } from './testkit.ts';
import { BreakerOpenError, ContentFilterError, DependencyNetworkError, DependencyTimeoutError, MalformedResponseError, RetriesExhaustedError, UnknownDependencyError } from './errors.ts';
import type { FaultAction } from './faults.ts';

test('an injected 503 is retried and opens the breaker without reaching the server', async () => {
  const h = await single({ retry: { maxAttempts: 2, baseDelayMs: 1 } });
  try {
    h.gw.setFaultHook((dep) => (dep === 'dep' ? { type: 'error', status: 503, retryAfter: 1 } : undefined));
    for (let i = 0; i < 4; i++) await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.server.stats().chat, 0);
    assert.equal(h.gw.health('dep').breaker, 'open');
    assert.ok(h.clock.sleeps.every((d) => d >= 1_000), 'the injected Retry-After is honoured too');
    await assert.rejects(h.gw.chat('dep', ask()), BreakerOpenError);
  } finally {
    await h.close();
  }
});

test('a fault can target one call site by its point', async () => {
  const h = await single({ retry: { maxAttempts: 1, baseDelayMs: 1 } });
  try {
    h.gw.setFaultHook((_dep, point) => (point === 'summarize' ? { type: 'content-filter' } : undefined));
    await assert.rejects(h.gw.chat('dep', ask(), { point: 'summarize' }), ContentFilterError);
    assert.equal((await h.gw.chat('dep', ask('ok'), { point: 'plan' })).content, 'echo: ok');
    h.gw.setFaultHook(undefined);
    assert.equal((await h.gw.chat('dep', ask('ok'), { point: 'summarize' })).content, 'echo: ok');
  } finally {
    await h.close();
  }
});

test('each injected action fails the way the real failure does', async () => {
  const h = await single({ retry: { maxAttempts: 1, baseDelayMs: 1 }, timeoutMs: 300, breaker: { window: 100 } });
  try {
    const expect: [FaultAction, new (...a: never[]) => Error][] = [
      [{ type: 'timeout' }, DependencyTimeoutError],
      [{ type: 'blackhole' }, DependencyNetworkError],
      [{ type: 'stream-cut' }, DependencyNetworkError],
      [{ type: 'malformed' }, MalformedResponseError],
      [{ type: 'latency', ms: 600 }, DependencyTimeoutError],
    ];
    for (const [action, cls] of expect) {
      h.gw.setFaultHook(() => action);
      const e = await h.gw.chat('dep', ask()).catch((x) => x);
      const cause = e instanceof RetriesExhaustedError ? e.cause : e;
      assert.ok(cause instanceof cls, `${action.type}: ${e}`);
      if (action.type === 'blackhole') assert.equal((cause as DependencyNetworkError).code, 'ECONNREFUSED', 'a blocked network refuses the connection');
    }
    h.gw.setFaultHook(() => ({ type: 'slow-first-token', ms: 5 }));
    assert.equal((await h.gw.chat('dep', ask('slow'))).content, 'echo: slow');
    // The latency fault timed out before its delay ended: that attempt never reached the server.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(h.server.stats().chat, 1);
  } finally {
    await h.close();
  }
});

test('in-process tools run under the same policy; a missing handler says how to fix it', async () => {
  let calls = 0;
  const h = gatewayWith({
    dependencies: { calc: { kind: 'tool', retry: { maxAttempts: 3, baseDelayMs: 1 } }, other: { kind: 'tool' } },
    tools: {
      calc: (req) => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error('busy'), { code: 'ECONNRESET' });
        return { sum: (req as { a: number; b: number }).a + (req as { a: number; b: number }).b };
      },
    },
  });
  try {
    assert.deepEqual(await h.gw.call('calc', { a: 2, b: 3 }), { sum: 5 });
    assert.equal(calls, 3);
    await assert.rejects(h.gw.call('other', {}), UnknownDependencyError);
    const reg = h.gw.registerTool('other', async (_req, ctx) => (ctx.signal.aborted ? 'aborted' : 'ok'));
    assert.equal(await h.gw.call('other', {}), 'ok');
    reg.dispose();
    await assert.rejects(h.gw.call('missing', {}), /No dependency "missing"/);
  } finally {
    await h.close();
  }
});

test('a call emits attempt, retry and success events with agent and point, and log lines', async () => {
  const h = await single({ retry: { maxAttempts: 3, baseDelayMs: 1 } });
  try {
    h.server.setFault({ mode: 'error', status: 502, count: 1 });
    await h.gw.chat('dep', ask(), { agent: 'planner', point: 'draft' });
    const phases = h.events.filter((e) => e.name === 'dependency.call').map((e) => (e.payload as { phase: string }).phase);
    assert.deepEqual(phases, ['attempt', 'retry', 'attempt', 'success']);
    for (const e of h.events) {
      assert.equal(e.payload.dependency, 'dep');
      assert.equal((e.payload as { agent?: string }).agent, 'planner');
      assert.equal((e.payload as { point?: string }).point, 'draft');
      assert.ok(!Number.isNaN(Date.parse(e.payload.time)));
    }
    const retry = h.calls('retry')[0];
    assert.equal(retry.error?.status, 502);
    assert.equal(typeof retry.delayMs, 'number');
    assert.ok(h.logs.some((l) => l.level === 'info' && /retrying/.test(l.msg)));
  } finally {
    await h.close();
  }
});

test('dispose ends a call in flight instead of waiting out its timeout', async () => {
  const h = await single({ timeoutMs: 60_000 });
  try {
    h.server.setFault({ mode: 'hang' });
    const p = h.gw.chat('dep', ask());
    await new Promise((r) => setTimeout(r, 30));
    h.gw.dispose();
    await assert.rejects(p, /shutting down/);
  } finally {
    await h.close();
  }
});
