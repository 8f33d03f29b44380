/**
 * One agent under a supervisor: the wiring of its lifecycle machine
 * (`agentMachine.ts`) to the world. It implements the machine's effects —
 * taking a host from the pool, loading the module with the restored state,
 * killing the host, reporting exits to its supervisor — turns the host's
 * messages into the machine's events, and feeds the mailbox one message at a
 * time. What the agent is (state, reason, restarts, last error, timers) is the
 * machine's; this class keeps only the handles (the host, the waiters).
 */
import type { MessageSpanInfo } from '../observability/telemetry.ts';
import { fromPromise, type AnyActorRef, type StateValue } from 'xstate';
import type { AgentSpec } from '../config/load.ts';
import type { AgentStatus, LastError, NodeState } from '../protocol/status.ts';
import type { WaitingEntry } from '../protocol/schema/status.ts';
import type { AgentStateEvent } from '../protocol/events.ts';
import type { FromHost, HostOp, ToHost } from '../isolation/hostProtocol.ts';
import type { HostExit, HostHandle } from '../isolation/HostHandle.ts';
import type { HostPool } from '../isolation/HostPool.ts';
import { ChunkWindow } from '../isolation/ChunkWindow.ts';
import type { Envelope, Mailbox } from '../messaging/Mailbox.ts';
import type { AskResult } from '../messaging/Router.ts';
import type { CheckpointInput, CheckpointStore } from '../state/CheckpointStore.ts';
import { LeaseLostError, StoreUnavailableError } from '../state/errors.ts';
import { AgentHandlerError, AgentUnavailableError, MessageDeadLetteredError, serializeError } from '../errors.ts';
import { agentMachine, type AgentContext, type AgentEvent, type BootInput, type BootOutput } from './agentMachine.ts';
import { displayState, LifecycleActor, machineDefinition, type Transition } from './machines.ts';
import type { Clock } from '../clock.ts';
import type { Child } from './Child.ts';
import type { ExitInfo } from './decisions.ts';

/** What an agent keeps across incarnations (its node is rebuilt when its supervisor restarts). */
export interface AgentRecord {
  restarts: number;
  starts: number;
  lastError?: LastError;
}

/** What an agent's ctx.ask sends. */
export interface AskArgs {
  agent: string;
  message: unknown;
  timeoutMs?: number;
}

export interface AgentEnv {
  clock: Clock;
  pool: HostPool;
  mailbox(agent: string): Mailbox;
  record(agent: string): AgentRecord;
  store: CheckpointStore;
  maxDeliveries: number;
  /** Resolves the module to import (compiling TypeScript). */
  resolveModule(spec: AgentSpec): Promise<string>;
  /** ctx operations other than ask: send, call, model, health, checkpoint. */
  handleRequest(agent: string, op: HostOp, args: unknown, chunk?: (delta: string, model: string) => void): Promise<unknown>;
  /** ctx.ask, with a callback: called once with the reply or the error. */
  ask(agent: string, args: AskArgs, settle: (r: AskResult) => void): void;
  /** Whether the asker of a message takes its reply streamed, and a piece of that reply. */
  streamsReply?(envelopeId: string): boolean;
  replyChunk?(envelopeId: string, delta: string): void;
  /** A message finished: reply or error for its asker. */
  complete(envelopeId: string, result: AskResult): void;
  /** Tracing: a message handed to the agent (its span starts), and a handling cut short by the agent going down. */
  trace?: { begin(m: MessageSpanInfo): void; crashed(envelopeId: string, reason: string): void; event(envelopeId: string, name: string, attributes: Record<string, string | number | boolean>): void };
  /** A message was handled (for metrics): its envelope and outcome. */
  handled?(agent: string, envelope: Envelope, ok: boolean, errorType?: string): void;
  /** Heartbeats stopped: the agent is about to be killed. */
  unresponsive?(agent: string): void;
  emitState(e: AgentStateEvent): void;
  /** The waits (`ctx.waitFor`) the agent's message in flight is suspended on, for its status. */
  waiting?(agent: string): WaitingEntry[];
  /** A transition of its lifecycle machine. */
  transition?(agent: string, t: Transition): void;
  /** The agent is down and will stay down until someone restarts it: fail its pending asks. */
  down(agent: string, error: Error): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  output(agent: string, stream: 'stdout' | 'stderr', line: string): void;
  /** Node flags for process isolation (the inspector when debugging). */
  execArgv?(spec: AgentSpec): string[] | undefined;
  /** How long a start may take before the agent is failed. */
  startTimeoutMs?: number;
  /** The config's directory. */
  baseDir: string;
  /** Agents run under the debugger: one paused at a breakpoint is not hung, so no heartbeat or start timeouts. */
  debugging?: boolean;
  /**
   * Whether messages wait rather than go to the agent (a cluster node that
   * could not confirm its lease lately must not hand out messages: another
   * node may run the agent already). `resume` is called when they may go.
   */
  holdDeliveries?: () => boolean;
  /** A commit was refused because this node lost the lease on the agent's subtree: the agent stops taking messages. */
  leaseLost?: (agent: string) => void;
  /** Summarization thresholds handed to hosts. */
  summarize?: { maxBytes?: number; maxEntries?: number; keepLast?: number; model?: string };
  /** Reads the latest valid checkpoint (falling back past corrupt ones, counted and alerted). */
  restore(agent: string): Promise<{ state: unknown; version: number; seq: number } | null>;
  /** Injected faults that act on delivery and start. */
  faults?: {
    beforeDeliver(agent: string): { delayMs: number; crash: boolean };
    beforeStart(agent: string): { crashOnStart: boolean };
  };
}

/** The node of each agent actor, for the machine's effects. */
const nodes = new WeakMap<AnyActorRef, AgentNode>();
const nodeOf = (actor: AnyActorRef) => nodes.get(actor)!;
/** The machine's effect actions, by name. */
type AgentEffect = 'load' | 'killHost' | 'requestStop' | 'reportExit' | 'reportFailed' | 'reportRunning' | 'reportUnresponsive' | 'reportShutdownKill';
const act = (name: AgentEffect) => ({ self, context }: { self: AnyActorRef; context: AgentContext }) => nodeOf(self).effect(name, context);

/**
 * The agent machine with its effects: one for every agent (each actor finds
 * its node through `self`), so building a node costs an actor, not a machine.
 */
const effects = {
  boot: fromPromise<BootOutput, BootInput>(({ input, signal }) => nodeOf(input.owner).boot(signal)),
  load: act('load'),
  killHost: act('killHost'),
  requestStop: act('requestStop'),
  reportExit: act('reportExit'),
  reportFailed: act('reportFailed'),
  reportRunning: act('reportRunning'),
  reportUnresponsive: act('reportUnresponsive'),
  reportShutdownKill: act('reportShutdownKill'),
};
const { boot, ...actions } = effects;
const wiredAgentMachine = agentMachine.provide({ actors: { boot }, actions });

export class AgentNode implements Child {
  readonly id: string;
  onExit?: (exit: ExitInfo) => void;
  private readonly lc: LifecycleActor<typeof agentMachine>;
  private host: HostHandle | undefined;
  /** What the last boot found, for the load message. */
  private booted: { modulePath: string; restored: unknown } | undefined;
  private lastState: NodeState = 'stopped';
  private inflight: string | undefined;
  private startWaiter: ((ok: boolean) => void) | undefined;
  private stopWaiters: Array<() => void> = [];
  private stderrTail: string[] = [];
  /** The agent host's inspector URL when agents run under the debugger. */
  private inspectUrl: string | undefined;
  private readonly mailbox: Mailbox;
  /** The loaded module's checkpoint version, and whether it started from a checkpoint. */
  private version = 1;
  private restored = false;
  /**
   * Handlings whose commit (checkpoint + ack, or the ack alone) found the
   * store unreachable, by commit number. They are retried in order, with
   * backoff, and no new message is handed over until all went through:
   * later states include earlier effects, so nothing is applied twice and
   * nothing acknowledged is lost.
   */
  private failedCommits = new Map<number, { input?: CheckpointInput; id: string; value: unknown }>();
  private commitSeq = 0;
  private committedSeq = 0;
  private retryTimer: unknown;
  private retryDelayMs = 200;
  /** A commit of this incarnation was refused by the cluster's fencing: it takes no more messages. */
  private fenced = false;

  constructor(readonly spec: AgentSpec, readonly supervisorId: string, private readonly env: AgentEnv) {
    this.id = spec.id;
    this.mailbox = env.mailbox(spec.id);
    const rec = env.record(spec.id);
    this.lc = new LifecycleActor(wiredAgentMachine, {
      id: spec.id,
      clock: env.clock,
      input: {
        id: spec.id,
        supervisor: supervisorId,
        starts: rec.starts,
        restarts: rec.restarts,
        lastError: rec.lastError,
        startTimeoutMs: env.startTimeoutMs ?? 30_000,
        heartbeatTimeoutMs: spec.heartbeat.timeoutMs,
        shutdownMs: spec.shutdownMs,
        watchdog: !env.debugging,
      },
      onTransition: env.transition && ((t) => env.transition!(this.id, t)),
      onIllegal: (e) => env.log('error', e.message, { agent: this.id, supervisor: supervisorId }),
    });
    nodes.set(this.lc.actor, this);
    this.lc.actor.subscribe((snap) => this.changed(snap.context, snap.value));
  }

  /** The machine's effects (see `wiredAgentMachine`). */
  effect(name: AgentEffect, ctx: AgentContext): void {
    const env = this.env;
    switch (name) {
      case 'load':
        return this.load();
      case 'killHost':
        return void this.host?.kill();
      case 'requestStop':
        return void this.host?.send({ t: 'stop' });
      case 'reportExit':
        return this.onExit?.(ctx.exit!);
      case 'reportFailed': {
        const message = ctx.lastError?.message ?? 'failed to start';
        env.log('error', `agent ${this.id} failed to start: ${message}`, { agent: this.id, supervisor: this.supervisorId, err: ctx.lastError });
        return env.down(this.id, new AgentUnavailableError(this.id, 'failed', message));
      }
      case 'reportRunning':
        return env.log('info', `agent ${this.id} running (pid ${this.host?.pid}${this.restored ? ', state restored' : ''})`, { agent: this.id, supervisor: this.supervisorId, pid: this.host?.pid });
      case 'reportUnresponsive':
        env.log('warn', `agent ${this.id} is unresponsive: no heartbeat for ${Math.round(env.clock.now() - ctx.lastHb)} ms; killing it`, { agent: this.id, supervisor: this.supervisorId, pid: this.host?.pid });
        return env.unresponsive?.(this.id);
      case 'reportShutdownKill':
        return env.log('warn', `agent ${this.id} did not stop within ${this.spec.shutdownMs} ms; killing it`, { agent: this.id, pid: this.host?.pid });
    }
  }

  private get ctx(): AgentContext {
    return this.lc.snapshot.context;
  }
  get lastError(): LastError | undefined {
    return this.ctx.lastError;
  }
  get startedAt(): number | null {
    return this.ctx.startedAt;
  }
  get state(): NodeState {
    return displayState(this.lc.snapshot.value, this.ctx.restarts);
  }
  /** The lifecycle machine's top-level state (`starting` for `starting.loading.live`), as errors name it. */
  get machineState(): string {
    return this.lc.top;
  }
  get pid(): number | null {
    return this.host?.pid ?? null;
  }
  /** The message being handled now, if any, and which delivery of it this is (a redelivery gets a new number). */
  get inflightDelivery(): { msgId: string; delivery: number } | undefined {
    return this.inflight === undefined ? undefined : { msgId: this.inflight, delivery: this.deliveryCount };
  }
  private deliveryCount = 0;
  /** Unique across nodes: a node rebuilt by its supervisor must not reuse a delivery number. */
  private static deliverySeq = 0;

  /** True while the agent is down for good until someone restarts it. */
  get unavailable(): boolean {
    const s = this.lc.top;
    return s === 'failed' || s === 'stopped' || s === 'stopping';
  }

  /** The lifecycle machine as the `machine` method shows it. */
  machine(): { definition: Record<string, unknown>; value: unknown; context: Record<string, unknown> } {
    return { definition: machineDefinition(agentMachine), value: this.lc.snapshot.value, context: { ...this.ctx } };
  }

  /** Runs after every step of the machine: the status event, the kept record, the waiters. */
  private changed(ctx: AgentContext, value: StateValue) {
    const rec = this.env.record(this.id);
    rec.starts = ctx.starts;
    rec.restarts = ctx.restarts;
    rec.lastError = ctx.lastError;
    const state = displayState(value, ctx.restarts);
    const top = this.lc.top;
    if (this.startWaiter && top !== 'starting') {
      const w = this.startWaiter;
      this.startWaiter = undefined;
      w(top === 'running');
    }
    if (this.stopWaiters.length && top !== 'stopping') for (const w of this.stopWaiters.splice(0)) w();
    if (state === this.lastState) return;
    const previous = this.lastState;
    this.lastState = state;
    this.env.emitState({
      time: new Date(this.env.clock.now()).toISOString(),
      agent: this.id,
      supervisor: this.supervisorId,
      state,
      previous,
      pid: this.pid,
      restarts: ctx.restarts,
      isolation: this.spec.isolation,
      ...(ctx.reason ? { reason: ctx.reason } : {}),
      ...(state === 'failed' && ctx.lastError ? { error: ctx.lastError } : {}),
      ...(this.inspectUrl && this.host ? { inspect: this.inspectUrl } : {}),
      // A crash or a stop ends the waits of the message in flight (its redelivery waits again): clients see them go.
      ...(this.env.waiting ? { waiting: this.env.waiting(this.id) } : {}),
    });
    if (top === 'running') this.deliver();
  }

  start(): Promise<boolean> {
    const s = this.lc.top;
    if (s === 'running') return Promise.resolve(true);
    if (s === 'starting' || s === 'stopping') return Promise.resolve(false);
    const started = new Promise<boolean>((resolve) => (this.startWaiter = resolve));
    this.send({ type: 'START' });
    return started;
  }

  private send(event: AgentEvent) {
    this.lc.send(event);
  }

  /** The `boot` actor: module, host, checkpoint. A stop while it runs aborts it and kills the host it took. */
  async boot(signal: AbortSignal): Promise<BootOutput> {
    const spec = this.spec;
    // A previous incarnation's host (killed after a failed start) is no longer this agent's.
    this.host = undefined;
    let modulePath: string;
    try {
      modulePath = await this.env.resolveModule(spec);
    } catch (e) {
      throw Object.assign(new Error((e as Error).message), { name: 'ModuleLoadError' });
    }
    const host = await this.env.pool.acquire({ isolation: spec.isolation, memoryMb: spec.memoryMb, execArgv: this.env.execArgv?.(spec) });
    const abandon = () => {
      if (this.host === host) this.host = undefined;
      host.kill();
    };
    if (signal.aborted) {
      abandon();
      throw new Error(`${this.id} was stopped while starting`);
    }
    signal.addEventListener('abort', abandon, { once: true });
    this.host = host;
    this.stderrTail = [];
    this.inspectUrl = undefined;
    host.onMessage((m) => this.fromHost(host, m));
    host.onExit((e) => this.hostExited(host, e));
    host.onOutput((stream, line) => {
      if (stream === 'stderr') {
        const inspect = /^Debugger listening on (ws:\/\/\S+)/.exec(line);
        if (inspect) this.inspectUrl = inspect[1];
        this.stderrTail.push(line);
        if (this.stderrTail.length > 8) this.stderrTail.shift();
      }
      this.env.output(this.id, stream, line);
    });
    let restored = null;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        restored = await this.env.restore(this.id);
        break;
      } catch (e) {
        // A store that does not answer is waited for: starting cold would overwrite the agent's progress.
        if (e instanceof StoreUnavailableError && !signal.aborted && this.host === host) {
          this.env.log('warn', `cannot read ${this.id}'s checkpoints: ${e.message}; waiting for the store`, { agent: this.id });
          await new Promise<void>((r) => this.env.clock.setTimeout(r, delay));
          continue;
        }
        if (e instanceof StoreUnavailableError) throw e;
        this.env.log('error', `cannot read ${this.id}'s checkpoints; starting it cold`, { agent: this.id, err: serializeError(e) });
        break;
      }
    }
    if (this.host !== host) throw new Error(`${this.id}'s host exited while starting`);
    signal.removeEventListener('abort', abandon);
    this.booted = { modulePath, restored };
    return { pid: host.pid };
  }

  /** The `load` action: the host runs the module's init() with the restored state. */
  private load() {
    const spec = this.spec;
    this.host?.send({
      t: 'load',
      agent: { id: spec.id, module: this.booted!.modulePath, supervisor: this.supervisorId, heartbeatMs: spec.heartbeat.intervalMs, options: spec.options, checkpoint: spec.checkpoint, summarize: this.env.summarize, baseDir: this.env.baseDir },
      restored: this.booted!.restored as never,
      ...(this.env.faults?.beforeStart(this.id).crashOnStart ? { crashOnStart: true } : {}),
    });
  }

  private fromHost(host: HostHandle, m: FromHost) {
    if (this.host !== host) return;
    switch (m.t) {
      case 'hb':
        this.send({ type: 'HEARTBEAT' });
        break;
      case 'ready':
        this.version = m.version;
        this.restored = m.restored;
        this.send({ type: 'READY' });
        break;
      case 'loadError':
        this.send({ type: 'LOAD_ERROR', error: m.error });
        break;
      case 'done': {
        const id = this.inflight;
        this.inflight = undefined;
        if (id === undefined) break;
        const envelope = this.mailbox.peek();
        if (m.ok) {
          // The reply goes out once the state and the message's removal are durable, in one transaction.
          const gen = ++this.commitSeq;
          const input: CheckpointInput | undefined = typeof m.json === 'string' ? { agent: this.id, version: this.version, json: m.json, kind: m.kind ?? 'full', ack: id } : undefined;
          const stored = input ? this.env.store.put(input) : this.mailbox.ack(id);
          if (input) this.env.trace?.event(id, 'checkpoint', { 'faultline.checkpoint.kind': input.kind ?? 'full', 'faultline.checkpoint.bytes': input.json?.length ?? 0 });
          if (!stored) {
            this.committedSeq = gen;
            this.env.complete(id, { ok: true, value: m.value }); // an ask with no state change: nothing to wait for
          } else {
            stored.then(
              () => {
                if (gen > this.committedSeq) this.committedSeq = gen;
                this.env.complete(id, { ok: true, value: m.value });
              },
              (e) => {
                if (e instanceof StoreUnavailableError && this.host === host) {
                  // The asker keeps waiting (up to its timeout): the commit is retried once the store answers.
                  if (this.failedCommits.size === 0) this.env.log('warn', `cannot store ${this.id}'s checkpoint: ${(e as Error).message}; holding its messages and retrying`, { agent: this.id, msgId: id });
                  this.failedCommits.set(gen, { input, id, value: m.value });
                  this.scheduleCommitRetry(host);
                  return;
                }
                if (e instanceof LeaseLostError) {
                  // Another node runs this agent now: this copy hands out nothing more and is stopped.
                  this.fenced = true;
                  this.env.log('warn', `${this.id}: ${e.message}; this copy stops taking messages`, { agent: this.id, msgId: id });
                  this.env.complete(id, { ok: false, error: e });
                  this.env.leaseLost?.(this.id);
                  return;
                }
                this.env.log('error', `cannot store ${this.id}'s checkpoint: ${(e as Error).message}`, { agent: this.id, msgId: id, err: serializeError(e) });
                this.env.complete(id, { ok: false, error: e as Error });
              },
            );
          }
        } else {
          void this.mailbox.ack(id);
          const err = new AgentHandlerError(this.id, m.error.type, m.error.message);
          this.env.complete(id, { ok: false, error: err });
          this.send({ type: 'HANDLER_ERROR', error: m.error, crash: !!m.crash });
          this.env.log('error', `agent ${this.id} threw while handling a message: ${m.error.type}: ${m.error.message}`, { agent: this.id, msgId: id, err: m.error });
        }
        if (!(m.ok === false && m.crash)) this.deliver();
        // Metrics last: the reply and the next message are on their way already.
        if (envelope && envelope.id === id) this.env.handled?.(this.id, envelope, m.ok, m.ok ? undefined : m.error.type);
        break;
      }
      case 'req': {
        const reply = (r: AskResult) => host.send(r.ok ? { t: 'res', id: m.id, ok: true, value: r.value === undefined ? null : r.value } : { t: 'res', id: m.id, ok: false, error: serializeError(r.error) });
        // An ask is the hot path between agents: its reply is sent in the turn it arrives.
        if (m.op === 'ask') this.env.ask(this.id, m.args as AskArgs, reply);
        else if (m.op === 'stream') this.stream(host, m.id, m.args);
        else this.env.handleRequest(this.id, m.op, m.args).then((value) => reply({ ok: true, value }), (error: Error) => reply({ ok: false, error }));
        break;
      }
      case 'ack':
        this.streams.get(host)?.get(m.id)?.ack();
        break;
      case 'reply':
        if (this.inflight !== undefined) this.env.replyChunk?.(this.inflight, m.delta);
        break;
      case 'log':
        this.env.log((['debug', 'info', 'warn', 'error'].includes(m.level) ? m.level : 'info') as 'info', m.msg, { ...m.fields, agent: this.id, supervisor: this.supervisorId });
        break;
    }
  }

  /** Model streams of each host in flight, by request id. */
  private readonly streams = new WeakMap<HostHandle, Map<number, ChunkWindow>>();

  /** A `stream` request: deltas go to the host through a window, then the reply (or the error, with its partial text). */
  private stream(host: HostHandle, id: number, args: unknown) {
    let open = this.streams.get(host);
    if (!open) this.streams.set(host, (open = new Map()));
    const win = new ChunkWindow((delta, model) => host.send({ t: 'chunk', id, delta, model }));
    open.set(id, win);
    const end = () => {
      win.drain();
      open.delete(id);
    };
    this.env.handleRequest(this.id, 'stream', args, (d, model) => win.push(d, model)).then(
      (value) => {
        end();
        host.send({ t: 'res', id, ok: true, value: value === undefined ? null : value });
      },
      (error: Error & { partial?: unknown; dependency?: unknown }) => {
        end();
        const e = serializeError(error);
        if (typeof error?.partial === 'string') e.data = { partial: error.partial, dependency: error.dependency };
        host.send({ t: 'res', id, ok: false, error: e });
      },
    );
  }

  private scheduleCommitRetry(host: HostHandle) {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.env.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryCommits(host);
    }, this.retryDelayMs);
  }

  /** Retries the commits that failed, oldest first; hands over the next message once all went through. */
  private async retryCommits(host: HostHandle) {
    for (const gen of [...this.failedCommits.keys()].sort((a, b) => a - b)) {
      if (this.host !== host) return;
      const c = this.failedCommits.get(gen)!;
      try {
        // A newer state already committed holds this handling's effects: only the message is left to remove.
        if (c.input && gen > this.committedSeq) await this.env.store.put(c.input);
        else await this.mailbox.ack(c.id);
      } catch {
        if (this.host !== host) return;
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
        this.scheduleCommitRetry(host);
        return;
      }
      this.failedCommits.delete(gen);
      if (gen > this.committedSeq) this.committedSeq = gen;
      this.env.complete(c.id, { ok: true, value: c.value });
    }
    this.retryDelayMs = 200;
    this.env.log('info', `stored ${this.id}'s held checkpoints; handing over its next messages`, { agent: this.id });
    this.deliver();
  }

  /** Hands the next message to the agent when it is running and idle. */
  deliver() {
    if (this.inflight !== undefined || !this.host || this.lc.top !== 'running' || this.failedCommits.size > 0 || this.fenced || this.env.holdDeliveries?.()) return;
    const e = this.mailbox.peek();
    if (!e) return;
    this.inflight = e.id;
    this.deliveryCount = ++AgentNode.deliverySeq;
    const host = this.host;
    const fault = this.env.faults?.beforeDeliver(this.id);
    this.env.trace?.begin({ agent: this.id, envelopeId: e.id, kind: e.kind, from: e.from, traceparent: e.traceparent, delivery: e.deliveries + 1, fault });
    if (fault?.delayMs) this.env.clock.setTimeout(() => this.handOver(host, e, fault.crash), fault.delayMs);
    else this.handOver(host, e, fault?.crash ?? false);
  }

  private handOver(host: HostHandle, e: Envelope, crash: boolean) {
    if (this.host !== host || this.inflight !== e.id) return;
    const m: Extract<ToHost, { t: 'msg' }> = { t: 'msg', id: 0, kind: e.kind, message: e.message, from: e.from };
    if (crash) m.fault = 'crash';
    if (e.kind === 'ask' && this.env.streamsReply?.(e.id)) m.stream = true;
    if (!host.send(m)) this.inflight = undefined;
    this.mailbox.delivering(e.id);
  }

  /** Faults acting inside the host. */
  hostFault(fault: 'hang' | 'unhang' | 'memory', params?: Record<string, unknown>): boolean {
    return this.host?.send({ t: 'fault', fault, params }) ?? false;
  }

  /** Drops a queued message that nobody waits for any more. */
  cancel(envelopeId: string) {
    if (this.inflight !== envelopeId) void this.mailbox.ack(envelopeId);
  }

  private hostExited(host: HostHandle, e: HostExit) {
    if (this.host !== host) return;
    this.host = undefined;
    this.fenced = false;
    // The next incarnation restores the last durable state; the held messages are still in the inbox and go to it.
    this.failedCommits.clear();
    if (this.retryTimer !== undefined) this.env.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDelayMs = 200;
    const inflight = this.inflight;
    this.inflight = undefined;
    if (inflight !== undefined) this.env.trace?.crashed(inflight, e.signal ? `killed by ${e.signal}` : e.error ? `${e.error.name}: ${e.error.message}` : `exited with code ${e.code}`);
    if (inflight !== undefined) {
      const env = this.mailbox.peek();
      if (env && env.id === inflight && env.deliveries >= this.env.maxDeliveries) {
        void this.mailbox.ack(inflight);
        this.env.complete(inflight, { ok: false, error: new MessageDeadLetteredError(this.id, env.deliveries) });
        this.env.log('error', `agent ${this.id} crashed ${env.deliveries} times on message ${inflight}; dead-lettered`, { agent: this.id, msgId: inflight });
      }
    }
    const tail = this.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ');
    const before = this.lc.top;
    this.send({ type: 'EXIT', code: e.code, signal: e.signal, ...(e.error ? { error: { name: e.error.name, message: e.error.message } } : {}), tail });
    const exit = this.ctx.exit;
    if ((before === 'starting' || before === 'running') && exit && !exit.normal) {
      this.env.log('warn', `agent ${this.id} went down: ${exit.reason}`, { agent: this.id, supervisor: this.supervisorId, pid: host.pid, code: e.code, signal: e.signal });
    }
  }

  markRestarting(delayMs: number) {
    this.send({ type: 'RESTART', delayMs });
  }

  markDown(normal: boolean, reason: string) {
    this.env.down(this.id, new AgentUnavailableError(this.id, normal ? 'stopped' : 'failed', reason));
    if (this.host) void this.stop(reason);
    else this.send({ type: 'GIVE_UP', normal, reason });
  }

  stop(reason: string): Promise<void> {
    if (!this.host) {
      this.send({ type: 'STOP', reason });
      return Promise.resolve();
    }
    const stopped = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.send({ type: 'STOP', reason });
    if (this.lc.top !== 'stopping') for (const w of this.stopWaiters.splice(0)) w();
    return stopped;
  }

  /** Fault injection: SIGKILL the process, or terminate the thread. */
  kill(): boolean {
    if (!this.host) return false;
    this.host.kill();
    return true;
  }

  status(): AgentStatus {
    const ctx = this.ctx;
    const running = this.lc.top === 'running';
    return {
      id: this.id,
      kind: 'agent',
      state: this.state,
      pid: this.pid,
      ...(this.spec.isolation === 'thread' && this.host?.threadId !== undefined ? { threadId: this.host.threadId } : {}),
      restarts: ctx.restarts,
      isolation: this.spec.isolation,
      restart: this.spec.restart,
      module: this.spec.moduleRef,
      mailbox: Math.max(0, this.mailbox.size - (this.inflight ? 1 : 0)),
      liveness: running && this.env.clock.now() - ctx.lastHb <= this.spec.heartbeat.timeoutMs,
      readiness: running,
      startedAt: running && ctx.startedAt !== null ? new Date(ctx.startedAt).toISOString() : null,
      ...(this.inspectUrl && this.host ? { inspect: this.inspectUrl } : {}),
      ...(ctx.lastError ? { lastError: ctx.lastError } : {}),
      waiting: this.env.waiting?.(this.id) ?? [],
    };
  }

  /** Stops the machine's actor: its timers are cancelled (the node is being replaced or the runtime is done). */
  dispose() {
    this.lc.stop();
  }
}

