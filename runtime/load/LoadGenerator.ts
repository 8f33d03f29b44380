/**
 * An open-loop load generator: messages leave at a fixed rate whatever the
 * replies do (a slow system gets no relief, as with real users), with at most
 * `maxInFlight` outstanding; a message due while that many wait is skipped
 * and counted, not queued. Bounded in rate, duration and count, and it only
 * ever talks to the local runtime it is given.
 */
import { agentsOf, type RuntimeStatus } from '../protocol/status.ts';
import { globMatch } from '../faults/seededRandom.ts';
import { errorType, type RuntimeTarget } from '../drills/RuntimeTarget.ts';
import { MessageLedger } from './MessageLedger.ts';
import { percentiles } from '../observability/percentiles.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { LoadReport } from '../protocol/schema/drill.ts';
import type { LoadReport } from '../protocol/schema/drill.ts';

export interface LoadOptions {
  /** An agent id or a glob (`worker-*`); messages go round-robin over the matches. */
  to: string;
  /** Messages per second. */
  rate: number;
  durationMs: number;
  /** The message; `{{seq}}` inside strings becomes the message's number. Default `{"seq": n}`. */
  message?: unknown;
  /** Ask timeout (default 5000 ms). */
  timeoutMs?: number;
  kind?: 'ask' | 'send';
  maxInFlight?: number;
}


export const LOAD_LIMITS = { maxRate: 2000, maxDurationMs: 600_000, maxMessages: 100_000, maxInFlight: 4096, maxTimeoutMs: 600_000 } as const;

export function validateLoad(o: LoadOptions): void {
  const bad = (m: string) => { throw new RangeError(m); };
  if (!o.to) bad('"to" must name an agent or a glob');
  if (!(o.rate > 0 && o.rate <= LOAD_LIMITS.maxRate)) bad(`the rate must be between 0 and ${LOAD_LIMITS.maxRate} messages per second`);
  if (!(o.durationMs > 0 && o.durationMs <= LOAD_LIMITS.maxDurationMs)) bad(`the duration must be between 1 and ${LOAD_LIMITS.maxDurationMs} ms`);
  if ((o.rate * o.durationMs) / 1000 > LOAD_LIMITS.maxMessages) bad(`rate x duration must stay under ${LOAD_LIMITS.maxMessages} messages`);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0 && o.timeoutMs <= LOAD_LIMITS.maxTimeoutMs)) bad(`the timeout must be between 1 and ${LOAD_LIMITS.maxTimeoutMs} ms`);
  if (o.maxInFlight !== undefined && !(Number.isInteger(o.maxInFlight) && o.maxInFlight >= 1 && o.maxInFlight <= LOAD_LIMITS.maxInFlight)) bad(`maxInFlight must be an integer between 1 and ${LOAD_LIMITS.maxInFlight}`);
}

/** A function from the message number to the message. */
function messageMaker(message: unknown): (seq: number) => unknown {
  if (message === undefined) return (seq) => ({ seq });
  const text = JSON.stringify(message);
  if (!text.includes('{{seq}}')) return () => message;
  return (seq) => JSON.parse(text.replaceAll('{{seq}}', String(seq)));
}

export class LoadGenerator {
  private readonly make: (seq: number) => unknown;
  private readonly latencies: number[] = [];
  private readonly errors: Record<string, number> = {};
  private sent = 0;
  private ok = 0;
  private failed = 0;
  private skipped = 0;
  private inFlight = 0;
  private sending = true;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private lastDone = 0;
  private finish!: (r: LoadReport) => void;
  readonly done: Promise<LoadReport>;

  constructor(private readonly target: RuntimeTarget, readonly o: LoadOptions, readonly agents: string[], readonly ledger = new MessageLedger()) {
    validateLoad(o);
    if (!agents.length) throw new Error(`No agent matches "${o.to}"`);
    this.make = messageMaker(o.message);
    this.done = new Promise((r) => (this.finish = r));
  }

  /** Resolves `to` against the runtime's agents (tree order), then plans. */
  static async plan(target: RuntimeTarget, o: LoadOptions, ledger?: MessageLedger): Promise<LoadGenerator> {
    validateLoad(o);
    const status = (await target.call('status', {})) as RuntimeStatus;
    const ids = agentsOf(status.tree).map((a) => a.id);
    const agents = ids.filter((id) => globMatch(o.to, id));
    if (!agents.length) throw new Error(`No agent matches "${o.to}" (agents: ${ids.join(', ') || 'none'})`);
    return new LoadGenerator(target, o, agents, ledger);
  }

  get kind(): 'ask' | 'send' {
    return this.o.kind ?? 'ask';
  }

  start(): Promise<LoadReport> {
    const total = Math.max(1, Math.floor((this.o.rate * this.o.durationMs) / 1000));
    this.t0 = performance.now();
    let next = 0;
    const tick = () => {
      const elapsed = performance.now() - this.t0;
      const due = Math.min(total, Math.floor((elapsed * this.o.rate) / 1000) + 1);
      while (next < due && !this.stopped) this.fire(next++);
      if (next < total && !this.stopped) {
        const wait = (next * 1000) / this.o.rate - (performance.now() - this.t0);
        this.timer = setTimeout(tick, Math.max(1, Math.min(50, wait)));
      } else {
        this.sending = false;
        this.check();
      }
    };
    tick();
    return this.done;
  }

  private fire(seq: number) {
    if (this.inFlight >= (this.o.maxInFlight ?? 512)) {
      this.skipped++;
      return;
    }
    const agent = this.agents[seq % this.agents.length];
    const kind = this.kind;
    const entry = this.ledger.record(kind, agent);
    const timeoutMs = this.o.timeoutMs ?? 5000;
    const params = kind === 'ask' ? { agent, message: this.make(seq), timeoutMs } : { agent, message: this.make(seq) };
    this.sent++;
    this.inFlight++;
    const t = performance.now();
    this.target.call(kind, params, timeoutMs + 5000).then(
      () => {
        this.ok++;
        this.latencies.push(performance.now() - t);
        this.ledger.settle(entry, true);
      },
      (e) => {
        const type = errorType(e);
        this.failed++;
        this.errors[type] = (this.errors[type] ?? 0) + 1;
        this.ledger.settle(entry, false, type);
      },
    ).finally(() => {
      this.inFlight--;
      this.lastDone = performance.now();
      this.check();
    });
  }

  private check() {
    if (this.sending || this.inFlight > 0) return;
    this.finish(this.report());
  }

  /** Stops sending; the messages out still get their replies. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.sending) {
      this.sending = false;
      this.check();
    }
  }

  report(): LoadReport {
    const elapsedMs = Math.max(0, (this.lastDone || performance.now()) - this.t0);
    return {
      to: this.o.to,
      agents: this.agents,
      kind: this.kind,
      rate: this.o.rate,
      durationMs: this.o.durationMs,
      elapsedMs: Math.round(elapsedMs),
      sent: this.sent,
      ok: this.ok,
      failed: this.failed,
      skipped: this.skipped,
      throughput: elapsedMs > 0 ? Math.round((this.ok / elapsedMs) * 1000 * 10) / 10 : 0,
      latencyMs: percentiles(this.latencies) ?? null,
      errors: { ...this.errors },
      stopped: this.stopped,
    };
  }
}
