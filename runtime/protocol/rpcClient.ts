/**
 * The one JSON-RPC client of the control channel, for the CLI, drills and
 * the extension: ids, pending calls, per-call timeouts, notifications, and
 * the two errors a caller can act on. It owns no socket: whoever opened one
 * (the `ws` package in Node, with the token header) hands its text frames to
 * `receive` and its close to `closed`, so this stays pure and browser-safe.
 *
 * ```ts
 * const rpc = new RpcConnection({ send: (t) => ws.send(t), close: () => ws.close() }, 'the Faultline runtime at ' + url);
 * ws.on('message', (d) => rpc.receive(d.toString()));
 * ws.on('close', () => rpc.closed());
 * await rpc.call('status', {});
 * ```
 */
import { Emitter, type Event } from './emitter.ts';
import { parseFrame, request, type MethodName, type Methods, type RpcErrorObject } from './rpc.ts';

/** An error the runtime answered with: `code` is the JSON-RPC / Faultline code, `type` the runtime's error class (`AgentTimeoutError`, …). */
export class RuntimeRpcError extends Error {
  readonly code: number;
  readonly type?: string;
  readonly data?: RpcErrorObject['data'];
  constructor(e: RpcErrorObject) {
    super(e.message);
    this.name = new.target.name;
    this.code = e.code;
    this.type = e.data?.type;
    this.data = e.data;
  }
}

/** The runtime cannot be reached, the connection dropped mid-call, or a call got no answer in time. */
export class RuntimeUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The sending half of an open socket. */
export interface RpcSocket {
  send(text: string): void;
  close(): void;
}

/** A notification from the runtime: `method` is the event name, `params` its payload. */
export interface RpcEvent {
  method: string;
  params: any;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new Emitter<RpcEvent>();
  private readonly closes = new Emitter<void>();
  private closedError: RuntimeUnreachableError | undefined;
  /** Event notifications, in arrival order. */
  readonly onEvent: Event<RpcEvent> = this.events.event;
  /** Fires once when the socket closed. */
  readonly onClose: Event<void> = this.closes.event;

  /** @param peer who is at the other end, for error messages ("the Faultline runtime"). */
  constructor(private readonly socket: RpcSocket, private readonly peer = 'the Faultline runtime') {}

  /** Whether the socket closed. */
  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Calls a method; rejects with `RuntimeRpcError` when the runtime answers with an error, `RuntimeUnreachableError` when it does not answer. */
  call<M extends MethodName>(method: M, params: Methods[M]['params'], timeoutMs = 30_000): Promise<Methods[M]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RuntimeUnreachableError(`${cap(this.peer)} did not answer "${method}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.socket.send(JSON.stringify(request(id, method, params)));
      } catch (e) {
        this.settle(id)?.reject(new RuntimeUnreachableError(`Cannot send "${method}" to ${this.peer}: ${(e as Error).message}`));
      }
    });
  }

  /** One text frame from the socket. */
  receive(text: string): void {
    const f = parseFrame(text);
    if (f.kind === 'notification') {
      this.events.fire({ method: f.notification.method, params: f.notification.params });
      return;
    }
    const response = f.kind === 'response' ? f.response : f.kind === 'error' ? f.error : undefined;
    if (!response || typeof response.id !== 'number') return;
    const p = this.settle(response.id);
    if (!p) return;
    if ('error' in response) p.reject(new RuntimeRpcError(response.error));
    else p.resolve(response.result);
  }

  /** The socket closed: pending calls fail, later calls fail at once. */
  closed(): void {
    if (this.closedError) return;
    this.closedError = new RuntimeUnreachableError(`The connection to ${this.peer} closed (it stopped or was killed).`);
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.closedError);
    this.closes.fire();
    this.events.dispose();
    this.closes.dispose();
  }

  /** Closes the socket (`closed` follows when it has). */
  close(): void {
    this.socket.close();
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
