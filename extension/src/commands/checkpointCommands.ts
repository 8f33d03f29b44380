/**
 * The Checkpoints view's context menu: compare a checkpoint's state with the
 * previous one or another, restore the agent to it, fork a temporary agent
 * from it. Refusals come back as error messages with the runtime's text.
 */
import type * as vscode from 'vscode';
import type { TreeNodeStatus } from '../../../runtime/protocol/status.ts';
import type { ItemView } from '../model/agentTree.ts';
import { clockText, forkIdProblem, previousSeq, suggestForkId } from '../model/checkpointList.ts';
import type { CheckpointsView } from '../views/CheckpointsView.ts';
import type { CheckpointDocs } from './CheckpointDocs.ts';
import { clientOf, register, type CommandContext } from './CommandContext.ts';

type CheckpointRef = { agent: string; seq: number };

/** The checkpoint a command is about: a row of the view, or `{ agent, seq }` (tests, other commands). */
function checkpointArg(arg: unknown): CheckpointRef {
  const ref = (arg as ItemView | undefined)?.checkpoint ?? (arg as CheckpointRef | undefined);
  if (!ref || typeof ref.agent !== 'string' || typeof ref.seq !== 'number') throw new Error('Run this from a row of the Checkpoints view.');
  return { agent: ref.agent, seq: ref.seq };
}

/** Every id in the tree: a fork may take none of them. */
function idsOf(n: TreeNodeStatus | undefined, into = new Set<string>()): Set<string> {
  if (!n) return into;
  into.add(n.id);
  if (n.kind === 'supervisor') for (const c of n.children) idsOf(c, into);
  return into;
}

export function checkpointCommands(ctx: CommandContext, view: CheckpointsView, docs: CheckpointDocs): vscode.Disposable[] {
  const { vs } = ctx;
  /** The list of the row's agent: the view's when it shows that agent, else read now. */
  const listOf = async (agent: string) => (view.agent === agent && view.list.length ? view.list : await clientOf(ctx).call('checkpoints', { agent }));
  return [
    register(ctx, 'faultline.checkpoint.compareWithPrevious', 'Cannot compare the checkpoints', async (arg) => {
      const c = checkpointArg(arg);
      const prev = previousSeq(await listOf(c.agent), c.seq);
      if (prev === undefined) {
        void vs.window.showInformationMessage(`#${c.seq} is the oldest retained checkpoint of ${c.agent}: there is none before it to compare with.`);
        return;
      }
      await docs.diff(c.agent, prev, c.seq);
    }),
    register(ctx, 'faultline.checkpoint.compareWith', 'Cannot compare the checkpoints', async (arg) => {
      const c = checkpointArg(arg);
      const others = (await listOf(c.agent)).filter((o) => o.seq !== c.seq && o.valid).sort((a, b) => b.seq - a.seq);
      if (!others.length) {
        void vs.window.showInformationMessage(`${c.agent} has no other readable checkpoint to compare #${c.seq} with.`);
        return;
      }
      const pick = await vs.window.showQuickPick(
        others.map((o) => ({ label: `#${o.seq}`, description: `${o.kind} · ${clockText(o.time)}`, seq: o.seq })),
        { placeHolder: `Compare ${c.agent} #${c.seq} with which checkpoint?` },
      );
      if (pick) await docs.diff(c.agent, pick.seq, c.seq);
    }),
    register(ctx, 'faultline.checkpoint.restore', 'Cannot restore the agent', async (arg) => {
      const c = checkpointArg(arg);
      const ok = await vs.window.showWarningMessage(
        `Restore ${c.agent} to checkpoint #${c.seq}?`,
        { modal: true, detail: `${c.agent} restarts from #${c.seq}'s state, appended as a new checkpoint of kind "restore". Later checkpoints stay listed; messages in its inbox are kept.` },
        'Restore',
      );
      if (ok !== 'Restore') return;
      const r = await clientOf(ctx).call('agent.restore', { agent: c.agent, seq: c.seq });
      void vs.window.showInformationMessage(`${r.agent} restored from #${r.from} (now checkpoint #${r.seq}), ${r.state}.`);
      if (view.agent === c.agent) await view.reload();
    }),
    register(ctx, 'faultline.checkpoint.fork', 'Cannot fork the agent', async (arg) => {
      const c = checkpointArg(arg);
      const taken = idsOf(ctx.model.snapshot.status?.tree);
      const as = await vs.window.showInputBox({
        title: `Fork ${c.agent} from #${c.seq}`,
        prompt: 'The id of the new temporary agent (beside the original, from this checkpoint\'s state)',
        value: suggestForkId(c.agent, taken),
        validateInput: (v) => forkIdProblem(v.trim(), taken),
      });
      if (as === undefined) return;
      const r = await clientOf(ctx).call('agent.fork', { agent: c.agent, seq: c.seq, as: as.trim() });
      void vs.window.showInformationMessage(`${r.agent} forked from ${r.from.agent} #${r.from.seq} under ${r.supervisor}, ${r.state}.`);
    }),
  ];
}
