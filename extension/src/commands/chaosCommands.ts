/** Start / Stop Chaos Monkey…: pick the faults and the pace, then let it run. */
import type * as vscode from 'vscode';
import { ChaosMonkey } from './ChaosMonkey.ts';
import { register, type CommandContext } from './CommandContext.ts';
import { inject } from './inject.ts';

export function chaosCommands(ctx: CommandContext): { disposables: vscode.Disposable[]; monkey: ChaosMonkey } {
  const { vs } = ctx;
  const monkey = new ChaosMonkey(
    () => ctx.model.snapshot.status,
    (spec) => inject(ctx, spec),
    (e) => ctx.log.warn(`chaos monkey: ${e.message}`),
  );
  const disposables = [
    register(ctx, 'faultline.startChaos', 'Cannot start the chaos monkey', async (given?: { faults: string[]; intervalMs: number }) => {
      if (!ctx.model.snapshot.status) throw new Error('The Faultline runtime is not connected.');
      let o = given;
      if (!o) {
        const picks = await vs.window.showQuickPick(
          [
            { label: 'kill', description: 'SIGKILL an agent process', picked: true },
            { label: 'crash', description: 'make an agent throw', picked: true },
            { label: 'hang', description: 'stop an agent answering (until its heartbeat timeout)' },
            { label: 'slow', description: 'slow an agent down' },
          ],
          { canPickMany: true, title: 'Chaos Monkey: which faults?' },
        );
        if (!picks?.length) return;
        const interval = await vs.window.showInputBox({
          title: 'Chaos Monkey: mean time between faults (ms)',
          value: String(vs.workspace.getConfiguration('faultline').get<number>('chaos.intervalMs', 10_000)),
          validateInput: (s) => (Number(s) >= 1000 ? undefined : 'At least 1000 ms'),
        });
        if (!interval) return;
        o = { faults: picks.map((p) => p.label), intervalMs: Number(interval) };
      }
      monkey.start(o);
      void vs.commands.executeCommand('setContext', 'faultline.chaos', true);
      ctx.log.info(`chaos monkey started: ${o.faults.join(', ')} every ~${o.intervalMs} ms`);
      void vs.window.showWarningMessage(`Faultline: the chaos monkey is loose (${o.faults.join(', ')}, every ~${Math.round(o.intervalMs / 1000)} s).`, 'Stop It').then((a) => a && vs.commands.executeCommand('faultline.stopChaos'));
    }),
    register(ctx, 'faultline.stopChaos', 'Cannot stop the chaos monkey', () => {
      const was = monkey.active;
      monkey.stop();
      void vs.commands.executeCommand('setContext', 'faultline.chaos', false);
      if (was) ctx.log.info(`chaos monkey stopped after ${monkey.injected} fault(s)`);
    }),
    { dispose: () => monkey.stop() },
  ];
  return { disposables, monkey };
}
