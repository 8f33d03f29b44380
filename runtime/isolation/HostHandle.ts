/**
 * One running agent host, a forked process or a worker thread, behind one
 * interface so the rest of the runtime does not care which.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
import type { FromHost, ToHost } from './hostProtocol.ts';
import type { Isolation } from '../protocol/status.ts';

export interface HostExit {
  code: number | null;
  signal: string | null;
  /** Set when the host could not run at all (fork failed, worker error). */
  error?: Error;
}

export interface HostOptions {
  isolation: Isolation;
  /** Absolute path of the built agent host script. */
  script: string;
  memoryMb?: number;
  /** Extra Node flags for process isolation (the inspector, say). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export type OutputListener = (stream: 'stdout' | 'stderr', line: string) => void;

export interface HostHandle {
  readonly isolation: Isolation;
  readonly pid: number | null;
  readonly threadId?: number;
  readonly exited: boolean;
  send(m: ToHost): boolean;
  onMessage(fn: (m: FromHost) => void): void;
  onExit(fn: (e: HostExit) => void): void;
  onOutput(fn: OutputListener): void;
  /** SIGKILL the process, terminate the thread. */
  kill(): void;
}

/** Starts a host; resolves once it has announced itself as a spare. */
export function startHost(opts: HostOptions): Promise<HostHandle> {
  const h = opts.isolation === 'thread' ? new ThreadHost(opts) : new ProcessHost(opts);
  return h.booted;
}

abstract class BaseHost implements HostHandle {
  abstract readonly isolation: Isolation;
  abstract readonly pid: number | null;
  exited = false;
  protected msgFns: ((m: FromHost) => void)[] = [];
  protected exitFns: ((e: HostExit) => void)[] = [];
  protected outFns: OutputListener[] = [];
  private lastExit?: HostExit;
  readonly booted: Promise<HostHandle>;
  protected bootResolve!: (h: HostHandle) => void;
  protected bootReject!: (e: Error) => void;
  private isBooted = false;

  constructor() {
    this.booted = new Promise((res, rej) => { this.bootResolve = res; this.bootReject = rej; });
  }
  abstract send(m: ToHost): boolean;
  abstract kill(): void;

  protected handle(m: FromHost) {
    if (!this.isBooted && m.t === 'spare') {
      this.isBooted = true;
      this.bootResolve(this);
      return;
    }
    for (const fn of this.msgFns) fn(m);
  }
  protected handleExit(e: HostExit) {
    if (this.exited) return;
    this.exited = true;
    this.lastExit = e;
    if (!this.isBooted) this.bootReject(e.error ?? new Error(`agent host exited while booting (code ${e.code}, signal ${e.signal})`));
    for (const fn of this.exitFns) fn(e);
  }
  /** Lines printed before anyone listened (the inspector's URL, say), replayed to the first listener. */
  private early: [stream: 'stdout' | 'stderr', line: string][] = [];
  protected output(stream: 'stdout' | 'stderr', line: string) {
    if (!this.outFns.length) {
      if (this.early.push([stream, line]) > 50) this.early.shift();
      return;
    }
    for (const fn of this.outFns) fn(stream, line);
  }
  onMessage(fn: (m: FromHost) => void) { this.msgFns.push(fn); }
  onExit(fn: (e: HostExit) => void) {
    if (this.lastExit) queueMicrotask(() => fn(this.lastExit!));
    else this.exitFns.push(fn);
  }
  onOutput(fn: OutputListener) {
    this.outFns.push(fn);
    const early = this.early;
    this.early = [];
    for (const [stream, line] of early) fn(stream, line);
  }
}

class ProcessHost extends BaseHost {
  readonly isolation = 'process' as const;
  private child: ChildProcess;
  constructor(opts: HostOptions) {
    super();
    const execArgv = [...(opts.execArgv ?? [])];
    if (opts.memoryMb) execArgv.push(`--max-old-space-size=${opts.memoryMb}`);
    this.child = fork(opts.script, [], {
      execArgv,
      env: { ...process.env, ...opts.env, FAULTLINE_HOST: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // Its own process group: a Ctrl-C in the terminal reaches the runtime,
      // which stops agents in order, instead of killing every agent at once.
      // An orphaned host still exits: it leaves when the IPC channel closes.
      detached: true,
    });
    this.child.on('message', (m) => this.handle(m as FromHost));
    this.child.on('exit', (code, signal) => this.handleExit({ code, signal }));
    this.child.on('error', (error) => {
      // 'error' without 'exit' means the process never ran or cannot be signalled.
      if (this.child.exitCode === null && this.child.pid === undefined) this.handleExit({ code: null, signal: null, error });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const s = this.child[stream];
      if (s) createInterface({ input: s }).on('line', (line) => this.output(stream, line));
    }
  }
  get pid() { return this.child.pid ?? null; }
  send(m: ToHost): boolean {
    if (this.exited || !this.child.connected) return false;
    try {
      this.child.send(m);
      return true;
    } catch {
      return false;
    }
  }
  kill() {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

class ThreadHost extends BaseHost {
  readonly isolation = 'thread' as const;
  private worker: Worker;
  readonly threadId: number;
  constructor(opts: HostOptions) {
    super();
    this.worker = new Worker(opts.script, {
      // Not the runtime's own flags (a loader, say): a worker boots like a fresh agent host.
      execArgv: opts.execArgv ?? [],
      env: { ...process.env, ...opts.env, FAULTLINE_HOST: '1' },
      stdout: true,
      stderr: true,
      resourceLimits: opts.memoryMb ? { maxOldGenerationSizeMb: opts.memoryMb } : undefined,
    });
    this.threadId = this.worker.threadId;
    let error: Error | undefined;
    this.worker.on('message', (m) => this.handle(m as FromHost));
    this.worker.on('error', (e) => { error = e; });
    this.worker.on('exit', (code) => this.handleExit({ code, signal: null, error }));
    createInterface({ input: this.worker.stdout }).on('line', (line) => this.output('stdout', line));
    createInterface({ input: this.worker.stderr }).on('line', (line) => this.output('stderr', line));
  }
  get pid() { return process.pid; }
  send(m: ToHost): boolean {
    if (this.exited) return false;
    this.worker.postMessage(m);
    return true;
  }
  kill() {
    if (!this.exited) void this.worker.terminate();
  }
}
