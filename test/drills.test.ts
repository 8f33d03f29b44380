/**
 * Drills end to end: the shipped drills pass on the example (a copy with
 * free ports for its mock model servers, so it can run beside a real one),
 * a broken hypothesis exits 1 naming the probe, a bad drill file exits 2
 * naming the JSON path, and the `drill.run` control method runs a drill
 * inside the runtime.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { cli, cliPath, probe, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import type { DrillJournal } from '../runtime/drills/journal.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

const example = path.join(repoRoot, 'examples', 'research-team');
const shipped = (name: string) => path.join(example, 'drills', `${name}.json`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The example in a temp dir, its mock model servers moved to free ports. */
async function exampleCopy(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-drill-'));
  cpSync(example, dir, { recursive: true, filter: (src) => path.basename(src) !== '.faultline' });
  const file = path.join(dir, 'faultline.config.json');
  let text = readFileSync(file, 'utf8');
  for (const port of ['8787', '8788', '9000']) text = text.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${await freePort()}`);
  writeFileSync(file, text);
  // The example's MCP server imports @modelcontextprotocol/sdk, as a project that installed faultline has it.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

async function drill(file: string, cwd: string, args: string[] = [], timeoutMs = 120_000) {
  const report = path.join(cwd, `report-${path.basename(file)}`);
  const r = await cli(['drill', file, '--report', report, ...args], cwd, timeoutMs);
  let journal: DrillJournal | undefined;
  try {
    journal = JSON.parse(readFileSync(report, 'utf8'));
  } catch { /* no report: the drill did not run (bad file, no runtime) */ }
  return { ...r, journal, out: `${r.stdout}\n${r.stderr}` };
}

describe('shipped drills pass on the example', () => {
  let dir: string;
  before(async () => { dir = await exampleCopy(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('kill-random: seeded kills while the planner takes requests; all back, nothing lost', async () => {
    const r = await drill(shipped('kill-random'), dir, ['--config', 'faultline.config.json']);
    assert.equal(r.code, 0, r.out);
    const j = r.journal!;
    assert.equal(j.held, true);
    assert.equal(j.runner, 'cli');
    assert.match(r.stdout, /schedule \(seed 23\): \+889 planner, \+2587 writer, \+3823 researcher, \+5341 scheduler/, 'the seed replays the same schedule');
    assert.equal(j.chaos[0].kills.filter((k) => k.killed).length, 4);
    assert.deepEqual(j.recovery.unrecovered, []);
    for (const agent of ['planner', 'writer', 'researcher', 'scheduler']) assert.ok(j.recovery.agents[agent]?.recoverMs !== undefined, `${agent} has a recovery time`);
    assert.ok(j.recovery.agents.researcher.incidents >= 2, 'one_for_all: the writer\'s kill took the researcher down too');
    assert.equal(j.messages.lost, 0);
    assert.equal(j.messages.asks.failed, 0);
    assert.ok(j.messages.acknowledged >= 16);
    assert.match(r.stdout, /the hypothesis held/);
  });

  test('model-outage: the breaker trips, the backup takes over, the primary returns', async () => {
    const r = await drill(shipped('model-outage'), dir, ['--config', 'faultline.config.json']);
    assert.equal(r.code, 0, r.out);
    const j = r.journal!;
    const steps = Object.fromEntries(j.method.map((s) => [s.name, s]));
    assert.equal(steps["the primary's breaker trips"].ok, true);
    assert.equal(steps['the backup answers in its place'].probe?.value, 'backup');
    assert.equal(steps['the primary serves again'].probe?.value, 'primary');
    const b = j.recovery.dependencies.primary;
    assert.deepEqual(b.transitions.map((t) => t.state), ['open', 'half-open', 'closed']);
    assert.ok(b.detectMs! >= 0 && b.recoverMs! > 0);
    assert.equal(j.messages.lost, 0);
    assert.equal(j.messages.asks.failed, 0, 'requests are answered through the fallback');
  });

  test('corrupt-checkpoint: previous good checkpoint, no crash', async () => {
    const r = await drill(shipped('corrupt-checkpoint'), dir, ['--config', 'faultline.config.json']);
    assert.equal(r.code, 0, r.out);
    const j = r.journal!;
    const last = j.method.at(-1)!;
    const before = j.method[0].probe!.value as number;
    // The latest checkpoint (after `before`) is skipped: the planner restores the one before it and counts on from there.
    assert.equal(last.probe!.value, before);
    assert.equal(j.recovery.agents.planner.incidents, 1);
  });

  test('runtime-kill: the drill restarts the runtime it started; state comes back from checkpoints', async () => {
    const r = await drill(shipped('runtime-kill'), dir, ['--config', 'faultline.config.json']);
    assert.equal(r.code, 0, r.out);
    const j = r.journal!;
    assert.equal(j.runtimeRestarts.length, 1);
    assert.equal(j.runtimeRestarts[0].restartedBy, 'drill');
    assert.notEqual(j.runtimeRestarts[0].pid, j.runtimeRestarts[0].killedPid);
    assert.equal(Object.keys(j.recovery.agents).length, 7, 'every agent went down with the runtime and came back');
    assert.deepEqual(j.recovery.unrecovered, []);
    assert.match(r.stdout, /starting the runtime .* as a child process/);
    // The drill stopped the runtime it started.
    assert.throws(() => readFileSync(path.join(dir, '.faultline', 'runtime.json')), /ENOENT/);
  });

  test('restart-storm-100: 100 agents killed at once under load; all back, state restored, nothing lost', async () => {
    const r = await drill(shipped('restart-storm-100'), dir, ['--config', 'storm/faultline.config.json'], 240_000);
    assert.equal(r.code, 0, r.out);
    const j = r.journal!;
    assert.equal(j.system, 'research-storm');
    assert.equal(Object.keys(j.recovery.agents).length, 100);
    assert.deepEqual(j.recovery.unrecovered, []);
    assert.ok(j.recovery.firstRecoveredMs! <= j.recovery.allRecoveredMs!);
    assert.equal(j.messages.lost, 0);
    assert.equal(j.messages.asks.failed, 0);
    assert.ok(j.messages.acknowledged >= 600, `${j.messages.acknowledged} acknowledged`);
    const restored = j.method.find((s) => s.name === 'w-042 restored its index')!;
    assert.ok((restored.probe!.value as number) >= 200, 'w-042 kept the 200 topics indexed before the storm');
  });
});

describe('drills that fail, and bad drill files', () => {
  let rt: Running;
  let dir: string;
  const write = (name: string, d: unknown) => {
    const f = path.join(dir, name);
    writeFileSync(f, typeof d === 'string' ? d : JSON.stringify(d, null, 2));
    return f;
  };
  before(async () => {
    rt = await up(workspace({ name: 'drills', supervisor: { id: 'root', intensity: 100, children: [probe('a'), probe('b'), probe('s')] } }));
    dir = rt.dir;
    await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'all running');
  });
  after(() => rt.stop());

  const steady = { probes: [{ type: 'agents', agents: '*', state: 'running', withinMs: 10_000 }, { type: 'ask', name: 's answers quickly', agent: 's', message: { op: 'echo', value: 1 }, withinMs: 1000 }] };

  test('a hypothesis that breaks exits 1 naming the probe; the drill clears its faults', async () => {
    const f = write('slow.json', {
      name: 'slow-s',
      steadyState: steady,
      method: [{ type: 'inject', name: 'slow', fault: 'slow', target: 's', params: { ms: 3000 } }],
    });
    const r = await drill(f, dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.stdout, /the hypothesis did NOT hold: s answers quickly/);
    const j = r.journal!;
    assert.equal(j.status, 'deviated');
    assert.equal(j.failedProbe, 's answers quickly');
    assert.equal(j.hypothesis.before.held, true);
    assert.equal(j.hypothesis.after!.held, false);
    assert.equal(j.cleanup.cleared, 1);
    assert.deepEqual(await rt.client.call('faults', {}), [], 'no fault left behind');
  });

  test('a steady state that does not hold before is a gate: nothing is injected', async () => {
    const f = write('gate.json', {
      name: 'gate',
      steadyState: { probes: [{ type: 'readyz', status: 503 }] },
      method: [{ type: 'inject', fault: 'kill', target: '*' }],
    });
    const before = await rt.status();
    const r = await drill(f, dir);
    assert.equal(r.code, 1, r.out);
    assert.equal(r.journal!.status, 'gate-failed');
    assert.equal(r.journal!.failedProbe, '/readyz 503');
    assert.deepEqual(r.journal!.method, []);
    assert.match(r.stdout, /did not hold BEFORE the method; nothing was injected/);
    assert.deepEqual((await rt.status()).tree.children.map((c) => (c as { pid: number }).pid), before.tree.children.map((c) => (c as { pid: number }).pid));
    const other = await drill(write('other.json', { system: 'research-storm', steadyState: steady, method: [{ type: 'inject', fault: 'kill', target: '*' }] }), dir);
    assert.equal(other.code, 1);
    assert.equal(other.journal!.failedProbe, 'system "research-storm"');
    assert.match(other.stdout, /this drill is for the system "research-storm", but the runtime runs "drills"/);
  });

  test('sends under a kill are accepted, then handled: none lost', async () => {
    const f = write('sends.json', {
      name: 'sends',
      seed: 9,
      steadyState: { probes: [{ type: 'agents', agents: '*', state: 'running', withinMs: 10_000 }, { type: 'messages', maxLost: 0, maxFailed: 0 }] },
      method: [
        { type: 'load', to: 'a', kind: 'send', rate: 100, durationMs: 1000, message: { op: 'record', value: '{{seq}}' }, background: true },
        { type: 'wait', ms: 300 },
        { type: 'inject', fault: 'kill', target: 'a' },
      ],
    });
    const r = await drill(f, dir);
    assert.equal(r.code, 0, r.out);
    const m = r.journal!.messages;
    assert.equal(m.sends.sent, 100);
    assert.equal(m.sends.accepted, 100);
    assert.equal(m.sends.verified, true);
    assert.equal(m.sends.handled, 100);
    assert.equal(m.lost, 0);
    assert.equal(r.journal!.recovery.agents.a.incidents, 1);
  });

  test('Ctrl-C stops the method, rolls back and clears the faults', async () => {
    const f = write('interrupt.json', {
      name: 'interrupt',
      steadyState: { probes: [{ type: 'agents', agents: '*', state: 'running', withinMs: 10_000 }] },
      method: [{ type: 'inject', name: 'slow', fault: 'slow', target: 'a', params: { ms: 50 } }, { type: 'wait', ms: 60_000 }, { type: 'inject', fault: 'kill', target: '*' }],
      rollbacks: [{ type: 'clear', fault: 'slow' }],
    });
    const report = path.join(dir, 'interrupt-report.json');
    const p = spawn(process.execPath, [cliPath, 'drill', f, '--report', report], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (!sent && /\[2\] wait 60000 ms/.test(out)) sent = p.kill('SIGINT');
    });
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    assert.equal(code, 1, out);
    const j = JSON.parse(readFileSync(report, 'utf8')) as DrillJournal;
    assert.equal(j.status, 'aborted');
    assert.equal(j.method.length, 2, 'the kill after the wait never ran');
    assert.equal(j.rollbacks[0].ok, true);
    assert.deepEqual(await rt.client.call('faults', {}), []);
    assert.match(out, /interrupted: stopping the method, then rolling back/);
  });

  test('bad drill files exit 2 naming the JSON path', async () => {
    const cases: [unknown, RegExp][] = [
      [{ steadyState: steady, method: [{ type: 'load', to: 'a', rate: -1, durationMs: 10 }] }, /\$\.method\[0\]\.rate: /],
      [{ steadyState: steady, method: [{ type: 'explode' }] }, /\$\.method\[0\]\.type: must be one of "inject", "clear"/],
      [{ steadyState: { probes: [] }, method: [{ type: 'wait', ms: 1 }] }, /\$\.steadyState\.probes: /],
      [{ steadyState: steady, method: [{ type: 'wait', ms: 1, colour: 'red' }] }, /\$\.method\[0\]\.colour: unknown key "colour"/],
      [{ steadyState: steady, method: [{ type: 'clear', fault: 'nope' }] }, /\$\.method\[0\]\.fault: no earlier inject step is named "nope"/],
      [{ steadyState: { probes: [{ type: 'ask', agent: 'a' }] }, method: [{ type: 'wait', ms: 1 }] }, /\$\.steadyState\.probes\[0\]\.message: missing/],
      [{ steadyState: { probes: [{ type: 'metric', metric: 'x', tolerance: { min: '$nope' } }] }, method: [{ type: 'wait', ms: 1 }] }, /\$\.steadyState\.probes\[0\]\.tolerance: "\$nope" is not captured/],
      ['{ not json', /\$: not valid JSON/],
    ];
    for (const [i, [d, re]] of cases.entries()) {
      const r = await cli(['drill', write(`bad-${i}.json`, d)], dir);
      assert.equal(r.code, 2, `case ${i}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re, `case ${i}`);
    }
    assert.equal((await cli(['drill'], dir)).code, 2, 'no file: bad usage');
    assert.equal((await cli(['drill', path.join(dir, 'missing.json')], dir)).code, 2);
    assert.match((await cli(['drill', write('d.yaml', 'name: x')], dir)).stderr, /YAML drills are not supported/);
  });

  test('drill.run runs a drill inside the runtime and returns its journal', async () => {
    const j = (await rt.client.call('drill.run', {
      drill: {
        name: 'in-process',
        steadyState: steady,
        method: [
          { type: 'load', to: '*', rate: 30, durationMs: 1000, message: { op: 'count' }, background: true },
          { type: 'inject', fault: 'kill', target: 'b' },
          { type: 'probe', probe: { type: 'agents', agents: 'b', state: 'running', withinMs: 10_000 } },
        ],
      },
    }, 60_000)) as DrillJournal;
    assert.equal(j.held, true, JSON.stringify(j.hypothesis));
    assert.equal(j.runner, 'in-process');
    assert.equal(j.recovery.agents.b.incidents, 1);
    assert.equal(j.messages.lost, 0);
    await assert.rejects(rt.client.call('drill.run', { drill: { steadyState: steady, method: [{ type: 'kill-runtime' }] } }), /kills the runtime/);
    await assert.rejects(rt.client.call('drill.run', { drill: { steadyState: steady, method: [{ type: 'wait' }] } }), /\$\.method\[0\]\.ms: missing/);
  });

  test('drill.cancel stops the running drill: no further step, its rollbacks run, drill.run answers "aborted"', async () => {
    assert.deepEqual(await rt.client.call('drill.cancel', {}), { cancelled: false }, 'nothing to cancel');
    const restarts = async () => agentsOf((await rt.client.call('status', {})).tree).map((a) => `${a.id}:${a.restarts}`);
    const before = await restarts();
    const t0 = Date.now();
    const running = rt.client.call('drill.run', {
      drill: {
        name: 'long',
        steadyState: steady,
        method: [{ type: 'inject', name: 'slow', fault: 'slow', target: 'a', params: { ms: 50 } }, { type: 'wait', ms: 60_000 }, { type: 'inject', fault: 'kill', target: '*' }],
        rollbacks: [{ type: 'clear', fault: 'slow' }],
      },
    }, 90_000) as Promise<DrillJournal>;
    // Cancel once the drill is waiting with its fault in place.
    for (;;) {
      const faults = (await rt.client.call('faults', {})) as { fault: string }[];
      if (faults.some((f) => f.fault === 'slow')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await assert.rejects(rt.client.call('drill.run', { drill: { steadyState: steady, method: [{ type: 'wait', ms: 1 }] } }), /drill "long" is running; one drill at a time/);
    assert.deepEqual(await rt.client.call('drill.cancel', {}), { cancelled: true, drill: 'long' });
    const j = await running;
    assert.ok(Date.now() - t0 < 30_000, 'the 60 s wait was cut short');
    assert.equal(j.status, 'aborted');
    assert.equal(j.held, false);
    assert.equal(j.method.length, 2, 'the kill after the wait never ran');
    assert.equal(j.rollbacks[0].ok, true);
    assert.deepEqual(await rt.client.call('faults', {}), [], 'the rollback cleared the fault');
    assert.deepEqual(await restarts(), before, 'nothing was killed');
  });
});

describe('a drill that kills a runtime it did not start', () => {
  test('waits for whoever restarts it (as the VS Code extension does), then checks the restored state', async () => {
    const first = await up(workspace({ name: 'restarted', supervisor: { id: 'root', children: [probe('a')] } }));
    const dir = first.dir;
    writeFileSync(path.join(dir, 'kill.json'), JSON.stringify({
      name: 'kill-external',
      steadyState: { probes: [{ type: 'agents', agents: '*', state: 'running', withinMs: 10_000 }] },
      method: [
        { type: 'probe', probe: { type: 'ask', agent: 'a', message: { op: 'count' }, path: 'count', tolerance: { min: 1 }, capture: 'n' } },
        { type: 'kill-runtime', restartTimeoutMs: 30_000 },
        { type: 'probe', name: 'a kept its count', probe: { type: 'ask', agent: 'a', message: { op: 'count' }, path: 'count', tolerance: { gt: '$n' }, withinMs: 10_000 } },
      ],
    }));
    const run = drill(path.join(dir, 'kill.json'), dir);
    await first.exited;
    first.client.close();
    const second = await up(dir); // the "extension" brings it back
    try {
      const r = await run;
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, /note: this drill kills the runtime .* which it did not start/);
      assert.equal(r.journal!.runtimeRestarts[0].restartedBy, 'other');
      assert.equal(r.journal!.runtimeRestarts[0].pid, second.proc.pid);
      assert.equal(r.journal!.method[2].probe!.held, true);
    } finally {
      await second.stop();
    }
  });
});
