/**
 * The cluster as the dashboard holds it: which node answered (the one the
 * extension is connected to) and every node's health, from the snapshot's
 * `cluster`. No nodes when the runtime does not run as a cluster. Read
 * tolerantly, like the rest of the snapshot.
 */
import type { DashboardStatus } from '../../../runtime/protocol/webview.ts';
import { isObj } from './read.ts';

export interface ClusterNodeVM {
  id: string;
  url: string;
  state: 'up' | 'down';
  /** Milliseconds since its last heartbeat, as the snapshot said (NaN when it did not). */
  lastSeenMs: number;
  /** The children of the root it holds. */
  children: string[];
  /** The node that answered: the one the extension is connected to. */
  self: boolean;
}

export class ClusterModel {
  /** The node that answered, or null without a cluster. */
  self: string | null = null;
  nodes: ClusterNodeVM[] = [];
  /** performance.now() when the snapshot was read, so heartbeat ages can keep counting. */
  at = 0;
  private dirty = false;

  get active(): boolean {
    return this.nodes.length > 0;
  }

  /** True once after a snapshot that has a cluster, or that ends one. */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  applySnapshot(s: DashboardStatus, now = performance.now()): void {
    const c: unknown = s.cluster;
    const was = this.active;
    this.at = now;
    if (!isObj(c) || !Array.isArray(c.nodes)) {
      this.self = null;
      this.nodes = [];
    } else {
      const self = typeof c.node === 'string' ? c.node : null;
      this.self = self;
      this.nodes = c.nodes.filter((n): n is Record<string, unknown> => isObj(n) && typeof n.id === 'string').map((n) => ({
        id: n.id as string,
        url: typeof n.url === 'string' ? n.url : '',
        state: n.state === 'up' ? 'up' : 'down',
        lastSeenMs: typeof n.lastSeenMs === 'number' && Number.isFinite(n.lastSeenMs) ? n.lastSeenMs : NaN,
        children: Array.isArray(n.children) ? n.children.filter((x): x is string => typeof x === 'string') : [],
        self: n.id === self,
      }));
    }
    if (was || this.active) this.dirty = true;
  }

  get(id: string): ClusterNodeVM | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /**
   * How long ago a node's last heartbeat was, now. A node that is down sends
   * none, so its age grows from the snapshot's; an up node's heartbeats go on
   * between snapshots, so its age is the snapshot's figure.
   */
  heartbeatAge(n: ClusterNodeVM, now = performance.now()): number {
    return n.state === 'down' ? n.lastSeenMs + Math.max(0, now - this.at) : n.lastSeenMs;
  }
}
