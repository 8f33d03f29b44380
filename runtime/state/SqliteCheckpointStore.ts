/**
 * The default checkpoint store: one SQLite file in WAL mode, written through
 * group commit. Checkpoints are checksummed; `latest` verifies and falls back
 * past corrupt ones. The same file holds the durable inboxes, the call
 * journal and the runtime's meta state.
 */
import type { Statement } from 'better-sqlite3';
import type { CheckpointInfo, CheckpointInput, CheckpointKind, CheckpointStore, FallbackEvent, Restored, RetentionOptions, StoredCheckpoint, WriteErrorEvent } from './CheckpointStore.ts';
import { DEFAULT_RETAIN } from './CheckpointStore.ts';
import { openStateDb, type StateDb, type StateDbOptions } from './StateDb.ts';
import type { CommitInfo } from './GroupCommit.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';
import { SqliteInboxes, type SqliteInbox } from './SqliteInbox.ts';
import { checksumOf, damage, payloadOf, toPayload, verifyPayload, type Verified } from './payload.ts';
import { StateNotSerializableError, StoreClosedError } from './errors.ts';
import { seal, unseal, type Blobs } from './blobs.ts';
import { StoreHealth } from './StoreHealth.ts';

export interface SqliteCheckpointStoreOptions extends StateDbOptions, RetentionOptions {
  /** Written into each checkpoint (default '0.0.0'). */
  runtimeVersion?: string;
  /** Clock for timestamps and `retainMaxAgeMs` (tests pass a fake one). */
  now?: () => number;
  /** The bucket large states go to. */
  blobs?: Blobs;
}

interface CheckpointRow {
  seq: number;
  version: number;
  runtime_version: string;
  time: string;
  kind: CheckpointKind;
  size: number;
  checksum: string | null;
  payload: string | Uint8Array;
  blob: string | null;
}

type StatementName = 'insert' | 'insertNext' | 'prune' | 'newestRow' | 'older' | 'all' | 'one' | 'newest' | 'blobs' | 'damage' | 'drop' | 'putMeta' | 'getMeta' | 'journal' | 'journaled' | 'clearJournal';

// Sorts after every ISO timestamp: with no age limit, age never keeps a row.
const NEVER_YOUNG = '\uffff';

/** A `CheckpointStore` in one SQLite file. Opening creates, or migrates, the file. */
export class SqliteCheckpointStore implements CheckpointStore {
  readonly kind = 'sqlite' as const;
  /** With a blob bucket: whether it answers (the file itself always does). */
  readonly health?: StoreHealth;
  /** Absolute path of the file. */
  readonly file: string;
  /** Schema version the file had before this open (0: new file). */
  readonly migratedFrom: number;
  private readonly sdb: StateDb;
  private readonly s: Record<StatementName, Statement>;
  private readonly runtimeVersion: string;
  private readonly retain: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private lastSeq = new Map<string, number>();
  private isoAt = { ms: NaN, iso: '' };
  private fallbacks = new Emitter<FallbackEvent>();
  private writeErrors = new Emitter<WriteErrorEvent>();
  private boxes: SqliteInboxes | undefined;
  private closed = false;

  constructor(file: string, private readonly opts: SqliteCheckpointStoreOptions = {}) {
    this.sdb = openStateDb(file, opts);
    this.file = this.sdb.file;
    const blobs = opts.blobs;
    if (blobs) this.health = new StoreHealth(() => blobs.check());
    this.migratedFrom = this.sdb.migratedFrom;
    this.runtimeVersion = opts.runtimeVersion ?? '0.0.0';
    this.retain = Math.max(1, Math.floor(opts.retain ?? DEFAULT_RETAIN));
    this.maxAgeMs = Math.max(0, opts.retainMaxAgeMs ?? 0);
    this.now = opts.now ?? Date.now;
    try {
      this.s = this.prepare();
    } catch (e) {
      void this.sdb.close();
      throw e;
    }
  }

  private prepare(): Record<StatementName, Statement> {
    const db = this.sdb.db;
    const cols = 'seq, version, runtime_version, time, kind, size, checksum, payload, blob';
    return {
      // Seqs never go back within a run, even after dropLatest removed the newest.
      insert: db.prepare(
        `INSERT INTO checkpoints (agent, seq, version, runtime_version, time, kind, size, checksum, payload, blob)
         VALUES (?, max(?, coalesce((SELECT max(seq) FROM checkpoints WHERE agent = ?), 0)) + 1, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING seq`,
      ),
      // Once this store has written an agent's newest seq it knows the next one: no lookup.
      insertNext: db.prepare('INSERT INTO checkpoints (agent, seq, version, runtime_version, time, kind, size, checksum, payload, blob) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM checkpoints WHERE agent = ? AND seq <= ? AND time < ?'),
      newestRow: db.prepare(`SELECT ${cols} FROM checkpoints WHERE agent = ? ORDER BY seq DESC LIMIT 1`),
      older: db.prepare(`SELECT ${cols} FROM checkpoints WHERE agent = ? AND seq < ? ORDER BY seq DESC`),
      all: db.prepare(`SELECT ${cols} FROM checkpoints WHERE agent = ? ORDER BY seq`),
      one: db.prepare(`SELECT ${cols} FROM checkpoints WHERE agent = ? AND seq = ?`),
      newest: db.prepare('SELECT seq, payload, blob FROM checkpoints WHERE agent = ? ORDER BY seq DESC LIMIT 1'),
      blobs: db.prepare('SELECT DISTINCT blob FROM checkpoints WHERE blob IS NOT NULL'),
      damage: db.prepare('UPDATE checkpoints SET payload = ? WHERE agent = ? AND seq = ?'),
      drop: db.prepare('DELETE FROM checkpoints WHERE agent = ? AND seq = ?'),
      putMeta: db.prepare('INSERT INTO meta (key, value, time) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, time = excluded.time'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      journal: db.prepare('INSERT OR REPLACE INTO journal (agent, msg_id, call_index, result) VALUES (?, ?, ?, ?)'),
      journaled: db.prepare('SELECT call_index, result FROM journal WHERE agent = ? AND msg_id = ? ORDER BY call_index'),
      clearJournal: db.prepare('DELETE FROM journal WHERE agent = ? AND msg_id = ?'),
    };
  }

  put(c: CheckpointInput): Promise<{ seq: number }> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    let payload: string;
    try {
      payload = payloadOf(c);
    } catch (e) {
      return Promise.reject(new StateNotSerializableError(c.agent, (e as Error).message));
    }
    const checksum = checksumOf(payload);
    const size = Buffer.byteLength(payload);
    const taken = c.ack === undefined ? undefined : this.inboxes().open(c.agent).take(c.ack);
    const blobs = this.opts.blobs;
    if (blobs && size > blobs.threshold) {
      // The message is out of peek already: an upload in between must not let it be handed over again.
      return seal(blobs, payload, checksum, size).then(
        (s) => (this.health?.up(), this.write(c, s.payload, checksum, size, s.blob, taken)),
        (e) => {
          taken?.restore();
          this.health?.down(e as Error);
          throw e;
        },
      );
    }
    return this.write(c, payload, checksum, size, null, taken);
  }

  private write(c: CheckpointInput, payload: string, checksum: string, size: number, blob: string | null, taken: ReturnType<SqliteInbox['take']>): Promise<{ seq: number }> {
    if (this.closed) {
      taken?.restore();
      return Promise.reject(new StoreClosedError());
    }
    const now = this.now();
    const time = this.iso(now);
    const youngFrom = this.maxAgeMs > 0 ? new Date(now - this.maxAgeMs).toISOString() : NEVER_YOUNG;
    const kind = c.kind ?? 'full';
    const written = this.sdb.writer.enqueue(() => {
      const seq = this.insert(c.agent, c.version, time, kind, size, checksum, payload, blob);
      // The row just inserted is valid and within the kept window, so the
      // newest valid checkpoint always survives the pruning.
      this.s.prune.run(c.agent, seq - this.retain, youngFrom);
      if (c.ack !== undefined) {
        taken?.apply();
        this.s.clearJournal.run(c.agent, c.ack);
      }
      return { seq };
    });
    if (!taken) return written;
    return written.then(undefined, (e) => {
      taken.restore();
      throw e;
    });
  }

  /** Inserts a checkpoint row (inside a write); returns its seq. */
  private insert(agent: string, version: number, time: string, kind: CheckpointKind, size: number, checksum: string, payload: string, blob: string | null): number {
    const last = this.lastSeq.get(agent);
    let seq: number | undefined;
    if (last !== undefined) {
      try {
        this.s.insertNext.run(agent, last + 1, version, this.runtimeVersion, time, kind, size, checksum, payload, blob);
        seq = last + 1;
      } catch (e) {
        // Someone else wrote this agent's next seq (another process on the same file): look it up.
        if ((e as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw e;
      }
    }
    seq ??= (this.s.insert.get(agent, last ?? 0, agent, version, this.runtimeVersion, time, kind, size, checksum, payload, blob) as { seq: number }).seq;
    this.lastSeq.set(agent, seq);
    return seq;
  }

  /** An ISO timestamp, kept for the millisecond it names: puts that arrive together share one. */
  private iso(ms: number): string {
    if (this.isoAt.ms !== ms) this.isoAt = { ms, iso: new Date(ms).toISOString() };
    return this.isoAt.iso;
  }

  /** Checks a row: its payload, or the blob it points to. */
  private verify(r: CheckpointRow): Verified | Promise<Verified> {
    if (!r.blob) return verifyPayload(r.payload, r.checksum);
    return unseal(this.opts.blobs, r, this.file).then((bytes) =>
      bytes === null ? { ok: false as const, reason: 'parse' as const, detail: `its blob ${r.blob} is missing from the bucket` } : verifyPayload(bytes, r.checksum),
    );
  }

  async latest(agent: string): Promise<Restored | null> {
    if (this.closed || this.sdb.writer.pending > 0) await this.settle();
    // Fast path: the newest row is almost always the one; `iterate` costs more than `get`.
    const newest = this.s.newestRow.get(agent) as CheckpointRow | undefined;
    if (!newest) return null;
    const v = await this.verify(newest);
    if (v.ok) return { state: v.value, version: newest.version, seq: newest.seq, kind: newest.kind, time: newest.time, skipped: [] };
    const events: FallbackEvent[] = [{ what: 'checkpoint', agent, seq: newest.seq, reason: v.reason, detail: v.detail }];
    let found: Restored | null = null;
    // Read all older rows first: a blob read awaits, and a cursor must not stay open across it.
    for (const r of this.s.older.all(agent, newest.seq) as CheckpointRow[]) {
      const w = await this.verify(r);
      if (w.ok) {
        found = { state: w.value, version: r.version, seq: r.seq, kind: r.kind, time: r.time, skipped: events.map((e) => e.seq) };
        break;
      }
      events.push({ what: 'checkpoint', agent, seq: r.seq, reason: w.reason, detail: w.detail });
    }
    for (const e of events) this.fallbacks.fire(e);
    return found;
  }

  async list(agent: string): Promise<CheckpointInfo[]> {
    await this.settle();
    const out: CheckpointInfo[] = [];
    for (const r of this.s.all.all(agent) as CheckpointRow[]) out.push(this.info(agent, r, (await this.verify(r)).ok));
    return out;
  }

  async get(agent: string, seq: number): Promise<StoredCheckpoint | null> {
    await this.settle();
    const r = this.s.one.get(agent, seq) as CheckpointRow | undefined;
    if (!r) return null;
    const verified = await this.verify(r);
    return { info: this.info(agent, r, verified.ok), verified };
  }

  private info(agent: string, r: CheckpointRow, valid: boolean): CheckpointInfo {
    const info: CheckpointInfo = { agent, seq: r.seq, version: r.version, runtimeVersion: r.runtime_version, time: r.time, kind: r.kind, size: r.size, checksum: r.checksum ?? '', valid, store: 'sqlite' };
    if (r.blob && this.opts.blobs) info.blob = this.opts.blobs.url(r.blob);
    return info;
  }

  /** The blob keys rows reference, for collecting the others. */
  async referencedBlobs(): Promise<Set<string>> {
    await this.settle();
    return new Set((this.s.blobs.all() as { blob: string }[]).map((r) => r.blob));
  }

  onFallback(listener: (e: FallbackEvent) => void): Disposable {
    return this.fallbacks.event(listener);
  }

  onWriteError(listener: (e: WriteErrorEvent) => void): Disposable {
    return this.writeErrors.event(listener);
  }

  /** Reports each group-commit transaction (batch size, failures), for metrics. */
  onCommit(listener: (c: CommitInfo) => void): Disposable {
    return this.sdb.writer.onCommit(listener);
  }

  inboxes(): SqliteInboxes {
    if (this.closed) throw new StoreClosedError();
    return (this.boxes ??= new SqliteInboxes(this.sdb, this.fallbacks, this.writeErrors));
  }

  putMeta(key: string, value: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    const json = toPayload(value);
    const time = new Date(this.now()).toISOString();
    return this.sdb.writer.enqueue(() => void this.s.putMeta.run(key, json, time));
  }

  async getMeta<T = unknown>(key: string): Promise<T | undefined> {
    await this.settle();
    const row = this.s.getMeta.get(key) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  journalCall(agent: string, msgId: string, callIndex: number, result: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    const json = toPayload(result);
    return this.sdb.writer.enqueue(() => void this.s.journal.run(agent, msgId, callIndex, json));
  }

  async journaled(agent: string, msgId: string): Promise<unknown[]> {
    await this.settle();
    const out: unknown[] = [];
    for (const r of this.s.journaled.all(agent, msgId) as { call_index: number; result: string }[]) {
      // A gap means a call whose result never committed: replay from there.
      if (r.call_index !== out.length) break;
      out.push(JSON.parse(r.result));
    }
    return out;
  }

  clearJournal(agent: string, msgId: string): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return this.sdb.writer.enqueue(() => void this.s.clearJournal.run(agent, msgId));
  }

  async corruptLatest(agent: string): Promise<number | null> {
    await this.settle();
    const newest = this.s.newest.get(agent) as { seq: number; payload: string | Uint8Array; blob: string | null } | undefined;
    if (newest?.blob && this.opts.blobs) {
      const bytes = await this.opts.blobs.get(newest.blob);
      await this.opts.blobs.overwrite(newest.blob, damage(bytes ?? new Uint8Array()));
      return newest.seq;
    }
    return this.sdb.writer.enqueue(() => {
      const r = this.s.newest.get(agent) as { seq: number; payload: string | Uint8Array } | undefined;
      if (!r) return null;
      this.s.damage.run(damage(r.payload), agent, r.seq);
      return r.seq;
    });
  }

  dropLatest(agent: string): Promise<number | null> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return this.sdb.writer.enqueue(() => {
      const r = this.s.newest.get(agent) as { seq: number } | undefined;
      if (!r) return null;
      this.s.drop.run(agent, r.seq);
      return r.seq;
    });
  }

  /** Resolves once every write queued so far has committed (or failed). */
  flushed(): Promise<void> {
    return this.sdb.writer.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sdb.close();
    this.health?.close();
    this.opts.blobs?.close();
  }

  // Reads wait for queued writes, so a caller reads what it wrote even if it
  // did not await the write.
  private async settle() {
    if (this.closed) throw new StoreClosedError();
    if (this.sdb.writer.pending > 0) await this.sdb.writer.idle();
    if (this.closed) throw new StoreClosedError();
  }
}
