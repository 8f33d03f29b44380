/** send and ask, from outside and between agents, over real processes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { probe, pidOf, stateOf, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

describe('messaging', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({
      name: 'messaging',
      runtime: { askTimeoutMs: 3000 },
      supervisor: {
        id: 'root', intensity: 50, backoff: { baseMs: 10, maxMs: 50, jitter: 0 },
        children: [probe('alice'), probe('bob', { isolation: 'thread' }), probe('carol'), probe('slowpoke')],
      },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all running');
  });
  after(() => rt.stop());

  test('ask returns the agent\'s reply', async () => {
    const r = (await rt.client.call('ask', { agent: 'alice', message: { op: 'echo', value: [1, 'two'] } })) as { echo: unknown; from: string };
    assert.deepEqual(r.echo, [1, 'two']);
    assert.equal(r.from, 'alice');
  });

  test('agents ask and send each other through ctx, across processes and threads', async () => {
    const r = (await rt.client.call('ask', { agent: 'alice', message: { op: 'ask', to: 'bob', message: { op: 'echo', value: 'via alice' } } })) as { echo: string; from: string };
    assert.deepEqual([r.echo, r.from], ['via alice', 'bob']);
    await rt.client.call('ask', { agent: 'alice', message: { op: 'send', to: 'carol', message: { op: 'record', value: 'from alice' } } });
    const seen = await rt.client.call('ask', { agent: 'carol', message: { op: 'seen' } });
    assert.deepEqual(seen, ['from alice']);
  });

  test('send keeps order per sender', async () => {
    for (let i = 0; i < 50; i++) await rt.client.call('send', { agent: 'bob', message: { op: 'record', value: i } });
    const seen = (await rt.client.call('ask', { agent: 'bob', message: { op: 'seen' } })) as number[];
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
  });

  test('an ask past its timeout fails with AgentTimeoutError, and the agent goes on', async () => {
    await assert.rejects(rt.client.call('ask', { agent: 'slowpoke', message: { op: 'sleep', ms: 1500 }, timeoutMs: 200 }), (e: Error & { type?: string; code?: number }) => {
      assert.equal(e.type, 'AgentTimeoutError');
      assert.equal(e.code, -32003);
      assert.match(e.message, /did not reply within 200 ms/);
      return true;
    });
    const r = (await rt.client.call('ask', { agent: 'slowpoke', message: { op: 'echo', value: 'after' } })) as { echo: string };
    assert.equal(r.echo, 'after');
  });

  test('an agent asking another with a short timeout gets the timeout error in its handler', async () => {
    await assert.rejects(
      rt.client.call('ask', { agent: 'alice', message: { op: 'ask', to: 'slowpoke', message: { op: 'sleep', ms: 800 }, timeoutMs: 100 } }),
      /alice" failed to handle the message: AgentTimeoutError: Agent "slowpoke" did not reply within 100 ms/,
    );
  });

  test('an ask to a restarting agent waits for it within its timeout', async () => {
    await rt.until((s) => stateOf(s, 'alice') === 'running', 'alice back');
    const pid = (await rt.agent('carol')).pid!;
    process.kill(pid, 'SIGKILL');
    const r = (await rt.client.call('ask', { agent: 'carol', message: { op: 'echo', value: 'waited' }, timeoutMs: 10_000 })) as { echo: string; pid: number };
    assert.equal(r.echo, 'waited');
    assert.notEqual(r.pid, pid);
  });

  test('a handler that throws: the asker gets the error and the agent restarts from its checkpoint', async () => {
    await rt.client.call('ask', { agent: 'carol', message: { op: 'count' } });
    const pid = pidOf(await rt.status(), 'carol');
    await assert.rejects(rt.client.call('ask', { agent: 'carol', message: { op: 'throw', message: 'bad input' } }), (e: Error & { type?: string }) => {
      assert.equal(e.type, 'AgentHandlerError');
      assert.match(e.message, /carol" failed to handle the message: TypeError: bad input/);
      return true;
    });
    await rt.until((s) => stateOf(s, 'carol') === 'running' && pidOf(s, 'carol') !== pid, 'carol restarted');
    const c = (await rt.client.call('ask', { agent: 'carol', message: { op: 'count' } })) as { count: number };
    assert.equal(c.count, 2, 'state restored from the checkpoint');
  });

  test('unknown agents and bad params get clear errors', async () => {
    await assert.rejects(rt.client.call('ask', { agent: 'nobody', message: {} }), /No agent "nobody" in this system \(agents: alice, bob, carol, slowpoke\)/);
    await assert.rejects(rt.client.call('send', { agent: 'nobody', message: {} }), /No agent "nobody"/);
    await assert.rejects(rt.client.call('ask', { agent: 'alice', message: {}, timeoutMs: -5 } as never), /timeoutMs" must be a number of milliseconds/);
  });

  test('stop leaves an agent down and fails asks at once; restart brings it back', async () => {
    await rt.client.call('stop', { agent: 'slowpoke' });
    assert.equal((await rt.agent('slowpoke')).state, 'stopped');
    await assert.rejects(rt.client.call('ask', { agent: 'slowpoke', message: { op: 'echo' } }), /slowpoke" is stopped/);
    await rt.client.call('restart', { agent: 'slowpoke' });
    assert.equal((await rt.agent('slowpoke')).state, 'running');
  });
});
