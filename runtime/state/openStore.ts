/** Opens the checkpoint store the config's `checkpoints` section asks for. */
import path from 'node:path';
import type { CheckpointsConfig } from '../config/checkpointsSchema.ts';
import type { CheckpointStore } from './CheckpointStore.ts';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { Blobs } from './blobs.ts';
import { FaultlineError } from '../errors.ts';

export const DEFAULT_STATE_FILE = '.faultline/checkpoints.db';

/** The config names an environment variable for the store's URL that is not set. */
export class StoreUrlMissingError extends FaultlineError {
  constructor(readonly envName: string, store: string) {
    super(`checkpoints.urlEnv names ${envName}, which is not set; set it to the ${store} URL (credentials included) in the runtime's environment`);
  }
}

export interface OpenStoreOptions {
  /** Where `urlEnv` and the blob credentials are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The system's name: the default Redis key prefix (`faultline:<name>:`). */
  name?: string;
  /** How long a server store may take to answer at start (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Warnings for the log (Redis without persistence, a state too large for Redis). */
  warn?: (message: string) => void;
  /** postgres: a cluster node's fencing of its writes. */
  fence?: import('./PostgresCheckpointStore.ts').Fence;
}

/** The server URL of a postgres or redis store: `url`, or the variable `urlEnv` names. */
export function storeUrl(c: CheckpointsConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (c.url) return c.url;
  const v = c.urlEnv ? env[c.urlEnv] : undefined;
  if (!v) throw new StoreUrlMissingError(c.urlEnv ?? '(unset)', c.store ?? 'sqlite');
  return v;
}

/**
 * The store for a run: SQLite at `cfg.path` (relative to `baseDir`, default
 * `.faultline/checkpoints.db`, created with its directory and migrated),
 * memory, PostgreSQL or Redis (connected, migrated and its inboxes loaded;
 * a server that cannot be reached rejects with `StoreUnavailableError`,
 * password redacted). With `blobs`, the bucket is checked first.
 * @param baseDir the config file's directory
 * @param runtimeVersion written into each checkpoint
 */
export async function openCheckpointStore(cfg: CheckpointsConfig | undefined, baseDir: string, runtimeVersion: string, o: OpenStoreOptions = {}): Promise<CheckpointStore> {
  const c = cfg ?? {};
  const env = o.env ?? process.env;
  if (c.store === 'memory') return new MemoryCheckpointStore(runtimeVersion, { retain: c.retain, retainMaxAgeMs: c.retainMaxAgeMs });
  let blobs: Blobs | undefined;
  if (c.blobs) {
    blobs = new Blobs(c.blobs, env);
    try {
      await blobs.check();
    } catch (e) {
      blobs.close();
      throw e;
    }
  }
  try {
    const store = await openServerOrFile(c, baseDir, runtimeVersion, o, env, blobs);
    // Orphaned blobs (of pruned rows, or of uploads whose row never committed) go with retention.
    if (blobs && store.referencedBlobs) blobs.startCollecting(() => store.referencedBlobs!(), undefined, (e) => o.warn?.(`cannot collect unreferenced blobs: ${e.message}`));
    return store;
  } catch (e) {
    blobs?.close();
    throw e;
  }
}

async function openServerOrFile(c: CheckpointsConfig, baseDir: string, runtimeVersion: string, o: OpenStoreOptions, env: NodeJS.ProcessEnv, blobs: Blobs | undefined): Promise<CheckpointStore> {
  const retention = { retain: c.retain, retainMaxAgeMs: c.retainMaxAgeMs };
  if (c.store === 'postgres') {
    const { PostgresCheckpointStore } = await import('./PostgresCheckpointStore.ts');
    return await PostgresCheckpointStore.open({ url: storeUrl(c, env), schema: c.schema, runtimeVersion, ...retention, blobs, connectTimeoutMs: o.connectTimeoutMs, fence: o.fence });
  }
  if (c.store === 'redis') {
    const { RedisCheckpointStore } = await import('./RedisCheckpointStore.ts');
    return await RedisCheckpointStore.open({ url: storeUrl(c, env), prefix: c.prefix ?? `faultline:${o.name ?? 'default'}:`, runtimeVersion, ...retention, blobs, connectTimeoutMs: o.connectTimeoutMs, warn: o.warn });
  }
  return new SqliteCheckpointStore(path.resolve(baseDir, c.path ?? DEFAULT_STATE_FILE), {
    ...retention,
    runtimeVersion,
    synchronous: c.synchronous,
    windowMs: c.groupCommitMs,
    blobs,
  });
}
