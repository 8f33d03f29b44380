import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../errors.ts';
import { resolveConfig, type SupervisorSpec } from './load.ts';
import { configJsonSchema } from './schema.ts';

const file = '/tmp/faultline.config.json';
const config = (intensity: unknown, nested?: unknown) => ({
  name: 'soak',
  supervisor: {
    id: 'root',
    intensity,
    children: [{ agent: { id: 'a', module: 'a.mjs' } }, { supervisor: { id: 'crew', ...(nested === undefined ? {} : { intensity: nested }), children: [{ agent: { id: 'b', module: 'b.mjs' } }] } }],
  },
});

function problems(json: unknown): string[] {
  try {
    resolveConfig(json, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('the config was accepted');
}

test('supervisor.intensity takes any non-negative integer, as OTP does (a soak run at 100,000)', () => {
  const cfg = resolveConfig(config(100_000, 2 ** 40), file);
  assert.equal(cfg.supervisor.intensity, 100_000);
  assert.equal((cfg.supervisor.children[1] as SupervisorSpec).intensity, 2 ** 40);
  assert.equal(resolveConfig(config(0), file).supervisor.intensity, 0);
  assert.equal(resolveConfig(config(Number.MAX_SAFE_INTEGER), file).supervisor.intensity, Number.MAX_SAFE_INTEGER);
  // The JSON Schema the editor validates with agrees.
  const text = JSON.stringify(configJsonSchema());
  assert.doesNotMatch(text, /"maximum":10000\b/);
});

test('a negative, fractional or unsafe intensity is refused with its JSON path', () => {
  for (const bad of [-1, 2.5, Number.MAX_SAFE_INTEGER + 1, '5']) {
    const p = problems(config(bad));
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0], /^\$\.supervisor\.intensity: /, `${bad}: ${p[0]}`);
  }
  assert.match(problems(config(5, -3))[0], /^\$\.supervisor\.children\[1\]\.supervisor\.intensity: /);
});
