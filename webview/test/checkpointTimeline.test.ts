/**
 * The checkpoint timeline is built without the DOM (src/model/checkpointTimeline.ts):
 * positions on the time axis, the kinds and their labels, the newest N, and
 * the empty and single-checkpoint cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DashboardCheckpoint } from '../../runtime/protocol/webview.ts';
import { buildCheckpointTimeline } from '../src/model/checkpointTimeline.ts';

const T0 = Date.parse('2026-12-08T00:00:00.000Z');
const cp = (seq: number, sec: number, kind: DashboardCheckpoint['kind'] = 'full', valid = true): DashboardCheckpoint => ({ seq, version: 1, kind, size: 1000 + seq, time: new Date(T0 + sec * 1000).toISOString(), valid });

test('marks sit at their time between the first and the last, inset from the edges, oldest first', () => {
  const t = buildCheckpointTimeline([cp(3, 100), cp(1, 0), cp(2, 25, 'summary')]);
  assert.deepEqual(t.marks.map((m) => [m.seq, m.kind, m.pct]), [[1, 'full', 2], [2, 'summary', 26], [3, 'full', 98]]);
  assert.equal(t.startMs, T0);
  assert.equal(t.endMs, T0 + 100_000);
  assert.equal(t.hidden, 0);
});

test('restore and fork are labelled, full and summary are not; an invalid one says corrupt in its title', () => {
  const t = buildCheckpointTimeline([cp(1, 0), cp(2, 10, 'restore'), cp(3, 20, 'fork'), cp(4, 30, 'summary', false)], 50, () => '00:00:30');
  assert.deepEqual(t.marks.map((m) => [m.kind, m.label, m.valid]), [['full', '', true], ['restore', 'restore', true], ['fork', 'fork', true], ['summary', '', false]]);
  assert.equal(t.marks[3].title, '#4 summary (corrupt)\n1,004 B · v1\n00:00:30');
  assert.match(t.marks[1].title, /^#2 restore\n1,002 B · v1\n/);
});

test('no checkpoints: no marks; one checkpoint, or several at one instant, sit in the middle', () => {
  assert.deepEqual(buildCheckpointTimeline([]), { marks: [], startMs: 0, endMs: 0, hidden: 0 });
  const one = buildCheckpointTimeline([cp(5, 7, 'fork')]);
  assert.deepEqual(one.marks.map((m) => [m.seq, m.pct, m.label]), [[5, 50, 'fork']]);
  assert.deepEqual(buildCheckpointTimeline([cp(1, 3), cp(2, 3)]).marks.map((m) => m.pct), [50, 50]);
});

test('only the newest N by seq are shown; rows without a readable time are left off and counted', () => {
  const rows = Array.from({ length: 60 }, (_, i) => cp(i + 1, i));
  const t = buildCheckpointTimeline(rows, 50);
  assert.equal(t.marks.length, 50);
  assert.equal(t.marks[0].seq, 11);
  assert.equal(t.marks.at(-1)!.seq, 60);
  assert.equal(t.hidden, 10);
  const bad = buildCheckpointTimeline([cp(1, 0), { ...cp(2, 1), time: 'not a time' }]);
  assert.deepEqual(bad.marks.map((m) => m.seq), [1]);
  assert.equal(bad.hidden, 1);
});
