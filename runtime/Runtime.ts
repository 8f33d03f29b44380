/**
 * The runtime: one supervision tree of agents, the mailboxes and router
 * between them, the host pool they run in, and the control channel that the
 * CLI and the extension drive it through.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentSpec, ResolvedConfig, SupervisorSpec } from './config/load.ts';
import { agentSpecs } from './config/load.ts';
import { AgentNode, type AgentEnv, type AgentRecord } from './supervision/AgentNode.ts';
import { Supervisor } from './supervision/Supervisor.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Transition } from './supervision/machines.ts';
import { HostPool } from './isolation/HostPool.ts';
import { hostScript, runtimeVersion } from './isolation/paths.ts';
import { createModuleResolver } from './isolation/moduleResolver.ts';
import type { HostOp, HostOpHandler, HostOpHandlers } from './isolation/hostProtocol.ts';
import { Router } from './messaging/Router.ts';
import type { Mailbox, MailboxFactory } from './messaging/Mailbox.ts';
import type { CheckpointStore, FallbackEvent } from './state/CheckpointStore.ts';
import { openCheckpointStore } from './state/openStore.ts';
import { storeStatus } from './state/storeStatus.ts';
import { stateFaults } from './faults/stateFaults.ts';
import { ControlServer, type Session } from './control/ControlServer.ts';
import { newToken } from './control/auth.ts';
import { writeRuntimeFile, removeRuntimeFile } from './control/runtimeFileIO.ts';
import { clientHost } from './protocol/runtimeFile.ts';
import { RpcError, RpcErrorCode } from './protocol/rpc.ts';
import type { MethodName, MethodParams } from './protocol/schema/methods.ts';
import { MethodTable } from './control/MethodTable.ts';
import type { EventName, EventPayloads } from './protocol/events.ts';
import type { AskChunk } from './protocol/schema/events.ts';
import type { RuntimeStatus } from './protocol/status.ts';
import type { MachineResult } from './protocol/machine.ts';
import type { Logger } from 'pino';
import { Observability } from './observability/Observability.ts';
import { wireDependencies, type DependencyWiring } from './wiring/dependencies.ts';
import { Waits } from './waits/Waits.ts';
import { waitStateEvent } from './waits/events.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from './state/errors.ts';
import { AgentMovedError, AgentUnavailableError, ClusterSecretError, NativeModuleError, UnknownAgentError } from './errors.ts';
import { FaultCatalogue } from './faults/FaultCatalogue.ts';
import { registerDrillMethods } from './drills/controlMethods.ts';
import { registerHistoryMethods } from './history/timeTravel.ts';
import { ClusterNode } from './cluster/ClusterNode.ts';
import { nodeFaults } from './faults/nodeFaults.ts';
import { Telemetry, telemetrySettings } from './observability/telemetry.ts';
import { globMatch } from './faults/seededRandom.ts';
import { AGENT_FAULTS, DEPENDENCY_FAULTS, type ActiveFault, type FaultSpec } from './protocol/faults.ts';
import { PostgresCheckpointStore } from './state/PostgresCheckpointStore.ts';
import type { MirrorInboxes } from './state/MirrorInbox.ts';
import os from 'node:os';

export interface RuntimeOptions {
  config: ResolvedConfig;
  /** State dir; default `.faultline` beside the config. */
  stateDir?: string;
  /** Overrides the config's port. */
  port?: number;
  /** Overrides the config's listening address (`runtime.host`). */
  host?: string;
  clock?: Clock;
  store?: CheckpointStore;
  mailboxes?: MailboxFactory;
  /** Write runtime.json (default true). */
  writeRuntimeFile?: boolean;
  /** Metrics, alerts and the reliability summary (default on; off for the instrumentation benchmark). */
  instrumentation?: boolean;
  /** Node flags per agent (the inspector when debugging). */
  execArgv?: (spec: AgentSpec) => string[] | undefined;
  /** Agents run under the debugger: no heartbeat or start timeouts (a breakpoint is not a hang). */
  debugging?: boolean;
  /**
   * A cluster node (the config has `cluster`): its id (default: host name and
   * pid), the cluster's secret (default FAULTLINE_CLUSTER_TOKEN) and the URL
   * other nodes reach it at (default: its own).
   */
  cluster?: { node?: string; secret?: string; advertise?: string };
}

/** Emitted when the runtime has stopped; `code` is the exit code the process should use. */
export interface RuntimeStopped { code: number; reason: string }

/** How often a supervisor's restart window is written, at most. */
const HISTORY_SAVE_MS = 100;
/** How long a `ctx.checkpoint()` waits for an unavailable store before it fails. */
const STORE_WAIT_MS = 30_000;

export class Runtime {
  readonly config: ResolvedConfig;
  readonly stateDir: string;
  readonly token = newToken();
  readonly version = runtimeVersion();
  readonly events = new EventEmitter();
  readonly startedAt = Date.now();
  readonly root: Supervisor;
  readonly router: Router;
  /** JSON lines to `<stateDir>/logs/runtime.log` (rotated), also sent as `log` events; opened by `start()`. */
  log!: Logger;
  readonly obs: Observability;
  deps!: DependencyWiring;
  /** Durable waits (`ctx.waitFor`) and signals; built with the dependency wiring. */
  waits: Waits | undefined;
  /** Checkpoints and inboxes; opened by `start()`. */
  store!: CheckpointStore;
  readonly faults: FaultCatalogue;
  private readonly pool: HostPool;
  private readonly agents = new Map<string, AgentNode>();
  private readonly records = new Map<string, AgentRecord>();
  private readonly mailboxes = new Map<string, Mailbox>();
  private mailboxFactory!: MailboxFactory;
  private control: ControlServer | undefined;
  private stopping: Promise<RuntimeStopped> | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  /** Extra request handlers (`ctx` ops and control methods) registered by other parts. */
  readonly hostOps: HostOpHandlers = new Map<HostOp, HostOpHandler<HostOp>>();
  /** Every control method this runtime answers, typed by the protocol's schemas. */
  readonly methods = new MethodTable();
  /** Every agent id of the tree, in start order. */
  readonly agentIds: string[];
  readonly done: Promise<RuntimeStopped>;
  private resolveDone!: (s: RuntimeStopped) => void;
  /** OpenTelemetry (off unless the config or the OTEL_* variables turn it on). */
  telemetry: Telemetry = Telemetry.off;
  /** This runtime as a node of a cluster, when the config has `cluster`. */
  readonly cluster: ClusterNode | undefined;
  private readonly clusterSecret: string | undefined;

  constructor(private readonly o: RuntimeOptions) {
    this.config = o.config;
    this.agentIds = agentSpecs(o.config.supervisor).map((a) => a.id);
    this.stateDir = o.stateDir ?? path.join(o.config.baseDir, '.faultline');
    this.done = new Promise((r) => (this.resolveDone = r));
    this.obs = new Observability({
      system: o.config.name,
      alerts: o.config.alerts,
      dependencies: o.config.dependencies,
      enabled: o.instrumentation !== false,
    });
    const ck = o.config.checkpoints;
    const clock = o.clock ?? systemClock;
    this.pool = new HostPool({
      script: hostScript(),
      spares: o.config.runtime.spares,
      stormSpares: o.config.runtime.stormSpares,
      maxConcurrentStarts: o.config.runtime.maxConcurrentStarts,
      onSpareOutput: (stream, line) => this.obs.log!.agentOutputLine('(spare)', stream, line),
    });
    if (o.config.cluster) {
      const units = o.config.supervisor.children.map((c) => c.id);
      const unitOf = new Map<string, string>();
      const agentsOf = new Map<string, string[]>();
      for (const c of o.config.supervisor.children) {
        const ids = c.kind === 'agent' ? [c.id] : agentSpecs(c).map((a) => a.id);
        agentsOf.set(c.id, ids);
        // Every agent and supervisor of the subtree, and the child itself.
        for (const a of [...ids, ...(c.kind === 'supervisor' ? supervisorIds(c) : [c.id])]) unitOf.set(a, c.id);
      }
      const node = o.cluster?.node ?? `${os.hostname()}-${process.pid}`;
      this.clusterSecret = o.cluster?.secret ?? process.env.FAULTLINE_CLUSTER_TOKEN;
      this.cluster = new ClusterNode({
        node,
        secret: this.clusterSecret ?? '',
        leaseMs: o.config.cluster.leaseMs,
        units,
        unitOf,
        agentsOf,
        start: async (ids) => {
          await this.reloadWindows(ids);
          await this.root.startChildren(ids);
        },
        stop: async (unit) => {
          await this.root.stopChild(unit);
          const boxes = this.store.inboxes() as MirrorInboxes;
          for (const a of agentsOf.get(unit) ?? []) {
            this.router.moved(a, new AgentMovedError(a, node));
            boxes.open(a).replace([], false);
          }
        },
        askHere: (to, message, opts, settle) => this.router.askThen(to, message, opts, settle),
        deliver: (ids) => {
          for (const id of ids) this.agents.get(id)?.deliver();
        },
        log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      });
    }
    const cluster = this.cluster;
    this.router = new Router({
      agent: (id) => this.agents.get(id),
      agentIds: () => this.agentIds,
      mailbox: (id) => this.mailbox(id),
      defaultTimeoutMs: o.config.runtime.askTimeoutMs,
      ...(cluster
        ? {
            remote: {
              local: (id) => cluster.local(id),
              send: (to, e) => cluster.send(to, e),
              ask: (to, message, opts, settle) => cluster.ask(to, message, opts, settle),
              moved: (id) => new AgentMovedError(id, cluster.node),
            },
          }
        : {}),
    });
    this.faults = new FaultCatalogue(
      {
        agentIds: () => this.agentIds,
        kill: (id) => this.agents.get(id)?.kill() ?? false,
        hostFault: (id, fault, params) => this.agents.get(id)?.hostFault(fault, params) ?? false,
      },
      (e) => {
        this.log[e.action === 'injected' ? 'warn' : 'info']({ fault: e.fault.fault, target: e.fault.target, faultId: e.fault.id }, `fault ${e.fault.id} ${e.fault.fault} on ${e.fault.target}: ${e.action}`);
        this.emit('fault', e);
        if (e.action === 'injected') this.obs.faultInjected(e.fault.fault);
        this.obs.activeFaults(this.faults.list().map((f) => f.fault));
      },
      this.cluster ? `${this.cluster.node}:` : '',
    );
    const resolveModule = createModuleResolver(this.stateDir);
    const runtime = this;
    const env: AgentEnv = {
      clock,
      pool: this.pool,
      mailbox: (id) => this.mailbox(id),
      record: (id) => {
        let r = this.records.get(id);
        if (!r) this.records.set(id, (r = { restarts: 0, starts: 0 }));
        return r;
      },
      get store() {
        return runtime.store;
      },
      restore: (agent) => this.restore(agent),
      summarize: ck.summarize,
      maxDeliveries: o.config.runtime.maxDeliveries,
      resolveModule,
      handleRequest: (agent, op, args, chunk) => this.hostRequest(agent, op, args, chunk),
      ask: (agent, args, settle) => this.router.askThen(args.agent, args.message, { timeoutMs: args.timeoutMs, from: agent, traceparent: this.telemetry.traceparentOf(agent) }, settle),
      streamsReply: (id) => this.router.streams(id),
      replyChunk: (id, delta) => this.router.chunk(id, delta),
      complete: (id, result) => {
        this.telemetry.endMessage(id, result.ok, result.ok ? undefined : result.error);
        this.router.complete(id, result);
      },
      trace: {
        begin: (m) => this.telemetry.beginMessage(m),
        crashed: (id, reason) => this.telemetry.crashed(id, reason),
        event: (id, name, attributes) => this.telemetry.messageEvent(id, name, attributes),
      },
      handled: (agent, e, ok, errorType) => {
        const m = e.message as { type?: unknown; op?: unknown } | null;
        const task = typeof m?.type === 'string' ? m.type : typeof m?.op === 'string' ? m.op : e.kind;
        this.obs.messageHandled({ agent, task, latencyMs: Date.now() - e.at, ok, errorCategory: errorType, targetMs: e.timeoutMs });
      },
      unresponsive: (agent) => this.obs.agentUnresponsive(agent, true),
      emitState: (e) => this.emit('agent.state', e),
      waiting: (agent) => this.waits?.waiting(agent) ?? [],
      transition: (agent, t) => this.machineTransition(agent, 'agent', t),
      down: (agent, error) => this.router.failAgent(agent, error),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      output: (agent, stream, line) => this.obs.log!.agentOutputLine(agent, stream, line),
      execArgv: o.execArgv,
      debugging: o.debugging,
      baseDir: o.config.baseDir,
      faults: this.faults,
      ...(cluster
        ? {
            holdDeliveries: () => cluster.holdDeliveries(),
            leaseLost: () => void cluster.keeper?.tick(),
          }
        : {}),
    };
    this.root = new Supervisor(o.config.supervisor, {
      clock,
      agentFactory: (spec, parent) => {
        const node = new AgentNode(spec as AgentSpec, parent.id, env);
        this.agents.set(spec.id, node);
        return node;
      },
      emitState: (e) => this.emit('supervisor.state', e),
      transition: (supervisor, t) => this.machineTransition(supervisor, 'supervisor', t),
      onRestart: (child, supervisor) => this.obs.restart(child, supervisor),
      onHistory: (supervisor) => this.saveHistory(supervisor),
      initialHistory: (supervisor) => this.keptWindows.get(supervisor),
      // The root's window is the cluster's: each node keeps its own restarts, and counts the others' too.
      ...(cluster ? { sharedHistory: (supervisor: string) => (supervisor === o.config.supervisor.id ? this.othersWindows() : undefined) } : {}),
      onEscalate: (supervisor) => this.obs.escalation(supervisor),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      // A cluster node starts only the children of the root it holds the leases of.
      ...(cluster ? { mayStart: (supervisor: string, child: string) => supervisor !== o.config.supervisor.id || cluster.holds(child) } : {}),
    });
    this.root.onExit = (exit) => {
      const msg = `Faultline: the root supervisor "${this.root.id}" failed (${exit.reason}: ${this.root.lastError?.message ?? ''}); shutting the runtime down`;
      this.log.fatal({ supervisor: this.root.id }, msg);
      void this.stop({ code: 1, reason: msg });
    };
    this.registerMethods();
    registerDrillMethods(this);
    registerHistoryMethods(this);
  }

  /**
   * Restart windows the previous run kept, read at start and handed to each
   * supervisor's first start. The window itself lives in the supervisor's
   * machine (`Supervisor.restartWindow`); this is only what was stored.
   */
  private readonly keptWindows = new Map<string, number[]>();
  /** Supervisors whose window changed since it was last written. */
  private readonly unsavedWindows = new Set<Supervisor>();
  private historyTimer: NodeJS.Timeout | undefined;

  /**
   * Keeps a supervisor's restart window across runtime restarts. Written at
   * most every HISTORY_SAVE_MS, the latest window only: in a restart storm a
   * write per restart would sit on the path of every restart.
   */
  private saveHistory(supervisor: Supervisor) {
    this.unsavedWindows.add(supervisor);
    this.historyTimer ??= setTimeout(() => this.flushHistory(), HISTORY_SAVE_MS);
  }

  /**
   * Where a supervisor's restart window is kept. In a cluster the root's
   * children run on several nodes: each node keeps the restarts it made
   * under the root under a key of its own (the others read them all);
   * a subtree's window goes with the subtree.
   */
  private windowKey(supervisor: string): string {
    return this.cluster && supervisor === this.config.supervisor.id ? `supervisor:${supervisor}@${this.cluster.node}` : `supervisor:${supervisor}`;
  }

  private othersSeen: number[] = [];
  /** The restarts the other nodes made under the root, as the store has them (the last read when it does not answer within a second). */
  private async othersWindows(): Promise<number[]> {
    const store = this.store;
    if (!(store instanceof PostgresCheckpointStore)) return [];
    const prefix = `supervisor:${this.config.supervisor.id}@`;
    const read = store.metaWithPrefix<number[]>(prefix).then((m) => {
      const all: number[] = [];
      for (const [k, v] of m) if (k !== this.windowKey(this.config.supervisor.id) && Array.isArray(v)) all.push(...v.filter((t) => typeof t === 'number'));
      return (this.othersSeen = all);
    });
    read.catch(() => undefined);
    return Promise.race([read, sleep(1000, undefined, { ref: false }).then(() => this.othersSeen)]).catch(() => this.othersSeen);
  }

  /** Reads again the windows of the supervisors of subtrees this node takes over (another node restarted their children meanwhile). */
  private async reloadWindows(units: readonly string[]): Promise<void> {
    const ids = this.config.supervisor.children.filter((c) => units.includes(c.id) && c.kind === 'supervisor').flatMap((c) => supervisorIds(c as SupervisorSpec));
    await Promise.all(
      ids.map(async (id) => {
        try {
          const h = await this.store.getMeta<number[]>(this.windowKey(id));
          if (Array.isArray(h)) this.keptWindows.set(id, h.filter((t) => typeof t === 'number'));
        } catch {
          // the window read at start stands
        }
      }),
    );
  }

  private flushHistory(): Promise<unknown> {
    clearTimeout(this.historyTimer);
    this.historyTimer = undefined;
    const writes = [...this.unsavedWindows].map((s) => this.store.putMeta(this.windowKey(s.id), s.restartWindow).catch(() => undefined));
    this.unsavedWindows.clear();
    return Promise.all(writes);
  }

  /** A lifecycle transition, as a `machine.transition` event; built only while someone listens. */
  private machineTransition(id: string, kind: 'agent' | 'supervisor', t: Transition) {
    if (!this.events.listenerCount('machine.transition') && !this.events.listenerCount('*') && !this.control?.listening('machine.transition')) return;
    this.emit('machine.transition', { time: new Date((this.o.clock ?? systemClock).now()).toISOString(), id, kind, from: t.from, to: t.to, event: t.event });
  }

  /** The lifecycle machine of an agent or a supervisor: its definition, where it is, its context. */
  machine(id: string): MachineResult {
    const node = this.agents.get(id) ?? this.root.find(id);
    if (!node) throw new RpcError(RpcErrorCode.NotFound, `No agent or supervisor "${id}" in this system (agents: ${this.agentIds.join(', ') || 'none'}; supervisors: ${supervisorIds(this.config.supervisor).join(', ')})`);
    return { id, ...node.machine() } as MachineResult;
  }

  /**
   * The latest valid checkpoint of an agent. Corrupt ones are skipped: each
   * fallback is logged, counted and raised as an alert; none left means a
   * cold start.
   */
  private async restore(agent: string) {
    const seen: FallbackEvent[] = [];
    const sub = this.store.onFallback((e) => { if (e.agent === agent && e.what === 'checkpoint') seen.push(e); });
    let r;
    try {
      r = await this.store.latest(agent);
    } finally {
      sub.dispose();
    }
    if (seen.length) {
      const to = r ? 'previous' : 'cold';
      this.log.warn({ agent, skipped: seen.map((e) => e.seq), reasons: seen.map((e) => e.reason) }, `checkpoint fallback for ${agent}: ${seen.length} corrupt checkpoint(s) skipped (${seen.map((e) => `#${e.seq} ${e.reason}`).join(', ')}); ${r ? `restored #${r.seq}` : 'cold start with init()'}`);
      this.obs.checkpointFallback(agent, to);
    }
    return r ? { state: r.state, version: r.version, seq: r.seq } : null;
  }

  private mailbox(id: string): Mailbox {
    let m = this.mailboxes.get(id);
    if (!m) this.mailboxes.set(id, (m = this.mailboxFactory.open(id)));
    return m;
  }

  emit<E extends EventName>(name: E, payload: EventPayloads[E]) {
    this.events.emit(name, payload);
    this.events.emit('*', name, payload);
    this.control?.broadcast(name, payload);
  }

  /**
   * Opens what the constructor only described: the state dir, the log and
   * the checkpoint store. The first thing `start()` does, so that building a
   * Runtime touches no file.
   */
  private async open(): Promise<void> {
    if (this.store) return;
    mkdirSync(this.stateDir, { recursive: true });
    // The state dir holds the token, logs and checkpoints: never commit it.
    const ignore = path.join(this.stateDir, '.gitignore');
    if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
    const settings = telemetrySettings(this.config.telemetry, this.config.name);
    if (settings) {
      this.telemetry = await Telemetry.start(settings, { 'service.version': this.version, 'service.instance.id': this.cluster?.node ?? `${os.hostname()}-${process.pid}`, 'faultline.system': this.config.name }, (m) => process.stderr.write(`faultline: telemetry: ${m}\n`));
    }
    const telemetry = this.telemetry;
    this.log = this.obs.openLog({
      dir: path.join(this.stateDir, 'logs'),
      onLine: (line) => {
        this.emit('log', line as EventPayloads['log']);
        telemetry.log(line as Record<string, unknown>);
      },
      ...(telemetry.on ? { mixin: (agent: string | undefined) => telemetry.logIds(agent) } : {}),
    }).logger;
    const ck = this.config.checkpoints;
    try {
      const server = ck.store === 'postgres' || ck.store === 'redis';
      this.store = this.o.store ?? (await openCheckpointStore(server ? ck : { ...ck, path: ck.path ?? path.join(this.stateDir, 'checkpoints.db') }, this.config.baseDir, this.version, { name: this.config.name, warn: (m) => this.log.warn({ store: ck.store }, m), fence: this.cluster?.fence }));
    } catch (e) {
      throw NativeModuleError.from(e) ?? e;
    }
    this.mailboxFactory = this.o.mailboxes ?? this.store.inboxes();
    const kind = this.store.kind ?? 'sqlite';
    this.store.health?.onChange((h) => {
      if (h.state === 'down') this.log.error({ store: kind }, `checkpoint store down: ${h.error}`);
      else this.log.info({ store: kind }, `checkpoint store ${kind} answers again`);
      this.obs.storeDown(kind, h.state === 'down' ? (h.error ?? `The ${kind} checkpoint store does not answer`) : null);
    });
    this.store.onWriteError((e) => this.log.error({ agent: e.agent, msgId: e.id, err: e.error }, `state write failed (${e.what} of ${e.id} for ${e.agent})`));
  }

  /** Opens the state dir, log and store, then starts the control channel, the warm spares and the tree, in that order. */
  async start(o: { onListening?: (port: number) => void } = {}): Promise<{ port: number }> {
    if (this.cluster && (this.clusterSecret ?? '').length < 16) throw new ClusterSecretError(this.clusterSecret === undefined || this.clusterSecret === '');
    await this.open();
    this.control = new ControlServer({
      token: this.token,
      peerToken: this.cluster ? this.clusterSecret : undefined,
      port: this.o.port ?? this.config.runtime.port,
      host: this.host,
      handle: (method, params, session) => this.handle(method, params, session),
      routes: this.obs.httpRoutes(() => this.status()),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    const port = await this.control.listen();
    await this.loadMeta();
    await this.deps.startMocks();
    await this.deps.startServers();
    this.pool.warm();
    this.obs.onAlert((a) => this.emit('alert', a));
    this.obs.start({ status: () => this.status(), pids: () => this.agentPids() });
    // Live figures for dashboards: the reliability summary every 2 s, only while someone listens.
    this.metricsTimer = setInterval(() => {
      if (this.control?.listening('metrics')) this.emit('metrics', { ...this.obs.summary(), time: new Date().toISOString() });
    }, 2000);
    this.metricsTimer.unref();
    if (this.o.writeRuntimeFile !== false) {
      writeRuntimeFile(this.stateDir, { pid: process.pid, port, token: this.token, url: this.url, startedAt: new Date(this.startedAt).toISOString(), version: this.version, config: this.config.file, ...(this.host !== '127.0.0.1' ? { host: this.host } : {}) });
    }
    if (this.host !== '127.0.0.1') this.log.warn({ host: this.host }, `the HTTP endpoints and the control channel listen on ${this.host}, not only the loopback; the control channel still needs the token`);
    this.log.info({ port, config: this.config.file }, `runtime listening on ${this.url}`);
    o.onListening?.(port);
    await this.root.start();
    if (this.cluster) {
      if (!(this.store instanceof PostgresCheckpointStore)) throw new Error('a cluster node needs the postgres store');
      await this.cluster.join(this.store, this.o.cluster?.advertise ?? this.url);
    }
    return { port };
  }

  get port(): number {
    return this.control?.port ?? 0;
  }

  /** The listening address. */
  get host(): string {
    return this.o.host ?? this.config.runtime.host;
  }

  /** Where a client on this machine reaches the HTTP endpoints. */
  get url(): string {
    return `http://${clientHost(this.host)}:${this.port}`;
  }

  /**
   * Reads what the previous run kept (breaker states, supervisors' restart
   * windows), then builds the dependency layer on it.
   */
  private async loadMeta() {
    const deps = this.config.dependencies;
    const breakers = new Map<string, unknown>();
    for (const id of Object.keys(deps)) breakers.set(`gateway.breaker.${id}`, await this.store.getMeta(`gateway.breaker.${id}`));
    const walk = async (s: SupervisorSpec) => {
      const h = await this.store.getMeta<number[]>(this.windowKey(s.id));
      if (Array.isArray(h)) this.keptWindows.set(s.id, h.filter((t) => typeof t === 'number'));
      for (const c of s.children) if (c.kind === 'supervisor') await walk(c);
    };
    await walk(this.config.supervisor);
    this.deps = wireDependencies({
      telemetry: this.telemetry,
      dependencies: deps,
      models: this.config.models,
      baseDir: this.config.baseDir,
      obs: this.obs,
      faults: this.faults,
      hostOps: this.hostOps,
      journal: this.store,
      inflight: (agent) => this.agents.get(agent)?.inflightDelivery,
      stateStore: {
        get: (key) => breakers.get(key),
        put: (key, json) => {
          breakers.set(key, json);
          void this.store.putMeta(key, json).catch(() => undefined);
        },
      },
      emit: (name, payload) => this.emit(name, payload as never),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    this.waits = new Waits({
      store: this.store,
      inflight: (agent) => this.agents.get(agent)?.inflightDelivery,
      journaled: this.deps.journaled,
      changed: (agent, change, waiting) => {
        const node = this.agents.get(agent);
        if (node) this.emit('agent.state', waitStateEvent(node, change, waiting));
      },
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    this.hostOps.set('wait', (agent, args) => this.waits!.wait(agent, args.name, args.timeoutMs));
    this.faults.register(stateFaults(this.store, () => this.agentIds));
    this.faults.register(nodeFaults({ cluster: this.cluster, agentPids: () => [...this.agentPids().values()] }));
  }

  /** Process-isolated agents' pids, for process sampling. */
  private agentPids(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [id, a] of this.agents) if (a.spec.isolation === 'process' && a.pid) m.set(id, a.pid);
    return m;
  }

  status(): RuntimeStatus {
    const s: RuntimeStatus = {
      runtime: { pid: process.pid, uptimeMs: Date.now() - this.startedAt, version: this.version, name: this.config.name, startedAt: new Date(this.startedAt).toISOString(), port: this.port, spares: this.pool.ready },
      tree: this.root.status(),
      dependencies: this.deps?.gateway.status() ?? [],
      models: this.config.models,
      faults: this.faults.list(),
      ...this.obs.statusExtra(),
    };
    if (this.store) s.store = storeStatus(this.store);
    if (this.cluster) {
      s.cluster = this.cluster.status();
      s.tree = { ...s.tree, children: s.tree.children.map((c) => this.cluster!.child(c)) };
    }
    return s;
  }

  agent(id: string): AgentNode | undefined {
    return this.agents.get(id);
  }

  /** Forgets an agent added while running (a fork) that its supervisor no longer has: it started afresh from the config. */
  forgetAgent(id: string): void {
    this.agents.get(id)?.dispose();
    this.agents.delete(id);
    const i = this.agentIds.indexOf(id);
    if (i >= 0) this.agentIds.splice(i, 1);
  }

  private supervisorOf(id: string): Supervisor | undefined {
    const find = (s: Supervisor): Supervisor | undefined => {
      for (const c of s.children) {
        if (c.id === id) return s;
        if (c instanceof Supervisor) {
          const f = find(c);
          if (f) return f;
        }
      }
      return undefined;
    };
    return find(this.root);
  }

  private requireNode(id: string): Supervisor {
    const sup = this.supervisorOf(id);
    if (!sup) {
      if (id === this.root.id) throw new RpcError(RpcErrorCode.InvalidParams, `"${id}" is the root supervisor; use \`faultline down\` to stop the runtime`);
      throw new UnknownAgentError(id, this.agentIds);
    }
    return sup;
  }

  /** Restarts an agent or a supervisor subtree on request (not counted toward intensity). */
  async restart(id: string): Promise<void> {
    await this.requireNode(id).restartChild(id);
  }

  /** Stops an agent or subtree; it stays down until restarted. */
  async stopNode(id: string): Promise<void> {
    await this.requireNode(id).stopChild(id);
    this.router.failAgent(id, new AgentUnavailableError(id, 'stopped', 'stopped on request'));
  }

  /**
   * A write an agent waits on (`ctx.checkpoint()`), tried again while the
   * store is unavailable (restarting, failing over) for up to
   * STORE_WAIT_MS, so that the handler goes on once it is back; a write the
   * store refused for another reason (a lost lease) fails at once.
   */
  private async whileStoreDown<T>(what: string, write: () => Promise<T>): Promise<T> {
    const until = Date.now() + STORE_WAIT_MS;
    for (let delay = 50, warned = false; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await write();
      } catch (e) {
        if (!(e instanceof StoreUnavailableError) || this.stopping || Date.now() + delay > until) throw e;
        if (!warned) this.log.warn({}, `cannot store ${what}: ${e.message}; trying again for up to ${STORE_WAIT_MS / 1000} s`);
        warned = true;
        await sleep(delay);
      }
    }
  }

  /** ctx operations of an agent other than ask (which goes straight to `router.askThen`). */
  private async hostRequest(agent: string, op: HostOp, args: any, chunk?: (delta: string, model: string) => void): Promise<unknown> {
    switch (op) {
      case 'send':
        await this.router.send(args.agent, args.message, { from: agent, traceparent: this.telemetry.traceparentOf(agent) });
        return { accepted: true };
      case 'checkpoint':
        // The host sends the state as JSON text; anything else is refused rather than stored.
        if (typeof args?.json !== 'string') throw new TypeError('ctx.checkpoint(): the agent host sent no state text');
        if (this.telemetry.on) this.telemetry.agentEvent(agent, 'checkpoint', { 'faultline.checkpoint.kind': 'full', 'faultline.checkpoint.bytes': args.json.length, 'faultline.checkpoint.explicit': true });
        return this.whileStoreDown(`${agent}'s checkpoint`, () => this.store.put({ agent, version: args.version, json: args.json, kind: 'full' }));
      default: {
        const h = this.hostOps.get(op);
        if (!h) throw new Error(`ctx.${op}() is not available: no dependencies are configured in ${path.basename(this.config.file || 'the config')}`);
        return h(agent, args, chunk);
      }
    }
  }

  /** Control-channel requests, their params validated by the method's schema. */
  handle<M extends MethodName>(method: M, params: MethodParams<M>, session: Session): Promise<unknown> {
    return this.methods.call(method, params, session);
  }

  /** The runtime's own control methods; drills, chaos and the lifecycle machines add theirs. */
  private registerMethods() {
    this.methods
      .set('status', async (_p, session) => {
        // Another node asks for this node's own part; a client asks for the whole cluster.
        if (this.cluster && !session.peer) await this.cluster.refreshRemote();
        return this.status();
      })
      .set('send', async (p, session) => {
        await this.router.send(p.agent, p.message, { ...(session.peer ? { from: p.from, here: true } : {}), traceparent: p.traceparent ?? this.telemetry.traceparentOf(undefined) });
        return { accepted: true as const };
      })
      .set('ask', (p, session) => {
        // A streamed ask: each piece of the reply is an `ask.chunk` notification to this session, before the result.
        const requestId = p.stream && session.notify ? (p.requestId ?? '') : undefined;
        const onChunk = requestId !== undefined ? (delta: string) => session.notify!('ask.chunk', { requestId, delta } satisfies AskChunk) : undefined;
        return this.router.ask(p.agent, p.message, { timeoutMs: p.timeoutMs, ...(session.peer ? { from: p.from, here: true } : {}), traceparent: p.traceparent ?? this.telemetry.traceparentOf(undefined), ...(onChunk ? { onChunk } : {}) });
      })
      .set('traces', async (p) => this.telemetry.traces(p))
      .set('tools', async (p) => ({ dependency: p.dependency, ...(await this.deps.gateway.listTools(p.dependency)) }))
      .set('call', (p) => this.deps.gateway.call(p.dependency, p.request, { timeoutMs: p.timeoutMs }))
      .set('signal', async (p, session) =>
        this.onOwner(p.agent, session, 'signal', p, async () => {
          if (!this.agentIds.includes(p.agent) || !this.waits) throw new UnknownAgentError(p.agent, this.agentIds);
          return this.waits.signal(p.agent, p.name, p.payload);
        }),
      )
      .set('restart', async (p, session) =>
        this.onOwner(p.agent, session, 'restart', p, async () => {
          await this.restart(p.agent);
          return {};
        }),
      )
      .set('stop', async (p, session) =>
        this.onOwner(p.agent, session, 'stop', p, async () => {
          await this.stopNode(p.agent);
          return {};
        }),
      )
      // In a cluster a client's fault goes to the nodes it acts on; a fault another node passed on acts here.
      .set('inject', (p, session) => (this.cluster && !session.peer ? this.injectInCluster(this.cluster, p) : this.faults.inject(p)))
      .set('clearFault', async (p, session) => (this.cluster && !session.peer ? this.clearInCluster(this.cluster, p.id) : { cleared: this.faults.clear(p.id) }))
      .set('faults', async (_p, session) => (this.cluster && !session.peer ? this.faultsInCluster(this.cluster) : this.faults.list()))
      .set('alerts', async () => this.obs.alerts.active())
      .set('checkpoints', async (p) => {
        if (!this.agentIds.includes(p.agent)) throw new UnknownAgentError(p.agent, this.agentIds);
        return this.store.list(p.agent);
      })
      .set('machine', async (p, session) => this.onOwner(p.id, session, 'machine', p, async () => this.machine(p.id)))
      .set('shutdown', async () => {
        setImmediate(() => void this.stop({ code: 0, reason: 'shutdown requested' }));
        return {};
      });
  }

  /**
   * A fault injected on a node of a cluster acts where its targets are: an
   * agent fault on the nodes that run the agents it names (a kept one stays
   * there, and does not follow an agent that moves), a dependency fault on
   * every node (each calls the dependency itself), the rest (state, runtime
   * and node faults) here. The id is the first node's, which keeps it.
   */
  private async injectInCluster(c: ClusterNode, spec: FaultSpec): Promise<{ id: string; fired?: number }> {
    let nodes: string[];
    if ((AGENT_FAULTS as readonly string[]).includes(spec.fault)) {
      const matched = this.agentIds.filter((a) => globMatch(spec.target, a));
      nodes = [...new Set(matched.map((a) => c.ownerOf(a) ?? c.node))];
    } else if ((DEPENDENCY_FAULTS as readonly string[]).includes(spec.fault)) {
      nodes = [c.node, ...c.nodes().filter((x) => x.state === 'up' && x.id !== c.node).map((x) => x.id)];
    } else nodes = [c.node];
    if (!nodes.length || (nodes.length === 1 && nodes[0] === c.node)) return this.faults.inject(spec);
    const results = await Promise.allSettled(nodes.map((n) => (n === c.node ? this.faults.inject(spec) : c.callNode(n, 'inject', spec))));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${nodes[i]}: ${(r.reason as Error).message}`] : []));
    if (!ok.length) throw results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    if (failed.length) this.log.warn({ fault: spec.fault, target: spec.target }, `fault ${spec.fault} on ${spec.target} not injected on ${failed.join('; ')}`);
    const fired = ok.some((r) => r.fired !== undefined) ? ok.reduce((n, r) => n + (r.fired ?? 0), 0) : undefined;
    return { id: ok[0]!.id, ...(fired !== undefined ? { fired } : {}) };
  }

  /** Every node's active faults (those of a node that does not answer are left out). */
  private async faultsInCluster(c: ClusterNode): Promise<ActiveFault[]> {
    const others = c.nodes().filter((x) => x.state === 'up' && x.id !== c.node);
    const lists = await Promise.all(others.map((x) => c.callNode(x.id, 'faults', {}, 2000).catch(() => [] as ActiveFault[])));
    return [...this.faults.list(), ...lists.flat()];
  }

  /** Clears a fault on the node that keeps it (its id says which), or every fault on every node. */
  private async clearInCluster(c: ClusterNode, id: string | undefined): Promise<{ cleared: number }> {
    const node = id?.includes(':') ? id.slice(0, id.lastIndexOf(':')) : undefined;
    if (id !== undefined && (node === undefined || node === c.node)) return { cleared: this.faults.clear(id) };
    if (id !== undefined) return c.callNode(node!, 'clearFault', { id });
    const others = c.nodes().filter((x) => x.state === 'up' && x.id !== c.node);
    const counts = await Promise.all(others.map((x) => c.callNode(x.id, 'clearFault', {}, 2000).then((r) => r.cleared, () => 0)));
    return { cleared: this.faults.clear() + counts.reduce((a, b) => a + b, 0) };
  }

  /**
   * Runs a request about an agent (or a child of the root) here, or on the
   * node that runs it. A request another node forwarded is only ever run
   * here: the nodes never pass it on again.
   */
  private async onOwner<M extends MethodName, T>(id: string, session: Session, method: M, params: MethodParams<M>, here: () => Promise<T>): Promise<T> {
    const c = this.cluster;
    if (!c || !c.knows(id) || c.local(id)) return here();
    if (session.peer) throw new AgentMovedError(id, c.node);
    return (await c.call(id, method, params as never, here)) as T;
  }

  /** Stops the tree in reverse order within the shutdown timeouts, then everything else. */
  stop(result: RuntimeStopped = { code: 0, reason: 'stopped' }): Promise<RuntimeStopped> {
    this.stopping ??= (async () => {
      this.log?.info({}, `runtime stopping: ${result.reason}`);
      this.router.close();
      this.waits?.close();
      this.faults.close();
      clearInterval(this.metricsTimer);
      // A cluster node hands its subtrees over first: the others take them at once, not after the lease.
      await this.cluster?.drain();
      await this.root.stop('runtime stopping');
      await this.cluster?.close();
      this.pool.close();
      await this.flushHistory();
      if (this.o.writeRuntimeFile !== false) removeRuntimeFile(this.stateDir, process.pid);
      await this.control?.close();
      await this.deps?.close();
      await this.store?.close();
      this.log?.info({}, 'runtime stopped');
      await this.obs.close();
      // What is buffered goes out; an exporter that does not answer holds the stop for 3 s at most.
      await Promise.race([this.telemetry.shutdown(), sleep(3000, undefined, { ref: false })]);
      this.resolveDone(result);
      return result;
    })();
    return this.stopping;
  }
}

function supervisorIds(s: SupervisorSpec): string[] {
  return [s.id, ...s.children.flatMap((c) => (c.kind === 'supervisor' ? supervisorIds(c) : []))];
}
