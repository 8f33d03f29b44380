/**
 * Leases of a cluster's units on PostgreSQL. A unit is a child of the root
 * supervisor (an agent or a whole subtree); each is held by one node at a
 * time, with an epoch that grows by one on every acquisition. The epoch is
 * the fencing token: the store's writes of a unit carry it and commit only
 * while the lease still has it (`fence()` in the store's schema), so a node
 * that lost a lease — paused, partitioned or slow — cannot write.
 *
 * Every time is the server's (`now()`): nodes' clocks never have to agree.
 */
import type { Pool } from 'pg';

export interface Lease {
  unit: string;
  node: string;
  epoch: number;
  /** Milliseconds until it expires, by the server's clock (negative: expired). */
  expiresInMs: number;
}

export interface NodeRow {
  id: string;
  url: string;
  startedAt: string;
  /** Milliseconds since its last heartbeat, by the server's clock. */
  lastSeenMs: number;
  state: 'up' | 'down';
}

export class PgLeases {
  constructor(private readonly pool: Pool, private readonly schema: string) {}

  private get leases() {
    return `${this.schema}.leases`;
  }
  private get nodes() {
    return `${this.schema}.nodes`;
  }

  /**
   * Takes a unit for `node` when nobody holds it, its lease expired or was
   * released, or `node` itself holds it (a restarted node fences its former
   * process too). The new epoch, or undefined when another node holds it.
   */
  async acquire(unit: string, node: string, leaseMs: number): Promise<number | undefined> {
    const r = await this.pool.query<{ epoch: string }>(
      `INSERT INTO ${this.leases} AS l (unit, node, epoch, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (unit) DO UPDATE SET node = excluded.node, epoch = l.epoch + 1, expires_at = excluded.expires_at
         WHERE l.expires_at <= now() OR l.node = excluded.node
       RETURNING epoch`,
      [unit, node, leaseMs],
    );
    return r.rows.length ? Number(r.rows[0].epoch) : undefined;
  }

  /** Extends the leases `node` still holds at these epochs; the units it still holds. */
  async renew(node: string, held: ReadonlyMap<string, number>, leaseMs: number): Promise<Set<string>> {
    if (!held.size) return new Set();
    const r = await this.pool.query<{ unit: string }>(
      `UPDATE ${this.leases} l SET expires_at = now() + $4 * interval '1 millisecond'
       FROM unnest($2::text[], $3::bigint[]) AS h(unit, epoch)
       WHERE l.unit = h.unit AND l.epoch = h.epoch AND l.node = $1
       RETURNING l.unit`,
      [node, [...held.keys()], [...held.values()], leaseMs],
    );
    return new Set(r.rows.map((x) => x.unit));
  }

  /** Gives units up at once (a node draining): another node may take them without waiting for expiry. */
  async release(node: string, held: ReadonlyMap<string, number>): Promise<void> {
    if (!held.size) return;
    await this.pool.query(
      `UPDATE ${this.leases} l SET expires_at = now() - interval '1 millisecond'
       FROM unnest($2::text[], $3::bigint[]) AS h(unit, epoch)
       WHERE l.unit = h.unit AND l.epoch = h.epoch AND l.node = $1`,
      [node, [...held.keys()], [...held.values()]],
    );
  }

  async list(): Promise<Lease[]> {
    const r = await this.pool.query<{ unit: string; node: string; epoch: string; ms: number }>(
      `SELECT unit, node, epoch, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms FROM ${this.leases} ORDER BY unit`,
    );
    return r.rows.map((x) => ({ unit: x.unit, node: x.node, epoch: Number(x.epoch), expiresInMs: Math.round(x.ms) }));
  }

  /** A node's heartbeat: registers it, or marks it up and seen now. */
  async heartbeat(id: string, url: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.nodes} AS n (id, url, started_at, last_seen, state) VALUES ($1, $2, now(), now(), 'up')
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, last_seen = now(), state = 'up'`,
      [id, url],
    );
  }

  /** A node that stops on purpose says so, so that others need not wait for its leases to expire. */
  async leave(id: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.nodes} SET state = 'down' WHERE id = $1`, [id]);
  }

  /** Forgets nodes unseen for longer than `olderThanMs` (a node's default id changes with its pid). */
  async prune(olderThanMs: number): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.nodes} WHERE last_seen < now() - $1 * interval '1 millisecond'`, [olderThanMs]);
  }

  /** Every node known; one unseen for longer than `leaseMs` is down. */
  async listNodes(leaseMs: number): Promise<NodeRow[]> {
    const r = await this.pool.query<{ id: string; url: string; started_at: Date; ms: number; state: string }>(
      `SELECT id, url, started_at, (extract(epoch FROM now() - last_seen) * 1000)::float8 AS ms, state FROM ${this.nodes} ORDER BY id`,
    );
    return r.rows.map((x) => ({
      id: x.id,
      url: x.url,
      startedAt: x.started_at.toISOString(),
      lastSeenMs: Math.max(0, Math.round(x.ms)),
      state: x.state === 'up' && x.ms <= leaseMs ? 'up' : 'down',
    }));
  }
}
