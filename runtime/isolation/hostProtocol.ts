/**
 * Messages between the runtime and an agent host (a forked process or a
 * worker thread). Internal to the runtime; kept small because every restart
 * and every message crosses it.
 */
import type { SerializedError } from '../errors.ts';
import type { ChatRequest } from '../sdk.ts';

export interface AgentLoadSpec {
  id: string;
  /** Absolute path of the (compiled) module to import. */
  module: string;
  supervisor: string;
  heartbeatMs: number;
  options: Record<string, unknown>;
  /** The config's directory: call sites are named relative to it (`agents/x.mjs:12`). */
  baseDir: string;
  /**
   * When the state is checkpointed: `message` after each handled message whose
   * state changed (default), `call` also after each ctx.call / ctx.model
   * reply, `manual` only on ctx.checkpoint().
   */
  checkpoint: 'message' | 'call' | 'manual';
  /** When a state grows past these, it is summarized before it is checkpointed. */
  summarize?: { maxBytes?: number; maxEntries?: number; keepLast?: number; model?: string };
}

export interface RestoredState {
  state: unknown;
  /** The module `version` the state was written with. */
  version: number;
  seq: number;
}

/** Operations an agent asks of the runtime through `ctx`. */
export type HostOp = 'send' | 'ask' | 'checkpoint' | 'call' | 'model' | 'stream' | 'health' | 'tools' | 'wait';

/** The `args` of each `ctx` operation a host requests (`{ t: 'req', op, args }`). */
export interface HostOpArgs {
  send: { agent: string; message: unknown };
  ask: { agent: string; message: unknown; timeoutMs?: number };
  /** The state as JSON text: serialized once, in the host. */
  checkpoint: { json: string; version: number };
  call: { dependency: string; request: unknown; point?: string; timeoutMs?: number; http?: unknown };
  model: { chain: string; request: ChatRequest; point?: string; timeoutMs?: number; http?: unknown };
  /** A streamed chat: `chunk` messages carry the deltas, the `res` the assembled reply. */
  stream: { chain: string; request: ChatRequest; point?: string; timeoutMs?: number };
  health: { dependency: string };
  tools: { dependency: string; point?: string; timeoutMs?: number };
  /** `ctx.waitFor`: answered with the signal's payload, or a `WaitTimeoutError`. */
  wait: { name: string; timeoutMs?: number };
}

/** Answers one `ctx` operation of an agent; a `stream` op also passes each text delta to `chunk` before it resolves. */
export type HostOpHandler<O extends HostOp> = (agent: string, args: HostOpArgs[O], chunk?: (delta: string, model: string) => void) => Promise<unknown>;

/** The `ctx` operations other parts of the runtime answer (the dependency wiring: call, model, tools, health). */
export interface HostOpHandlers {
  get<O extends HostOp>(op: O): HostOpHandler<O> | undefined;
  set<O extends HostOp>(op: O, handler: HostOpHandler<O>): unknown;
}

export type ToHost =
  | { t: 'load'; agent: AgentLoadSpec; restored: RestoredState | null; crashOnStart?: boolean }
  /** `fault: 'crash'` makes the handler throw an injected error instead of running. */
  | { t: 'msg'; id: number; kind: 'send' | 'ask'; message: unknown; from?: string; fault?: 'crash'; /** The asker takes the reply streamed (`ctx.streamReply`). */ stream?: true }
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: SerializedError }
  /** A text delta of the `stream` request `id`; the host acknowledges each one (`ack`). */
  | { t: 'chunk'; id: number; delta: string; model: string }
  | { t: 'stop' }
  /** Faults that act inside the host: `hang` (no heartbeats, no handling), `unhang`, `memory` (grow until the heap limit). */
  | { t: 'fault'; fault: 'hang' | 'unhang' | 'memory'; params?: Record<string, unknown> };

export type FromHost =
  | { t: 'spare' }
  | { t: 'ready'; restored: boolean; version: number }
  | { t: 'loadError'; error: SerializedError }
  | { t: 'hb' }
  /** `json` (the state as JSON text) is there when the state changed and is to be checkpointed with the message's acknowledgement. */
  | { t: 'done'; id: number; ok: true; value: unknown; json?: string; kind?: 'full' | 'summary' }
  | { t: 'done'; id: number; ok: false; error: SerializedError; crash: boolean }
  | { t: 'req'; id: number; op: HostOp; args: unknown }
  /** A piece of the reply to the message being handled (`ctx.streamReply`), sent only when its asker streams. */
  | { t: 'reply'; delta: string }
  /** The agent took a `chunk` of the stream `id`. */
  | { t: 'ack'; id: number }
  | { t: 'log'; level: string; msg: string; fields?: Record<string, unknown> };
