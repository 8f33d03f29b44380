/**
 * The lifecycle machines alone, on xstate's SimulatedClock: the agent's
 * start, heartbeat and shutdown timeouts fire when simulated time says so,
 * an event a state does not accept is caught, and every transition taken is
 * an edge of the JSON definition the `machine` method serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromPromise, SimulatedClock } from 'xstate';
import { agentMachine, type AgentInput, type BootInput, type BootOutput } from './agentMachine.ts';
import { supervisorMachine } from './supervisorMachine.ts';
import { IllegalEventError, LifecycleActor, machineDefinition, type Transition } from './machines.ts';
import { isMachineEdge } from '../protocol/machine.ts';

const input: AgentInput = { id: 'a', supervisor: 'root', starts: 0, restarts: 0, startTimeoutMs: 1000, heartbeatTimeoutMs: 500, shutdownMs: 300, watchdog: true };

/** An agent machine whose effects are recorded instead of run. */
function agent(o: Partial<AgentInput> = {}) {
  const clock = new SimulatedClock();
  const effects: string[] = [];
  const transitions: Transition[] = [];
  const record = (name: string) => () => void effects.push(name);
  const machine = agentMachine.provide({
    actors: { boot: fromPromise<BootOutput, BootInput>(async () => ({ pid: 42 })) },
    actions: {
      load: record('load'),
      killHost: record('kill'),
      requestStop: record('stop'),
      reportExit: record('exit'),
      reportFailed: record('failed'),
      reportRunning: record('running'),
      reportUnresponsive: record('unresponsive'),
      reportShutdownKill: record('shutdownKill'),
    },
  });
  const lc = new LifecycleActor(machine, { id: 'a', clock, input: { ...input, ...o }, onTransition: (t) => transitions.push(t) });
  return { lc, clock, effects, transitions };
}

/** Lets the boot actor's promise settle. */
const tick = () => new Promise((r) => setImmediate(r));

const isEdge = (def: Record<string, unknown>, t: Transition) => isMachineEdge(def, t);

test('start timeout: an agent not ready within the start timeout is failed and its host killed, on the simulated clock', async () => {
  const { lc, clock, effects } = agent({ heartbeatTimeoutMs: 5000 });
  lc.send({ type: 'START' });
  await tick();
  assert.equal(lc.path, 'starting.loading.live');
  clock.increment(999);
  assert.equal(lc.top, 'starting');
  clock.increment(1);
  assert.equal(lc.top, 'failed');
  assert.equal(lc.snapshot.context.lastError?.type, 'StartTimeout');
  assert.deepEqual(effects, ['load', 'failed', 'kill']);
  lc.send({ type: 'EXIT', code: null, signal: 'SIGKILL', tail: '' });
  assert.equal(lc.top, 'failed', 'the killed host exits into the failure already reported');
});

test('heartbeat timeout: silent for longer than the timeout → killed as unresponsive; heartbeats keep it alive', async () => {
  const { lc, clock, effects } = agent();
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'READY' });
  assert.equal(lc.path, 'running.live');
  for (let i = 0; i < 10; i++) {
    clock.increment(200);
    lc.send({ type: 'HEARTBEAT' });
  }
  assert.equal(lc.path, 'running.live', 'two seconds of heartbeats every 200 ms');
  clock.increment(500);
  assert.equal(lc.path, 'running.live', 'silent for exactly the timeout is not yet late');
  clock.increment(1);
  assert.equal(lc.path, 'running.late');
  assert.ok(effects.includes('unresponsive') && effects.at(-1) === 'kill');
  assert.equal(lc.snapshot.context.killedFor, 'unresponsive (no heartbeat for 501 ms)');
  lc.send({ type: 'EXIT', code: null, signal: 'SIGKILL', tail: '' });
  assert.equal(lc.top, 'exited');
  assert.deepEqual(lc.snapshot.context.exit, { normal: false, reason: 'unresponsive (no heartbeat for 501 ms)' });
  assert.equal(lc.snapshot.context.lastError?.type, 'Unresponsive');
});

test('shutdown timeout: a host that does not stop within its shutdown time is killed', async () => {
  const { lc, clock, effects } = agent();
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'READY' });
  lc.send({ type: 'STOP', reason: 'test' });
  assert.equal(lc.path, 'stopping.graceful');
  clock.increment(299);
  assert.ok(!effects.includes('kill'));
  clock.increment(1);
  assert.equal(lc.path, 'stopping.killing');
  assert.deepEqual(effects.slice(-2), ['shutdownKill', 'kill']);
  lc.send({ type: 'EXIT', code: null, signal: 'SIGKILL', tail: '' });
  assert.equal(lc.top, 'stopped');
  assert.equal(lc.snapshot.context.reason, 'stopped');
});

test('under the debugger (no watchdog) neither the start nor the heartbeat timeout fires', async () => {
  const { lc, clock } = agent({ watchdog: false });
  lc.send({ type: 'START' });
  await tick();
  clock.increment(60_000);
  assert.equal(lc.top, 'starting');
  lc.send({ type: 'READY' });
  clock.increment(60_000);
  assert.equal(lc.path, 'running.live');
});

test('an exit counts restarts and decides nothing: its supervisor does (RESTART with a backoff → backoff)', async () => {
  const { lc } = agent();
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'READY' });
  lc.send({ type: 'EXIT', code: null, signal: 'SIGKILL', tail: '' });
  assert.deepEqual(lc.snapshot.context.exit, { normal: false, reason: 'killed (SIGKILL)' });
  lc.send({ type: 'RESTART', delayMs: 100 });
  assert.equal(lc.top, 'backoff');
  assert.equal(lc.snapshot.context.reason, 'backoff 100 ms');
  lc.send({ type: 'START' });
  assert.equal(lc.snapshot.context.restarts, 1);
  assert.equal(lc.snapshot.context.incarnation, 2);
});

test('an event the current state does not accept is an IllegalEventError, not a silent drop', () => {
  const { lc } = agent();
  assert.throws(() => lc.send({ type: 'READY' }), IllegalEventError, 'under the test runner it throws');
  assert.equal(lc.top, 'stopped');
  const seen: IllegalEventError[] = [];
  const lenient = new LifecycleActor(agentMachine, { id: 'b', clock: new SimulatedClock(), input, strict: false, onIllegal: (e) => seen.push(e) });
  assert.equal(lenient.send({ type: 'EXIT', code: 0, signal: null, tail: '' }), false, 'in a real run it is reported and not sent');
  assert.match(seen[0]!.message, /agent "b" in state stopped does not accept EXIT/);
  assert.equal(lenient.top, 'stopped');
});

test('every transition of a run is an edge of the definition for its event', async () => {
  const { lc, clock, transitions } = agent();
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'READY' });
  clock.increment(501); // late
  lc.send({ type: 'EXIT', code: null, signal: 'SIGKILL', tail: '' });
  lc.send({ type: 'RESTART', delayMs: 0 });
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'LOAD_ERROR', error: { type: 'Error', message: 'boom' } });
  lc.send({ type: 'START' });
  await tick();
  lc.send({ type: 'READY' });
  lc.send({ type: 'STOP', reason: 'test' });
  lc.send({ type: 'EXIT', code: 0, signal: null, tail: '' });
  const def = machineDefinition(agentMachine);
  assert.deepEqual(
    transitions.map((t) => `${t.from} → ${t.to}`),
    [
      'stopped → starting.booting',
      'starting.booting → starting.loading.live',
      'starting.loading.live → running.live',
      'running.live → running.late',
      'running.late → exited',
      'exited → restarting',
      'restarting → starting.booting',
      'starting.booting → starting.loading.live',
      'starting.loading.live → failed',
      'failed → starting.booting',
      'starting.booting → starting.loading.live',
      'starting.loading.live → running.live',
      'running.live → stopping.graceful',
      'stopping.graceful → stopped',
    ],
  );
  for (const t of transitions) assert.ok(isEdge(def, t), `${JSON.stringify(t)} is an edge of the definition`);
});

test('the supervisor definition carries its eventless transitions', () => {
  const def = machineDefinition(supervisorMachine) as { states: Record<string, { always?: Array<{ target: string[] }> }> };
  assert.deepEqual(def.states.deciding!.always!.map((t) => t.target), [['#supervisor.failing'], ['#supervisor.restarting']]);
  assert.ok(isEdge(def as unknown as Record<string, unknown>, { from: 'deciding', to: 'failing', event: 'always' }));
  assert.ok(!isEdge(def as unknown as Record<string, unknown>, { from: 'stopped', to: 'running', event: 'START' }), 'not an edge');
  assert.doesNotThrow(() => JSON.stringify(machineDefinition(agentMachine)));
});

test('supervisor: intensity and backoff on the simulated clock, every transition an edge', () => {
  const clock = new SimulatedClock();
  const transitions: Transition[] = [];
  const effects: string[] = [];
  const lc = new LifecycleActor(supervisorMachine, {
    id: 'root',
    clock,
    input: { id: 'root', strategy: 'one_for_one', intensity: 2, periodMs: 1000, backoff: { baseMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 10_000 } },
    onTransition: (t) => transitions.push(t),
  });
  lc.actor.on('*', (e: { type: string }) => void effects.push(e.type));
  lc.send({ type: 'START', history: [] });
  lc.send({ type: 'READY' });
  const exit = { type: 'CHILD_EXIT' as const, child: 'a', restart: 'permanent' as const, startedAt: 0, exit: { normal: false, reason: 'crashed' }, children: [{ id: 'a', restart: 'permanent' as const }], draw: 0.5 };
  lc.send(exit);
  assert.equal(lc.top, 'restarting');
  lc.send({ type: 'UNPEND', child: 'a' });
  lc.send({ type: 'GROUP_STARTED' });
  lc.send(exit); // the second quick crash: a 100 ms backoff
  assert.deepEqual(effects, ['restart', 'restart']);
  clock.increment(99);
  assert.deepEqual(effects, ['restart', 'restart']);
  clock.increment(1);
  assert.deepEqual(effects, ['restart', 'restart', 'startGroup']);
  lc.send(exit); // the third within 1 s: more than intensity 2
  assert.equal(lc.top, 'failing');
  assert.match(lc.snapshot.context.lastError!.message, /more than 2 restarts within 1000 ms/);
  lc.send({ type: 'STOPPED' });
  assert.equal(lc.top, 'failed');
  const def = machineDefinition(supervisorMachine);
  for (const t of transitions) assert.ok(isEdge(def, t), `${t.from} → ${t.to} on ${t.event}`);
  assert.ok(transitions.some((t) => t.event === 'always'));
});
