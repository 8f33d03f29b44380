/**
 * The fallback chaos monkey, for a runtime without the `chaos.*` control
 * methods: at random intervals (mean `intervalMs`, ±50%) it picks a running
 * agent matching `targets` and injects one of `faults` through the runtime's
 * fault catalogue. A runtime that has `chaos.start` runs its own seeded
 * monkey instead (see chaosCommands.ts). Time and chance are injectable so a
 * test drives it without sleeping.
 */
import { agentsOf, type RuntimeStatus } from '../../../runtime/protocol/status.ts';
import type { FaultSpec } from '../../../runtime/protocol/rpc.ts';
import { realTimers, type Timers } from '../util/timers.ts';

export interface ChaosOptions {
  intervalMs: number;
  faults: string[];
  /** Which agents: a glob where `*` matches any run of characters (the runtime's syntax); default all. */
  targets?: string;
  /** Stop by itself after this long; default: until stopped. */
  durationMs?: number;
}

/** The runtime's target globs: `*` matches any run of characters, nothing else is special. */
export function globMatch(pattern: string, text: string): boolean {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(text);
}

export class ChaosMonkey {
  private timer: unknown;
  private running = false;
  private endsAt = Infinity;
  injected = 0;

  constructor(
    private readonly status: () => RuntimeStatus | undefined,
    private readonly inject: (spec: FaultSpec) => Promise<unknown>,
    private readonly onError: (e: Error) => void,
    private readonly timers: Timers = realTimers,
    private readonly random: () => number = Math.random,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(o: ChaosOptions): void {
    this.stop();
    this.running = true;
    this.injected = 0;
    this.endsAt = o.durationMs ? this.timers.now() + o.durationMs : Infinity;
    this.arm(o);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The next fault, or undefined when no agent is up to take one. */
  pick(o: ChaosOptions): FaultSpec | undefined {
    const s = this.status();
    if (!s || !o.faults.length) return undefined;
    const agents = agentsOf(s.tree).filter((a) => a.state === 'running' && globMatch(o.targets ?? '*', a.id));
    if (!agents.length) return undefined;
    const agent = agents[Math.floor(this.random() * agents.length) % agents.length];
    const fault = o.faults[Math.floor(this.random() * o.faults.length) % o.faults.length];
    return { fault, target: agent.id, params: { source: 'chaos' } };
  }

  private arm(o: ChaosOptions) {
    const delay = Math.round(o.intervalMs * (0.5 + this.random()));
    this.timer = this.timers.setTimeout(() => {
      if (!this.running) return;
      if (this.timers.now() > this.endsAt) return this.stop();
      const spec = this.pick(o);
      if (spec) {
        this.injected++;
        this.inject(spec).catch((e) => this.onError(e as Error));
      }
      this.arm(o);
    }, delay);
  }
}
