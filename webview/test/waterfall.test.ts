/**
 * The waterfall of a trace is built without the DOM (src/model/waterfall.ts),
 * so its geometry is tested here directly: tree order and depth from parent
 * links, bar offsets and widths in percent of the trace, event markers at
 * their time on their span, the reliability summary of a retried and
 * fallen-back model call, and tolerance of what a runtime might send.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisTicks, buildWaterfall, markKind, opKind, spanMs } from '../src/model/waterfall.ts';
import { plannerTrace } from './fixtures.ts';

const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 0.01, `${what}: ${actual} ≈ ${expected}`);

test('rows come in tree order, indented by depth; a child invoke_agent of another agent nests its own calls', () => {
  const w = buildWaterfall(plannerTrace());
  assert.deepEqual(
    w.rows.map((r) => [r.depth, r.span.name, r.op, r.span.agent]),
    [
      [0, 'invoke_agent planner', 'invoke_agent', 'planner'],
      [1, 'chat big', 'chat', 'planner'],
      [1, 'execute_tool search', 'execute_tool', 'planner'],
      [1, 'invoke_agent researcher', 'invoke_agent', 'researcher'],
      [2, 'chat small', 'chat', 'researcher'],
    ],
  );
  assert.equal(w.durationMs, 2400);
  assert.equal(w.hidden, 0);
});

test('bars sit on the trace timeline in percent, inside it, each within its parent', () => {
  const w = buildWaterfall(plannerTrace());
  const geo = w.rows.map((r) => [r.leftPct, r.widthPct, r.offsetMs, r.durationMs]);
  const want = [[0, 100, 0, 2400], [2.083, 66.667, 50, 1600], [70.833, 16.667, 1700, 400], [88.333, 10.833, 2120, 260], [89.583, 7.5, 2150, 180]];
  geo.forEach((g, i) => {
    near(g[0], want[i][0], `row ${i} left`);
    near(g[1], want[i][1], `row ${i} width`);
    assert.equal(g[2], want[i][2]);
    assert.equal(g[3], want[i][3]);
  });
  for (const r of w.rows) assert.ok(r.leftPct >= 0 && r.leftPct + r.widthPct <= 100.001);
  const [, , , researcher, small] = w.rows;
  assert.ok(small.leftPct >= researcher.leftPct && small.leftPct + small.widthPct <= researcher.leftPct + researcher.widthPct + 0.001);
});

test('events are markers at their time on their span: two retries and a fallback on the chat, a fault on the tool, a checkpoint on the researcher', () => {
  const w = buildWaterfall(plannerTrace());
  const marks = w.rows.map((r) => r.marks.map((m) => [m.kind, Math.round(m.pct * 100) / 100]));
  assert.deepEqual(marks, [[], [['retry', 14.58], ['retry', 31.25], ['fallback', 47.92]], [['fault', 71.25]], [['checkpoint', 98.75]], []]);
  const chat = w.rows[1];
  for (const m of chat.marks) assert.ok(m.pct >= chat.leftPct && m.pct <= chat.leftPct + chat.widthPct, 'on the bar');
  assert.equal(chat.marks[0].offsetMs, 350);
  assert.equal(chat.marks[0].title, 'retry at +350 ms\nfaultline.dependency = primary\nfaultline.attempt = 1\nfaultline.retry.delay_ms = 100\nhttp.response.status_code = 503');
  assert.match(chat.marks[2].title, /^fallback at \+1\.15 s\n.*faultline\.fallback\.to = backup/s);
});

test('the summary tells the reliability story; errors are marked', () => {
  const w = buildWaterfall(plannerTrace());
  assert.equal(w.rows[1].summary, '2 retries · fallback → backup · served by small');
  assert.equal(w.rows[1].error, false);
  assert.equal(w.rows[2].summary, 'fault: error · error: search: HTTP 503 (injected)');
  assert.equal(w.rows[2].error, true);
  assert.equal(w.rows[4].summary, '', 'small asked, small served: nothing to tell');
  assert.match(w.rows[1].title, /^chat big — 1\.60 s from \+50 ms\nagent planner\nat agents\/planner\.mjs:12:22\n.*gen_ai\.response\.model = small/s);
});

test('the axis has round ticks from 0 to the end, and its step is the grid', () => {
  const w = buildWaterfall(plannerTrace());
  assert.deepEqual(w.ticks.map((t) => t.label), ['0', '500 ms', '1 s', '1.5 s', '2 s']);
  assert.deepEqual(w.ticks.map((t) => Math.round(t.pct * 10) / 10), [0, 20.8, 41.7, 62.5, 83.3]);
  near(w.stepPct, 20.833, 'grid step');
  assert.deepEqual(axisTicks(90).ticks.map((t) => t.label), ['0', '20 ms', '40 ms', '60 ms', '80 ms']);
  assert.deepEqual(axisTicks(1000).ticks.map((t) => t.label), ['0', '200 ms', '400 ms', '600 ms', '800 ms', '1 s']);
  assert.deepEqual(axisTicks(0).ticks.map((t) => t.pct), [0, 20, 40, 60, 80, 100], 'an empty trace still has an axis');
});

test('what a runtime might send: orphans are roots, cycles are cut, junk is skipped, times are clamped, rows are capped', () => {
  const t = plannerTrace();
  const [root, chat, tool] = t.spans;
  // The root came from outside (a caller's traceparent): its children become roots.
  const orphaned = buildWaterfall({ ...t, startMs: chat.startMs, durationMs: 0, spans: t.spans.slice(1) });
  assert.deepEqual(orphaned.rows.map((r) => r.depth), [0, 0, 0, 1]);
  near(orphaned.rows[0].leftPct, 0, 'the timeline starts at the earliest span');
  assert.equal(orphaned.durationMs, 2330, 'and ends at the latest end');
  // A cycle: chat ↔ tool.
  const cyclic = buildWaterfall({ ...t, spans: [{ ...chat, parentSpanId: tool.spanId }, { ...tool, parentSpanId: chat.spanId }] });
  assert.equal(cyclic.rows.length, 2);
  // Junk and out-of-range events.
  const junk = buildWaterfall({ ...t, spans: [null, { ...root, events: [{ name: 'retry', timeMs: root.startMs - 5000, attributes: {} }, { bogus: 1 }] }] as never });
  assert.equal(junk.rows.length, 1);
  assert.equal(junk.rows[0].marks.length, 1);
  assert.equal(junk.rows[0].marks[0].pct, 0, 'clamped to its span');
  assert.deepEqual(buildWaterfall({} as never).rows, []);
  const capped = buildWaterfall(t, 3);
  assert.equal(capped.rows.length, 3);
  assert.equal(capped.hidden, 2);
});

test('operation and event kinds from the GenAI names and the runtime event names', () => {
  assert.equal(opKind({ name: 'chat big', attributes: {} }), 'chat');
  assert.equal(opKind({ name: 'whatever', attributes: { 'gen_ai.operation.name': 'execute_tool' } }), 'execute_tool');
  assert.equal(opKind({ name: 'ask', attributes: {} }), 'other');
  assert.deepEqual(['retry', 'fallback', 'degraded', 'fault', 'checkpoint', 'exception', 'crash', 'give_up', 'breaker', 'redelivered', 'mystery'].map(markKind), ['retry', 'fallback', 'fallback', 'fault', 'checkpoint', 'error', 'error', 'error', 'breaker', 'retry', 'other']);
  assert.deepEqual([0.25, 12.4, 999, 1240, 12_500, 125_000].map(spanMs), ['0.3 ms', '12 ms', '999 ms', '1.24 s', '12.5 s', '2m 05s']);
});
