/**
 * The supervisor's orchestration with fake children and a simulated clock:
 * no processes, no real time. The real-process behaviour is in test/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { resolveConfig, type AgentSpec, type ChildSpec } from '../config/load.ts';
import type { NodeState, AgentStatus } from '../protocol/status.ts';
import type { Child } from './Child.ts';
import type { ExitInfo } from './decisions.ts';
import { Supervisor } from './Supervisor.ts';

class FakeAgent implements Child {
  readonly id: string;
  state: NodeState = 'stopped';
  startedAt: number | null = null;
  onExit?: (e: ExitInfo) => void;
  constructor(readonly spec: AgentSpec, private readonly log: string[], private readonly clock: SimulatedClock) {
    this.id = spec.id;
  }
  async start() {
    this.log.push(`start ${this.id}`);
    this.state = 'running';
    this.startedAt = this.clock.now();
    return true;
  }
  async stop() {
    if (this.state === 'running') this.log.push(`stop ${this.id}`);
    this.state = 'stopped';
    this.startedAt = null;
  }
  markRestarting(delayMs: number) {
    this.state = delayMs > 0 ? 'backoff' : 'restarting';
  }
  markDown(normal: boolean) {
    this.state = normal ? 'stopped' : 'failed';
  }
  crash(normal = false) {
    this.log.push(`crash ${this.id}`);
    this.state = 'restarting';
    this.onExit?.({ normal, reason: normal ? 'exited normally' : 'crashed' });
  }
  status(): AgentStatus {
    return { id: this.id, kind: 'agent', state: this.state, pid: null, restarts: 0, isolation: 'process', restart: this.spec.restart, module: '', mailbox: 0, liveness: true, readiness: true, startedAt: null };
  }
}

function setup(supervisor: unknown, backoff = { baseMs: 100, maxMs: 1000, jitter: 0, resetAfterMs: 10_000 }) {
  const cfg = resolveConfig({ name: 't', supervisor: { backoff, ...(supervisor as object) } }, '/tmp/faultline.config.json');
  const clock = new SimulatedClock();
  const log: string[] = [];
  const agents = new Map<string, FakeAgent>();
  const escalations: ExitInfo[] = [];
  const root = new Supervisor(cfg.supervisor, {
    clock,
    random: () => 0.5,
    agentFactory: (spec: ChildSpec) => {
      const a = new FakeAgent(spec as AgentSpec, log, clock);
      agents.set(spec.id, a);
      return a;
    },
  });
  root.onExit = (e) => escalations.push(e);
  return { root, clock, log, agents, escalations, a: (id: string) => agents.get(id)! };
}

const agent = (id: string, extra: object = {}) => ({ agent: { id, module: `${id}.mjs`, ...extra } });
/** Lets queued supervisor work run. */
const settle = async (root: Supervisor) => {
  for (let i = 0; i < 5; i++) await root.idle();
};

test('children start in order and stop in reverse order', async () => {
  const t = setup({ id: 'root', children: [agent('a'), agent('b'), agent('c')] });
  await t.root.start();
  await t.root.stop('test');
  assert.deepEqual(t.log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('one_for_all: a crash restarts every child, in order, after the others stop in reverse order', async () => {
  const t = setup({ id: 'root', strategy: 'one_for_all', children: [agent('a'), agent('b'), agent('c')] });
  await t.root.start();
  t.log.length = 0;
  t.a('b').crash();
  await settle(t.root);
  assert.deepEqual(t.log, ['crash b', 'stop c', 'stop a', 'start a', 'start b', 'start c']);
  assert.equal(t.root.restarts, 1);
  assert.equal(t.root.status().intensity.inWindow, 1, 'a group restart counts once toward intensity');
});

test('rest_for_one restarts the failed child and the later ones only', async () => {
  const t = setup({ id: 'root', strategy: 'rest_for_one', children: [agent('a'), agent('b'), agent('c')] });
  await t.root.start();
  t.log.length = 0;
  t.a('b').crash();
  await settle(t.root);
  assert.deepEqual(t.log, ['crash b', 'stop c', 'start b', 'start c']);
});

test('a temporary child taken down by a sibling is not restarted', async () => {
  const t = setup({ id: 'root', strategy: 'one_for_all', children: [agent('a'), agent('tmp', { restart: 'temporary' })] });
  await t.root.start();
  t.log.length = 0;
  t.a('a').crash();
  await settle(t.root);
  assert.deepEqual(t.log, ['crash a', 'stop tmp', 'start a']);
  assert.equal(t.a('tmp').state, 'stopped');
});

test('transient restarts after a crash but not after a normal exit; temporary never', async () => {
  const t = setup({ id: 'root', children: [agent('tr', { restart: 'transient' }), agent('tmp', { restart: 'temporary' })] });
  await t.root.start();
  t.log.length = 0;
  t.a('tr').crash(false);
  await settle(t.root);
  t.a('tr').crash(true);
  t.a('tmp').crash(false);
  await settle(t.root);
  assert.deepEqual(t.log, ['crash tr', 'start tr', 'crash tr', 'crash tmp']);
  assert.equal(t.a('tr').state, 'stopped');
  assert.equal(t.a('tmp').state, 'failed');
});

test('backoff: quick repeated crashes wait exponentially longer, on the simulated clock', async () => {
  const t = setup({ id: 'root', intensity: 100, children: [agent('a')] });
  await t.root.start();
  t.log.length = 0;
  t.a('a').crash();
  await settle(t.root);
  assert.deepEqual(t.log, ['crash a', 'start a'], 'the first crash restarts at once');
  t.a('a').crash();
  await settle(t.root);
  assert.equal(t.a('a').state, 'backoff');
  t.clock.increment(99);
  await settle(t.root);
  assert.equal(t.a('a').state, 'backoff', 'still waiting at 99 ms');
  t.clock.increment(1);
  await settle(t.root);
  assert.equal(t.a('a').state, 'running', 'restarted at 100 ms');
  t.a('a').crash();
  await settle(t.root);
  t.clock.increment(199);
  await settle(t.root);
  assert.equal(t.a('a').state, 'backoff');
  t.clock.increment(1);
  await settle(t.root);
  assert.equal(t.a('a').state, 'running', 'second backoff is 200 ms');
  // Stable for resetAfterMs: the next crash restarts at once.
  t.clock.increment(10_000);
  t.a('a').crash();
  await settle(t.root);
  assert.equal(t.a('a').state, 'running');
});

test('intensity exceeded: the supervisor stops its children and escalates; the parent restarts it afresh', async () => {
  const t = setup({
    id: 'root',
    intensity: 3,
    children: [agent('x'), { supervisor: { id: 'sub', intensity: 2, periodMs: 1000, children: [agent('p'), agent('q')] } }],
  }, { baseMs: 0, maxMs: 0, jitter: 0, resetAfterMs: 10_000 });
  await t.root.start();
  const sub = t.root.children[1] as Supervisor;
  const firstP = t.a('p');
  t.a('p').crash();
  await settle(t.root);
  t.a('p').crash();
  await settle(t.root);
  assert.equal(sub.restarts, 2);
  t.log.length = 0;
  t.a('p').crash(); // the third within 1 s: more than intensity 2
  await settle(sub);
  await settle(t.root);
  assert.deepEqual(t.log, ['crash p', 'stop q', 'start p', 'start q'], 'sub stops q, fails, and root restarts sub afresh');
  assert.notEqual(t.a('p'), firstP, 'the restarted supervisor built new children from the config');
  assert.equal(sub.state, 'running');
  assert.equal(sub.restarts, 0, 'a fresh start has an empty restart history');
  assert.equal(t.root.restarts, 1);
  assert.equal(t.escalations.length, 0);
});

test('the root exceeding its intensity fails and reports it', async () => {
  const t = setup({ id: 'root', intensity: 1, periodMs: 60_000, children: [agent('a'), agent('b')] }, { baseMs: 0, maxMs: 0, jitter: 0, resetAfterMs: 10_000 });
  await t.root.start();
  t.a('a').crash();
  await settle(t.root);
  t.a('a').crash();
  await settle(t.root);
  assert.equal(t.escalations.length, 1);
  assert.equal(t.root.state, 'failed');
  assert.match(t.root.lastError!.message, /more than 1 restarts within 60000 ms/);
  assert.equal(t.a('b').state, 'stopped');
});

test('a crash during a pending backoff of a group restarts the group once', async () => {
  const t = setup({ id: 'root', strategy: 'one_for_all', intensity: 100, children: [agent('a'), agent('b')] });
  await t.root.start();
  t.a('a').crash();
  await settle(t.root);
  t.log.length = 0;
  t.a('a').crash(); // second quick crash: 100 ms backoff for the group
  await settle(t.root);
  assert.equal(t.a('a').state, 'backoff');
  assert.equal(t.a('b').state, 'backoff');
  t.clock.increment(100);
  await settle(t.root);
  assert.deepEqual(t.log, ['crash a', 'stop b', 'start a', 'start b']);
});
