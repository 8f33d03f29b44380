/**
 * A control-channel client: finds the running runtime through runtime.json,
 * connects with its token and makes JSON-RPC calls.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { controlUrl, type RuntimeFile } from '../protocol/runtimeFile.ts';
import type { MethodName, Methods } from '../protocol/rpc.ts';
import { processAlive, readRuntimeFile } from '../control/runtimeFileIO.ts';
import type { Disposable } from '../protocol/emitter.ts';
import { RpcConnection, RuntimeUnreachableError } from '../protocol/rpcClient.ts';

export { RuntimeRpcError, RuntimeUnreachableError } from '../protocol/rpcClient.ts';

/** No runtime is running here (no runtime.json, a stale one), or it cannot be reached: the CLI's "start one with `faultline up`". */
export class NoRuntimeError extends RuntimeUnreachableError {}

/**
 * The state dir clients use: `--state-dir`, else the one beside `--config`,
 * else the nearest `.faultline/runtime.json` from the current directory up.
 */
export function findStateDir(o: { stateDir?: string; config?: string; cwd?: string }): string {
  if (o.stateDir) return path.resolve(o.stateDir);
  if (o.config) return path.join(path.dirname(path.resolve(o.config)), '.faultline');
  let dir = path.resolve(o.cwd ?? process.cwd());
  for (;;) {
    const candidate = path.join(dir, '.faultline');
    if (existsSync(path.join(candidate, 'runtime.json'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return path.join(path.resolve(o.cwd ?? process.cwd()), '.faultline');
    dir = up;
  }
}

export function locateRuntime(stateDir: string): RuntimeFile {
  const f = readRuntimeFile(stateDir);
  if (!f) throw new NoRuntimeError(`No Faultline runtime is running here (no ${path.join(stateDir, 'runtime.json')}). Start one with \`faultline up\`.`);
  if (!processAlive(f.pid)) throw new NoRuntimeError(`The Faultline runtime (pid ${f.pid}) is not running any more: it stopped or was killed (stale ${path.join(stateDir, 'runtime.json')}). Start it again with \`faultline up\`.`);
  return f;
}

/**
 * Sends frames on `ws`, holding them until the end of the event loop's turn
 * so that the calls of one turn (many callers answered by one frame) leave
 * in one write. `ws` keeps its socket in `_socket`; without it, frames go
 * one by one.
 */
function corkedSend(ws: WebSocket): (text: string) => void {
  let corked: { uncork(): void } | undefined;
  const uncork = () => {
    corked?.uncork();
    corked = undefined;
  };
  return (text) => {
    const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (socket && !corked) {
      socket.cork();
      corked = socket;
      setImmediate(uncork);
    }
    ws.send(text);
  };
}

/** A control-channel connection from the CLI (and drills, benchmarks): the protocol's one RPC client over a `ws` socket. */
export class RuntimeClient {
  private constructor(readonly file: RuntimeFile, private readonly ws: WebSocket, private readonly rpc: RpcConnection) {}

  static connect(file: RuntimeFile, timeoutMs = 5000): Promise<RuntimeClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(controlUrl(file), { headers: { authorization: `Bearer ${file.token}` }, handshakeTimeout: timeoutMs });
      const rpc = new RpcConnection({ send: corkedSend(ws), close: () => ws.close() });
      ws.on('message', (data) => rpc.receive(data.toString()));
      ws.on('close', () => rpc.closed());
      ws.once('open', () => resolve(new RuntimeClient(file, ws, rpc)));
      ws.once('unexpected-response', (_req, res) => reject(new NoRuntimeError(`The runtime at ${file.url} refused the connection (HTTP ${res.statusCode}); is runtime.json from another run?`)));
      ws.once('error', (e) => reject(new NoRuntimeError(`Cannot reach the Faultline runtime at ${file.url}: ${(e as Error).message}`)));
    });
  }

  /** Rejects with `RuntimeRpcError` (the runtime's answer) or `RuntimeUnreachableError`. */
  call<M extends MethodName>(method: M, params: Methods[M]['params'], timeoutMs = 30_000): Promise<Methods[M]['result']> {
    return this.rpc.call(method, params, timeoutMs);
  }

  onEvent(fn: (method: string, params: any) => void): Disposable {
    return this.rpc.onEvent((n) => fn(n.method, n.params));
  }

  onClose(fn: () => void): void {
    this.ws.on('close', fn);
  }

  close(): void {
    this.ws.close();
  }
}
