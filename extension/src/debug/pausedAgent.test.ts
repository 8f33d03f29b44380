import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pausedAgent, type PausedAgentLookup } from './pausedAgent.ts';

const lookup = (o: Partial<PausedAgentLookup> = {}): PausedAgentLookup => ({
  agents: ['planner', 'researcher'],
  // s1 is the attach session for planner; s2 is js-debug's child session under it.
  agentOfSession: (id) => ({ s1: 'planner', s2: 'planner', s3: 'researcher' } as Record<string, string>)[id],
  agentOfFile: (f) => (f.endsWith('/agents/researcher.mjs') ? 'researcher' : undefined),
  ...o,
});

test('a Call Stack stack frame: the source URI, then the frame context with its session', () => {
  const ctx = { sessionId: 's2', threadId: 1, frameId: 7, frameName: 'onMessage', frameLocation: { source: { path: '/w/agents/planner.mjs' } } };
  assert.deepEqual(pausedAgent(['file:///w/agents/planner.mjs', ctx], lookup()), { agent: 'planner', via: 'session' });
});

test('a Call Stack thread or session: the id, then the context', () => {
  assert.deepEqual(pausedAgent([1, { sessionId: 's3', threadId: 1 }], lookup()), { agent: 'researcher', via: 'session' });
  assert.deepEqual(pausedAgent(['s1', { sessionId: 's1' }], lookup()), { agent: 'planner', via: 'session' });
});

test('a session the extension did not start: the frame\'s file names the agent', () => {
  assert.deepEqual(pausedAgent(['file:///w/agents/researcher.mjs', { sessionId: 'other' }], lookup()), { agent: 'researcher', via: 'frame' });
  assert.equal(pausedAgent(['file:///w/lib/util.mjs', { sessionId: 'other' }], lookup()), undefined);
});

test('the debug toolbar passes nothing: the focused session is meant', () => {
  assert.deepEqual(pausedAgent([], lookup({ activeSessionId: 's2' })), { agent: 'planner', via: 'active' });
  assert.deepEqual(pausedAgent([undefined], lookup({ activeSessionId: 's3' })), { agent: 'researcher', via: 'active' });
  assert.equal(pausedAgent([], lookup({ activeSessionId: 'unrelated' })), undefined);
  assert.equal(pausedAgent([], lookup()), undefined);
});

test('an agent id, from other commands and tests', () => {
  assert.deepEqual(pausedAgent(['researcher'], lookup({ activeSessionId: 's1' })), { agent: 'researcher', via: 'id' });
});
