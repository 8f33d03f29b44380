/**
 * The durable inbox: each agent's mailbox kept in the state file. A `put`
 * resolves once the message's row has committed (group-committed with every
 * other write), so an accepted message survives a kill -9 of the runtime and
 * comes back, in order, when the file is reopened. Reads never touch the
 * disk: each mailbox keeps an in-memory mirror loaded when it is opened.
 *
 * Asks are kept in memory only, in order with the sends. An ask's reply goes
 * to a caller that does not survive the runtime: an outside client sees its
 * connection drop and retries, and an agent that asked is itself handling a
 * durable message, which is redelivered and asks again. Storing asks would
 * only add a write per request and replay requests nobody waits for.
 */
import type { Statement } from 'better-sqlite3';
import type { Envelope, Mailbox, MailboxFactory } from '../messaging/Mailbox.ts';
import type { StateDb } from './StateDb.ts';
import type { Emitter } from '../protocol/emitter.ts';
import type { FallbackEvent, WriteErrorEvent } from './CheckpointStore.ts';
import { toPayload } from './payload.ts';
import { FaultlineError } from '../errors.ts';

/** A message id already waiting in the inbox; acknowledging by id would be ambiguous. */
export class DuplicateMessageIdError extends FaultlineError {
  constructor(readonly agent: string, readonly id: string) {
    super(`Message id "${id}" is already waiting in the inbox of agent "${agent}"; message ids must be unique across runs of the runtime`);
  }
}

interface Entry {
  env: Envelope;
  /** The row's key, known once its insert has run. */
  pos?: number;
  /** An ask: never written to disk. */
  memory?: boolean;
}

interface Row {
  pos: number;
  id: string;
  kind: Envelope['kind'];
  message: string;
  from_agent: string | null;
  traceparent: string | null;
  at: number;
  deliveries: number;
}

interface Statements {
  insert: Statement;
  remove: Statement;
  deliver: Statement;
  load: Statement;
}

/** An agent's durable mailbox. Obtain it from `SqliteInboxes.open`. */
export class SqliteInbox implements Mailbox {
  private items: Entry[] = [];

  /** @internal */
  constructor(
    readonly agent: string,
    private readonly sdb: StateDb,
    private readonly stmts: Statements,
    corrupt: Emitter<FallbackEvent>,
    private readonly writeErrors: Emitter<WriteErrorEvent>,
  ) {
    for (const r of stmts.load.all(agent) as Row[]) {
      let message: unknown;
      try {
        message = JSON.parse(r.message);
      } catch (e) {
        // The row stays on disk for inspection; delivering garbage would only crash the agent.
        corrupt.fire({ what: 'message', agent, seq: r.pos, reason: 'parse', detail: `inbox message ${r.id} does not parse: ${(e as Error).message}` });
        continue;
      }
      const env: Envelope = { id: r.id, kind: r.kind, message, at: r.at, deliveries: r.deliveries };
      if (r.from_agent !== null) env.from = r.from_agent;
      if (r.traceparent !== null) env.traceparent = r.traceparent;
      this.items.push({ env, pos: r.pos });
    }
  }

  /** Stores a message; resolves once its row has committed. An ask is kept in memory at once and returns nothing. */
  put(e: Omit<Envelope, 'deliveries'>): Promise<void> | void {
    if (this.indexOf(e.id) >= 0) return Promise.reject(new DuplicateMessageIdError(this.agent, e.id));
    if (e.kind === 'ask') {
      this.items.push({ env: { ...e, deliveries: 0 }, memory: true });
      return;
    }
    let message: string;
    try {
      message = toPayload(e.message);
    } catch (err) {
      return Promise.reject(err);
    }
    const entry: Entry = { env: { ...e, deliveries: 0 } };
    // Visible to peek at once, like the memory mailbox: the handling's
    // checkpoint is queued after this insert, so it cannot commit before it.
    this.items.push(entry);
    return this.sdb.writer
      .enqueue(
        () => {
          entry.pos = Number(this.stmts.insert.run(this.agent, e.id, e.kind, message, e.from ?? null, e.at, e.traceparent ?? null).lastInsertRowid);
        },
        () => (entry.pos = undefined),
      )
      .then(
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

  /** Where a message is in the mirror; usually the head, the one being handled. */
  private indexOf(id: string): number {
    return this.items[0]?.env.id === id ? 0 : this.items.findIndex((x) => x.env.id === id);
  }

  /** Counts a delivery; durable with the next commit (a lost count only errs toward one more delivery). */
  delivering(id: string): void {
    const entry = this.items[this.indexOf(id)];
    if (!entry) return;
    entry.env.deliveries++;
    if (entry.memory) return;
    this.sdb.writer
      .enqueue(() => {
        if (entry.pos !== undefined) this.stmts.deliver.run(entry.pos);
      })
      // The in-memory count still guards dead-lettering during this run.
      .catch((error) => this.writeErrors.fire({ agent: this.agent, what: 'delivering', id, error }));
  }

  /**
   * Removes a message: at once from `peek`, durably when the returned promise
   * resolves. Acknowledging an unknown (or already acknowledged) id is a no-op.
   * If the delete fails the message is back at its place and the promise
   * rejects; a caller that does not wait (`void box.ack(id)`) gets no
   * unhandled rejection, the failure goes to `onWriteError`. An ask (kept in
   * memory only) is removed at once and nothing is returned.
   */
  ack(id: string): Promise<void> | void {
    const i = this.indexOf(id);
    if (i >= 0 && this.items[i].memory) {
      this.items.splice(i, 1);
      return;
    }
    const taken = this.take(id);
    if (!taken) return Promise.resolve();
    const done = this.sdb.writer.enqueue(taken.apply).then(undefined, (error) => {
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
   * Takes a message out of the mirror for a removal that commits inside
   * another write (a checkpoint's transaction). `apply` runs in that
   * transaction; `restore` puts the message back if it fails.
   * @internal
   */
  take(id: string): { apply: () => void; restore: () => void } | undefined {
    const i = this.indexOf(id);
    if (i < 0) return undefined;
    const [entry] = this.items.splice(i, 1);
    return {
      apply: () => {
        if (entry.pos !== undefined && !entry.memory) this.stmts.remove.run(entry.pos);
      },
      restore: () => {
        if (this.items.includes(entry)) return;
        // Back to its place in arrival order; a message is never reordered by a failed ack.
        const at = this.items.findIndex((x) => x.pos === undefined || (entry.pos !== undefined && x.pos > entry.pos));
        this.items.splice(at < 0 ? this.items.length : at, 0, entry);
      },
    };
  }
}

/** Opens the durable mailboxes of a state file; one instance per agent. */
export class SqliteInboxes implements MailboxFactory {
  private boxes = new Map<string, SqliteInbox>();
  private readonly stmts: Statements;

  constructor(
    private readonly sdb: StateDb,
    private readonly corrupt: Emitter<FallbackEvent>,
    private readonly writeErrors: Emitter<WriteErrorEvent>,
  ) {
    const db = sdb.db;
    this.stmts = {
      insert: db.prepare('INSERT INTO inbox (agent, id, kind, message, from_agent, at, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM inbox WHERE pos = ?'),
      deliver: db.prepare('UPDATE inbox SET deliveries = deliveries + 1 WHERE pos = ?'),
      load: db.prepare('SELECT pos, id, kind, message, from_agent, traceparent, at, deliveries FROM inbox WHERE agent = ? ORDER BY pos'),
    };
  }

  /** The agent's mailbox, with the messages left from earlier runs at its head. */
  open(agent: string): SqliteInbox {
    let box = this.boxes.get(agent);
    if (!box) this.boxes.set(agent, (box = new SqliteInbox(agent, this.sdb, this.stmts, this.corrupt, this.writeErrors)));
    return box;
  }

  /** Agents with messages waiting on disk, so the runtime can tell about messages to agents no longer configured. */
  agentsWithMessages(): string[] {
    return (this.sdb.db.prepare('SELECT DISTINCT agent FROM inbox ORDER BY agent').all() as { agent: string }[]).map((r) => r.agent);
  }
}
