/**
 * A control-channel client: finds the running runtime through runtime.json,
 * connects with its token and makes JSON-RPC calls.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { controlUrl, type RuntimeFile } from '../protocol/runtimeFile.ts';
import { parseFrame, request, type MethodName, type Methods, type RpcErrorObject } from '../protocol/rpc.ts';
import { processAlive, readRuntimeFile } from '../control/runtimeFileIO.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';

/** The runtime is not running, or cannot be reached. */
export class NoRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoRuntimeError';
  }
}

/** A JSON-RPC error returned by the runtime. */
export class RemoteError extends Error {
  readonly code: number;
  readonly type?: string;
  constructor(e: RpcErrorObject) {
    super(e.message);
    this.name = 'RemoteError';
    this.code = e.code;
    this.type = e.data?.type;
  }
}

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

export class RuntimeClient {
  private ws!: WebSocket;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly events = new Emitter<{ method: string; params: any }>();
  private closedError: Error | undefined;

  private constructor(readonly file: RuntimeFile) {}

  static async connect(file: RuntimeFile, timeoutMs = 5000): Promise<RuntimeClient> {
    const c = new RuntimeClient(file);
    await c.open(timeoutMs);
    return c;
  }

  private open(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(controlUrl(this.file), { headers: { authorization: `Bearer ${this.file.token}` }, handshakeTimeout: timeoutMs });
      this.ws = ws;
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new NoRuntimeError(`The runtime at ${this.file.url} refused the connection (HTTP ${res.statusCode}); is runtime.json from another run?`)));
      ws.once('error', (e) => reject(new NoRuntimeError(`Cannot reach the Faultline runtime at ${this.file.url}: ${(e as Error).message}`)));
      ws.on('message', (data) => {
        const f = parseFrame(data.toString());
        if (f.kind === 'response') {
          const id = f.response.id as number;
          const p = this.pending.get(id);
          if (!p) return;
          this.pending.delete(id);
          if ('error' in f.response) p.reject(new RemoteError(f.response.error));
          else p.resolve(f.response.result);
        } else if (f.kind === 'notification') {
          this.events.fire({ method: f.notification.method, params: f.notification.params });
        } else if (f.kind === 'error' && f.error.id !== null) {
          const p = this.pending.get(f.error.id as number);
          p?.reject(new RemoteError(f.error.error));
        }
      });
      ws.on('close', () => {
        this.closedError = new NoRuntimeError('The connection to the Faultline runtime closed (the runtime stopped or was killed).');
        for (const p of this.pending.values()) p.reject(this.closedError);
        this.pending.clear();
      });
    });
  }

  call<M extends MethodName>(method: M, params: Methods[M]['params'], timeoutMs = 30_000): Promise<Methods[M]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NoRuntimeError(`The runtime did not answer "${method}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      this.ws.send(JSON.stringify(request(id, method, params)));
    });
  }

  onEvent(fn: (method: string, params: any) => void): Disposable {
    return this.events.event((n) => fn(n.method, n.params));
  }

  onClose(fn: () => void) {
    this.ws.on('close', fn);
  }

  close() {
    this.ws.close();
  }
}
