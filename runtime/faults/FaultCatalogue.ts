/**
 * The fault catalogue: every fault the CLI, the control channel and the
 * extension can inject, with its target, parameters and lifetime. Agent
 * faults act on processes and hosts; dependency faults are handed to the
 * gateway's policy layer through `dependencyFaults`.
 */
import { RpcError, RpcErrorCode, type FaultSpec } from '../protocol/rpc.ts';
import { globMatch, seededRandom } from './seededRandom.ts';
import { AGENT_FAULTS, type ActiveFault, type FaultEvent } from '../protocol/faults.ts';

export { AGENT_FAULTS };

export type AgentFault = (typeof AGENT_FAULTS)[number];
export type { ActiveFault, FaultEvent };

/** What the catalogue needs of the runtime's agents. */
export interface FaultTargets {
  agentIds(): string[];
  kill(agent: string): boolean;
  hostFault(agent: string, fault: 'hang' | 'unhang' | 'memory', params?: Record<string, unknown>): boolean;
}

/** Other fault families (dependencies, state, runtime) register here. */
export interface FaultFamily {
  kind: ActiveFault['kind'];
  faults: readonly string[];
  /** Validates the target and params; throws RpcError(InvalidParams) when wrong. */
  validate(spec: FaultSpec): void;
  /** Applies a one-shot fault at once; returns true when it is done (not kept active). */
  apply?(fault: ActiveFault): boolean | Promise<boolean>;
  /** Called when a kept fault is cleared. */
  cleared?(fault: ActiveFault): void;
}

const num = (v: unknown, name: string, min: number, max: number, dflt?: number): number | undefined => {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: "${name}" must be a number between ${min} and ${max}`);
  return n;
};

/** What `beforeDeliver` returns while no fault is active. */
const NO_DELIVERY_FAULT = Object.freeze({ delayMs: 0, crash: false });

export class FaultCatalogue {
  private active = new Map<string, ActiveFault>();
  private timers = new Map<string, NodeJS.Timeout>();
  private rngs = new Map<string, () => number>();
  private families: FaultFamily[] = [];
  private seq = 0;

  /** `idPrefix`: a cluster node's id and ":", so that fault ids say which node keeps the fault. */
  constructor(private readonly targets: FaultTargets, private readonly emit: (e: FaultEvent) => void, private readonly idPrefix = '') {}

  register(family: FaultFamily) {
    this.families.push(family);
  }

  /** Every fault name this runtime knows. */
  known(): string[] {
    return [...AGENT_FAULTS, ...this.families.flatMap((f) => f.faults)];
  }

  list(): ActiveFault[] {
    return [...this.active.values()];
  }

  async inject(spec: FaultSpec): Promise<{ id: string; fired?: number }> {
    const params = { ...(spec.params ?? {}) };
    const durationMs = num(params.durationMs, 'durationMs', 1, 86_400_000);
    const count = num(params.count, 'count', 1, 1_000_000);
    const rate = num(params.rate ?? params.probability, 'rate', 0, 1);
    const seed = num(params.seed, 'seed', 0, 2 ** 32);
    const id = `${this.idPrefix}f${++this.seq}`;
    const now = Date.now();
    const fault: ActiveFault = {
      id,
      fault: spec.fault,
      target: spec.target,
      params,
      kind: 'agent',
      createdAt: new Date(now).toISOString(),
      ...(durationMs ? { expiresAt: new Date(now + durationMs).toISOString() } : {}),
      ...(count ? { remaining: count } : {}),
      fired: 0,
    };
    if (rate !== undefined) this.rngs.set(id, seededRandom(seed ?? now));

    if ((AGENT_FAULTS as readonly string[]).includes(spec.fault)) {
      const agents = this.targets.agentIds().filter((a) => globMatch(spec.target, a));
      if (!agents.length) throw new RpcError(RpcErrorCode.NotFound, `No agent matches "${spec.target}" (agents: ${this.targets.agentIds().join(', ')})`);
      if (spec.fault === 'slow') num(params.ms, 'ms', 1, 600_000);
      if (spec.fault === 'crash-loop') fault.remaining = num(params.times ?? params.count, 'times', 1, 1000, 3);
      if (spec.fault === 'crash' && fault.remaining === undefined && rate === undefined) fault.remaining = 1;
      this.emit({ time: new Date().toISOString(), action: 'injected', fault });
      // One-shot faults act on the processes now and are done.
      if (spec.fault === 'kill' || spec.fault === 'hang' || spec.fault === 'memory') {
        let n = 0;
        for (const a of agents) {
          if (spec.fault === 'kill' ? this.targets.kill(a) : this.targets.hostFault(a, spec.fault, params)) n++;
        }
        fault.fired = n;
        this.emit({ time: new Date().toISOString(), action: 'fired', fault });
        return { id, fired: n };
      }
    } else {
      const family = this.families.find((f) => f.faults.includes(spec.fault));
      if (!family) throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: unknown fault "${spec.fault}" (known: ${this.known().join(', ')})`);
      family.validate(spec);
      fault.kind = family.kind;
      this.emit({ time: new Date().toISOString(), action: 'injected', fault });
      if (family.apply && (await family.apply(fault))) {
        fault.fired++;
        this.emit({ time: new Date().toISOString(), action: 'fired', fault });
        return { id, fired: fault.fired };
      }
    }
    this.active.set(id, fault);
    if (durationMs) {
      const t = setTimeout(() => this.clear(id), durationMs);
      t.unref();
      this.timers.set(id, t);
    }
    return { id };
  }

  /** Clears one fault, or all; returns how many. */
  clear(id?: string): number {
    const ids = id === undefined ? [...this.active.keys()] : this.active.has(id) ? [id] : [];
    for (const i of ids) {
      const f = this.active.get(i)!;
      this.active.delete(i);
      clearTimeout(this.timers.get(i));
      this.timers.delete(i);
      this.rngs.delete(i);
      this.families.find((fam) => fam.faults.includes(f.fault))?.cleared?.(f);
      this.emit({ time: new Date().toISOString(), action: 'cleared', fault: f });
    }
    return ids.length;
  }

  /** Whether a kept fault fires this time (its rate), counting it when it does. */
  private fire(f: ActiveFault): boolean {
    const rng = this.rngs.get(f.id);
    if (rng && rng() >= Number(f.params.rate ?? f.params.probability)) return false;
    this.recordFired(f);
    return true;
  }

  /** Counts one firing of a kept fault; a fault with a `count` clears itself when spent. */
  recordFired(f: ActiveFault) {
    f.fired++;
    if (f.remaining !== undefined) f.remaining--;
    this.emit({ time: new Date().toISOString(), action: 'fired', fault: f });
    if (f.remaining !== undefined && f.remaining <= 0) this.clear(f.id);
  }

  private matching(fault: string, agent: string): ActiveFault[] {
    const out: ActiveFault[] = [];
    for (const f of this.active.values()) if (f.fault === fault && globMatch(f.target, agent)) out.push(f);
    return out;
  }

  /** Called before a message goes to an agent: a handling delay, or an injected crash. */
  beforeDeliver(agent: string): { delayMs: number; crash: boolean } {
    if (this.active.size === 0) return NO_DELIVERY_FAULT;
    let delayMs = 0;
    let crash = false;
    for (const f of this.matching('slow', agent)) if (this.fire(f)) delayMs = Math.max(delayMs, Number(f.params.ms));
    for (const f of this.matching('crash', agent)) if (!crash && f.params.point === undefined && this.fire(f)) crash = true;
    return { delayMs, crash };
  }

  /** Called at a ctx.call / ctx.model site: a crash fault aimed at that point fires there. */
  beforeCall(agent: string, point: string | undefined): boolean {
    if (point === undefined) return false;
    for (const f of this.matching('crash', agent)) if (f.params.point === point && this.fire(f)) return true;
    return false;
  }

  /** Called before an agent starts: the crash-loop fault makes it crash at start. */
  beforeStart(agent: string): { crashOnStart: boolean } {
    for (const f of this.matching('crash-loop', agent)) if (this.fire(f)) return { crashOnStart: true };
    return { crashOnStart: false };
  }

  /** Pending faults for one agent, for its status. */
  forAgent(agent: string): ActiveFault[] {
    return this.list().filter((f) => f.kind === 'agent' && globMatch(f.target, agent));
  }

  close() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
