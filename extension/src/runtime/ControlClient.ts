/**
 * One authenticated control-channel connection: JSON-RPC calls and event
 * notifications, typed by the runtime's protocol, through the protocol's one
 * RPC client (runtime/protocol/rpcClient.ts, the CLI's too). Reconnecting is
 * the caller's job (RuntimeConnection); this class lives for one socket.
 */
import WebSocket from 'ws';
import { controlUrl, type RuntimeFile } from '../../../runtime/protocol/runtimeFile.ts';
import type { MethodName, Methods } from '../../../runtime/protocol/rpc.ts';
import { RpcConnection, RuntimeUnreachableError } from '../../../runtime/protocol/rpcClient.ts';
import type { Event } from '../util/emitter.ts';

export { RuntimeRpcError, RuntimeUnreachableError } from '../../../runtime/protocol/rpcClient.ts';

export interface RuntimeEvent {
  name: string;
  params: any;
}

export class ControlClient {
  readonly onEvent: Event<RuntimeEvent>;
  readonly onClose: Event<void>;

  private constructor(private readonly ws: WebSocket, readonly file: RuntimeFile, private readonly rpc: RpcConnection) {
    this.onEvent = (listener) => rpc.onEvent((e) => listener({ name: e.method, params: e.params }));
    this.onClose = rpc.onClose;
    ws.on('message', (data) => rpc.receive(data.toString()));
    ws.on('close', () => rpc.closed());
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
        resolve(new ControlClient(ws, file, new RpcConnection({ send: (t) => ws.send(t), close: () => ws.close() })));
      });
      ws.once('unexpected-response', (_req, res) => fail(`The runtime at ${file.url} refused the connection (HTTP ${res.statusCode}).`));
      ws.once('error', (e) => fail(`Cannot reach the Faultline runtime at ${file.url}: ${e.message}`));
    });
  }

  get open(): boolean {
    return !this.rpc.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Rejects with `RuntimeRpcError` (the runtime's answer) or `RuntimeUnreachableError`. */
  call<M extends MethodName>(method: M, params: Methods[M]['params'], timeoutMs = 30_000): Promise<Methods[M]['result']> {
    if (!this.open) return Promise.reject(new RuntimeUnreachableError('Not connected to the Faultline runtime.'));
    return this.rpc.call(method, params, timeoutMs);
  }

  close(): void {
    this.rpc.close();
  }
}
