/**
 * A supervisor: starts its children in order, stops them in reverse order,
 * and when one goes down applies its strategy — within its restart
 * intensity, with backoff — or fails and escalates to its parent. Like an
 * OTP supervisor it handles one thing at a time: every exit, restart and
 * stop runs through a serial queue. What it decides, and what it knows
 * (restarts, the restart window, backoff streaks, the children waiting to
 * restart, the last error), is its lifecycle machine's (`supervisorMachine.ts`,
 * which calls the pure rules of `decisions.ts`); this class is the wiring
 * that stops and starts the children the machine asks for.
 */
import type { StateValue } from 'xstate';
import type { ChildSpec, SupervisorSpec } from '../config/load.ts';
import type { AgentStatus, LastError, NodeState, SupervisorStatus } from '../protocol/status.ts';
import type { SupervisorStateEvent } from '../protocol/events.ts';
import { restartsInWindow, type ExitInfo } from './decisions.ts';
import { supervisorMachine, type SupervisorContext, type SupervisorEffect, type SupervisorEvent } from './supervisorMachine.ts';
import { displayState, IllegalEventError, LifecycleActor, machineDefinition, topState, type Transition } from './machines.ts';
import type { Clock } from '../clock.ts';
import type { Child, ChildFactory } from './Child.ts';

export interface SupervisorDeps {
  clock: Clock;
  /** Builds agent children; supervisors build their own nested supervisors. */
  agentFactory: ChildFactory;
  /** The jitter's random numbers (tests pass a constant). */
  random?: () => number;
  emitState?: (e: SupervisorStateEvent) => void;
  /** A transition of a supervisor's lifecycle machine. */
  transition?: (supervisor: string, t: Transition) => void;
  /** A supervisor decided to restart a child (once per child started again). */
  onRestart?: (child: string, supervisor: string) => void;
  /** A supervisor exceeded its intensity and escalates. */
  onEscalate?: (supervisor: string) => void;
  /** A supervisor's restart window changed (read it from `restartWindow`): kept so a runtime restart does not wipe it. */
  onHistory?: (supervisor: Supervisor) => void;
  /** The restart window kept from the previous run, used on a supervisor's first start. */
  initialHistory?: (supervisor: string) => number[] | undefined;
  /**
   * The restarts other nodes of a cluster made under this supervisor (the
   * root, whose children run on several nodes), asked before each restart
   * decision: they count toward its intensity too. Undefined: none.
   */
  sharedHistory?: (supervisor: string) => Promise<number[]> | undefined;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Whether this node may start a child of a supervisor (a cluster runs each
   * child of the root on the one node that holds its lease); default yes.
   * Starts on request (`restartChild`, `startChildren`) are not asked.
   */
  mayStart?: (supervisor: string, child: string) => boolean;
}

export class Supervisor implements Child {
  readonly id: string;
  children: Child[] = [];
  onExit?: (exit: ExitInfo) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lc: LifecycleActor<typeof supervisorMachine>;
  private lastState: NodeState = 'stopped';
  private lastTop = 'stopped';
  private started = false;
  /** The restarts other nodes made under this supervisor, as last read (`sharedHistory`). */
  private others: number[] = [];
  /** Effects the machine emitted during the current send, for the serial task that sent it. */
  private effects: SupervisorEffect[] = [];

  constructor(readonly spec: SupervisorSpec, private readonly deps: SupervisorDeps, readonly parentId: string | null = null) {
    this.id = spec.id;
    this.lc = new LifecycleActor(supervisorMachine, {
      id: spec.id,
      clock: deps.clock,
      input: { id: spec.id, strategy: spec.strategy, intensity: spec.intensity, periodMs: spec.periodMs, backoff: spec.backoff },
      onTransition: deps.transition && ((t) => deps.transition!(this.id, t)),
      onIllegal: (e) => deps.log?.('error', e.message, { supervisor: this.id }),
    });
    this.lc.actor.on('*', (e: SupervisorEffect) => {
      // A backoff ends on the clock, outside any serial task: it queues its own.
      if (e.type === 'startGroup') void this.serial(() => this.startGroup(e.children, e.gen));
      else this.effects.push(e);
    });
    this.lc.actor.subscribe((snap) => this.changed(snap.value));
  }

  private get ctx(): SupervisorContext {
    return this.lc.snapshot.context;
  }
  get state(): NodeState {
    return displayState(this.lc.snapshot.value, 0);
  }
  /** Restarts performed since this supervisor last started. */
  get restarts(): number {
    return this.ctx.restarts;
  }
  get lastError(): LastError | undefined {
    return this.ctx.lastError;
  }
  get startedAt(): number | null {
    return this.ctx.startedAt;
  }
  /** The restart-intensity window: clock times of the restarts within the period. */
  get restartWindow(): readonly number[] {
    return this.ctx.history;
  }

  /** The lifecycle machine as the `machine` method shows it. */
  machine(): { definition: Record<string, unknown>; value: unknown; context: Record<string, unknown> } {
    return { definition: machineDefinition(supervisorMachine), value: this.lc.snapshot.value, context: { ...this.ctx } };
  }

  /** This supervisor or the one below it with `id`. */
  find(id: string): Supervisor | undefined {
    if (id === this.id) return this;
    for (const c of this.children) {
      const s = c instanceof Supervisor ? c.find(id) : undefined;
      if (s) return s;
    }
    return undefined;
  }

  /** Runs `fn` after everything queued before it, like a supervisor's mailbox. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch((e) => {
      // A bug in the wiring must not vanish in the queue: surface it.
      if (e instanceof IllegalEventError) queueMicrotask(() => {
        throw e;
      });
    });
    return next;
  }

  private buildChild(spec: ChildSpec): Child {
    const child = spec.kind === 'supervisor' ? new Supervisor(spec, this.deps, this.id) : this.deps.agentFactory(spec, this);
    child.onExit = (exit) => void this.serial(() => this.childExited(child, exit));
    return child;
  }

  /** Sends the machine an event and hands back the effects it asked for. */
  private send(event: SupervisorEvent): SupervisorEffect[] {
    this.effects = [];
    this.lc.send(event);
    const effects = this.effects;
    this.effects = [];
    return effects;
  }

  private changed(value: StateValue) {
    const state = displayState(value, 0);
    const top = topState(value);
    const entered = top !== this.lastTop;
    this.lastTop = top;
    if (state === this.lastState && !(entered && top === 'failing')) return;
    const previous = this.lastState;
    this.lastState = state;
    const ctx = this.ctx;
    this.deps.emitState?.({ time: new Date(this.deps.clock.now()).toISOString(), supervisor: this.id, parent: this.parentId, state, previous, restarts: ctx.restarts, reason: ctx.lastError?.message });
  }

  /** Starts afresh from the config: new children, an empty restart history. */
  start(): Promise<boolean> {
    return this.serial(async () => {
      const s = this.lc.top;
      if (s !== 'stopped' && s !== 'failed') return s === 'running';
      // A supervisor restarted by its parent starts afresh; the first start of a run resumes the window kept from the last run.
      const history = this.started ? [] : (this.deps.initialHistory?.(this.id) ?? []);
      this.started = true;
      this.children = this.spec.children.map((c) => this.buildChild(c));
      this.send({ type: 'START', history });
      for (const child of this.children) if (this.deps.mayStart?.(this.id, child.id) !== false) await child.start();
      this.send({ type: 'READY' });
      return true;
    });
  }

  /** Marks this subtree as stopping, at once, so that no exit in it restarts anything. */
  halt() {
    this.send({ type: 'HALT' });
    for (const c of this.children) if (c instanceof Supervisor) c.halt();
  }

  /** Stops every child in reverse order, each within its shutdown time. */
  stop(reason: string): Promise<void> {
    this.halt();
    return this.serial(async () => {
      const s = this.lc.top;
      if (s === 'stopped' || s === 'failed') return;
      this.send({ type: 'STOP' });
      await this.stopChildren(reason);
      this.send({ type: 'STOPPED' });
    });
  }

  private async stopChildren(reason: string) {
    for (const child of [...this.children].reverse()) await child.stop(reason);
  }

  markRestarting(): void {
    // A supervisor restarts by starting afresh; nothing to show meanwhile.
  }
  markDown(): void {
    // Already failed or stopped: it stopped its own children before exiting.
  }

  /** A child went down on its own: the machine decides (OTP's rules), this runs the decision. */
  private async childExited(child: Child, exit: ExitInfo) {
    if (!this.children.includes(child)) return; // a child of an earlier start
    // Started again meanwhile (a user's restart ran first): the exit is of an earlier incarnation, as an EXIT of an old pid in OTP.
    if (child.state === 'running') return;
    const shared = this.deps.sharedHistory?.(this.id);
    if (shared) {
      this.others = await shared;
      if (!this.children.includes(child) || (child.state as string) === 'running') return;
    }
    const effects = this.send({
      type: 'CHILD_EXIT',
      child: child.id,
      restart: child.spec.restart,
      startedAt: child.startedAt,
      exit,
      children: this.children.map((c) => ({ id: c.id, restart: c.spec.restart })),
      draw: (this.deps.random ?? Math.random)(),
      ...(shared ? { others: this.others } : {}),
    });
    for (const e of effects) await this.run(e);
  }

  private async run(e: SupervisorEffect) {
    const log = this.deps.log;
    const byId = (id: string) => this.children.find((c) => c.id === id)!;
    switch (e.type) {
      case 'down': {
        byId(e.child).markDown(e.exit.normal, e.exit.reason);
        log?.('info', `${e.child} exited (${e.exit.reason}); ${e.restart} child, not restarted`, { supervisor: this.id, agent: e.child });
        return;
      }
      case 'restart': {
        this.deps.onHistory?.(this);
        const { plan, delayMs, gen } = e;
        for (const id of plan.stop) await byId(id).stop(`sibling ${e.child} ${e.exit.reason}`);
        for (const id of plan.drop) byId(id).markDown(true, `temporary, taken down with ${e.child}`);
        log?.('warn', `${e.child} ${e.exit.reason}; ${this.spec.strategy} restarts ${plan.start.join(', ')}${delayMs ? ` in ${delayMs} ms` : ''}`, { supervisor: this.id, agent: e.child, delayMs });
        for (const id of plan.start) this.deps.onRestart?.(id, this.id);
        for (const id of plan.start) byId(id).markRestarting(delayMs);
        // With a backoff, the machine's delayed BACKOFF_DONE starts the group.
        if (delayMs <= 0) await this.startGroup(plan.start, gen);
        return;
      }
      case 'escalate': {
        this.deps.onHistory?.(this);
        log?.('error', `supervisor ${this.id}: ${e.message}; stopping its children and escalating`, { supervisor: this.id });
        this.deps.onEscalate?.(this.id);
        await this.stopChildren('supervisor failing');
        this.send({ type: 'STOPPED' });
        this.onExit?.({ normal: false, reason: 'restart intensity exceeded' });
        return;
      }
      case 'startGroup':
        return this.startGroup(e.children, e.gen);
    }
  }

  /** Starts the children of restart group `gen` that still wait in it, in order. */
  private async startGroup(ids: readonly string[], gen: number) {
    for (const id of ids) {
      if (this.ctx.pending[id] !== gen) continue; // restarted or stopped by a user meanwhile, or a later group took it
      this.send({ type: 'UNPEND', child: id });
      const child = this.children.find((c) => c.id === id);
      if (child && this.deps.mayStart?.(this.id, id) !== false) await child.start();
    }
    this.send({ type: 'GROUP_STARTED' });
  }

  /**
   * A user's restart of one child (not counted toward intensity), or of this
   * whole supervisor. `whileDown` runs between the stop and the start (a
   * restore writes the state the child comes up from there); if it throws,
   * the child is started as it was and the error goes to the caller.
   */
  restartChild(id: string, whileDown?: () => Promise<void>): Promise<boolean> {
    return this.serial(async () => {
      const child = this.children.find((c) => c.id === id);
      if (!child) return false;
      this.send({ type: 'UNPEND', child: id });
      await child.stop('restart requested');
      try {
        await whileDown?.();
      } catch (e) {
        await child.start();
        throw e;
      }
      return child.start();
    });
  }

  /**
   * Adds a child beside the config's and starts it (a fork). It is not in
   * the spec: when this supervisor starts afresh it is gone, as a child
   * added with OTP's `start_child` is when its supervisor restarts.
   */
  addChild(spec: ChildSpec): Promise<Child> {
    return this.serial(async () => {
      if (this.lc.top !== 'running') throw new Error(`supervisor ${this.id} is ${this.state}; a child can be added only while it runs`);
      if (this.children.some((c) => c.id === spec.id)) throw new Error(`supervisor ${this.id} has a child "${spec.id}" already`);
      const child = this.buildChild(spec);
      this.children.push(child);
      await child.start();
      return child;
    });
  }

  /**
   * Starts children that are down, all at once rather than one after the
   * other (a cluster node taking over another's subtrees); each restores its
   * own checkpoints. Not counted toward intensity.
   */
  startChildren(ids: readonly string[]): Promise<void> {
    return this.serial(async () => {
      const todo = this.children.filter((c) => ids.includes(c.id));
      for (const c of todo) this.send({ type: 'UNPEND', child: c.id });
      // Taken over from another node: a subtree resumes the restart window it had there (`initialHistory`).
      for (const c of todo) if (c instanceof Supervisor) c.started = false;
      await Promise.all(todo.map((c) => c.start().catch(() => false)));
    });
  }

  /** A user's stop of one child: it stays down until restarted. */
  stopChild(id: string): Promise<boolean> {
    return this.serial(async () => {
      const child = this.children.find((c) => c.id === id);
      if (!child) return false;
      this.send({ type: 'UNPEND', child: id });
      await child.stop('stop requested');
      return true;
    });
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.serial(() => undefined);
  }

  status(): SupervisorStatus {
    const ctx = this.ctx;
    return {
      id: this.id,
      kind: 'supervisor',
      state: this.state,
      strategy: this.spec.strategy,
      restart: this.spec.restart,
      restarts: ctx.restarts,
      intensity: { limit: this.spec.intensity, periodMs: this.spec.periodMs, inWindow: restartsInWindow([...ctx.history, ...this.others], this.deps.clock.now(), this.spec.periodMs) },
      children: this.children.length ? this.children.map((c) => c.status()) : this.spec.children.map((c) => placeholder(c)),
      ...(ctx.lastError ? { lastError: ctx.lastError } : {}),
    };
  }
}

/** Status of a child that has not been built (its supervisor is down). */
function placeholder(c: ChildSpec): SupervisorStatus | AgentStatus {
  if (c.kind === 'supervisor') {
    return { id: c.id, kind: 'supervisor', state: 'stopped', strategy: c.strategy, restart: c.restart, restarts: 0, intensity: { limit: c.intensity, periodMs: c.periodMs, inWindow: 0 }, children: c.children.map(placeholder) };
  }
  return { id: c.id, kind: 'agent', state: 'stopped', pid: null, restarts: 0, isolation: c.isolation, restart: c.restart, module: c.moduleRef, mailbox: 0, liveness: false, readiness: false, startedAt: null };
}
