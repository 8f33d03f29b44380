/** Start / Stop / Restart Runtime, Show Logs, Refresh. */
import type * as vscode from 'vscode';
import { register, type CommandContext } from './CommandContext.ts';

export function runtimeCommands(ctx: CommandContext): vscode.Disposable[] {
  const { vs } = ctx;
  return [
    register(ctx, 'faultline.startRuntime', 'Cannot start the Faultline runtime', async () => {
      const m = await ctx.ensureManager();
      if (!m) return;
      await vs.window.withProgress({ location: vs.ProgressLocation.Window, title: 'Faultline: starting the runtime' }, () => m.start());
    }),
    register(ctx, 'faultline.stopRuntime', 'Cannot stop the Faultline runtime', async () => {
      await ctx.manager()?.stop({ evenIfAttached: true });
    }),
    register(ctx, 'faultline.restartRuntime', 'Cannot restart the Faultline runtime', async () => {
      const m = await ctx.ensureManager();
      if (!m) return;
      await vs.window.withProgress({ location: vs.ProgressLocation.Window, title: 'Faultline: restarting the runtime' }, () => m.restart());
    }),
    register(ctx, 'faultline.showLogs', 'Cannot show the logs', () => ctx.log.show(true)),
    register(ctx, 'faultline.refresh', 'Cannot refresh', () => ctx.model.refresh()),
  ];
}
