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

export interface StateDbOptions extends GroupCommitOptions {
  /**
   * NORMAL (default) survives a crash or kill -9 of the process at any
   * instant; FULL also survives power loss, at an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's lock before failing (default 5000). */
  busyTimeoutMs?: number;
}

export interface StateDb {
  readonly file: string;
  readonly db: Database.Database;
  readonly writer: GroupCommit;
  /** The schema version the file had before this open migrated it. */
  readonly migratedFrom: number;
  close(): void;
}

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
    // Truncates the WAL after checkpoints, so a burst of large states does not
    // leave a large -wal file behind.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('foreign_keys = ON');
    const migratedFrom = migrate(db, abs);
    const writer = new GroupCommit(db, opts);
    let closed = false;
    return {
      file: abs,
      db,
      writer,
      migratedFrom,
      close() {
        if (closed) return;
        closed = true;
        writer.close();
        db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
