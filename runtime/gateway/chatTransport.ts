/**
 * The `model` kind, `"api": "openai"`: OpenAI-compatible
 * `POST {url}/chat/completions`, whole reply or streamed (SSE). Requests go
 * as they are (tools included); a streamed reply is assembled here, text and
 * tool calls, which lets the gateway tell a stream cut before `[DONE]`
 * (retryable) from a complete one.
 */
import { ContentFilterError, DependencyHttpError, MalformedResponseError } from './errors.ts';
import { fetchFailure, post, readJson, type AttemptContext, type HttpDeps, type Transport } from './httpTransport.ts';
import { sseEvents } from './sse.ts';
import type { ChatReply, ChatRequest, ChatToolCall } from '../sdk.ts';
import type { ResolvedDependency } from './policyConfig.ts';

interface Usage { prompt_tokens: number; completion_tokens: number }

/** What a reply is made of, whichever dialect it came in. */
export interface ReplyParts {
  content: string;
  model?: string;
  usage?: Usage;
  toolCalls?: ChatToolCall[];
  finishReason?: ChatReply['finish_reason'];
}

const FINISH_REASONS: Record<string, ChatReply['finish_reason']> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter' };

export function chatTransport(dep: ResolvedDependency, d: HttpDeps): Transport {
  const url = `${dep.url}/chat/completions`;
  return async (request, ctx) => {
    const req = request as ChatRequest;
    if (!req || !Array.isArray(req.messages)) throw new TypeError(`A chat request to "${dep.id}" needs a messages array`);
    const stream = req.stream === true;
    const body = { ...req, model: dep.model, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) };
    const res = await post(dep, url, body, stream ? 'text/event-stream' : 'application/json', ctx, d);
    return stream ? readStream(dep, res, d, ctx) : readWhole(dep, res, d);
  };
}

async function readWhole(dep: ResolvedDependency, res: Response, d: HttpDeps): Promise<ChatReply> {
  const j = (await readJson(dep, res, d.scrubber)) as { model?: unknown; choices?: { message?: { content?: unknown; refusal?: unknown; tool_calls?: unknown }; finish_reason?: unknown }[]; usage?: Usage } | null;
  const choice = j?.choices?.[0];
  if (choice?.finish_reason === 'content_filter') throw new ContentFilterError(dep.id, 'finish_reason content_filter');
  const message = choice?.message;
  const toolCalls = message?.tool_calls === undefined || message.tool_calls === null ? undefined : wholeToolCalls(dep, message.tool_calls);
  let content = message?.content;
  if ((content === null || content === undefined) && typeof message?.refusal === 'string') throw new ContentFilterError(dep.id, 'the model refused');
  if ((content === null || content === undefined) && toolCalls?.length) content = '';
  if (typeof content !== 'string') throw new MalformedResponseError(dep.id, 'no choices[0].message.content');
  return chatReply(dep, { content, model: typeof j?.model === 'string' ? j?.model : undefined, usage: j?.usage, toolCalls, finishReason: FINISH_REASONS[String(choice?.finish_reason)] });
}

function wholeToolCalls(dep: ResolvedDependency, raw: unknown): ChatToolCall[] {
  if (!Array.isArray(raw)) throw new MalformedResponseError(dep.id, 'choices[0].message.tool_calls is not an array');
  return raw.map((c: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }, i) => {
    if (typeof c?.function?.name !== 'string') throw new MalformedResponseError(dep.id, `tool call ${i} has no function name`);
    return toolCall(c.id, i, c.function.name, c.function.arguments);
  });
}

/** A tool call in the OpenAI shape; `arguments` kept as the JSON string it must be. */
function toolCall(id: unknown, index: number, name: string, args: unknown): ChatToolCall {
  const a = typeof args === 'string' ? args : args === undefined || args === null ? '{}' : JSON.stringify(args);
  return { id: typeof id === 'string' && id ? id : `call_${index}`, type: 'function', function: { name, arguments: a } };
}

interface StreamChunk {
  model?: unknown;
  error?: { message?: unknown };
  usage?: Usage;
  choices?: {
    delta?: { content?: unknown; tool_calls?: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[] };
    finish_reason?: unknown;
  }[];
}

/** Reads `data:` events until `[DONE]`; an end before it is a cut stream. Tool-call deltas are assembled by their index. */
async function readStream(dep: ResolvedDependency, res: Response, d: HttpDeps, ctx: AttemptContext): Promise<ChatReply> {
  if (!res.body) throw new MalformedResponseError(dep.id, 'a stream reply without a body');
  let content = '';
  let model: string | undefined;
  let usage: Usage | undefined;
  let finish: unknown;
  const calls = new Map<number, { id?: string; name: string; arguments: string }>();
  try {
    for await (const { data: raw } of sseEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
      const data = raw.trim();
      if (data === '[DONE]') {
        const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([i, c]) => toolCall(c.id, i, c.name, c.arguments));
        return chatReply(dep, { content, model, usage, toolCalls: toolCalls.length ? toolCalls : undefined, finishReason: FINISH_REASONS[String(finish)] });
      }
      let ev: StreamChunk;
      try {
        ev = JSON.parse(data);
      } catch {
        throw new MalformedResponseError(dep.id, 'a stream event is not valid JSON');
      }
      if (ev.error) throw new DependencyHttpError(dep.id, 500, true, undefined, d.scrubber.scrub(String(ev.error.message ?? 'error event in the stream')));
      if (typeof ev.model === 'string') model = ev.model;
      if (ev.usage) usage = ev.usage;
      const choice = ev.choices?.[0];
      if (choice?.finish_reason === 'content_filter') throw new ContentFilterError(dep.id, 'finish_reason content_filter');
      if (choice?.finish_reason) finish = choice.finish_reason;
      const text = choice?.delta?.content;
      if (typeof text === 'string' && text) {
        content += text;
        ctx.onDelta?.(text);
      }
      for (const t of choice?.delta?.tool_calls ?? []) {
        const index = typeof t?.index === 'number' ? t.index : calls.size;
        let c = calls.get(index);
        if (!c) calls.set(index, (c = { name: '', arguments: '' }));
        if (typeof t.id === 'string' && t.id) c.id = t.id;
        if (typeof t.function?.name === 'string') c.name += t.function.name;
        if (typeof t.function?.arguments === 'string') c.arguments += t.function.arguments;
      }
    }
  } catch (e) {
    if (e instanceof MalformedResponseError || e instanceof ContentFilterError || e instanceof DependencyHttpError) throw e;
    throw fetchFailure(dep, e, d.scrubber);
  }
  throw fetchFailure(dep, Object.assign(new Error('the reply stream ended before [DONE]'), { code: 'stream-cut' }), d.scrubber);
}

/** The ChatReply of a dependency: who answered, usage and its cost by the dependency's `price`. */
export function chatReply(dep: ResolvedDependency, p: ReplyParts): ChatReply {
  const out: ChatReply = { content: p.content, model: p.model ?? dep.model ?? dep.id, dependency: dep.id };
  const usage = p.usage;
  if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
    out.usage = { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens };
    if (dep.price) out.cost = (usage.prompt_tokens * dep.price.promptPer1k + usage.completion_tokens * dep.price.completionPer1k) / 1000;
  }
  if (p.toolCalls?.length) out.tool_calls = p.toolCalls;
  if (p.finishReason) out.finish_reason = p.finishReason;
  return out;
}
