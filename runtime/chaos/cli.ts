/**
 * `faultline chaos`: kills agents of the running runtime at seeded random
 * intervals. The schedule prints first; the same seed and the same agents
 * give the same schedule, so a run replays with `--seed`.
 */
import { intOption, parse, UsageError } from '../cli/args.ts';
import { findStateDir, locateRuntime } from '../cli/client.ts';
import { RemoteTarget } from '../drills/remoteTarget.ts';
import { ChaosMonkey, CHAOS_LIMITS } from './ChaosMonkey.ts';
import { formatSchedule } from './schedule.ts';

export const CHAOS_USAGE = `Usage: faultline chaos --kill-interval-ms N --duration-ms D [--seed S] [--targets GLOB] [--dry-run] [--json]

Kills agents at random: gaps drawn from 0.5x to 1.5x of --kill-interval-ms,
each kill an agent picked from those --targets matches (default all), through
the fault catalogue's kill (SIGKILL the process, terminate the thread). The
schedule is a function of the seed and the target list: it prints first, and
the same --seed against the same agents replays it exactly.

  --kill-interval-ms N  mean time between kills (at least ${CHAOS_LIMITS.minIntervalMs})
  --duration-ms D       how long to run (at most ${CHAOS_LIMITS.maxDurationMs})
  --seed S              the seed (default: the time; printed so you can replay)
  --targets GLOB        which agents may be killed (default "*")
  --dry-run             print the schedule and exit
  --json                print the schedule and outcomes as JSON`;

export async function chaosCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    'kill-interval-ms': { type: 'string' }, 'duration-ms': { type: 'string' }, seed: { type: 'string' }, targets: { type: 'string' }, 'dry-run': { type: 'boolean' },
  }, [0, 0]);
  const killIntervalMs = intOption(values['kill-interval-ms'], 'kill-interval-ms', CHAOS_LIMITS.minIntervalMs, CHAOS_LIMITS.maxDurationMs);
  const durationMs = intOption(values['duration-ms'], 'duration-ms', 1, CHAOS_LIMITS.maxDurationMs);
  if (killIntervalMs === undefined || durationMs === undefined) throw new UsageError('--kill-interval-ms and --duration-ms are required');
  const seed = intOption(values.seed, 'seed', 0, 2 ** 32) ?? Date.now() % 2 ** 32;
  const stateDir = findStateDir({ stateDir: values['state-dir'], config: values.config });
  const target = await RemoteTarget.connect(locateRuntime(stateDir), stateDir);
  try {
    const out = values.json ? () => undefined : (s: string) => console.log(s);
    let monkey: ChaosMonkey;
    try {
      monkey = await ChaosMonkey.plan(target, { killIntervalMs, durationMs, seed, targets: values.targets }, {
        killed: (k) => out(`+${String(k.firedAtMs).padStart(6)} ms  killed ${k.target}${k.killed ? '' : ` — not killed (${k.error ?? 'it had no process: down already'})`}`),
      });
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      console.error(`faultline chaos: ${(e as Error).message}`);
      return 1;
    }
    const r = monkey.report;
    out(`chaos: seed ${seed}, targets ${r.targets.join(', ')}; ${r.schedule.length} kill${r.schedule.length === 1 ? '' : 's'} in ${durationMs} ms (replay with --seed ${seed})`);
    for (const line of formatSchedule(r.schedule)) out(`  ${line}`);
    if (values['dry-run']) {
      if (values.json) console.log(JSON.stringify({ seed, killIntervalMs, durationMs, targets: r.targets, schedule: r.schedule }, null, 2));
      return 0;
    }
    const stop = () => monkey.stop();
    process.once('SIGINT', stop);
    const done = await monkey.start();
    process.off('SIGINT', stop);
    const killed = done.kills.filter((k) => k.killed).length;
    if (values.json) console.log(JSON.stringify(done, null, 2));
    else out(`chaos done: ${killed} of ${done.schedule.length} kills landed${done.stopped ? ' (stopped early)' : ''}`);
    return 0;
  } finally {
    target.close();
  }
}
