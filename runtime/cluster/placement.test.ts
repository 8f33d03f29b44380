import { test } from 'node:test';
import assert from 'node:assert/strict';
import { place } from './placement.ts';

const units = Array.from({ length: 30 }, (_, i) => `unit-${i}`);
const count = (m: Map<string, string>) => {
  const c = new Map<string, number>();
  for (const n of m.values()) c.set(n, (c.get(n) ?? 0) + 1);
  return c;
};

test('every unit has one node; the load is balanced, and every node holds some when there are enough units', () => {
  const m = place(units, ['a', 'b', 'c']);
  assert.equal(m.size, 30);
  assert.deepEqual([...count(m).values()].sort(), [10, 10, 10]);
  const few = place(['planner', 'crew', 'archive'], ['a', 'b', 'c']);
  assert.deepEqual([...few.values()].sort(), ['a', 'b', 'c'], 'three units over three nodes: one each');
  assert.equal(place(units, []).size, 0);
});

test('every node computes the same placement, whatever order it lists the nodes in', () => {
  assert.deepEqual([...place(units, ['c', 'a', 'b'])].sort(), [...place(units, ['a', 'b', 'c'])].sort());
});

test('a node joining takes units over without reshuffling the rest; a node leaving gives up only its own', () => {
  const before = place(units, ['a', 'b', 'c']);
  const joined = place(units, ['a', 'b', 'c', 'd']);
  const moved = units.filter((u) => before.get(u) !== joined.get(u));
  assert.equal(count(joined).get('d'), 8, 'the new node takes its share, ceil(30 / 4)');
  assert.ok(moved.filter((u) => joined.get(u) !== 'd').length <= 2, `almost all moves go to the new node (${moved.length} moved)`);
  const left = place(units, ['a', 'b']);
  const movedOnLeave = units.filter((u) => before.get(u) !== left.get(u));
  assert.ok(movedOnLeave.filter((u) => before.get(u) !== 'c').length <= 3, 'units of the nodes that stayed mostly stay');
  assert.equal(movedOnLeave.filter((u) => before.get(u) === 'c').length, 10, 'all of c moves');
});
