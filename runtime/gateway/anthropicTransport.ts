/**
 * The `model` kind, `"api": "anthropic"`: `POST {url}/messages` with
 * `x-api-key` and `anthropic-version`, whole reply or streamed (SSE). The
 * request arrives in the OpenAI chat format and the reply leaves in it
 * (anthropic.ts translates); a stream that ends before `message_stop` is a
 * cut (retryable), as for the OpenAI dialect.
 */
import { MessagesStream, fromMessagesReply, toMessagesRequest } from './anthropic.ts';
import { ContentFilterError, DependencyHttpError, MalformedResponseError } from './errors.ts';
import { fetchFailure, post, readJson, type AttemptContext, type HttpDeps, type Transport } from './httpTransport.ts';
import { sseEvents } from './sse.ts';
import type { ChatReply, ChatRequest } from '../sdk.ts';
import type { ResolvedDependency } from './policyConfig.ts';

export function anthropicTransport(dep: ResolvedDependency, d: HttpDeps): Transport {
  const url = `${dep.url}/messages`;
  return async (request, ctx) => {
    const req = request as ChatRequest;
    if (!req || !Array.isArray(req.messages)) throw new TypeError(`A chat request to "${dep.id}" needs a messages array`);
    const body = toMessagesRequest(dep.id, req, dep.model ?? dep.id);
    const res = await post(dep, url, body, body.stream ? 'text/event-stream' : 'application/json', ctx, d);
    return body.stream ? readMessagesStream(dep, res, d, ctx) : readWhole(dep, res, d);
  };
}

async function readWhole(dep: ResolvedDependency, res: Response, d: HttpDeps): Promise<ChatReply> {
  return fromMessagesReply(dep, await readJson(dep, res, d.scrubber), (s) => d.scrubber.scrub(s));
}

/** Reads the Messages event stream until `message_stop`; text deltas go to `ctx.onDelta` as they come. */
export async function readMessagesStream(dep: ResolvedDependency, res: Response, d: Pick<HttpDeps, 'scrubber'>, ctx: Pick<AttemptContext, 'onDelta'>): Promise<ChatReply> {
  if (!res.body) throw new MalformedResponseError(dep.id, 'a stream reply without a body');
  const assembly = new MessagesStream(dep, ctx.onDelta, (s) => d.scrubber.scrub(s));
  try {
    for await (const ev of sseEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
      if (assembly.push(ev.event, ev.data)) return assembly.reply();
    }
  } catch (e) {
    if (e instanceof MalformedResponseError || e instanceof ContentFilterError || e instanceof DependencyHttpError) throw e;
    throw fetchFailure(dep, e, d.scrubber);
  }
  throw fetchFailure(dep, Object.assign(new Error('the reply stream ended before message_stop'), { code: 'stream-cut' }), d.scrubber);
}
