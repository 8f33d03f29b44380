/**
 * Supervision against real processes: agents are forked Node processes and
 * worker threads, killed for real; the tests watch what a user would see in
 * `status`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { probe, pidOf, stateOf, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';
import { isMachineEdge, MachineResult, MachineTransitionEvent } from '../runtime/protocol/machine.ts';

const fast = { baseMs: 20, maxMs: 200, jitter: 0, resetAfterMs: 60_000 };

describe('restart strategies', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({
      name: 'strategies',
      runtime: { heartbeat: { intervalMs: 100, timeoutMs: 800 } },
      supervisor: {
        id: 'root', strategy: 'one_for_one', intensity: 50, backoff: fast,
        children: [
          probe('solo'),
          { supervisor: { id: 'all', strategy: 'one_for_all', intensity: 50, backoff: fast, children: [probe('a1'), probe('a2'), probe('a3')] } },
          { supervisor: { id: 'rest', strategy: 'rest_for_one', intensity: 50, backoff: fast, children: [probe('r1'), probe('r2'), probe('r3')] } },
          { supervisor: { id: 'threads', intensity: 50, backoff: fast, children: [probe('t1', { isolation: 'thread' }), probe('t2', { isolation: 'thread' })] } },
          probe('trans', { restart: 'transient' }),
          probe('temp', { restart: 'temporary' }),
          probe('hangs'),
          { supervisor: { id: 'withtemp', strategy: 'one_for_all', intensity: 50, backoff: fast, children: [probe('w1'), probe('wtemp', { restart: 'temporary' })] } },
        ],
      },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all agents running');
  });
  after(() => rt.stop());

  test('SIGKILL: the agent is restarted with a new pid; the runtime and the others are untouched', async () => {
    const before = await rt.status();
    const pid = pidOf(before, 'solo')!;
    process.kill(pid, 'SIGKILL');
    const s = await rt.until((s) => stateOf(s, 'solo') === 'running' && pidOf(s, 'solo') !== pid, 'solo restarted');
    const solo = findNode(s.tree, 'solo') as { restarts: number };
    assert.equal(solo.restarts, 1);
    assert.equal(s.runtime.pid, before.runtime.pid);
    assert.equal(pidOf(s, 'a1'), pidOf(before, 'a1'));
    const reply = await rt.client.call('ask', { agent: 'solo', message: { op: 'echo', value: 1 } });
    assert.equal((reply as { pid: number }).pid, pidOf(s, 'solo'));
  });

  test('one_for_all: killing one agent restarts all its siblings', async () => {
    const before = await rt.status();
    const pids = ['a1', 'a2', 'a3'].map((id) => pidOf(before, id));
    process.kill(pids[1]!, 'SIGKILL');
    const s = await rt.until((s) => ['a1', 'a2', 'a3'].every((id, i) => stateOf(s, id) === 'running' && pidOf(s, id) !== pids[i]), 'all of a1..a3 with new pids');
    assert.equal((findNode(s.tree, 'all') as { restarts: number }).restarts, 1);
    assert.equal(pidOf(s, 'solo'), pidOf(before, 'solo'));
  });

  test('rest_for_one: only the failed agent and the later siblings restart', async () => {
    const before = await rt.status();
    const [p1, p2, p3] = ['r1', 'r2', 'r3'].map((id) => pidOf(before, id));
    process.kill(p2!, 'SIGKILL');
    const s = await rt.until((s) => stateOf(s, 'r2') === 'running' && stateOf(s, 'r3') === 'running' && pidOf(s, 'r2') !== p2 && pidOf(s, 'r3') !== p3, 'r2 and r3 restarted');
    assert.equal(pidOf(s, 'r1'), p1, 'r1 (started before r2) keeps its process');
  });

  test('thread isolation: a crashing thread is restarted and the runtime lives on', async () => {
    const before = await rt.status();
    const t1 = findNode(before.tree, 't1') as { threadId: number };
    await rt.client.call('ask', { agent: 't1', message: { op: 'exit', code: 3 } });
    const s = await rt.until((s) => stateOf(s, 't1') === 'running' && (findNode(s.tree, 't1') as { threadId: number }).threadId !== t1.threadId, 't1 on a new thread');
    assert.equal(s.runtime.pid, before.runtime.pid);
    assert.equal((findNode(s.tree, 't2') as { threadId: number }).threadId, (findNode(before.tree, 't2') as { threadId: number }).threadId);
    assert.equal(((await rt.client.call('ask', { agent: 't1', message: { op: 'echo', value: 'ok' } })) as { echo: string }).echo, 'ok');
  });

  test('transient: restarted after a crash, not after a normal exit', async () => {
    const pid = (await rt.agent('trans')).pid;
    await rt.client.call('ask', { agent: 'trans', message: { op: 'exit', code: 1 } });
    await rt.until((s) => stateOf(s, 'trans') === 'running' && pidOf(s, 'trans') !== pid, 'trans restarted after exit 1');
    await rt.client.call('ask', { agent: 'trans', message: { op: 'exit', code: 0 } });
    const s = await rt.until((s) => stateOf(s, 'trans') === 'stopped', 'trans stopped after exit 0');
    assert.equal(pidOf(s, 'trans'), null);
    await assert.rejects(rt.client.call('ask', { agent: 'trans', message: { op: 'echo' } }), /is stopped/);
  });

  test('temporary: never restarted', async () => {
    process.kill((await rt.agent('temp')).pid!, 'SIGKILL');
    await rt.until((s) => stateOf(s, 'temp') === 'failed', 'temp failed');
    // Failed by its supervisor's decision (GIVE_UP), with no restart waiting: nothing will restart it.
    const temp = await rt.client.call('machine', { id: 'temp' });
    assert.equal(temp.value, 'failed');
    assert.equal(temp.context.reason, 'killed (SIGKILL)');
    const root = await rt.client.call('machine', { id: 'root' });
    assert.ok(!('temp' in (root.context.pending as object)), 'no restart of temp is pending');
    assert.equal((await rt.agent('temp')).state, 'failed');
  });

  test('a temporary sibling taken down by a one_for_all restart stays down', async () => {
    const pid = pidOf(await rt.status(), 'w1')!;
    process.kill(pid, 'SIGKILL');
    const s = await rt.until((s) => stateOf(s, 'w1') === 'running' && pidOf(s, 'w1') !== pid, 'w1 restarted');
    assert.equal(stateOf(s, 'wtemp'), 'stopped');
    assert.equal(pidOf(s, 'wtemp'), null);
    const sup = await rt.client.call('machine', { id: 'withtemp' });
    assert.equal(sup.value, 'running');
    assert.deepEqual(sup.context.pending, {});
  });

  test('an uncaught exception in one agent restarts only that agent', async () => {
    const before = await rt.status();
    const pid = pidOf(before, 'solo');
    await rt.client.call('ask', { agent: 'solo', message: { op: 'uncaught' } });
    const s = await rt.until((s) => stateOf(s, 'solo') === 'running' && pidOf(s, 'solo') !== pid, 'solo restarted after an uncaught exception');
    assert.equal(pidOf(s, 'a1'), pidOf(before, 'a1'));
    assert.equal((await rt.agent('solo')).lastError?.type, 'AgentCrash');
  });

  test('a hung agent (busy loop) misses its heartbeats, is killed and restarted', async () => {
    const pid = (await rt.agent('hangs')).pid;
    await rt.client.call('ask', { agent: 'hangs', message: { op: 'hang' } });
    const s = await rt.until((s) => stateOf(s, 'hangs') === 'running' && pidOf(s, 'hangs') !== pid, 'hangs restarted');
    const hangs = findNode(s.tree, 'hangs') as { lastError?: { message: string } };
    assert.match(hangs.lastError!.message, /unresponsive \(no heartbeat/);
  });

  test('machine: a killed agent streams exited → backoff/restarting → starting → running, each an edge of its definition', async () => {
    const seen: MachineTransitionEvent[] = [];
    let backRunning!: () => void;
    const running = new Promise<void>((r) => (backRunning = r));
    const sub = rt.client.onEvent((method, p) => {
      if (method !== 'machine.transition' || p.id !== 'solo') return;
      seen.push(p);
      if (p.to.startsWith('running')) backRunning();
    });
    await rt.client.call('subscribe', { events: ['machine.transition'] });
    const before = await rt.client.call('machine', { id: 'solo' });
    assert.deepEqual(before.value, { running: 'live' });
    const pid = pidOf(await rt.status(), 'solo')!;
    process.kill(pid, 'SIGKILL');
    await rt.until((s) => stateOf(s, 'solo') === 'running' && pidOf(s, 'solo') !== pid, 'solo restarted');
    await running;
    sub.dispose();
    const tops = seen.map((t) => t.to.split('.')[0]).filter((s, i, a) => s !== a[i - 1]);
    assert.deepEqual(tops.filter((s) => s !== 'backoff' && s !== 'restarting'), ['exited', 'starting', 'running'], `went ${seen.map((t) => t.to).join(' → ')}`);
    assert.ok(tops[1] === 'backoff' || tops[1] === 'restarting', `through backoff or restarting: ${tops.join(' → ')}`);
    for (const t of seen) {
      assert.doesNotThrow(() => MachineTransitionEvent.parse(t));
      assert.equal(t.kind, 'agent');
      assert.ok(isMachineEdge(before.definition, t), `${t.from} → ${t.to} on ${t.event} is an edge of the definition`);
    }
    const after = await rt.client.call('machine', { id: 'solo' });
    assert.equal(MachineResult.parse(after).id, 'solo');
    assert.ok((after.context.incarnation as number) > (before.context.incarnation as number));
    const root = await rt.client.call('machine', { id: 'root' });
    assert.equal((root.definition as { id: string }).id, 'supervisor');
    await assert.rejects(rt.client.call('machine', { id: 'nobody' }), /No agent or supervisor "nobody"/);
  });
});

describe('isolation from bad agents', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({
      name: 'bad',
      supervisor: {
        id: 'root', intensity: 20, backoff: fast,
        children: [
          probe('good'),
          { agent: { id: 'syntax', module: 'agents/bad-syntax.mjs' } },
          { agent: { id: 'missing', module: 'agents/nope.mjs' } },
          { agent: { id: 'nohandler', module: 'agents/no-handler.mjs' } },
          { agent: { id: 'initthrows', module: 'agents/init-throws.mjs', isolation: 'thread' } },
          { agent: { id: 'typed', module: 'agents/typed.ts' } },
          probe('hog', { memoryMb: 48 }),
          probe('last'),
        ],
      },
    }));
    await rt.until((s) => stateOf(s, 'last') === 'running' && stateOf(s, 'typed') === 'running', 'the good agents running');
  });
  after(() => rt.stop());

  test('a bad module leaves that agent failed with the error; the rest of the tree runs', async () => {
    const s = await rt.until((s) => ['syntax', 'missing', 'nohandler', 'initthrows'].every((id) => stateOf(s, id) === 'failed'), 'bad agents failed');
    const err = (id: string) => (findNode(s.tree, id) as { lastError: { type: string; message: string } }).lastError;
    assert.equal(err('syntax').type, 'SyntaxError');
    assert.match(err('missing').message, /module not found: .*nope\.mjs/);
    assert.match(err('nohandler').message, /onMessage/);
    assert.equal(err('initthrows').type, 'RangeError');
    assert.match(err('initthrows').message, /init refuses to start/);
    assert.equal(stateOf(s, 'good'), 'running');
    assert.equal(stateOf(s, 'root'), 'running');
    await assert.rejects(rt.client.call('ask', { agent: 'syntax', message: {} }), /is failed/);
    assert.match(rt.output(), /agent syntax starting -> failed .*SyntaxError/);
  });

  test('a TypeScript agent module runs', async () => {
    assert.deepEqual(await rt.client.call('ask', { agent: 'typed', message: { add: 2 } }), { n: 2 });
  });

  test('a memory blow-up hits the agent\'s heap limit and only that agent restarts', async () => {
    const before = await rt.status();
    const pid = pidOf(before, 'hog');
    await rt.client.call('ask', { agent: 'hog', message: { op: 'oom' } });
    const s = await rt.until((s) => stateOf(s, 'hog') === 'running' && pidOf(s, 'hog') !== pid, 'hog restarted', 30_000);
    assert.equal(pidOf(s, 'good'), pidOf(before, 'good'));
    assert.equal(s.runtime.pid, before.runtime.pid);
  });
});

describe('restart intensity', () => {
  test('a nested supervisor over its intensity escalates; its parent restarts it afresh', async () => {
    const rt = await up(workspace({
      name: 'escalate',
      supervisor: {
        id: 'root', intensity: 10, backoff: fast,
        children: [probe('steady'), { supervisor: { id: 'sub', intensity: 1, periodMs: 60_000, backoff: { ...fast, baseMs: 0 }, children: [probe('flaky'), probe('peer')] } }],
      },
    }));
    try {
      await rt.until((s) => stateOf(s, 'peer') === 'running', 'running');
      const steady = (await rt.agent('steady')).pid;
      process.kill((await rt.agent('flaky')).pid!, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'flaky') === 'running' && (findNode(s.tree, 'sub') as { restarts: number }).restarts === 1, 'first restart inside sub');
      const peer = (await rt.agent('peer')).pid;
      process.kill((await rt.agent('flaky')).pid!, 'SIGKILL');
      const s = await rt.until((s) => (findNode(s.tree, 'root') as { restarts: number }).restarts === 1 && stateOf(s, 'sub') === 'running' && stateOf(s, 'peer') === 'running', 'root restarted sub');
      assert.notEqual(pidOf(s, 'peer'), peer, 'sub stopped all its children when it failed');
      assert.equal((findNode(s.tree, 'sub') as { restarts: number }).restarts, 0, 'sub starts afresh');
      assert.equal(pidOf(s, 'steady'), steady);
      assert.match(rt.output(), /supervisor sub \w+ -> (stopping|failed)/);
    } finally {
      await rt.stop();
    }
  });

  test('the root over its intensity stops the runtime with a clear message and a non-zero exit', async () => {
    const rt = await up(workspace({
      name: 'doomed',
      supervisor: { id: 'root', intensity: 1, periodMs: 60_000, backoff: { ...fast, baseMs: 0 }, children: [probe('victim'), probe('bystander')] },
    }));
    try {
      await rt.until((s) => stateOf(s, 'bystander') === 'running', 'running');
      const bystander = (await rt.agent('bystander')).pid!;
      process.kill((await rt.agent('victim')).pid!, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'victim') === 'running' && (findNode(s.tree, 'root') as { restarts: number }).restarts === 1, 'one restart');
      process.kill((await rt.agent('victim')).pid!, 'SIGKILL');
      const { code } = await rt.exited;
      assert.equal(code, 1);
      assert.match(rt.output(), /root supervisor "root" failed .*restart intensity exceeded: more than 1 restarts within 60000 ms/);
      assert.throws(() => process.kill(bystander, 0), /ESRCH/, 'agents were stopped with the runtime');
    } finally {
      await rt.stop();
    }
  });
});
