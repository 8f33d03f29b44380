/** The Dependencies view's context menu: block, error, latency, isolate, clear. */
import type * as vscode from 'vscode';
import type { ItemView } from '../model/agentTree.ts';
import { faultKind } from '../model/faultCatalog.ts';
import { register, type CommandContext } from './CommandContext.ts';
import { askParams } from './askParams.ts';
import { clearFault, inject } from './inject.ts';

async function dependencyArg(ctx: CommandContext, arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  const fromItem = (arg as ItemView | undefined)?.id?.replace(/^dependency:/, '');
  if (fromItem) return fromItem;
  const deps = ctx.model.snapshot.status?.dependencies ?? [];
  if (!deps.length) throw new Error('The running system declares no dependencies.');
  return (await ctx.vs.window.showQuickPick(deps.map((d) => ({ label: d.id, description: `breaker ${d.breaker}` })), { placeHolder: 'Which dependency?' }))?.label;
}

export function dependencyCommands(ctx: CommandContext): vscode.Disposable[] {
  const { vs } = ctx;
  const withParams = (fault: string, fixed: Record<string, unknown> = {}) => async (arg: unknown, given?: Record<string, unknown>) => {
    const dep = await dependencyArg(ctx, arg);
    if (!dep) return;
    const kind = faultKind(fault)!;
    // Callers (tests, the CodeLens) may pass the params; people are asked.
    const params = given ?? (await askParams(vs, kind, ['durationMs', 'rate', ...Object.keys(fixed)]));
    if (!params) return;
    return inject(ctx, { fault, target: dep, params: { ...fixed, ...params } });
  };
  return [
    register(ctx, 'faultline.dependency.block', 'Cannot block the dependency', async (arg) => {
      const dep = await dependencyArg(ctx, arg);
      if (dep) return inject(ctx, { fault: 'blackhole', target: dep });
    }),
    register(ctx, 'faultline.dependency.injectError', 'Cannot inject the error', withParams('error')),
    register(ctx, 'faultline.dependency.addLatency', 'Cannot add latency', withParams('latency')),
    register(ctx, 'faultline.dependency.isolate', 'Cannot isolate the breaker', async (arg) => {
      const dep = await dependencyArg(ctx, arg);
      if (dep) return inject(ctx, { fault: 'isolate', target: dep });
    }),
    register(ctx, 'faultline.dependency.clear', 'Cannot clear the faults', async (arg) => {
      const dep = await dependencyArg(ctx, arg);
      if (!dep) return;
      let n = 0;
      for (const f of ctx.model.snapshot.faults.filter((f) => f.target === dep)) n += await clearFault(ctx, f.id);
      return n;
    }),
  ];
}
