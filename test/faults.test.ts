/** Agent faults through the catalogue (control channel and CLI), against real processes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, pidOf, probe, stateOf, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';

describe('agent faults', () => {
  let rt: Running;
  const events: any[] = [];
  before(async () => {
    rt = await up(workspace({
      name: 'faults',
      runtime: { heartbeat: { intervalMs: 100, timeoutMs: 800 } },
      supervisor: {
        id: 'root', intensity: 100, backoff: { baseMs: 10, maxMs: 50, jitter: 0 },
        children: [probe('k1'), probe('k2'), probe('c'), probe('h'), probe('s'), probe('loop'), probe('mem', { memoryMb: 48 }), probe('tm', { isolation: 'thread', memoryMb: 32 })],
      },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all running');
    await rt.client.call('subscribe', { events: ['fault'] });
    rt.client.onEvent((method, params) => { if (method === 'fault') events.push(params); });
  });
  after(() => rt.stop());

  test('kill, by glob: every matching agent gets a new pid', async () => {
    const before = await rt.status();
    const r = await rt.client.call('inject', { fault: 'kill', target: 'k*' });
    assert.match(r.id, /^f\d+$/);
    await rt.until((s) => ['k1', 'k2'].every((id) => stateOf(s, id) === 'running' && pidOf(s, id) !== pidOf(before, id)), 'k1 and k2 restarted');
    assert.equal(pidOf(await rt.status(), 'c'), pidOf(before, 'c'));
    assert.ok(events.some((e) => e.action === 'fired' && e.fault.id === r.id));
  });

  test('crash: the next message throws inside the handler and the agent restarts', async () => {
    const pid = (await rt.agent('c')).pid;
    await rt.client.call('inject', { fault: 'crash', target: 'c' });
    await assert.rejects(rt.client.call('ask', { agent: 'c', message: { op: 'echo' } }), /InjectedFault: injected crash/);
    await rt.until((s) => stateOf(s, 'c') === 'running' && pidOf(s, 'c') !== pid, 'c restarted');
    assert.equal(((await rt.client.call('ask', { agent: 'c', message: { op: 'echo', value: 1 } })) as { echo: number }).echo, 1, 'one crash only');
    assert.deepEqual(await rt.client.call('faults', {}), [], 'a spent crash fault is no longer active');
  });

  test('hang: heartbeats stop, the agent is detected, killed and restarted', async () => {
    const pid = (await rt.agent('h')).pid;
    await rt.client.call('inject', { fault: 'hang', target: 'h' });
    const s = await rt.until((s) => stateOf(s, 'h') === 'running' && pidOf(s, 'h') !== pid, 'h restarted');
    assert.match((findNode(s.tree, 'h') as { lastError: { message: string } }).lastError.message, /unresponsive/);
  });

  test('slow: handling is delayed until the fault is cleared', async () => {
    const { id } = await rt.client.call('inject', { fault: 'slow', target: 's', params: { ms: 3000 } });
    assert.equal(((await rt.client.call('faults', {})) as { id: string }[]).map((f) => f.id).includes(id), true);
    assert.equal((await rt.status() as unknown as { faults: { id: string }[] }).faults.some((f) => f.id === id), true, 'active faults show in status');
    await assert.rejects(rt.client.call('ask', { agent: 's', message: { op: 'echo' }, timeoutMs: 300 }), /did not reply within 300 ms/);
    assert.deepEqual(await rt.client.call('clearFault', { id }), { cleared: 1 });
    await new Promise((r) => setTimeout(r, 3000)); // the delayed message drains
    assert.equal(((await rt.client.call('ask', { agent: 's', message: { op: 'echo', value: 2 }, timeoutMs: 1000 })) as { echo: number }).echo, 2);
  });

  test('crash-loop: the next starts crash N times, then the agent comes back', async () => {
    const before = (await rt.agent('loop')).restarts;
    await rt.client.call('inject', { fault: 'crash-loop', target: 'loop', params: { times: 2 } });
    await rt.client.call('inject', { fault: 'kill', target: 'loop' });
    const s = await rt.until((s) => stateOf(s, 'loop') === 'running' && (findNode(s.tree, 'loop') as { restarts: number }).restarts === before + 3, 'loop back after 2 crashing starts');
    assert.match((findNode(s.tree, 'loop') as { lastError: { message: string } }).lastError.message, /crash-loop fault|exit code 1/);
  });

  test('memory: the agent grows until its heap limit and is restarted, process and thread', async () => {
    const before = await rt.status();
    await rt.client.call('inject', { fault: 'memory', target: 'mem' });
    await rt.client.call('inject', { fault: 'memory', target: 'tm' });
    const s = await rt.until((s) => stateOf(s, 'mem') === 'running' && pidOf(s, 'mem') !== pidOf(before, 'mem') && (findNode(s.tree, 'tm') as { restarts: number }).restarts === 1 && stateOf(s, 'tm') === 'running', 'mem and tm restarted', 30_000);
    assert.equal(s.runtime.pid, before.runtime.pid);
    assert.equal(pidOf(s, 'c'), pidOf(before, 'c'));
  });

  test('bad fault requests get clear errors', async () => {
    await assert.rejects(rt.client.call('inject', { fault: 'explode', target: 'c' }), /unknown fault "explode"/);
    await assert.rejects(rt.client.call('inject', { fault: 'kill', target: 'nobody*' }), /No agent matches "nobody\*"/);
    await assert.rejects(rt.client.call('inject', { fault: 'slow', target: 'c', params: { ms: -1 } }), /"ms" must be a number/);
  });

  test('CLI: inject, faults, clear', async () => {
    const i = await cli(['inject', 'slow', 's', '--ms', '50', '--duration-ms', '60000'], rt.dir);
    assert.equal(i.code, 0, i.stderr);
    const id = /^(f\d+):/.exec(i.stdout)![1];
    const f = await cli(['faults', '--json'], rt.dir);
    assert.equal(JSON.parse(f.stdout)[0].id, id);
    assert.match((await cli(['faults'], rt.dir)).stdout, new RegExp(`${id}\\s+slow\\s+s`));
    assert.equal((await cli(['clear', id], rt.dir)).code, 0);
    assert.equal((await cli(['clear', id], rt.dir)).code, 1);
    assert.equal((await cli(['inject', 'nope', 'c'], rt.dir)).code, 2, 'an unknown fault is bad usage');
    assert.equal((await cli(['inject', 'kill', 'ghost'], rt.dir)).code, 1, 'no such agent');
    assert.equal((await cli(['inject', 'slow'], rt.dir)).code, 2);
    assert.equal((await cli(['inject', 'slow', 's', '--ms', 'x'], rt.dir)).code, 2);
  });
});

describe('debugging', () => {
  test('up --inspect-agents runs agent processes under the inspector and shows their URLs', async () => {
    const rt = await up(workspace({ name: 'debug', supervisor: { id: 'root', children: [probe('d')] } }), ['--inspect-agents']);
    try {
      const s = await rt.until((s) => stateOf(s, 'd') === 'running', 'd running');
      const d = findNode(s.tree, 'd') as { inspect?: string };
      assert.match(d.inspect ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+$/);
      const port = /:(\d+)\//.exec(d.inspect!)![1];
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
      assert.equal(list[0].webSocketDebuggerUrl, d.inspect);
    } finally {
      await rt.stop();
    }
  });
});
