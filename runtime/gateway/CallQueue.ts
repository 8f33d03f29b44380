/**
 * The `queue` degrade mode: calls held while their dependency is down and
 * replayed, oldest first, once its breaker closes. The caller gets a
 * `DependencyQueued` receipt at once (it does not wait for the replay); the
 * replay's outcome is a `dependency.call` event (`replayed` or `dropped`).
 *
 * Held calls live in a `QueueStore`: in memory by default; the durable-state
 * layer can pass one backed by SQLite so held calls survive a restart.
 */
import { randomUUID } from 'node:crypto';
import type { HttpCall } from './httpCall.ts';

export interface QueuedCall {
  id: string;
  dependency: string;
  request: unknown;
  agent?: string;
  point?: string;
  /** The checked `http` options of an http call, replayed as they were. */
  http?: HttpCall;
  /** ISO time the call was held. */
  queuedAt: string;
}

/** Where held calls are kept. Synchronous, as better-sqlite3 is. */
export interface QueueStore {
  add(item: QueuedCall): void;
  /** Held calls of a dependency, oldest first. */
  list(dependency: string): QueuedCall[];
  remove(id: string): void;
}

export class MemoryQueueStore implements QueueStore {
  private readonly items: QueuedCall[] = [];
  add(item: QueuedCall): void {
    this.items.push(item);
  }
  list(dependency: string): QueuedCall[] {
    return this.items.filter((i) => i.dependency === dependency);
  }
  remove(id: string): void {
    const i = this.items.findIndex((x) => x.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }
}

export const DEFAULT_QUEUE_LIMIT = 1000;

export type ReplayOutcome = 'replayed' | 'dropped' | 'stopped';

export class CallQueue {
  private readonly draining = new Set<string>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly store: QueueStore = new MemoryQueueStore(), private readonly limit = DEFAULT_QUEUE_LIMIT) {}

  /** Held calls of a dependency (read from the store once, then kept in step). */
  size(dependency: string): number {
    let n = this.counts.get(dependency);
    if (n === undefined) this.counts.set(dependency, (n = this.store.list(dependency).length));
    return n;
  }

  /** Holds a call; undefined when the dependency's queue is full. */
  hold(dependency: string, request: unknown, o: { agent?: string; point?: string; http?: HttpCall }): QueuedCall | undefined {
    if (this.size(dependency) >= this.limit) return undefined;
    const item: QueuedCall = { id: randomUUID(), dependency, request, queuedAt: new Date().toISOString() };
    if (o.agent) item.agent = o.agent;
    if (o.point) item.point = o.point;
    if (o.http) item.http = o.http;
    this.store.add(item);
    this.counts.set(dependency, this.size(dependency) + 1);
    return item;
  }

  get limitPerDependency(): number {
    return this.limit;
  }

  /**
   * Replays a dependency's held calls one at a time, oldest first. `run`
   * says what became of each: replayed and dropped calls leave the queue;
   * `stopped` (the dependency is down again) ends the drain with the rest held.
   */
  async drain(dependency: string, run: (item: QueuedCall) => Promise<ReplayOutcome>): Promise<void> {
    if (this.draining.has(dependency) || this.size(dependency) === 0) return;
    this.draining.add(dependency);
    try {
      for (const item of this.store.list(dependency)) {
        const outcome = await run(item);
        if (outcome === 'stopped') return;
        this.store.remove(item.id);
        this.counts.set(dependency, Math.max(0, this.size(dependency) - 1));
      }
    } finally {
      this.draining.delete(dependency);
    }
  }
}
