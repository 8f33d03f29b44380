/**
 * One agent under a supervisor: the effects of its lifecycle. It takes a host
 * from the pool, loads the module with the restored state, watches the
 * heartbeat, feeds the mailbox one message at a time, and reports exits to
 * its supervisor, which decides what happens next.
 */
import type { Actor } from 'xstate';
import type { AgentSpec } from '../config/load.ts';
import type { AgentStatus, LastError, NodeState } from '../protocol/status.ts';
import type { AgentStateEvent } from '../protocol/events.ts';
import type { FromHost, HostOp, ToHost } from '../isolation/hostProtocol.ts';
import type { HostExit, HostHandle } from '../isolation/HostHandle.ts';
import type { HostPool } from '../isolation/HostPool.ts';
import type { Envelope, Mailbox } from '../messaging/Mailbox.ts';
import type { AskResult } from '../messaging/Router.ts';
import type { CheckpointStore } from '../state/CheckpointStore.ts';
import { AgentHandlerError, AgentUnavailableError, MessageDeadLetteredError, serializeError, type SerializedError } from '../errors.ts';
import { agentMachine, displayState, startMachine, type Clock } from './machines.ts';
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
  handleRequest(agent: string, op: HostOp, args: unknown): Promise<unknown>;
  /** ctx.ask, with a callback: called once with the reply or the error. */
  ask(agent: string, args: AskArgs, settle: (r: AskResult) => void): void;
  /** A message finished: reply or error for its asker. */
  complete(envelopeId: string, result: AskResult): void;
  /** A message was handled (for metrics): its envelope and outcome. */
  handled?(agent: string, envelope: Envelope, ok: boolean, errorType?: string): void;
  /** Heartbeats stopped: the agent is about to be killed. */
  unresponsive?(agent: string): void;
  emitState(e: AgentStateEvent): void;
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

export class AgentNode implements Child {
  readonly id: string;
  onExit?: (exit: ExitInfo) => void;
  startedAt: number | null = null;
  private host: HostHandle | undefined;
  private actor: Actor<typeof agentMachine>;
  private lastState: NodeState = 'stopped';
  private hbTimer: NodeJS.Timeout | undefined;
  private lastHb = 0;
  private killedFor: string | undefined;
  private inflight: string | undefined;
  private startWaiter: ((ok: boolean) => void) | undefined;
  private stopWaiter: (() => void) | undefined;
  private stderrTail: string[] = [];
  /** The agent host's inspector URL when agents run under the debugger. */
  private inspectUrl: string | undefined;
  private reason: string | undefined;
  /** The handler error that made the host exit, for a clearer exit reason. */
  private crashCause: string | undefined;
  private readonly mailbox: Mailbox;
  /** The loaded module's checkpoint version. */
  private version = 1;

  constructor(readonly spec: AgentSpec, readonly supervisorId: string, private readonly env: AgentEnv) {
    this.id = spec.id;
    this.mailbox = env.mailbox(spec.id);
    this.actor = startMachine(agentMachine, env.clock);
    this.actor.subscribe((snap) => this.stateChanged(String(snap.value)));
  }

  private get rec(): AgentRecord {
    return this.env.record(this.id);
  }
  get lastError(): LastError | undefined {
    return this.rec.lastError;
  }
  get state(): NodeState {
    return displayState(String(this.actor.getSnapshot().value), this.rec.restarts);
  }
  get machineState(): string {
    return String(this.actor.getSnapshot().value);
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
    const s = this.machineState;
    return s === 'failed' || s === 'stopped' || s === 'stopping';
  }

  private stateChanged(value: string) {
    const state = displayState(value, this.rec.restarts);
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
      restarts: this.rec.restarts,
      isolation: this.spec.isolation,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(state === 'failed' && this.rec.lastError ? { error: this.rec.lastError } : {}),
      ...(this.inspectUrl && this.host ? { inspect: this.inspectUrl } : {}),
    });
  }

  private setError(type: string, message: string) {
    this.rec.lastError = { type, message, time: new Date(this.env.clock.now()).toISOString() };
  }

  start(): Promise<boolean> {
    const s = this.machineState;
    if (s === 'running') return Promise.resolve(true);
    if (s === 'starting' || s === 'stopping') return Promise.resolve(false);
    const rec = this.rec;
    if (rec.starts++ > 0) rec.restarts++;
    this.reason = rec.starts > 1 ? 'restart' : undefined;
    this.actor.send({ type: 'START' });
    return new Promise<boolean>((resolve) => {
      this.startWaiter = resolve;
      void this.boot().catch((e) => this.loadFailed(serializeError(e)));
    });
  }

  private async boot() {
    const spec = this.spec;
    let modulePath: string;
    try {
      modulePath = await this.env.resolveModule(spec);
    } catch (e) {
      return this.loadFailed({ type: 'ModuleLoadError', message: (e as Error).message });
    }
    const host = await this.env.pool.acquire({ isolation: spec.isolation, memoryMb: spec.memoryMb, execArgv: this.env.execArgv?.(spec) });
    if (this.machineState !== 'starting') return host.kill();
    this.host = host;
    this.killedFor = undefined;
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
    try {
      restored = await this.env.restore(this.id);
    } catch (e) {
      this.env.log('error', `cannot read ${this.id}'s checkpoints; starting it cold`, { agent: this.id, err: serializeError(e) });
    }
    if (this.host !== host) return;
    this.lastHb = Date.now();
    this.watchHeartbeat(host);
    host.send({
      t: 'load',
      agent: { id: spec.id, module: modulePath, supervisor: this.supervisorId, heartbeatMs: spec.heartbeat.intervalMs, options: spec.options, checkpoint: spec.checkpoint, summarize: this.env.summarize, baseDir: this.env.baseDir },
      restored,
      ...(this.env.faults?.beforeStart(this.id).crashOnStart ? { crashOnStart: true } : {}),
    });
    const timeout = this.env.startTimeoutMs ?? 30_000;
    if (this.env.debugging) return;
    const t = setTimeout(() => {
      if (this.host === host && this.machineState === 'starting') {
        this.loadFailed({ type: 'StartTimeout', message: `${this.id} did not become ready within ${timeout} ms (a slow or stuck init() or top-level await)` });
      }
    }, timeout);
    t.unref();
  }

  private loadFailed(error: SerializedError) {
    const host = this.host;
    this.setError(error.type === 'Error' ? 'ModuleLoadError' : error.type, error.message);
    this.env.log('error', `agent ${this.id} failed to start: ${error.message}`, { agent: this.id, supervisor: this.supervisorId, err: error });
    this.reason = 'load failed';
    this.actor.send({ type: 'FAIL' });
    if (host) {
      this.killedFor = 'load failed';
      host.kill();
    }
    this.env.down(this.id, new AgentUnavailableError(this.id, 'failed', error.message));
    this.resolveStart(false);
  }

  private resolveStart(ok: boolean) {
    const w = this.startWaiter;
    this.startWaiter = undefined;
    w?.(ok);
  }

  private watchHeartbeat(host: HostHandle) {
    clearInterval(this.hbTimer);
    if (this.env.debugging) return;
    const { intervalMs, timeoutMs } = this.spec.heartbeat;
    this.hbTimer = setInterval(() => {
      if (this.host !== host || host.exited) return clearInterval(this.hbTimer);
      const silent = Date.now() - this.lastHb;
      if (silent > timeoutMs) {
        clearInterval(this.hbTimer);
        this.killedFor = `unresponsive (no heartbeat for ${silent} ms)`;
        this.env.log('warn', `agent ${this.id} is unresponsive: no heartbeat for ${silent} ms; killing it`, { agent: this.id, supervisor: this.supervisorId, pid: host.pid });
        this.env.unresponsive?.(this.id);
        host.kill();
      }
    }, Math.min(intervalMs, 1000));
    this.hbTimer.unref();
  }

  private fromHost(host: HostHandle, m: FromHost) {
    if (this.host !== host) return;
    switch (m.t) {
      case 'hb':
        this.lastHb = Date.now();
        break;
      case 'ready':
        this.version = m.version;
        this.lastHb = Date.now();
        this.startedAt = this.env.clock.now();
        this.actor.send({ type: 'READY' });
        this.env.log('info', `agent ${this.id} running (pid ${host.pid}${m.restored ? ', state restored' : ''})`, { agent: this.id, supervisor: this.supervisorId, pid: host.pid });
        this.resolveStart(true);
        this.deliver();
        break;
      case 'loadError':
        this.loadFailed(m.error);
        break;
      case 'done': {
        const id = this.inflight;
        this.inflight = undefined;
        if (id === undefined) break;
        const envelope = this.mailbox.peek();
        if (m.ok) {
          // The reply goes out once the state and the message's removal are durable, in one transaction.
          const stored = m.state !== undefined ? this.env.store.put({ agent: this.id, version: this.version, state: m.state, kind: m.kind ?? 'full', ack: id }) : this.mailbox.ack(id);
          if (!stored) this.env.complete(id, { ok: true, value: m.value }); // an ask with no state change: nothing to wait for
          else {
            stored.then(
              () => this.env.complete(id, { ok: true, value: m.value }),
              (e) => {
                this.env.log('error', `cannot store ${this.id}'s checkpoint: ${(e as Error).message}`, { agent: this.id, msgId: id, err: serializeError(e) });
                this.env.complete(id, { ok: false, error: e as Error });
              },
            );
          }
        } else {
          void this.mailbox.ack(id);
          const err = new AgentHandlerError(this.id, m.error.type, m.error.message);
          this.env.complete(id, { ok: false, error: err });
          this.setError(m.error.type, m.error.message);
          if (m.crash) this.crashCause = `handler threw ${m.error.type}: ${m.error.message}`;
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
        else this.env.handleRequest(this.id, m.op, m.args).then((value) => reply({ ok: true, value }), (error: Error) => reply({ ok: false, error }));
        break;
      }
      case 'log':
        this.env.log((['debug', 'info', 'warn', 'error'].includes(m.level) ? m.level : 'info') as 'info', m.msg, { ...m.fields, agent: this.id, supervisor: this.supervisorId });
        break;
    }
  }

  /** Hands the next message to the agent when it is running and idle. */
  deliver() {
    if (this.inflight !== undefined || this.machineState !== 'running' || !this.host) return;
    const e = this.mailbox.peek();
    if (!e) return;
    this.inflight = e.id;
    this.deliveryCount = ++AgentNode.deliverySeq;
    const host = this.host;
    const fault = this.env.faults?.beforeDeliver(this.id);
    if (fault?.delayMs) setTimeout(() => this.handOver(host, e, fault.crash), fault.delayMs).unref();
    else this.handOver(host, e, fault?.crash ?? false);
  }

  private handOver(host: HostHandle, e: Envelope, crash: boolean) {
    if (this.host !== host || this.inflight !== e.id) return;
    const m: Extract<ToHost, { t: 'msg' }> = { t: 'msg', id: 0, kind: e.kind, message: e.message, from: e.from };
    if (crash) m.fault = 'crash';
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
    clearInterval(this.hbTimer);
    this.host = undefined;
    const inflight = this.inflight;
    this.inflight = undefined;
    const normal = e.code === 0 && !e.signal && !this.killedFor && !this.crashCause;
    const reason = this.killedFor ?? (this.crashCause ? `crashed (${this.crashCause})` : describeExit(e));
    this.crashCause = undefined;
    if (inflight !== undefined) {
      const env = this.mailbox.peek();
      if (env && env.id === inflight && env.deliveries >= this.env.maxDeliveries) {
        void this.mailbox.ack(inflight);
        this.env.complete(inflight, { ok: false, error: new MessageDeadLetteredError(this.id, env.deliveries) });
        this.env.log('error', `agent ${this.id} crashed ${env.deliveries} times on message ${inflight}; dead-lettered`, { agent: this.id, msgId: inflight });
      }
    }
    const s = this.machineState;
    if (this.stopWaiter) {
      this.reason = 'stopped';
      this.actor.send({ type: 'STOPPED' });
      const w = this.stopWaiter;
      this.stopWaiter = undefined;
      w();
      return;
    }
    if (s === 'failed') return; // load failure or start timeout: already reported
    if (!normal) {
      const tail = this.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ');
      this.setError(e.error?.name ?? (this.killedFor ? 'Unresponsive' : 'AgentCrash'), `${reason}${e.error ? `: ${e.error.message}` : tail && !reason.includes('handler threw') ? `: ${tail}` : ''}`);
      this.env.log('warn', `agent ${this.id} went down: ${reason}`, { agent: this.id, supervisor: this.supervisorId, pid: host.pid, code: e.code, signal: e.signal });
    }
    this.reason = reason;
    this.actor.send({ type: 'EXIT' });
    this.resolveStart(false);
    this.onExit?.({ normal, reason });
  }

  markRestarting(delayMs: number) {
    this.startedAt = null;
    this.reason = delayMs > 0 ? `backoff ${delayMs} ms` : 'restart';
    this.actor.send({ type: 'RESTART', delayMs });
  }

  markDown(normal: boolean, reason: string) {
    this.startedAt = null;
    this.reason = reason;
    this.env.down(this.id, new AgentUnavailableError(this.id, normal ? 'stopped' : 'failed', reason));
    if (this.machineState === 'exited') this.actor.send({ type: 'GIVE_UP', normal });
    else if (this.host) void this.stop(reason);
    else this.actor.send({ type: 'STOP' });
  }

  stop(reason: string): Promise<void> {
    const host = this.host;
    this.reason = reason;
    this.startedAt = null;
    if (!host) {
      this.actor.send({ type: 'STOP' });
      return Promise.resolve();
    }
    if (this.stopWaiter) return new Promise((r) => { const prev = this.stopWaiter!; this.stopWaiter = () => { prev(); r(); }; });
    this.resolveStart(false);
    this.actor.send({ type: 'STOP' });
    return new Promise<void>((resolve) => {
      this.stopWaiter = resolve;
      host.send({ t: 'stop' });
      const t = setTimeout(() => {
        this.env.log('warn', `agent ${this.id} did not stop within ${this.spec.shutdownMs} ms; killing it`, { agent: this.id, pid: host.pid });
        host.kill();
      }, this.spec.shutdownMs);
      t.unref();
      host.onExit(() => clearTimeout(t));
    });
  }

  /** Fault injection: SIGKILL the process, or terminate the thread. */
  kill(): boolean {
    if (!this.host) return false;
    this.host.kill();
    return true;
  }

  status(): AgentStatus {
    const rec = this.rec;
    const running = this.machineState === 'running';
    return {
      id: this.id,
      kind: 'agent',
      state: this.state,
      pid: this.pid,
      ...(this.spec.isolation === 'thread' && this.host?.threadId !== undefined ? { threadId: this.host.threadId } : {}),
      restarts: rec.restarts,
      isolation: this.spec.isolation,
      restart: this.spec.restart,
      module: this.spec.moduleRef,
      mailbox: Math.max(0, this.mailbox.size - (this.inflight ? 1 : 0)),
      liveness: running && Date.now() - this.lastHb <= this.spec.heartbeat.timeoutMs,
      readiness: running,
      startedAt: running && this.startedAt !== null ? new Date(this.startedAt).toISOString() : null,
      ...(this.inspectUrl && this.host ? { inspect: this.inspectUrl } : {}),
      ...(rec.lastError ? { lastError: rec.lastError } : {}),
    };
  }
}

function describeExit(e: HostExit): string {
  if (e.error) return `crashed (${e.error.name}: ${e.error.message})`;
  if (e.signal) return `killed (${e.signal})`;
  if (e.code === 0) return 'exited normally';
  if (e.code === 134) return 'crashed (out of memory or abort, exit code 134)';
  return `crashed (exit code ${e.code})`;
}
