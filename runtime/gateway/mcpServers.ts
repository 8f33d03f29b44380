/**
 * The MCP servers behind `kind: "mcp"` dependencies, one connection each.
 *
 * A stdio server is a child process supervised like an agent: started with
 * the runtime (one that fails to start leaves its dependency down, not the
 * runtime), started again with exponential backoff and jitter whenever it
 * exits, its stderr lines logged under the dependency's name, and stopped
 * with the SDK's close (stdin closed, then SIGTERM, then SIGKILL) and, should
 * it outlive that, SIGKILL by its PID. A streamable HTTP server is a
 * connection that is dropped when a call finds it broken and opened again by
 * the next call.
 *
 * The SDK is imported on first use, so a config without MCP dependencies
 * never loads it.
 */
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { backoffDelay, type BackoffOptions } from '../protocol/backoff.ts';
import type { DependencyConfig } from '../config/dependencySchema.ts';
import type { LastError, McpServerStatus } from '../protocol/status.ts';
import { systemClock, type Clock } from './clock.ts';
import type { LogFn } from './DependencyPolicy.ts';
import { DependencyNetworkError } from './errors.ts';
import { connectionLost, mcpFailure } from './mcpErrors.ts';

/** One MCP server as the transport uses it. */
export interface McpConnection {
  readonly id: string;
  readonly transport: 'stdio' | 'http';
  /** A connected client: at once when connected, else after the start or connection in progress (or, for http, one opened now). */
  client(signal: AbortSignal): Promise<Client>;
  /** A request on `client` failed with `error` (already mapped): an http connection found broken is dropped. */
  failed(client: Client, error: Error): void;
  /** Whether `client` is an http connection with a session (a 400 or 404 then means the server lost it). */
  hasSession(client: Client): boolean;
  status(): McpServerStatus;
}

/** What the gateway needs of the servers. */
export interface McpConnections {
  get(dependency: string): McpConnection | undefined;
}

export interface McpServersOptions {
  dependencies: Record<string, DependencyConfig>;
  /** The config's directory: relative `cwd` and `./…` args resolve against it, and a server runs there by default. */
  baseDir: string;
  /** Where `apiKeyEnv` is read for an http server (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: LogFn;
  clock?: Clock;
  random?: () => number;
  /** Restart delays of stdio servers (default RESTART_BACKOFF). */
  backoff?: BackoffOptions;
}

/** Restart delays: from 100 ms, doubling, ±20 % jitter, at most 30 s (as agents restart). */
export const RESTART_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2 };
/** A server up this long was stable: its next exit restarts from the first delay again. */
export const STABLE_AFTER_MS = 10_000;
/** How long a start (spawn and MCP initialize) or an http connection may take. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long the runtime's start waits for its MCP servers before it starts the agents anyway. */
const START_WAIT_MS = 5_000;
/** The SDK's own per-request timeout: the policy's per-attempt timeout cancels requests first. */
export const MCP_REQUEST_TIMEOUT_MS = 3_600_000;
const MAX_STDERR_LINE = 4000;
const CLIENT_INFO = { name: 'faultline', version: '0.1.0' };

/**
 * The next restart of a stdio server that exited after `upMs` (undefined: it
 * did not start) with `failures` restarts since it was last stable: the delay,
 * and the failure count to keep.
 */
export function nextRestart(failures: number, upMs: number | undefined, o: BackoffOptions = RESTART_BACKOFF, random: () => number = Math.random): { delayMs: number; failures: number } {
  const n = upMs !== undefined && upMs >= STABLE_AFTER_MS ? 0 : failures;
  return { delayMs: backoffDelay(n, o, random), failures: n + 1 };
}

/** The command, arguments and working directory of a stdio server, with paths resolved against the config's directory. */
export function stdioParams(c: DependencyConfig, baseDir: string): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
  const rel = (p: string) => /^\.\.?[\\/]/.test(p);
  return {
    command: rel(c.command!) ? path.resolve(baseDir, c.command!) : c.command!,
    args: (c.args ?? []).map((a) => (rel(a) ? path.resolve(baseDir, a) : a)),
    env: c.env ?? {},
    cwd: c.cwd ? path.resolve(baseDir, c.cwd) : baseDir,
  };
}

type Sdk = {
  Client: typeof import('@modelcontextprotocol/sdk/client/index.js').Client;
  StdioClientTransport: typeof import('@modelcontextprotocol/sdk/client/stdio.js').StdioClientTransport;
  StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport;
};
let sdk: Promise<Sdk> | undefined;
// Dynamic imports of the package itself (not of a local module re-exporting it): the bundle keeps them lazy.
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= Promise.all([import('@modelcontextprotocol/sdk/client/index.js'), import('@modelcontextprotocol/sdk/client/stdio.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js')]).then(([c, s, h]) => ({
    Client: c.Client,
    StdioClientTransport: s.StdioClientTransport,
    StreamableHTTPClientTransport: h.StreamableHTTPClientTransport,
  })));

const lastError = (e: Error, type = e.name): LastError => ({ type, message: e.message, time: new Date().toISOString() });

/** Waits for `p`, or rejects with the signal's reason when it aborts first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/** Why a stdio server did not start, in words. */
function startProblem(e: unknown, command: string, id: string): string {
  const err = e as { code?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (err?.code === 'ENOENT') return `cannot run "${command}" (not found on PATH or at that path)`;
  if (/Connection closed/.test(message)) return `the process exited before it completed the MCP handshake (its stderr is in the log under dependency "${id}")`;
  if (/timed out/i.test(message)) return `it did not complete the MCP handshake within ${CONNECT_TIMEOUT_MS / 1000} s`;
  return message;
}

type StdioState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopped';

class StdioServer implements McpConnection {
  readonly transport = 'stdio' as const;
  private state: StdioState = 'idle';
  private since = Date.now();
  /** Incremented by every start and by close: callbacks of an older process are ignored. */
  private gen = 0;
  private current: { client: Client; transport: { readonly pid: number | null }; pid?: number; startedAt?: number } | undefined;
  private starting: Promise<Client> | undefined;
  private timer: unknown;
  private retryAt = 0;
  private failures = 0;
  private restarts = 0;
  private lastError: LastError | undefined;

  constructor(readonly id: string, private readonly params: ReturnType<typeof stdioParams>, private readonly o: McpServersOptions, private readonly clock: Clock) {}

  /** Starts the server; resolves once it runs or has failed to start (and will be tried again). */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.resolve();
    return this.launch().then(() => undefined, () => undefined);
  }

  client(signal: AbortSignal): Promise<Client> {
    if (this.state === 'running' && this.current) return Promise.resolve(this.current.client);
    if (this.state === 'idle') void this.start();
    if (this.state === 'starting' && this.starting) return abortable(this.starting, signal);
    const why = this.state === 'backoff' ? `the MCP server process is not running (${this.lastError?.message ?? 'it exited'}); it is started again in ${Math.max(0, Math.round(this.retryAt - this.clock.now()))} ms` : 'the MCP server is stopped';
    return Promise.reject(new DependencyNetworkError(this.id, 'not-running', why));
  }

  failed(): void {
    // The process's exit is what tells a stdio server is gone (see exited).
  }

  hasSession(): boolean {
    return false;
  }

  /** SIGKILLs the running process (the kill-server fault); its exit then restarts it. Returns the PID, or undefined when none runs. */
  kill(): number | undefined {
    const pid = this.current?.pid;
    if (this.state !== 'running' || !pid) return undefined;
    try {
      process.kill(pid, 'SIGKILL');
      return pid;
    } catch {
      return undefined;
    }
  }

  status(): McpServerStatus {
    const s: McpServerStatus = { transport: 'stdio', state: this.state === 'idle' ? 'stopped' : this.state, restarts: this.restarts, since: new Date(this.since).toISOString() };
    if (this.state === 'running' && this.current?.pid) s.pid = this.current.pid;
    if (this.state === 'backoff') s.retryInMs = Math.max(0, Math.round(this.retryAt - this.clock.now()));
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  private setState(s: StdioState): void {
    this.state = s;
    this.since = Date.now();
  }

  private launch(): Promise<Client> {
    const gen = ++this.gen;
    this.setState('starting');
    const p = this.connect(gen);
    this.starting = p;
    p.catch(() => undefined);
    return p;
  }

  private async connect(gen: number): Promise<Client> {
    const { Client, StdioClientTransport } = await loadSdk();
    if (gen !== this.gen) throw this.stoppedError();
    const { command, args, env, cwd } = this.params;
    const transport = new StdioClientTransport({ command, args, env, cwd, stderr: 'pipe' });
    this.readStderr(transport.stderr as Readable | null);
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.onerror = (e) => this.o.log?.('debug', `MCP server ${this.id}: ${e.message}`, { dependency: this.id });
    client.onclose = () => this.exited(gen);
    this.current = { client, transport };
    try {
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
    } catch (e) {
      if (gen === this.gen) this.current = undefined;
      await client.close().catch(() => undefined);
      if (gen !== this.gen) throw this.stoppedError();
      const why = startProblem(e, command, this.id);
      this.lastError = { type: 'start', message: why, time: new Date().toISOString() };
      this.backoff(undefined, `MCP server ${this.id} did not start: ${why}`);
      throw new DependencyNetworkError(this.id, 'not-running', `the MCP server did not start: ${why}`);
    }
    if (gen !== this.gen) {
      await client.close().catch(() => undefined);
      throw this.stoppedError();
    }
    this.current = { client, transport, pid: transport.pid ?? undefined, startedAt: this.clock.now() };
    this.setState('running');
    this.o.log?.('info', `MCP server ${this.id} running (pid ${transport.pid})`, { dependency: this.id, pid: transport.pid });
    return client;
  }

  /** The process closed its end: unless it is being stopped, it is started again after a delay. */
  private exited(gen: number): void {
    if (gen !== this.gen || this.state !== 'running' || !this.current) return;
    const { pid, startedAt } = this.current;
    this.current = undefined;
    const upMs = startedAt === undefined ? undefined : this.clock.now() - startedAt;
    this.lastError = { type: 'exited', message: `the server process (pid ${pid}) exited after ${Math.round((upMs ?? 0) / 1000)} s`, time: new Date().toISOString() };
    this.backoff(upMs, `MCP server ${this.id} (pid ${pid}) exited`);
  }

  private backoff(upMs: number | undefined, what: string): void {
    const { delayMs, failures } = nextRestart(this.failures, upMs, this.o.backoff, this.o.random);
    this.failures = failures;
    this.retryAt = this.clock.now() + delayMs;
    this.setState('backoff');
    this.o.log?.('warn', `${what}; starting it again in ${delayMs} ms`, { dependency: this.id, delayMs, restarts: this.restarts });
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'backoff') return;
      this.restarts += 1;
      void this.launch();
    }, delayMs);
  }

  /** The server's stderr, a log line each under the dependency's name (stdout carries the protocol). */
  private readStderr(stream: Readable | null): void {
    if (!stream) return;
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!line.trim()) return;
      this.o.log?.('info', line.length > MAX_STDERR_LINE ? `${line.slice(0, MAX_STDERR_LINE)}…` : line, { dependency: this.id, stream: 'stderr' });
    });
  }

  private stoppedError(): Error {
    return new DependencyNetworkError(this.id, 'not-running', 'the MCP server is stopped');
  }

  async close(): Promise<void> {
    this.gen += 1;
    this.setState('stopped');
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    const pid = c.pid ?? c.transport.pid ?? undefined;
    await c.client.close().catch(() => undefined);
    // The SDK's close ends with SIGKILL through its process handle; one that still runs is killed by its PID.
    if (pid) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

type HttpState = 'idle' | 'starting' | 'running' | 'down' | 'stopped';

class HttpServer implements McpConnection {
  readonly transport = 'http' as const;
  private state: HttpState = 'idle';
  private since = Date.now();
  private current: { client: Client; session: boolean } | undefined;
  private connecting: Promise<Client> | undefined;
  private connectedOnce = false;
  private restarts = 0;
  private lastError: LastError | undefined;

  constructor(readonly id: string, private readonly url: string, private readonly headers: Record<string, string>, private readonly o: McpServersOptions) {}

  /** Connects once; a server that does not answer is just down until a call reconnects. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.open().catch((e) => this.o.log?.('warn', `MCP server ${this.id} at ${this.url} is not reachable (${(e as Error).message}); the next call connects again`, { dependency: this.id }));
  }

  client(signal: AbortSignal): Promise<Client> {
    if (this.state === 'stopped') return Promise.reject(new DependencyNetworkError(this.id, 'not-connected', 'the MCP connection is closed (the runtime is stopping)'));
    if (this.current) return Promise.resolve(this.current.client);
    return abortable(this.open(), signal);
  }

  failed(client: Client, error: Error): void {
    if (this.current?.client !== client || !connectionLost(error)) return;
    this.drop(error);
  }

  hasSession(client: Client): boolean {
    return this.current?.client === client && this.current.session;
  }

  status(): McpServerStatus {
    const s: McpServerStatus = { transport: 'http', state: this.state === 'idle' ? 'down' : this.state, restarts: this.restarts, since: new Date(this.since).toISOString() };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  private setState(s: HttpState): void {
    if (this.state === s) return;
    this.state = s;
    this.since = Date.now();
  }

  private open(): Promise<Client> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  private async connect(): Promise<Client> {
    const { Client, StreamableHTTPClientTransport } = await loadSdk();
    if (this.stopped) throw new DependencyNetworkError(this.id, 'not-connected', 'the MCP connection is closed');
    this.setState('starting');
    const transport = new StreamableHTTPClientTransport(new URL(this.url), { requestInit: { headers: this.headers } });
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.onerror = (e) => this.o.log?.('debug', `MCP server ${this.id}: ${e.message}`, { dependency: this.id });
    client.onclose = () => {
      if (this.current?.client === client) this.drop(new DependencyNetworkError(this.id, 'connection-closed', 'the connection closed'));
    };
    try {
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
    } catch (e) {
      const err = mcpFailure({ id: this.id }, e);
      await client.close().catch(() => undefined);
      if (!this.stopped) {
        this.setState('down');
        this.lastError = lastError(err);
      }
      throw err;
    }
    if (this.stopped) {
      await client.close().catch(() => undefined);
      throw new DependencyNetworkError(this.id, 'not-connected', 'the MCP connection is closed');
    }
    if (this.connectedOnce) this.restarts += 1;
    this.connectedOnce = true;
    this.current = { client, session: transport.sessionId !== undefined };
    this.setState('running');
    this.o.log?.('info', `MCP server ${this.id} connected at ${this.url}`, { dependency: this.id });
    return client;
  }

  private drop(error: Error): void {
    const c = this.current;
    this.current = undefined;
    this.lastError = lastError(error);
    if (this.state !== 'stopped') this.setState('down');
    this.o.log?.('warn', `MCP server ${this.id}: connection lost (${error.message}); the next call connects again`, { dependency: this.id });
    void c?.client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.setState('stopped');
    const c = this.current;
    this.current = undefined;
    await c?.client.close().catch(() => undefined);
  }
}

/** Every MCP server of the config, by dependency id. */
export class McpServers implements McpConnections {
  private readonly servers = new Map<string, StdioServer | HttpServer>();

  constructor(o: McpServersOptions) {
    const clock = o.clock ?? systemClock;
    const env = o.env ?? process.env;
    for (const [id, c] of Object.entries(o.dependencies)) {
      if (c.kind !== 'mcp') continue;
      if (c.command) this.servers.set(id, new StdioServer(id, stdioParams(c, o.baseDir), o, clock));
      else if (c.url) {
        const key = c.apiKeyEnv ? env[c.apiKeyEnv] : undefined;
        this.servers.set(id, new HttpServer(id, c.url, { ...c.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) }, o));
      }
    }
  }

  get(dependency: string): McpConnection | undefined {
    return this.servers.get(dependency);
  }

  /** Dependency ids of the servers, stdio ones only with `stdio`. */
  ids(stdio = false): string[] {
    return [...this.servers].filter(([, s]) => !stdio || s instanceof StdioServer).map(([id]) => id);
  }

  /**
   * Starts every stdio server and connects to every http one, in parallel.
   * Resolves when each runs or has failed, or after `waitMs` while some are
   * still starting (they go on; a call waits for its server's start). Never rejects.
   */
  async start(waitMs = START_WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.servers.values()].map((s) => s.start())), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** SIGKILLs a stdio server's process; returns its PID, or undefined when none runs. */
  kill(dependency: string): number | undefined {
    const s = this.servers.get(dependency);
    return s instanceof StdioServer ? s.kill() : undefined;
  }

  status(dependency: string): McpServerStatus | undefined {
    return this.servers.get(dependency)?.status();
  }

  /** Stops every stdio server and closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
  }
}
