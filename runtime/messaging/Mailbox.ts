/**
 * An agent's mailbox: messages wait here until the agent has handled them.
 * The runtime keeps one per agent for the whole run, so messages survive the
 * agent's restarts. Swappable: in memory, or the durable SQLite inbox.
 *
 * Delivery is at-least-once: `peek` hands out the head without removing it;
 * `ack` removes it once handled. A crash between the two redelivers it.
 */
export interface Envelope {
  /** Unique per runtime, increasing in arrival order. */
  id: string;
  kind: 'send' | 'ask';
  message: unknown;
  from?: string;
  /** Epoch ms when it was accepted. */
  at: number;
  /** Times it was handed to the agent and the agent died before finishing. */
  deliveries: number;
  /** For an ask: how long its asker waits for the reply (the message's SLA target). */
  timeoutMs?: number;
  /** The W3C trace context of the sender (its span), when tracing is on. */
  traceparent?: string;
}

export interface Mailbox {
  readonly agent: string;
  /**
   * Stores a message; resolves once it is stored (durably, for a durable
   * inbox). Returns nothing when the message was stored at once (in memory).
   */
  put(e: Omit<Envelope, 'deliveries'>): Promise<void> | void;
  /** The oldest message not yet acknowledged. */
  peek(): Envelope | undefined;
  /** Marks the head as handed to the agent (counts deliveries). */
  delivering(id: string): void;
  /** Removes a handled (or cancelled, or dead-lettered) message; returns nothing when it was removed at once. */
  ack(id: string): Promise<void> | void;
  readonly size: number;
}

export interface MailboxFactory {
  open(agent: string): Mailbox;
}

export class MemoryMailbox implements Mailbox {
  private items: Envelope[] = [];
  constructor(readonly agent: string) {}
  put(e: Omit<Envelope, 'deliveries'>): void {
    this.items.push({ ...e, deliveries: 0 });
  }
  peek() {
    return this.items[0];
  }
  delivering(id: string) {
    const e = this.items.find((x) => x.id === id);
    if (e) e.deliveries++;
  }
  ack(id: string) {
    const i = this.items.findIndex((x) => x.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }
  get size() {
    return this.items.length;
  }
}

