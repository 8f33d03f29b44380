import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentTree } from '../model/agentTree.ts';
import { agent, exampleStatus } from '../model/fixtures.ts';
import { flatten, rowSignature, StableItems } from './stableItems.ts';

test('rows keep their objects while the tree keeps its shape; a changed row is told apart by its signature', () => {
  const s = new StableItems();
  const first = s.update(agentTree(exampleStatus().tree));
  assert.equal(s.takeReshaped(), true, 'the first rows are a new shape');
  const shown = new Map(flatten(first).map((v) => [v, rowSignature(v)]));

  const next = exampleStatus();
  const planner = next.tree.children.find((c) => c.id === 'planner')!;
  Object.assign(planner, { pid: 4242, restarts: 1 });
  const second = s.update(agentTree(next.tree));
  assert.equal(second, first, 'the same root array');
  assert.equal(s.takeReshaped(), false);
  const changed = flatten(second).filter((v) => shown.get(v) !== rowSignature(v));
  assert.deepEqual(changed.map((v) => v.label), ['planner']);
  assert.match(changed[0].description, /↻1 · pid 4242/);
  assert.equal((changed[0].node as { pid: number }).pid, 4242, 'the row carries the fresh status');
});

test('an added agent reshapes the tree: new objects and one full refresh', () => {
  const s = new StableItems();
  const first = s.update(agentTree(exampleStatus().tree));
  s.takeReshaped();
  const next = exampleStatus();
  next.tree.children.push(agent('caller'));
  const second = s.update(agentTree(next.tree));
  assert.notEqual(second, first);
  assert.equal(s.takeReshaped(), true);
  assert.equal(s.takeReshaped(), false, 'only once');
});
