/** The Agents view's cluster node rows: kill or pause a node, to rehearse losing it. */
import type * as vscode from 'vscode';
import type { ItemView } from '../model/agentTree.ts';
import { faultKind } from '../model/faultCatalog.ts';
import { askParams } from './askParams.ts';
import { register, type CommandContext } from './CommandContext.ts';
import { inject } from './inject.ts';

/** The node a command is about: a node row, an id (tests, other commands) or a pick among the nodes up. */
async function nodeArg(ctx: CommandContext, arg: unknown): Promise<string | undefined> {
  const cluster = ctx.model.snapshot.status?.cluster;
  if (!cluster) throw new Error('The connected Faultline runtime is not a cluster node.');
  const id = typeof arg === 'string' ? arg : (arg as ItemView | undefined)?.id?.replace(/^node:/, '');
  if (id) return id;
  const pick = await ctx.vs.window.showQuickPick(
    cluster.nodes.filter((n) => n.state === 'up').map((n) => ({ label: n.id, description: `${n.children.length} children${n.id === cluster.node ? ' · this node' : ''}` })),
    { placeHolder: 'Which node?' },
  );
  return pick?.label;
}

export function nodeCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    register(ctx, 'faultline.node.kill', 'Cannot kill the node', async (arg: unknown) => {
      const node = await nodeArg(ctx, arg);
      if (node) return inject(ctx, { fault: 'kill-node', target: node });
    }),
    register(ctx, 'faultline.node.pause', 'Cannot pause the node', async (arg: unknown, ms?: number) => {
      const node = await nodeArg(ctx, arg);
      if (!node) return;
      const params = typeof ms === 'number' ? { ms } : await askParams(ctx.vs, faultKind('pause-node')!);
      if (params) return inject(ctx, { fault: 'pause-node', target: node, params });
    }),
  ];
}
