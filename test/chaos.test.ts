/** The chaos monkey against a real runtime: seeded schedules that replay, real kills, and the control methods. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, probe, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

describe('chaos monkey', () => {
  let rt: Running;
  before(async () => {
    rt = await up(workspace({
      name: 'chaos',
      supervisor: { id: 'root', intensity: 1000, children: [probe('c1'), probe('c2'), probe('c3'), probe('keep'), probe('t1', { isolation: 'thread' })] },
    }));
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all running');
  });
  after(() => rt.stop());

  const dry = (seed: number, targets = 'c*') => cli(['chaos', '--kill-interval-ms', '200', '--duration-ms', '3000', '--seed', String(seed), '--targets', targets, '--dry-run', '--json'], rt.dir);

  test('the same seed and targets give the same schedule; it prints first', async () => {
    const a = JSON.parse((await dry(7)).stdout);
    const b = JSON.parse((await dry(7)).stdout);
    assert.deepEqual(a.schedule, b.schedule);
    assert.deepEqual(a.targets, ['c1', 'c2', 'c3']);
    assert.ok(a.schedule.length >= 8);
    assert.notDeepEqual(JSON.parse((await dry(8)).stdout).schedule, a.schedule);
    const human = await cli(['chaos', '--kill-interval-ms', '200', '--duration-ms', '1000', '--seed', '7', '--targets', 'c*', '--dry-run'], rt.dir);
    assert.match(human.stdout, /^chaos: seed 7, targets c1, c2, c3; \d+ kills in 1000 ms \(replay with --seed 7\)\n {2}\+ +\d+ ms {2}kill c\d/);
  });

  test('a run kills on schedule through the fault catalogue, and every agent comes back', async () => {
    const before = await rt.status();
    const r = await cli(['chaos', '--kill-interval-ms', '300', '--duration-ms', '1500', '--seed', '3', '--targets', 'c*', '--json'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(rep.schedule, JSON.parse((await cli(['chaos', '--kill-interval-ms', '300', '--duration-ms', '1500', '--seed', '3', '--targets', 'c*', '--dry-run', '--json'], rt.dir)).stdout).schedule);
    assert.ok(rep.kills.length >= 3);
    assert.ok(rep.kills.every((k: { faultId?: string }) => /^f\d+$/.test(k.faultId ?? '')), 'each kill went through inject');
    const killed = new Set<string>(rep.kills.filter((k: { killed: boolean }) => k.killed).map((k: { target: string }) => k.target));
    assert.ok(killed.size >= 1);
    const after = await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all running again');
    for (const a of agentsOf(after.tree)) {
      const was = agentsOf(before.tree).find((x) => x.id === a.id)!;
      if (killed.has(a.id)) assert.ok(a.restarts > was.restarts, `${a.id} restarted`);
      else if (a.id === 'keep') assert.equal(a.pid, was.pid, 'agents outside --targets are left alone');
    }
  });

  test('chaos.start / chaos.status / chaos.stop for the extension; the schedule matches the CLI\'s', async () => {
    const started = await rt.client.call('chaos.start', { intervalMs: 200, durationMs: 3000, seed: 7, targets: 'c*' });
    assert.deepEqual(started.schedule, JSON.parse((await dry(7)).stdout).schedule);
    await assert.rejects(rt.client.call('chaos.start', { intervalMs: 200, durationMs: 3000, seed: 7 }), /already running/);
    assert.equal(((await rt.client.call('chaos.status', {})) as { running: boolean }).running, true);
    await new Promise((r) => setTimeout(r, 500));
    const stopped = await rt.client.call('chaos.stop', {});
    assert.equal(stopped.stopped, true);
    assert.ok(stopped.kills >= 1 && stopped.kills < started.schedule.length, `${stopped.kills} kills before the stop`);
    assert.equal(((await rt.client.call('chaos.status', {})) as { running: boolean }).running, false);
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'all running again');
    await assert.rejects(rt.client.call('chaos.start', { intervalMs: 1, durationMs: 1000 }), /"intervalMs" must be an integer between 10/);
    await assert.rejects(rt.client.call('chaos.start', { intervalMs: 100, durationMs: 1000, targets: 'ghost*' }), /No agent matches "ghost\*"/);
  });

  test('thread agents are terminated and restarted too; bad usage exits 2', async () => {
    const t1 = agentsOf((await rt.status()).tree).find((a) => a.id === 't1')!;
    const r = await cli(['chaos', '--kill-interval-ms', '100', '--duration-ms', '250', '--seed', '1', '--targets', 't1'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /killed t1/);
    await rt.until((s) => agentsOf(s.tree).some((a) => a.id === 't1' && a.state === 'running' && a.restarts > t1.restarts), 't1 restarted');
    assert.equal((await cli(['chaos', '--kill-interval-ms', '1', '--duration-ms', '100'], rt.dir)).code, 2);
    assert.equal((await cli(['chaos', '--duration-ms', '100'], rt.dir)).code, 2);
    const ghost = await cli(['chaos', '--kill-interval-ms', '100', '--duration-ms', '100', '--targets', 'ghost'], rt.dir);
    assert.equal(ghost.code, 1);
    assert.equal(ghost.stderr.trim(), 'faultline chaos: No agent matches "ghost" (agents: c1, c2, c3, keep, t1)');
  });
});
