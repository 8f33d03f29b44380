/**
 * Retry counts per error class, Retry-After, budget and timeouts, counted at
 * a real mock model server over HTTP. Retry delays go through a
 * SteppingClock: recorded, not slept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { single, ask } from './testkit.ts';
import {
  BudgetExceededError,
  ContentFilterError,
  DependencyHttpError,
  DependencyNetworkError,
  DependencyTimeoutError,
  RetriesExhaustedError,
} from './errors.ts';
import type { ChatReply } from '../sdk.ts';

test('a 400 reaches the server once and fails with a non-retryable DependencyHttpError', async () => {
  const h = await single();
  try {
    h.server.setFault({ mode: 'error', status: 400 });
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof DependencyHttpError, String(e));
    assert.equal(e.name, 'DependencyHttpError');
    assert.equal(e.status, 400);
    assert.equal(e.retryable, false);
    assert.match(e.message, /"dep" answered HTTP 400/);
    assert.equal(h.server.stats().chat, 1);
    assert.deepEqual(h.clock.sleeps, []);
    assert.equal(h.calls('give-up')[0].reason, 'non-retryable');
  } finally {
    await h.close();
  }
});

for (const status of [401, 403, 404, 422]) {
  test(`a ${status} is not retried`, async () => {
    const h = await single();
    try {
      h.server.setFault({ mode: 'error', status });
      await assert.rejects(h.gw.chat('dep', ask()), (e: DependencyHttpError) => e.status === status && !e.retryable);
      assert.equal(h.server.stats().chat, 1);
    } finally {
      await h.close();
    }
  });
}

for (const status of [408, 429, 500, 502, 503, 504]) {
  test(`a ${status} is retried up to maxAttempts, counted at the server`, async () => {
    const h = await single({ retry: { maxAttempts: 4, baseDelayMs: 10 } });
    try {
      h.server.setFault({ mode: 'error', status });
      const e = await h.gw.chat('dep', ask()).catch((x) => x);
      assert.ok(e instanceof RetriesExhaustedError, String(e));
      assert.equal(e.attempts, 4);
      assert.equal((e.cause as DependencyHttpError).status, status);
      assert.equal(h.server.stats().chat, 4);
      assert.equal(h.clock.sleeps.length, 3);
      assert.equal(h.calls('attempt').length, 4);
      assert.equal(h.calls('retry').length, 3);
      assert.equal(h.calls('give-up')[0].reason, 'exhausted');
    } finally {
      await h.close();
    }
  });
}

test('a transient 503 is retried until the server recovers; the reply says who answered', async () => {
  const h = await single({ model: 'big' });
  try {
    h.server.setFault({ mode: 'error', status: 503, count: 2 });
    const reply = await h.gw.chat('dep', ask('hello'));
    assert.equal(reply.content, 'echo: hello');
    assert.equal(reply.dependency, 'dep');
    assert.equal(reply.model, 'mock');
    assert.equal(h.server.stats().chat, 3);
    assert.equal(h.gw.health('dep').retries, 2);
  } finally {
    await h.close();
  }
});

test('backoff grows exponentially with jitter from baseDelayMs, capped by maxDelayMs', async () => {
  const h = await single({ retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 } });
  try {
    h.server.setFault({ mode: 'error', status: 500 });
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.clock.sleeps.length, 5);
    assert.ok(h.clock.sleeps.every((d) => d >= 0 && d <= 1_000), String(h.clock.sleeps));
    const sum = h.clock.sleeps.reduce((a, b) => a + b, 0);
    // Decorrelated jitter's delays sum to roughly base * 2^n: well above five flat base delays.
    assert.ok(sum > 500, `delays ${h.clock.sleeps}`);
  } finally {
    await h.close();
  }
});

test('Retry-After in seconds on a 429 is honoured', async () => {
  const h = await single();
  try {
    h.server.setFault({ mode: 'error', status: 429, retryAfter: 2, count: 1 });
    const reply = await h.gw.chat('dep', ask('x'));
    assert.equal(reply.content, 'echo: x');
    assert.equal(h.clock.sleeps.length, 1);
    assert.ok(h.clock.sleeps[0] >= 2_000, `slept ${h.clock.sleeps[0]} ms`);
    assert.ok(h.calls('retry')[0].delayMs! >= 2_000);
  } finally {
    await h.close();
  }
});

test('Retry-After as an HTTP date on a 503 is honoured', async () => {
  const h = await single();
  try {
    h.server.setFault({ mode: 'error', status: 503, retryAfter: new Date(Date.now() + 5_000).toUTCString(), count: 1 });
    await h.gw.chat('dep', ask());
    assert.ok(h.clock.sleeps[0] >= 3_000 && h.clock.sleeps[0] <= 5_000, `slept ${h.clock.sleeps[0]} ms`);
  } finally {
    await h.close();
  }
});

test('a Retry-After longer than the remaining budget gives up at once with BudgetExceededError', async () => {
  const h = await single({ budgetMs: 10_000 });
  try {
    h.server.setFault({ mode: 'error', status: 429, retryAfter: 60 });
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof BudgetExceededError, String(e));
    assert.match(e.message, /Retry-After/);
    assert.equal(h.server.stats().chat, 1);
    assert.deepEqual(h.clock.sleeps, []);
  } finally {
    await h.close();
  }
});

test('the budget ends the retries before maxAttempts', async () => {
  const h = await single({ budgetMs: 1_000, retry: { maxAttempts: 10, baseDelayMs: 300 } });
  try {
    h.server.setFault({ mode: 'error', status: 503 });
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof BudgetExceededError, String(e));
    assert.ok(h.server.stats().chat < 10);
    assert.ok(h.clock.sleeps.reduce((a, b) => a + b, 0) < 1_000);
  } finally {
    await h.close();
  }
});

test('a hung server times out per attempt and is retried', async () => {
  const h = await single({ timeoutMs: 250, retry: { maxAttempts: 2, baseDelayMs: 1 } });
  try {
    h.server.setFault({ mode: 'hang' });
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof RetriesExhaustedError, String(e));
    assert.ok(e.cause instanceof DependencyTimeoutError);
    assert.equal(h.server.stats().chat, 2);
  } finally {
    await h.close();
  }
});

test('a refused connection is a retryable network error', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const h = await single({ url: `http://127.0.0.1:${port}/v1` });
  try {
    const e = await h.gw.chat('dep', ask()).catch((x) => x);
    assert.ok(e instanceof RetriesExhaustedError, String(e));
    assert.ok(e.cause instanceof DependencyNetworkError);
    assert.equal(e.cause.code, 'ECONNREFUSED');
    assert.equal(h.clock.sleeps.length, 2);
  } finally {
    await h.close();
  }
});

test('a content-filter refusal is not retried, in both the OpenAI and the Azure style', async () => {
  const h = await single();
  try {
    h.server.setFault({ mode: 'content-filter' });
    await assert.rejects(h.gw.chat('dep', ask()), ContentFilterError);
    h.server.setFault({ mode: 'content-filter', style: 'error' });
    await assert.rejects(h.gw.chat('dep', ask()), ContentFilterError);
    h.server.setFault({ mode: 'content-filter' });
    await assert.rejects(h.gw.chat('dep', { ...ask(), stream: true }), ContentFilterError);
    assert.equal(h.server.stats().chat, 3);
  } finally {
    await h.close();
  }
});

test('malformed JSON and a cut stream are retried; a streamed reply is assembled with usage and cost', async () => {
  const h = await single({ price: { promptPer1k: 1, completionPer1k: 2 } });
  try {
    h.server.setFault({ mode: 'malformed', count: 1 });
    assert.equal((await h.gw.chat('dep', ask('a'))).content, 'echo: a');
    h.server.setFault({ mode: 'stream-cut', count: 1 });
    const reply: ChatReply = await h.gw.chat('dep', { ...ask('one two three four'), stream: true });
    assert.equal(reply.content, 'echo: one two three four');
    assert.equal(h.server.stats().chat, 4);
    assert.equal(h.server.stats().stream, 2);
    assert.deepEqual(reply.usage, { prompt_tokens: 5, completion_tokens: 6 });
    assert.equal(reply.cost, (5 * 1 + 6 * 2) / 1000);
    assert.equal(h.gw.health('dep').retries, 2);
  } finally {
    await h.close();
  }
});

test('the config classifier retries extra statuses and stops retrying others', async () => {
  const h = await single({ classifier: { retryableStatus: [409], nonRetryableStatus: [503] } });
  try {
    h.server.setFault({ mode: 'error', status: 409 });
    await assert.rejects(h.gw.chat('dep', ask()), RetriesExhaustedError);
    assert.equal(h.server.stats().chat, 3);
    h.server.resetStats();
    h.server.setFault({ mode: 'error', status: 503 });
    await assert.rejects(h.gw.chat('dep', ask()), (e: DependencyHttpError) => e.status === 503 && !e.retryable);
    assert.equal(h.server.stats().chat, 1);
  } finally {
    await h.close();
  }
});

test('a classifier function has the last word', async () => {
  const h = await single({}, {}, { classifiers: { dep: (e, v) => ((e as DependencyHttpError).status === 500 ? { retryable: false } : v) } });
  try {
    h.server.setFault({ mode: 'error', status: 500 });
    await assert.rejects(h.gw.chat('dep', ask()), DependencyHttpError);
    assert.equal(h.server.stats().chat, 1);
  } finally {
    await h.close();
  }
});

test('an aborted call stops at once and does not count against the dependency', async () => {
  const h = await single({ timeoutMs: 5_000 });
  try {
    h.server.setFault({ mode: 'hang' });
    const ac = new AbortController();
    const p = h.gw.chat('dep', ask(), { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, /abort/i);
    assert.equal(h.gw.health('dep').failures, 0);
    assert.equal(h.gw.health('dep').breaker, 'closed');
  } finally {
    await h.close();
  }
});
