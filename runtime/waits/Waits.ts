/**
 * Durable waits and signals: `ctx.waitFor(name)` in an agent and
 * `faultline signal <agent> <name> <json>` from outside.
 *
 * What must survive a crash lives in one meta record per agent
 * (`waits.<agent>` in the checkpoint store, so every store that keeps meta
 * keeps it — durable on SQLite, PostgreSQL and Redis, not on `memory`):
 * - `signals`: signals no wait has taken yet, oldest first;
 * - `waits`: waits started and not yet settled, with their start and
 *   deadline, so a redelivered message's wait keeps the first deadline;
 * - `settled`: how each wait of the message in flight ended (the signal's
 *   payload, or a timeout).
 * A signal leaves `signals` and its outcome enters `settled` in one write,
 * so a signal is taken by exactly one wait whatever crashes when. The wait's
 * outcome is also journaled as a call (`journaled`, the same numbering as
 * ctx.call), so the calls after it replay on a redelivery; the journal row
 * is a shortcut, `settled` the truth when it is missing. Entries of other
 * messages than the one in flight are pruned: an agent handles its messages
 * one at a time, in order, so those were acknowledged or dead-lettered.
 *
 * All changes of one agent's record run one after another (`serial`), each
 * reading the record from the store and writing it back before the next.
 */
import { randomUUID } from 'node:crypto';
import type { WaitingEntry, WaitChange } from '../protocol/schema/status.ts';

/** How a wait ended, as journaled. */
export type WaitOutcome = { wait: string; payload: unknown } | { wait: string; timeout: true };

interface StoredSignal { id: string; name: string; payload: unknown; at: string }
interface StartedWait { msgId: string; index: number; name: string; since: string; deadline?: number; timeoutMs?: number }
interface SettledWait { msgId: string; index: number; outcome: WaitOutcome }
interface WaitRecord { signals: StoredSignal[]; waits: StartedWait[]; settled: SettledWait[] }

/** A wait the agent's handler is suspended on now. */
interface LiveWait extends StartedWait {
  delivery: number;
  timer?: NodeJS.Timeout;
  settle(o: WaitOutcome): void;
}

export interface WaitsHost {
  store: { getMeta<T = unknown>(key: string): Promise<T | undefined>; putMeta(key: string, value: unknown): Promise<void> };
  /** The message the agent handles now and which delivery of it. */
  inflight(agent: string): { msgId: string; delivery: number } | undefined;
  /** The dependency wiring's call journal (see `DependencyWiring.journaled`). */
  journaled(agent: string, make: (slot?: { msgId: string; index: number }) => Promise<unknown>): Promise<unknown>;
  /** A wait started or ended: the `agent.state` event that says so. */
  changed(agent: string, change: WaitChange, waiting: WaitingEntry[]): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  now?: () => number;
}

/** A wait's error for the host: the host turns it back into a `WaitTimeoutError`. */
function timeoutError(agent: string, name: string, timeoutMs: number | undefined): Error {
  const e = new Error(`Agent "${agent}" waited ${timeoutMs ?? 0} ms for the signal "${name}" and none came; send it with \`faultline signal ${agent} ${name} <json>\`, or raise timeoutMs`);
  e.name = 'WaitTimeoutError';
  return e;
}

export const waitsKey = (agent: string) => `waits.${agent}`;

const MAX_TIMER_MS = 2 ** 31 - 1;

export class Waits {
  private readonly live = new Map<string, LiveWait[]>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly h: WaitsHost) {
    this.now = h.now ?? Date.now;
  }

  /** `ctx.waitFor(name, { timeoutMs })` of `agent`: the payload, or a rejection with a WaitTimeoutError. */
  async wait(agent: string, name: string, timeoutMs?: number): Promise<unknown> {
    if (typeof name !== 'string' || !name) throw new TypeError('ctx.waitFor(name): name must be a non-empty string');
    const cur = this.h.inflight(agent);
    if (!cur) throw new Error(`ctx.waitFor("${name}") needs a message being handled: ${agent} called it outside onMessage`);
    const outcome = (await this.h.journaled(agent, async (slot) => {
      if (!slot) throw new Error(`ctx.waitFor("${name}"): ${agent}'s call journal is not available`);
      return this.begin(agent, cur.delivery, slot.msgId, slot.index, name, timeoutMs);
    })) as WaitOutcome | null;
    if (outcome && 'timeout' in outcome) throw timeoutError(agent, name, timeoutMs);
    return outcome && 'payload' in outcome ? outcome.payload : null;
  }

  /**
   * A signal for `agent`: taken by the oldest pending wait of that name of
   * the message in flight (`delivered: true`), or kept for the next one.
   * Resolves once durable.
   */
  signal(agent: string, name: string, payload: unknown): Promise<{ delivered: boolean }> {
    return this.serial(agent, async () => {
      const rec = await this.record(agent);
      const w = this.current(agent).filter((x) => x.name === name).sort((a, b) => a.index - b.index)[0];
      const value = payload === undefined ? null : payload;
      if (w) {
        const outcome: WaitOutcome = { wait: name, payload: value };
        this.settleStored(rec, w, outcome);
        await this.save(agent, rec);
        this.finish(agent, w, outcome, 'signal');
        return { delivered: true };
      }
      rec.signals.push({ id: randomUUID(), name, payload: value, at: new Date(this.now()).toISOString() });
      await this.save(agent, rec);
      this.h.log('info', `signal "${name}" for ${agent} kept until a wait for it`, { agent, signal: name });
      return { delivered: false };
    });
  }

  /** The waits the agent's message in flight is suspended on, oldest first. */
  waiting(agent: string): WaitingEntry[] {
    return this.current(agent).sort((a, b) => a.index - b.index).map((w) => ({ name: w.name, since: w.since }));
  }

  /** Stops the timers (the runtime is stopping; the waits stay stored for the next run). */
  close() {
    this.closed = true;
    for (const list of this.live.values()) for (const w of list) clearTimeout(w.timer);
    this.live.clear();
  }

  /** Starts (or resumes, on a redelivery) the wait number `index` of message `msgId`. */
  private async begin(agent: string, delivery: number, msgId: string, index: number, name: string, timeoutMs?: number): Promise<WaitOutcome> {
    // The suspended wait goes out wrapped: the chain must not wait for it.
    const r = await this.serial(agent, async (): Promise<{ outcome: WaitOutcome } | { pending: Promise<WaitOutcome> }> => {
      const rec = await this.record(agent);
      this.prune(agent, rec, msgId);
      const done = rec.settled.find((x) => x.msgId === msgId && x.index === index);
      if (done) return { outcome: done.outcome };
      let started = rec.waits.find((x) => x.msgId === msgId && x.index === index);
      if (!started) {
        const t = this.now();
        started = { msgId, index, name, since: new Date(t).toISOString(), ...(timeoutMs !== undefined ? { deadline: t + timeoutMs, timeoutMs } : {}) };
        rec.waits.push(started);
      }
      const i = rec.signals.findIndex((x) => x.name === name);
      if (i >= 0) {
        const [sig] = rec.signals.splice(i, 1);
        const outcome: WaitOutcome = { wait: name, payload: sig.payload };
        this.settleStored(rec, started, outcome);
        await this.save(agent, rec);
        this.h.log('info', `${agent}: wait for "${name}" took the signal kept since ${sig.at}`, { agent, signal: name, msgId });
        return { outcome };
      }
      if (started.deadline !== undefined && started.deadline <= this.now()) {
        const outcome: WaitOutcome = { wait: name, timeout: true };
        this.settleStored(rec, started, outcome);
        await this.save(agent, rec);
        return { outcome };
      }
      await this.save(agent, rec);
      const pending = new Promise<WaitOutcome>((settle) => {
        const w: LiveWait = { ...started!, delivery, settle };
        let list = this.live.get(agent);
        if (!list) this.live.set(agent, (list = []));
        list.push(w);
        this.arm(agent, w);
        this.h.changed(agent, { name, phase: 'start', since: w.since }, this.waiting(agent));
      });
      return { pending };
    });
    return 'outcome' in r ? r.outcome : r.pending;
  }

  /** Node's timers hold at most 2^31-1 ms (~24.8 days): a later deadline is re-armed when that passes. */
  private arm(agent: string, w: LiveWait) {
    if (w.deadline === undefined || this.closed) return;
    w.timer = setTimeout(() => void this.expire(agent, w), Math.min(MAX_TIMER_MS, Math.max(0, w.deadline - this.now())));
  }

  /** A live wait's deadline passed: it ends with a timeout, unless a signal or a crash came first. */
  private expire(agent: string, w: LiveWait) {
    return this.serial(agent, async () => {
      if (!this.isCurrent(agent, w)) return;
      if (w.deadline !== undefined && w.deadline > this.now()) return this.arm(agent, w);
      const rec = await this.record(agent);
      const outcome: WaitOutcome = { wait: w.name, timeout: true };
      this.settleStored(rec, w, outcome);
      await this.save(agent, rec);
      this.finish(agent, w, outcome, 'timeout');
    }).catch((e: Error) => this.h.log('error', `${agent}: cannot store the timeout of its wait for "${w.name}": ${e.message}`, { agent, signal: w.name }));
  }

  private settleStored(rec: WaitRecord, w: { msgId: string; index: number }, outcome: WaitOutcome) {
    rec.waits = rec.waits.filter((x) => !(x.msgId === w.msgId && x.index === w.index));
    rec.settled.push({ msgId: w.msgId, index: w.index, outcome });
  }

  private finish(agent: string, w: LiveWait, outcome: WaitOutcome, how: 'signal' | 'timeout') {
    clearTimeout(w.timer);
    this.live.set(agent, (this.live.get(agent) ?? []).filter((x) => x !== w));
    w.settle(outcome);
    this.h.changed(agent, { name: w.name, phase: 'end', outcome: how, since: w.since }, this.waiting(agent));
  }

  /** Live waits of the delivery in flight; those of a delivery that ended (a crash, a handler that went on without them) are dropped. */
  private current(agent: string): LiveWait[] {
    const list = this.live.get(agent);
    if (!list?.length) return [];
    const keep = list.filter((w) => this.isCurrent(agent, w));
    for (const w of list) if (!keep.includes(w)) clearTimeout(w.timer);
    this.live.set(agent, keep);
    return [...keep];
  }

  private isCurrent(agent: string, w: LiveWait): boolean {
    const cur = this.h.inflight(agent);
    return !!cur && cur.delivery === w.delivery && cur.msgId === w.msgId && (this.live.get(agent)?.includes(w) ?? false);
  }

  /** Forgets the waits of messages other than `msgId` (handled already), and their live waits. */
  private prune(agent: string, rec: WaitRecord, msgId: string) {
    rec.waits = rec.waits.filter((x) => x.msgId === msgId);
    rec.settled = rec.settled.filter((x) => x.msgId === msgId);
    this.current(agent);
  }

  /**
   * The agent's record, read from the store each time rather than cached: in
   * a cluster the agent may have run on another node since (and changes are
   * serialized per agent, so a read follows the last write).
   */
  private async record(agent: string): Promise<WaitRecord> {
    const stored = await this.h.store.getMeta<Partial<WaitRecord>>(waitsKey(agent));
    return {
      signals: Array.isArray(stored?.signals) ? stored.signals : [],
      waits: Array.isArray(stored?.waits) ? stored.waits : [],
      settled: Array.isArray(stored?.settled) ? stored.settled : [],
    };
  }

  private save(agent: string, rec: WaitRecord): Promise<void> {
    return this.h.store.putMeta(waitsKey(agent), rec);
  }

  /** Runs the agent's record changes one after another. */
  private serial<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(agent) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.then(() => undefined, () => undefined);
    this.chains.set(agent, tail);
    void tail.then(() => { if (this.chains.get(agent) === tail) this.chains.delete(agent); });
    return next;
  }
}
