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

interface Waiter {
  agent: string;
  timeoutMs: number;
  resolve(v: unknown): void;
  reject(e: Error): void;
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
  async ask(to: string, message: unknown, opts: { timeoutMs?: number; from?: string } = {}): Promise<unknown> {
    const a = this.target(to, true);
    const timeoutMs = opts.timeoutMs ?? this.o.defaultTimeoutMs;
    const id = this.nextId();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        this.o.agent(to)?.cancel(id);
        reject(new AgentTimeoutError(to, timeoutMs));
      }, timeoutMs);
      this.waiters.set(id, { agent: to, timeoutMs, resolve, reject, timer });
    });
    try {
      await this.o.mailbox(to).put({ id, kind: 'ask', message, from: opts.from, at: Date.now() });
    } catch (e) {
      this.fail(id, e as Error);
    }
    a.deliver();
    return reply;
  }

  /** The agent finished a message: settle its asker, if any is still waiting. */
  complete(id: string, result: { ok: true; value: unknown } | { ok: false; error: Error }) {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    if (result.ok) w.resolve(result.value);
    else w.reject(result.error);
  }

  /** The timeout of a pending ask (its SLA target), if one waits for this envelope. */
  timeoutOf(id: string): number | undefined {
    return this.waiters.get(id)?.timeoutMs;
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
