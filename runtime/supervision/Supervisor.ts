/**
 * A supervisor: starts its children in order, stops them in reverse order,
 * and when one goes down applies its strategy — within its restart
 * intensity, with backoff — or fails and escalates to its parent. Like an
 * OTP supervisor it handles one thing at a time: every exit, restart and
 * stop runs through a serial queue. The decisions are pure functions
 * (`decisions.ts`); the lifecycle is an xstate machine (`machines.ts`).
 */
import type { Actor } from 'xstate';
import type { ChildSpec, SupervisorSpec } from '../config/load.ts';
import type { LastError, NodeState, SupervisorStatus } from '../protocol/status.ts';
import type { SupervisorStateEvent } from '../protocol/events.ts';
import { recordRestart, restartDelay, restartPlan, restartsInWindow, shouldRestart, type ExitInfo } from './decisions.ts';
import { displayState, startMachine, supervisorMachine, type Clock } from './machines.ts';
import type { Child, ChildFactory } from './Child.ts';

export interface SupervisorDeps {
  clock: Clock;
  /** Builds agent children; supervisors build their own nested supervisors. */
  agentFactory: ChildFactory;
  random?: () => number;
  emitState?: (e: SupervisorStateEvent) => void;
  /** A supervisor decided to restart a child (once per child started again). */
  onRestart?: (child: string, supervisor: string) => void;
  /** A supervisor exceeded its intensity and escalates. */
  onEscalate?: (supervisor: string) => void;
  /** The restart window changed: kept so a runtime restart does not wipe it. */
  onHistory?: (supervisor: string, history: number[]) => void;
  /** The restart window kept from the previous run, used on a supervisor's first start. */
  initialHistory?: (supervisor: string) => number[] | undefined;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export class Supervisor implements Child {
  readonly id: string;
  children: Child[] = [];
  onExit?: (exit: ExitInfo) => void;
  lastError?: LastError;
  startedAt: number | null = null;
  /** Restarts performed since this supervisor last started. */
  restarts = 0;
  private history: number[] = [];
  private streaks = new Map<string, number>();
  private pendingGen = new Map<string, number>();
  private gen = 0;
  private timers = new Set<unknown>();
  private queue: Promise<unknown> = Promise.resolve();
  private actor: Actor<typeof supervisorMachine>;
  private lastState: NodeState = 'stopped';
  /** Set the moment a stop is requested, before the queue reaches it: exits from then on are not crashes. */
  private halting = false;
  private started = false;

  constructor(readonly spec: SupervisorSpec, private readonly deps: SupervisorDeps, readonly parentId: string | null = null) {
    this.id = spec.id;
    this.actor = startMachine(supervisorMachine, deps.clock);
    this.actor.subscribe((snap) => this.stateChanged(String(snap.value)));
  }

  get state(): NodeState {
    return displayState(String(this.actor.getSnapshot().value), 0);
  }

  /** Runs `fn` after everything queued before it, like a supervisor's mailbox. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private buildChild(spec: ChildSpec): Child {
    const child = spec.kind === 'supervisor' ? new Supervisor(spec, this.deps, this.id) : this.deps.agentFactory(spec, this);
    child.onExit = (exit) => void this.serial(() => this.childExited(child, exit));
    return child;
  }

  private send(type: 'START' | 'READY' | 'STOP' | 'STOPPED' | 'FAIL' | 'RESTART') {
    this.actor.send(type === 'RESTART' ? { type, delayMs: 0 } : { type });
  }

  private stateChanged(value: string) {
    const state = displayState(value, 0);
    if (state === this.lastState && value !== 'failing') return;
    const previous = this.lastState;
    this.lastState = state;
    this.deps.emitState?.({ time: new Date(this.deps.clock.now()).toISOString(), supervisor: this.id, parent: this.parentId, state, previous, restarts: this.restarts, reason: this.lastError?.message });
  }

  /** Starts afresh from the config: new children, an empty restart history. */
  start(): Promise<boolean> {
    return this.serial(async () => {
      const s = this.actor.getSnapshot().value;
      if (s !== 'stopped' && s !== 'failed') return s === 'running';
      this.halting = false;
      this.cancelTimers();
      // A supervisor restarted by its parent starts afresh; the first start of a run resumes the window kept from the last run.
      this.history = this.started ? [] : (this.deps.initialHistory?.(this.id) ?? []);
      this.started = true;
      this.streaks.clear();
      this.restarts = 0;
      this.lastError = undefined;
      this.children = this.spec.children.map((c) => this.buildChild(c));
      this.send('START');
      for (const child of this.children) await child.start();
      this.startedAt = this.deps.clock.now();
      this.send('READY');
      return true;
    });
  }

  /** Marks this subtree as stopping, at once, so that no exit in it restarts anything. */
  halt() {
    this.halting = true;
    this.cancelTimers();
    for (const c of this.children) if (c instanceof Supervisor) c.halt();
  }

  /** Stops every child in reverse order, each within its shutdown time. */
  stop(reason: string): Promise<void> {
    this.halt();
    return this.serial(async () => {
      const s = this.actor.getSnapshot().value;
      if (s === 'stopped' || s === 'failed') return;
      this.send('STOP');
      await this.stopChildren(reason);
      this.startedAt = null;
      this.send('STOPPED');
    });
  }

  private async stopChildren(reason: string) {
    this.cancelTimers();
    for (const child of [...this.children].reverse()) await child.stop(reason);
  }

  private cancelTimers() {
    for (const t of this.timers) this.deps.clock.clearTimeout(t);
    this.timers.clear();
    this.pendingGen.clear();
  }

  markRestarting(): void {
    // A supervisor restarts by starting afresh; nothing to show meanwhile.
  }
  markDown(): void {
    // Already failed or stopped: it stopped its own children before exiting.
  }

  /** A child went down on its own: OTP's restart logic. */
  private async childExited(child: Child, exit: ExitInfo) {
    const s = this.actor.getSnapshot().value;
    if (this.halting || (s !== 'running' && s !== 'restarting' && s !== 'starting')) return;
    if (!this.children.includes(child)) return;
    const log = this.deps.log;
    if (!shouldRestart(child.spec.restart, exit)) {
      child.markDown(exit.normal, exit.reason);
      log?.('info', `${child.id} exited (${exit.reason}); ${child.spec.restart} child, not restarted`, { supervisor: this.id, agent: child.id });
      return;
    }
    const now = this.deps.clock.now();
    const { history, exceeded } = recordRestart(this.history, now, this.spec.intensity, this.spec.periodMs);
    this.history = history;
    this.deps.onHistory?.(this.id, history);
    if (exceeded) {
      await this.fail(`restart intensity exceeded: more than ${this.spec.intensity} restarts within ${this.spec.periodMs} ms (last: ${child.id}, ${exit.reason})`);
      return;
    }
    this.restarts++;
    const plan = restartPlan(
      this.spec.strategy,
      this.children.map((c) => ({ id: c.id, restart: c.spec.restart })),
      child.id,
    );
    this.send('RESTART');
    const byId = (id: string) => this.children.find((c) => c.id === id)!;
    for (const id of plan.stop) await byId(id).stop(`sibling ${child.id} ${exit.reason}`);
    for (const id of plan.drop) byId(id).markDown(true, `temporary, taken down with ${child.id}`);
    const d = restartDelay(this.streaks.get(child.id) ?? 0, child.startedAt, now, this.spec.backoff, this.deps.random);
    this.streaks.set(child.id, d.streak);
    log?.('warn', `${child.id} ${exit.reason}; ${this.spec.strategy} restarts ${plan.start.join(', ')}${d.delayMs ? ` in ${d.delayMs} ms` : ''}`, { supervisor: this.id, agent: child.id, delayMs: d.delayMs });
    const gen = ++this.gen;
    for (const id of plan.start) this.deps.onRestart?.(id, this.id);
    for (const id of plan.start) {
      this.pendingGen.set(id, gen);
      byId(id).markRestarting(d.delayMs);
    }
    if (d.delayMs <= 0) await this.startGroup(plan.start, gen);
    else {
      const t = this.deps.clock.setTimeout(() => {
        this.timers.delete(t);
        void this.serial(() => this.startGroup(plan.start, gen));
      }, d.delayMs);
      this.timers.add(t);
    }
  }

  private async startGroup(ids: string[], gen: number) {
    for (const id of ids) {
      if (this.pendingGen.get(id) !== gen) continue;
      this.pendingGen.delete(id);
      const child = this.children.find((c) => c.id === id);
      if (child) await child.start();
    }
    if (this.pendingGen.size === 0 && this.actor.getSnapshot().value === 'restarting') this.send('READY');
  }

  /** Intensity exceeded: stop everything and report the failure upward. */
  private async fail(message: string) {
    this.lastError = { type: 'RestartIntensityExceeded', message, time: new Date(this.deps.clock.now()).toISOString() };
    this.deps.log?.('error', `supervisor ${this.id}: ${message}; stopping its children and escalating`, { supervisor: this.id });
    this.deps.onEscalate?.(this.id);
    this.send('FAIL');
    await this.stopChildren('supervisor failing');
    this.startedAt = null;
    this.send('STOPPED');
    this.onExit?.({ normal: false, reason: 'restart intensity exceeded' });
  }

  /** A user's restart of one child (not counted toward intensity), or of this whole supervisor. */
  restartChild(id: string): Promise<boolean> {
    return this.serial(async () => {
      const child = this.children.find((c) => c.id === id);
      if (!child) return false;
      this.pendingGen.delete(id);
      await child.stop('restart requested');
      return child.start();
    });
  }

  /** A user's stop of one child: it stays down until restarted. */
  stopChild(id: string): Promise<boolean> {
    return this.serial(async () => {
      const child = this.children.find((c) => c.id === id);
      if (!child) return false;
      this.pendingGen.delete(id);
      await child.stop('stop requested');
      return true;
    });
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.serial(() => undefined);
  }

  status(): SupervisorStatus {
    const now = this.deps.clock.now();
    return {
      id: this.id,
      kind: 'supervisor',
      state: this.state,
      strategy: this.spec.strategy,
      restart: this.spec.restart,
      restarts: this.restarts,
      intensity: { limit: this.spec.intensity, periodMs: this.spec.periodMs, inWindow: restartsInWindow(this.history, now, this.spec.periodMs) },
      children: this.children.length ? this.children.map((c) => c.status()) : this.spec.children.map((c) => placeholder(c)),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}

/** Status of a child that has not been built (its supervisor is down). */
function placeholder(c: ChildSpec): SupervisorStatus | import('../protocol/status.ts').AgentStatus {
  if (c.kind === 'supervisor') {
    return { id: c.id, kind: 'supervisor', state: 'stopped', strategy: c.strategy, restart: c.restart, restarts: 0, intensity: { limit: c.intensity, periodMs: c.periodMs, inWindow: 0 }, children: c.children.map(placeholder) };
  }
  return { id: c.id, kind: 'agent', state: 'stopped', pid: null, restarts: 0, isolation: c.isolation, restart: c.restart, module: c.moduleRef, mailbox: 0, liveness: false, readiness: false, startedAt: null };
}
