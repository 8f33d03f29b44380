/**
 * Degrade modes when a dependency is unavailable, against the mock server's
 * search tool (`kind: "http"`) and chat endpoint: fail, skip, cache (stale
 * last good reply for the same request) and queue (held, replayed once the
 * breaker closes, counted at the server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMockModel, type MockModelHandle } from '../mockModel/MockModelServer.ts';
import { gatewayWith, modelDep, ask, delay, OPEN_MS } from './testkit.ts';
import { BreakerOpenError, DependencyHttpError, QueueFullError, RetriesExhaustedError, isQueued, isUnavailable } from './errors.ts';
import { MemoryQueueStore } from './CallQueue.ts';
import type { DependencyConfig } from './policyConfig.ts';

function search(server: MockModelHandle, over: Partial<DependencyConfig> = {}): DependencyConfig {
  return { kind: 'http', url: `${server.origin}/search`, retry: { maxAttempts: 1, baseDelayMs: 1 }, breaker: { window: 2, openMs: OPEN_MS, halfOpenProbes: 3 }, timeoutMs: 2_000, ...over };
}

async function withSearch(over: Partial<DependencyConfig>, extra: { queueStore?: MemoryQueueStore; queueLimit?: number } = {}) {
  const server = await startMockModel();
  const h = gatewayWith({ dependencies: { search: search(server, over) }, ...extra }, [server]);
  return { ...h, server };
}

test('fail (the default) passes the error on', async () => {
  const h = await withSearch({});
  try {
    assert.deepEqual(((await h.gw.call('search', { query: 'otp' })) as { results: unknown[] }).results.length, 3);
    h.server.setFault({ mode: 'error', status: 503 });
    await assert.rejects(h.gw.call('search', { query: 'otp' }), RetriesExhaustedError);
  } finally {
    await h.close();
  }
});

test('skip returns a typed unavailable result, also while the breaker is open', async () => {
  const h = await withSearch({ degrade: 'skip' });
  try {
    h.server.setFault({ mode: 'error', status: 503 });
    const r = await h.gw.call('search', { query: 'otp' });
    assert.ok(isUnavailable(r), JSON.stringify(r));
    assert.equal(r.dependency, 'search');
    assert.equal(r.reason, 'RetriesExhaustedError');
    await h.gw.call('search', { query: 'otp' });
    assert.equal(h.gw.health('search').breaker, 'open');
    const open = await h.gw.call('search', { query: 'otp' });
    assert.ok(isUnavailable(open) && open.reason === 'BreakerOpenError');
    assert.equal(h.calls('degraded').length, 3);
    assert.equal(h.gw.health('search').degraded, 3);
  } finally {
    await h.close();
  }
});

test('a rejected request is not degraded: it is the caller to fix', async () => {
  const h = await withSearch({ degrade: 'skip' });
  try {
    h.server.setFault({ mode: 'error', status: 400 });
    await assert.rejects(h.gw.call('search', { query: 'x' }), DependencyHttpError);
  } finally {
    await h.close();
  }
});

test('cache answers with the last good reply for the same request, marked stale', async () => {
  const h = await withSearch({ degrade: 'cache' });
  try {
    const fresh = (await h.gw.call('search', { query: 'otp', page: 1 })) as Record<string, unknown>;
    assert.equal(fresh.stale, undefined);
    h.server.setFault({ mode: 'error', status: 503 });
    // Same request, keys in another order: a hit.
    const stale = (await h.gw.call('search', { page: 1, query: 'otp' })) as Record<string, unknown>;
    assert.equal(stale.stale, true);
    assert.equal(typeof stale.cachedAt, 'string');
    assert.deepEqual(stale.results, fresh.results);
    // Another request: no cached reply, so the failure stands.
    await assert.rejects(h.gw.call('search', { query: 'other' }), /breaker|failed/i);
    assert.equal(h.calls('degraded')[0].mode, 'cache');
  } finally {
    await h.close();
  }
});

test('a model chain that fails entirely answers from the cache of one of its models', async () => {
  const primary = await startMockModel();
  const backup = await startMockModel();
  const h = gatewayWith(
    {
      dependencies: {
        primary: modelDep(primary, { retry: { maxAttempts: 1, baseDelayMs: 1 } }),
        backup: modelDep(backup, { retry: { maxAttempts: 1, baseDelayMs: 1 }, degrade: 'cache' }),
      },
      models: { chat: ['primary', 'backup'] },
    },
    [primary, backup],
  );
  try {
    primary.setFault({ mode: 'error', status: 500 });
    const fresh = await h.gw.chat('chat', ask('q'));
    assert.equal(fresh.dependency, 'backup');
    backup.setFault({ mode: 'error', status: 500 });
    const stale = await h.gw.chat('chat', { ...ask('q'), stream: true });
    assert.equal(stale.stale, true);
    assert.equal(stale.content, 'echo: q');
    assert.equal(stale.dependency, 'backup');
  } finally {
    await h.close();
  }
});

test('queue holds calls while the dependency is down and replays them once its breaker closes', async () => {
  const store = new MemoryQueueStore();
  const h = await withSearch({ degrade: 'queue' }, { queueStore: store });
  try {
    h.server.setFault({ mode: 'error', status: 503 });
    const receipts = [];
    for (const q of ['a', 'b', 'c']) receipts.push(await h.gw.call('search', { query: q }, { agent: 'writer' }));
    assert.ok(receipts.every(isQueued), JSON.stringify(receipts));
    assert.equal(h.gw.health('search').breaker, 'open');
    assert.equal(h.gw.health('search').queued, 3);
    const atServer = h.server.stats().search;
    assert.equal(atServer, 2, 'the third call was held without reaching the server');

    h.server.setFault(undefined);
    h.clock.advance(OPEN_MS);
    // Probes close the breaker; the close replays the held calls.
    for (let i = 0; i < 3; i++) await h.gw.call('search', { query: `probe${i}` });
    assert.equal(h.gw.health('search').breaker, 'closed');
    for (let i = 0; i < 50 && h.calls('replayed').length < 3; i++) await delay(10);
    assert.deepEqual(
      h.calls('replayed').map((e) => e.id),
      receipts.map((r) => (r as { id: string }).id),
    );
    assert.equal(h.server.stats().search, atServer + 3 + 3);
    assert.equal(h.gw.health('search').queued, 0);
    assert.deepEqual(store.list('search'), []);
    assert.equal(h.calls('replayed')[0].agent, 'writer');
  } finally {
    await h.close();
  }
});

test('queue: a durable store is replayed on start, and a full queue refuses the call', async () => {
  const server = await startMockModel();
  const store = new MemoryQueueStore();
  store.add({ id: 'held-1', dependency: 'search', request: { query: 'from before' }, queuedAt: new Date().toISOString() });
  const h = gatewayWith({ dependencies: { search: search(server, { degrade: 'queue' }) }, queueStore: store, queueLimit: 1 }, [server]);
  try {
    for (let i = 0; i < 50 && store.list('search').length > 0; i++) await delay(10);
    assert.deepEqual(store.list('search'), []);
    assert.equal(server.stats().search, 1);

    h.gw.isolate('search');
    assert.ok(isQueued(await h.gw.call('search', { query: 'x' })));
    await assert.rejects(h.gw.call('search', { query: 'y' }), QueueFullError);
  } finally {
    await h.close();
  }
});

test('an isolated dependency with degrade fail rejects at once', async () => {
  const h = await withSearch({});
  try {
    h.gw.isolate('search');
    await assert.rejects(h.gw.call('search', { query: 'x' }), BreakerOpenError);
    assert.equal(h.server.stats().search, 0);
  } finally {
    await h.close();
  }
});
