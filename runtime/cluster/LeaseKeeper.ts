/**
 * One node's side of the cluster's leases. Every `leaseMs / 3` it
 * heartbeats, reads which nodes are up, places the units over them
 * (`place`), and then:
 * - renews the leases it holds; one it no longer holds (another node took it
 *   while this one was paused or cut off) is lost: `lose` stops its copy;
 * - takes the units placed on it that are free, expired or released
 *   (`gain` starts them from their checkpoints under the new epoch);
 * - hands over units placed on another live node: stops them (`lose`), then
 *   releases the lease, so that the other node takes them at its next turn
 *   instead of waiting for the lease to expire.
 * `drain()` hands everything over at once (a node shut down on purpose).
 * The epoch of each held unit is what the store's writes carry (`fence`).
 */
import type { Lease, NodeRow, PgLeases } from './PgLeases.ts';
import { place } from './placement.ts';

export interface LeaseKeeperOptions {
  leases: PgLeases;
  node: string;
  /** Where other nodes reach this one. */
  url: string;
  units: readonly string[];
  leaseMs: number;
  /** This node now holds `unit` under `epoch`: start it. */
  gain: (unit: string, epoch: number) => Promise<void> | void;
  /** This node no longer runs `unit` (`lost`: taken by another; `moved`: handed over; `drain`: shutting down): stop it. */
  lose: (unit: string, why: 'lost' | 'moved' | 'drain') => Promise<void> | void;
  /** A turn failed (the store does not answer): the node keeps what it runs, the fencing keeps writes safe. */
  error?: (e: unknown) => void;
  /** A turn ended well: `nodes` and `leases` are fresh. */
  turned?: () => Promise<void> | void;
}

export class LeaseKeeper {
  /** unit → epoch of the leases this node holds. */
  readonly held = new Map<string, number>();
  /** The placement of the last turn. */
  placement = new Map<string, string>();
  /** The nodes and the leases as the last good turn read them. */
  nodes: NodeRow[] = [];
  leases: Lease[] = [];
  /**
   * When the last good turn began: every lease this node holds was confirmed
   * then, so none of them can have been taken before this + leaseMs.
   */
  confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private turn: Promise<void> | undefined;
  private stopped = false;
  /** The last turn failed: the next one renews but takes nothing, so that the others can say they are up first. */
  private recovering = false;
  /**
   * Until when, after the store came back, the leases of other nodes are
   * left alone even if they expired meanwhile: their owners could not renew
   * either, and get a whole lease period to do so, rather than losing what
   * they run to whoever reconnected first.
   */
  private graceUntil = 0;
  private nextDelay: number | undefined;

  constructor(private readonly o: LeaseKeeperOptions) {}

  /** The epoch this node holds `unit` under, if it does. */
  epoch(unit: string): number | undefined {
    return this.held.get(unit);
  }

  private get interval(): number {
    return Math.max(50, Math.floor(this.o.leaseMs / 3));
  }

  /**
   * Says it is up, waits one turn so that nodes starting together see each
   * other before placing (rather than the first taking everything and
   * handing most of it over again), then runs a turn every leaseMs / 3.
   */
  async start(): Promise<void> {
    await this.o.leases.heartbeat(this.o.node, this.o.url);
    await this.o.leases.prune(24 * 3600_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, this.interval));
    await this.tick();
    this.schedule();
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.nextDelay ?? this.interval);
    this.timer.unref?.();
  }

  /** One turn (turns never overlap). */
  tick(): Promise<void> {
    this.turn ??= this.once()
      .then(() => {
        if (this.recovering) this.graceUntil = Date.now() + this.o.leaseMs;
        this.recovering = false;
      })
      .catch((e) => {
        this.recovering = true;
        this.nextDelay = undefined;
        this.o.error?.(e);
      })
      .finally(() => (this.turn = undefined));
    return this.turn!;
  }

  private async once(): Promise<void> {
    const { leases, node, leaseMs } = this.o;
    const began = Date.now();
    await leases.heartbeat(node, this.o.url);
    this.nodes = await leases.listNodes(leaseMs);
    const up = this.nodes.filter((n) => n.state === 'up').map((n) => n.id);
    if (!up.includes(node)) up.push(node);
    this.placement = place(this.o.units, up);
    if (this.held.size) {
      const still = await leases.renew(node, this.held, leaseMs);
      for (const unit of [...this.held.keys()]) {
        if (still.has(unit)) continue;
        this.held.delete(unit);
        await this.o.lose(unit, 'lost');
      }
    }
    this.confirmedAt = began;
    this.leases = await leases.list();
    const byUnit = new Map(this.leases.map((l) => [l.unit, l]));
    if (!this.recovering) {
      const grace = Date.now() < this.graceUntil;
      for (const unit of this.o.units) {
        if (this.stopped) return;
        const owner = this.placement.get(unit);
        if (owner === node && !this.held.has(unit)) {
          const l = byUnit.get(unit);
          if (l && l.node !== node && (l.expiresInMs > 0 || grace)) continue; // still its owner's: taken once it expires or is released
          const epoch = await leases.acquire(unit, node, leaseMs);
          if (epoch !== undefined) {
            this.held.set(unit, epoch);
            await this.o.gain(unit, epoch);
          }
        } else if (owner !== node && this.held.has(unit)) {
          await this.handOver(unit, 'moved');
        }
      }
    }
    // A lease of another node that expires before the next turn is looked at the moment it does:
    // a dead node's subtrees move within leaseMs, not leaseMs plus a turn.
    let soonest = Infinity;
    for (const l of this.leases) if (l.node !== node && l.expiresInMs >= 0) soonest = Math.min(soonest, l.expiresInMs);
    this.nextDelay = soonest < this.interval ? Math.max(5, soonest + 10) : undefined;
    await this.o.turned?.();
  }

  private async handOver(unit: string, why: 'moved' | 'drain') {
    const epoch = this.held.get(unit)!;
    this.held.delete(unit);
    await this.o.lose(unit, why);
    await this.o.leases.release(this.o.node, new Map([[unit, epoch]]));
  }

  /** Stops the turns without giving anything up (the node is going away hard, or a test pauses it). */
  halt(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Hands every unit over and leaves the cluster: other nodes take them at their next turn. */
  async drain(): Promise<void> {
    this.halt();
    await this.turn;
    // Down first, so that the others place the units elsewhere when they see them released.
    await this.o.leases.leave(this.o.node);
    for (const unit of [...this.held.keys()]) await this.handOver(unit, 'drain');
  }
}
