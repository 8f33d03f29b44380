/**
 * The Anthropic Messages dialect of the mock model: a `/v1/messages` request
 * validated and read into the same conversation the OpenAI dialect gives
 * (system first, tool results as role 'tool'), and the reply as a whole
 * message or as the Messages API's named SSE events.
 */
import { countTokens, jsonPieces, sseFrame, streamPieces, type MockMessage, type StreamFrames } from './replies.ts';
import type { MockAnswer, MockConversation, MockTool, MockToolChoice } from './tools.ts';

export interface MessagesRequest {
  conversation: MockConversation;
  maxTokens: number;
  stream: boolean;
}

export type ContentBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessagesReply {
  content: ContentBlock[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal';
  usage: { input_tokens: number; output_tokens: number };
}

/** Reads a Messages API body; returns a problem for a 400 `invalid_request_error`, or the request. */
export function parseMessages(body: unknown): MessagesRequest | string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (b.max_tokens === undefined) return 'max_tokens: Field required';
  if (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1) return 'max_tokens: Input should be an integer of at least 1';
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  if (b.stream !== undefined && typeof b.stream !== 'boolean') return 'stream: Input should be a valid boolean';
  if (b.temperature !== undefined && !(typeof b.temperature === 'number' && b.temperature >= 0 && b.temperature <= 1)) return 'temperature: Input should be a number from 0 to 1';
  if (b.stop_sequences !== undefined && !(Array.isArray(b.stop_sequences) && b.stop_sequences.every((s) => typeof s === 'string'))) return 'stop_sequences: Input should be a list of strings';
  const messages: MockMessage[] = [];
  if (b.system !== undefined) {
    const system = textOf(b.system, 'system');
    if (system.problem) return system.problem;
    messages.push({ role: 'system', content: system.text });
  }
  for (const [i, m] of b.messages.entries()) {
    const where = `messages.${i}`;
    const { role, content } = (m && typeof m === 'object' ? m : {}) as Record<string, unknown>;
    if (role !== 'user' && role !== 'assistant') return `${where}.role: Input should be 'user' or 'assistant'`;
    if (typeof content === 'string') {
      messages.push({ role, content });
      continue;
    }
    if (!Array.isArray(content)) return `${where}.content: Input should be a string or a list of content blocks`;
    const texts: string[] = [];
    const results: MockMessage[] = [];
    const calls: { id: string; name: string }[] = [];
    for (const [j, block] of content.entries()) {
      const at = `${where}.content.${j}`;
      const blk = (block && typeof block === 'object' ? block : {}) as Record<string, unknown>;
      if (blk.type === 'text') {
        if (typeof blk.text !== 'string') return `${at}.text: Field required`;
        texts.push(blk.text);
      } else if (blk.type === 'tool_use') {
        if (typeof blk.id !== 'string' || typeof blk.name !== 'string') return `${at}: tool_use needs id and name`;
        calls.push({ id: blk.id, name: blk.name });
      } else if (blk.type === 'tool_result') {
        if (typeof blk.tool_use_id !== 'string') return `${at}.tool_use_id: Field required`;
        const result = blk.content === undefined ? { text: '' } : textOf(blk.content, `${at}.content`);
        if (result.problem) return result.problem;
        results.push({ role: 'tool', content: result.text, toolCallId: blk.tool_use_id });
      } else if (typeof blk.type !== 'string') {
        return `${at}.type: Field required`;
      }
      // Other blocks (image, document, thinking) carry no text the mock reads.
    }
    const msg: MockMessage = { role, content: texts.join('\n') };
    if (calls.length) msg.toolCalls = calls;
    // Tool results come last so that a message carrying one reads as a tool result.
    if (texts.length || !results.length) messages.push(msg);
    messages.push(...results);
  }
  const tools: MockTool[] = [];
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return 'tools: Input should be a valid list';
    for (const [i, t] of b.tools.entries()) {
      const tool = (t && typeof t === 'object' ? t : {}) as { name?: unknown; input_schema?: unknown };
      if (typeof tool.name !== 'string') return `tools.${i}.name: Field required`;
      tools.push({ name: tool.name, schema: tool.input_schema });
    }
  }
  const choice = choiceOf(b.tool_choice);
  if (typeof choice === 'string') return choice;
  return { conversation: { messages, tools, choice }, maxTokens: b.max_tokens as number, stream: b.stream === true };
}

function choiceOf(c: unknown): MockToolChoice | string {
  if (c === undefined) return { type: 'auto' };
  const { type, name } = (c && typeof c === 'object' ? c : {}) as { type?: unknown; name?: unknown };
  if (type === 'auto' || type === 'any') return { type: 'auto' };
  if (type === 'none') return { type: 'none' };
  if (type === 'tool') return typeof name === 'string' ? { type: 'tool', name } : 'tool_choice.name: Field required';
  return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
}

/** A string, or text blocks joined by newlines. */
function textOf(x: unknown, where: string): { text: string; problem?: string } {
  if (typeof x === 'string') return { text: x };
  if (!Array.isArray(x)) return { text: '', problem: `${where}: Input should be a string or a list of text blocks` };
  const texts: string[] = [];
  for (const b of x) {
    if (b?.type === 'text' && typeof b.text === 'string') texts.push(b.text);
    else if (b?.type !== 'image') return { text: '', problem: `${where}: Input should be a string or a list of text blocks` };
  }
  return { text: texts.join('\n') };
}

/**
 * The reply to an answer: a tool_use block, or the text cut to `maxTokens`
 * (stop_reason max_tokens); `filtered` is the content-filter refusal.
 */
export function messagesReply(a: MockAnswer, toolId: string, maxTokens: number, inputTokens: number, filtered: boolean): MessagesReply {
  const usage = (output: number) => ({ input_tokens: inputTokens, output_tokens: output });
  if (filtered) return { content: [], stopReason: 'refusal', usage: usage(0) };
  if (a.kind === 'tool') {
    return { content: [{ type: 'tool_use', id: toolId, name: a.name, input: a.input }], stopReason: 'tool_use', usage: usage(countTokens(JSON.stringify(a.input))) };
  }
  // countTokens counts 4 characters a token.
  const cut = countTokens(a.text) > maxTokens;
  const text = cut ? a.text.slice(0, maxTokens * 4) : a.text;
  return { content: [{ type: 'text', text }], stopReason: cut ? 'max_tokens' : 'end_turn', usage: usage(countTokens(text)) };
}

export function messageBody(id: string, model: string, r: MessagesReply) {
  return { id, type: 'message', role: 'assistant', model, content: r.content, stop_reason: r.stopReason, stop_sequence: null, usage: r.usage };
}

/** The reply as Messages API events: message_start … message_stop. */
export function messageFrames(id: string, model: string, r: MessagesReply): StreamFrames {
  const ev = (data: { type: string } & Record<string, unknown>) => sseFrame(data, data.type);
  const start = { ...messageBody(id, model, r), content: [], stop_reason: null, usage: { input_tokens: r.usage.input_tokens, output_tokens: 0 } };
  const head = [ev({ type: 'message_start', message: start })];
  const deltas: string[] = [];
  const tail: string[] = [];
  const block = r.content[0];
  if (block) {
    const opening = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    head.push(ev({ type: 'content_block_start', index: 0, content_block: opening }));
    const pieces =
      block.type === 'text'
        ? streamPieces(block.text).map((text) => ({ type: 'text_delta', text }))
        : jsonPieces(JSON.stringify(block.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    for (const delta of pieces) deltas.push(ev({ type: 'content_block_delta', index: 0, delta }));
    tail.push(ev({ type: 'content_block_stop', index: 0 }));
  }
  head.push(ev({ type: 'ping' }));
  tail.push(ev({ type: 'message_delta', delta: { stop_reason: r.stopReason, stop_sequence: null }, usage: { output_tokens: r.usage.output_tokens } }));
  tail.push(ev({ type: 'message_stop' }));
  return { head, deltas, tail };
}

/** The Anthropic error type for an HTTP status. */
export function anthropicErrorType(status: number): string {
  if (status === 529) return 'overloaded_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicError(status: number, message: string) {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

/** Broken output for the malformed fault. */
export const MALFORMED_MESSAGE_FRAME = 'event: message_start\ndata: {"type": "message_start", "message": {"id": "x", "con\n\n';
export const MALFORMED_MESSAGE_BODY = '{"id": "msg_x", "type": "message", "content": [{"type": "text", "text": "tru';
