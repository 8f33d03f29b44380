import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointItems, forkIdProblem, previousSeq, sizeText, stateText, suggestForkId, type CheckpointRow } from './checkpointList.ts';

const row = (seq: number, o: Partial<CheckpointRow> = {}): CheckpointRow => ({
  agent: 'planner', seq, version: 1, runtimeVersion: '0.1.0', time: '2026-12-07T23:04:05.000Z', kind: 'full', size: 120, checksum: 'x', valid: true, store: 'sqlite', ...o,
});

test('one row per checkpoint, newest first, with seq, kind, size and time', () => {
  const items = checkpointItems('planner', [row(1), row(3, { kind: 'restore', size: 4200 }), row(2, { kind: 'fork' })]);
  assert.deepEqual(items.map((i) => i.label), ['#3', '#2', '#1']);
  assert.match(items[0].description, /^restore · 4\.1 KB · \d\d:\d\d:\d\d$/);
  assert.equal(items[0].icon, 'history');
  assert.equal(items[1].icon, 'repo-forked');
  assert.deepEqual(items[2].checkpoint, { agent: 'planner', seq: 1 });
  assert.match(items[2].contextValue, /\bcheckpoint\b.*\bvalid\b/);
});

test('an invalid checkpoint is marked and offers no compare, restore or fork (no "valid" token)', () => {
  const [item] = checkpointItems('planner', [row(4, { valid: false })]);
  assert.match(item.description, /^invalid · full/);
  assert.equal(item.icon, 'warning');
  assert.doesNotMatch(item.contextValue, /\bvalid\b/);
  assert.match(item.tooltip, /invalid/);
});

test('previous means the retained seq just before, whatever the order and gaps', () => {
  const list = [row(9), row(4), row(7)];
  assert.equal(previousSeq(list, 9), 7);
  assert.equal(previousSeq(list, 7), 4);
  assert.equal(previousSeq(list, 4), undefined);
});

test('a fork id follows the runtime\'s rule and takes no id of the tree', () => {
  const taken = new Set(['root', 'planner', 'planner-fork']);
  assert.equal(forkIdProblem('planner-b', taken), undefined);
  assert.match(forkIdProblem('', taken)!, /Give/);
  assert.match(forkIdProblem('-x', taken)!, /letters, digits/);
  assert.match(forkIdProblem('a b', taken)!, /letters, digits/);
  assert.match(forkIdProblem('x'.repeat(65), taken)!, /1-64/);
  assert.match(forkIdProblem('planner', taken)!, /already/);
  assert.equal(suggestForkId('planner', taken), 'planner-fork-2');
  assert.equal(suggestForkId('writer', taken), 'writer-fork');
});

test('state text: pretty JSON with sorted keys, so a diff shows changes and not reorderings', () => {
  assert.equal(stateText({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{\n  "a": {\n    "c": null,\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n');
  assert.equal(sizeText(1023), '1023 B');
  assert.equal(sizeText(2 * 1024 * 1024), '2.0 MB');
});
