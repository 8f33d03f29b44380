/**
 * The runtime's one port on 127.0.0.1: the JSON-RPC control channel over
 * WebSocket at `/control`, and the HTTP health and metrics endpoints.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CONTROL_PATH } from '../protocol/runtimeFile.ts';
import { failure, notification, parseFrame, RpcError, RpcErrorCode, success, type RpcId } from '../protocol/rpc.ts';
import { validateParams, type MethodName, type MethodParams } from '../protocol/schema/methods.ts';
import { isEventName, type EventName } from '../protocol/events.ts';
import { bearer, originAllowed, tokenMatches } from './auth.ts';
import { FaultlineError } from '../errors.ts';

export interface Session {
  readonly id: number;
  events: Set<EventName | '*'>;
  /** Another node of the cluster (authenticated with the cluster's secret): its requests are for this node's agents only. */
  readonly peer?: boolean;
  /** Sends a notification to this session only (`ask.chunk`). */
  notify?(method: string, params: unknown): void;
}

export interface HttpRoute {
  (req: http.IncomingMessage): Promise<{ status: number; type: string; body: string }>;
}

export interface ControlOptions {
  token: string;
  /** The cluster's shared secret: a connection bearing it is another node (`Session.peer`). */
  peerToken?: string;
  port: number;
  /** The listening address (default 127.0.0.1). */
  host?: string;
  /** Handles an authenticated request, its params validated by the method's schema. */
  handle<M extends MethodName>(method: M, params: MethodParams<M>, session: Session): Promise<unknown>;
  routes: Record<string, HttpRoute>;
  log?(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
  extraOrigins?: string[];
}

const MAX_FRAME = 1024 * 1024;
const MAX_BUFFERED = 8 * 1024 * 1024;
const AUTH_TIMEOUT_MS = 5000;

export class ControlServer {
  private server: http.Server;
  private wss: WebSocketServer;
  private sessions = new Map<WebSocket, Session>();
  private nextSession = 1;
  port = 0;

  constructor(private readonly o: ControlOptions) {
    this.server = http.createServer((req, res) => void this.http(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as { port: number }).port;
        resolve(this.port);
      });
    });
  }

  private async http(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    const route = this.o.routes[path];
    if (!originAllowed(req.headers.origin, this.o.extraOrigins)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'origin not allowed' }));
      return;
    }
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${path}` }));
      return;
    }
    try {
      const r = await route(req);
      res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : r.body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (e as Error).message }));
    }
  }

  private refuse(socket: Duplex, status: number, reason: string) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== CONTROL_PATH) return this.refuse(socket, 404, 'Not Found');
    if (!originAllowed(req.headers.origin, this.o.extraOrigins)) {
      this.o.log?.('warn', 'control channel: refused a connection from a foreign origin', { origin: req.headers.origin });
      return this.refuse(socket, 403, 'Forbidden origin');
    }
    const given = bearer(req.headers.authorization);
    // Both compared in full, in constant time, whichever matches.
    const user = tokenMatches(this.o.token, given);
    const peer = this.o.peerToken !== undefined && tokenMatches(this.o.peerToken, given);
    if (req.headers.authorization !== undefined && !user && !peer) {
      this.o.log?.('warn', 'control channel: refused a connection with a wrong token');
      return this.refuse(socket, 401, 'Unauthorized');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.set(ws, socket);
      this.connected(ws, given !== undefined, peer && !user);
    });
  }

  private connected(ws: WebSocket, authed: boolean, peer = false) {
    const session: Session = { id: this.nextSession++, events: new Set(), ...(peer ? { peer: true } : {}), notify: (method, params) => this.reply(ws, notification(method, params)) };
    let authenticated = authed;
    const authTimer = authenticated ? undefined : setTimeout(() => ws.close(4401, 'authentication required'), AUTH_TIMEOUT_MS);
    ws.on('message', async (data, isBinary) => {
      if (isBinary) return this.reply(ws, failure(null, RpcErrorCode.InvalidRequest, 'Invalid request: frames must be text'));
      const frame = parseFrame(data.toString());
      if (frame.kind === 'error') return this.reply(ws, frame.error);
      if (frame.kind !== 'request') {
        if (frame.kind === 'notification') return; // nothing to answer
        return this.reply(ws, failure(null, RpcErrorCode.InvalidRequest, 'Invalid request: the runtime does not take responses'));
      }
      const { id, method, params } = frame.request;
      if (!authenticated) {
        if (method === 'auth' && typeof (params as { token?: unknown })?.token === 'string' && tokenMatches(this.o.token, (params as { token: string }).token)) {
          authenticated = true;
          clearTimeout(authTimer);
          this.sessions.set(ws, session);
          return this.reply(ws, success(id, { ok: true }));
        }
        this.reply(ws, failure(id, RpcErrorCode.Unauthorized, 'Unauthorized: send the token in an "Authorization: Bearer" header or as the first message {"method":"auth","params":{"token":…}}'));
        return ws.close(4401, 'unauthorized');
      }
      await this.dispatch(ws, session, id, method, params);
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.sessions.delete(ws);
    });
    ws.on('error', () => this.sessions.delete(ws));
    if (authenticated) this.sessions.set(ws, session);
  }

  private async dispatch(ws: WebSocket, session: Session, id: RpcId, method: string, params: unknown) {
    try {
      if (method === 'auth') return this.reply(ws, success(id, { ok: true }));
      const p = validateParams(method, params);
      if (method === 'subscribe') {
        for (const e of (p as MethodParams<'subscribe'>).events) session.events.add(e);
        return this.reply(ws, success(id, {}));
      }
      if (method === 'unsubscribe') {
        const ev = (p as MethodParams<'unsubscribe'>).events;
        if (!ev) session.events.clear();
        else for (const e of ev) session.events.delete(e);
        return this.reply(ws, success(id, {}));
      }
      // A streamed ask's notifications name it by its request id unless it names itself.
      if (method === 'ask' && (p as MethodParams<'ask'>).stream && (p as MethodParams<'ask'>).requestId === undefined && id !== null) (p as MethodParams<'ask'>).requestId = id;
      const result = await this.o.handle(method as MethodName, p as MethodParams<MethodName>, session);
      this.reply(ws, success(id, result === undefined ? {} : result));
    } catch (e) {
      if (e instanceof RpcError) return this.reply(ws, failure(id, e.code, e.message, e.data));
      const err = e as Error;
      const code = e instanceof FaultlineError ? e.rpcCode : RpcErrorCode.InternalError;
      this.reply(ws, failure(id, code, err.message, { type: err.name }));
    }
  }

  private reply(ws: WebSocket, msg: unknown) {
    if (ws.readyState !== ws.OPEN) return;
    this.cork(ws);
    ws.send(JSON.stringify(msg));
  }

  /**
   * Holds a connection's frames until the end of this turn of the event
   * loop: the replies and events of one turn (a commit settles many asks at
   * once) leave in one write, not one write each.
   */
  private cork(ws: WebSocket) {
    const socket = this.sockets.get(ws);
    if (!socket || this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    if (this.corked.size === 1) setImmediate(this.uncorkAll);
  }

  private readonly sockets = new WeakMap<WebSocket, Duplex>();
  private readonly corked = new Set<Duplex>();
  private readonly uncorkAll = () => {
    for (const s of this.corked) s.uncork();
    this.corked.clear();
  };

  /** Pushes an event to every session subscribed to it. */
  broadcast(name: EventName, payload: unknown) {
    if (!isEventName(name) || this.sessions.size === 0) return;
    let text: string | undefined;
    for (const [ws, s] of this.sessions) {
      if (!s.events.has(name) && !s.events.has('*')) continue;
      // A client that stops reading loses events rather than growing our memory.
      if (ws.bufferedAmount > MAX_BUFFERED) continue;
      text ??= JSON.stringify(notification(name, payload));
      if (ws.readyState !== ws.OPEN) continue;
      this.cork(ws);
      ws.send(text);
    }
  }

  /** Whether any session is subscribed to `name`. */
  listening(name: EventName): boolean {
    for (const s of this.sessions.values()) if (s.events.has(name) || s.events.has('*')) return true;
    return false;
  }

  get clients(): number {
    return this.sessions.size;
  }

  async close() {
    for (const ws of this.wss.clients) ws.close(1001, 'runtime stopping');
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections?.();
    });
  }
}
