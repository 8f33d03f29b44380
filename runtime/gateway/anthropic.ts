/**
 * The OpenAI chat format ↔ Anthropic's Messages API, both ways, as pure
 * functions: a request in the one shape every chain member takes becomes a
 * Messages request; a Messages reply, whole or as its stream of events,
 * becomes a ChatReply. See anthropicTransport.ts for the HTTP side.
 */
import { ANTHROPIC_ERROR_TYPES, isRetryableHttp } from './classify.ts';
import { ContentFilterError, DependencyHttpError, InvalidCallError, MalformedResponseError } from './errors.ts';
import { chatReply } from './chatTransport.ts';
import type { ChatMessage, ChatReply, ChatRequest, ChatTool, ChatToolCall, ChatToolChoice } from '../sdk.ts';
import type { ResolvedDependency } from './policyConfig.ts';

/** Anthropic requires `max_tokens`; a request without one gets this. */
export const DEFAULT_MAX_TOKENS = 4096;

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string };

export interface AnthropicMessage { role: 'user' | 'assistant'; content: AnthropicBlock[] }

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string };
  stream?: boolean;
}

/**
 * A chat request in the OpenAI format as a Messages request: system messages
 * become `system`; tool calls and their results become tool_use and
 * tool_result blocks; consecutive messages of one role are merged (Anthropic
 * wants user and assistant turns to alternate). Fields the Messages API has
 * no counterpart for (n, seed, response_format, …) are not sent.
 */
export function toMessagesRequest(dependency: string, req: ChatRequest, model: string): AnthropicRequest {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const add = (role: AnthropicMessage['role'], content: AnthropicBlock[]) => {
    if (!content.length) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  req.messages.forEach((m: ChatMessage | { role: string; content?: unknown }, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(dependency, m.content, i);
        if (text) system.push(text);
        return;
      }
      case 'user':
        return add('user', userBlocks(dependency, m.content, i));
      case 'assistant': {
        const a = m as Extract<ChatMessage, { role: 'assistant' }>;
        const blocks: AnthropicBlock[] = textBlocks(textOf(dependency, a.content ?? '', i));
        for (const c of a.tool_calls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.function.name, input: toolInput(dependency, c, i) });
        return add('assistant', blocks);
      }
      case 'tool': {
        const t = m as Extract<ChatMessage, { role: 'tool' }>;
        if (typeof t.tool_call_id !== 'string') throw new InvalidCallError(dependency, `messages[${i}] (role "tool") needs a tool_call_id`);
        return add('user', [{ type: 'tool_result', tool_use_id: t.tool_call_id, content: textOf(dependency, t.content, i) }]);
      }
      default:
        throw new InvalidCallError(dependency, `messages[${i}] has role "${m.role}", which the Messages API does not take`);
    }
  });
  const out: AnthropicRequest = { model, max_tokens: positive(req.max_tokens) ?? positive(req.max_completion_tokens) ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length) out.system = system.join('\n\n');
  // Anthropic's temperature runs 0..1 (OpenAI's 0..2): higher is capped rather than refused.
  if (typeof req.temperature === 'number') out.temperature = Math.min(1, Math.max(0, req.temperature));
  if (typeof req.top_p === 'number') out.top_p = req.top_p;
  const stop = typeof req.stop === 'string' ? [req.stop] : Array.isArray(req.stop) ? req.stop.filter((s) => typeof s === 'string' && s) : [];
  if (stop.length) out.stop_sequences = stop;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => toolOf(dependency, t));
    if (req.tool_choice !== undefined) out.tool_choice = toolChoiceOf(dependency, req.tool_choice);
  }
  if (req.stream === true) out.stream = true;
  return out;
}

function positive(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isInteger(x) && x > 0 ? x : undefined;
}

function textBlocks(text: string): AnthropicBlock[] {
  // The Messages API refuses empty text blocks.
  return text ? [{ type: 'text', text }] : [];
}

/** A message's content as text: a string, or the text of its `text` parts. */
function textOf(dependency: string, content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) return content.map((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : unsupportedPart(dependency, p, i))).join('');
  throw new InvalidCallError(dependency, `messages[${i}].content must be a string or an array of content parts`);
}

/** A user message's blocks: text, and images given as data: or http(s) URLs (`image_url` parts). */
function userBlocks(dependency: string, content: unknown, i: number): AnthropicBlock[] {
  if (!Array.isArray(content)) return textBlocks(textOf(dependency, content, i));
  const blocks: AnthropicBlock[] = [];
  for (const p of content as { type?: unknown; text?: unknown; image_url?: { url?: unknown } }[]) {
    if (p?.type === 'text' && typeof p.text === 'string') blocks.push(...textBlocks(p.text));
    else if (p?.type === 'image_url' && typeof p.image_url?.url === 'string') {
      const url = p.image_url.url;
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
      blocks.push({ type: 'image', source: data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url } });
    } else unsupportedPart(dependency, p, i);
  }
  return blocks;
}

function unsupportedPart(dependency: string, p: { type?: unknown } | null, i: number): never {
  throw new InvalidCallError(dependency, `messages[${i}] has a content part of type "${String(p?.type)}", which is not translated to the Messages API`);
}

/** A tool call's `arguments` (a JSON string) as the object a tool_use block's `input` must be. */
function toolInput(dependency: string, c: ChatToolCall, i: number): Record<string, unknown> {
  const a = c.function?.arguments;
  if (a === undefined || a === null || (typeof a === 'string' && !a.trim())) return {};
  let v: unknown;
  try {
    v = typeof a === 'string' ? JSON.parse(a) : a;
  } catch {
    throw new InvalidCallError(dependency, `messages[${i}]: the arguments of tool call "${c.id}" are not valid JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidCallError(dependency, `messages[${i}]: the arguments of tool call "${c.id}" are not a JSON object`);
  return v as Record<string, unknown>;
}

function toolOf(dependency: string, t: ChatTool): NonNullable<AnthropicRequest['tools']>[number] {
  const f = t?.function;
  if (t?.type !== 'function' || typeof f?.name !== 'string') throw new InvalidCallError(dependency, 'each of "tools" must be { type: "function", function: { name, description?, parameters? } }');
  const out: NonNullable<AnthropicRequest['tools']>[number] = { name: f.name, input_schema: f.parameters ?? { type: 'object', properties: {} } };
  if (typeof f.description === 'string') out.description = f.description;
  return out;
}

function toolChoiceOf(dependency: string, c: ChatToolChoice): NonNullable<AnthropicRequest['tool_choice']> {
  if (c === 'auto' || c === 'none') return { type: c };
  if (c === 'required') return { type: 'any' };
  if (c && typeof c === 'object' && c.type === 'function' && typeof c.function?.name === 'string') return { type: 'tool', name: c.function.name };
  throw new InvalidCallError(dependency, `tool_choice ${JSON.stringify(c)} is not "auto", "none", "required" or { type: "function", function: { name } }`);
}

interface AnthropicUsage { input_tokens?: unknown; output_tokens?: unknown; cache_creation_input_tokens?: unknown; cache_read_input_tokens?: unknown }

/**
 * Anthropic's stop reasons in OpenAI's words. `refusal` is not here: it is a
 * content refusal (ContentFilterError), so a chain falls back as for any
 * content filter.
 */
const STOP_REASONS: Record<string, ChatReply['finish_reason']> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
};

function finishOf(dependency: string, stopReason: unknown): ChatReply['finish_reason'] {
  if (stopReason === 'refusal') throw new ContentFilterError(dependency, 'stop_reason refusal');
  return typeof stopReason === 'string' ? STOP_REASONS[stopReason] : undefined;
}

/** Prompt tokens count cached input too, as OpenAI's `prompt_tokens` does. */
function usageOf(u: AnthropicUsage): { prompt_tokens: number; completion_tokens: number } | undefined {
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  if (typeof u.input_tokens !== 'number' || typeof u.output_tokens !== 'number') return undefined;
  return { prompt_tokens: n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens), completion_tokens: n(u.output_tokens) };
}

function toolCallOf(id: string, name: string, input: unknown): ChatToolCall {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(input ?? {}) } };
}

/** A whole Messages reply as a ChatReply: text blocks joined, tool_use blocks as tool_calls. */
export function fromMessagesReply(dep: ResolvedDependency, body: unknown, scrub: (s: string) => string = (s) => s): ChatReply {
  const j = body as { type?: unknown; model?: unknown; content?: unknown; stop_reason?: unknown; usage?: AnthropicUsage } | null;
  if (j?.type === 'error') throw messagesError(dep, (j as { error?: { type?: unknown; message?: unknown } }).error, scrub, 'an error body with status 200');
  if (!j || typeof j !== 'object' || !Array.isArray(j.content)) throw new MalformedResponseError(dep.id, 'no content array in the Messages reply');
  const finishReason = finishOf(dep.id, j.stop_reason);
  let content = '';
  const toolCalls: ChatToolCall[] = [];
  for (const b of j.content as { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown }[]) {
    if (b?.type === 'text' && typeof b.text === 'string') content += b.text;
    else if (b?.type === 'tool_use') {
      if (typeof b.id !== 'string' || typeof b.name !== 'string') throw new MalformedResponseError(dep.id, 'a tool_use block without id or name');
      toolCalls.push(toolCallOf(b.id, b.name, b.input));
    }
  }
  return chatReply(dep, { content, model: typeof j.model === 'string' ? j.model : undefined, usage: j.usage && usageOf(j.usage), toolCalls, finishReason });
}

/** A stream's `error` event (or a 200 body of type "error") as the gateway's error, classified by its type. */
export function messagesError(dep: ResolvedDependency, error: { type?: unknown; message?: unknown } | undefined, scrub: (s: string) => string, where = 'an error event in the stream'): DependencyHttpError {
  const type = typeof error?.type === 'string' ? error.type : 'api_error';
  const known = Object.hasOwn(ANTHROPIC_ERROR_TYPES, type) ? ANTHROPIC_ERROR_TYPES[type] : undefined;
  const status = known?.status ?? 500;
  const message = typeof error?.message === 'string' ? scrub(error.message).slice(0, 200) : undefined;
  return new DependencyHttpError(dep.id, status, isRetryableHttp(status, known ? type : undefined, dep.classifier), undefined, message ? `${where}: ${message}` : where, type);
}

type StreamBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string; input: unknown } | { type: 'other' };

/**
 * Assembles a streamed Messages reply from its events (message_start,
 * content_block_start / delta / stop, message_delta, message_stop, ping,
 * error), as the OpenAI stream is assembled: text deltas go to `onDelta` as
 * they come; tool input arrives as partial JSON and is parsed at its block's
 * end. `push` returns true at message_stop; a stream without it was cut.
 */
export class MessagesStream {
  private readonly blocks = new Map<number, StreamBlock>();
  private model: string | undefined;
  private usage: AnthropicUsage = {};
  private stopReason: unknown;
  private started = false;

  constructor(
    private readonly dep: ResolvedDependency,
    private readonly onDelta?: (text: string) => void,
    private readonly scrub: (s: string) => string = (s) => s,
  ) {}

  /** Takes one SSE event (`event:` name and `data:` text); returns true once the message is complete. */
  push(event: string | undefined, data: string): boolean {
    let ev: { type?: unknown; index?: unknown; message?: { model?: unknown; usage?: AnthropicUsage }; content_block?: { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown }; delta?: { type?: unknown; text?: unknown; partial_json?: unknown; stop_reason?: unknown }; usage?: AnthropicUsage; error?: { type?: unknown; message?: unknown } };
    try {
      ev = JSON.parse(data);
    } catch {
      throw new MalformedResponseError(this.dep.id, `a stream event${event ? ` (${event})` : ''} is not valid JSON`);
    }
    const type = typeof ev?.type === 'string' ? ev.type : event;
    switch (type) {
      case 'message_start':
        this.started = true;
        if (typeof ev.message?.model === 'string') this.model = ev.message.model;
        Object.assign(this.usage, ev.message?.usage ?? {});
        return false;
      case 'content_block_start': {
        const b = ev.content_block;
        const index = this.index(ev.index);
        if (b?.type === 'text') this.blocks.set(index, { type: 'text', text: '' });
        else if (b?.type === 'tool_use') {
          if (typeof b.id !== 'string' || typeof b.name !== 'string') throw new MalformedResponseError(this.dep.id, 'a tool_use block without id or name');
          this.blocks.set(index, { type: 'tool_use', id: b.id, name: b.name, json: '', input: b.input });
        } else this.blocks.set(index, { type: 'other' });
        if (b?.type === 'text' && typeof b.text === 'string' && b.text) this.text(index, b.text);
        return false;
      }
      case 'content_block_delta': {
        const index = this.index(ev.index);
        const d = ev.delta;
        if (d?.type === 'text_delta' && typeof d.text === 'string') this.text(index, d.text);
        else if (d?.type === 'input_json_delta' && typeof d.partial_json === 'string') {
          const b = this.blocks.get(index);
          if (b?.type !== 'tool_use') throw new MalformedResponseError(this.dep.id, `input_json_delta for block ${index}, which is no tool_use block`);
          b.json += d.partial_json;
        }
        return false;
      }
      case 'content_block_stop': {
        const b = this.blocks.get(this.index(ev.index));
        if (b?.type === 'tool_use' && b.json.trim()) {
          try {
            b.input = JSON.parse(b.json);
          } catch {
            throw new MalformedResponseError(this.dep.id, `the input of tool_use "${b.id}" is not valid JSON`);
          }
        }
        return false;
      }
      case 'message_delta':
        if (ev.delta?.stop_reason !== undefined && ev.delta.stop_reason !== null) this.stopReason = ev.delta.stop_reason;
        // The counts in message_delta are cumulative.
        for (const [k, v] of Object.entries(ev.usage ?? {})) if (typeof v === 'number') (this.usage as Record<string, unknown>)[k] = v;
        finishOf(this.dep.id, this.stopReason);
        return false;
      case 'message_stop':
        if (!this.started) throw new MalformedResponseError(this.dep.id, 'message_stop without message_start');
        return true;
      case 'error':
        throw messagesError(this.dep, ev.error, this.scrub);
      default:
        // ping, and event types added later: the stream goes on.
        return false;
    }
  }

  /** The assembled reply; only once `push` returned true. */
  reply(): ChatReply {
    let content = '';
    const toolCalls: ChatToolCall[] = [];
    for (const [, b] of [...this.blocks.entries()].sort(([a], [c]) => a - c)) {
      if (b.type === 'text') content += b.text;
      else if (b.type === 'tool_use') toolCalls.push(toolCallOf(b.id, b.name, b.input));
    }
    return chatReply(this.dep, { content, model: this.model, usage: usageOf(this.usage), toolCalls, finishReason: finishOf(this.dep.id, this.stopReason) });
  }

  private index(x: unknown): number {
    if (typeof x !== 'number') throw new MalformedResponseError(this.dep.id, 'a content block event without an index');
    return x;
  }

  private text(index: number, text: string): void {
    const b = this.blocks.get(index);
    if (b?.type !== 'text') throw new MalformedResponseError(this.dep.id, `text_delta for block ${index}, which is no text block`);
    b.text += text;
    if (text) this.onDelta?.(text);
  }
}
