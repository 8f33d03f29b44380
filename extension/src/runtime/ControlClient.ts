/**
 * One authenticated control-channel connection: JSON-RPC calls and event
 * notifications, typed by the runtime's protocol. Reconnecting is the
 * caller's job (RuntimeConnection); this class lives for one socket.
 */
import WebSocket from 'ws';
import { controlUrl, type RuntimeFile } from '../../../runtime/protocol/runtimeFile.ts';
import { parseFrame, request, type MethodName, type Methods, type RpcErrorObject } from '../../../runtime/protocol/rpc.ts';
import { Emitter } from '../util/emitter.ts';

/** An error the runtime answered with; `code` is a JSON-RPC / Faultline code. */
export class RuntimeRpcError extends Error {
  readonly code: number;
  readonly type?: string;
  constructor(e: RpcErrorObject) {
    super(e.message);
    this.name = 'RuntimeRpcError';
    this.code = e.code;
    this.type = e.data?.type;
  }
}

/** The runtime cannot be reached, or the connection dropped mid-call. */
export class RuntimeUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUnreachableError';
  }
}

export interface RuntimeEvent {
  name: string;
  params: any;
}

export class ControlClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly events = new Emitter<RuntimeEvent>();
  private readonly closed = new Emitter<void>();
  readonly onEvent = this.events.event;
  readonly onClose = this.closed.event;
  private isClosed = false;

  private constructor(private readonly ws: WebSocket, readonly file: RuntimeFile) {
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('close', () => {
      this.isClosed = true;
      const err = new RuntimeUnreachableError('The connection to the Faultline runtime closed.');
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
      this.closed.fire();
      this.events.dispose();
      this.closed.dispose();
    });
    // 'error' is always followed by 'close'; without a listener ws would throw.
    ws.on('error', () => {});
  }

  /** Opens a socket with the token from runtime.json. */
  static connect(file: RuntimeFile, timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(controlUrl(file), { headers: { authorization: `Bearer ${file.token}` }, handshakeTimeout: timeoutMs });
      const fail = (msg: string) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new RuntimeUnreachableError(msg));
      };
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new ControlClient(ws, file));
      });
      ws.once('unexpected-response', (_req, res) => fail(`The runtime at ${file.url} refused the connection (HTTP ${res.statusCode}).`));
      ws.once('error', (e) => fail(`Cannot reach the Faultline runtime at ${file.url}: ${e.message}`));
    });
  }

  get open(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  call<M extends MethodName>(method: M, params: Methods[M]['params'], timeoutMs = 30_000): Promise<Methods[M]['result']> {
    if (!this.open) return Promise.reject(new RuntimeUnreachableError('Not connected to the Faultline runtime.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RuntimeUnreachableError(`The runtime did not answer "${method}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify(request(id, method, params)));
    });
  }

  close(): void {
    this.ws.close();
  }

  private onFrame(text: string) {
    const f = parseFrame(text);
    if (f.kind === 'notification') {
      this.events.fire({ name: f.notification.method, params: f.notification.params });
      return;
    }
    const response = f.kind === 'response' ? f.response : f.kind === 'error' ? f.error : undefined;
    if (!response || typeof response.id !== 'number') return;
    const p = this.pending.get(response.id);
    if (!p) return;
    this.pending.delete(response.id);
    clearTimeout(p.timer);
    if ('error' in response) p.reject(new RuntimeRpcError(response.error));
    else p.resolve(response.result);
  }
}
