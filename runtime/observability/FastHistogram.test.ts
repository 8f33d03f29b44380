import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './FastHistogram.ts';

test('renders exactly what prom-client\'s own Histogram renders for the same observations', async () => {
  const buckets = [0.01, 0.1, 1, 10];
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram({ name: 'h_seconds', help: 'help text', labelNames: ['agent', 'task'], buckets, registers: [ours] });
  const ref = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['agent', 'task'], buckets, registers: [theirs] });
  const obs: [string, string, number][] = [
    ['planner', 'ask', 0.005], ['planner', 'ask', 0.01], ['planner', 'ask', 0.5], ['planner', 'ask', 99],
    ['writer', 'draft "x"\n', 0.2], ['writer', 'draft "x"\n', 1],
  ];
  for (const [agent, task, v] of obs) {
    fast.observe(`${agent}\u0000${task}`, { agent, task }, v);
    ref.observe({ agent, task }, v);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.equal(fast.countOf('planner\u0000ask'), 4);
  fast.reset();
  assert.doesNotMatch(await ours.metrics(), /h_seconds_count/);
});
