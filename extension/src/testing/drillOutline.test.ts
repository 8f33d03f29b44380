import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { outlineDrill, looksLikeDrill } from './drillOutline.ts';
import { parseJsonWithLocations, JsonSyntaxError } from './jsonLocations.ts';
import { drillProblems } from './drillValidator.ts';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/research-team/drills');

const TEXT = `{
  "name": "small",
  "system": "research-team",
  "steadyState": {
    "probes": [
      { "type": "agents", "agents": "*" },
      {
        "type": "dependency",
        "dependency": "primary", "breaker": "open"
      }
    ]
  },
  "method": [
    { "type": "inject", "fault": "kill", "target": "planner" },
    { "type": "wait", "ms": 100 },

    { "type": "probe", "name": "back", "probe": { "type": "agents", "agents": "planner" } }
  ]
}
`;

test('a drill: its name, its steps and probes at their lines (0-based, as VS Code counts)', () => {
  const r = outlineDrill(TEXT, '/w/drills/small.json');
  assert.equal(r.kind, 'drill');
  if (r.kind !== 'drill') return;
  const o = r.outline;
  assert.equal(o.name, 'small');
  assert.deepEqual(o.span, { start: { line: 1, character: 2 }, end: { line: 1, character: 17 } });
  assert.equal(o.systemSpan?.start.line, 2);
  assert.deepEqual(o.probes.map((p) => [p.label, p.span.start.line, p.span.end.line]), [['agents * running', 5, 5], ['dependency primary open', 6, 9]]);
  assert.deepEqual(o.steps.map((s) => [s.index, s.label, s.type, s.span.start.line]), [[0, 'inject kill planner', 'inject', 13], [1, 'wait 100 ms', 'wait', 14], [2, 'back', 'probe', 16]]);
  assert.equal(o.steps[0].span.start.character, 4);
  assert.equal(o.killsRuntime, false);
  assert.deepEqual(o.drill, JSON.parse(TEXT));
});

test('the name defaults to the file name; a kill-runtime step means the CLI', () => {
  const r = outlineDrill('{"steadyState":{"probes":[{"type":"readyz"}]},"method":[{"type":"kill-runtime"}]}', '/w/x/restart.drill.json');
  assert.ok(r.kind === 'drill');
  assert.equal(r.outline.name, 'restart');
  assert.equal(r.outline.killsRuntime, true);
  assert.equal(r.outline.steps[0].label, 'kill the runtime and wait for it to come back');
  assert.deepEqual(r.outline.span.start, { line: 0, character: 0 });
});

test('not a drill: other JSON, and broken JSON with the place of the error', () => {
  assert.deepEqual(outlineDrill('{"name":"pkg","version":"1.0.0"}', '/w/package.json').kind, 'not-a-drill');
  const bad = outlineDrill('{\n  "steadyState": {\n    "probes": [ ,\n', '/w/drills/bad.json');
  assert.equal(bad.kind, 'not-a-drill');
  if (bad.kind !== 'not-a-drill') return;
  assert.match(bad.reason, /^not valid JSON: unexpected character "," at line 3/);
  assert.equal(bad.span?.start.line, 2);
  assert.equal(looksLikeDrill({ steadyState: {}, method: [] }), false);
  assert.equal(looksLikeDrill({ steadyState: { probes: [] }, method: [] }), true);
});

test('the location parser agrees with JSON.parse on the example drills, and every step sits where its text is', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const text = readFileSync(path.join(examples, f), 'utf8');
    const r = outlineDrill(text, path.join(examples, f));
    assert.equal(r.kind, 'drill', f);
    if (r.kind !== 'drill') continue;
    assert.deepEqual(r.outline.drill, JSON.parse(text), f);
    const lines = text.split('\n');
    const json = JSON.parse(text);
    for (const s of r.outline.steps) {
      assert.equal(lines[s.span.start.line][s.span.start.character], '{', `${f} step ${s.index}`);
      if (json.method[s.index].name) assert.ok(lines[s.span.start.line].includes(JSON.stringify(json.method[s.index].name)), `${f} step ${s.index} "${json.method[s.index].name}" at line ${s.span.start.line + 1}`);
    }
    assert.equal(r.outline.probes.length, json.steadyState.probes.length);
    assert.equal(r.outline.killsRuntime, f === 'runtime-kill.json', f);
    // The runtime's own check (bundled apart as dist/drillValidator.js) accepts the shipped drills.
    assert.deepEqual(drillProblems(json), [], f);
  }
});

test("the runtime's check names the JSON path of each problem", () => {
  assert.deepEqual(drillProblems({ steadyState: { probes: [{ type: 'agents' }] }, method: [{ type: 'wait' }] }), ['$.method[0].ms: missing (number)']);
});

test('strings with escapes and numbers keep their spans; trailing text is an error', () => {
  const n = parseJsonWithLocations('{"a\\"b": [1, -2.5e3, "x\\\\"], "c": null}');
  assert.equal(n.kind, 'object');
  if (n.kind !== 'object') return;
  assert.equal(n.entries[0].key, 'a"b');
  assert.equal(n.entries[1].value.kind, 'null');
  assert.throws(() => parseJsonWithLocations('{} x'), JsonSyntaxError);
  assert.throws(() => parseJsonWithLocations('{"a": tru}'), /unexpected character "t"/);
});
