/**
 * Dependencies through the runtime, end to end: agents in their own
 * processes call real HTTP mock model servers on loopback through the
 * runtime's shared policies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { probe, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

const KEY = 'sk-test-3f9c1d2e7a6b5c4d';

describe('dependencies through the runtime', () => {
  let rt: Running;
  let primary: MockModelHandle;
  let backup: MockModelHandle;
  let search: MockModelHandle;
  const events: { method: string; params: any }[] = [];

  before(async () => {
    primary = await startMockModel({ model: 'big', name: 'primary', apiKey: KEY });
    backup = await startMockModel({ model: 'small', name: 'backup' });
    search = await startMockModel({ name: 'search' });
    rt = await up(workspace({
      name: 'resilience',
      dependencies: {
        primary: { kind: 'model', url: primary.url, model: 'big', apiKeyEnv: 'PRIMARY_KEY', retry: { maxAttempts: 3, baseDelayMs: 10 }, breaker: { window: 4, failureRatio: 0.5, openMs: 1500, halfOpenProbes: 3 }, timeoutMs: 2000 },
        backup: { kind: 'model', url: backup.url, model: 'small', retry: { maxAttempts: 2, baseDelayMs: 10 } },
        search: { kind: 'http', url: `${search.origin}/search`, degrade: 'cache', retry: { maxAttempts: 2, baseDelayMs: 10 }, timeoutMs: 500 },
      },
      models: { chat: ['primary', 'backup'] },
      supervisor: { id: 'root', children: [probe('a1'), probe('a2'), probe('t1', { isolation: 'thread' })] },
    }), [], { PRIMARY_KEY: KEY });
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
    await rt.client.call('subscribe', { events: ['*'] });
    rt.client.onEvent((method, params) => events.push({ method, params }));
  });
  after(async () => {
    await rt.stop();
    await Promise.all([primary.close(), backup.close(), search.close()]);
  });

  const chat = (agent: string) => rt.client.call('ask', { agent, message: { op: 'chat', content: `hi from ${agent}` }, timeoutMs: 15_000 }) as Promise<{ content: string; dependency: string; model: string }>;

  test('ctx.model(chain).chat answers from the primary, with the key sent but kept secret', async () => {
    const r = await chat('a1');
    assert.equal(r.dependency, 'primary');
    assert.match(r.content, /hi from a1/);
    assert.equal(primary.stats().authorized, 1, 'the primary received the API key');
  });

  test('a 400 reaches the server once; a 503 is retried up to maxAttempts, then the chain falls back', async () => {
    primary.resetStats();
    primary.setFault({ mode: 'error', status: 400, count: 1 });
    const r1 = await chat('a1');
    assert.equal(primary.stats().chat, 1, 'a 400 is not retried');
    assert.equal(r1.dependency, 'backup', 'a non-retryable failure moves down the chain');
    primary.resetStats();
    primary.setFault({ mode: 'error', status: 503, count: 3 });
    const r2 = await chat('a2');
    assert.equal(primary.stats().chat, 3, 'a 503 is tried maxAttempts times');
    assert.equal(r2.dependency, 'backup');
    primary.setFault(undefined);
  });

  test('the shared breaker opens for every agent, calls fail fast without reaching the primary, and close after the probes', async () => {
    primary.setFault({ mode: 'error', status: 500 });
    for (const a of ['a1', 'a2', 't1', 'a1']) await chat(a);
    const s = await rt.until((s) => s.dependencies.find((d) => d.id === 'primary')?.breaker === 'open', 'primary breaker open');
    assert.ok(s.dependencies.find((d) => d.id === 'primary')!.errorRate > 0.5);
    primary.resetStats();
    for (const a of ['a1', 'a2', 't1']) assert.equal((await chat(a)).dependency, 'backup', `${a} switched to the backup`);
    assert.equal(primary.stats().chat, 0, 'an open breaker does not reach the server');
    assert.ok(events.some((e) => e.method === 'breaker.state' && e.params.dependency === 'primary' && e.params.state === 'open'));
    primary.setFault(undefined);
    await new Promise((r) => setTimeout(r, 1600));
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) answered.push((await chat(i % 2 ? 'a1' : 'a2')).dependency);
    assert.equal(answered.at(-1), 'primary', 'back to the primary once the probes succeed');
    await rt.until((s) => s.dependencies.find((d) => d.id === 'primary')?.breaker === 'closed', 'primary breaker closed');
  });

  test('degrade: cache serves the last good search result, marked stale, while search is down', async () => {
    const fresh = (await rt.client.call('ask', { agent: 'a1', message: { op: 'call', dependency: 'search', request: { query: 'otp' } } })) as { results: unknown[]; stale?: boolean };
    assert.equal(fresh.results.length, 3);
    assert.notEqual(fresh.stale, true);
    await rt.client.call('inject', { fault: 'blackhole', target: 'search' });
    const stale = (await rt.client.call('ask', { agent: 'a2', message: { op: 'call', dependency: 'search', request: { query: 'otp' } }, timeoutMs: 15_000 })) as { results: unknown[]; stale?: boolean };
    assert.equal(stale.stale, true);
    assert.deepEqual(stale.results, fresh.results);
    await rt.client.call('clearFault', {});
  });

  test('ctx.call with http options makes a GET under the url from process and thread agents; a bad one is refused with InvalidCallError, nothing sent', async () => {
    const before = search.stats().models;
    const requests = search.stats().requests;
    for (const agent of ['a1', 't1']) {
      const r = (await rt.client.call('ask', { agent, message: { op: 'call', dependency: 'search', http: { method: 'GET', path: '../v1/models' } } })) as { object: string; data: { id: string }[] };
      assert.equal(r.object, 'list');
      assert.equal(r.data.length, 1);
    }
    assert.equal(search.stats().models, before + 2, 'GET /v1/models reached the server');
    await assert.rejects(
      rt.client.call('ask', { agent: 'a2', message: { op: 'call', dependency: 'search', request: { query: 'x' }, http: { method: 'GET' } } }),
      /InvalidCallError: Call to dependency "search": a GET call sends no body/,
    );
    assert.equal(search.stats().requests, requests + 2, 'the refused call sent nothing');
  });

  test('ctx.health shows what the runtime knows of a dependency', async () => {
    const h = (await rt.client.call('ask', { agent: 't1', message: { op: 'health', dependency: 'primary' } })) as { id: string; breaker: string; errorRate: number };
    assert.equal(h.id, 'primary');
    assert.equal(h.breaker, 'closed');
    assert.equal(typeof h.errorRate, 'number');
  });

  test('an injected fault aimed at one call site hits only that site', async () => {
    await rt.client.call('inject', { fault: 'error', target: 'primary', params: { status: 401, point: 'risky' } });
    const safe = (await rt.client.call('ask', { agent: 'a1', message: { op: 'chat', point: 'safe' } })) as { dependency: string };
    const risky = (await rt.client.call('ask', { agent: 'a1', message: { op: 'chat', point: 'risky' } })) as { dependency: string };
    assert.deepEqual([safe.dependency, risky.dependency], ['primary', 'backup']);
    await rt.client.call('clearFault', {});
  });

  test('a call site the code does not name is targeted by file and line', async () => {
    const src = readFileSync(path.join(rt.dir, 'agents', 'probe.mjs'), 'utf8').split('\n');
    const line = src.findIndex((l) => l.includes("return ctx.model(msg.chain ?? 'chat').chat(")) + 1;
    assert.ok(line > 0);
    const { id } = await rt.client.call('inject', { fault: 'error', target: 'primary', params: { status: 401, point: `agents/probe.mjs:${line}` } });
    const hit = (await rt.client.call('ask', { agent: 'a2', message: { op: 'chat' } })) as { dependency: string };
    assert.equal(hit.dependency, 'backup');
    await rt.client.call('clearFault', { id });
    await rt.client.call('inject', { fault: 'error', target: 'primary', params: { status: 401, point: `agents/probe.mjs:${line + 1}` } });
    assert.equal(((await rt.client.call('ask', { agent: 'a2', message: { op: 'chat' } })) as { dependency: string }).dependency, 'primary', 'another line is not hit');
    await rt.client.call('clearFault', {});
  });

  test('a crash fault aimed at a call site kills the agent there, once', async () => {
    const pid = (await rt.agent('a1')).pid;
    await rt.client.call('inject', { fault: 'crash', target: 'a1', params: { point: 'boom' } });
    assert.equal(((await rt.client.call('ask', { agent: 'a1', message: { op: 'chat', point: 'calm' } })) as { dependency: string }).dependency, 'primary', 'other sites are untouched');
    await assert.rejects(rt.client.call('ask', { agent: 'a1', message: { op: 'chat', point: 'boom' } }), /InjectedCrash: injected crash at boom/);
    await rt.until((s) => agentsOf(s.tree).find((a) => a.id === 'a1')!.state === 'running' && agentsOf(s.tree).find((a) => a.id === 'a1')!.pid !== pid, 'a1 restarted');
    assert.equal(((await rt.client.call('ask', { agent: 'a1', message: { op: 'chat', point: 'boom' } })) as { dependency: string }).dependency, 'primary', 'the fault fired once');
  });

  test('the API key never appears in events, status, metrics or logs', async () => {
    const status = JSON.stringify(await rt.status());
    const metrics = await (await fetch(`http://127.0.0.1:${rt.port}/metrics`)).text();
    const logs = readFileSync(path.join(rt.dir, '.faultline', 'logs', 'runtime.log'), 'utf8');
    for (const [where, text] of [['status', status], ['metrics', metrics], ['logs', logs], ['events', JSON.stringify(events)], ['output', rt.output()]]) {
      assert.equal(text.includes(KEY), false, `the key leaked into ${where}`);
    }
    assert.ok(logs.length > 0 && events.length > 0);
  });
});
