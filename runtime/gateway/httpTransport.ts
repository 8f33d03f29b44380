/**
 * HTTP plumbing shared by the `http` and `model` transports: headers with
 * the API key, and the mapping of fetch failures and error statuses to the
 * gateway's error classes.
 */
import { AbortError, ContentFilterError, DependencyHttpError, DependencyNetworkError, MalformedResponseError } from './errors.ts';
import { ANTHROPIC_ERROR_TYPES, isRetryableHttp, looksLikeContentFilter, networkCode, parseRetryAfter } from './classify.ts';
import type { SecretScrubber } from '../protocol/redact.ts';
import type { ResolvedDependency } from './policyConfig.ts';
import type { HttpCall } from './httpCall.ts';

/** What a transport needs for one attempt. */
export interface AttemptContext {
  /** Aborted when the attempt times out or the caller gives up; created on first use. */
  readonly signal: AbortSignal;
  /** Calls `fn` with the reason when the attempt times out or the caller gives up (no AbortSignal made). */
  onCancel?(fn: (reason: Error) => void): void;
  /** The call's checked `http` options (kind "http" only). */
  readonly http?: HttpCall;
  /** A streamed chat (`stream: true`): each text delta as it arrives, before the reply is assembled (tool-call deltas are not passed). */
  readonly onDelta?: (text: string) => void;
}

/** Runs one attempt of a call against a dependency. */
export type Transport = (request: unknown, ctx: AttemptContext) => Promise<unknown>;

export interface HttpDeps {
  fetch: typeof fetch;
  env: NodeJS.ProcessEnv;
  scrubber: SecretScrubber;
}

/** Bytes of an error body kept for the message. */
const ERROR_BODY_LIMIT = 2048;

/** The Messages API version an `anthropic` dependency asks for, unless its `headers` name another. */
export const ANTHROPIC_VERSION = '2023-06-01';

export function requestHeaders(dep: ResolvedDependency, env: NodeJS.ProcessEnv, accept: string): Record<string, string> {
  const h: Record<string, string> = { ...dep.headers, 'content-type': 'application/json', accept };
  const key = dep.apiKeyEnv ? env[dep.apiKeyEnv] : undefined;
  if (dep.api === 'anthropic') {
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'anthropic-version')) h['anthropic-version'] = ANTHROPIC_VERSION;
    if (key) h['x-api-key'] = key;
  } else if (key) h.authorization = `Bearer ${key}`;
  return h;
}

/** POSTs JSON and maps transport-level failures; returns the ok response. */
export function post(dep: ResolvedDependency, url: string, body: unknown, accept: string, ctx: AttemptContext, d: HttpDeps): Promise<Response> {
  return send(dep, url, { method: 'POST', headers: requestHeaders(dep, d.env, accept), body: JSON.stringify(body), signal: ctx.signal }, d);
}

/** Makes one request and maps transport-level failures; returns the ok response. */
async function send(dep: ResolvedDependency, url: string, init: RequestInit, d: HttpDeps): Promise<Response> {
  let res: Response;
  try {
    res = await d.fetch(url, init);
  } catch (e) {
    throw fetchFailure(dep, e, d.scrubber);
  }
  if (!res.ok) throw await statusFailure(dep, res, d.scrubber);
  return res;
}

/** A rejected fetch or body read: connection refused, reset, or cut. */
export function fetchFailure(dep: ResolvedDependency, e: unknown, scrubber: SecretScrubber): Error {
  // An aborted attempt keeps the reason it was aborted with; a platform abort is a DOMException, which has no subclasses to check.
  if (e instanceof AbortError || (e instanceof DOMException && e.name === 'AbortError')) return e;
  const code = networkCode(e) ?? ((e as { code?: unknown })?.code as string | undefined) ?? 'network';
  const cause = (e as { cause?: { message?: unknown } })?.cause?.message;
  const detail = `${e instanceof Error ? e.message : String(e)}${typeof cause === 'string' ? `: ${cause}` : ''}`;
  return new DependencyNetworkError(dep.id, String(code), scrubber.scrub(detail));
}

/** Reads a whole reply body as JSON: a failed read is a fetch failure, a body that is not JSON a malformed response. */
export async function readJson(dep: ResolvedDependency, res: Response, scrubber: SecretScrubber): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw fetchFailure(dep, e, scrubber);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedResponseError(dep.id, 'the body is not valid JSON');
  }
}

/** An error status: content-filter refusal or DependencyHttpError, with Retry-After and a short, redacted detail. */
export async function statusFailure(dep: ResolvedDependency, res: Response, scrubber: SecretScrubber): Promise<Error> {
  let text = '';
  try {
    text = (await res.text()).slice(0, ERROR_BODY_LIMIT);
  } catch {
    // The body is only for the message; the status says enough.
  }
  if (res.status === 400 && looksLikeContentFilter(text, dep)) return new ContentFilterError(dep.id, scrubber.scrub(errorDetail(text)));
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), res.status);
  const code = dep.api === 'anthropic' ? anthropicErrorType(text) : undefined;
  return new DependencyHttpError(dep.id, res.status, isRetryableHttp(res.status, code, dep.classifier), retryAfterMs, scrubber.scrub(errorDetail(text)) || undefined, code);
}

/** The `error.type` of an Anthropic error body (`{ type: 'error', error: { type, message } }`) when it is one Anthropic documents. */
export function anthropicErrorType(text: string): string | undefined {
  try {
    const type = (JSON.parse(text) as { error?: { type?: unknown } })?.error?.type;
    return typeof type === 'string' && Object.hasOwn(ANTHROPIC_ERROR_TYPES, type) ? type : undefined;
  } catch {
    return undefined;
  }
}

/** The call's headers, then the dependency's own and its API key, which win (names are case-insensitive). */
function callHeaders(h: HttpCall, own: Record<string, string>): Record<string, string> {
  const out = { ...h.headers };
  for (const [k, v] of Object.entries(own)) out[k.toLowerCase()] = v;
  return out;
}

/** The `error.message` of an OpenAI-style error body, else the body's start. */
function errorDetail(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    if (typeof m === 'string') return m.slice(0, 200);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * The `http` kind: the request is POSTed as JSON to the dependency's url, or
 * sent as the call's `http` options say (method, path, query, headers; no
 * body for GET and HEAD, nor for a DELETE of null); the reply is parsed as
 * JSON when it says so, else returned as text.
 */
export function httpTransport(dep: ResolvedDependency, d: HttpDeps): Transport {
  return async (request, ctx) => {
    const h = ctx.http;
    const res = !h
      ? await post(dep, dep.url!, request ?? {}, 'application/json', ctx, d)
      : await send(dep, h.url, {
          method: h.method,
          headers: callHeaders(h, requestHeaders(dep, d.env, h.headers.accept ?? 'application/json')),
          body: h.method === 'GET' || h.method === 'HEAD' || (h.method === 'DELETE' && (request === undefined || request === null)) ? undefined : JSON.stringify(request ?? {}),
          signal: ctx.signal,
        }, d);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw fetchFailure(dep, e, d.scrubber);
    }
    if (!/json/i.test(res.headers.get('content-type') ?? '')) return text;
    try {
      return JSON.parse(text);
    } catch {
      throw new MalformedResponseError(dep.id, 'the body is not valid JSON');
    }
  };
}
