/** `faultline checkpoint`, `restore` and `fork`: time travel over an agent's checkpoints. */
import type { CheckpointGetResult, ForkResult, RestoreResult } from '../protocol/schema/history.ts';
import { UsageError } from './args.ts';

export const CHECKPOINT_USAGE = `Usage: faultline checkpoint <agent> <seq> [--json]

Prints the state the agent had at checkpoint <seq> (as \`faultline checkpoints
<agent>\` lists them), as pretty JSON. --json prints { agent, seq, kind,
version, time, size, valid, state }. Exits 1 when the agent or the seq is
unknown (pruned by retention) or the checkpoint is corrupt.`;

export const RESTORE_USAGE = `Usage: faultline restore <agent> <seq> [--json]

Restarts the agent from the state of its checkpoint <seq>. The state is
appended as a new checkpoint of kind "restore" (history is not rewritten:
the checkpoints after <seq> stay listed), then the agent is restarted and
comes up from it. Messages waiting in its inbox are kept and delivered after
the restore. Not counted toward restart intensity. --json prints
{ agent, from, seq, state }. Exits 1 when the agent or the seq is unknown,
the checkpoint is corrupt or the agent does not come up from it.`;

export const FORK_USAGE = `Usage: faultline fork <agent> <seq> --as <id> [--json]

Starts a new agent <id> beside <agent> (same supervisor, same module) from
the state of <agent>'s checkpoint <seq>, so both can be asked side by side;
<agent> is untouched. The fork is "temporary": it has its own inbox and
checkpoints (the first of kind "fork"), it is not restarted when it exits,
and it is gone when its supervisor starts afresh or the runtime stops (it
is not in the config). --json prints { agent, from, seq, supervisor, state }.
Exits 1 when the agent or the seq is unknown, the checkpoint is corrupt,
<id> is taken or the fork does not come up; 2 when <id> is not a valid id.`;

/** The <seq> positional: an integer of 1 or more, else bad usage. */
export function seqArg(v: string | undefined): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n < 1) throw new UsageError(`<seq> must be a checkpoint seq (an integer of 1 or more), got "${v ?? ''}"`);
  return n;
}

export function renderCheckpoint(c: CheckpointGetResult, json: boolean): string {
  return json ? JSON.stringify(c, null, 2) : JSON.stringify(c.state, null, 2);
}

export function renderRestore(r: RestoreResult, json: boolean): string {
  return json ? JSON.stringify(r) : `${r.agent}: restored from checkpoint #${r.from} (now #${r.seq}, kind restore); ${r.state}`;
}

export function renderFork(r: ForkResult, json: boolean): string {
  return json ? JSON.stringify(r) : `${r.agent}: forked from ${r.from.agent} checkpoint #${r.from.seq} under ${r.supervisor} (temporary); ${r.state}`;
}

/** Exit code of a restore or fork: 1 (with the reason on stderr) when the agent did not come up from the state. */
export function cameUp(cmd: string, r: { agent: string; state: string }): number {
  if (r.state === 'running') return 0;
  console.error(`faultline ${cmd}: ${r.agent} is ${r.state} after the ${cmd}; see \`faultline status\` and the runtime log`);
  return 1;
}
