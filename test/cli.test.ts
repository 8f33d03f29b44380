/** The `faultline` CLI as a user runs it: output and exit codes 0/1/2. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli, probe, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

describe('without a runtime', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'faultline-cli-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('no command or an unknown one is bad usage (2); --help is 0', async () => {
    assert.equal((await cli([], dir)).code, 2);
    const r = await cli(['frobnicate'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.equal((await cli(['--help'], dir)).code, 0);
    const h = await cli(['ask', '--help'], dir);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: faultline ask <agent> <json>/);
  });

  test('commands that need a runtime say none is running (1)', async () => {
    const r = await cli(['status'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No Faultline runtime is running here/);
  });

  test('missing arguments and unknown options are bad usage (2)', async () => {
    assert.equal((await cli(['ask', 'x'], dir)).code, 2);
    assert.equal((await cli(['status', '--bogus'], dir)).code, 2);
    assert.equal((await cli(['ask', 'x', '{bad json'], dir)).code, 2);
    assert.equal((await cli(['up', '--port', 'abc'], dir)).code, 2);
  });

  test('bad configs exit 2 and name the JSON path', async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'x', supervisor: { id: 'root', strategy: 'one_for_some', children: [] } }, /\$\.supervisor\.strategy: Invalid option/],
      [{ name: 'x', supervisor: { id: 'root', children: [{ supervisor: { id: 'crew', children: [{ agent: { id: 'w' } }] } }] } }, /\$\.supervisor\.children\[0\]\.supervisor\.children\[0\]\.agent\.module: /],
      [{ name: 'x', supervisor: { id: 'root', children: [probe('a'), probe('a')] } }, /\$\.supervisor\.children\[1\]\.agent\.id: id "a" is already used at \$\.supervisor\.children\[0\]\.agent\.id/],
      [{ name: 'x', supervisor: { id: 'root', intensity: -1, children: [] } }, /\$\.supervisor\.intensity: /],
      [{ name: 'x', supervisor: { id: 'root', children: [{ agent: { id: 'a', module: 'a.mjs', restart: 'sometimes' } }] } }, /\$\.supervisor\.children\[0\]\.agent\.restart: /],
      [{ name: 'x', supervisr: {} }, /\$\.supervisr: unknown key|\$\.supervisor: /],
      [{ name: 'x', checkpoints: { summarize: { model: 'nope' } }, supervisor: { id: 'root', children: [probe('a')] } }, /\$\.checkpoints\.summarize\.model: "nope" is not a model chain or a dependency/],
      ['{ "name": ', /\$: not valid JSON/],
    ];
    for (const [config, re] of cases) {
      const ws = workspace(config);
      try {
        const r = await cli(['up'], ws);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, re);
        assert.match(r.stderr, /faultline\.config\.json/);
      } finally {
        rmSync(ws, { recursive: true, force: true });
      }
    }
    const none = await cli(['up', '--config', 'missing.json'], dir);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing\.json:\s+cannot read the config: no such file/);
  });

  test('schema prints the config JSON Schema', async () => {
    const r = await cli(['schema'], dir);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout);
    assert.ok(schema.properties.supervisor);
    assert.ok(schema.properties.dependencies);
  });
});

describe('with a runtime', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({ name: 'cli', supervisor: { id: 'root', children: [probe('one'), { supervisor: { id: 'team', strategy: 'one_for_all', children: [probe('two'), probe('three', { isolation: 'thread' })] } }] } }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
  });
  after(() => rt.stop());

  test('status --json prints the status contract', async () => {
    const r = await cli(['status', '--json'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.runtime.pid, rt.proc.pid);
    assert.equal(typeof s.runtime.uptimeMs, 'number');
    assert.equal(s.runtime.version, '0.1.0');
    assert.deepEqual(Object.keys(s.runtime.spares).sort(), ['process', 'thread']);
    assert.ok(s.runtime.spares.process <= 2, 'the configured warm spares at most');
    assert.deepEqual(Object.keys(s.tree).sort(), ['children', 'id', 'intensity', 'kind', 'restart', 'restarts', 'state', 'strategy'].sort());
    assert.deepEqual([s.tree.id, s.tree.kind, s.tree.state, s.tree.strategy, s.tree.restarts], ['root', 'supervisor', 'running', 'one_for_one', 0]);
    const one = s.tree.children[0];
    assert.deepEqual([one.id, one.kind, one.state, one.restarts, one.isolation], ['one', 'agent', 'running', 0, 'process']);
    assert.equal(typeof one.pid, 'number');
    assert.equal(s.tree.children[1].children[1].isolation, 'thread');
    assert.ok(Array.isArray(s.dependencies));
  });

  test('status prints the tree for people', async () => {
    const r = await cli(['status'], rt.dir);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^cli {2}runtime pid \d+ {2}up \S+ {2}v0\.1\.0 {2}spares \d/);
    assert.match(r.stdout, /├─ one\s+agent process\s+running\s+pid \d+\s+restarts 0/);
    assert.match(r.stdout, /└─ team\s+supervisor one_for_all\s+running/);
    assert.match(r.stdout, /└─ three\s+agent thread\s+running\s+pid \d+\/t\d+/);
  });

  test('status finds the runtime from a subdirectory', async () => {
    const r = await cli(['status', '--json'], path.join(rt.dir, 'agents'));
    assert.equal(r.code, 0, r.stderr);
  });

  test('ask prints the reply as JSON; send accepts; errors exit 1', async () => {
    const a = await cli(['ask', 'one', '{"op":"echo","value":42}'], rt.dir);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).echo, 42);
    const s = await cli(['send', 'two', '{"op":"record","value":"x"}', '--json'], rt.dir);
    assert.equal(s.code, 0);
    assert.deepEqual(JSON.parse(s.stdout), { accepted: true });
    const t = await cli(['ask', 'two', '{"op":"sleep","ms":2000}', '--timeout-ms', '100'], rt.dir);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /did not reply within 100 ms/);
    const u = await cli(['ask', 'ghost', '{}'], rt.dir);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /No agent "ghost"/);
  });

  test('restart gives the agent a new pid', async () => {
    const before = (await rt.agent('one')).pid;
    const r = await cli(['restart', 'one'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /one: running \(pid \d+\)/);
    assert.notEqual((await rt.agent('one')).pid, before);
  });

  test('machine shows an agent\'s and a supervisor\'s lifecycle machine; --json prints definition, value and context', async () => {
    const r = await cli(['machine', 'one'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^agent one: running\.live$/m);
    assert.match(r.stdout, /^ {2}restarts +\d+$/m);
    assert.match(r.stdout, /^ {2}EXIT → exited$/m, 'the transitions from here');
    assert.match(r.stdout, /after heartbeatTimeout \[silent\] → running\.late/);
    const j = await cli(['machine', 'team', '--json'], rt.dir);
    assert.equal(j.code, 0, j.stderr);
    const m = JSON.parse(j.stdout);
    assert.deepEqual(Object.keys(m).sort(), ['context', 'definition', 'id', 'value']);
    assert.equal(m.id, 'team');
    assert.equal(m.value, 'running');
    assert.equal(m.definition.id, 'supervisor');
    assert.equal(m.context.strategy, 'one_for_all');
    const u = await cli(['machine', 'ghost'], rt.dir);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /No agent or supervisor "ghost".*supervisors: root, team/);
    assert.equal((await cli(['machine'], rt.dir)).code, 2);
    assert.match((await cli(['machine', '--help'], rt.dir)).stdout, /Usage: faultline machine <agent\|supervisor> \[--json\]/);
  });

  test('a second `up` for the same workspace is refused (1)', async () => {
    const r = await cli(['up'], rt.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already running/);
  });
});

describe('stopping', () => {
  test('down stops the agents in reverse order and the runtime exits 0', async () => {
    const rt = await up(workspace({ name: 'down', supervisor: { id: 'root', children: [probe('first'), probe('second'), probe('third')] } }));
    try {
      await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
      const pids = agentsOf((await rt.status()).tree).map((a) => a.pid!);
      const r = await cli(['down'], rt.dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await rt.exited).code, 0);
      const order = [...rt.output().matchAll(/agent (\w+) running -> stopping/g)].map((m) => m[1]);
      assert.deepEqual(order, ['third', 'second', 'first']);
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
      assert.equal(existsSync(path.join(rt.dir, '.faultline', 'runtime.json')), false);
    } finally {
      await rt.stop();
    }
  });

  test('SIGTERM stops gracefully; an agent that ignores the stop is killed after its shutdownMs', async () => {
    const rt = await up(workspace({ name: 'sigterm', supervisor: { id: 'root', children: [probe('calm'), probe('stuck', { shutdownMs: 300 })] } }));
    try {
      await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
      await rt.client.call('ask', { agent: 'stuck', message: { op: 'hang' } });
      rt.proc.kill('SIGTERM');
      const { code } = await rt.exited;
      assert.equal(code, 0);
      assert.match(rt.output(), /agent stuck did not stop within 300 ms; killing it|stuck stopping -> stopped/);
      assert.match(rt.output(), /faultline: stopped/);
    } finally {
      await rt.stop();
    }
  });
});
