/**
 * The in-memory store: everything the SQLite store does (checksums,
 * fallback past corrupt checkpoints, retention, journal, meta, inboxes),
 * lost when the runtime exits. For unit tests and `checkpoints.store: "memory"`.
 */
import { MemoryMailbox, type Mailbox, type MailboxFactory } from '../messaging/Mailbox.ts';
import type { CheckpointInfo, CheckpointInput, CheckpointKind, CheckpointStore, Disposable, FallbackEvent, Restored, RetentionOptions, StoredCheckpoint } from './CheckpointStore.ts';
import { DEFAULT_RETAIN } from './CheckpointStore.ts';
import { checksumOf, damage, payloadOf, toPayload, verifyPayload } from './payload.ts';
import { Emitter } from '../protocol/emitter.ts';
import { StateNotSerializableError, StoreClosedError } from './errors.ts';

interface Row {
  seq: number;
  version: number;
  payload: string | Uint8Array;
  checksum: string;
  size: number;
  time: string;
  kind: CheckpointKind;
}

export interface MemoryCheckpointStoreOptions extends RetentionOptions {
  /** Clock for timestamps and `retainMaxAgeMs` (tests pass a fake one). */
  now?: () => number;
}

/** Keeps checkpoints in memory: lost when the runtime exits. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly kind = 'memory' as const;
  private rows = new Map<string, Row[]>();
  private lastSeq = new Map<string, number>();
  private meta = new Map<string, string>();
  private journal = new Map<string, Map<number, string>>();
  private boxes = new Map<string, Mailbox>();
  private fallbacks = new Emitter<FallbackEvent>();
  private closed = false;
  private readonly retain: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly runtimeVersion = '0.0.0', opts: MemoryCheckpointStoreOptions = {}) {
    this.retain = Math.max(1, Math.floor(opts.retain ?? DEFAULT_RETAIN));
    this.maxAgeMs = opts.retainMaxAgeMs ?? 0;
    this.now = opts.now ?? Date.now;
  }

  async put(c: CheckpointInput) {
    this.check();
    let payload: string;
    try {
      payload = payloadOf(c);
    } catch (e) {
      throw new StateNotSerializableError(c.agent, (e as Error).message);
    }
    const list = this.rows.get(c.agent) ?? [];
    const seq = Math.max(this.lastSeq.get(c.agent) ?? 0, list.at(-1)?.seq ?? 0) + 1;
    this.lastSeq.set(c.agent, seq);
    const now = this.now();
    list.push({ seq, version: c.version, payload, checksum: checksumOf(payload), size: Buffer.byteLength(payload), time: new Date(now).toISOString(), kind: c.kind ?? 'full' });
    // The row just written is valid and always among the kept ones, so the
    // newest valid checkpoint survives pruning.
    const oldestKept = list.length - this.retain;
    const youngFrom = new Date(now - this.maxAgeMs).toISOString();
    this.rows.set(c.agent, list.filter((r, i) => i >= oldestKept || (this.maxAgeMs > 0 && r.time >= youngFrom)));
    if (c.ack !== undefined) {
      await this.boxes.get(c.agent)?.ack(c.ack);
      this.journal.delete(journalKey(c.agent, c.ack));
    }
    return { seq };
  }

  async latest(agent: string): Promise<Restored | null> {
    this.check();
    const list = this.rows.get(agent) ?? [];
    const events: FallbackEvent[] = [];
    let found: Restored | null = null;
    for (let i = list.length - 1; i >= 0 && !found; i--) {
      const r = list[i];
      const v = verifyPayload(r.payload, r.checksum);
      if (v.ok) found = { state: v.value, version: r.version, seq: r.seq, kind: r.kind, time: r.time, skipped: events.map((e) => e.seq) };
      else events.push({ what: 'checkpoint', agent, seq: r.seq, reason: v.reason, detail: v.detail });
    }
    for (const e of events) this.fallbacks.fire(e);
    return found;
  }

  async list(agent: string): Promise<CheckpointInfo[]> {
    this.check();
    return (this.rows.get(agent) ?? []).map((r) => this.info(agent, r, verifyPayload(r.payload, r.checksum).ok));
  }

  async get(agent: string, seq: number): Promise<StoredCheckpoint | null> {
    this.check();
    const r = this.rows.get(agent)?.find((x) => x.seq === seq);
    if (!r) return null;
    const verified = verifyPayload(r.payload, r.checksum);
    return { info: this.info(agent, r, verified.ok), verified };
  }

  private info(agent: string, r: Row, valid: boolean): CheckpointInfo {
    return { agent, seq: r.seq, version: r.version, runtimeVersion: this.runtimeVersion, time: r.time, kind: r.kind, size: r.size, checksum: r.checksum, valid, store: 'memory' };
  }

  onFallback(listener: (e: FallbackEvent) => void): Disposable {
    return this.fallbacks.event(listener);
  }

  onWriteError(): Disposable {
    // Memory writes do not fail.
    return { dispose() {} };
  }

  inboxes(): MailboxFactory {
    return {
      open: (agent) => {
        let box = this.boxes.get(agent);
        if (!box) this.boxes.set(agent, (box = new MemoryMailbox(agent)));
        return box;
      },
    };
  }

  async putMeta(key: string, value: unknown) {
    this.check();
    this.meta.set(key, toPayload(value));
  }

  async getMeta<T = unknown>(key: string): Promise<T | undefined> {
    this.check();
    const v = this.meta.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async journalCall(agent: string, msgId: string, callIndex: number, result: unknown) {
    this.check();
    const k = journalKey(agent, msgId);
    const m = this.journal.get(k) ?? new Map<number, string>();
    m.set(callIndex, toPayload(result));
    this.journal.set(k, m);
  }

  async journaled(agent: string, msgId: string): Promise<unknown[]> {
    this.check();
    const m = this.journal.get(journalKey(agent, msgId));
    const out: unknown[] = [];
    for (let i = 0; m?.has(i); i++) out.push(JSON.parse(m.get(i)!));
    return out;
  }

  async clearJournal(agent: string, msgId: string) {
    this.check();
    this.journal.delete(journalKey(agent, msgId));
  }

  async corruptLatest(agent: string): Promise<number | null> {
    this.check();
    const r = this.rows.get(agent)?.at(-1);
    if (!r) return null;
    r.payload = damage(r.payload);
    return r.seq;
  }

  async dropLatest(agent: string): Promise<number | null> {
    this.check();
    return this.rows.get(agent)?.pop()?.seq ?? null;
  }

  async close() {
    this.closed = true;
  }

  private check() {
    if (this.closed) throw new StoreClosedError();
  }
}

function journalKey(agent: string, msgId: string) {
  return `${agent}\u0000${msgId}`;
}
