/**
 * Where agent hosts come from. Keeps a few warm spare processes booted and
 * waiting, so a restart skips Node's boot; and bounds how many cold starts
 * run at once, so a restart storm brings the first agents back fast instead
 * of booting a hundred Nodes that share two cores.
 *
 * Restart storms: a supervisor restarts its children one at a time (each
 * start waits for the agent to be ready, as in OTP), so on its own a storm of
 * 100 kills is 100 boots in a row. The pool sees the storm first — every
 * host it handed out that dies abnormally will most likely be asked for
 * again — and boots one replacement spare per such death at once, as many in
 * parallel as the start cap allows, while the supervisor works through its
 * queue. An acquire that finds no spare ready but spares booting waits for
 * the next one rather than starting yet another boot. While a storm is being
 * refilled the start cap widens to one more than the cores: boots are
 * CPU-bound, the warm spares already brought the first agents back, and a
 * boot waiting on I/O would otherwise leave a core idle (in
 * bench/restart-storm.bench.ts on 2 cores, caps of 2 to 5 brought 100
 * processes back equally fast within the noise; 100 threads took ~2.9 s
 * at 2, ~2.4 s at 3, ~2.1 s at 5, but 5 slowed the first process agent
 * back from ~0.2 to ~0.3 s). Spares booted for a storm beyond the
 * configured number are killed when unused for a while.
 *
 * Storms come in waves: a flapping dependency or a bad deploy brings the
 * same agents down again soon after. Once a storm has been worked through,
 * the pool holds a reserve of extra spares for a while (one per
 * STORM_AGENTS_PER_SPARE agents that were down at once, at most
 * `stormSpares`, for STORM_HOLD_MS after its last death; an agent in a
 * crash loop alone holds none), so the next wave starts with
 * that many agents back at warm-spare speed and that many fewer Node boots
 * sharing the cores. Only after the storm: booted during it, the reserve
 * would compete with the agents still waiting. A quiet spell gives the
 * memory back.
 */
import { availableParallelism } from 'node:os';
import { startHost, type HostExit, type HostHandle, type HostOptions } from './HostHandle.ts';
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
  /** How long spares booted for a storm may wait unused before they are killed (default 10 s). */
  extraSpareIdleMs?: number;
  /** Extra spares held after a storm, at most (default 0: none). */
  stormSpares?: number;
  /** How long after a storm's last death its reserve is held (default STORM_HOLD_MS). */
  stormHoldMs?: number;
}

export interface AcquireOptions { isolation: Isolation; memoryMb?: number; execArgv?: string[] }

/** Replacement spares booted ahead at most, per isolation: a bound on memory if everything dies at once. */
const MAX_ANTICIPATED = 256;

/** The start cap during a storm: every core booting, and one more to cover a boot's I/O waits. */
const STORM_CAP = availableParallelism() + 1;

/** Agents down at once in a storm per spare held in reserve after it: a storm of 100 holds 12. */
export const STORM_AGENTS_PER_SPARE = 8;
/** How long a storm's reserve is held after its last death. */
export const STORM_HOLD_MS = 60_000;

const abnormal = (e: HostExit) => e.error !== undefined || e.signal !== null || (e.code !== 0 && e.code !== null);

export class HostPool {
  private spares: Record<Isolation, HostHandle[]> = { process: [], thread: [] };
  private refilling: Record<Isolation, number> = { process: 0, thread: 0 };
  /** Restarts expected soon: hosts handed out that died abnormally, not yet asked for again. */
  private anticipated: Record<Isolation, number> = { process: 0, thread: 0 };
  /** Acquires waiting for a spare that is booting. */
  private spareWaiters: Record<Isolation, ((h: HostHandle | undefined) => void)[]> = { process: [], thread: [] };
  private idleTimers: Record<Isolation, NodeJS.Timeout | undefined> = { process: undefined, thread: undefined };
  /** The most agents down at once in the current storm (until its reserve is released). */
  private stormPeak: Record<Isolation, number> = { process: 0, thread: 0 };
  private holdTimers: Record<Isolation, NodeJS.Timeout | undefined> = { process: undefined, thread: undefined };
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

  /** A host for an agent: a warm spare when one fits, else one that is booting, else a cold start. */
  async acquire(a: AcquireOptions): Promise<HostHandle> {
    const fits = !a.memoryMb && !(a.execArgv && a.execArgv.length);
    if (fits) {
      const iso = a.isolation;
      if (this.anticipated[iso] > 0) {
        this.anticipated[iso]--;
        this.armIdle(iso); // the storm is still being worked through
      }
      const list = this.spares[iso];
      while (list.length) {
        const h = list.shift()!;
        if (!h.exited) return this.handOut(h, iso);
      }
      // A spare is on its way (a storm is being refilled): take it rather than boot one more.
      if (this.refilling[iso] > this.spareWaiters[iso].length) {
        const h = await new Promise<HostHandle | undefined>((r) => this.spareWaiters[iso].push(r));
        if (h) return this.handOut(h, iso);
      }
    }
    const h = await this.withSlot(true, () => startHost(this.hostOptions(a)));
    if (fits) {
      this.watch(h, a.isolation);
      this.refill(a.isolation);
    }
    return h;
  }

  /** Spares booted and waiting, per isolation. */
  get ready(): Record<Isolation, number> {
    return { process: this.spares.process.length, thread: this.spares.thread.length };
  }

  private handOut(h: HostHandle, iso: Isolation): HostHandle {
    this.handedOut.add(h);
    this.watch(h, iso);
    this.refill(iso);
    return h;
  }

  /** A host handed out for an agent: when it dies abnormally, its agent will want another. */
  private watch(h: HostHandle, iso: Isolation) {
    h.onExit((e) => {
      if (this.closed || !abnormal(e)) return;
      this.anticipated[iso] = Math.min(MAX_ANTICIPATED, this.anticipated[iso] + 1);
      this.stormPeak[iso] = Math.max(this.stormPeak[iso], this.anticipated[iso]);
      this.armHold(iso);
      this.refill(iso);
      this.armIdle(iso);
    });
  }

  /** Spares to hold once the current storm has been worked through. */
  private reserve(iso: Isolation): number {
    return Math.min(this.opts.stormSpares ?? 0, Math.floor(this.stormPeak[iso] / STORM_AGENTS_PER_SPARE));
  }

  /** The reserve lasts until no agent has died for a while; then the spares beyond the configured number go. */
  private armHold(iso: Isolation) {
    clearTimeout(this.holdTimers[iso]);
    if (!this.opts.stormSpares) return;
    const t = setTimeout(() => {
      this.stormPeak[iso] = 0;
      this.trim(iso);
    }, this.opts.stormHoldMs ?? STORM_HOLD_MS);
    t.unref();
    this.holdTimers[iso] = t;
  }

  private trim(iso: Isolation) {
    const list = this.spares[iso];
    while (list.length > this.target(iso)) list.pop()!.kill();
  }

  /**
   * Spares to have ready or booting: the configured number, or one per
   * expected restart in a storm, or a storm's reserve once it is over. Not
   * the sum: the spares there serve the storm's first restarts, and the
   * rest are booted once it has been worked through, rather than competing
   * with it for the cores.
   */
  private target(iso: Isolation): number {
    const configured = iso === 'process' ? this.opts.spares : this.opts.threadSpares ?? 0;
    return Math.max(configured, this.anticipated[iso] > 0 ? this.anticipated[iso] : this.reserve(iso));
  }

  /**
   * Spares booted for restarts that never came (a temporary agent, a stop
   * after a crash) would sit there forever: forget the anticipation after a
   * quiet spell and kill the spares beyond the configured number.
   */
  private armIdle(iso: Isolation) {
    clearTimeout(this.idleTimers[iso]);
    const t = setTimeout(() => {
      this.anticipated[iso] = 0;
      this.trim(iso);
    }, this.opts.extraSpareIdleMs ?? 10_000);
    t.unref();
    this.idleTimers[iso] = t;
  }

  private refill(iso: Isolation) {
    if (this.closed) return;
    while (this.spares[iso].length + this.refilling[iso] < this.target(iso)) {
      this.refilling[iso]++;
      this.withSlot(false, () => startHost(this.hostOptions({ isolation: iso })))
        .then((h) => {
          this.refilling[iso]--;
          if (this.closed) return h.kill();
          const onOut = this.opts.onSpareOutput;
          // Only while it is a spare: once handed out, its owner logs its output.
          if (onOut) h.onOutput((stream, line) => { if (!this.handedOut.has(h)) onOut(stream, line); });
          const waiter = this.spareWaiters[iso].shift();
          if (waiter) return waiter(h);
          h.onExit(() => {
            const list = this.spares[iso];
            const i = list.indexOf(h);
            if (i >= 0) { list.splice(i, 1); this.refill(iso); }
          });
          this.spares[iso].push(h);
        })
        .catch(() => {
          // A spare that fails to boot is simply not there: a waiter for it starts cold instead.
          this.refilling[iso]--;
          if (this.spareWaiters[iso].length > this.refilling[iso]) this.spareWaiters[iso].shift()!(undefined);
        });
    }
  }

  private hostOptions(a: AcquireOptions): HostOptions {
    return { isolation: a.isolation, script: this.opts.script, memoryMb: a.memoryMb, execArgv: a.execArgv, env: this.opts.env };
  }

  /** Starts allowed at once: the configured cap, wider while a storm is being refilled. */
  private get cap(): number {
    const storm = this.anticipated.process + this.anticipated.thread > 0;
    return storm ? Math.max(this.opts.maxConcurrentStarts, STORM_CAP) : this.opts.maxConcurrentStarts;
  }

  private async withSlot<T>(urgent: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.cap) {
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
      // Hand the slot over, or give it back; a cap that widened meanwhile lets more waiters go.
      const next = this.waiting.shift();
      if (next) next.go();
      else this.active--;
      while (this.waiting.length && this.active < this.cap) {
        this.active++;
        this.waiting.shift()!.go();
      }
    }
  }

  /** Kills every spare; hosts handed out are their owners' to stop. */
  close(): void {
    this.closed = true;
    for (const iso of ['process', 'thread'] as const) {
      clearTimeout(this.idleTimers[iso]);
      clearTimeout(this.holdTimers[iso]);
      for (const h of this.spares[iso]) h.kill();
      this.spares[iso] = [];
      for (const w of this.spareWaiters[iso].splice(0)) w(undefined);
    }
  }
}
