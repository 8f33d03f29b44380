/**
 * A provider for the AI SDK (`ai` package): `faultline(ctx)(chain)` is a
 * LanguageModelV3 whose calls go through the agent context's model chain, so
 * retries, breakers and fallback apply to `generateText` and `streamText`.
 *
 * ```ts
 * import { generateText } from 'ai';
 * import { faultline } from 'faultline/ai-sdk';
 * const { text } = await generateText({ model: faultline(ctx)('chat'), prompt: 'Hello' });
 * ```
 *
 * Only types come from `@ai-sdk/provider`: nothing of it is loaded at run time.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3Usage,
  SharedV3ProviderMetadata,
  SharedV3Warning,
} from '@ai-sdk/provider';
import type { AgentContext, CallOptions, ChatChunk, ChatMessage, ChatReply, ChatRequest, ChatToolCall, ChatToolChoice } from './sdk.ts';

/** Per-model settings: the fault point its calls carry and a timeout per call. */
export interface FaultlineModelSettings {
  point?: string;
  timeoutMs?: number;
}

/** `faultline(ctx)(chain)`: the model chain named in the config's `models`, as an AI SDK model. */
export type FaultlineProvider = (chain: string, settings?: FaultlineModelSettings) => LanguageModelV3;

/** The AI SDK provider over an agent's context. */
export function faultline(ctx: Pick<AgentContext, 'model'>): FaultlineProvider {
  return (chain, settings = {}) => new FaultlineLanguageModel(ctx, chain, settings);
}

class FaultlineLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3' as const;
  readonly provider = 'faultline';
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]> = {};

  constructor(
    private readonly ctx: Pick<AgentContext, 'model'>,
    chain: string,
    private readonly settings: FaultlineModelSettings,
  ) {
    this.modelId = chain;
  }

  private callOptions(): CallOptions {
    const o: CallOptions = {};
    if (this.settings.point !== undefined) o.point = this.settings.point;
    if (this.settings.timeoutMs !== undefined) o.timeoutMs = this.settings.timeoutMs;
    return o;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const { request, warnings } = toChatRequest(options);
    const reply = await untilAborted(this.ctx.model(this.modelId).chat(request, this.callOptions()), options.abortSignal);
    const content: LanguageModelV3Content[] = [];
    if (reply.content) content.push({ type: 'text', text: reply.content });
    for (const call of reply.tool_calls ?? []) content.push(toolCallPart(call));
    return {
      content,
      finishReason: finishReason(reply.finish_reason, !!reply.tool_calls?.length),
      usage: usage(reply.usage),
      providerMetadata: metadata(reply),
      request: { body: request },
      response: { modelId: reply.model, ...(typeof reply.id === 'string' ? { id: reply.id } : {}), body: reply },
      warnings,
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { request, warnings } = toChatRequest(options);
    const signal = options.abortSignal;
    const iterator = this.ctx.model(this.modelId).stream(request, this.callOptions())[Symbol.asyncIterator]();
    // The first chunk is awaited here: a chain that fails before its first token rejects the call.
    let first: IteratorResult<ChatChunk>;
    try {
      first = await untilAborted(iterator.next(), signal);
    } catch (e) {
      void iterator.return?.();
      throw e;
    }
    const textId = 'txt-0';
    let textOpen = false;
    let pending: IteratorResult<ChatChunk> | undefined = first;
    let metadataSent = false;
    let closed = false;
    const stop = () => {
      if (closed) return;
      closed = true;
      signal?.removeEventListener('abort', onAbort);
      void iterator.return?.();
    };
    let onAbort = () => {};
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start(c) {
        c.enqueue({ type: 'stream-start', warnings });
        onAbort = () => {
          if (closed) return;
          stop();
          c.error(signal!.reason);
        };
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      },
      async pull(c) {
        try {
          const r = pending ?? (await iterator.next());
          pending = undefined;
          if (closed) return;
          if (r.done) {
            // Ended without its `done` chunk.
            if (textOpen) c.enqueue({ type: 'text-end', id: textId });
            c.enqueue({ type: 'finish', usage: usage(undefined), finishReason: { unified: 'other', raw: undefined } });
            stop();
            c.close();
            return;
          }
          const chunk = r.value;
          if (!metadataSent) {
            metadataSent = true;
            c.enqueue({ type: 'response-metadata', modelId: chunk.model });
          }
          if (!chunk.done) {
            if (!chunk.delta) return;
            if (!textOpen) {
              textOpen = true;
              c.enqueue({ type: 'text-start', id: textId });
            }
            c.enqueue({ type: 'text-delta', id: textId, delta: chunk.delta });
            return;
          }
          if (textOpen) c.enqueue({ type: 'text-end', id: textId });
          for (const call of chunk.tool_calls ?? []) c.enqueue(toolCallPart(call));
          c.enqueue({
            type: 'finish',
            usage: usage(chunk.usage),
            finishReason: finishReason(chunk.finish_reason, !!chunk.tool_calls?.length),
            providerMetadata: metadata(chunk),
          });
          stop();
          c.close();
        } catch (e) {
          if (closed) return;
          stop();
          c.error(e);
        }
      },
      cancel() {
        stop();
      },
    });
    return { stream, request: { body: request } };
  }
}

/** The AI SDK call as an OpenAI-format chat request, with what could not be carried over. */
function toChatRequest(o: LanguageModelV3CallOptions): { request: ChatRequest; warnings: SharedV3Warning[] } {
  const warnings: SharedV3Warning[] = [];
  const request: ChatRequest = { messages: toMessages(o.prompt) };
  if (o.maxOutputTokens !== undefined) request.max_tokens = o.maxOutputTokens;
  if (o.temperature !== undefined) request.temperature = o.temperature;
  if (o.stopSequences?.length) request.stop = o.stopSequences;
  if (o.topP !== undefined) request.top_p = o.topP;
  if (o.presencePenalty !== undefined) request.presence_penalty = o.presencePenalty;
  if (o.frequencyPenalty !== undefined) request.frequency_penalty = o.frequencyPenalty;
  if (o.seed !== undefined) request.seed = o.seed;
  if (o.topK !== undefined) warnings.push({ type: 'unsupported', feature: 'topK' });
  if (o.responseFormat?.type === 'json') {
    request.response_format = o.responseFormat.schema
      ? { type: 'json_schema', json_schema: { name: o.responseFormat.name ?? 'response', description: o.responseFormat.description, schema: o.responseFormat.schema } }
      : { type: 'json_object' };
  }
  const tools = [];
  for (const t of o.tools ?? []) {
    if (t.type === 'function') {
      tools.push({ type: 'function' as const, function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.inputSchema as Record<string, unknown> } });
    } else {
      warnings.push({ type: 'unsupported', feature: `provider-defined tool ${t.id}` });
    }
  }
  if (tools.length) {
    request.tools = tools;
    const choice = toolChoice(o.toolChoice);
    if (choice) request.tool_choice = choice;
  }
  return { request, warnings };
}

function toolChoice(c: LanguageModelV3CallOptions['toolChoice']): ChatToolChoice | undefined {
  if (!c) return undefined;
  switch (c.type) {
    case 'tool':
      return { type: 'function', function: { name: c.toolName } };
    default:
      return c.type;
  }
}

function toMessages(prompt: LanguageModelV3Prompt): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of prompt) {
    switch (m.role) {
      case 'system':
        out.push({ role: 'system', content: m.content });
        break;
      case 'user': {
        const text = m.content.map((p) => {
          if (p.type === 'text') return p.text;
          throw new UnsupportedPartError(`a user message's ${p.mediaType} file part`);
        });
        out.push({ role: 'user', content: text.join('') });
        break;
      }
      case 'assistant': {
        let text = '';
        const calls: ChatToolCall[] = [];
        for (const p of m.content) {
          if (p.type === 'text') text += p.text;
          else if (p.type === 'tool-call' && !p.providerExecuted) {
            calls.push({ id: p.toolCallId, type: 'function', function: { name: p.toolName, arguments: typeof p.input === 'string' ? p.input : JSON.stringify(p.input ?? {}) } });
          } else if (p.type === 'file') throw new UnsupportedPartError(`an assistant message's ${p.mediaType} file part`);
          // Reasoning and provider-executed tool results are not sent back.
        }
        out.push(calls.length ? { role: 'assistant', content: text || null, tool_calls: calls } : { role: 'assistant', content: text });
        break;
      }
      case 'tool':
        for (const p of m.content) {
          if (p.type === 'tool-result') out.push({ role: 'tool', tool_call_id: p.toolCallId, content: outputText(p.output) });
        }
        break;
    }
  }
  return out;
}

function outputText(o: LanguageModelV3ToolResultOutput): string {
  switch (o.type) {
    case 'text':
    case 'error-text':
      return o.value;
    case 'json':
    case 'error-json':
      return JSON.stringify(o.value);
    case 'execution-denied':
      return o.reason ? `Tool execution denied: ${o.reason}` : 'Tool execution denied';
    case 'content':
      return o.value.map((v) => (v.type === 'text' ? v.text : JSON.stringify(v))).join('\n');
  }
}

/** A prompt part the OpenAI chat format of the runtime does not carry. */
export class UnsupportedPartError extends Error {
  constructor(what: string) {
    super(`faultline/ai-sdk: ${what} is not supported (chats carry text and tool calls)`);
    this.name = 'UnsupportedPartError';
  }
}

function toolCallPart(call: ChatToolCall) {
  return { type: 'tool-call' as const, toolCallId: call.id, toolName: call.function.name, input: call.function.arguments || '{}' };
}

function finishReason(raw: ChatReply['finish_reason'], calls: boolean): LanguageModelV3FinishReason {
  switch (raw) {
    case 'stop':
      return { unified: 'stop', raw };
    case 'length':
      return { unified: 'length', raw };
    case 'tool_calls':
      return { unified: 'tool-calls', raw };
    case 'content_filter':
      return { unified: 'content-filter', raw };
    default:
      return { unified: calls ? 'tool-calls' : 'stop', raw };
  }
}

function usage(u: ChatReply['usage']): LanguageModelV3Usage {
  return {
    inputTokens: { total: u?.prompt_tokens, noCache: u?.prompt_tokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: u?.completion_tokens, text: u?.completion_tokens, reasoning: undefined },
    ...(u ? { raw: { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens } } : {}),
  };
}

/** Which dependency of the chain answered (and whether from a stale cache, and its cost). */
function metadata(r: { dependency: string; stale?: unknown; cost?: unknown }): SharedV3ProviderMetadata {
  const m: Record<string, string | number | boolean> = { dependency: r.dependency };
  if (typeof r.stale === 'boolean') m.stale = r.stale;
  if (typeof r.cost === 'number') m.cost = r.cost;
  return { faultline: m };
}

/** The promise, or the signal's reason once it aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
