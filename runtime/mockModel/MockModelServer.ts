/**
 * A local model server for examples and tests that speaks the OpenAI and the
 * Anthropic dialects: real HTTP on 127.0.0.1 only, deterministic replies,
 * deterministic tool calls, streaming, and fault modes switched at run time
 * through its own small HTTP API.
 *
 * API:
 *   POST /v1/chat/completions   OpenAI chat: whole reply or SSE stream (`stream: true`)
 *   POST /v1/messages           Anthropic Messages: whole reply or SSE events (`stream: true`);
 *                               needs `anthropic-version`, and `x-api-key` (or a bearer token) when
 *                               the server has a key
 *   POST /v1/embeddings         OpenAI embeddings: float or base64, `dimensions` (default 16)
 *   GET  /v1/models
 *   POST /v1/search, /search    a mock search tool: `{ query }` → `{ query, results }`
 * Replies: a scripted reply first; else, after a tool result, `Tool <name> returned: <result>`;
 * else, when the request has tools (and tool choice is not none), a call of the chosen tool,
 * the first one named in the last user message, or the first one, with arguments from its
 * schema; else `echo: <last user message>`.
 * Control (not counted in the stats):
 *   POST /_faults {mode, status?, retryAfter?, ms?, count?, rate?, path?, style?, afterDeltas?}
 *   GET /_faults · DELETE /_faults
 *   GET /_stats · DELETE /_stats (reset)
 *   POST /_script {replies: [text | {contains, reply}]} · DELETE /_script
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultState, parseFault, type MockFault } from './faultModes.ts';
import { ReplyScript, searchResults, usageOf, type ScriptEntry, type StreamFrames } from './replies.ts';
import { answer } from './tools.ts';
import { MALFORMED_CHAT_BODY, MALFORMED_CHAT_FRAME, chatBody, chatError, chatFrames, parseChat, type ChatReply } from './openai.ts';
import { MALFORMED_MESSAGE_BODY, MALFORMED_MESSAGE_FRAME, anthropicError, messageBody, messageFrames, messagesReply, parseMessages } from './anthropic.ts';
import { embeddingsBody, parseEmbeddings } from './embeddings.ts';

export interface MockModelOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Model id in replies and /v1/models (default "mock"). */
  model?: string;
  /** A label in logs and stats (default the model). */
  name?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (on /v1/messages, `x-api-key: <apiKey>` or that) or get 401. */
  apiKey?: string;
  /** Seed of the fault-rate generator. */
  seed?: number;
  /** Delay between stream chunks, ms (default 0). */
  chunkDelayMs?: number;
}

export interface MockModelStats {
  name: string;
  /** API requests (control requests excluded). */
  requests: number;
  /** /v1/chat/completions requests. */
  chat: number;
  /** Streamed replies, either dialect. */
  stream: number;
  search: number;
  models: number;
  /** /v1/messages requests. */
  messages: number;
  embeddings: number;
  /** Replies that called a tool, either dialect. */
  toolCalls: number;
  /** Requests that carried credentials (Authorization, or x-api-key on /v1/messages) / ones that matched `apiKey`. */
  withAuthorization: number;
  authorized: number;
  faultsServed: number;
  byStatus: Record<string, number>;
}

export interface MockModelHandle {
  /** Base URL for a dependency's `url`: `http://127.0.0.1:PORT/v1`. */
  url: string;
  origin: string;
  port: number;
  setFault(fault: MockFault | undefined): void;
  script(entries: ScriptEntry[]): void;
  stats(): MockModelStats;
  resetStats(): void;
  close(): Promise<void>;
}

const BODY_LIMIT = 1 << 20;

/** Writes an error body in the request's dialect. */
type Fail = (status: number, message: string, headers?: Record<string, string>, code?: string | null) => void;

export async function startMockModel(opts: MockModelOptions = {}): Promise<MockModelHandle> {
  const model = opts.model ?? 'mock';
  const name = opts.name ?? model;
  const faults = new FaultState(opts.seed);
  const script = new ReplyScript();
  const chunkDelayMs = opts.chunkDelayMs ?? 0;
  let stats = emptyStats(name);
  let nextId = 1;
  let nextCall = 1;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, chatError(500, String((e as Error)?.message ?? e)));
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/_')) return control(req, res, path);
    stats.requests += 1;
    const countStatus = () => (stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] ?? 0) + 1);
    res.on('finish', countStatus);
    res.on('close', () => {
      // A destroyed (cut or hung) response never finishes: count it as status 0.
      if (!res.writableFinished) stats.byStatus[0] = (stats.byStatus[0] ?? 0) + 1;
    });
    const anthropic = path === '/v1/messages' || path.startsWith('/v1/messages/');
    const headers: Record<string, string> = anthropic ? { 'request-id': `req_mock_${nextId++}` } : {};
    const fail: Fail = (status, message, extra = {}, code) =>
      json(res, status, anthropic ? anthropicError(status, message) : chatError(status, message, code), { ...extra, ...headers });

    const auth = req.headers.authorization;
    const key = req.headers['x-api-key'];
    if (auth || (anthropic && key)) stats.withAuthorization += 1;
    if (opts.apiKey !== undefined) {
      const bearer = auth === `Bearer ${opts.apiKey}`;
      // @anthropic-ai/sdk 1.x sends its apiKey as a bearer token, so /v1/messages takes either header.
      if (anthropic ? key !== opts.apiKey && !bearer : !bearer) return fail(401, anthropic ? 'invalid x-api-key' : 'Incorrect API key provided');
      stats.authorized += 1;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      stats.models += 1;
      return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'faultline' }] });
    }
    const post = req.method === 'POST';
    const route = !post ? undefined : path === '/v1/chat/completions' ? 'chat' : path === '/v1/messages' ? 'messages' : path === '/v1/embeddings' ? 'embeddings' : path === '/v1/search' || path === '/search' ? 'search' : undefined;
    if (!route) return fail(404, `No route ${req.method} ${path}`);
    const body = await readJson(req);
    if (body === undefined) return fail(400, 'The body is not valid JSON');
    if (route === 'search') {
      stats.search += 1;
      const fault = faults.take(path);
      if (fault && (await commonFault(fault, req, fail))) return;
      if (fault?.mode === 'malformed') return raw(res, 200, 'application/json', '{"query": "');
      return json(res, 200, searchResults(String((body as { query?: unknown }).query ?? '')));
    }
    if (route === 'embeddings') {
      stats.embeddings += 1;
      const r = parseEmbeddings(body);
      if (typeof r === 'string') return fail(400, r);
      const fault = faults.take(path);
      if (fault && (await commonFault(fault, req, fail))) return;
      if (fault?.mode === 'content-filter') return fail(400, 'The input was filtered due to content management policy', {}, 'content_filter');
      return whole(res, req, fault, embeddingsBody(r, model), '{"object": "list", "data": [{"embedding": [0.1', headers);
    }
    if (route === 'chat') {
      stats.chat += 1;
      const r = parseChat(body);
      if (typeof r === 'string') return fail(400, r);
      const fault = faults.take(path);
      if (fault && (await commonFault(fault, req, fail))) return;
      const filtered = fault?.mode === 'content-filter';
      if (filtered && fault.style === 'error') return fail(400, 'The response was filtered due to the prompt triggering content management policy', {}, 'content_filter');
      const a = filtered ? { kind: 'text' as const, text: '' } : answer(r.conversation, script);
      if (typeof a === 'string') return fail(400, a);
      const id = `chatcmpl-mock-${nextId++}`;
      let reply: ChatReply;
      if (a.kind === 'tool') {
        stats.toolCalls += 1;
        reply = { content: '', finishReason: 'tool_calls', call: { id: `call_mock_${nextCall++}`, name: a.name, arguments: JSON.stringify(a.input) } };
      } else reply = { content: a.text, finishReason: filtered ? 'content_filter' : 'stop' };
      const usage = usageOf(r.conversation.messages, reply.call?.arguments ?? reply.content);
      if (r.stream) {
        stats.stream += 1;
        return stream(res, req, chatFrames(id, model, reply, r.includeUsage ? usage : undefined), fault, MALFORMED_CHAT_FRAME, headers);
      }
      return whole(res, req, fault, chatBody(id, model, reply, usage), MALFORMED_CHAT_BODY, headers);
    }
    stats.messages += 1;
    if (!req.headers['anthropic-version']) return fail(400, 'anthropic-version: header is required');
    const r = parseMessages(body);
    if (typeof r === 'string') return fail(400, r);
    const fault = faults.take(path);
    if (fault && (await commonFault(fault, req, fail))) return;
    const filtered = fault?.mode === 'content-filter';
    if (filtered && fault.style === 'error') return fail(400, 'Output blocked by content filtering policy');
    const a = filtered ? { kind: 'text' as const, text: '' } : answer(r.conversation, script);
    if (typeof a === 'string') return fail(400, a);
    if (a.kind === 'tool') stats.toolCalls += 1;
    const inputTokens = usageOf(r.conversation.messages, '').prompt_tokens;
    const reply = messagesReply(a, a.kind === 'tool' ? `toolu_mock_${nextCall++}` : '', r.maxTokens, inputTokens, filtered);
    const id = `msg_mock_${nextId++}`;
    if (r.stream) {
      stats.stream += 1;
      return stream(res, req, messageFrames(id, model, reply), fault, MALFORMED_MESSAGE_FRAME, headers);
    }
    return whole(res, req, fault, messageBody(id, model, reply), MALFORMED_MESSAGE_BODY, headers);
  }

  /** error, latency and hang act the same on every API path; true when the response is handled. */
  async function commonFault(f: MockFault, req: http.IncomingMessage, fail: Fail): Promise<boolean> {
    if (f.mode === 'latency') {
      await sleep(f.ms ?? 1000, req);
      return false;
    }
    if (f.mode === 'hang') {
      // Never answer; the socket is destroyed when the client gives up or the server closes.
      return true;
    }
    if (f.mode !== 'error') return false;
    const status = f.status ?? 500;
    fail(status, `Mock fault: HTTP ${status}`, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
    return true;
  }

  /** A whole JSON reply, as the slow-first-token, malformed and stream-cut faults leave it. */
  async function whole(res: http.ServerResponse, req: http.IncomingMessage, fault: MockFault | undefined, body: unknown, malformed: string, headers: Record<string, string>): Promise<void> {
    if (fault?.mode === 'slow-first-token') await sleep(fault.ms ?? 1000, req);
    if (fault?.mode === 'malformed') return raw(res, 200, 'application/json', malformed, headers);
    if (fault?.mode === 'stream-cut') {
      // A whole reply cut mid-body: headers promise more than arrives.
      const text = JSON.stringify(body);
      res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      return void res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
    }
    return json(res, 200, body, headers);
  }

  async function stream(res: http.ServerResponse, req: http.IncomingMessage, frames: StreamFrames, fault: MockFault | undefined, malformed: string, headers: Record<string, string>): Promise<void> {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (fault?.mode === 'slow-first-token') await sleep(fault.ms ?? 1000, req);
    if (fault?.mode === 'malformed') {
      res.write(malformed);
      return void res.end();
    }
    const { head, deltas, tail } = frames;
    const cutAt = fault?.mode === 'stream-cut' ? Math.min(fault.afterDeltas ?? Math.max(1, Math.floor(deltas.length / 2)), deltas.length) : Infinity;
    for (const f of head) res.write(f);
    for (let i = 0; i < deltas.length; i++) {
      // Cut once what was sent so far has reached the socket, as a dropped connection would.
      if (i >= cutAt) return void res.write('', () => res.destroy());
      if (chunkDelayMs > 0 && i > 0) await sleep(chunkDelayMs, req);
      if (res.destroyed) return;
      res.write(deltas[i]);
    }
    if (fault?.mode === 'stream-cut') return void res.write('', () => res.destroy());
    for (const f of tail) res.write(f);
    res.end();
  }

  async function control(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const m = req.method;
    if (path === '/_faults' && m === 'GET') return json(res, 200, { fault: faults.current ?? null });
    if (path === '/_faults' && m === 'DELETE') return faults.set(undefined), json(res, 200, { fault: null });
    if (path === '/_faults' && m === 'POST') {
      const f = parseFault(await readJson(req));
      if (typeof f === 'string') return json(res, 400, { error: { message: f } });
      faults.set(f);
      return json(res, 200, { fault: faults.current });
    }
    if (path === '/_stats' && m === 'GET') return json(res, 200, snapshot());
    if (path === '/_stats' && m === 'DELETE') return (stats = emptyStats(name)), json(res, 200, snapshot());
    if (path === '/_script' && m === 'POST') {
      const b = (await readJson(req)) as { replies?: unknown } | undefined;
      if (!b || !Array.isArray(b.replies)) return json(res, 400, { error: { message: 'expected { "replies": [...] }' } });
      script.set(b.replies as ScriptEntry[]);
      return json(res, 200, {});
    }
    if (path === '/_script' && m === 'DELETE') return script.clear(), json(res, 200, {});
    return json(res, 404, { error: { message: `No control route ${m} ${path}` } });
  }

  function snapshot(): MockModelStats {
    return { ...stats, faultsServed: faults.served, byStatus: { ...stats.byStatus } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    origin,
    port,
    setFault: (f) => faults.set(f),
    script: (entries) => script.set(entries),
    stats: snapshot,
    resetStats: () => void (stats = emptyStats(name)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung requests and keep-alive sockets would hold close() open.
        for (const s of sockets) s.destroy();
      }),
  };
}

function emptyStats(name: string): MockModelStats {
  return { name, requests: 0, chat: 0, stream: 0, search: 0, models: 0, messages: 0, embeddings: 0, toolCalls: 0, withAuthorization: 0, authorized: 0, faultsServed: 0, byStatus: {} };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  raw(res, status, 'application/json', JSON.stringify(body), headers);
}

function raw(res: http.ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a JSON body up to 1 MiB; undefined when it is not JSON (an empty body reads as {}). */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or less if the client went away meanwhile. */
function sleep(ms: number, req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      req.socket.off('close', done);
      resolve();
    }
    req.socket.once('close', done);
  });
}
