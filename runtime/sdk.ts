/**
 * The agent SDK: `defineAgent` and the types of an agent module and its
 * context. An agent module needs no import at all; this only adds types.
 *
 * ```ts
 * import { defineAgent } from 'faultline';
 * export default defineAgent({
 *   init: () => ({ count: 0 }),
 *   async onMessage(msg, ctx) { ctx.state.count += 1; await ctx.checkpoint(); return ctx.state.count; },
 * });
 * ```
 */

/** A pino-compatible logger whose lines reach the runtime's log stream with the agent's id. */
export interface AgentLogger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  fatal(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): AgentLogger;
}

/**
 * Chats take the OpenAI chat format whatever the model: a dependency with
 * `"api": "anthropic"` translates requests to the Messages API and replies
 * back, so one request fits every member of a mixed chain.
 */
export type ChatMessage = ChatTextMessage | ChatAssistantMessage | ChatToolMessage;
export interface ChatTextMessage { role: 'system' | 'user'; content: string }
/** A model's earlier turn; with `tool_calls` its content may be null. */
export interface ChatAssistantMessage { role: 'assistant'; content?: string | null; tool_calls?: ChatToolCall[] }
/** The result of one tool call, answering the assistant's call `tool_call_id`. */
export interface ChatToolMessage { role: 'tool'; tool_call_id: string; content: string }
/** A tool call the model asked for; `arguments` is a JSON string. */
export interface ChatToolCall { id: string; type: 'function'; function: { name: string; arguments: string } }
/** A tool the model may call; `parameters` is a JSON Schema of its arguments. */
export interface ChatTool { type: 'function'; function: { name: string; description?: string; parameters?: Record<string, unknown> } }
export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  max_tokens?: number;
  stream?: boolean;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  stop?: string | string[];
  [k: string]: unknown;
}
export interface ChatReply {
  /** The reply's text; '' when the reply is only tool calls. */
  content: string;
  model: string;
  dependency: string;
  stale?: boolean;
  usage?: { prompt_tokens: number; completion_tokens: number };
  tool_calls?: ChatToolCall[];
  finish_reason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  [k: string]: unknown;
}

/** A text delta of a streamed chat; `model` names the model answering. */
export interface ChatDelta { delta: string; model: string; done?: undefined }
/** The last chunk of a streamed chat: who answered, usage and how it finished. */
export interface ChatDone {
  done: true;
  model: string;
  dependency: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  finish_reason?: ChatReply['finish_reason'];
  tool_calls?: ChatToolCall[];
}
export type ChatChunk = ChatDelta | ChatDone;

/** A model chain as `ctx.model(chain)` gives it. */
export interface ModelChain {
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatReply>;
  /**
   * Streams the reply: text deltas as they arrive, then one `done` chunk. A
   * failure before the first delta is retried or falls back like `chat`; one
   * after it throws `StreamInterruptedError`, whose `partial` is the text so far.
   */
  stream(request: ChatRequest, options?: Pick<CallOptions, 'point' | 'timeoutMs'>): AsyncIterable<ChatChunk>;
}

import type { DependencyHealth } from './protocol/schema/status.ts';
import type { McpTool } from './protocol/schema/mcp.ts';
export type { DependencyHealth, McpTool };

/** What `ctx.call` takes for a `kind: "mcp"` dependency: the tool to call and its arguments. */
export interface McpToolCall { tool: string; arguments?: Record<string, unknown> }

/**
 * What an MCP tool call returns (the protocol's `CallToolResult`). With
 * `isError: true` the tool ran and failed: the call is not retried, and the
 * agent decides what to do with `content`.
 */
export interface McpCallToolResult {
  content: { type: string; text?: string; [k: string]: unknown }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [k: string]: unknown;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The HTTP request a `kind: "http"` dependency makes for one `ctx.call`. */
export interface HttpCallOptions {
  /** Default `POST`. `GET` and `HEAD` send no body; `DELETE` sends one only when the request is not null. */
  method?: HttpMethod;
  /** Appended to the dependency's url (`/items/42` under `http://host/api` is `http://host/api/items/42`); it cannot leave the url's origin. */
  path?: string;
  /** Query parameters; an array repeats the parameter. */
  query?: Record<string, string | number | boolean | (string | number | boolean)[]>;
  /** Extra request headers; the dependency's own headers and its API key win. */
  headers?: Record<string, string>;
}

export interface CallOptions {
  /** Names this call site so a fault can target it. */
  point?: string;
  timeoutMs?: number;
  /** For `kind: "http"` dependencies: method, path, query and headers (default: the request POSTed as JSON to the url). */
  http?: HttpCallOptions;
}

/** What the runtime gives an agent's handlers. */
export interface AgentContext<S = any> {
  /** This agent's id. */
  readonly id: string;
  /** The restored or initial state; mutate it and `checkpoint()`. */
  state: S;
  /** Free-form `options` from the agent's config entry. */
  readonly options: Record<string, unknown>;
  /** Stores the current state durably; resolves once stored. */
  checkpoint(): Promise<void>;
  /** Queues a message for another agent; resolves once the message is accepted. */
  send(agentId: string, message: unknown): Promise<void>;
  /** Asks another agent and waits for its reply, or rejects with `AgentTimeoutError`. */
  ask<R = unknown>(agentId: string, message: unknown, options?: { timeoutMs?: number }): Promise<R>;
  /** Chats through a model fallback chain named in the config's `models`. */
  model(chain: string): ModelChain;
  /**
   * Calls a dependency through its retry and circuit breaker policy. For an
   * `mcp` dependency the request is `{ tool, arguments }` and the reply the
   * tool's `McpCallToolResult`.
   */
  call<R = unknown>(dependencyId: string, request: unknown, options?: CallOptions): Promise<R>;
  /** The tools of an `mcp` dependency's server, listed through its policy. */
  tools(dependencyId: string, options?: Pick<CallOptions, 'point' | 'timeoutMs'>): Promise<McpTool[]>;
  /** The health of a dependency as the runtime sees it. */
  health(dependencyId: string): Promise<DependencyHealth>;
  /**
   * Sends a piece of the reply ahead of the return value, to an asker that
   * streams it (`faultline ask --stream`, control `ask` with `stream: true`);
   * a no-op for any other message.
   */
  streamReply(delta: string): void;
  /**
   * Suspends the handling of the current message until a signal named `name`
   * arrives for this agent (`faultline signal <agent> <name> <json>`, control
   * method `signal`), and resolves with its payload. The wait is durable: it
   * is journaled like a completed call, so after a crash of the agent or of
   * the runtime the redelivered message waits again (keeping the first
   * delivery's deadline), or gets at once the signal that came meanwhile.
   * Each signal is taken by one wait; one that comes while no wait of its
   * name is pending is kept until one is. With `timeoutMs`, rejects with a
   * `WaitTimeoutError` when no signal came in time. Only while handling a
   * message (not in `init` or `onStart`).
   */
  waitFor<T = unknown>(name: string, options?: WaitOptions): Promise<T>;
  readonly log: AgentLogger;
  /** Aborted when the agent is being stopped. */
  readonly signal: AbortSignal;
}

/** Options of `ctx.waitFor`. */
export interface WaitOptions {
  /** Give up after this many milliseconds (counted from the first delivery's wait): rejects with `WaitTimeoutError`. */
  timeoutMs?: number;
}

export interface MessageMeta { kind: 'send' | 'ask'; from?: string }

/** An agent module's default export. */
export interface AgentDefinition<S = any, M = any, R = unknown> {
  /** Checkpoint schema version (default 1). */
  version?: number;
  /** Cold-start state. */
  init?: (ctx: Omit<AgentContext<S>, 'state'>) => S | Promise<S>;
  /** Handles one message; the return value is the reply to `ask`. */
  onMessage(message: M, ctx: AgentContext<S>, meta: MessageMeta): R | Promise<R>;
  /** Upgrades a checkpoint written with an older `version`. */
  migrate?: (old: unknown, fromVersion: number) => S;
  /** Compacts a long state into a bounded one. */
  summarize?: (state: S) => S;
  /** Called once the agent is started and its state restored. */
  onStart?: (ctx: AgentContext<S>) => void | Promise<void>;
  /** Called on a graceful stop, before the host exits. */
  onStop?: (ctx: AgentContext<S>) => void | Promise<void>;
}

/** Identity helper that only adds types. */
export function defineAgent<S = any, M = any, R = unknown>(agent: AgentDefinition<S, M, R>): AgentDefinition<S, M, R> {
  return agent;
}

export type { RuntimeStatus, AgentStatus, SupervisorStatus, NodeState } from './protocol/status.ts';
export { WaitTimeoutError } from './waits/WaitTimeoutError.ts';
