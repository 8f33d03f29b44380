/**
 * The Redis checkpoint store, for frequent small checkpoints (states well
 * under 1 MB). Each write is one Lua script, so a checkpoint, the removal of
 * the message it completes and the clearing of that message's journal happen
 * atomically; scripts issued in the same turn share one round trip
 * (auto-pipelining), which is Redis's group commit. A caller is acknowledged
 * when Redis replies: with `appendonly yes` and `appendfsync always` that is
 * after the write reached the disk; with `everysec` (Redis's default) a crash
 * of Redis alone loses nothing, a power loss up to a second; with no
 * append-only file, a Redis restart loses what came after its last snapshot
 * (the store warns at start).
 *
 * Keys, under the prefix (default `faultline:<name>:`), per agent A:
 * `cp:A` (ZSET of seqs), `cpd:A` (HASH: seq → header JSON, seq:p → payload),
 * `cpseq:A` (the seq counter: seqs never go back), `in:A` (HASH: message id
 * → envelope), `ino:A` (ZSET: arrival order), `indl:A` (HASH: deliveries),
 * `j:A:<msg>` (HASH: call index → result); and `meta` (HASH), `inseq`.
 */
import type { Redis as RedisClient } from 'ioredis';
import type { Envelope } from '../messaging/Mailbox.ts';
import type { CheckpointInfo, CheckpointInput, CheckpointKind, CheckpointStore, FallbackEvent, Restored, RetentionOptions, StoredCheckpoint, WriteErrorEvent } from './CheckpointStore.ts';
import { DEFAULT_RETAIN } from './CheckpointStore.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';
import { checksumOf, damageText, payloadOf, toPayload, verifyPayload } from './payload.ts';
import { StateNotSerializableError, StoreClosedError, StoreUnavailableError, redactUrl } from './errors.ts';
import { MirrorInboxes, type InboxBackend } from './MirrorInbox.ts';
import { seal, unseal, type Blobs } from './blobs.ts';
import { StoreHealth } from './StoreHealth.ts';

/** The size above which a state suits Redis badly (it lives in memory, copied on every write). */
export const REDIS_STATE_WARN_BYTES = 1_048_576;

export interface RedisCheckpointStoreOptions extends RetentionOptions {
  url: string;
  prefix?: string;
  runtimeVersion?: string;
  now?: () => number;
  connectTimeoutMs?: number;
  blobs?: Blobs;
  /** Warnings for the log: persistence off, a state too large for Redis. */
  warn?: (message: string) => void;
}

const PUT = `
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], seq, seq)
redis.call('HSET', KEYS[2], seq, string.gsub(ARGV[1], '"seq":0', '"seq":' .. seq, 1), seq .. ':p', ARGV[2])
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', seq - tonumber(ARGV[3]))
for _, s in ipairs(old) do
  local drop = ARGV[4] == ''
  if not drop then
    local h = redis.call('HGET', KEYS[2], s)
    drop = (not h) or cjson.decode(h).t < ARGV[4]
  end
  if drop then
    redis.call('ZREM', KEYS[1], s)
    redis.call('HDEL', KEYS[2], s, s .. ':p')
  end
end
if ARGV[5] ~= '' then
  redis.call('HDEL', KEYS[4], ARGV[5])
  redis.call('ZREM', KEYS[5], ARGV[5])
  redis.call('HDEL', KEYS[6], ARGV[5])
  redis.call('DEL', KEYS[7])
end
return seq`;

const INBOX_PUT = `
local n = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], n, ARGV[1])
return n`;

const INBOX_DEL = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1`;

// The newest checkpoint in one round trip: { seq, header, payload }.
const LATEST = `
local top = redis.call('ZREVRANGE', KEYS[1], 0, 0)
if #top == 0 then return nil end
local v = redis.call('HMGET', KEYS[2], top[1], top[1] .. ':p')
return { top[1], v[1], v[2] }`;

interface Header {
  seq: number;
  v: number;
  rv: string;
  t: string;
  k: CheckpointKind;
  s: number;
  c: string;
  b: string | null;
}

type Scripted = RedisClient & {
  flPut(keys: string[], ...args: (string | number)[]): Promise<number>;
  flInboxPut(k1: string, k2: string, k3: string, id: string, env: string): Promise<number>;
  flInboxDel(k1: string, k2: string, k3: string, id: string): Promise<number>;
  flLatest(k1: string, k2: string): Promise<[string, string | null, string | null] | null>;
};

/** A `CheckpointStore` on Redis. Open it with `RedisCheckpointStore.open`. */
export class RedisCheckpointStore implements CheckpointStore {
  readonly kind = 'redis' as const;
  /** Whether the server answers; probed with backoff while it does not. */
  readonly health = new StoreHealth(() => this.ping());
  private readonly p: string;
  private readonly retain: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly runtimeVersion: string;
  private fallbacks = new Emitter<FallbackEvent>();
  private writeErrors = new Emitter<WriteErrorEvent>();
  private boxes: MirrorInboxes;
  private closed = false;
  private warnedSize = new Set<string>();
  private pending = new Set<Promise<unknown>>();

  private constructor(
    private readonly r: Scripted,
    readonly url: string,
    stored: Map<string, Envelope[]>,
    private readonly opts: RedisCheckpointStoreOptions,
    /** What Redis said about its persistence at open: `always`, `everysec`, `no`, or `off` (no AOF). */
    readonly durability: string,
  ) {
    this.p = opts.prefix ?? 'faultline:';
    this.retain = Math.max(1, Math.floor(opts.retain ?? DEFAULT_RETAIN));
    this.maxAgeMs = Math.max(0, opts.retainMaxAgeMs ?? 0);
    this.now = opts.now ?? Date.now;
    this.runtimeVersion = opts.runtimeVersion ?? '0.0.0';
    const backend: InboxBackend = {
      insert: (agent, e, message) => this.track(this.r.flInboxPut(this.k('in', agent), this.k('ino', agent), this.p + 'inseq', e.id, JSON.stringify({ message: '$', id: e.id, kind: e.kind, from: e.from, at: e.at, ...(e.traceparent ? { traceparent: e.traceparent } : {}) }).replace('"$"', message))).then(() => undefined),
      deliver: (agent, id) => this.track(this.r.hincrby(this.k('indl', agent), id, 1)).then(() => undefined),
      remove: (agent, id) => this.track(this.r.flInboxDel(this.k('in', agent), this.k('ino', agent), this.k('indl', agent), id)).then(() => undefined),
    };
    this.boxes = new MirrorInboxes(stored, backend, this.writeErrors);
  }

  private k(kind: string, agent: string): string {
    return `${this.p}${kind}:${agent}`;
  }

  /**
   * Connects, checks persistence and loads the inboxes. Rejects within
   * `connectTimeoutMs` with a `StoreUnavailableError` (password redacted).
   */
  static async open(opts: RedisCheckpointStoreOptions): Promise<RedisCheckpointStore> {
    const { Redis } = await import('ioredis');
    const r = new Redis(opts.url, {
      lazyConnect: true,
      enableAutoPipelining: true,
      // Fail writes at once while disconnected instead of queueing them in memory: nothing is acknowledged that is not stored.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    }) as Scripted;
    r.on('error', () => undefined);
    r.defineCommand('flPut', { numberOfKeys: 7, lua: PUT });
    r.defineCommand('flInboxPut', { numberOfKeys: 3, lua: INBOX_PUT });
    r.defineCommand('flInboxDel', { numberOfKeys: 3, lua: INBOX_DEL });
    r.defineCommand('flLatest', { numberOfKeys: 2, lua: LATEST });
    const prefix = opts.prefix ?? 'faultline:';
    try {
      await r.connect();
      const info = await r.info('persistence');
      const aof = /aof_enabled:1/.test(info);
      let fsync = 'off';
      if (aof) {
        try {
          fsync = ((await r.config('GET', 'appendfsync')) as string[])[1] ?? 'everysec';
        } catch {
          fsync = 'everysec'; // CONFIG may be disabled on managed servers
        }
      }
      if (!aof) opts.warn?.(`Redis at ${redactUrl(opts.url)} has no append-only file (appendonly no): a Redis restart loses every checkpoint and message since its last snapshot. Run it with --appendonly yes (and --appendfsync always for power-loss safety)`);
      const stored = new Map<string, Envelope[]>();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}ino:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const agent = key.slice(prefix.length + 4);
          const ids = await r.zrange(key, 0, -1);
          if (!ids.length) continue;
          const [envs, dl] = await Promise.all([r.hmget(`${prefix}in:${agent}`, ...ids), r.hmget(`${prefix}indl:${agent}`, ...ids)]);
          const list: Envelope[] = [];
          ids.forEach((id, i) => {
            const raw = envs[i];
            if (raw === null) return;
            try {
              const e = JSON.parse(raw) as Envelope;
              const env: Envelope = { id: e.id, kind: e.kind, message: e.message, at: e.at, deliveries: Number(dl[i] ?? 0) };
              if (e.from !== undefined && e.from !== null) env.from = e.from;
              if (typeof e.traceparent === 'string') env.traceparent = e.traceparent;
              list.push(env);
            } catch {
              // A message that no longer parses stays on the server for inspection.
            }
          });
          stored.set(agent, list);
        }
      } while (cursor !== '0');
      return new RedisCheckpointStore(r, opts.url, stored, opts, fsync);
    } catch (e) {
      r.disconnect();
      throw new StoreUnavailableError('redis', opts.url, (e as Error).message);
    }
  }

  private unavailable(e: unknown): unknown {
    // A script error is about one write, not the server.
    if ((e as { name?: string }).name === 'ReplyError' && !/LOADING|MISCONF|BUSY|READONLY/.test((e as Error).message)) return e;
    const err = e instanceof StoreUnavailableError ? e : new StoreUnavailableError('redis', this.url, (e as Error).message);
    this.health.down(err);
    return err;
  }

  /** Remembers a write until it settles, so reads and close wait for it; maps connection errors. */
  private track<T>(p: Promise<T>): Promise<T> {
    const t = p.then(
      (v) => {
        this.health.up();
        return v;
      },
      (e) => {
        throw this.unavailable(e);
      },
    );
    this.pending.add(t);
    const done = () => this.pending.delete(t);
    t.then(done, done);
    return t;
  }

  private async settle() {
    if (this.closed) throw new StoreClosedError();
    if (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async ping(): Promise<void> {
    try {
      await this.r.ping();
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  async put(c: CheckpointInput): Promise<{ seq: number }> {
    if (this.closed) throw new StoreClosedError();
    let payload: string;
    try {
      payload = payloadOf(c);
    } catch (e) {
      throw new StateNotSerializableError(c.agent, (e as Error).message);
    }
    const checksum = checksumOf(payload);
    const size = Buffer.byteLength(payload);
    // Out of peek at once, before any await: the next delivery must not hand this message over again.
    const taken = c.ack === undefined ? undefined : this.boxes.open(c.agent).take(c.ack);
    let sealed;
    try {
      sealed = await seal(this.opts.blobs, payload, checksum, size);
    } catch (e) {
      taken?.restore();
      throw this.unavailable(e);
    }
    if (!sealed.blob && size > REDIS_STATE_WARN_BYTES && !this.warnedSize.has(c.agent)) {
      this.warnedSize.add(c.agent);
      this.opts.warn?.(`agent ${c.agent}'s state is ${(size / 1_048_576).toFixed(1)} MB: Redis suits states under 1 MB; keep it smaller, or use checkpoints.blobs or the postgres store`);
    }
    const header: Header = { seq: 0, v: c.version, rv: this.runtimeVersion, t: new Date(this.now()).toISOString(), k: c.kind ?? 'full', s: size, c: checksum, b: sealed.blob };
    const youngFrom = this.maxAgeMs > 0 ? new Date(this.now() - this.maxAgeMs).toISOString() : '';
    const a = c.agent;
    try {
      const seq = await this.track(
        this.r.flPut(
          [this.k('cp', a), this.k('cpd', a), this.k('cpseq', a), this.k('in', a), this.k('ino', a), this.k('indl', a), `${this.p}j:${a}:${c.ack ?? ''}`],
          JSON.stringify(header),
          sealed.payload,
          this.retain,
          youngFrom,
          c.ack ?? '',
        ),
      );
      return { seq: Number(seq) };
    } catch (e) {
      taken?.restore();
      throw e;
    }
  }

  private async verify(h: Header, payload: string | null) {
    const bytes = await unseal(this.opts.blobs, { payload: payload ?? '', blob: h.b }, 'Redis');
    if (bytes === null) return { ok: false as const, reason: 'parse' as const, detail: `its blob ${h.b} is missing from the bucket` };
    return verifyPayload(bytes, h.c);
  }

  private async read<T>(f: () => Promise<T>): Promise<T> {
    await this.settle();
    try {
      return await f();
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  private restored(h: Header, value: unknown, skipped: number[]): Restored {
    return { state: value, version: h.v, seq: h.seq, kind: h.k, time: h.t, skipped };
  }

  async latest(agent: string): Promise<Restored | null> {
    const top = await this.read(() => this.r.flLatest(this.k('cp', agent), this.k('cpd', agent)));
    if (!top || top[1] === null) return null;
    const h = JSON.parse(top[1]) as Header;
    const v = await this.verify(h, top[2]);
    if (v.ok) return this.restored(h, v.value, []);
    const events: FallbackEvent[] = [{ what: 'checkpoint', agent, seq: h.seq, reason: v.reason, detail: v.detail }];
    let found: Restored | null = null;
    const older = await this.read(() => this.r.zrevrangebyscore(this.k('cp', agent), `(${h.seq}`, '-inf'));
    for (const s of older) {
      const [hh, pp] = await this.read(() => this.r.hmget(this.k('cpd', agent), s, `${s}:p`));
      if (hh === null) continue;
      const oh = JSON.parse(hh) as Header;
      const w = await this.verify(oh, pp);
      if (w.ok) {
        found = this.restored(oh, w.value, events.map((e) => e.seq));
        break;
      }
      events.push({ what: 'checkpoint', agent, seq: oh.seq, reason: w.reason, detail: w.detail });
    }
    for (const e of events) this.fallbacks.fire(e);
    return found;
  }

  async list(agent: string): Promise<CheckpointInfo[]> {
    const seqs = await this.read(() => this.r.zrange(this.k('cp', agent), 0, -1));
    if (!seqs.length) return [];
    const vals = await this.read(() => this.r.hmget(this.k('cpd', agent), ...seqs.flatMap((s) => [s, `${s}:p`])));
    const out: CheckpointInfo[] = [];
    for (let i = 0; i < seqs.length; i++) {
      const hh = vals[2 * i];
      if (hh === null) continue;
      const h = JSON.parse(hh) as Header;
      out.push(this.info(agent, h, (await this.verify(h, vals[2 * i + 1])).ok));
    }
    return out;
  }

  async get(agent: string, seq: number): Promise<StoredCheckpoint | null> {
    const [hh, pp] = await this.read(() => this.r.hmget(this.k('cpd', agent), String(seq), `${seq}:p`));
    if (hh === null) return null;
    const h = JSON.parse(hh) as Header;
    const verified = await this.verify(h, pp);
    return { info: this.info(agent, h, verified.ok), verified };
  }

  private info(agent: string, h: Header, valid: boolean): CheckpointInfo {
    const info: CheckpointInfo = { agent, seq: h.seq, version: h.v, runtimeVersion: h.rv, time: h.t, kind: h.k, size: h.s, checksum: h.c, valid, store: 'redis' };
    if (h.b && this.opts.blobs) info.blob = this.opts.blobs.url(h.b);
    return info;
  }

  onFallback(listener: (e: FallbackEvent) => void): Disposable {
    return this.fallbacks.event(listener);
  }

  onWriteError(listener: (e: WriteErrorEvent) => void): Disposable {
    return this.writeErrors.event(listener);
  }

  inboxes(): MirrorInboxes {
    if (this.closed) throw new StoreClosedError();
    return this.boxes;
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.track(this.r.hset(this.p + 'meta', key, toPayload(value)));
  }

  async getMeta<T = unknown>(key: string): Promise<T | undefined> {
    const v = await this.read(() => this.r.hget(this.p + 'meta', key));
    return v === null ? undefined : (JSON.parse(v) as T);
  }

  async journalCall(agent: string, msgId: string, callIndex: number, result: unknown): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.track(this.r.hset(`${this.p}j:${agent}:${msgId}`, String(callIndex), toPayload(result)));
  }

  async journaled(agent: string, msgId: string): Promise<unknown[]> {
    const all = await this.read(() => this.r.hgetall(`${this.p}j:${agent}:${msgId}`));
    const out: unknown[] = [];
    while (all[String(out.length)] !== undefined) out.push(JSON.parse(all[String(out.length)]));
    return out;
  }

  async clearJournal(agent: string, msgId: string): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.track(this.r.del(`${this.p}j:${agent}:${msgId}`));
  }

  async corruptLatest(agent: string): Promise<number | null> {
    const top = await this.read(() => this.r.flLatest(this.k('cp', agent), this.k('cpd', agent)));
    if (!top || top[1] === null) return null;
    const h = JSON.parse(top[1]) as Header;
    if (h.b && this.opts.blobs) {
      const bytes = await this.opts.blobs.get(h.b);
      await this.opts.blobs.overwrite(h.b, damageText(Buffer.from(bytes ?? []).toString('utf8')));
    } else await this.track(this.r.hset(this.k('cpd', agent), `${h.seq}:p`, damageText(top[2] ?? '')));
    return h.seq;
  }

  async dropLatest(agent: string): Promise<number | null> {
    const top = await this.read(() => this.r.zrevrange(this.k('cp', agent), 0, 0));
    if (!top.length) return null;
    const s = top[0];
    await this.track(this.r.multi().zrem(this.k('cp', agent), s).hdel(this.k('cpd', agent), s, `${s}:p`).exec());
    return Number(s);
  }

  /** The blob keys checkpoints reference, for collecting the others. */
  async referencedBlobs(): Promise<Set<string>> {
    const out = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.read(() => this.r.scan(cursor, 'MATCH', `${this.p}cpd:*`, 'COUNT', 1000));
      cursor = next;
      for (const key of keys) {
        const all = await this.read(() => this.r.hgetall(key));
        for (const [f, v] of Object.entries(all)) {
          if (f.endsWith(':p')) continue;
          const b = (JSON.parse(v) as Header).b;
          if (b) out.add(b);
        }
      }
    } while (cursor !== '0');
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    await Promise.allSettled([...this.pending]);
    this.r.disconnect();
    this.opts.blobs?.close();
  }
}
