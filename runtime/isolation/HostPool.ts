/**
 * Where agent hosts come from. Keeps a few warm spare processes booted and
 * waiting, so a restart skips Node's boot; and bounds how many cold starts
 * run at once, so a restart storm brings the first agents back fast instead
 * of booting a hundred Nodes that share two cores.
 */
import { startHost, type HostHandle, type HostOptions } from './HostHandle.ts';
import type { Isolation } from '../protocol/status.ts';

export interface HostPoolOptions {
  script: string;
  /** Warm spares to keep for process isolation. */
  spares: number;
  /** Warm spares to keep for thread isolation. */
  threadSpares?: number;
  maxConcurrentStarts: number;
  env?: NodeJS.ProcessEnv;
  onSpareOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface AcquireOptions { isolation: Isolation; memoryMb?: number; execArgv?: string[] }

export class HostPool {
  private spares: Record<Isolation, HostHandle[]> = { process: [], thread: [] };
  private refilling: Record<Isolation, number> = { process: 0, thread: 0 };
  private active = 0;
  /** Waiters for a start slot: agent starts first, spare refills after. */
  private waiting: { urgent: boolean; go: () => void }[] = [];
  private closed = false;
  private handedOut = new WeakSet<HostHandle>();

  constructor(private readonly opts: HostPoolOptions) {}

  /** Boots the initial spares. */
  warm(): void {
    this.refill('process');
    this.refill('thread');
  }

  /** A host for an agent: a warm spare when one fits, else a cold start. */
  async acquire(a: AcquireOptions): Promise<HostHandle> {
    const fits = !a.memoryMb && !(a.execArgv && a.execArgv.length);
    if (fits) {
      const list = this.spares[a.isolation];
      while (list.length) {
        const h = list.shift()!;
        if (!h.exited) {
          this.handedOut.add(h);
          this.refill(a.isolation);
          return h;
        }
      }
    }
    const h = await this.withSlot(true, () => startHost(this.hostOptions(a)));
    if (fits) this.refill(a.isolation);
    return h;
  }

  get spareCount(): number {
    return this.spares.process.length + this.spares.thread.length;
  }

  private target(iso: Isolation): number {
    return iso === 'process' ? this.opts.spares : this.opts.threadSpares ?? 0;
  }

  private refill(iso: Isolation) {
    if (this.closed) return;
    while (this.spares[iso].length + this.refilling[iso] < this.target(iso)) {
      this.refilling[iso]++;
      this.withSlot(false, () => startHost(this.hostOptions({ isolation: iso })))
        .then((h) => {
          if (this.closed) return h.kill();
          const onOut = this.opts.onSpareOutput;
          // Only while it is a spare: once handed out, its owner logs its output.
          if (onOut) h.onOutput((stream, line) => { if (!this.handedOut.has(h)) onOut(stream, line); });
          h.onExit(() => {
            const list = this.spares[iso];
            const i = list.indexOf(h);
            if (i >= 0) { list.splice(i, 1); this.refill(iso); }
          });
          this.spares[iso].push(h);
        })
        .catch(() => { /* a spare that fails to boot is simply not there; the next acquire starts cold */ })
        .finally(() => { this.refilling[iso]--; });
    }
  }

  private hostOptions(a: AcquireOptions): HostOptions {
    return { isolation: a.isolation, script: this.opts.script, memoryMb: a.memoryMb, execArgv: a.execArgv, env: this.opts.env };
  }

  private async withSlot<T>(urgent: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.opts.maxConcurrentStarts) {
      // The releasing start hands its slot over directly, so `active` stays put.
      await new Promise<void>((go) => {
        const w = { urgent, go };
        const i = urgent ? this.waiting.findIndex((x) => !x.urgent) : -1;
        if (i < 0) this.waiting.push(w);
        else this.waiting.splice(i, 0, w);
      });
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next.go();
      else this.active--;
    }
  }

  /** Kills every spare; hosts handed out are their owners' to stop. */
  close(): void {
    this.closed = true;
    for (const iso of ['process', 'thread'] as const) {
      for (const h of this.spares[iso]) h.kill();
      this.spares[iso] = [];
    }
  }
}
