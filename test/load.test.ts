/** `faultline load` against a real runtime: rates, latency percentiles, errors by type, sends, limits. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, probe, up, workspace, type Running } from './helpers/runtime.ts';

describe('faultline load', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({ name: 'load', supervisor: { id: 'root', intensity: 100, children: [probe('p1'), probe('p2'), probe('slow')] } }));
    await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'all running');
  });
  after(() => rt.stop());

  test('asks at a fixed rate, round-robin over a glob; throughput and latency percentiles', async () => {
    const r = await cli(['load', '--to', 'p*', '--rate', '50', '--duration-ms', '1000', '--message', '{"op":"count"}', '--json'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(rep.agents, ['p1', 'p2']);
    assert.equal(rep.sent, 50);
    assert.equal(rep.ok, 50);
    assert.equal(rep.failed, 0);
    assert.ok(rep.throughput > 0);
    for (const k of ['p50', 'p90', 'p99', 'max', 'mean']) assert.equal(typeof rep.latencyMs[k], 'number', k);
    assert.ok(rep.latencyMs.p50 <= rep.latencyMs.p99 && rep.latencyMs.p99 <= rep.latencyMs.max);
    assert.deepEqual(rep.messages.asks, { sent: 50, answered: 50, failed: 0 });
    // Every ask was handled once: the two counters add up to 50.
    const counts = await Promise.all(['p1', 'p2'].map((a) => rt.client.call('ask', { agent: a, message: { op: 'count' } }) as Promise<{ count: number }>));
    assert.equal(counts[0].count + counts[1].count, 52);
  });

  test('errors are counted by type, and the exit code says some failed', async () => {
    const { id } = await rt.client.call('inject', { fault: 'slow', target: 'slow', params: { ms: 2000 } });
    try {
      const r = await cli(['load', '--to', 'slow', '--rate', '10', '--duration-ms', '300', '--timeout-ms', '200', '--json'], rt.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.failed, rep.sent);
      assert.deepEqual(Object.keys(rep.errors), ['AgentTimeoutError']);
      assert.equal(rep.latencyMs, null);
      const human = await cli(['load', '--to', 'slow', '--rate', '5', '--duration-ms', '200', '--timeout-ms', '100'], rt.dir);
      assert.match(human.stdout, /error AgentTimeoutError: 1/);
    } finally {
      await rt.client.call('clearFault', { id });
    }
  });

  test('--send: accepted into the mailbox, then checked to be handled', async () => {
    const r = await cli(['load', '--to', 'p1', '--send', '--rate', '100', '--duration-ms', '500', '--message', '{"op":"record","value":"{{seq}}"}', '--json'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.kind, 'send');
    assert.deepEqual({ ...rep.messages.sends, note: undefined }, { sent: 50, accepted: 50, failed: 0, handled: 50, lost: 0, verified: true, note: undefined });
    const seen = (await rt.client.call('ask', { agent: 'p1', message: { op: 'seen' } })) as string[];
    assert.deepEqual(seen.slice(-50), Array.from({ length: 50 }, (_, i) => String(i)), 'each send handled once, in order');
  });

  test('bounded, and bad usage is refused', async () => {
    const human = await cli(['load', '--to', 'p2', '--rate', '20', '--duration-ms', '200'], rt.dir);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /ask p2 \(1 agent\) at 20\/s for 200 ms\n {2}sent 4, answered 4, failed 0/);
    assert.match(human.stdout, /latency ms: p50 [\d.]+ {2}p90/);
    assert.equal((await cli(['load', '--rate', '10', '--duration-ms', '100'], rt.dir)).code, 2, 'no --to');
    assert.equal((await cli(['load', '--to', 'p1', '--rate', '5000', '--duration-ms', '100'], rt.dir)).code, 2, 'over the rate limit');
    assert.equal((await cli(['load', '--to', 'p1', '--rate', '1000', '--duration-ms', '600000'], rt.dir)).code, 2, 'over the message limit');
    assert.equal((await cli(['load', '--to', 'p1', '--rate', '10', '--duration-ms', '100', '--message', '{nope'], rt.dir)).code, 2);
    const none = await cli(['load', '--to', 'ghost*', '--rate', '10', '--duration-ms', '100'], rt.dir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^faultline load: No agent matches "ghost\*"/);
  });
});
