/**
 * This runtime as one node of a cluster: the same config on several nodes
 * that share the PostgreSQL store. Each child of the root supervisor (a
 * "unit": an agent or a whole subtree) runs on the one node that holds its
 * lease (`LeaseKeeper`); every write of a unit carries the lease's epoch
 * (`fence`), so a copy left running on a node that lost its lease cannot
 * store anything.
 *
 * Messages reach agents wherever they run:
 * - a `send` to an agent of another node goes into its inbox on the server,
 *   and the owner is woken with `NOTIFY` (it reads what it does not hold yet);
 *   nobody needs to be up for it to be accepted;
 * - an `ask` is forwarded to the owner's control channel (authenticated with
 *   the cluster's secret) and retried on the next owner while its subtree
 *   moves, within the ask's own timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { LeaseKeeper } from './LeaseKeeper.ts';
import type { PostgresCheckpointStore, Fence } from '../state/PostgresCheckpointStore.ts';
import type { Envelope } from '../messaging/Mailbox.ts';
import type { AskResult } from '../messaging/Router.ts';
import { RuntimeClient } from '../cli/client.ts';
import { RuntimeRpcError, RuntimeUnreachableError } from '../protocol/rpcClient.ts';
import type { MethodName, Methods } from '../protocol/rpc.ts';
import type { RuntimeFile } from '../protocol/runtimeFile.ts';
import type { ClusterStatus, TreeNodeStatus } from '../protocol/status.ts';
import { AgentMovedError, AgentTimeoutError, FaultlineError } from '../errors.ts';

/** An error another node answered with, as it answered it (its code and type). */
export class RemoteError extends FaultlineError {
  override readonly rpcCode: number;
  constructor(e: RuntimeRpcError) {
    super(e.message);
    this.rpcCode = e.code;
    if (e.type) this.name = e.type;
  }
}

/** Errors after which a forwarded request is tried again on whichever node holds the agent next. */
const MOVING = new Set(['AgentMovedError', 'LeaseLostError', 'RuntimeStoppingError']);

export interface ClusterNodeOptions {
  node: string;
  /** The cluster's shared secret: what nodes present to each other. */
  secret: string;
  leaseMs: number;
  /** The children of the root, in order. */
  units: readonly string[];
  /** The unit each agent and supervisor below the root belongs to. */
  unitOf: ReadonlyMap<string, string>;
  /** Agents by unit. */
  agentsOf: ReadonlyMap<string, readonly string[]>;
  /** Start these units here (their inboxes are loaded). */
  start(units: string[]): Promise<void>;
  /** Stop a unit here. */
  stop(unit: string, why: 'lost' | 'moved' | 'drain'): Promise<void>;
  /** Asks an agent of this node (one taken over while an ask waited to be forwarded). */
  askHere(to: string, message: unknown, opts: { timeoutMs: number; from?: string; traceparent?: string }, settle: (r: AskResult) => void): void;
  /** Hand the waiting messages to the agents of these units (deliveries were held, or new messages arrived). */
  deliver(agents: readonly string[]): void;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

interface Owner {
  node: string;
  url: string;
}

export class ClusterNode {
  readonly keeper!: LeaseKeeper;
  /** unit → the epoch of the last lease this node took on it (kept once lost: what a stale copy's writes are fenced with). */
  private readonly epochs = new Map<string, number>();
  private store!: PostgresCheckpointStore;
  private url = '';
  private readonly peers = new Map<string, Promise<RuntimeClient>>();
  private listener: Client | undefined;
  private closed = false;
  private holding = false;
  private gained: string[] = [];
  /** Units taken and not started yet: what is asked of them waits, as while they move. */
  private readonly starting = new Set<string>();
  /** The status of the units of other nodes, as their owners last answered. */
  private remoteTrees = new Map<string, TreeNodeStatus>();
  private refreshing: Promise<void> | undefined;
  private lastRefresh = 0;

  /** What the store's writes carry: the epoch of this node's lease on each agent's unit. */
  readonly fence: Fence;

  constructor(private readonly o: ClusterNodeOptions) {
    this.fence = {
      node: o.node,
      of: (agent) => {
        const unit = o.unitOf.get(agent);
        const epoch = unit === undefined ? undefined : this.epochs.get(unit);
        return unit === undefined || epoch === undefined ? undefined : { unit, epoch };
      },
    };
  }

  get node(): string {
    return this.o.node;
  }

  /** Whether `id` is an agent or a supervisor below the root. */
  knows(id: string): boolean {
    return this.o.unitOf.has(id);
  }

  /** Whether this node runs the agent or supervisor (holds its unit's lease, and has started it). */
  local(agent: string): boolean {
    const unit = this.o.unitOf.get(agent);
    return unit !== undefined && !this.starting.has(unit) && (this.keeper?.held.has(unit) ?? false);
  }

  holds(unit: string): boolean {
    return this.keeper?.held.has(unit) ?? false;
  }

  /**
   * Whether messages must wait: this node has not confirmed its leases for
   * a whole lease period (it was paused, or cut off from the store), so
   * another node may already run its agents.
   */
  holdDeliveries(): boolean {
    if (!this.keeper || Date.now() - this.keeper.confirmedAt < this.o.leaseMs) return false;
    if (!this.holding) {
      this.holding = true;
      this.o.log('warn', `node ${this.o.node} has not confirmed its leases for ${this.o.leaseMs} ms; holding messages until it has`, { node: this.o.node });
      void this.keeper.tick();
    }
    return true;
  }

  /** Joins: heartbeats, takes its share of the units, listens for messages put in its agents' inboxes. */
  async join(store: PostgresCheckpointStore, url: string): Promise<void> {
    this.store = store;
    this.url = url;
    (this as { keeper: LeaseKeeper }).keeper = new LeaseKeeper({
      leases: store.leases(),
      node: this.o.node,
      url,
      units: this.o.units,
      leaseMs: this.o.leaseMs,
      gain: (unit, epoch) => {
        this.epochs.set(unit, epoch);
        this.gained.push(unit);
        this.starting.add(unit);
      },
      lose: (unit, why) => this.lose(unit, why),
      error: (e) => this.o.log('warn', `cluster: node ${this.o.node} cannot reach the store for its leases: ${(e as Error).message}; it keeps what it runs, the fencing keeps writes safe`, { node: this.o.node }),
      turned: () => this.turned(),
    });
    await this.listen();
    this.o.log('info', `node ${this.o.node} joining the cluster (lease ${this.o.leaseMs} ms)`, { node: this.o.node });
    await this.keeper.start();
  }

  private async lose(unit: string, why: 'lost' | 'moved' | 'drain') {
    const level = why === 'lost' ? 'warn' : 'info';
    const text = why === 'lost' ? 'lost its lease (another node took it while this one was paused or cut off): stopping this copy' : why === 'moved' ? 'placed on another node: handing it over' : 'draining: handing it over';
    this.o.log(level, `${unit}: ${text}`, { node: this.o.node, unit });
    await this.o.stop(unit, why);
  }

  private async turned() {
    if (this.gained.length) {
      const units = this.gained.filter((u) => this.holds(u));
      const agents = units.flatMap((u) => this.o.agentsOf.get(u) ?? []);
      // The inboxes as the server holds them: the previous owner handled and added messages since this node last looked.
      // When the store does not answer, the units wait for the next turn.
      const stored = await this.store.storedInbox(agents);
      this.gained = this.gained.filter((u) => !units.includes(u) && this.holds(u));
      const boxes = this.store.inboxes();
      for (const a of agents) boxes.open(a).replace(stored.get(a) ?? [], true);
      this.o.log('info', `node ${this.o.node} starting ${units.join(', ')}`, { node: this.o.node, units });
      void this.o
        .start(units)
        .catch((e) => this.o.log('error', `cannot start ${units.join(', ')}: ${(e as Error).message}`, { node: this.o.node }))
        .finally(() => {
          for (const u of units) if (!this.gained.includes(u)) this.starting.delete(u);
        });
    }
    if (this.holding) {
      this.holding = false;
      this.o.log('info', `node ${this.o.node} confirmed its leases; handing out messages again`, { node: this.o.node });
      this.o.deliver([...this.keeper.held.keys()].flatMap((u) => this.o.agentsOf.get(u) ?? []));
    }
  }

  /** LISTEN for messages other nodes put in inboxes; on a new connection, every held agent's inbox is read again. */
  private async listen() {
    if (this.closed) return;
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.store.url, application_name: 'faultline-listen' });
    client.on('error', () => undefined);
    client.on('notification', (n) => {
      const unit = n.payload ? this.o.unitOf.get(n.payload) : undefined;
      if (unit !== undefined && this.holds(unit)) void this.refresh([n.payload!]);
    });
    client.on('end', () => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      setTimeout(() => void this.listen().catch(() => this.retryListen()), 200).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.store.inboxChannel.replace(/"/g, '""')}"`);
    } catch (e) {
      await client.end().catch(() => undefined);
      this.retryListen();
      return;
    }
    const again = this.listener !== undefined || this.keeper !== undefined;
    this.listener = client;
    // Messages may have arrived while nobody listened.
    if (again && this.keeper) void this.refresh([...this.keeper.held.keys()].flatMap((u) => this.o.agentsOf.get(u) ?? []));
  }

  private retryListen() {
    if (this.closed) return;
    setTimeout(() => void this.listen().catch(() => this.retryListen()), 500).unref();
  }

  /** Adds to the agents' inboxes what other nodes put there, and hands it out. */
  private async refresh(agents: string[]) {
    if (!agents.length) return;
    try {
      const boxes = this.store.inboxes();
      let stored: Promise<Map<string, Envelope[]>> | undefined;
      const load = () => (stored ??= this.store.storedInbox(agents));
      const added = await Promise.all(agents.map((a) => boxes.open(a).refresh(async () => (await load()).get(a) ?? [])));
      this.o.deliver(agents.filter((_, i) => added[i] > 0));
    } catch (e) {
      this.o.log('warn', `cannot read the inboxes of ${agents.join(', ')}: ${(e as Error).message}`, { node: this.o.node });
    }
  }

  /** Who holds the agent's unit, by the last turn's leases (a lease expired is nobody's). */
  private owner(agent: string): Owner | undefined {
    const unit = this.o.unitOf.get(agent);
    const l = this.keeper?.leases.find((x) => x.unit === unit);
    if (!l) return undefined;
    const n = this.keeper.nodes.find((x) => x.id === l.node);
    return n && n.state === 'up' ? { node: n.id, url: n.url } : undefined;
  }

  private peer(o: Owner): Promise<RuntimeClient> {
    let p = this.peers.get(o.node);
    if (!p) {
      const u = new URL(o.url);
      const file = { pid: 0, port: Number(u.port), host: u.hostname.replace(/^\[|\]$/g, ''), token: this.o.secret, url: o.url, startedAt: '', version: '' } satisfies RuntimeFile;
      p = RuntimeClient.connect(file, 2000).then((c) => {
        c.onClose(() => {
          if (this.peers.get(o.node) === p) this.peers.delete(o.node);
        });
        return c;
      });
      p.catch(() => {
        if (this.peers.get(o.node) === p) this.peers.delete(o.node);
      });
      this.peers.set(o.node, p);
    }
    return p;
  }

  /** Stores a message in the inbox of an agent of another node, and wakes that node. */
  send(to: string, e: Omit<Envelope, 'deliveries'>): Promise<void> {
    return this.store.insertRemote(to, e);
  }

  /**
   * Forwards an ask to the node that runs the agent. While the agent's
   * subtree moves (its node died, drains, or has not started it yet) the ask
   * is tried again on the next owner, within its timeout.
   */
  ask(to: string, message: unknown, opts: { timeoutMs: number; from?: string; traceparent?: string }, settle: (r: AskResult) => void): void {
    const params = { agent: to, message, ...(opts.from !== undefined ? { from: opts.from } : {}), ...(opts.traceparent ? { traceparent: opts.traceparent } : {}) };
    this.forward(to, 'ask', (left) => ({ ...params, timeoutMs: left }), Date.now() + opts.timeoutMs, () => new AgentTimeoutError(to, opts.timeoutMs), (left) =>
      new Promise((resolve, reject) => this.o.askHere(to, message, { timeoutMs: left, from: opts.from, traceparent: opts.traceparent }, (r) => (r.ok ? resolve(r.value) : reject(r.error)))),
    ).then(
      (value) => settle({ ok: true, value }),
      (error: Error) => settle({ ok: false, error }),
    );
  }

  /**
   * Runs a control method for `agent` on the node that runs it (restart,
   * stop, machine…), or here with `runHere` once this node holds it; tried
   * again while its subtree moves, for up to `timeoutMs`.
   */
  call<M extends MethodName>(agent: string, method: M, params: Methods[M]['params'], runHere: () => Promise<unknown>, timeoutMs = 10_000): Promise<unknown> {
    return this.forward(agent, method, () => params, Date.now() + timeoutMs, () => new AgentMovedError(agent, this.o.node), runHere);
  }

  /** The node that runs the agent (or supervisor), as far as this node knows: undefined while nobody holds its unit. */
  ownerOf(agent: string): string | undefined {
    return this.local(agent) ? this.o.node : this.owner(agent)?.node;
  }

  /** The nodes of the cluster as the last turn saw them. */
  nodes(): readonly { id: string; state: 'up' | 'down' }[] {
    return this.keeper?.nodes ?? [];
  }

  /** Runs a control method on another node (a fault aimed at it), with the cluster's secret. */
  async callNode<M extends MethodName>(node: string, method: M, params: Methods[M]['params'], timeoutMs = 5000): Promise<Methods[M]['result']> {
    const n = this.keeper?.nodes.find((x) => x.id === node);
    if (!n || n.state !== 'up') throw new RuntimeUnreachableError(`node ${node} is not up`);
    try {
      return await (await this.peer({ node: n.id, url: n.url })).call(method, params, timeoutMs);
    } catch (e) {
      throw e instanceof RuntimeRpcError ? new RemoteError(e) : e;
    }
  }

  private async forward<M extends MethodName>(
    agent: string,
    method: M,
    paramsFor: (leftMs: number) => Methods[M]['params'],
    deadline: number,
    timedOut: () => Error,
    here: (leftMs: number) => Promise<unknown>,
  ): Promise<unknown> {
    for (let delay = 20; ; delay = Math.min(delay * 2, 50)) {
      if (this.closed) throw new AgentMovedError(agent, this.o.node);
      const left = deadline - Date.now();
      if (left <= 0) throw timedOut();
      if (this.local(agent)) return here(left);
      const owner = this.owner(agent);
      if (owner && owner.node !== this.o.node) {
        try {
          return await this.attempt(owner, agent, method, paramsFor(left), left);
        } catch (e) {
          if (e instanceof RuntimeRpcError && !MOVING.has(e.type ?? '')) throw new RemoteError(e);
          if (!(e instanceof RuntimeRpcError) && !(e instanceof RuntimeUnreachableError) && e !== MOVED) throw e;
        }
      }
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      if (this.keeper && Date.now() - this.keeper.confirmedAt > 200) void this.keeper.tick();
    }
  }

  /**
   * One try on one owner. Given up on (and tried again on the next) once the
   * lease has moved: a node paused or cut off never answers, and the copy
   * it may still run can store nothing.
   */
  private attempt<M extends MethodName>(owner: Owner, agent: string, method: M, params: Methods[M]['params'], left: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const watch = setInterval(() => {
        if (this.owner(agent)?.node === owner.node) return;
        clearInterval(watch);
        reject(MOVED);
      }, Math.max(50, Math.floor(this.o.leaseMs / 6)));
      this.peer(owner)
        .then((client) => client.call(method, params, left + 1000))
        .then(resolve, reject)
        .finally(() => clearInterval(watch));
    });
  }

  /**
   * The status of the units other nodes run, asked of their owners (at most
   * every 500 ms; an owner that does not answer within a second keeps its
   * last answer).
   */
  refreshRemote(): Promise<void> {
    if (Date.now() - this.lastRefresh < 500) return this.refreshing ?? Promise.resolve();
    this.lastRefresh = Date.now();
    this.refreshing ??= (async () => {
      const others = new Map<string, Owner>();
      for (const n of this.keeper.nodes) if (n.id !== this.o.node && n.state === 'up') others.set(n.id, { node: n.id, url: n.url });
      await Promise.all(
        [...others.values()].map(async (o) => {
          try {
            const client = await this.peer(o);
            const s = await client.call('status', {}, 1000);
            for (const c of s.tree.children) if (c.node === o.node) this.remoteTrees.set(c.id, c);
          } catch {
            // keeps the last answer
          }
        }),
      );
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** A child of the root as the cluster sees it: this node's own, or its owner's last answer, with the owner's id. */
  child(local: TreeNodeStatus): TreeNodeStatus {
    if (this.holds(local.id)) return { ...local, node: this.o.node };
    const l = this.keeper?.leases.find((x) => x.unit === local.id);
    const owner = l && l.expiresInMs > 0 ? l.node : undefined;
    const remote = owner ? this.remoteTrees.get(local.id) : undefined;
    if (remote && remote.node === owner) return remote;
    return owner ? { ...local, node: owner } : local;
  }

  status(): ClusterStatus {
    const byNode = new Map<string, string[]>();
    for (const l of this.keeper?.leases ?? []) {
      const held = l.node === this.o.node ? this.holds(l.unit) : l.expiresInMs > 0;
      if (!held) continue;
      let list = byNode.get(l.node);
      if (!list) byNode.set(l.node, (list = []));
      list.push(l.unit);
    }
    const nodes = (this.keeper?.nodes ?? []).map((n) => ({ id: n.id, url: n.url, state: n.state, lastSeenMs: n.lastSeenMs, children: byNode.get(n.id) ?? [] }));
    if (!nodes.some((n) => n.id === this.o.node)) nodes.push({ id: this.o.node, url: this.url, state: 'up', lastSeenMs: 0, children: [...(this.keeper?.held.keys() ?? [])] });
    const me = nodes.find((n) => n.id === this.o.node)!;
    me.children = this.o.units.filter((u) => this.holds(u));
    return { node: this.o.node, leaseMs: this.o.leaseMs, nodes };
  }

  /** Hands every unit over at once and leaves (`faultline down`, SIGTERM). */
  async drain(): Promise<void> {
    if (!this.keeper) return;
    try {
      await this.keeper.drain();
    } catch (e) {
      this.o.log('warn', `node ${this.o.node} could not release its leases (${(e as Error).message}); the other nodes take them once they expire`, { node: this.o.node });
    }
  }

  /** Stops turns, the listener and the connections to other nodes. */
  async close(): Promise<void> {
    this.closed = true;
    this.keeper?.halt();
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
    for (const p of this.peers.values()) void p.then((c) => c.close(), () => undefined);
    this.peers.clear();
  }
}

/** An attempt given up on because the agent's lease moved to another node. */
const MOVED = new Error('moved');
