/**
 * Three `faultline up --node` processes on one real PostgreSQL: every child
 * of the root runs on exactly one node, asks and sends reach agents on other
 * nodes, and a node killed with SIGKILL has its subtrees resumed elsewhere
 * with nothing acknowledged lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresServer } from './helpers/servers.ts';
import { NetnsLink, netnsUnavailable } from './helpers/netns.ts';
import { cli, probe, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import type { RuntimeStatus } from '../runtime/protocol/status.ts';
import type { DrillJournal } from '../runtime/protocol/schema/drill.ts';

const pg = new PostgresServer();
before(async () => {
  await pg.start();
});
after(async () => {
  await pg.dispose();
});

const SECRET = 'cluster-secret-for-the-tests-0123456789';
const LEASE_MS = 1500;
let n = 0;

function config(schema: string) {
  return {
    name: 'cluster',
    checkpoints: { store: 'postgres', urlEnv: 'FAULTLINE_PG_URL', schema },
    cluster: { leaseMs: LEASE_MS },
    runtime: { askTimeoutMs: 10_000, spares: 1 },
    telemetry: { traces: 'none', logs: 'none', metrics: 'none' },
    supervisor: {
      id: 'root',
      children: [probe('a1'), probe('a2'), probe('a3'), probe('a4'), probe('a5'), { supervisor: { id: 'crew', strategy: 'one_for_all', children: [probe('c1'), probe('c2')] } }],
    },
  };
}

const UNITS = ['a1', 'a2', 'a3', 'a4', 'a5', 'crew'];
const AGENTS = ['a1', 'a2', 'a3', 'a4', 'a5', 'c1', 'c2'];

async function cluster(ids: string[]) {
  const schema = `cl${++n}`;
  const nodes = new Map<string, Running>();
  await Promise.all(ids.map(async (id) => nodes.set(id, await up(workspace(config(schema)), ['--node', id], { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: SECRET }))));
  return nodes;
}

const owners = (s: RuntimeStatus) => Object.fromEntries(s.tree.children.map((c) => [c.id, c.node]));
const settled = (ids: string[]) => (s: RuntimeStatus) =>
  (s.cluster?.nodes.filter((x) => x.state === 'up').length ?? 0) === ids.length &&
  s.tree.children.every((c) => c.node && ids.includes(c.node) && c.state === 'running');

test('three nodes: each child of the root runs on one node, asks and sends reach every agent from every node', async () => {
  const ids = ['n1', 'n2', 'n3'];
  const nodes = await cluster(ids);
  try {
    const views = await Promise.all([...nodes.values()].map((r) => r.until(settled(ids), 'every child running on a node', 30_000)));
    const placed = owners(views[0]);
    for (const v of views.slice(1)) assert.deepEqual(owners(await nodes.get(v.cluster!.node)!.status()), placed, 'the nodes agree on the owners');
    for (const id of ids) assert.ok(Object.values(placed).includes(id), `${id} holds some children: ${JSON.stringify(placed)}`);
    const crew = views[0].tree.children.find((c) => c.id === 'crew')!;
    assert.equal(crew.kind, 'supervisor');
    // Every agent answers every node's control channel, from the process its owner runs.
    for (const r of nodes.values()) {
      for (const a of AGENTS) {
        const reply = (await r.client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
        assert.ok(reply.count >= 1);
      }
    }
    for (const a of AGENTS) {
      const reply = (await nodes.get('n1')!.client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
      assert.equal(reply.count, 4, `${a}: three asks from three nodes, then this one`);
    }
    // Agent to agent across nodes, both ways.
    const far = UNITS.find((u) => placed[u] !== placed.a1 && u !== 'crew')!;
    assert.deepEqual(await nodes.get('n2')!.client.call('ask', { agent: 'a1', message: { op: 'ask', to: far, message: { op: 'echo', value: 7 } } }), (await nodes.get('n2')!.client.call('ask', { agent: far, message: { op: 'echo', value: 7 } })));
    // A send from a node that does not run the agent is stored in its inbox and handled by its owner.
    const sender = ids.find((id) => id !== placed.a2)!;
    await nodes.get(sender)!.client.call('send', { agent: 'a2', message: { op: 'record', value: 'from afar' } });
    await nodes.get(sender)!.client.call('ask', { agent: 'a1', message: { op: 'send', to: 'a2', message: { op: 'record', value: 'from a1' } } });
    const until = Date.now() + 10_000;
    let seen: unknown[] = [];
    while (Date.now() < until) {
      seen = (await nodes.get('n3')!.client.call('ask', { agent: 'a2', message: { op: 'seen' } })) as unknown[];
      if (seen.length >= 2) break;
      await sleep(50);
    }
    assert.deepEqual([...seen].sort(), ['from a1', 'from afar']);
    // Faults from any node act where their agents run: a kill, and a kept fault listed and cleared from n1.
    const n1 = nodes.get('n1')!;
    const sd = ['--state-dir', `${n1.dir}/.faultline`];
    const remote = AGENTS.find((a) => a !== 'c1' && a !== 'c2' && placed[a] !== 'n1')!;
    const pidBefore = (await n1.agent(remote)).pid;
    const k = await cli(['inject', 'kill', remote, ...sd], n1.dir);
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /\(fired on 1\)/, `the kill reached ${remote} on ${placed[remote]}`);
    await n1.until((st) => { const a = st.tree.children.find((c) => c.id === remote) as { pid: number | null; state: string }; return a.state === 'running' && a.pid !== pidBefore && a.pid !== null; }, `${remote} restarted on ${placed[remote]}`, 15_000);
    const slow = await cli(['inject', 'slow', remote, '--ms', '200', '--json', ...sd], n1.dir);
    assert.equal(slow.code, 0, slow.stderr);
    const faultId = (JSON.parse(slow.stdout) as { id: string }).id;
    assert.ok(faultId.startsWith(`${placed[remote]}:`), `the id says which node keeps it: ${faultId}`);
    const active = (await n1.client.call('faults', {})) as { id: string; fault: string }[];
    assert.deepEqual(active.map((f) => [f.id, f.fault]), [[faultId, 'slow']]);
    const t0 = Date.now();
    await n1.client.call('ask', { agent: remote, message: { op: 'echo', value: 1 } });
    assert.ok(Date.now() - t0 >= 200, 'the slow fault acts on the owner');
    assert.deepEqual(await n1.client.call('clearFault', { id: faultId }), { cleared: 1 });
    assert.deepEqual(await n1.client.call('faults', {}), []);
    // An ask forwarded to another node stays in the caller's trace: the owner's span is the caller's child.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await n1.client.call('ask', { agent: remote, message: { op: 'echo', value: 2 }, traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const kept = (await nodes.get(placed[remote]!)!.client.call('traces', { traceId })) as { traces: { spans: { name: string; parentSpanId?: string }[] }[] };
    assert.deepEqual(kept.traces[0]?.spans.map((x) => [x.name, x.parentSpanId]), [[`invoke_agent ${remote}`, '00f067aa0ba902b7']]);
    // faultline nodes
    const r = await cli(['nodes', '--json', '--state-dir', `${nodes.get('n1')!.dir}/.faultline`], nodes.get('n1')!.dir);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { id: string; state: string; children: string[] }[];
    assert.deepEqual(listed.map((x) => x.id).sort(), ids);
    assert.deepEqual(listed.flatMap((x) => x.children).sort(), [...UNITS].sort());
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
  }
});

test('kill -9 of a node under continuous asks: its subtrees resume on the others, every acknowledged count kept, its agent processes gone', async () => {
  const ids = ['k1', 'k2', 'k3'];
  const nodes = await cluster(ids);
  try {
    const s = await nodes.get('k1')!.until(settled(ids), 'every child running on a node', 30_000);
    const placed = owners(s);
    const victim = placed.a1 === 'k1' ? (placed.a2 === 'k1' ? 'k3' : placed.a2!) : placed.a1!;
    const asker = ids.find((id) => id !== victim)!;
    const client = nodes.get(asker)!.client;
    const victimStatus = await nodes.get(victim)!.status();
    const pids = victimStatus.tree.children.filter((c) => c.node === victim).flatMap((c) => (c.kind === 'agent' ? [c.pid] : c.children.map((x) => (x as { pid: number | null }).pid))).filter((p): p is number => !!p);
    assert.ok(pids.length > 0);
    const acked = new Map<string, number>(AGENTS.map((a) => [a, 0]));
    let stop = false;
    const loops = AGENTS.map(async (a) => {
      let last = 0;
      while (!stop) {
        try {
          const r = (await client.call('ask', { agent: a, message: { op: 'count' }, timeoutMs: 10_000 })) as { count: number };
          assert.ok(r.count > last, `${a}: count went from ${last} to ${r.count}`);
          last = r.count;
          acked.set(a, acked.get(a)! + 1);
        } catch (e) {
          if (stop) break;
          const moved = [...nodes.entries()].map(([id, r]) => `${id}: ${r.output().split('\n').filter((l) => /MOVED|    at /.test(l)).slice(0, 14).join('\n')}`).join('\n');
          throw new Error(`${a}: ${(e as Error).message}\n${moved}`);
        }
      }
      return last;
    });
    await sleep(500);
    nodes.get(victim)!.proc.kill('SIGKILL');
    await nodes.get(victim)!.exited;
    const survivors = ids.filter((id) => id !== victim);
    await nodes.get(asker)!.until(settled(survivors), 'the victim\'s children running on the others', 30_000);
    await sleep(500);
    stop = true;
    const lasts = await Promise.all(loops);
    for (const [i, a] of AGENTS.entries()) {
      const final = (await client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
      assert.ok(final.count > acked.get(a)!, `${a}: ${acked.get(a)} acknowledged counts, the agent counts ${final.count}`);
      assert.ok(final.count > lasts[i]);
    }
    for (const pid of pids) {
      const until = Date.now() + 5000;
      let alive = true;
      while (alive && Date.now() < until) {
        try {
          process.kill(pid, 0);
          await sleep(50);
        } catch {
          alive = false;
        }
      }
      assert.equal(alive, false, `agent process ${pid} of the killed node outlived it`);
    }
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
  }
});

test('a node refuses to join without the cluster secret; --node needs a cluster config; a cluster needs the postgres store', async () => {
  const dir = workspace(config('nosecret'));
  const r = await cli(['up', '--node', 'x1'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAULTLINE_CLUSTER_TOKEN is not set/);
  const plain = workspace({ name: 'plain', supervisor: { id: 'root', children: [probe('a')] } });
  const r2 = await cli(['up', '--node', 'x1'], plain);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--node: .* has no "cluster" section/);
  const sqlite = workspace({ name: 'c', cluster: { leaseMs: 1000 }, supervisor: { id: 'root', children: [probe('a')] } });
  const r3 = await cli(['up'], sqlite);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /\$\.cluster: a cluster shares its state through PostgreSQL/);
});

/** The pids of the agents of the units a node runs, from its own status. */
const agentPids = (s: RuntimeStatus, node: string) =>
  s.tree.children.filter((c) => c.node === node).flatMap((c) => (c.kind === 'agent' ? [c.pid] : c.children.map((x) => (x as { pid: number | null }).pid))).filter((p): p is number => !!p);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The process state letter of /proc/<pid>/stat: T when stopped. */
const procState = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
  } catch {
    return undefined;
  }
};

/** Asks every agent for its count, over and over, asserting that no count ever goes back. */
function askLoops(client: RunningClient, nodes: Map<string, Running>) {
  const acked = new Map<string, number>(AGENTS.map((a) => [a, 0]));
  const last = new Map<string, number>(AGENTS.map((a) => [a, 0]));
  let stop = false;
  let failed: Error | undefined;
  const loops = AGENTS.map(async (a) => {
    while (!stop && !failed) {
      try {
        const r = (await client.call('ask', { agent: a, message: { op: 'count' }, timeoutMs: 10_000 })) as { count: number };
        assert.ok(r.count > last.get(a)!, `${a}: count went from ${last.get(a)} to ${r.count}`);
        last.set(a, r.count);
        acked.set(a, acked.get(a)! + 1);
      } catch (e) {
        if (stop) break;
        failed ??= new Error(`${a}: ${(e as Error).message}\n${[...nodes.entries()].map(([id, r]) => `--- ${id} ---\n${r.output().split('\n').slice(-30).join('\n')}`).join('\n')}`);
      }
    }
  });
  return {
    acked,
    last,
    /** The first ask that failed or went back, if any: checked at every step. */
    check() {
      if (failed) throw failed;
    },
    async stop() {
      stop = true;
      await Promise.all(loops);
      if (failed) throw failed;
    },
  };
}
type RunningClient = Running['client'];

test('a node paused (SIGSTOP) past its lease, then continued: the others take its subtrees, it finds its leases gone and stops its copies, none of its writes land', async () => {
  const ids = ['p1', 'p2', 'p3'];
  const nodes = await cluster(ids);
  let paused: number[] = [];
  try {
    const s = await nodes.get('p1')!.until(settled(ids), 'every child running on a node', 30_000);
    const placed = owners(s);
    const victim = placed.a1 === 'p1' ? (placed.a2 === 'p1' ? 'p3' : placed.a2!) : placed.a1!;
    const [asker, injector] = ids.filter((id) => id !== victim);
    const held = UNITS.filter((u) => placed[u] === victim);
    const before = agentPids(await nodes.get(victim)!.status(), victim);
    assert.ok(before.length > 0 && held.length > 0);
    paused = [nodes.get(victim)!.proc.pid!, ...before];
    const loops = askLoops(nodes.get(asker)!.client, nodes);
    await sleep(500);
    // From a third node: it hands the fault to the victim, which pauses itself and its agents.
    const pauseMs = LEASE_MS * 3;
    const r = await cli(['inject', 'pause-node', victim, '--ms', String(pauseMs), '--state-dir', `${nodes.get(injector)!.dir}/.faultline`], nodes.get(injector)!.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pause-node on ${victim} \\(fired on 1\\)`));
    const pausedAt = Date.now();
    let stopped = false;
    for (const until = Date.now() + 2000; !stopped && Date.now() < until; await sleep(20)) stopped = procState(nodes.get(victim)!.proc.pid!) === 'T';
    assert.ok(stopped, 'the node is stopped');
    assert.ok(before.every((p) => procState(p) === 'T'), 'its agent processes are stopped with it');
    // While it sleeps, the others run its subtrees.
    const survivors = ids.filter((id) => id !== victim);
    const taken = await nodes.get(asker)!.until((st) => held.every((u) => st.tree.children.find((c) => c.id === u)?.node !== victim && st.tree.children.find((c) => c.id === u)?.state === 'running'), `${held.join(', ')} taken over`, 30_000);
    assert.ok(Date.now() - pausedAt < pauseMs, `taken over while the node was still paused (after ${Date.now() - pausedAt} ms)`);
    assert.ok(held.every((u) => survivors.includes(owners(taken)[u]!)));
    assert.equal(procState(nodes.get(victim)!.proc.pid!), 'T', 'still paused at the handover');
    // Continued: its copies stop (their processes end), and it takes back its share, restored from what the others stored.
    for (const until = pausedAt + pauseMs + 3000; procState(nodes.get(victim)!.proc.pid!) === 'T' && Date.now() < until; ) await sleep(50);
    assert.notEqual(procState(nodes.get(victim)!.proc.pid!), 'T', 'continued');
    paused = [];
    for (const pid of before) {
      for (const until = Date.now() + LEASE_MS * 4; alive(pid) && Date.now() < until; ) await sleep(50);
      assert.equal(alive(pid), false, `the paused node's old copy (pid ${pid}) still runs after it was continued`);
    }
    loops.check();
    const log = () => readFileSync(`${nodes.get(victim)!.dir}/.faultline/logs/runtime.log`, 'utf8');
    for (const until = Date.now() + 5000; !/lost its lease|no longer holds the lease/.test(log()) && Date.now() < until; ) await sleep(50);
    assert.match(log(), /lost its lease|no longer holds the lease/, 'the paused node says why it stopped its copies');
    await nodes.get(asker)!.until(settled(ids), 'the three nodes running every child again', 30_000);
    await sleep(1000);
    loops.check();
    await loops.stop();
    // One owner per unit, as every node sees it, and each of those runs it as its own.
    const views = await Promise.all(ids.map((id) => nodes.get(id)!.status()));
    for (const v of views) assert.deepEqual(owners(v), owners(views[0]));
    for (const u of UNITS) assert.deepEqual(views.filter((v) => v.cluster!.nodes.find((x) => x.id === v.cluster!.node)!.children.includes(u)).map((v) => v.cluster!.node), [owners(views[0])[u]], `${u} is run by one node`);
    for (const a of AGENTS) {
      const final = (await nodes.get(injector)!.client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
      assert.ok(final.count > loops.acked.get(a)! && final.count > loops.last.get(a)!, `${a}: ${loops.acked.get(a)} acknowledged counts up to ${loops.last.get(a)}, the agent counts ${final.count}`);
    }
  } finally {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await Promise.all([...nodes.values()].map((r) => r.stop()));
  }
});

test('PostgreSQL restarted mid-run: the nodes keep their agents (same processes, same owners), writes resume, nothing acknowledged lost', async () => {
  const own = await new PostgresServer().start();
  const ids = ['r1', 'r2'];
  const nodes = new Map<string, Running>();
  try {
    await Promise.all(ids.map(async (id) => nodes.set(id, await up(workspace(config('restart')), ['--node', id], { FAULTLINE_PG_URL: own.url, FAULTLINE_CLUSTER_TOKEN: SECRET }))));
    const s = await nodes.get('r1')!.until(settled(ids), 'every child running on a node', 30_000);
    const placed = owners(s);
    const pids = new Map(ids.map((id) => [id, agentPids(s, id)]));
    const loops = askLoops(nodes.get('r1')!.client, nodes);
    await sleep(500);
    const t0 = Date.now();
    await own.kill();
    await sleep(300);
    await own.start();
    const downMs = Date.now() - t0;
    // Every agent answers again, each from the same process on the same node.
    await sleep(LEASE_MS * 2);
    loops.check();
    await loops.stop();
    for (const id of ids) {
      const v = await nodes.get(id)!.status();
      assert.deepEqual(owners(v), placed, `${id}: the owners did not change across a ${downMs} ms outage`);
      const said = () => readFileSync(`${nodes.get(id)!.dir}/.faultline/logs/runtime.log`, 'utf8').split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-15).join('\n');
      assert.deepEqual(agentPids(v, id), pids.get(id), `${id} runs the same agent processes\n${nodes.get(id)!.output()}\n${said()}`);
    }
    for (const a of AGENTS) {
      const final = (await nodes.get('r2')!.client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
      assert.ok(final.count > loops.acked.get(a)!, `${a}: ${loops.acked.get(a)} acknowledged counts, the agent counts ${final.count}`);
    }
    assert.ok([...loops.acked.values()].every((n) => n > 2), `asks went on: ${JSON.stringify(Object.fromEntries(loops.acked))}`);
    for (const r of nodes.values()) assert.doesNotMatch(readFileSync(`${r.dir}/.faultline/logs/runtime.log`, 'utf8'), /lost its lease|placed on another node/, 'no lease changed hands');
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
    await own.dispose();
  }
});

test('the shipped node-loss drill holds on three nodes of examples/cluster: a node killed, another paused past its lease, nothing acknowledged lost', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-cluster-demo-'));
  cpSync(path.join(repoRoot, 'examples', 'cluster'), dir, { recursive: true });
  const file = path.join(dir, 'faultline.config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  cfg.checkpoints.schema = 'demo';
  writeFileSync(file, JSON.stringify(cfg));
  const nodes = new Map<string, Running>();
  try {
    await Promise.all(['n1', 'n2', 'n3'].map(async (id) => nodes.set(id, await up(dir, ['--node', id, '--state-dir', `.faultline/${id}`], { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: SECRET }))));
    const r = await cli(['drill', 'drills/node-loss.drill.json', '--state-dir', '.faultline/n1', '--json'], dir, 240_000);
    const journal = JSON.parse(r.stdout) as DrillJournal;
    assert.equal(r.code, 0, `${journal.failedProbe}: ${journal.failure}\n${r.stderr}`);
    assert.equal(journal.status, 'held');
    assert.ok(journal.method.every((s) => s.ok));
    assert.equal(journal.messages.lost, 0);
    assert.ok(journal.messages.acknowledged > 50, `${journal.messages.acknowledged} acknowledged`);
    assert.equal((await nodes.get('n3')!.exited).signal, 'SIGKILL', 'kill-node n3 killed it');
    assert.match(readFileSync(path.join(dir, '.faultline', 'n2', 'logs', 'runtime.log'), 'utf8'), /lost its lease|no longer holds the lease/, 'n2 found its leases gone');
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('root intensity across nodes: restarts of a subtree on one node and then on another count toward one window, and over it the root escalates', async () => {
  const schema = `cl${++n}`;
  const cfg = { ...config(schema), supervisor: { id: 'root', intensity: 3, periodMs: 60_000, children: [probe('a1'), probe('a2'), probe('a3'), probe('a4')] } };
  const nodes = new Map<string, Running>();
  const inWindow = (s: RuntimeStatus) => (s.tree as { intensity: { inWindow: number } }).intensity.inWindow;
  try {
    await Promise.all(['i1', 'i2'].map(async (id) => nodes.set(id, await up(workspace(cfg), ['--node', id], { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: SECRET }))));
    const s = await nodes.get('i1')!.until(settled(['i1', 'i2']), 'every child running on a node', 30_000);
    const first = owners(s).a1!;
    const second = first === 'i1' ? 'i2' : 'i1';
    const crash = async (on: string, restarts: number) => {
      const r = nodes.get(on)!;
      const pid = ((await r.agent('a1')) as { pid: number }).pid;
      await r.client.call('ask', { agent: 'a1', message: { op: 'exit', code: 1 } });
      return r.until((st) => {
        const a = st.tree.children.find((c) => c.id === 'a1') as { state: string; pid: number | null; restarts: number } | undefined;
        return !!a && a.state === 'running' && a.pid !== pid && a.restarts === restarts;
      }, `a1 restarted on ${on}`, 15_000);
    };
    await crash(first, 1);
    const after2 = await crash(first, 2);
    assert.equal(inWindow(after2), 2);
    // The first node drains: a1 moves to the other, which has restarted nothing itself.
    await nodes.get(first)!.stop();
    nodes.delete(first);
    const moved = await nodes.get(second)!.until((st) => st.tree.children.every((c) => c.node === second && c.state === 'running'), 'a1 taken over', 30_000);
    assert.equal(inWindow(moved), 0, 'no restart counted before one here');
    const after3 = await crash(second, 1);
    assert.equal(inWindow(after3), 3, 'one restart here and the two on the other node, in one window');
    // The fourth restart within the period is one too many: the root escalates and the node stops, as a single runtime would.
    const r = nodes.get(second)!;
    await r.client.call('ask', { agent: 'a1', message: { op: 'exit', code: 1 } });
    const exit = await Promise.race([r.exited, sleep(15_000).then(() => undefined)]);
    assert.ok(exit, `the root escalated and the node stopped\n${r.output()}`);
    assert.equal(exit.code, 1);
    assert.match(r.output() + readFileSync(`${r.dir}/.faultline/logs/runtime.log`, 'utf8'), /restart intensity exceeded/);
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
  }
});

const noNetns = netnsUnavailable();

test('a node in its own network namespace whose link is cut past its lease: the others take its subtrees; once the link is back it stops its copies and none of its writes land', { skip: noNetns ? `no network namespace here (${noNetns}): the SIGSTOP test stands in` : false }, async () => {
  const link = new NetnsLink().create();
  const nodes = new Map<string, Running>();
  try {
    const pgPort = Number(new URL(pg.url).port);
    const relayed = pg.url.replace(`127.0.0.1:${pgPort}`, `${link.hostIp}:${await link.relay(pgPort)}`);
    const cfg = config(`cl${++n}`);
    const env = { FAULTLINE_CLUSTER_TOKEN: SECRET };
    await Promise.all([
      ...['z1', 'z2'].map(async (id) => nodes.set(id, await up(workspace(cfg), ['--node', id], { ...env, FAULTLINE_PG_URL: pg.url }))),
      (async () => nodes.set('z3', await up(workspace(cfg), ['--node', 'z3', '--host', link.nsIp], { ...env, FAULTLINE_PG_URL: relayed }, link.exec)))(),
    ]);
    const ids = ['z1', 'z2', 'z3'];
    const s = await nodes.get('z1')!.until(settled(ids), 'every child running on a node', 30_000);
    const held = UNITS.filter((u) => owners(s)[u] === 'z3');
    assert.ok(held.length > 0, `z3 holds some children: ${JSON.stringify(owners(s))}`);
    const before = agentPids(await nodes.get('z3')!.status(), 'z3');
    const loops = askLoops(nodes.get('z1')!.client, nodes);
    await sleep(500);
    const cutAt = Date.now();
    link.cut();
    const taken = await nodes.get('z1')!.until((st) => held.every((u) => st.tree.children.find((c) => c.id === u)?.node !== 'z3' && st.tree.children.find((c) => c.id === u)?.state === 'running'), `${held.join(', ')} taken over`, 30_000);
    const tookMs = Date.now() - cutAt;
    assert.ok(held.every((u) => ['z1', 'z2'].includes(owners(taken)[u]!)));
    await sleep(LEASE_MS);
    loops.check();
    link.restore();
    for (const pid of before) {
      for (const until = Date.now() + LEASE_MS * 6; alive(pid) && Date.now() < until; ) await sleep(50);
      assert.equal(alive(pid), false, `z3's old copy (pid ${pid}) still runs after the link came back`);
    }
    const log = () => readFileSync(`${nodes.get('z3')!.dir}/.faultline/logs/runtime.log`, 'utf8');
    for (const until = Date.now() + 5000; !/lost its lease|no longer holds the lease/.test(log()) && Date.now() < until; ) await sleep(50);
    assert.match(log(), /lost its lease|no longer holds the lease/, 'z3 says why it stopped its copies');
    await nodes.get('z1')!.until(settled(ids), 'the three nodes running every child again', 30_000);
    await sleep(1000);
    await loops.stop();
    for (const a of AGENTS) {
      const final = (await nodes.get('z2')!.client.call('ask', { agent: a, message: { op: 'count' } })) as { count: number };
      assert.ok(final.count > loops.acked.get(a)! && final.count > loops.last.get(a)!, `${a}: ${loops.acked.get(a)} acknowledged counts up to ${loops.last.get(a)}, the agent counts ${final.count}`);
    }
    assert.ok(tookMs < LEASE_MS * 4, `taken over ${tookMs} ms after the cut`);
  } finally {
    await Promise.all([...nodes.values()].map((r) => r.stop()));
    await link.dispose();
  }
});
