/**
 * State and runtime faults: flip bytes in (or drop) an agent's latest
 * checkpoint, so its next restore has to fall back; and kill the runtime
 * itself, which clients must cope with.
 */
import { RpcError, RpcErrorCode, type FaultSpec } from '../protocol/rpc.ts';
import type { CheckpointStore } from '../state/CheckpointStore.ts';
import type { ActiveFault, FaultFamily } from './FaultCatalogue.ts';
import { globMatch } from './seededRandom.ts';
import { STATE_FAULTS } from '../protocol/faults.ts';

export function stateFaults(store: CheckpointStore, agentIds: () => string[]): FaultFamily {
  const targets = (t: string) => agentIds().filter((a) => globMatch(t, a));
  return {
    kind: 'state',
    faults: STATE_FAULTS,
    validate(spec: FaultSpec) {
      if (spec.fault === 'kill-runtime') return;
      if (!targets(spec.target).length) throw new RpcError(RpcErrorCode.NotFound, `No agent matches "${spec.target}" (agents: ${agentIds().join(', ')})`);
    },
    async apply(f: ActiveFault) {
      if (f.fault === 'kill-runtime') {
        // After the reply has gone out: a SIGKILL, like a crash, with no clean-up at all.
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
        return true;
      }
      let hit = 0;
      for (const a of targets(f.target)) {
        const seq = f.fault === 'corrupt-checkpoint' ? await store.corruptLatest(a) : await store.dropLatest(a);
        if (seq !== null) hit++;
      }
      f.params = { ...f.params, checkpoints: hit };
      return true;
    },
  };
}
