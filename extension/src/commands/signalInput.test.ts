import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePayload, signalNameProblem, signalOutcome, suggestedSignal } from './signalInput.ts';
import { exampleStatus } from '../model/fixtures.ts';
import type { AgentStatus } from '../../../runtime/protocol/status.ts';

test('the signal name is prefilled from the oldest wait, and must not be blank', () => {
  const a = exampleStatus().tree.children[0] as AgentStatus;
  assert.equal(suggestedSignal(a), '');
  a.waiting = [{ name: 'approval', since: '2026-12-07T23:00:00.000Z' }, { name: 'other', since: '2026-12-07T23:01:00.000Z' }];
  assert.equal(suggestedSignal(a), 'approval');
  assert.ok(signalNameProblem('  '));
  assert.equal(signalNameProblem('approval'), undefined);
});

test('the payload must be JSON; any JSON value goes', () => {
  assert.deepEqual(parsePayload('{"ok":true}'), { ok: true, value: { ok: true } });
  assert.deepEqual(parsePayload('null'), { ok: true, value: null });
  assert.deepEqual(parsePayload('"yes"'), { ok: true, value: 'yes' });
  const bad = parsePayload('{ok:true}');
  assert.equal(bad.ok, false);
  assert.match((bad as { problem: string }).problem, /^Not JSON: /);
  assert.equal(parsePayload('').ok, false);
});

test('the outcome says whether a wait took the signal', () => {
  assert.match(signalOutcome('waiter', 'approval', true), /a pending wait took it/);
  assert.match(signalOutcome('waiter', 'approval', false), /no wait was pending.*kept/);
});
