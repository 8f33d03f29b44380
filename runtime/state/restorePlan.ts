/**
 * What to do with an agent's restored checkpoint given its module's
 * `version`: use it, migrate it up, cold-start, or refuse. Pure; the
 * runtime runs the module's `migrate` where the module lives.
 */
import type { Restored } from './CheckpointStore.ts';
import { CheckpointVersionError } from './errors.ts';

export type RestorePlan =
  | { action: 'cold' }
  | { action: 'use'; state: unknown; seq: number }
  | { action: 'migrate'; state: unknown; seq: number; fromVersion: number };

/**
 * @throws CheckpointVersionError when the checkpoint is newer than the module:
 *   starting would silently drop what the newer code stored.
 */
export function planRestore(agent: string, restored: Pick<Restored, 'state' | 'version' | 'seq'> | null, moduleVersion: number): RestorePlan {
  if (!restored) return { action: 'cold' };
  if (restored.version > moduleVersion) throw new CheckpointVersionError(agent, restored.version, moduleVersion);
  if (restored.version < moduleVersion) return { action: 'migrate', state: restored.state, seq: restored.seq, fromVersion: restored.version };
  return { action: 'use', state: restored.state, seq: restored.seq };
}
