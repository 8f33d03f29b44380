/**
 * Routes `send` and `ask` to agents' mailboxes, from outside (CLI, control
 * channel) and between agents (through `ctx`). Every ask carries a timeout;
 * an ask to a restarting agent waits for it within that timeout.
 */
import { AgentTimeoutError, AgentUnavailableError, RuntimeStoppingError, UnknownAgentError } from '../errors.ts';
import type { Envelope, Mailbox } from './Mailbox.ts';

/** What the router needs of an agent. */
export interface Routable {
  readonly machineState: string;
  readonly unavailable: boolean;
  deliver(): void;
  cancel(envelopeId: string): void;
}

/** Where messages to agents that run on other nodes of a cluster go. */
export interface RemoteRoutes {
  /** Whether the agent runs on this node (its subtree is leased here). */
  local(id: string): boolean;
  /** Stores a message in the inbox of an agent of another node; resolves once stored. */
  send(to: string, e: Omit<Envelope, 'deliveries'>): Promise<void>;
  /** Forwards an ask to the node that runs the agent, within its timeout. */
  ask(to: string, message: unknown, opts: { timeoutMs: number; from?: string; traceparent?: string }, settle: (r: AskResult) => void): void;
  /** The error for a request between nodes that reached a node not running the agent. */
  moved(id: string): Error;
}

export interface RouterOptions {
  agent(id: string): Routable | undefined;
  agentIds(): string[];
  mailbox(id: string): Mailbox;
  defaultTimeoutMs: number;
  remote?: RemoteRoutes;
}

/** `here`: only if the agent runs on this node (a request another node forwarded). */
export interface RouteOptions {
  from?: string;
  here?: boolean;
  /** The sender's W3C trace context: the handling agent's span becomes its child. */
  traceparent?: string;
}

/** How an ask ends: the reply, or the error its asker gets. */
export type AskResult = { ok: true; value: unknown } | { ok: false; error: Error };

interface Waiter {
  agent: string;
  settle(result: AskResult): void;
  timer: NodeJS.Timeout;
  /** In a cluster: asks again on whichever node runs the agent next (its subtree moved away from this node). */
  reroute?: () => void;
}

export class Router {
  private waiters = new Map<string, Waiter>();
  /** Askers that take the reply as it is written (`ctx.streamReply`), by message id; known before the message is delivered. */
  private chunkSinks = new Map<string, (delta: string) => void>();
  private seq = 0;
  private readonly prefix = Date.now().toString(36);
  private closed = false;

  constructor(private readonly o: RouterOptions) {}

  private nextId(): string {
    return `${this.prefix}-${(++this.seq).toString(36).padStart(6, '0')}`;
  }

  /** The local agent, or undefined when it runs on another node. */
  private target(id: string, forAsk: boolean, here = false): Routable | undefined {
    if (this.closed) throw new RuntimeStoppingError();
    const remote = this.o.remote;
    if (remote && !remote.local(id)) {
      if (!this.o.agentIds().includes(id)) throw new UnknownAgentError(id, this.o.agentIds());
      if (here) throw remote.moved(id);
      return undefined;
    }
    const a = this.o.agent(id);
    if (!a) {
      const known = this.o.agentIds();
      if (!known.includes(id)) throw new UnknownAgentError(id, known);
      // Leased here, its supervisor not started yet.
      if (here && remote) throw remote.moved(id);
      throw new AgentUnavailableError(id, 'starting', 'its subtree is being started on this node');
    }
    if (forAsk && a.unavailable) throw new AgentUnavailableError(id, a.machineState);
    return a;
  }

  /** Stores the message in the agent's mailbox (on whichever node runs it); resolves once stored. */
  async send(to: string, message: unknown, opts: RouteOptions | string = {}): Promise<{ accepted: true; id: string }> {
    const o = typeof opts === 'string' ? { from: opts } : opts;
    const a = this.target(to, false, o.here);
    const id = this.nextId();
    const e = { id, kind: 'send' as const, message, from: o.from, at: Date.now(), ...(o.traceparent ? { traceparent: o.traceparent } : {}) };
    if (!a) {
      await this.o.remote!.send(to, e);
      return { accepted: true, id };
    }
    await this.o.mailbox(to).put(e);
    a.deliver();
    return { accepted: true, id };
  }

  /** Asks and waits for the reply, or rejects with `AgentTimeoutError` after `timeoutMs`. */
  ask(to: string, message: unknown, opts: { timeoutMs?: number } & RouteOptions = {}): Promise<unknown> {
    return new Promise((resolve, reject) => this.askThen(to, message, opts, (r) => (r.ok ? resolve(r.value) : reject(r.error))));
  }

  /**
   * `ask` with a callback, called once with the reply or the error. The hot
   * path of an ask between agents: the reply goes back to the asking agent in
   * the turn its answer arrives, and a message the mailbox stores at once
   * (asks are kept in memory) is delivered in the turn it was asked.
   */
  askThen(to: string, message: unknown, opts: { timeoutMs?: number; onChunk?: (delta: string) => void } & RouteOptions, settle: (r: AskResult) => void): void {
    let a: Routable | undefined;
    try {
      a = this.target(to, true, opts.here);
    } catch (e) {
      return settle({ ok: false, error: e as Error });
    }
    const timeoutMs = opts.timeoutMs ?? this.o.defaultTimeoutMs;
    const tp = opts.traceparent ? { traceparent: opts.traceparent } : {};
    if (!a) return this.o.remote!.ask(to, message, { timeoutMs, from: opts.from, ...tp }, settle);
    const id = this.nextId();
    let stored: Promise<void> | void;
    try {
      stored = this.o.mailbox(to).put({ id, kind: 'ask', message, from: opts.from, at: Date.now(), timeoutMs, ...tp });
    } catch (e) {
      stored = Promise.reject(e);
    }
    if (opts.onChunk) this.chunkSinks.set(id, opts.onChunk);
    const agent = a;
    // Stored at once: the message is on its way before the bookkeeping (its
    // reply cannot arrive before this turn ends).
    if (!stored) agent.deliver();
    const timer = setTimeout(() => {
      this.waiters.delete(id);
      this.chunkSinks.delete(id);
      this.o.agent(to)?.cancel(id);
      settle({ ok: false, error: new AgentTimeoutError(to, timeoutMs) });
    }, timeoutMs);
    const remote = this.o.remote;
    const deadline = Date.now() + timeoutMs;
    const reroute = remote && !opts.here ? () => remote.ask(to, message, { timeoutMs: Math.max(1, deadline - Date.now()), from: opts.from, ...tp }, settle) : undefined;
    this.waiters.set(id, { agent: to, settle, timer, reroute });
    stored?.then(
      () => agent.deliver(),
      (e: Error) => {
        this.fail(id, e);
        agent.deliver();
      },
    );
  }

  /** Whether the asker of message `id` takes its reply streamed. */
  streams(id: string): boolean {
    return this.chunkSinks.has(id);
  }

  /** A piece of the reply to message `id`, for an asker that streams it. */
  chunk(id: string, delta: string): void {
    this.chunkSinks.get(id)?.(delta);
  }

  /** The agent finished a message: settle its asker, if any is still waiting. */
  complete(id: string, result: AskResult) {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    if (this.chunkSinks.size) this.chunkSinks.delete(id);
    w.settle(result);
    clearTimeout(w.timer);
  }

  fail(id: string, error: Error) {
    this.complete(id, { ok: false, error });
  }

  /** Fails every pending ask to `agent` (it will not come back). */
  failAgent(agent: string, error: Error) {
    for (const [id, w] of this.waiters) if (w.agent === agent) this.fail(id, error);
  }

  /**
   * The agent's subtree moved to another node: asks made here go on there
   * (within their timeouts); asks another node forwarded fail with `error`,
   * which that node answers by asking the next owner.
   */
  moved(agent: string, error: Error) {
    for (const [id, w] of this.waiters) {
      if (w.agent !== agent) continue;
      if (!w.reroute) {
        this.fail(id, error);
        continue;
      }
      this.waiters.delete(id);
      clearTimeout(w.timer);
      w.reroute();
    }
  }

  get pending(): number {
    return this.waiters.size;
  }

  close() {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.fail(id, new RuntimeStoppingError());
  }
}
