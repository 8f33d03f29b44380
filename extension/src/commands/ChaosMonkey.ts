/**
 * The chaos monkey: at random intervals (mean `intervalMs`, ±50%) it picks a
 * running agent and injects one of the chosen faults through the runtime's
 * fault catalogue, like `faultline chaos` does. Time and chance are
 * injectable so a test drives it without sleeping.
 */
import { agentsOf, type RuntimeStatus } from '../../../runtime/protocol/status.ts';
import type { FaultSpec } from '../../../runtime/protocol/rpc.ts';
import { realTimers, type Timers } from '../util/timers.ts';

export interface ChaosOptions {
  intervalMs: number;
  faults: string[];
  /** Agent ids never picked. */
  spare?: string[];
}

export class ChaosMonkey {
  private timer: unknown;
  private running = false;
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
    const agents = agentsOf(s.tree).filter((a) => a.state === 'running' && !o.spare?.includes(a.id));
    if (!agents.length) return undefined;
    const agent = agents[Math.floor(this.random() * agents.length) % agents.length];
    const fault = o.faults[Math.floor(this.random() * o.faults.length) % o.faults.length];
    return { fault, target: agent.id, params: { source: 'chaos' } };
  }

  private arm(o: ChaosOptions) {
    const delay = Math.round(o.intervalMs * (0.5 + this.random()));
    this.timer = this.timers.setTimeout(() => {
      if (!this.running) return;
      const spec = this.pick(o);
      if (spec) {
        this.injected++;
        this.inject(spec).catch((e) => this.onError(e as Error));
      }
      this.arm(o);
    }, delay);
  }
}
