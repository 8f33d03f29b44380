/** The Agents view's context menu: lifecycle, faults and inspection of one agent. */
import type * as vscode from 'vscode';
import { agentsOf, findNode, type AgentStatus } from '../../../runtime/protocol/status.ts';
import type { ItemView } from '../model/agentTree.ts';
import { clientOf, register, type CommandContext } from './CommandContext.ts';
import { inject, FaultsUnsupportedError } from './inject.ts';
import { agentModulePath, showCode } from './openCode.ts';
import { parsePayload, signalNameProblem, signalOutcome, suggestedSignal } from './signalInput.ts';

/** The agent a command is about: a tree item, an id (tests, other commands) or a pick. */
export async function agentArg(ctx: CommandContext, arg: unknown, placeHolder = 'Which agent?'): Promise<AgentStatus | undefined> {
  const status = ctx.model.snapshot.status;
  if (!status) throw new Error('The Faultline runtime is not connected.');
  const id = typeof arg === 'string' ? arg : (arg as ItemView | undefined)?.node?.id;
  if (id) {
    const n = findNode(status.tree, id);
    if (n?.kind !== 'agent') throw new Error(`No agent "${id}" in the running system.`);
    return n;
  }
  const pick = await ctx.vs.window.showQuickPick(
    agentsOf(status.tree).map((a) => ({ label: a.id, description: `${a.state} · pid ${a.pid ?? '—'}`, agent: a })),
    { placeHolder },
  );
  return pick?.agent;
}

export function agentCommands(ctx: CommandContext): vscode.Disposable[] {
  const { vs } = ctx;
  const agentFault = (fault: string, params?: Record<string, unknown>) => async (arg: unknown) => {
    const a = await agentArg(ctx, arg);
    if (a) return inject(ctx, { fault, target: a.id, ...(params ? { params } : {}) });
  };
  return [
    register(ctx, 'faultline.agent.restart', 'Cannot restart the agent', async (arg) => {
      const a = await agentArg(ctx, arg);
      if (a) await clientOf(ctx).call('restart', { agent: a.id });
    }),
    register(ctx, 'faultline.agent.stop', 'Cannot stop the agent', async (arg) => {
      const a = await agentArg(ctx, arg);
      if (a) await clientOf(ctx).call('stop', { agent: a.id });
    }),
    register(ctx, 'faultline.agent.kill', 'Cannot kill the agent', async (arg) => {
      const a = await agentArg(ctx, arg);
      if (!a) return;
      try {
        return await inject(ctx, { fault: 'kill', target: a.id });
      } catch (e) {
        // Before the fault catalogue, SIGKILL of a process-isolated agent is still
        // a real kill; a thread agent shares the runtime's pid and must not be.
        const runtimePid = ctx.model.snapshot.status?.runtime.pid;
        if (!(e instanceof FaultsUnsupportedError) || a.isolation !== 'process' || !a.pid || a.pid === runtimePid) throw e;
        ctx.log.info(`kill: SIGKILL to agent ${a.id} (pid ${a.pid})`);
        process.kill(a.pid, 'SIGKILL');
        return undefined;
      }
    }),
    register(ctx, 'faultline.agent.hang', 'Cannot hang the agent', agentFault('hang')),
    register(ctx, 'faultline.agent.crashLoop', 'Cannot start a crash loop', agentFault('crash-loop')),
    register(ctx, 'faultline.agent.showCheckpoints', 'Cannot show the checkpoints', (arg) => showCheckpoints(ctx, arg)),
    register(ctx, 'faultline.showCheckpoints', 'Cannot show the checkpoints', (arg) => showCheckpoints(ctx, arg)),
    register(ctx, 'faultline.agent.showLogs', 'Cannot show the agent logs', async (arg) => {
      const a = await agentArg(ctx, arg);
      if (!a) return;
      const lines = ctx.model.logsOf(a.id).map((l) => `${l.time} ${l.level.toUpperCase().padEnd(5)} ${l.msg}`);
      await ctx.docs.show(`logs/${a.id}.log`, lines.length ? lines.join('\n') + '\n' : `No log lines from ${a.id} since the extension connected.\n`);
    }),
    register(ctx, 'faultline.agent.signal', 'Cannot send the signal', (arg) => sendSignal(ctx, arg)),
    register(ctx, 'faultline.sendSignal', 'Cannot send the signal', (arg) => sendSignal(ctx, arg)),
    register(ctx, 'faultline.agent.openModule', 'Cannot open the module', async (arg) => {
      const a = await agentArg(ctx, arg);
      const config = ctx.manager()?.configFile;
      if (!a || !config) return;
      await showCode(vs, { file: agentModulePath(config, a.module) });
    }),
  ];
}

async function showCheckpoints(ctx: CommandContext, arg: unknown) {
  const a = await agentArg(ctx, arg, 'Show the checkpoints of which agent?');
  if (!a) return;
  const list = await clientOf(ctx).call('checkpoints', { agent: a.id });
  await ctx.docs.show(`checkpoints/${a.id}.json`, JSON.stringify(list, null, 2) + '\n');
}

/** Send Signal…: the agent (waiting ones first in a pick), the signal's name, its JSON payload; says whether a wait took it. */
async function sendSignal(ctx: CommandContext, arg: unknown) {
  const { vs } = ctx;
  let a: AgentStatus | undefined;
  if (arg) a = await agentArg(ctx, arg);
  else {
    const status = ctx.model.snapshot.status;
    if (!status) throw new Error('The Faultline runtime is not connected.');
    const agents = agentsOf(status.tree).sort((x, y) => Number(!!y.waiting?.length) - Number(!!x.waiting?.length));
    const pick = await vs.window.showQuickPick(
      agents.map((x) => ({ label: x.id, description: x.waiting?.length ? `waiting for ${x.waiting.map((w) => `"${w.name}"`).join(', ')}` : x.state, agent: x })),
      { placeHolder: 'Send a signal to which agent?' },
    );
    a = pick?.agent;
  }
  if (!a) return;
  const name = await vs.window.showInputBox({
    title: `Send a signal to ${a.id}`,
    prompt: a.waiting?.length ? `${a.id} waits for ${a.waiting.map((w) => `"${w.name}"`).join(', ')}` : `${a.id} is not waiting now: the signal is kept for its next ctx.waitFor of that name`,
    value: suggestedSignal(a),
    validateInput: signalNameProblem,
  });
  if (name === undefined) return;
  const text = await vs.window.showInputBox({
    title: `Payload of signal "${name.trim()}" (JSON)`,
    prompt: 'What ctx.waitFor resolves with',
    value: '{}',
    validateInput: (t) => {
      const p = parsePayload(t);
      return p.ok ? undefined : p.problem;
    },
  });
  if (text === undefined) return;
  const payload = parsePayload(text);
  if (!payload.ok) throw new Error(payload.problem);
  const r = await clientOf(ctx).call('signal', { agent: a.id, name: name.trim(), payload: payload.value });
  void vs.window.showInformationMessage(signalOutcome(a.id, name.trim(), r.delivered));
}
