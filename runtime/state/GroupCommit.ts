/**
 * Group commit: writes queued within one turn of the event loop (or a short
 * window) share one SQLite transaction, and each writer's promise settles
 * only after that transaction has committed. One commit costs about as much
 * as one row, so 100 agents checkpointing together pay for one.
 */
import { performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import { StoreClosedError } from './errors.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';

export interface GroupCommitOptions {
  /** Flush at most this many writes per transaction; a full batch flushes at once (default 512). */
  maxBatch?: number;
  /** Wait this long for more writes before committing; 0 waits one event-loop turn (default 0). */
  windowMs?: number;
}

/** One committed transaction, for metrics. */
export interface CommitInfo {
  writes: number;
  /** Writes that failed (the whole batch when the database refused it). */
  failed: number;
  /** Time spent in SQLite for the batch, commit included. */
  ms: number;
}


interface Write {
  apply: () => unknown;
  rollback?: () => void;
  resolve: (v: any) => void;
  reject: (e: unknown) => void;
}

// Errors that concern the database, not one write: retrying writes one by
// one would fail each again (and wait busy_timeout each time).
const DATABASE_WIDE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL|NOMEM|INTERRUPT|PERM)/;

/** Queues writes for one database and commits them in batches. */
export class GroupCommit {
  private queue: Write[] = [];
  private timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private closed = false;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private commits = new Emitter<CommitInfo>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly db: Database, opts: GroupCommitOptions = {}) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 512);
    this.windowMs = Math.max(0, opts.windowMs ?? 0);
  }

  /**
   * Queues a write. `apply` runs inside the batch's transaction and must only
   * touch the database and in-memory state that `rollback` can undo: a failed
   * batch is rolled back and may be applied again, write by write.
   * @returns the value of `apply`, once its transaction has committed.
   */
  enqueue<T>(apply: () => T, rollback?: () => void): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, rollback, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Writes waiting for their transaction. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once every write queued so far has committed or failed. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Reports each transaction (batch size, failures). */
  onCommit(listener: (c: CommitInfo) => void): Disposable {
    return this.commits.event(listener);
  }

  /** Commits everything queued, now, synchronously. */
  flush(): void {
    if (this.timer !== undefined) {
      if (this.windowMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    while (this.queue.length > 0) this.commit(this.queue.splice(0, this.maxBatch));
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Commits what is queued and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule() {
    if (this.timer !== undefined) return;
    this.timer = this.windowMs > 0 ? setTimeout(() => this.onTimer(), this.windowMs) : setImmediate(() => this.onTimer());
  }

  private onTimer() {
    this.timer = undefined;
    this.flush();
  }

  private commit(batch: Write[]) {
    const started = performance.now();
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((w) => w.apply())).immediate();
    } catch (e) {
      this.rollback(batch);
      if (batch.length === 1 || DATABASE_WIDE.test(String((e as { code?: unknown }).code ?? ''))) {
        for (const w of batch) w.reject(e);
        this.emit({ writes: batch.length, failed: batch.length, ms: performance.now() - started });
        return;
      }
      // One bad write (a row over SQLite's size limit, a bug in one apply)
      // must not fail the agents that happened to share its batch.
      let failed = 0;
      for (const w of batch) {
        try {
          const r = this.db.transaction(() => w.apply()).immediate();
          w.resolve(r);
        } catch (e1) {
          this.rollback([w]);
          w.reject(e1);
          failed++;
        }
      }
      this.emit({ writes: batch.length, failed, ms: performance.now() - started });
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
    this.emit({ writes: batch.length, failed: 0, ms: performance.now() - started });
  }

  private rollback(batch: Write[]) {
    for (let i = batch.length - 1; i >= 0; i--) {
      try {
        batch[i].rollback?.();
      } catch {
        // A rollback hook only resets in-memory bookkeeping; nothing to report.
      }
    }
  }

  private emit(c: CommitInfo) {
    this.commits.fire(c);
  }
}
