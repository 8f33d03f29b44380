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
import type { PgLeases } from './PgLeases.ts';
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
}

export class LeaseKeeper {
  /** unit → epoch of the leases this node holds. */
  readonly held = new Map<string, number>();
  /** The placement of the last turn. */
  placement = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private turn: Promise<void> | undefined;
  private stopped = false;

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
    await new Promise((r) => setTimeout(r, this.interval));
    await this.tick();
    this.schedule();
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.interval);
    this.timer.unref?.();
  }

  /** One turn (turns never overlap). */
  tick(): Promise<void> {
    this.turn ??= this.once()
      .catch((e) => this.o.error?.(e))
      .finally(() => (this.turn = undefined));
    return this.turn;
  }

  private async once(): Promise<void> {
    const { leases, node, leaseMs } = this.o;
    await leases.heartbeat(node, this.o.url);
    const up = (await leases.listNodes(leaseMs)).filter((n) => n.state === 'up').map((n) => n.id);
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
    for (const unit of this.o.units) {
      if (this.stopped) return;
      const owner = this.placement.get(unit);
      if (owner === node && !this.held.has(unit)) {
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
