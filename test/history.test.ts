/**
 * Time travel through a running runtime, as a user drives it (the CLI and
 * the control channel): one checkpoint's state, a restore that appends a
 * checkpoint and keeps the inbox, a fork that runs beside the original
 * (and a fork of a fork), retention pruning the source of a restore, and
 * every refusal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, probe, stateOf, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';
import { PostgresServer, RedisServer } from './helpers/servers.ts';

const running = (s: { tree: any }) => agentsOf(s.tree).every((a) => a.state === 'running');
const count = (rt: Running, agent: string) => rt.client.call('ask', { agent, message: { op: 'count' } }) as Promise<{ count: number }>;
type Row = { seq: number; kind: string; valid: boolean };
const rows = async (rt: Running, agent: string) => (await rt.client.call('checkpoints', { agent })) as Row[];

/** The seq of the agent's newest checkpoint whose state has `count` n. */
async function seqOf(rt: Running, agent: string, n: number): Promise<number> {
  for (const r of (await rows(rt, agent)).reverse()) {
    const c = (await rt.client.call('checkpoint.get', { agent, seq: r.seq })) as { state: { count?: number } };
    if (c.state?.count === n) return r.seq;
  }
  throw new Error(`${agent} has no checkpoint with count ${n}`);
}

/** The JSON-RPC error a call is refused with. */
async function refused(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: number; message: string };
  }
  throw new Error('the call was not refused');
}

describe('time travel', () => {
  test('checkpoint prints one state; restore restarts the agent from it, appends a restore checkpoint and keeps its inbox', async () => {
    const rt = await up(workspace({ name: 'restore', supervisor: { id: 'root', children: [probe('w'), probe('other')] } }));
    try {
      await rt.until(running, 'running');
      for (let i = 1; i <= 4; i++) assert.deepEqual(await count(rt, 'w'), { count: i });
      const one = await seqOf(rt, 'w', 1);

      const json = await cli(['checkpoint', 'w', String(one), '--json'], rt.dir);
      assert.equal(json.code, 0, json.stderr);
      const c = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(c).sort(), ['agent', 'kind', 'seq', 'size', 'state', 'time', 'valid', 'version']);
      assert.deepEqual([c.agent, c.seq, c.kind, c.version, c.valid, c.state], ['w', one, 'full', 1, true, { count: 1 }]);
      assert.equal(c.size, Buffer.byteLength(JSON.stringify(c.state)));
      const pretty = await cli(['checkpoint', 'w', String(one)], rt.dir);
      assert.equal(pretty.code, 0, pretty.stderr);
      assert.equal(pretty.stdout, `${JSON.stringify({ count: 1 }, null, 2)}\n`);

      // Messages sent while it is down wait in its inbox, and go to it after the restore.
      const before = await rows(rt, 'w');
      await rt.client.call('stop', { agent: 'w' });
      await rt.client.call('send', { agent: 'w', message: { op: 'count' } });
      await rt.client.call('send', { agent: 'w', message: { op: 'count' } });
      const r = await cli(['restore', 'w', String(one), '--json'], rt.dir);
      assert.equal(r.code, 0, r.stderr);
      const restored = JSON.parse(r.stdout);
      assert.deepEqual([restored.agent, restored.from, restored.state], ['w', one, 'running']);
      assert.ok(restored.seq > before.at(-1)!.seq, 'a new checkpoint');
      assert.deepEqual(await count(rt, 'w'), { count: 4 }, 'restored at 1, then the two waiting sends, then this ask');
      const after = await rows(rt, 'w');
      assert.deepEqual(after.slice(0, before.length).map((x) => x.seq), before.map((x) => x.seq), 'history is not rewritten');
      const copy = after.find((x) => x.seq === restored.seq)!;
      assert.equal(copy.kind, 'restore');
      assert.deepEqual(((await rt.client.call('checkpoint.get', { agent: 'w', seq: restored.seq })) as { state: unknown }).state, { count: 1 });
      assert.deepEqual(await count(rt, 'other'), { count: 1 }, 'the other agent is untouched');

      // Restore after a crash: the supervisor brought it back from its latest; restore takes it back further.
      process.kill((await rt.agent('w')).pid!, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'w') === 'running' && (findNode(s.tree, 'w') as { restarts: number }).restarts === 1, 'w restarted');
      assert.deepEqual(await count(rt, 'w'), { count: 5 });
      const two = await seqOf(rt, 'w', 2);
      const t = await cli(['restore', 'w', String(two)], rt.dir);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, new RegExp(`^w: restored from checkpoint #${two} \\(now #\\d+, kind restore\\); running`));
      assert.deepEqual(await count(rt, 'w'), { count: 3 });
    } finally {
      await rt.stop();
    }
  });

  test('fork starts a temporary agent under the same supervisor from a checkpoint; the original is untouched; a fork forks again', async () => {
    const rt = await up(workspace({ name: 'fork', supervisor: { id: 'root', children: [{ supervisor: { id: 'crew', strategy: 'one_for_one', children: [probe('w')] } }] } }));
    try {
      await rt.until(running, 'running');
      for (let i = 1; i <= 3; i++) await count(rt, 'w');
      const two = await seqOf(rt, 'w', 2);
      const f = (await rt.client.call('agent.fork', { agent: 'w', seq: two, as: 'w-fork' })) as Record<string, unknown>;
      assert.deepEqual({ ...f, seq: undefined }, { agent: 'w-fork', from: { agent: 'w', seq: two }, seq: undefined, supervisor: 'crew', state: 'running' });
      const s = await rt.status();
      const crew = findNode(s.tree, 'crew') as { children: { id: string; restart?: string; state: string; module?: string }[] };
      const node = crew.children.find((c) => c.id === 'w-fork');
      assert.deepEqual([node?.state, node?.restart, node?.module], ['running', 'temporary', 'agents/probe.mjs']);
      assert.deepEqual((await rows(rt, 'w-fork')).map((r) => [r.seq, r.kind]), [[f.seq, 'fork']]);

      assert.deepEqual(await count(rt, 'w-fork'), { count: 3 }, 'the fork answers from the forked state (2)');
      assert.deepEqual(await count(rt, 'w-fork'), { count: 4 });
      assert.deepEqual(await count(rt, 'w'), { count: 4 }, 'the original goes on from its own state (3)');
      assert.deepEqual(((await rt.client.call('ask', { agent: 'w-fork', message: { op: 'echo', value: 1 } })) as { from: string }).from, 'w-fork');

      // A fork of the fork, through the CLI.
      const fourInFork = await seqOf(rt, 'w-fork', 4);
      const ff = await cli(['fork', 'w-fork', String(fourInFork), '--as', 'w-fork-2'], rt.dir);
      assert.equal(ff.code, 0, ff.stderr);
      assert.match(ff.stdout, new RegExp(`^w-fork-2: forked from w-fork checkpoint #${fourInFork} under crew \\(temporary\\); running`));
      assert.deepEqual(await count(rt, 'w-fork-2'), { count: 5 });
      assert.deepEqual(await count(rt, 'w-fork'), { count: 5 });

      // Temporary: when it exits it stays down; the others are not restarted.
      const wPid = (await rt.agent('w')).pid;
      await rt.client.call('ask', { agent: 'w-fork', message: { op: 'exit', code: 1 } });
      await rt.until((st) => stateOf(st, 'w-fork') === 'failed' || stateOf(st, 'w-fork') === 'stopped', 'the fork down');
      await new Promise((r) => setTimeout(r, 500));
      const st = await rt.status();
      assert.ok(['failed', 'stopped'].includes(stateOf(st, 'w-fork')!), 'not restarted');
      assert.equal((findNode(st.tree, 'w-fork') as { restarts: number }).restarts, 0);
      assert.equal((await rt.agent('w')).pid, wPid);
      assert.equal(stateOf(st, 'w-fork-2'), 'running');

      // A fork restores like any agent.
      const r = (await rt.client.call('agent.restore', { agent: 'w-fork-2', seq: await seqOf(rt, 'w-fork-2', 4) })) as { state: string };
      assert.equal(r.state, 'running');
      assert.deepEqual(await count(rt, 'w-fork-2'), { count: 5 });

      // Its supervisor started afresh from the config: the forks are gone, the original is back.
      await rt.client.call('restart', { agent: 'crew' });
      const fresh = await rt.until((x) => stateOf(x, 'w') === 'running', 'crew running again');
      assert.deepEqual((findNode(fresh.tree, 'crew') as { children: { id: string }[] }).children.map((c) => c.id), ['w']);
      assert.match((await refused(count(rt, 'w-fork-2'))).message, /No agent "w-fork-2" in this system \(agents: w\)/);
      assert.deepEqual(await count(rt, 'w'), { count: 5 });
    } finally {
      await rt.stop();
    }
  });

  test('a fork does not come back with the next run of the runtime; its id can be forked again, with an empty inbox', async () => {
    const dir = workspace({ name: 'fork-restart', supervisor: { id: 'root', children: [probe('w')] } });
    const first = await up(dir);
    await first.until(running, 'running');
    for (let i = 1; i <= 2; i++) await count(first, 'w');
    const one = await seqOf(first, 'w', 1);
    await first.client.call('agent.fork', { agent: 'w', seq: one, as: 'f' });
    // A message left in the fork's inbox when the runtime goes: a new fork of that id does not get it.
    await first.client.call('stop', { agent: 'f' });
    await first.client.call('send', { agent: 'f', message: { op: 'count' } });
    first.proc.kill('SIGTERM');
    await first.exited;
    const second = await up(dir);
    try {
      const s = await second.until(running, 'running again');
      assert.equal(findNode(s.tree, 'f'), undefined, 'the fork is gone');
      assert.match((await refused(second.client.call('checkpoints', { agent: 'f' }))).message, /No agent "f"/);
      assert.deepEqual(await count(second, 'w'), { count: 3 });
      await second.client.call('agent.fork', { agent: 'w', seq: one, as: 'f' });
      assert.deepEqual(await count(second, 'f'), { count: 2 }, 'from the forked state, without the old message');
    } finally {
      await second.stop();
    }
  });

  test('refusals: unknown agent, unknown or pruned seq, a corrupt checkpoint, a taken or invalid fork id', async () => {
    const rt = await up(workspace({ name: 'refuse', checkpoints: { store: 'sqlite', retain: 3 }, supervisor: { id: 'root', children: [probe('w')] } }));
    try {
      await rt.until(running, 'running');
      for (let i = 1; i <= 6; i++) await count(rt, 'w');
      const kept = (await rows(rt, 'w')).map((r) => r.seq);
      assert.equal(kept.length, 3);

      for (const [method, params] of [['checkpoint.get', { agent: 'nope', seq: 1 }], ['agent.restore', { agent: 'nope', seq: 1 }], ['agent.fork', { agent: 'nope', seq: 1, as: 'x' }]] as const) {
        const e = await refused(rt.client.call(method, params as never));
        assert.match(e.message, /No agent "nope" in this system \(agents: w\)/, method);
      }
      for (const args of [['checkpoint', 'nope', '1'], ['restore', 'nope', '1'], ['fork', 'nope', '1', '--as', 'x']]) {
        const r = await cli(args, rt.dir);
        assert.equal(r.code, 1, args.join(' '));
        assert.match(r.stderr, /No agent "nope"/);
      }

      // Seq 1 was pruned by retention (retain 3).
      const e = await refused(rt.client.call('agent.restore', { agent: 'w', seq: 1 }));
      assert.match(e.message, new RegExp(`Agent "w" has no checkpoint #1 \\(kept: #${kept[0]}-${kept[2]}\\)`));
      const r1 = await cli(['checkpoint', 'w', '999'], rt.dir);
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /no checkpoint #999/);
      const bad = await cli(['checkpoint', 'w', 'abc'], rt.dir);
      assert.equal(bad.code, 2, 'a seq that is not a number is bad usage');

      // A corrupt checkpoint is refused by all three, and nothing changes.
      await rt.client.call('inject', { fault: 'corrupt-checkpoint', target: 'w' });
      const corrupt = kept[2];
      for (const [method, params] of [['checkpoint.get', { agent: 'w', seq: corrupt }], ['agent.restore', { agent: 'w', seq: corrupt }], ['agent.fork', { agent: 'w', seq: corrupt, as: 'x' }]] as const) {
        const err = await refused(rt.client.call(method, params as never));
        assert.match(err.message, new RegExp(`Checkpoint #${corrupt} of agent "w" is corrupt \\(checksum mismatch`), method);
      }
      const rc = await cli(['restore', 'w', String(corrupt)], rt.dir);
      assert.equal(rc.code, 1);
      assert.match(rc.stderr, /is corrupt/);
      assert.equal(findNode((await rt.status()).tree, 'x'), undefined, 'no fork was started');

      // Fork ids: one taken by an agent or a supervisor, one that is not an id.
      const good = kept[1];
      assert.match((await refused(rt.client.call('agent.fork', { agent: 'w', seq: good, as: 'w' }))).message, /already an agent "w"/);
      assert.match((await refused(rt.client.call('agent.fork', { agent: 'w', seq: good, as: 'root' }))).message, /already a supervisor "root"/);
      const invalid = await refused(rt.client.call('agent.fork', { agent: 'w', seq: good, as: 'not an id!' }));
      assert.equal(invalid.code, -32602);
      assert.match(invalid.message, /agent\.fork "as" must be 1-64 letters/);
      const taken = await cli(['fork', 'w', String(good), '--as', 'w'], rt.dir);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /already an agent "w"/);
      const noAs = await cli(['fork', 'w', String(good)], rt.dir);
      assert.equal(noAs.code, 2);

      // The source of a restore may be pruned afterwards: the restore copy holds the state.
      const stateAtGood = ((await rt.client.call('checkpoint.get', { agent: 'w', seq: good })) as { state: { count: number } }).state.count;
      const res = (await rt.client.call('agent.restore', { agent: 'w', seq: good })) as { seq: number };
      process.kill((await rt.agent('w')).pid!, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'w') === 'running' && (findNode(s.tree, 'w') as { restarts: number }).restarts === 1, 'w restarted');
      assert.deepEqual(await count(rt, 'w'), { count: stateAtGood + 1 }, 'came back from the restore copy after a crash');
      const now = (await rows(rt, 'w')).map((r) => [r.seq, r.kind]);
      assert.ok(!now.some(([seq]) => seq === good), `#${good} pruned by retention: ${JSON.stringify(now)}`);
      assert.ok(now.some(([seq, kind]) => seq === res.seq && kind === 'restore'), `the restore copy #${res.seq} kept: ${JSON.stringify(now)}`);
    } finally {
      await rt.stop();
    }
  });
});

describe('time travel on every store', () => {
  const pg = new PostgresServer();
  const redis = new RedisServer({ appendfsync: 'always' });
  before(async () => {
    await Promise.all([pg.start(), redis.start()]);
  });
  after(async () => {
    await Promise.all([pg.dispose(), redis.dispose()]);
  });
  const stores: [string, () => Record<string, unknown>, () => NodeJS.ProcessEnv][] = [
    ['memory', () => ({ store: 'memory' }), () => ({})],
    ['postgres', () => ({ store: 'postgres', urlEnv: 'FAULTLINE_TEST_STORE_URL', schema: 'tt' }), () => ({ FAULTLINE_TEST_STORE_URL: pg.url })],
    ['redis', () => ({ store: 'redis', urlEnv: 'FAULTLINE_TEST_STORE_URL', prefix: 'tt:' }), () => ({ FAULTLINE_TEST_STORE_URL: redis.url })],
  ];
  for (const [name, checkpoints, env] of stores) {
    test(`${name}: checkpoint, restore and fork`, async () => {
      const rt = await up(workspace({ name: `tt-${name}`, checkpoints: checkpoints(), supervisor: { id: 'root', children: [probe('w')] } }), [], env());
      try {
        await rt.until(running, 'running');
        for (let i = 1; i <= 3; i++) await count(rt, 'w');
        const one = await seqOf(rt, 'w', 1);
        const f = await cli(['fork', 'w', String(one), '--as', 'f', '--json'], rt.dir);
        assert.equal(f.code, 0, f.stderr);
        assert.deepEqual(await count(rt, 'f'), { count: 2 });
        await rt.client.call('agent.restore', { agent: 'w', seq: await seqOf(rt, 'w', 2) });
        assert.deepEqual(await count(rt, 'w'), { count: 3 });
        assert.deepEqual(await count(rt, 'f'), { count: 3 });
        assert.deepEqual((await rows(rt, 'w')).map((r) => r.kind).slice(-2), ['restore', 'full']);
        assert.deepEqual((await rows(rt, 'f')).map((r) => r.kind), ['fork', 'full', 'full']);
      } finally {
        await rt.stop();
      }
    });
  }
});
