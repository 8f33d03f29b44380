/**
 * The one SQLite file behind the checkpoint store and the durable inbox: the
 * connection, its pragmas, the schema migration and the shared group-commit
 * writer. Both share one writer so a checkpoint and the acknowledgement of
 * the message it completes can commit in the same transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit, type GroupCommitOptions } from './GroupCommit.ts';
import { assertSupported, migrate } from './migrations.ts';
import { startWalCheckpointer, type WalCheckpointer } from './WalCheckpointer.ts';

export interface StateDbOptions extends GroupCommitOptions {
  /**
   * NORMAL (default) survives a crash or kill -9 of the process at any
   * instant; FULL also survives power loss, at an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's lock before failing (default 5000). */
  busyTimeoutMs?: number;
  /** Checkpoint the WAL from a worker thread (default true); false: inline, as SQLite does by itself. */
  walWorker?: boolean;
}

export interface StateDb {
  readonly file: string;
  readonly db: Database.Database;
  readonly writer: GroupCommit;
  /** The schema version the file had before this open migrated it. */
  readonly migratedFrom: number;
  /** Commits what is queued, then closes the connection and the checkpointer. */
  close(): Promise<void>;
}

// SQLite's own default: a checkpoint per 1000 WAL pages (4 MB).
const INLINE_AUTOCHECKPOINT = 1000;
// With the worker copying pages, the main connection checkpoints only at
// 64 MB: enough to restart a WAL that constant writes never let the worker
// finish, rare enough (measured: 16 MB doubled the commit p99) to stay out of
// the acknowledgement latency. Under intermittent load the worker catches up
// and the WAL restarts small on its own.
const BACKSTOP_AUTOCHECKPOINT = 16384;

/** Opens (creating it and its directory if needed) and migrates a state file. */
export function openStateDb(file: string, opts: StateDbOptions = {}): StateDb {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  const db = new Database(abs, { timeout: opts.busyTimeoutMs ?? 5_000 });
  try {
    // Even switching to WAL rewrites the header of a file we may not own.
    assertSupported(db, abs);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    // Caps the -wal file a burst leaves behind at the backstop's size.
    db.pragma('journal_size_limit = 67108864');
    const migratedFrom = migrate(db, abs);
    const writer = new GroupCommit(db, opts);
    let checkpointer: WalCheckpointer | undefined;
    let closed: Promise<void> | undefined;
    if (opts.walWorker !== false) {
      db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT}`);
      checkpointer = startWalCheckpointer(abs, {
        synchronous: opts.synchronous,
        onError: () => {
          if (db.open) db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT}`);
        },
      });
    }
    return {
      file: abs,
      db,
      writer,
      migratedFrom,
      close() {
        closed ??= (async () => {
          writer.close();
          await checkpointer?.stop();
          db.close();
        })();
        return closed;
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
