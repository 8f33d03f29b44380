/**
 * machineAgent: an xstate machine as an agent, driven through the lifecycle
 * the agent host gives it (init or restore, onStart, onMessage, onStop), with
 * its state round-tripped through JSON as a checkpoint would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { machineAgent } from './machineAgent.ts';
import type { AgentContext } from './sdk.ts';

const door = setup({ types: { context: {} as { opened: number }, events: {} as { type: 'OPEN' } | { type: 'CLOSE' } | { type: 'BREAK' } } }).createMachine({
  id: 'door',
  initial: 'closed',
  context: { opened: 0 },
  states: {
    closed: { on: { OPEN: { target: 'open', actions: assign({ opened: ({ context }) => context.opened + 1 }) } } },
    open: { on: { CLOSE: 'closed', BREAK: { actions: () => { throw new Error('the hinge broke'); } } } },
  },
});

const ctxWith = (state: unknown) => ({ id: 'door', state, options: {} }) as unknown as AgentContext<unknown>;
const meta = { kind: 'ask' as const };

test('events move the machine; its persisted snapshot is the state, and it restores from a checkpoint', async () => {
  const agent = machineAgent(door);
  const ctx = ctxWith(await agent.init!(ctxWith(undefined)));
  await agent.onStart!(ctx);
  assert.deepEqual(await agent.onMessage({ type: 'OPEN' }, ctx, meta), { value: 'open', context: { opened: 1 }, status: 'active' });
  assert.deepEqual(await agent.onMessage({ type: 'CLOSE' }, ctx, meta), { value: 'closed', context: { opened: 1 }, status: 'active' });
  await agent.onMessage({ type: 'OPEN' }, ctx, meta);
  await agent.onStop!(ctx);
  // A new process: the state comes back from the checkpoint's JSON.
  const restored = machineAgent(door);
  const ctx2 = ctxWith(JSON.parse(JSON.stringify(ctx.state)));
  await restored.onStart!(ctx2);
  assert.deepEqual(await restored.onMessage({ type: 'CLOSE' }, ctx2, meta), { value: 'closed', context: { opened: 2 }, status: 'active' });
});

test('options map messages to events and snapshots to replies; bad messages and machine errors throw', async () => {
  const agent = machineAgent(door, { event: (m) => ({ type: String(m).toUpperCase() }) as { type: 'OPEN' }, reply: (s) => s.value });
  const ctx = ctxWith(await agent.init!(ctxWith(undefined)));
  await agent.onStart!(ctx);
  assert.equal(await agent.onMessage('open', ctx, meta), 'open');
  const plain = machineAgent(door);
  const ctx2 = ctxWith(await plain.init!(ctxWith(undefined)));
  await plain.onStart!(ctx2);
  assert.throws(() => plain.onMessage({ nope: 1 }, ctx2, meta), /a machine agent takes events/);
  await plain.onMessage({ type: 'OPEN' }, ctx2, meta);
  const before = ctx2.state;
  assert.throws(() => plain.onMessage({ type: 'BREAK' }, ctx2, meta), /the hinge broke/);
  assert.equal(ctx2.state, before, 'a failed event leaves the last good state to checkpoint');
});
