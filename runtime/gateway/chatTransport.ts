/**
 * The `model` kind: OpenAI-compatible `POST {url}/chat/completions`, whole
 * reply or streamed (SSE). A streamed reply is assembled here, which lets the
 * gateway tell a stream cut before `[DONE]` (retryable) from a complete one.
 */
import { ContentFilterError, DependencyHttpError, MalformedResponseError } from './errors.ts';
import { fetchFailure, post, type HttpDeps, type Transport } from './httpTransport.ts';
import type { ChatReply, ChatRequest } from '../sdk.ts';
import type { ResolvedDependency } from './policyConfig.ts';

interface Usage { prompt_tokens: number; completion_tokens: number }

export function chatTransport(dep: ResolvedDependency, d: HttpDeps): Transport {
  const url = `${dep.url}/chat/completions`;
  return async (request, ctx) => {
    const req = request as ChatRequest;
    if (!req || !Array.isArray(req.messages)) throw new TypeError(`A chat request to "${dep.id}" needs a messages array`);
    const stream = req.stream === true;
    const body = { ...req, model: dep.model, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) };
    const res = await post(dep, url, body, stream ? 'text/event-stream' : 'application/json', ctx, d);
    return stream ? readStream(dep, res, d) : readWhole(dep, res, d);
  };
}

async function readWhole(dep: ResolvedDependency, res: Response, d: HttpDeps): Promise<ChatReply> {
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw fetchFailure(dep, e, d.scrubber);
  }
  let j: { model?: unknown; choices?: { message?: { content?: unknown }; finish_reason?: unknown }[]; usage?: Usage };
  try {
    j = JSON.parse(text);
  } catch {
    throw new MalformedResponseError(dep.id, 'the body is not valid JSON');
  }
  const choice = j?.choices?.[0];
  if (choice?.finish_reason === 'content_filter') throw new ContentFilterError(dep.id, 'finish_reason content_filter');
  const content = choice?.message?.content;
  if (typeof content !== 'string') throw new MalformedResponseError(dep.id, 'no choices[0].message.content');
  return reply(dep, content, typeof j.model === 'string' ? j.model : undefined, j.usage);
}

/** Reads `data:` events until `[DONE]`; an end before it is a cut stream. */
async function readStream(dep: ResolvedDependency, res: Response, d: HttpDeps): Promise<ChatReply> {
  if (!res.body) throw new MalformedResponseError(dep.id, 'a stream reply without a body');
  const decoder = new TextDecoder();
  let buffer = '';
  let content = '';
  let model: string | undefined;
  let usage: Usage | undefined;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return reply(dep, content, model, usage);
        let ev: { model?: unknown; error?: { message?: unknown }; usage?: Usage; choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[] };
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
        if (typeof choice?.delta?.content === 'string') content += choice.delta.content;
      }
    }
  } catch (e) {
    if (e instanceof MalformedResponseError || e instanceof ContentFilterError || e instanceof DependencyHttpError) throw e;
    throw fetchFailure(dep, e, d.scrubber);
  }
  throw fetchFailure(dep, Object.assign(new Error('the reply stream ended before [DONE]'), { code: 'stream-cut' }), d.scrubber);
}

function reply(dep: ResolvedDependency, content: string, model: string | undefined, usage: Usage | undefined): ChatReply {
  const out: ChatReply = { content, model: model ?? dep.model ?? dep.id, dependency: dep.id };
  if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
    out.usage = { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens };
    if (dep.price) out.cost = (usage.prompt_tokens * dep.price.promptPer1k + usage.completion_tokens * dep.price.completionPer1k) / 1000;
  }
  return out;
}
