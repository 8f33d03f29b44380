/**
 * `kind: "http"` dependencies with the call's `http` options (method, path,
 * query, headers), against a real HTTP server on loopback that records what
 * it was sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayWith, OPEN_MS, delay } from './testkit.ts';
import { InvalidCallError } from './errors.ts';
import { MemoryQueueStore } from './CallQueue.ts';
import type { DependencyConfig } from './policyConfig.ts';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

/** A JSON API on 127.0.0.1 that answers with what it was sent, or with `status` when set. */
async function api() {
  const seen: Seen[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ method: req.method, url: req.url, body: body ? JSON.parse(body) : null }) : '{"error":"down"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    set status(s: number) { status = s; },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const dep = (origin: string, over: Partial<DependencyConfig> = {}): DependencyConfig => ({
  kind: 'http',
  url: `${origin}/api/`,
  retry: { maxAttempts: 1, baseDelayMs: 1 },
  breaker: { window: 2, openMs: OPEN_MS, halfOpenProbes: 1 },
  timeoutMs: 2_000,
  ...over,
});

test('method, path under the url, query and headers reach the server; GET and a DELETE of null send no body', async () => {
  const s = await api();
  const h = gatewayWith({ dependencies: { items: dep(s.origin, { headers: { 'X-Client': 'faultline' }, apiKeyEnv: 'ITEMS_KEY' }) }, env: { ITEMS_KEY: 'k-123' } });
  try {
    const got = await h.gw.call('items', null, { http: { method: 'get', path: '/items/42', query: { full: true, tag: ['a', 'b c'] }, headers: { 'X-Trace': 't1', Authorization: 'mine', 'x-client': 'other' } } });
    assert.deepEqual(got, { method: 'GET', url: '/api/items/42?full=true&tag=a&tag=b+c', body: null });
    assert.equal(s.seen[0].headers['x-trace'], 't1');
    assert.equal(s.seen[0].headers.authorization, 'Bearer k-123', 'the API key wins over a call header');
    assert.equal(s.seen[0].headers['x-client'], 'faultline', "the dependency's own headers win");
    assert.equal(s.seen[0].body, '');

    assert.deepEqual(await h.gw.call('items', { name: 'x' }, { http: { method: 'PUT', path: 'items/42' } }), { method: 'PUT', url: '/api/items/42', body: { name: 'x' } });
    assert.deepEqual(await h.gw.call('items', null, { http: { method: 'DELETE', path: '/items/42' } }), { method: 'DELETE', url: '/api/items/42', body: null });
    assert.deepEqual(await h.gw.call('items', { why: 'old' }, { http: { method: 'DELETE', path: '/items/7' } }), { method: 'DELETE', url: '/api/items/7', body: { why: 'old' } });
    // Without http options: the request POSTed as JSON to the url, as before.
    assert.deepEqual(await h.gw.call('items', { q: 1 }), { method: 'POST', url: '/api', body: { q: 1 } });
    // `..` stays on the dependency's host.
    assert.deepEqual(await h.gw.call('items', null, { http: { method: 'GET', path: '../../health' } }), { method: 'GET', url: '/health', body: null });
  } finally {
    await h.close();
    await s.close();
  }
});

test('bad http options are the caller\'s error: nothing is sent and the breaker does not count them', async () => {
  const s = await api();
  const h = gatewayWith({ dependencies: { items: dep(s.origin), chat: { kind: 'model', url: `${s.origin}/v1`, model: 'm' } }, models: { main: ['chat'] } });
  try {
    const cases: [unknown, unknown, RegExp][] = [
      [{ q: 1 }, { method: 'GET' }, /a GET call sends no body: pass null as the request and put parameters in "http.query"/],
      [null, { method: 'FETCH' }, /"http.method" must be one of GET, HEAD, POST, PUT, PATCH, DELETE/],
      [null, { verb: 'GET' }, /unknown "http" option "verb"/],
      [null, { path: 42 }, /"http.path" must be a string/],
      [null, { method: 'GET', query: { filter: { a: 1 } } }, /"http.query.filter" must be a string, number or boolean/],
      [null, { headers: { 'x-n': 1 } }, /"http.headers.x-n" must be a string/],
      [null, 'GET', /"http" must be an object/],
    ];
    for (const [request, o, re] of cases) {
      await assert.rejects(h.gw.call('items', request, { http: o }), (e: Error) => e instanceof InvalidCallError && re.test(e.message), JSON.stringify(o));
    }
    await assert.rejects(h.gw.call('chat', null, { http: { method: 'GET' } }), /"http" options are for kind "http" dependencies; this one is kind "model"/);
    await assert.rejects(h.gw.chat('main', { messages: [] }, { http: { method: 'GET' } }), /not model chats/);
    assert.equal(s.seen.length, 0, 'nothing reached the server');
    assert.equal(h.gw.health('items').breaker, 'closed');
    assert.equal(h.gw.health('items').failures, 0);
  } finally {
    await h.close();
    await s.close();
  }
});

test('degrade "cache" keeps one reply per method and URL', async () => {
  const s = await api();
  const h = gatewayWith({ dependencies: { items: dep(s.origin, { degrade: 'cache' }) } });
  try {
    const get = (id: number) => h.gw.call('items', null, { http: { method: 'GET', path: `/items/${id}` } }) as Promise<{ url: string; stale?: boolean }>;
    assert.equal((await get(1)).url, '/api/items/1');
    assert.equal((await get(2)).url, '/api/items/2');
    s.status = 503;
    const one = await get(1);
    const two = await get(2);
    assert.deepEqual([one.url, one.stale, two.url, two.stale], ['/api/items/1', true, '/api/items/2', true], 'each URL answered from its own entry');
    await assert.rejects(get(3), (e: Error) => e.name !== 'InvalidCallError', 'nothing cached for another URL');
  } finally {
    await h.close();
    await s.close();
  }
});

test('degrade "queue" replays a held call with its method, path and query', async () => {
  const s = await api();
  const h = gatewayWith({ dependencies: { orders: dep(s.origin, { degrade: 'queue' }) }, queueStore: new MemoryQueueStore() });
  try {
    s.status = 503;
    const held = (await h.gw.call('orders', { n: 1 }, { http: { method: 'PATCH', path: '/orders/9', query: { v: 2 } }, agent: 'clerk' })) as { queued?: boolean };
    assert.equal(held.queued, true);
    s.status = 200;
    h.clock.advance(OPEN_MS);
    await h.gw.call('orders', null, { http: { method: 'GET', path: '/orders' } });
    for (let i = 0; i < 100 && h.calls('replayed').length < 1; i++) await delay(10);
    assert.equal(h.calls('replayed').length, 1);
    const replay = s.seen.at(-1)!;
    assert.deepEqual([replay.method, replay.url, replay.body], ['PATCH', '/api/orders/9?v=2', '{"n":1}']);
  } finally {
    await h.close();
    await s.close();
  }
});
