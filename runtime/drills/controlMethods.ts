/**
 * The control methods of drills and the chaos monkey, registered on the
 * runtime's `methods` map: `drill.run` runs a drill inside the runtime and
 * returns its journal, `drill.cancel` interrupts it (its rollbacks still
 * run); `chaos.start` / `chaos.stop` / `chaos.status` drive a
 * seeded chaos monkey (the VS Code extension starts and stops it). Progress
 * goes to the runtime's log, so subscribers see it as `log` events.
 */
import type { Runtime } from '../Runtime.ts';
import { RpcError, RpcErrorCode, type Methods } from '../protocol/rpc.ts';
import { ChaosMonkey, type ChaosReport } from '../chaos/ChaosMonkey.ts';
import { killsRuntime, parseDrill } from './drillFile.ts';
import { DrillRunner } from './DrillRunner.ts';
import { inProcessTarget } from './inProcessTarget.ts';

export function registerDrillMethods(rt: Runtime): void {
  const target = inProcessTarget(rt);
  let drilling: { name: string; runner: DrillRunner } | undefined;
  let monkey: ChaosMonkey | undefined;
  let lastChaos: ChaosReport | undefined;

  rt.methods.set('drill.run', async (params: Methods['drill.run']['params']) => {
    const parsed = parseDrill(params.drill);
    const drill = { ...parsed, name: parsed.name ?? 'drill' };
    if (killsRuntime(drill)) throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: drill "${drill.name}" kills the runtime, which cannot then restart itself; run it with \`faultline drill FILE --config F\``);
    if (drilling) throw new RpcError(RpcErrorCode.Unavailable, `drill "${drilling.name}" is running; one drill at a time`);
    const runner = new DrillRunner(target, drill, { runner: 'in-process', progress: (line) => rt.log.info({ drill: drill.name }, `drill: ${line.trim()}`), ...(rt.telemetry.on ? { span: (n, a, fn) => rt.telemetry.span(n, a, fn) } : {}) });
    drilling = { name: drill.name, runner };
    try {
      return await rt.telemetry.span(`drill ${drill.name}`, { 'faultline.drill': drill.name, 'faultline.drill.seed': drill.seed }, () => runner.run());
    } finally {
      drilling = undefined;
    }
  });

  rt.methods.set('drill.cancel', async () => {
    if (!drilling) return { cancelled: false };
    drilling.runner.abort();
    return { cancelled: true, drill: drilling.name };
  });

  rt.methods.set('chaos.start', async (p: Methods['chaos.start']['params']) => {
    if (monkey?.running) throw new RpcError(RpcErrorCode.Unavailable, 'the chaos monkey is already running; stop it first (chaos.stop)');
    const seed = p.seed ?? Date.now() % 2 ** 32;
    let m: ChaosMonkey;
    try {
      m = await ChaosMonkey.plan(target, { killIntervalMs: p.intervalMs, durationMs: p.durationMs, seed, targets: p.targets }, {
        killed: (k) => rt.log.warn({ chaos: seed, agent: k.target, faultId: k.faultId }, `chaos: +${k.firedAtMs} ms kill ${k.target}${k.killed ? '' : ` (not killed: ${k.error ?? 'no process'})`}`),
      });
    } catch (e) {
      throw new RpcError(e instanceof RangeError ? RpcErrorCode.InvalidParams : RpcErrorCode.NotFound, (e as Error).message);
    }
    monkey = m;
    void m.start().then((r) => {
      lastChaos = r;
      rt.log.info({ chaos: seed }, `chaos: done, ${r.kills.filter((k) => k.killed).length} of ${r.schedule.length} kills landed`);
    });
    rt.log.warn({ chaos: seed }, `chaos: started (seed ${seed}, ${m.report.schedule.length} kills over ${p.durationMs} ms among ${m.report.targets.join(', ')})`);
    return { seed, targets: m.report.targets, schedule: m.report.schedule };
  });

  rt.methods.set('chaos.stop', async () => {
    if (!monkey) return { stopped: false, kills: 0 };
    const r = monkey.stop();
    lastChaos = r;
    monkey = undefined;
    return { stopped: true, kills: r.kills.filter((k) => k.firedAtMs !== undefined).length };
  });

  // A monkey must not outlive its runtime (its timers would keep `faultline up` from exiting).
  void rt.done.then(() => monkey?.stop());

  rt.methods.set('chaos.status', async () => {
    const r = monkey?.report ?? lastChaos;
    return { running: !!monkey?.running, ...(r ? { report: r } : {}) };
  });
}
