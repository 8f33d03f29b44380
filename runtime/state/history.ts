/**
 * Reading one checkpoint of an agent's history for time travel
 * (`faultline checkpoint`, `restore`, `fork`), and the errors a caller gets
 * when it cannot be used: no such seq, or a corrupt payload. Unlike
 * `latest`, nothing here falls back to another checkpoint: the user named
 * this one.
 */
import { FaultlineError } from '../errors.ts';
import { RpcErrorCode } from '../protocol/rpc.ts';
import type { CheckpointInfo, CheckpointStore } from './CheckpointStore.ts';

/** The agent has no retained checkpoint with that seq (never written, or pruned by retention). */
export class UnknownCheckpointError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.NotFound;
  constructor(readonly agent: string, readonly seq: number, kept: number[]) {
    super(`Agent "${agent}" has no checkpoint #${seq} (${kept.length ? `kept: ${describeSeqs(kept)}` : 'it has no checkpoints'}); list them with \`faultline checkpoints ${agent}\``);
  }
}

/** The checkpoint is there but its payload fails its checksum or does not parse. */
export class CheckpointCorruptError extends FaultlineError {
  constructor(readonly agent: string, readonly seq: number, readonly reason: 'checksum' | 'parse', detail: string) {
    super(`Checkpoint #${seq} of agent "${agent}" is corrupt (${reason === 'checksum' ? 'checksum mismatch' : 'does not parse'}: ${detail}); pick another one from \`faultline checkpoints ${agent}\``);
  }
}

/** A checkpoint's row and its parsed state. */
export interface UsableCheckpoint {
  info: CheckpointInfo;
  state: unknown;
}

/** One checkpoint with its state, checked; throws `UnknownCheckpointError` or `CheckpointCorruptError`. */
export async function readCheckpoint(store: CheckpointStore, agent: string, seq: number): Promise<UsableCheckpoint> {
  const c = await store.get(agent, seq);
  if (!c) throw new UnknownCheckpointError(agent, seq, (await store.list(agent)).map((i) => i.seq));
  if (!c.verified.ok) throw new CheckpointCorruptError(agent, seq, c.verified.reason, c.verified.detail);
  return { info: c.info, state: c.verified.value };
}

/** "1-3, 7, 9-12": seqs as ranges, for an error message. */
function describeSeqs(seqs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < seqs.length; ) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
    out.push(i === j ? `#${seqs[i]}` : `#${seqs[i]}-${seqs[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}
