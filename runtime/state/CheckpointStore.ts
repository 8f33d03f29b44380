/**
 * Where agent state is kept between incarnations. The runtime core uses only
 * this interface; the SQLite store is the default, the memory store serves
 * unit tests and `checkpoints.store: "memory"`. Everything SQL-specific stays
 * inside the SQLite store, so a PostgreSQL store can come later.
 */
import type { MailboxFactory } from '../messaging/Mailbox.ts';
import type { Disposable } from '../protocol/emitter.ts';
import type { StoreHealth } from './StoreHealth.ts';
import type { Verified } from './payload.ts';

export type { Disposable } from '../protocol/emitter.ts';

/**
 * `full`: a handled message's state; `summary`: compacted by `summarize`;
 * `restore`: a copy of an older checkpoint's state appended by
 * `faultline restore` (history is not rewritten); `fork`: the first
 * checkpoint of an agent forked from another's checkpoint.
 */
export type CheckpointKind = 'full' | 'summary' | 'restore' | 'fork';

export interface CheckpointInput {
  agent: string;
  /** The agent module's `version`. */
  version: number;
  /** Plain JSON data (an xstate persisted snapshot is fine). */
  state?: unknown;
  /**
   * The state as JSON text, when the caller has it already (an agent host
   * serializes it once, to see whether it changed): stored as it is, and
   * `state` is not serialized again.
   */
  json?: string;
  /** `summary` when the state was just compacted by `summarize` (default `full`). */
  kind?: CheckpointKind;
  /**
   * Id of the inbox message whose handling this checkpoint completes. The
   * message leaves the agent's inbox, and its call journal is cleared, in the
   * same transaction as the checkpoint: a crash either keeps both the old
   * state and the message, or neither, so a redelivered message is never
   * counted twice in the state.
   */
  ack?: string;
}

/** A row of `list` (and of `faultline checkpoints --json`): the protocol's shape. */
export type { CheckpointInfo } from '../protocol/schema/methods.ts';
import type { CheckpointInfo } from '../protocol/schema/methods.ts';

/** One checkpoint as `get` reads it: its row, and its state or what is wrong with it. */
export interface StoredCheckpoint {
  info: CheckpointInfo;
  /** The parsed state (`ok`), or why the payload fails its checksum or does not parse. */
  verified: Verified;
}

/** The store kinds `checkpoints.store` names. */
export type StoreKind = CheckpointInfo['store'];

export interface Restored {
  state: unknown;
  version: number;
  seq: number;
  kind: CheckpointKind;
  /** ISO time the checkpoint was written. */
  time: string;
  /** Corrupt checkpoints skipped to reach this one (newest first). */
  skipped: number[];
}

/**
 * A corrupt checkpoint `latest` skipped (or an inbox message that no longer
 * parses, set aside when its mailbox opened); the runtime logs it, counts it
 * and raises an alert.
 */
export interface FallbackEvent {
  what: 'checkpoint' | 'message';
  agent: string;
  /** The checkpoint's seq, or the inbox row's position. */
  seq: number;
  reason: 'checksum' | 'parse';
  /** What failed, for the log line. */
  detail: string;
}

export interface WriteErrorEvent {
  agent: string;
  what: 'ack' | 'delivering';
  /** The message id. */
  id: string;
  error: Error;
}

export interface CheckpointStore {
  /** Which store this is (absent: a store of the caller's own, treated as embedded). */
  readonly kind?: StoreKind;
  /** A server store's URL (shown with its password redacted). */
  readonly url?: string;
  /** A server store's reachability; embedded stores have none. */
  readonly health?: StoreHealth;
  /** Stores a checkpoint; resolves once it is durable (its transaction committed). */
  put(c: CheckpointInput): Promise<{ seq: number }>;
  /**
   * The newest valid checkpoint, falling back past corrupt ones (each one
   * reported through `onFallback`); null: none left, cold start. Never
   * rejects because of corrupt data.
   */
  latest(agent: string): Promise<Restored | null>;
  /** The agent's retained checkpoints, oldest first, each checked. */
  list(agent: string): Promise<CheckpointInfo[]>;
  /**
   * One retained checkpoint with its state, checked (a corrupt one comes
   * back with `verified.ok` false, never as a rejection); null: no such seq
   * (never written, or pruned).
   */
  get(agent: string, seq: number): Promise<StoredCheckpoint | null>;
  /** Reports each corrupt checkpoint `latest` skips. */
  onFallback(listener: (e: FallbackEvent) => void): Disposable;
  /**
   * Reports writes nobody may be waiting for that failed: an inbox `ack` or
   * delivery count. The message stays stored and is delivered again, so this
   * is for the log, not for recovery.
   */
  onWriteError(listener: (e: WriteErrorEvent) => void): Disposable;

  /** The agents' inboxes in this store (durable for SQLite); one mailbox per agent. */
  inboxes(): MailboxFactory;

  /** Stores runtime state under a key (restart history, breaker `toJSON()`); resolves once durable. */
  putMeta(key: string, value: unknown): Promise<void>;
  /** The value stored under `key`, or undefined. */
  getMeta<T = unknown>(key: string): Promise<T | undefined>;

  /** Records the result of call number `callIndex` (0-based) made while handling message `msgId`. */
  journalCall(agent: string, msgId: string, callIndex: number, result: unknown): Promise<void>;
  /** Results journaled for the message, by call index, up to the first missing one. */
  journaled(agent: string, msgId: string): Promise<unknown[]>;
  /** Forgets the message's journal (also done by `put` with `ack`). */
  clearJournal(agent: string, msgId: string): Promise<void>;

  /** Fault injection: damages the newest checkpoint's payload, leaving its checksum; the seq or null. */
  corruptLatest(agent: string): Promise<number | null>;
  /** Fault injection: deletes the newest checkpoint; the seq or null. */
  dropLatest(agent: string): Promise<number | null>;

  /** The blob keys the store's rows reference (stores that keep blobs). */
  referencedBlobs?(): Promise<Set<string>>;

  /** Commits pending writes and releases the store. */
  close(): Promise<void>;
}

export interface RetentionOptions {
  /** Checkpoints kept per agent (default 20); the newest valid one is always kept. */
  retain?: number;
  /** Also keep every checkpoint younger than this (default 0: off). */
  retainMaxAgeMs?: number;
}

export const DEFAULT_RETAIN = 20;

export { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
