/**
 * Routes `send` and `ask` to agents' mailboxes, from outside (CLI, control
 * channel) and between agents (through `ctx`). Every ask carries a timeout;
 * an ask to a restarting agent waits for it within that timeout.
 */
import { AgentTimeoutError, AgentUnavailableError, RuntimeStoppingError, UnknownAgentError } from '../errors.ts';
import type { Mailbox } from './Mailbox.ts';

/** What the router needs of an agent. */
export interface Routable {
  readonly machineState: string;
  readonly unavailable: boolean;
  deliver(): void;
  cancel(envelopeId: string): void;
}

export interface RouterOptions {
  agent(id: string): Routable | undefined;
  agentIds(): string[];
  mailbox(id: string): Mailbox;
  defaultTimeoutMs: number;
}

/** How an ask ends: the reply, or the error its asker gets. */
export type AskResult = { ok: true; value: unknown } | { ok: false; error: Error };

interface Waiter {
  agent: string;
  settle(result: AskResult): void;
  timer: NodeJS.Timeout;
}

export class Router {
  private waiters = new Map<string, Waiter>();
  private seq = 0;
  private readonly prefix = Date.now().toString(36);
  private closed = false;

  constructor(private readonly o: RouterOptions) {}

  private nextId(): string {
    return `${this.prefix}-${(++this.seq).toString(36).padStart(6, '0')}`;
  }

  private target(id: string, forAsk: boolean): Routable {
    if (this.closed) throw new RuntimeStoppingError();
    const a = this.o.agent(id);
    if (!a) throw new UnknownAgentError(id, this.o.agentIds());
    if (forAsk && a.unavailable) throw new AgentUnavailableError(id, a.machineState);
    return a;
  }

  /** Stores the message in the agent's mailbox; resolves once stored. */
  async send(to: string, message: unknown, from?: string): Promise<{ accepted: true; id: string }> {
    const a = this.target(to, false);
    const id = this.nextId();
    await this.o.mailbox(to).put({ id, kind: 'send', message, from, at: Date.now() });
    a.deliver();
    return { accepted: true, id };
  }

  /** Asks and waits for the reply, or rejects with `AgentTimeoutError` after `timeoutMs`. */
  ask(to: string, message: unknown, opts: { timeoutMs?: number; from?: string } = {}): Promise<unknown> {
    return new Promise((resolve, reject) => this.askThen(to, message, opts, (r) => (r.ok ? resolve(r.value) : reject(r.error))));
  }

  /**
   * `ask` with a callback, called once with the reply or the error. The hot
   * path of an ask between agents: the reply goes back to the asking agent in
   * the turn its answer arrives, and a message the mailbox stores at once
   * (asks are kept in memory) is delivered in the turn it was asked.
   */
  askThen(to: string, message: unknown, opts: { timeoutMs?: number; from?: string }, settle: (r: AskResult) => void): void {
    let a: Routable;
    try {
      a = this.target(to, true);
    } catch (e) {
      return settle({ ok: false, error: e as Error });
    }
    const timeoutMs = opts.timeoutMs ?? this.o.defaultTimeoutMs;
    const id = this.nextId();
    let stored: Promise<void> | void;
    try {
      stored = this.o.mailbox(to).put({ id, kind: 'ask', message, from: opts.from, at: Date.now(), timeoutMs });
    } catch (e) {
      stored = Promise.reject(e);
    }
    // Stored at once: the message is on its way before the bookkeeping (its
    // reply cannot arrive before this turn ends).
    if (!stored) a.deliver();
    const timer = setTimeout(() => {
      this.waiters.delete(id);
      this.o.agent(to)?.cancel(id);
      settle({ ok: false, error: new AgentTimeoutError(to, timeoutMs) });
    }, timeoutMs);
    this.waiters.set(id, { agent: to, settle, timer });
    stored?.then(
      () => a.deliver(),
      (e: Error) => {
        this.fail(id, e);
        a.deliver();
      },
    );
  }

  /** The agent finished a message: settle its asker, if any is still waiting. */
  complete(id: string, result: AskResult) {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
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

  get pending(): number {
    return this.waiters.size;
  }

  close() {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.fail(id, new RuntimeStoppingError());
  }
}
