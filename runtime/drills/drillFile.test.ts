import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrillFileError, killsRuntime, parseDrill } from './drillFile.ts';
import { pick } from './probes.ts';

const steady = { probes: [{ type: 'agents' }] };

const problems = (d: unknown): string[] => {
  try {
    parseDrill(d);
  } catch (e) {
    if (e instanceof DrillFileError) return e.problems;
    throw e;
  }
  return [];
};

test('defaults: seed, rollbacks, probe defaults', () => {
  const d = parseDrill({ steadyState: steady, method: [{ type: 'wait', ms: 10 }] });
  assert.equal(d.seed, 1);
  assert.deepEqual(d.rollbacks, []);
  assert.deepEqual(d.steadyState.probes[0], { type: 'agents', agents: '*', state: 'running' });
  assert.equal(killsRuntime(d), false);
  assert.equal(killsRuntime(parseDrill({ steadyState: steady, method: [{ type: 'kill-runtime' }] })), true);
});

test('every problem names its JSON path', () => {
  assert.deepEqual(problems({ steadyState: steady, method: [{ type: 'load', to: 'a', rate: 10 }] }), ['$.method[0].durationMs: missing (number)']);
  assert.deepEqual(problems({ steadyState: steady, method: [] }), ['$.method: Too small: expected array to have >=1 items']);
  assert.deepEqual(problems({ steadyState: steady, method: [{ type: 'wait', ms: 1 }], extra: 1 }), ['$.extra: unknown key "extra"']);
  assert.deepEqual(problems({ steadyState: { probes: [{ type: 'agents', state: 'sleeping' }] }, method: [{ type: 'wait', ms: 1 }] })[0].slice(0, 34), '$.steadyState.probes[0].state: Inv');
});

test('references between steps are checked', () => {
  assert.deepEqual(problems({
    steadyState: steady,
    method: [
      { type: 'inject', name: 'x', fault: 'kill', target: 'a' },
      { type: 'inject', name: 'x', fault: 'kill', target: 'b' },
      { type: 'probe', probe: { type: 'metric', metric: 'm', tolerance: { gt: '$later' } } },
      { type: 'probe', probe: { type: 'metric', metric: 'm', tolerance: { min: 0 }, capture: 'later' } },
      { type: 'inject', fault: 'kill-runtime', target: 'runtime' },
      { type: 'load', to: 'a', rate: 1, durationMs: 10, kind: 'send', timeoutMs: 5 },
    ],
    rollbacks: [{ type: 'kill-runtime' }, { type: 'clear', fault: 'x' }],
  }), [
    '$.method[1].name: step name "x" is already used at $.method[0].name',
    '$.method[2].probe.tolerance: "$later" is not captured by an earlier probe (add "capture": "later" to one)',
    '$.method[4].fault: use a {"type": "kill-runtime"} step, which also waits for the runtime to come back',
    '$.method[5].timeoutMs: only asks have a timeout',
    '$.rollbacks[0].type: a rollback cannot kill the runtime',
  ]);
});

test('pick reads a dot path into a reply', () => {
  assert.equal(pick({ draft: { words: [3, 4] } }, 'draft.words[1]'), 4);
  assert.equal(pick({ a: 1 }, 'a.b.c'), undefined);
  assert.deepEqual(pick({ a: 1 }, undefined), { a: 1 });
});
