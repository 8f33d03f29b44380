/** Opens the checkpoint store the config's `checkpoints` section asks for. */
import path from 'node:path';
import type { CheckpointsConfig } from '../config/checkpointsSchema.ts';
import type { CheckpointStore } from './CheckpointStore.ts';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';

export const DEFAULT_STATE_FILE = '.faultline/checkpoints.db';

/**
 * The store for a run: SQLite at `cfg.path` (relative to `baseDir`, default
 * `.faultline/checkpoints.db`, created with its directory and migrated), or
 * memory. Throws `StateSchemaTooNewError` for a file of a newer Faultline.
 * @param baseDir the config file's directory
 * @param runtimeVersion written into each checkpoint
 */
export function openCheckpointStore(cfg: CheckpointsConfig | undefined, baseDir: string, runtimeVersion: string): CheckpointStore {
  const c = cfg ?? {};
  const retention = { retain: c.retain, retainMaxAgeMs: c.retainMaxAgeMs };
  if (c.store === 'memory') return new MemoryCheckpointStore(runtimeVersion, retention);
  return new SqliteCheckpointStore(path.resolve(baseDir, c.path ?? DEFAULT_STATE_FILE), {
    ...retention,
    runtimeVersion,
    synchronous: c.synchronous,
    windowMs: c.groupCommitMs,
  });
}
