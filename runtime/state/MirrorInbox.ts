/**
 * The durable inbox of a server store (PostgreSQL, Redis): each agent's
 * messages kept on the server, mirrored in memory so that `peek` never waits
 * for the network. The mirror is loaded once, when the store opens; a `put`
 * resolves once the server has the message; an `ack` removes it at once from
 * `peek` and from the server with the next write (or inside the checkpoint
 * that completes its handling, through `take`).
 *
 * As in the SQLite inbox, asks live in memory only: their caller does not
 * survive the runtime, so storing them would only replay requests nobody
 * waits for.
 */
import type { Envelope, Mailbox, MailboxFactory } from '../messaging/Mailbox.ts';
import type { Emitter } from '../protocol/emitter.ts';
import type { WriteErrorEvent } from './CheckpointStore.ts';
import { DuplicateMessageIdError } from './SqliteInbox.ts';
import { toPayload } from './payload.ts';

/** How the mirror reaches the server: each call resolves once durable. */
export interface InboxBackend {
  insert(agent: string, e: Omit<Envelope, 'deliveries'>, message: string): Promise<void>;
  deliver(agent: string, id: string): Promise<void>;
  remove(agent: string, id: string): Promise<void>;
}

interface Entry {
  env: Envelope;
  /** An ask: never written to the server. */
  memory?: boolean;
  /** Arrival order, to put a message back at its place. */
  order: number;
}

/** An agent's mirrored durable mailbox. Obtain it from `MirrorInboxes.open`. */
export class MirrorInbox implements Mailbox {
  private items: Entry[] = [];
  private order = 0;
  /** Ids taken out while a refresh reads the server (their removal may not have committed yet). */
  private readonly watchers = new Set<Set<string>>();

  constructor(
    readonly agent: string,
    stored: Envelope[],
    private readonly backend: InboxBackend,
    private readonly writeErrors: Emitter<WriteErrorEvent>,
  ) {
    for (const env of stored) this.items.push({ env, order: this.order++ });
  }

  put(e: Omit<Envelope, 'deliveries'>): Promise<void> | void {
    if (this.indexOf(e.id) >= 0) return Promise.reject(new DuplicateMessageIdError(this.agent, e.id));
    if (e.kind === 'ask') {
      this.items.push({ env: { ...e, deliveries: 0 }, memory: true, order: this.order++ });
      return;
    }
    let message: string;
    try {
      message = toPayload(e.message);
    } catch (err) {
      return Promise.reject(err);
    }
    const entry: Entry = { env: { ...e, deliveries: 0 }, order: this.order++ };
    // Visible to peek at once: the store writes in order, so the handling's
    // checkpoint cannot commit before this insert.
    this.items.push(entry);
    return this.backend.insert(this.agent, e, message).then(
      () => undefined,
      (err) => {
        const i = this.items.indexOf(entry);
        if (i >= 0) this.items.splice(i, 1);
        throw err;
      },
    );
  }

  peek(): Envelope | undefined {
    return this.items[0]?.env;
  }

  private indexOf(id: string): number {
    return this.items[0]?.env.id === id ? 0 : this.items.findIndex((x) => x.env.id === id);
  }

  delivering(id: string): void {
    const entry = this.items[this.indexOf(id)];
    if (!entry) return;
    entry.env.deliveries++;
    if (entry.memory) return;
    this.backend.deliver(this.agent, id).catch((error) => this.writeErrors.fire({ agent: this.agent, what: 'delivering', id, error }));
  }

  ack(id: string): Promise<void> | void {
    const i = this.indexOf(id);
    if (i >= 0 && this.items[i].memory) {
      this.items.splice(i, 1);
      for (const w of this.watchers) w.add(id);
      return;
    }
    const taken = this.take(id);
    if (!taken) return Promise.resolve();
    const done = this.backend.remove(this.agent, id).then(undefined, (error) => {
      taken.restore();
      this.writeErrors.fire({ agent: this.agent, what: 'ack', id, error });
      throw error;
    });
    done.catch(() => undefined);
    return done;
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * Takes a message out of the mirror for a removal the caller writes inside
   * another write (a checkpoint's); `restore` puts it back if that fails.
   * `stored` is false for an ask, which has nothing on the server to remove.
   * @internal
   */
  take(id: string): { stored: boolean; restore: () => void } | undefined {
    const i = this.indexOf(id);
    if (i < 0) return undefined;
    const [entry] = this.items.splice(i, 1);
    for (const w of this.watchers) w.add(id);
    return {
      stored: !entry.memory,
      restore: () => {
        if (this.items.includes(entry)) return;
        const at = this.items.findIndex((x) => x.order > entry.order);
        this.items.splice(at < 0 ? this.items.length : at, 0, entry);
      },
    };
  }
  /**
   * Adds the messages `load` reads from the server that the mirror does not
   * hold (put there by another node); the ones taken out meanwhile (handled
   * here, their removal not yet committed when the server was read) are
   * skipped. The number added.
   * @internal
   */
  async refresh(load: () => Promise<Envelope[]>): Promise<number> {
    const taken = new Set<string>();
    this.watchers.add(taken);
    let stored: Envelope[];
    try {
      stored = await load();
    } finally {
      this.watchers.delete(taken);
    }
    const have = new Set(this.items.map((x) => x.env.id));
    let added = 0;
    for (const env of stored) {
      if (have.has(env.id) || taken.has(env.id)) continue;
      this.items.push({ env, order: this.order++ });
      added++;
    }
    return added;
  }

  /**
   * Replaces the stored messages of the mirror with what the server holds:
   * before the agent starts on a node that just took it over (asks already
   * waiting for it stay), or with nothing once another node runs it.
   * @internal
   */
  replace(stored: Envelope[], keepAsks: boolean): void {
    const asks = keepAsks ? this.items.filter((x) => x.memory) : [];
    this.items = [...stored.map((env) => ({ env, order: this.order++ })), ...asks];
  }
}

/** The mirrored mailboxes of a server store; one per agent, loaded when the store opened. */
export class MirrorInboxes implements MailboxFactory {
  private boxes = new Map<string, MirrorInbox>();

  constructor(
    private readonly stored: Map<string, Envelope[]>,
    private readonly backend: InboxBackend,
    private readonly writeErrors: Emitter<WriteErrorEvent>,
  ) {}

  open(agent: string): MirrorInbox {
    let box = this.boxes.get(agent);
    if (!box) {
      box = new MirrorInbox(agent, this.stored.get(agent) ?? [], this.backend, this.writeErrors);
      this.stored.delete(agent);
      this.boxes.set(agent, box);
    }
    return box;
  }

  /** Agents with messages waiting on the server. */
  agentsWithMessages(): string[] {
    const out = new Set<string>();
    for (const [agent, msgs] of this.stored) if (msgs.length) out.add(agent);
    for (const [agent, box] of this.boxes) if (box.size) out.add(agent);
    return [...out].sort();
  }
}
