/**
 * The circuit breaker, against a real mock model server: it opens at the
 * failure ratio over the count window, then fails fast without reaching the
 * server; after openMs it lets single probes through, closes after N
 * successful ones and reopens on a failed one. The open period passes on a
 * SteppingClock (`clock.advance`), never by sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { single, ask, OPEN_MS } from './testkit.ts';
import { BreakerOpenError, RetriesExhaustedError } from './errors.ts';
import { Gateway, breakerStateKey } from './Gateway.ts';

/** Single-attempt calls so each call is one request at the server. */
const oneShot = { retry: { maxAttempts: 1, baseDelayMs: 1 } };

test('opens at 50% failures over the window, then fails fast without reaching the server', async () => {
  const h = await single(oneShot);
  try {
    await h.gw.chat('dep', ask());
    await h.gw.chat('dep', ask());
    h.server.setFault({ mode: 'error', status: 503 });
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.gw.health('dep').breaker, 'closed', '1 failure of 3 calls: the window is not full yet');
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.gw.health('dep').breaker, 'open', '2 failures of 4 calls is 50%');
    assert.deepEqual(h.breaker('dep'), ['closed->open']);

    const before = h.server.stats().chat;
    for (let i = 0; i < 5; i++) {
      const e = await h.gw.chat('dep', ask()).catch((x) => x);
      assert.ok(e instanceof BreakerOpenError, String(e));
      assert.equal(e.state, 'open');
      assert.ok(e.retryInMs! <= OPEN_MS);
    }
    assert.equal(h.server.stats().chat, before, 'no call reached the server while open');
    assert.equal(h.gw.health('dep').rejected, 5);
    assert.equal(h.calls('rejected').length, 5);
  } finally {
    await h.close();
  }
});

test('stays closed below the ratio', async () => {
  const h = await single({ ...oneShot, breaker: { window: 4, failureRatio: 0.5, openMs: OPEN_MS } });
  try {
    for (let i = 0; i < 12; i++) {
      h.server.setFault(i % 4 === 0 ? { mode: 'error', status: 500, count: 1 } : undefined);
      await h.gw.chat('dep', ask()).catch(() => undefined);
    }
    assert.equal(h.gw.health('dep').breaker, 'closed');
    assert.ok(Math.abs(h.gw.health('dep').errorRate - 0.25) < 1e-9);
  } finally {
    await h.close();
  }
});

test('a retried call counts once: the breaker is outside the retries', async () => {
  const h = await single({ retry: { maxAttempts: 3, baseDelayMs: 1 } });
  try {
    h.server.setFault({ mode: 'error', status: 503 });
    for (let i = 0; i < 3; i++) await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.server.stats().chat, 9);
    assert.equal(h.gw.health('dep').breaker, 'closed', '3 calls in a window of 4');
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.gw.health('dep').breaker, 'open');
  } finally {
    await h.close();
  }
});

test('non-retryable failures do not open the breaker', async () => {
  const h = await single(oneShot);
  try {
    h.server.setFault({ mode: 'error', status: 400 });
    for (let i = 0; i < 8; i++) await h.gw.chat('dep', ask()).catch(() => undefined);
    assert.equal(h.gw.health('dep').breaker, 'closed');
  } finally {
    await h.close();
  }
});

async function openIt(h: Awaited<ReturnType<typeof single>>) {
  h.server.setFault({ mode: 'error', status: 503 });
  for (let i = 0; i < 4; i++) await h.gw.chat('dep', ask()).catch(() => undefined);
  assert.equal(h.gw.health('dep').breaker, 'open');
}

test('after openMs, N successful probes close it; one probe at a time, one attempt each', async () => {
  const h = await single({ retry: { maxAttempts: 3, baseDelayMs: 1 }, breaker: { window: 4, openMs: OPEN_MS, halfOpenProbes: 3 } });
  try {
    await openIt(h);
    h.server.setFault(undefined);
    h.clock.advance(OPEN_MS);
    h.server.resetStats();

    // First probe: cockatiel's half-open test call.
    await h.gw.chat('dep', ask('p1'));
    assert.equal(h.gw.health('dep').breaker, 'half-open');
    // While a probe is in flight every other call fails fast.
    h.server.setFault({ mode: 'latency', ms: 100, count: 1 });
    const probe2 = h.gw.chat('dep', ask('p2'));
    const other = await h.gw.chat('dep', ask('other')).catch((x) => x);
    assert.ok(other instanceof BreakerOpenError && other.state === 'half-open', String(other));
    await probe2;
    assert.equal(h.gw.health('dep').breaker, 'half-open');
    await h.gw.chat('dep', ask('p3'));
    assert.equal(h.gw.health('dep').breaker, 'closed');
    assert.equal(h.server.stats().chat, 3, 'three probes reached the server, the rejected call did not');
    assert.deepEqual(h.breaker('dep'), ['closed->open', 'open->half-open', 'half-open->closed']);
  } finally {
    await h.close();
  }
});

test('a failed first probe reopens it after one attempt, though maxAttempts is 3', async () => {
  const h = await single({ retry: { maxAttempts: 3, baseDelayMs: 1 } });
  try {
    await openIt(h);
    h.clock.advance(OPEN_MS);
    h.server.resetStats();
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.server.stats().chat, 1);
    assert.equal(h.gw.health('dep').breaker, 'open');
    await assert.rejects(h.gw.chat('dep', ask()), BreakerOpenError);
    assert.deepEqual(h.breaker('dep'), ['closed->open', 'open->half-open', 'half-open->open']);
  } finally {
    await h.close();
  }
});

test('a failed later probe reopens it, and the next cycle needs N probes again', async () => {
  const h = await single(oneShot);
  try {
    await openIt(h);
    h.server.setFault(undefined);
    h.clock.advance(OPEN_MS);
    await h.gw.chat('dep', ask());
    await h.gw.chat('dep', ask());
    assert.equal(h.gw.health('dep').breaker, 'half-open');
    h.server.setFault({ mode: 'error', status: 502, count: 1 });
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.gw.health('dep').breaker, 'open');
    await assert.rejects(h.gw.chat('dep', ask()), BreakerOpenError);

    h.clock.advance(OPEN_MS);
    for (let i = 0; i < 2; i++) await h.gw.chat('dep', ask());
    assert.equal(h.gw.health('dep').breaker, 'half-open');
    await h.gw.chat('dep', ask());
    assert.equal(h.gw.health('dep').breaker, 'closed');
  } finally {
    await h.close();
  }
});

test('isolate holds it open by hand and reset closes it', async () => {
  const h = await single();
  try {
    h.gw.isolate('dep');
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof BreakerOpenError && e.state === 'isolated', String(e));
    assert.equal(h.server.stats().chat, 0);
    assert.equal(h.gw.status()[0].breaker, 'isolated');
    h.gw.reset('dep');
    assert.equal((await h.gw.chat('dep', ask('back'))).content, 'echo: back');
    assert.deepEqual(h.breaker('dep'), ['closed->isolated', 'isolated->closed']);
  } finally {
    await h.close();
  }
});

test('breaker state survives a restart through the state store', async () => {
  const store = new Map<string, unknown>();
  const stateStore = { get: (k: string) => store.get(k), put: (k: string, v: unknown) => void store.set(k, JSON.parse(JSON.stringify(v))) };
  const h = await single({ ...oneShot, breaker: { window: 4, openMs: 60_000 } }, {}, { stateStore });
  try {
    await openIt(h);
    h.gw.dispose();
    assert.ok(store.has(breakerStateKey('dep')));
    const before = h.server.stats().chat;
    const again = new Gateway({ dependencies: { dep: { kind: 'model', url: h.server.url, model: 'm', breaker: { window: 4, openMs: 60_000 } } }, stateStore });
    try {
      assert.equal(again.health('dep').breaker, 'open');
      await assert.rejects(again.chat('dep', ask()), BreakerOpenError);
      assert.equal(h.server.stats().chat, before);
      again.reset('dep');
      assert.equal(again.health('dep').breaker, 'closed');
      h.server.setFault(undefined);
      await again.chat('dep', ask());
    } finally {
      again.dispose();
    }
  } finally {
    await h.close();
  }
});

test('health reports the error rate, latency percentiles and the last error', async () => {
  const h = await single(oneShot);
  try {
    await h.gw.chat('dep', ask());
    h.server.setFault({ mode: 'error', status: 500, count: 1 });
    await h.gw.chat('dep', ask()).catch(() => undefined);
    const health = h.gw.health('dep');
    assert.equal(health.breaker, 'closed');
    assert.equal(health.errorRate, 0.5);
    assert.equal(typeof health.latencyMs, 'number');
    assert.equal(typeof health.latencyP95Ms, 'number');
    assert.equal((health.lastError as { type: string }).type, 'DependencyHttpError');
    const [status] = h.gw.status();
    assert.equal(status.id, 'dep');
    assert.equal(status.kind, 'model');
    assert.equal(status.errorRate, 0.5);
  } finally {
    await h.close();
  }
});

test('the error rate is per call: a call that succeeds after retries is a success, one the breaker refuses a failure', async () => {
  const h = await single({ retry: { maxAttempts: 3, baseDelayMs: 1 }, breaker: { window: 2, failureRatio: 0.5, openMs: OPEN_MS } });
  try {
    h.server.setFault({ mode: 'error', status: 503, count: 2 });
    await h.gw.chat('dep', ask());
    assert.equal(h.gw.health('dep').attempts, 3);
    assert.equal(h.gw.health('dep').errorRate, 0, 'one call, answered');
    h.server.setFault({ mode: 'error', status: 503 });
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.gw.health('dep').breaker, 'open');
    assert.equal(h.gw.health('dep').errorRate, 0.5);
    await assert.rejects(h.gw.chat('dep', ask()), BreakerOpenError);
    assert.ok(Math.abs(h.gw.health('dep').errorRate - 2 / 3) < 1e-3, 'the refused call counts');
  } finally {
    await h.close();
  }
});
