/**
 * The PostgreSQL checkpoint store: checkpoints, the durable inbox, the call
 * journal and meta in one schema (default `faultline`), written through
 * group commit. Writes queued while a batch commits form the next batch of
 * their lane (an agent's writes always go to one lane, so they commit in
 * order; two lanes overlap their commits), and a batch is ONE statement (data-modifying CTEs over `unnest`ed arrays):
 * one round trip and one commit for many agents' checkpoints, each caller
 * acknowledged after that commit. A checkpoint that completes a message's
 * handling removes the message from the inbox and clears its journal in the
 * same statement, so the two commit together or not at all.
 *
 * Every write goes through `PgWriter.run`, the one place a lease fencing
 * token can be checked for a whole batch (the cluster adds it there).
 */
import type { Pool, PoolClient } from 'pg';
import type { Envelope } from '../messaging/Mailbox.ts';
import type { CheckpointInfo, CheckpointInput, CheckpointKind, CheckpointStore, FallbackEvent, Restored, RetentionOptions, StoredCheckpoint, WriteErrorEvent } from './CheckpointStore.ts';
import { DEFAULT_RETAIN } from './CheckpointStore.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';
import { checksumOf, damageText, payloadOf, toPayload, verifyPayload } from './payload.ts';
import { LeaseLostError, StateNotSerializableError, StoreClosedError, StoreUnavailableError, redactUrl } from './errors.ts';
import { MirrorInboxes, type InboxBackend } from './MirrorInbox.ts';
import { seal, unseal, type Blobs } from './blobs.ts';
import { FaultlineError } from '../errors.ts';
import { StoreHealth } from './StoreHealth.ts';
import { PgLeases } from '../cluster/PgLeases.ts';

export interface PostgresCheckpointStoreOptions extends RetentionOptions {
  url: string;
  /** The PostgreSQL schema holding the tables (default "faultline"). */
  schema?: string;
  runtimeVersion?: string;
  now?: () => number;
  /** Connections in the pool (default 8). */
  poolSize?: number;
  /** How long opening waits for the server (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Writes per batch at most (default 1024). */
  maxBatch?: number;
  /** Batches committing at once, agents spread over them (default 2). */
  lanes?: number;
  blobs?: Blobs;
  /**
   * Cluster fencing: every write of an agent carries the epoch of the lease on
   * its unit, and commits only while `node` still holds that lease. An agent
   * with no unit (`undefined`) writes unfenced.
   */
  fence?: Fence;
}

export interface Fence {
  node: string;
  /** The unit an agent belongs to and the epoch of this node's lease on it. */
  of(agent: string): { unit: string; epoch: number } | undefined;
}

export { LeaseLostError };

/** The SQLSTATE fence() raises. */
const LEASE_LOST = 'FL001';

/** The database's schema is newer than this Faultline's. */
export class PgSchemaTooNewError extends FaultlineError {
  constructor(url: string, have: number, supported: number) {
    super(`The PostgreSQL checkpoint store at ${redactUrl(url)} has schema version ${have}, but this Faultline supports up to ${supported}; upgrade Faultline`);
  }
}

/** The URL with server options added to the ones it names (`?options=`): they come from the URL first. */
function withSessionOptions(url: string, options: string): string {
  try {
    const u = new URL(url);
    const own = u.searchParams.get('options');
    u.searchParams.set('options', own ? `${own} ${options}` : options);
    return u.toString();
  } catch {
    return url;
  }
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Forward migrations of the store's schema; `MIGRATIONS[i]` takes it from version i to i + 1. Never edit a shipped one. */
const MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
    CREATE TABLE ${s}.checkpoints (
      agent text NOT NULL,
      seq integer NOT NULL,
      version integer NOT NULL,
      runtime_version text NOT NULL,
      time timestamptz NOT NULL,
      kind text NOT NULL,
      size integer NOT NULL,
      checksum text NOT NULL,
      payload text NOT NULL,
      blob text,
      PRIMARY KEY (agent, seq)
    );
    CREATE TABLE ${s}.inbox (
      pos bigserial PRIMARY KEY,
      agent text NOT NULL,
      id text NOT NULL,
      kind text NOT NULL,
      message text NOT NULL,
      from_agent text,
      at bigint NOT NULL,
      deliveries integer NOT NULL DEFAULT 0,
      UNIQUE (agent, id)
    );
    CREATE TABLE ${s}.journal (
      agent text NOT NULL,
      msg_id text NOT NULL,
      call_index integer NOT NULL,
      result text NOT NULL,
      PRIMARY KEY (agent, msg_id, call_index)
    );
    CREATE TABLE ${s}.meta (
      key text PRIMARY KEY,
      value text NOT NULL,
      time timestamptz NOT NULL
    );`,
  // v2: states compressed with lz4 when PostgreSQL has it (much cheaper than pglz for 10 KB JSON); pglz otherwise.
  (s) => `
    DO $$ BEGIN
      ALTER TABLE ${s}.checkpoints ALTER COLUMN payload SET COMPRESSION lz4;
      ALTER TABLE ${s}.inbox ALTER COLUMN message SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
    END $$;`,
  // v3: leases of a cluster's units (children of the root supervisor), each with a fencing epoch, and the nodes.
  // fence() holds the leases a write names (FOR SHARE, so a takeover waits for the write's commit) and raises
  // FL001 when one of them has moved on: the whole statement then rolls back.
  (s) => `
    CREATE TABLE ${s}.leases (
      unit text PRIMARY KEY,
      node text NOT NULL,
      epoch bigint NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE TABLE ${s}.nodes (
      id text PRIMARY KEY,
      url text NOT NULL,
      started_at timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      state text NOT NULL
    );
    CREATE FUNCTION ${s}.fence(units text[], epochs bigint[], owner text) RETURNS integer
    LANGUAGE plpgsql AS $fn$
    DECLARE held integer;
    BEGIN
      SELECT count(*) INTO held FROM (
        SELECT 1 FROM ${s}.leases l JOIN unnest(units, epochs) AS f(unit, epoch)
          ON l.unit = f.unit AND l.epoch = f.epoch AND l.node = owner
        FOR SHARE OF l) x;
      IF held < cardinality(units) THEN
        RAISE EXCEPTION 'lease lost: another node holds % of the units this write names', cardinality(units) - held
          USING ERRCODE = 'FL001';
      END IF;
      RETURN held;
    END $fn$;`,
  // v4: a stored message keeps its sender's trace context (W3C traceparent), so a redelivery elsewhere or later stays in its trace.
  (s) => `ALTER TABLE ${s}.inbox ADD COLUMN traceparent text;`,
];
export const PG_SCHEMA_VERSION = MIGRATIONS.length;

// SQLSTATE classes that are about the server or the connection, not one write.
const SERVER_WIDE = /^(08|57|53|58|XX)/;

/** Whether an error means the server is unreachable (rather than one bad write). */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  const code = String((e as { code?: unknown })?.code ?? '');
  if (/^[0-9A-Z]{5}$/.test(code)) return SERVER_WIDE.test(code);
  if (code.startsWith('E')) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE…
  return /Connection terminated|connection timeout|timeout exceeded|Client has encountered a connection error|not queryable|Connection ended/i.test(String((e as Error)?.message));
}

/**
 * `full`: prune all of the agent's rows past retention, not only those this
 * write pushes out (the first write of an agent in this process, or when
 * rows are also kept by age and so leave retention at any time).
 */
type CpOp = { agent: string; version: number; time: string; kind: CheckpointKind; size: number; checksum: string; payload: string; blob: string | null; floor: number; full: boolean };
type Op =
  | ({ t: 'cp' } & CpOp)
  | { t: 'in'; agent: string; e: Omit<Envelope, 'deliveries'>; message: string }
  | { t: 'del'; agent: string; id: string }
  | { t: 'dlv'; agent: string; id: string }
  | { t: 'jr'; agent: string; msgId: string; index: number; result: string }
  | { t: 'jc'; agent: string; msgId: string }
  | { t: 'meta'; key: string; value: string; time: string };

interface Write {
  ops: Op[];
  resolve: (v: { seq?: number }) => void;
  reject: (e: unknown) => void;
}

const k2 = (a: string, b: string) => `${a}\u0000${b}`;

/** Queues writes and commits each batch as one statement. */
/**
 * Shared by the lanes: a lane whose batch is small waits while another
 * lane's commit is in flight. Two small commits at once cost the server
 * twice the work and flush the WAL one after the other anyway; overlapping
 * pays only when batches are large.
 */
class LaneGate {
  inFlight = 0;
  /** Lanes waiting for their turn, first come first served. */
  private waiting: (() => void)[] = [];
  /** A waiting lane was given the turn and has not started yet. */
  private handedOver = false;

  /** Whether a lane may commit now: nothing in flight, nobody waiting before it. */
  get free(): boolean {
    return this.inFlight === 0 && this.waiting.length === 0 && !this.handedOver;
  }

  /** Resolves when it is this lane's turn (or `skip` is called, for a lane that filled up). */
  wait(): { turn: Promise<void>; skip: () => void } {
    let go!: () => void;
    const turn = new Promise<void>((r) => (go = r));
    const entry = () => go();
    this.waiting.push(entry);
    return {
      turn,
      skip: () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          go();
        }
      },
    };
  }

  start() {
    this.handedOver = false;
    this.inFlight++;
  }

  /** A commit ended: the longest-waiting lane goes next. */
  end() {
    this.inFlight--;
    if (this.inFlight === 0 && !this.handedOver) {
      const next = this.waiting.shift();
      if (next) {
        this.handedOver = true;
        next();
      }
    }
  }
}

/** A lane commits at once, even with another lane's commit in flight, when this many writes wait. */
const OVERLAP_AT = 32;

class PgWriter {
  private queue: Write[] = [];
  /** Set while this lane waits for its turn: a lane that fills up skips the wait. */
  private skipWait: (() => void) | undefined;
  private busy = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly t: { checkpoints: string; inbox: string; journal: string; meta: string },
    private readonly runtimeVersion: string,
    private readonly retain: number,
    private readonly youngFrom: () => string,
    private readonly maxBatch: number,
    private readonly failed: (e: unknown) => never,
    private readonly committed: () => void,
    private readonly gate = new LaneGate(),
    private readonly fence?: Fence,
    private readonly fenceFn = '',
  ) {}

  get pending(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  enqueue(ops: Op[]): Promise<{ seq?: number }> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (this.skipWait && this.queue.length >= OVERLAP_AT) this.skipWait();
      if (!this.busy && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  idle(): Promise<void> {
    if (this.pending === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        if (!this.gate.free && this.queue.length < OVERLAP_AT && !this.closed) {
          const { turn, skip } = this.gate.wait();
          this.skipWait = skip;
          await turn;
          this.skipWait = undefined;
        }
        const batch = this.queue.splice(0, this.maxBatch);
        this.gate.start();
        try {
          const seqs = await this.run(batch);
          this.committed();
          batch.forEach((w, i) => w.resolve({ seq: seqs[i] }));
        } catch (e) {
          if (batch.length === 1 || isConnectionError(e)) {
            const err = isConnectionError(e) ? this.wrap(e) : e;
            for (const w of batch) w.reject(err);
            continue;
          }
          // One bad write must not fail the writes that shared its batch.
          for (const w of batch) {
            try {
              const [seq] = await this.run([w]);
              w.resolve({ seq });
            } catch (e1) {
              w.reject(isConnectionError(e1) ? this.wrap(e1) : e1);
            }
          }
        } finally {
          this.gate.end();
        }
      }
    } finally {
      this.busy = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private wrap(e: unknown): unknown {
    try {
      this.failed(e);
    } catch (w) {
      return w;
    }
  }

  /** Commits a batch; the seq of each write's checkpoint (if any). */
  private async run(batch: Write[]): Promise<(number | undefined)[]> {
    const cps: { op: CpOp; write: number; ord: number }[] = [];
    const ordOf = new Map<string, number>();
    const ins = new Map<string, { op: Extract<Op, { t: 'in' }>; deliveries: number }>();
    const dels = new Map<string, { agent: string; id: string }>();
    const dlv = new Map<string, { agent: string; id: string; n: number }>();
    const jr = new Map<string, Extract<Op, { t: 'jr' }>>();
    const jc = new Map<string, { agent: string; msgId: string }>();
    const meta = new Map<string, Extract<Op, { t: 'meta' }>>();
    batch.forEach((w, wi) => {
      for (const op of w.ops) {
        switch (op.t) {
          case 'cp': {
            const ord = (ordOf.get(op.agent) ?? 0) + 1;
            ordOf.set(op.agent, ord);
            cps.push({ op, write: wi, ord });
            break;
          }
          case 'in':
            ins.set(k2(op.agent, op.e.id), { op, deliveries: 0 });
            break;
          case 'del': {
            const k = k2(op.agent, op.id);
            dlv.delete(k);
            // Inserted and removed within one batch: never written at all.
            if (ins.has(k)) ins.delete(k);
            else dels.set(k, { agent: op.agent, id: op.id });
            break;
          }
          case 'dlv': {
            const k = k2(op.agent, op.id);
            const i = ins.get(k);
            if (i) i.deliveries++;
            else if (!dels.has(k)) {
              const d = dlv.get(k);
              if (d) d.n++;
              else dlv.set(k, { agent: op.agent, id: op.id, n: 1 });
            }
            break;
          }
          case 'jr':
            jr.set(`${k2(op.agent, op.msgId)}\u0000${op.index}`, op);
            break;
          case 'jc': {
            const k = k2(op.agent, op.msgId);
            for (const [key, r] of jr) if (r.agent === op.agent && r.msgId === op.msgId) jr.delete(key);
            jc.set(k, { agent: op.agent, msgId: op.msgId });
            break;
          }
          case 'meta':
            meta.set(op.key, op);
            break;
        }
      }
    });

    const values: unknown[] = [];
    const p = (v: unknown, cast: string) => (values.push(v), `$${values.length}::${cast}`);
    const ctes: string[] = [];
    const T = this.t;
    const shape: string[] = [];
    if (cps.length) {
      // States go as one text parameter each, not inside a text[] literal: the server parses an array literal
      // character by character, which at 10 KB a state cost more than the insert itself. The statement is
      // prepared per shape, so the count is rounded up to a power of two and the rest padded with NULLs that
      // unnest zips to rows without an agent, left out below.
      const slots = 2 ** Math.ceil(Math.log2(cps.length));
      const payloads = [...cps.map((c) => c.op.payload), ...new Array<null>(slots - cps.length).fill(null)];
      shape.push(`cp${slots}`);
      const col = <K extends keyof CpOp>(k: K) => cps.map((c) => c.op[k]);
      ctes.push(`cp AS (INSERT INTO ${T.checkpoints} (agent, seq, version, runtime_version, time, kind, size, checksum, payload, blob)
        SELECT u.agent, greatest(u.floor, coalesce((SELECT max(c.seq) FROM ${T.checkpoints} c WHERE c.agent = u.agent), 0)) + u.ord,
               u.version, ${p(this.runtimeVersion, 'text')}, u.time, u.kind, u.size, u.checksum, u.payload, u.blob
        FROM unnest(${p(col('agent'), 'text[]')}, ${p(col('floor'), 'int[]')}, ${p(cps.map((c) => c.ord), 'int[]')}, ${p(col('version'), 'int[]')},
                    ${p(col('time'), 'timestamptz[]')}, ${p(col('kind'), 'text[]')}, ${p(col('size'), 'int[]')}, ${p(col('checksum'), 'text[]')},
                    ARRAY[${payloads.map((v) => p(v, 'text')).join(', ')}]::text[], ${p(col('blob'), 'text[]')})
             AS u(agent, floor, ord, version, time, kind, size, checksum, payload, blob)
        WHERE u.agent IS NOT NULL
        RETURNING agent, seq)`);
      // Retention: rows this statement inserted are invisible to it, so the newest valid checkpoint always survives.
      // Once an agent's old rows are pruned, a write only pushes out the rows just below its window: the range
      // (top - inserted - retain, top - retain], read off the primary key, never the dead rows below it. The
      // OFFSET 0 keeps the planner from turning the per-agent lookup into a join over the whole table.
      const full = [...new Set(cps.filter((c) => c.op.full).map((c) => c.op.agent))];
      const r = p(this.retain, 'int');
      ctes.push(`pruned AS (DELETE FROM ${T.checkpoints} c WHERE c.ctid = ANY (ARRAY(
        SELECT o.ctid FROM (SELECT agent, max(seq) AS top,
                                   CASE WHEN agent = ANY(${p(full, 'text[]')}) THEN 0 ELSE max(seq) - count(*) - ${r} END AS lo
                            FROM cp GROUP BY agent) n
        CROSS JOIN LATERAL (SELECT k.ctid FROM ${T.checkpoints} k
          WHERE k.agent = n.agent AND k.seq > n.lo AND k.seq <= n.top - ${r} AND k.time < ${p(this.youngFrom(), 'timestamptz')} OFFSET 0) o)))`);
    }
    if (ins.size) {
      shape.push('in');
      const rows = [...ins.values()];
      ctes.push(`ins AS (INSERT INTO ${T.inbox} (agent, id, kind, message, from_agent, at, deliveries, traceparent)
        SELECT agent, id, kind, message, from_agent, at, deliveries, traceparent
        FROM unnest(${p(rows.map((r) => r.op.agent), 'text[]')}, ${p(rows.map((r) => r.op.e.id), 'text[]')}, ${p(rows.map((r) => r.op.e.kind), 'text[]')},
                    ${p(rows.map((r) => r.op.message), 'text[]')}, ${p(rows.map((r) => r.op.e.from ?? null), 'text[]')}, ${p(rows.map((r) => r.op.e.at), 'int8[]')},
                    ${p(rows.map((r) => r.deliveries), 'int[]')}, ${p(rows.map((r) => r.op.e.traceparent ?? null), 'text[]')}) WITH ORDINALITY AS u(agent, id, kind, message, from_agent, at, deliveries, traceparent, ord)
        ORDER BY ord)`);
    }
    if (dels.size) {
      shape.push('del');
      const rows = [...dels.values()];
      ctes.push(`del AS (DELETE FROM ${T.inbox} i USING unnest(${p(rows.map((r) => r.agent), 'text[]')}, ${p(rows.map((r) => r.id), 'text[]')}) AS d(agent, id)
        WHERE i.agent = d.agent AND i.id = d.id)`);
    }
    if (dlv.size) {
      shape.push('dlv');
      const rows = [...dlv.values()];
      ctes.push(`dlv AS (UPDATE ${T.inbox} i SET deliveries = i.deliveries + d.n
        FROM unnest(${p(rows.map((r) => r.agent), 'text[]')}, ${p(rows.map((r) => r.id), 'text[]')}, ${p(rows.map((r) => r.n), 'int[]')}) AS d(agent, id, n)
        WHERE i.agent = d.agent AND i.id = d.id)`);
    }
    if (jr.size) {
      shape.push('jr');
      const rows = [...jr.values()];
      ctes.push(`jr AS (INSERT INTO ${T.journal} (agent, msg_id, call_index, result)
        SELECT * FROM unnest(${p(rows.map((r) => r.agent), 'text[]')}, ${p(rows.map((r) => r.msgId), 'text[]')}, ${p(rows.map((r) => r.index), 'int[]')}, ${p(rows.map((r) => r.result), 'text[]')})
        ON CONFLICT (agent, msg_id, call_index) DO UPDATE SET result = excluded.result)`);
    }
    if (jc.size) {
      shape.push('jc');
      const rows = [...jc.values()];
      ctes.push(`jc AS (DELETE FROM ${T.journal} j USING unnest(${p(rows.map((r) => r.agent), 'text[]')}, ${p(rows.map((r) => r.msgId), 'text[]')}) AS d(agent, msg_id)
        WHERE j.agent = d.agent AND j.msg_id = d.msg_id)`);
    }
    if (meta.size) {
      shape.push('meta');
      const rows = [...meta.values()];
      ctes.push(`meta AS (INSERT INTO ${T.meta} (key, value, time)
        SELECT * FROM unnest(${p(rows.map((r) => r.key), 'text[]')}, ${p(rows.map((r) => r.value), 'text[]')}, ${p(rows.map((r) => r.time), 'timestamptz[]')})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, time = excluded.time)`);
    }
    const out: (number | undefined)[] = new Array(batch.length).fill(undefined);
    if (!ctes.length) return out;
    let guard = '';
    if (this.fence) {
      const held = new Map<string, number>();
      for (const w of batch) for (const op of w.ops) {
        if (op.t === 'meta') continue;
        // A message is fenced by its sender's lease: anyone may put a message in an inbox, a stale copy of an agent may not.
        const writer = op.t === 'in' ? op.e.from : op.agent;
        const f = writer === undefined ? undefined : this.fence.of(writer);
        if (f) held.set(f.unit, f.epoch);
      }
      if (held.size) {
        // A one-time filter: evaluated before any row is returned, and its error rolls the whole statement back.
        shape.push('f');
        guard = ` WHERE (SELECT ${this.fenceFn}(${p([...held.keys()], 'text[]')}, ${p([...held.values()], 'bigint[]')}, ${p(this.fence.node, 'text')})) > 0`;
      }
    }
    const text = `WITH ${ctes.join(',\n')}\n${cps.length ? 'SELECT agent, seq FROM cp' : 'SELECT 1'}${guard}`;
    let r;
    try {
      r = await this.pool.query<{ agent: string; seq: number }>({ name: `faultline_write_${shape.join('_')}`, text, values });
    } catch (e) {
      if ((e as { code?: unknown })?.code === LEASE_LOST) throw new LeaseLostError(this.fence!.node, (e as Error).message);
      throw e;
    }
    if (cps.length) {
      const byAgent = new Map<string, number[]>();
      for (const row of r.rows) {
        let l = byAgent.get(row.agent);
        if (!l) byAgent.set(row.agent, (l = []));
        l.push(row.seq);
      }
      for (const l of byAgent.values()) l.sort((a, b) => a - b);
      for (const c of cps) out[c.write] = byAgent.get(c.op.agent)![c.ord - 1];
    }
    return out;
  }
}

interface CheckpointRow {
  seq: number;
  version: number;
  runtime_version: string;
  time: Date;
  kind: CheckpointKind;
  size: number;
  checksum: string;
  payload: string;
  blob: string | null;
}

/** A `CheckpointStore` on PostgreSQL. Open it with `PostgresCheckpointStore.open`. */
export class PostgresCheckpointStore implements CheckpointStore {
  readonly kind = 'postgres' as const;
  /** Whether the server answers; probed with backoff while it does not. */
  readonly health = new StoreHealth(() => this.ping());
  private readonly t: { checkpoints: string; inbox: string; journal: string; meta: string };
  /**
   * Writers ("lanes"), each committing one batch at a time; an agent's writes
   * (and a meta key's) always go to the same lane, so they commit in order,
   * while the lanes' commits overlap (two WAL flushes in flight, not one).
   */
  private readonly lanes: PgWriter[];
  private readonly retain: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly runtimeVersion: string;
  private lastSeq = new Map<string, number>();
  /** Agents whose rows past retention were all pruned by a committed write of this process. */
  private pruned = new Set<string>();
  private fallbacks = new Emitter<FallbackEvent>();
  private writeErrors = new Emitter<WriteErrorEvent>();
  private boxes: MirrorInboxes;
  private closed = false;
  private isoAt = { ms: NaN, iso: '' };

  private constructor(
    private readonly pool: Pool,
    readonly url: string,
    private readonly schema: string,
    stored: Map<string, Envelope[]>,
    private readonly opts: PostgresCheckpointStoreOptions,
  ) {
    const s = ident(schema);
    this.t = { checkpoints: `${s}.checkpoints`, inbox: `${s}.inbox`, journal: `${s}.journal`, meta: `${s}.meta` };
    this.retain = Math.max(1, Math.floor(opts.retain ?? DEFAULT_RETAIN));
    this.maxAgeMs = Math.max(0, opts.retainMaxAgeMs ?? 0);
    this.now = opts.now ?? Date.now;
    this.runtimeVersion = opts.runtimeVersion ?? '0.0.0';
    const gate = new LaneGate();
    const lane = () => new PgWriter(
      pool,
      this.t,
      this.runtimeVersion,
      this.retain,
      () => (this.maxAgeMs > 0 ? new Date(this.now() - this.maxAgeMs).toISOString() : 'infinity'),
      opts.maxBatch ?? 1024,
      (e) => {
        throw this.unavailable(e);
      },
      () => this.health.up(),
      gate,
      opts.fence,
      `${s}.fence`,
    );
    this.lanes = Array.from({ length: Math.max(1, opts.lanes ?? 2) }, lane);
    const backend: InboxBackend = {
      insert: (agent, e, message) => this.lane(agent).enqueue([{ t: 'in', agent, e, message }]).then(() => undefined),
      deliver: (agent, id) => this.lane(agent).enqueue([{ t: 'dlv', agent, id }]).then(() => undefined),
      remove: (agent, id) => this.lane(agent).enqueue([{ t: 'del', agent, id }]).then(() => undefined),
    };
    this.boxes = new MirrorInboxes(stored, backend, this.writeErrors);
  }

  /** The cluster's leases and nodes, in this store's schema and on its pool. */
  leases(): PgLeases {
    return new PgLeases(this.pool, ident(this.schema));
  }

  /** The channel `insertRemote` notifies, with the agent's id as payload. */
  get inboxChannel(): string {
    return `${this.schema}.inbox`;
  }

  /**
   * Puts a message in the inbox of an agent that another node runs, and
   * wakes that node (`NOTIFY` on `inboxChannel`). Resolves once stored.
   */
  async insertRemote(agent: string, e: Omit<Envelope, 'deliveries'>): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.lane(agent).enqueue([{ t: 'in', agent, e, message: toPayload(e.message) }]);
    await this.query('SELECT pg_notify($1, $2)', [this.inboxChannel, agent]).catch(() => undefined);
  }

  /**
   * What the server holds in these agents' inboxes, once this node's writes
   * queued so far for them have committed.
   */
  async storedInbox(agents: readonly string[]): Promise<Map<string, Envelope[]>> {
    await Promise.all([...new Set(agents.map((a) => this.lane(a)))].map((l) => l.enqueue([]).catch(() => undefined)));
    const rows = await this.query<InboxRow>(`SELECT agent, id, kind, message, from_agent, traceparent, at, deliveries FROM ${this.t.inbox} WHERE agent = ANY($1) ORDER BY pos`, [agents]);
    return inboxRows(rows);
  }

  /**
   * Connects, migrates the schema and loads the inboxes. Rejects within
   * `connectTimeoutMs` with a `StoreUnavailableError` (password redacted) when
   * the server cannot be reached.
   */
  static async open(opts: PostgresCheckpointStoreOptions): Promise<PostgresCheckpointStore> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      // Every statement of this store reads or writes rows by key. A write is a prepared statement whose plan is
      // kept for the connection's life; planned while a table was still small, it would scan the whole table (its
      // dead rows too) on every write once the table has grown. A scan stays possible where no index serves.
      connectionString: withSessionOptions(opts.url, '-c enable_seqscan=off'),
      max: opts.poolSize ?? 8,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'faultline',
    });
    // An idle connection the server dropped must not crash the runtime; the next query reconnects.
    pool.on('error', () => undefined);
    const schema = opts.schema ?? 'faultline';
    try {
      const client = await pool.connect();
      try {
        await migrate(client, schema, opts.url);
        const rows = await client.query<InboxRow>(`SELECT agent, id, kind, message, from_agent, traceparent, at, deliveries FROM ${ident(schema)}.inbox ORDER BY pos`);
        const stored = inboxRows(rows.rows);
        return new PostgresCheckpointStore(pool, opts.url, schema, stored, opts);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof PgSchemaTooNewError) throw e;
      throw new StoreUnavailableError('postgres', opts.url, (e as Error).message || String((e as { code?: string }).code));
    }
  }

  private unavailable(e: unknown): StoreUnavailableError {
    const err = e instanceof StoreUnavailableError ? e : new StoreUnavailableError('postgres', this.url, (e as Error).message || String((e as { code?: string }).code));
    this.health.down(err);
    return err;
  }

  /** Probes the server (for health checks while it is down). */
  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  /** The lane of an agent (or meta key): a stable hash of the name. */
  private lane(name: string): PgWriter {
    if (this.lanes.length === 1) return this.lanes[0];
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
    return this.lanes[(h >>> 0) % this.lanes.length];
  }

  private iso(ms: number): string {
    if (this.isoAt.ms !== ms) this.isoAt = { ms, iso: new Date(ms).toISOString() };
    return this.isoAt.iso;
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
    try {
      let sealed;
      try {
        sealed = await seal(this.opts.blobs, payload, checksum, size);
      } catch (e) {
        throw this.unavailable(e);
      }
      const ops: Op[] = [{ t: 'cp', agent: c.agent, version: c.version, time: this.iso(this.now()), kind: c.kind ?? 'full', size, checksum, payload: sealed.payload, blob: sealed.blob, floor: this.lastSeq.get(c.agent) ?? 0, full: this.maxAgeMs > 0 || !this.pruned.has(c.agent) }];
      if (c.ack !== undefined) {
        if (taken?.stored !== false) ops.push({ t: 'del', agent: c.agent, id: c.ack });
        ops.push({ t: 'jc', agent: c.agent, msgId: c.ack });
      }
      const { seq } = await this.lane(c.agent).enqueue(ops);
      if (seq! > (this.lastSeq.get(c.agent) ?? 0)) this.lastSeq.set(c.agent, seq!);
      this.pruned.add(c.agent);
      return { seq: seq! };
    } catch (e) {
      taken?.restore();
      throw e;
    }
  }

  private async settle() {
    if (this.closed) throw new StoreClosedError();
    if (this.lanes.some((l) => l.pending > 0)) await this.flushed();
  }

  private async query<R extends object>(text: string, values: unknown[], name?: string): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ text, values, name })).rows;
    } catch (e) {
      throw isConnectionError(e) ? this.unavailable(e) : e;
    }
  }

  private async verify(r: CheckpointRow) {
    const bytes = await unseal(this.opts.blobs, r, 'PostgreSQL');
    if (bytes === null) return { ok: false as const, reason: 'parse' as const, detail: `its blob ${r.blob} is missing from the bucket` };
    return verifyPayload(bytes, r.checksum);
  }

  async latest(agent: string): Promise<Restored | null> {
    await this.settle();
    const cols = 'seq, version, runtime_version, time, kind, size, checksum, payload, blob';
    const [newest] = await this.query<CheckpointRow>(`SELECT ${cols} FROM ${this.t.checkpoints} WHERE agent = $1 ORDER BY seq DESC LIMIT 1`, [agent], 'faultline_latest');
    if (!newest) return null;
    const v = await this.verify(newest);
    if (v.ok) return { state: v.value, version: newest.version, seq: newest.seq, kind: newest.kind, time: newest.time.toISOString(), skipped: [] };
    const events: FallbackEvent[] = [{ what: 'checkpoint', agent, seq: newest.seq, reason: v.reason, detail: v.detail }];
    let found: Restored | null = null;
    for (const r of await this.query<CheckpointRow>(`SELECT ${cols} FROM ${this.t.checkpoints} WHERE agent = $1 AND seq < $2 ORDER BY seq DESC`, [agent, newest.seq])) {
      const w = await this.verify(r);
      if (w.ok) {
        found = { state: w.value, version: r.version, seq: r.seq, kind: r.kind, time: r.time.toISOString(), skipped: events.map((e) => e.seq) };
        break;
      }
      events.push({ what: 'checkpoint', agent, seq: r.seq, reason: w.reason, detail: w.detail });
    }
    for (const e of events) this.fallbacks.fire(e);
    return found;
  }

  async list(agent: string): Promise<CheckpointInfo[]> {
    await this.settle();
    const rows = await this.query<CheckpointRow>(`SELECT seq, version, runtime_version, time, kind, size, checksum, payload, blob FROM ${this.t.checkpoints} WHERE agent = $1 ORDER BY seq`, [agent]);
    const out: CheckpointInfo[] = [];
    for (const r of rows) out.push(this.info(agent, r, (await this.verify(r)).ok));
    return out;
  }

  async get(agent: string, seq: number): Promise<StoredCheckpoint | null> {
    await this.settle();
    const [r] = await this.query<CheckpointRow>(`SELECT seq, version, runtime_version, time, kind, size, checksum, payload, blob FROM ${this.t.checkpoints} WHERE agent = $1 AND seq = $2`, [agent, seq]);
    if (!r) return null;
    const verified = await this.verify(r);
    return { info: this.info(agent, r, verified.ok), verified };
  }

  private info(agent: string, r: CheckpointRow, valid: boolean): CheckpointInfo {
    const info: CheckpointInfo = { agent, seq: r.seq, version: r.version, runtimeVersion: r.runtime_version, time: r.time.toISOString(), kind: r.kind, size: r.size, checksum: r.checksum, valid, store: 'postgres' };
    if (r.blob && this.opts.blobs) info.blob = this.opts.blobs.url(r.blob);
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
    await this.lane(key).enqueue([{ t: 'meta', key, value: toPayload(value), time: new Date(this.now()).toISOString() }]);
  }

  async getMeta<T = unknown>(key: string): Promise<T | undefined> {
    await this.settle();
    const [row] = await this.query<{ value: string }>(`SELECT value FROM ${this.t.meta} WHERE key = $1`, [key]);
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  /** The meta values whose keys start with `prefix` (the restart windows every node of a cluster keeps), as stored now. */
  async metaWithPrefix<T = unknown>(prefix: string): Promise<Map<string, T>> {
    const rows = await this.query<{ key: string; value: string }>(`SELECT key, value FROM ${this.t.meta} WHERE starts_with(key, $1)`, [prefix]);
    return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as T]));
  }

  async journalCall(agent: string, msgId: string, callIndex: number, result: unknown): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.lane(agent).enqueue([{ t: 'jr', agent, msgId, index: callIndex, result: toPayload(result) }]);
  }

  async journaled(agent: string, msgId: string): Promise<unknown[]> {
    await this.settle();
    const out: unknown[] = [];
    for (const r of await this.query<{ call_index: number; result: string }>(`SELECT call_index, result FROM ${this.t.journal} WHERE agent = $1 AND msg_id = $2 ORDER BY call_index`, [agent, msgId])) {
      if (r.call_index !== out.length) break;
      out.push(JSON.parse(r.result));
    }
    return out;
  }

  async clearJournal(agent: string, msgId: string): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await this.lane(agent).enqueue([{ t: 'jc', agent, msgId }]);
  }

  async corruptLatest(agent: string): Promise<number | null> {
    await this.settle();
    const [r] = await this.query<{ seq: number; payload: string; blob: string | null }>(`SELECT seq, payload, blob FROM ${this.t.checkpoints} WHERE agent = $1 ORDER BY seq DESC LIMIT 1`, [agent]);
    if (!r) return null;
    if (r.blob && this.opts.blobs) {
      const bytes = await this.opts.blobs.get(r.blob);
      await this.opts.blobs.overwrite(r.blob, damageText(Buffer.from(bytes ?? []).toString('utf8')));
    } else await this.query(`UPDATE ${this.t.checkpoints} SET payload = $3 WHERE agent = $1 AND seq = $2`, [agent, r.seq, damageText(r.payload)]);
    return r.seq;
  }

  async dropLatest(agent: string): Promise<number | null> {
    await this.settle();
    const [r] = await this.query<{ seq: number }>(`DELETE FROM ${this.t.checkpoints} WHERE agent = $1 AND seq = (SELECT max(seq) FROM ${this.t.checkpoints} WHERE agent = $1) RETURNING seq`, [agent]);
    return r ? r.seq : null;
  }

  /** The blob keys rows reference, for collecting the others. */
  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.query<{ blob: string }>(`SELECT DISTINCT blob FROM ${this.t.checkpoints} WHERE blob IS NOT NULL`, []);
    return new Set(rows.map((r) => r.blob));
  }

  /** Resolves once every write queued so far has committed (or failed). */
  flushed(): Promise<void> {
    return Promise.all(this.lanes.map((l) => l.idle())).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    await this.flushed();
    for (const l of this.lanes) l.closed = true;
    await this.pool.end().catch(() => undefined);
    this.opts.blobs?.close();
  }
}

interface InboxRow { agent: string; id: string; kind: Envelope['kind']; message: string; from_agent: string | null; traceparent: string | null; at: string; deliveries: number }

/** Inbox rows by agent, in order; a message that is not JSON (written by hand) is skipped. */
function inboxRows(rows: InboxRow[]): Map<string, Envelope[]> {
  const stored = new Map<string, Envelope[]>();
  for (const r of rows) {
    let message: unknown;
    try {
      message = JSON.parse(r.message);
    } catch {
      continue;
    }
    const env: Envelope = { id: r.id, kind: r.kind, message, at: Number(r.at), deliveries: r.deliveries };
    if (r.from_agent !== null) env.from = r.from_agent;
    if (r.traceparent !== null && r.traceparent !== undefined) env.traceparent = r.traceparent;
    let l = stored.get(r.agent);
    if (!l) stored.set(r.agent, (l = []));
    l.push(env);
  }
  return stored;
}

/** Brings the schema up to `PG_SCHEMA_VERSION`, under an advisory lock so that nodes starting together migrate once. */
async function migrate(client: PoolClient, schema: string, url: string): Promise<void> {
  const s = ident(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`faultline.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer NOT NULL)`);
    const r = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_version`);
    const have = r.rows[0]?.version ?? 0;
    if (have > PG_SCHEMA_VERSION) throw new PgSchemaTooNewError(url, have, PG_SCHEMA_VERSION);
    for (let v = have; v < PG_SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v](s));
    if (r.rows.length === 0) await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [PG_SCHEMA_VERSION]);
    else if (have < PG_SCHEMA_VERSION) await client.query(`UPDATE ${s}.schema_version SET version = $1`, [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
