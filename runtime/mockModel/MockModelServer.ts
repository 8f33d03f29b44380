/**
 * A local OpenAI-compatible model server for examples and tests: real HTTP
 * on 127.0.0.1 only, deterministic replies, streaming, and fault modes
 * switched at run time through its own small HTTP API.
 *
 * API (OpenAI-compatible):
 *   POST /v1/chat/completions   whole reply or SSE stream (`stream: true`)
 *   GET  /v1/models
 *   POST /v1/search, /search    a mock search tool: `{ query }` → `{ query, results }`
 * Control (not counted in the stats):
 *   POST /_faults {mode, status?, retryAfter?, ms?, count?, rate?, path?, style?}
 *   GET /_faults · DELETE /_faults
 *   GET /_stats · DELETE /_stats (reset)
 *   POST /_script {replies: [text | {contains, reply}]} · DELETE /_script
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultState, parseFault, type MockFault } from './faultModes.ts';
import { ReplyScript, chunkBody, completionBody, searchResults, streamPieces, usageOf, type MockMessage, type ScriptEntry } from './replies.ts';

export interface MockModelOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Model id in replies and /v1/models (default "mock"). */
  model?: string;
  /** A label in logs and stats (default the model). */
  name?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get 401. */
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
  chat: number;
  stream: number;
  search: number;
  models: number;
  /** Requests that carried an Authorization header / one that matched `apiKey`. */
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

export async function startMockModel(opts: MockModelOptions = {}): Promise<MockModelHandle> {
  const model = opts.model ?? 'mock';
  const name = opts.name ?? model;
  const faults = new FaultState(opts.seed);
  const script = new ReplyScript();
  const chunkDelayMs = opts.chunkDelayMs ?? 0;
  let stats = emptyStats(name);
  let nextId = 1;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, { error: { message: String((e as Error)?.message ?? e), type: 'server_error' } });
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
    const auth = req.headers.authorization;
    if (auth) stats.withAuthorization += 1;
    if (opts.apiKey !== undefined) {
      if (auth !== `Bearer ${opts.apiKey}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      stats.authorized += 1;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      stats.models += 1;
      return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'faultline' }] });
    }
    const isChat = req.method === 'POST' && path === '/v1/chat/completions';
    const isSearch = req.method === 'POST' && (path === '/v1/search' || path === '/search');
    if (!isChat && !isSearch) return json(res, 404, { error: { message: `No route ${req.method} ${path}`, type: 'invalid_request_error' } });
    const body = await readJson(req);
    if (body === undefined) return json(res, 400, { error: { message: 'The body is not valid JSON', type: 'invalid_request_error' } });
    const fault = faults.take(path);
    if (isSearch) {
      stats.search += 1;
      if (fault && (await commonFault(fault, res, req))) return;
      if (fault?.mode === 'malformed') return raw(res, 200, 'application/json', '{"query": "');
      return json(res, 200, searchResults(String((body as { query?: unknown }).query ?? '')));
    }
    stats.chat += 1;
    const b = body as { messages?: MockMessage[]; stream?: boolean; model?: string; stream_options?: { include_usage?: boolean } };
    if (!Array.isArray(b.messages)) return json(res, 400, { error: { message: "'messages' is required", type: 'invalid_request_error' } });
    if (fault && (await commonFault(fault, res, req))) return;
    const id = `chatcmpl-mock-${nextId++}`;
    const filtered = fault?.mode === 'content-filter';
    if (filtered && fault.style === 'error') {
      return json(res, 400, { error: { message: 'The response was filtered due to the prompt triggering content management policy', type: 'invalid_request_error', code: 'content_filter' } });
    }
    const content = filtered ? '' : script.reply(b.messages);
    const usage = usageOf(b.messages, content);
    if (b.stream === true) {
      stats.stream += 1;
      return stream(res, req, id, content, usage, fault, b.stream_options?.include_usage === true, filtered);
    }
    if (fault?.mode === 'slow-first-token') await sleep(fault.ms ?? 1000, req);
    if (fault?.mode === 'malformed') return raw(res, 200, 'application/json', '{"id": "x", "choices": [{"message": {"content": "tru');
    if (fault?.mode === 'stream-cut') {
      // A whole reply cut mid-body: headers promise more than arrives.
      const text = JSON.stringify(completionBody(id, model, content, 'stop', usage));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      return void res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
    }
    return json(res, 200, completionBody(id, model, content, filtered ? 'content_filter' : 'stop', usage));
  }

  /** error, latency and hang act the same on every API path; true when the response is handled. */
  async function commonFault(f: MockFault, res: http.ServerResponse, req: http.IncomingMessage): Promise<boolean> {
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
    const headers: Record<string, string> = {};
    if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
    json(res, status, { error: { message: `Mock fault: HTTP ${status}`, type: status >= 500 ? 'server_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error', code: status === 401 ? 'invalid_api_key' : null } }, headers);
    return true;
  }

  async function stream(res: http.ServerResponse, req: http.IncomingMessage, id: string, content: string, usage: ReturnType<typeof usageOf>, fault: MockFault | undefined, includeUsage: boolean, filtered: boolean): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    if (fault?.mode === 'slow-first-token') await sleep(fault.ms ?? 1000, req);
    if (fault?.mode === 'malformed') {
      res.write('data: {"id": "x", "choices": [{"delta": {"content": "tru\n\n');
      return void res.end();
    }
    const pieces = filtered ? [] : streamPieces(content);
    const cutAt = fault?.mode === 'stream-cut' ? Math.max(1, Math.floor(pieces.length / 2)) : Infinity;
    send(chunkBody(id, model, { role: 'assistant', content: '' }, null));
    for (let i = 0; i < pieces.length; i++) {
      // Cut once what was sent so far has reached the socket, as a dropped connection would.
      if (i >= cutAt) return void res.write('', () => res.destroy());
      if (chunkDelayMs > 0 && i > 0) await sleep(chunkDelayMs, req);
      if (res.destroyed) return;
      send(chunkBody(id, model, { content: pieces[i] }, null));
    }
    if (fault?.mode === 'stream-cut') return void res.write('', () => res.destroy());
    send(chunkBody(id, model, {}, filtered ? 'content_filter' : 'stop'));
    if (includeUsage) send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage });
    send('[DONE]');
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
  return { name, requests: 0, chat: 0, stream: 0, search: 0, models: 0, withAuthorization: 0, authorized: 0, faultsServed: 0, byStatus: {} };
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
