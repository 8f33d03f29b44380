/**
 * The OpenAI chat dialect of the mock model: a chat completions request read
 * into a conversation, and the reply as a whole body or as stream frames
 * (text deltas, or `tool_calls` deltas whose arguments come in pieces).
 */
import { chunkBody, completionBody, jsonPieces, sseFrame, streamPieces, type MockMessage, type StreamFrames, type usageOf } from './replies.ts';
import type { MockConversation, MockTool, MockToolChoice } from './tools.ts';

export interface ChatRequest {
  conversation: MockConversation;
  stream: boolean;
  includeUsage: boolean;
}

/** A reply as the OpenAI dialect sends it: text, or one tool call with its arguments as JSON text. */
export interface ChatReply {
  content: string;
  finishReason: 'stop' | 'tool_calls' | 'content_filter';
  call?: { id: string; name: string; arguments: string };
}

type Usage = ReturnType<typeof usageOf>;

/** Reads a chat completions body; returns a problem for a 400, or the request. */
export function parseChat(body: unknown): ChatRequest | string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (!Array.isArray(b.messages)) return "'messages' is required";
  const messages: MockMessage[] = [];
  for (const [i, m] of b.messages.entries()) {
    if (!m || typeof m !== 'object') return `'messages.${i}' must be an object`;
    const { role, content, tool_calls: calls, tool_call_id: callId } = m as Record<string, unknown>;
    const msg: MockMessage = { role: String(role), content: textOf(content) };
    if (typeof callId === 'string') msg.toolCallId = callId;
    if (Array.isArray(calls)) {
      msg.toolCalls = calls.flatMap((c) => {
        const call = c as { id?: unknown; function?: { name?: unknown } };
        return typeof call?.id === 'string' && typeof call.function?.name === 'string' ? [{ id: call.id, name: call.function.name }] : [];
      });
    }
    messages.push(msg);
  }
  const tools: MockTool[] = [];
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return "'tools' must be an array";
    for (const [i, t] of b.tools.entries()) {
      const fn = (t as { function?: { name?: unknown; parameters?: unknown } } | null)?.function;
      if (typeof fn?.name !== 'string') return `'tools.${i}.function.name' is required`;
      tools.push({ name: fn.name, schema: fn.parameters });
    }
  }
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return { conversation: { messages, tools, choice: choiceOf(b.tool_choice) }, stream: b.stream === true, includeUsage: so?.include_usage === true };
}

function choiceOf(c: unknown): MockToolChoice {
  if (c === 'none') return { type: 'none' };
  const name = (c as { function?: { name?: unknown } } | null)?.function?.name;
  return typeof name === 'string' ? { type: 'tool', name } : { type: 'auto' };
}

/** Message content as text: a string, or the text parts of a content array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) return content.flatMap((p) => (typeof p?.text === 'string' ? [p.text as string] : [])).join('\n');
  return String(content);
}

export function chatBody(id: string, model: string, r: ChatReply, usage: Usage) {
  if (!r.call) return completionBody(id, model, r.content, r.finishReason, usage);
  const toolCall = { id: r.call.id, type: 'function', function: { name: r.call.name, arguments: r.call.arguments } };
  return {
    id,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [toolCall] }, finish_reason: r.finishReason }],
    usage,
  };
}

/** The reply as chat.completion.chunk frames ending in [DONE]; usage in a last chunk when asked. */
export function chatFrames(id: string, model: string, r: ChatReply, usage: Usage | undefined): StreamFrames {
  const frame = (delta: Record<string, unknown>, finish: string | null = null) => sseFrame(chunkBody(id, model, delta, finish));
  let head: string[];
  let deltas: string[];
  if (r.call) {
    const call = r.call;
    head = [frame({ role: 'assistant', content: null })];
    deltas = [
      frame({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ...jsonPieces(call.arguments).map((p) => frame({ tool_calls: [{ index: 0, function: { arguments: p } }] })),
    ];
  } else {
    head = [frame({ role: 'assistant', content: '' })];
    deltas = r.finishReason === 'content_filter' ? [] : streamPieces(r.content).map((p) => frame({ content: p }));
  }
  const tail = [frame({}, r.finishReason)];
  if (usage) tail.push(sseFrame({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage }));
  tail.push(sseFrame('[DONE]'));
  return { head, deltas, tail };
}

/** A broken frame for the malformed fault. */
export const MALFORMED_CHAT_FRAME = 'data: {"id": "x", "choices": [{"delta": {"content": "tru\n\n';
export const MALFORMED_CHAT_BODY = '{"id": "x", "choices": [{"message": {"content": "tru';

/** The OpenAI error body for a status. */
export function chatError(status: number, message: string, code: string | null = status === 401 ? 'invalid_api_key' : null) {
  return { error: { message, type: status >= 500 ? 'server_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error', code } };
}
