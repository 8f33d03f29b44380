/** Inject Fault… (kind, target, parameters), Clear All Faults, clearing one fault, and the debugger's paused-agent injection. */
import type * as vscode from 'vscode';
import { agentsOf } from '../../../runtime/protocol/status.ts';
import { FAULT_KINDS } from '../model/faultCatalog.ts';
import type { ItemView } from '../model/agentTree.ts';
import { register, type CommandContext } from './CommandContext.ts';
import { askParams } from './askParams.ts';
import { clearFault, inject } from './inject.ts';

export function faultCommands(ctx: CommandContext): vscode.Disposable[] {
  const { vs } = ctx;
  return [
    register(ctx, 'faultline.injectFault', 'Cannot inject the fault', async () => {
      const status = ctx.model.snapshot.status;
      if (!status) throw new Error('The Faultline runtime is not connected.');
      const deps = status.dependencies ?? [];
      const nodes = (status.cluster?.nodes ?? []).filter((n) => n.state === 'up');
      const kinds = FAULT_KINDS.filter((k) => (k.target === 'agent' ? true : k.target === 'dependency' ? deps.length > 0 : (status.cluster?.nodes.length ?? 0) > 1));
      const kind = await vs.window.showQuickPick(
        kinds.map((k) => ({ label: k.label, description: `${k.fault} · ${k.target}`, detail: k.detail, spec: k })),
        { title: 'Inject Fault (1/3): which fault?', matchOnDescription: true },
      );
      if (!kind) return;
      const targets = kind.spec.target === 'agent'
        ? agentsOf(status.tree).map((a) => ({ label: a.id, description: `${a.state} · ${a.isolation} · pid ${a.pid ?? '—'}` }))
        : kind.spec.target === 'node'
          ? nodes.map((n) => ({ label: n.id, description: `${n.children.length} children${n.id === status.cluster?.node ? ' · this node' : ''}` }))
          : deps.map((d) => ({ label: d.id, description: `breaker ${d.breaker}` }));
      const target = await vs.window.showQuickPick(targets, { title: `Inject Fault (2/3): ${kind.spec.label} which ${kind.spec.target}?` });
      if (!target) return;
      const params = await askParams(vs, kind.spec);
      if (!params) return;
      const id = await inject(ctx, { fault: kind.spec.fault, target: target.label, params });
      void vs.window.showInformationMessage(`Faultline: ${kind.spec.label} injected into ${target.label} (${id}).`, 'Clear It').then((a) => a && clearFault(ctx, id));
      return id;
    }),
    register(ctx, 'faultline.clearAllFaults', 'Cannot clear the faults', async () => {
      const n = await clearFault(ctx);
      void vs.window.setStatusBarMessage(`Faultline: cleared ${n} fault(s)`, 3000);
      return n;
    }),
    register(ctx, 'faultline.fault.clear', 'Cannot clear the fault', async (arg: ItemView | string) => {
      const id = typeof arg === 'string' ? arg : arg?.id?.replace(/^fault:/, '');
      if (id) return clearFault(ctx, id);
    }),
  ];
}
