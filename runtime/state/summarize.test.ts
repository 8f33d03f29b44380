/** The default summarization: when it runs, what it keeps, what it marks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactState, isSummaryMarker, jsonBytes, needsSummary, summarizeHistory, truncateHistory } from './summarize.ts';

const entries = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ i: from + i }));

test('stays quiet under both thresholds', () => {
  const state = { history: entries(10), other: 'x' };
  assert.equal(needsSummary(state, { maxEntries: 10, maxBytes: 10_000 }), false);
  const r = compactState(state, { thresholds: { maxEntries: 10, maxBytes: 10_000 } });
  assert.equal(r.summarized, false);
  assert.equal(r.state, state);
});

test('past the entry threshold, keeps the last N behind a marker, without touching the input', () => {
  const state = { count: 30, history: entries(30), messages: entries(3) };
  const copy = structuredClone(state);
  const r = compactState(state, { thresholds: { maxEntries: 20, keepLast: 5 } });
  assert.equal(r.summarized, true);
  assert.deepEqual(r.state, { count: 30, history: [{ summary: { truncated: 25 } }, ...entries(5, 25)], messages: entries(3) });
  assert.deepEqual(state, copy);
});

test('a second truncation adds to the marker instead of stacking markers', () => {
  const once = truncateHistory({ history: entries(30) }, { keepLast: 5 });
  const grown = { history: [...once.history, ...entries(10, 30)] };
  const twice = truncateHistory(grown, { keepLast: 5 });
  assert.deepEqual(twice.history, [{ summary: { truncated: 35 } }, ...entries(5, 35)]);
  // The marker does not count toward the entry threshold.
  assert.equal(needsSummary(twice, { maxEntries: 5 }), false);
});

test('chat messages get a system marker so the array stays a valid chat', () => {
  const chat = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` }));
  const r = truncateHistory({ messages: chat }, { keepLast: 2 });
  assert.equal(r.messages.length, 3);
  const [marker] = r.messages as unknown[];
  assert.ok(isSummaryMarker(marker));
  assert.equal((marker as { role: string }).role, 'system');
  assert.match((marker as { content: string }).content, /6 earlier messages were truncated/);
});

test('finds histories nested in plain objects, as in an xstate snapshot context', () => {
  const snap = { status: 'active', value: 'chatting', context: { messages: entries(50), user: { history: entries(4) } } };
  assert.equal(needsSummary(snap, { maxEntries: 40 }), true);
  const r = truncateHistory(snap, { keepLast: 10 });
  assert.equal(r.context.messages.length, 11);
  assert.equal(r.context.user, snap.context.user, 'untouched branches are shared, not copied');
  assert.equal(r.status, 'active');
});

test('past the size threshold, keeps fewer entries until the state fits', () => {
  const big = { history: Array.from({ length: 40 }, (_, i) => ({ i, text: 'y'.repeat(500) })) };
  assert.equal(needsSummary(big, { maxBytes: 4_096, maxEntries: 1_000 }), true);
  const r = compactState(big, { thresholds: { maxBytes: 4_096, maxEntries: 1_000, keepLast: 30 } });
  assert.ok(jsonBytes(r.state) <= 4_096, `${jsonBytes(r.state)} B`);
  assert.ok(r.state.history.length > 1, 'keeps what fits');
  assert.equal((r.state.history.at(-1) as { i: number }).i, 39, 'keeps the newest');
});

test("the module's own summarize overrides the default, only when a threshold is passed", () => {
  let calls = 0;
  const summarize = (s: { history: unknown[] }) => {
    calls++;
    return { history: [], digest: `${s.history.length} items` };
  };
  assert.equal(compactState({ history: entries(3) }, { summarize, thresholds: { maxEntries: 5 } }).summarized, false);
  const r = compactState({ history: entries(6) }, { summarize, thresholds: { maxEntries: 5 } });
  assert.deepEqual(r, { state: { history: [], digest: '6 items' }, summarized: true });
  assert.equal(calls, 1);
});

test('states without histories: non-objects and unknown fields are left alone', () => {
  for (const s of [null, 42, 'text', [1, 2, 3], { items: entries(500) }]) {
    assert.deepEqual(truncateHistory(s, { keepLast: 1 }), s);
  }
});

test('with a summarizer, the dropped entries are summarized into the marker, and the summary carries forward', async () => {
  const calls: { dropped: unknown[]; previous: string | undefined }[] = [];
  const summarizer = async (dropped: unknown[], previous: string | undefined) => {
    calls.push({ dropped, previous });
    return `${previous ? `${previous} + ` : ''}${dropped.length} entries`;
  };
  const state = { history: Array.from({ length: 10 }, (_, n) => ({ n })) };
  const once = await summarizeHistory(state, { keepLast: 3 }, summarizer);
  assert.deepEqual(once.history[0], { summary: { truncated: 7, text: '7 entries' } });
  assert.deepEqual(once.history.slice(1), [{ n: 7 }, { n: 8 }, { n: 9 }]);
  assert.deepEqual(calls[0].dropped, state.history.slice(0, 7), 'the oldest entries, oldest first');
  assert.equal(state.history.length, 10, 'the input is not modified');
  const twice = await summarizeHistory({ history: [...once.history, { n: 10 }, { n: 11 }] }, { keepLast: 3 }, summarizer);
  assert.deepEqual(twice.history[0], { summary: { truncated: 9, text: '7 entries + 2 entries' } });
  assert.equal(calls[1].previous, '7 entries', 'the model sees the summary so far');
});

test('a summarized chat keeps a system message that carries the summary', async () => {
  const messages = Array.from({ length: 6 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
  const out = await summarizeHistory({ messages }, { keepLast: 2 }, async () => 'they said hello');
  assert.deepEqual(out.messages[0], { role: 'system', content: '[Summary of 4 earlier messages] they said hello', summary: { truncated: 4, text: 'they said hello' } });
  // A later plain truncation keeps the summary it had.
  const later = truncateHistory({ messages: [...out.messages, { role: 'user', content: 'm6' }, { role: 'assistant', content: 'm7' }] }, { keepLast: 2 });
  assert.deepEqual((later.messages[0] as { summary?: unknown }).summary, { truncated: 6, text: 'they said hello' });
});

test('a failing summarizer rejects, so the caller can fall back to truncation', async () => {
  const state = { history: Array.from({ length: 10 }, (_, n) => ({ n })) };
  await assert.rejects(summarizeHistory(state, { keepLast: 3 }, async () => { throw new Error('model down'); }), /model down/);
});
