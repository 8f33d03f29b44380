/**
 * One `faultline up` child process under the user's Node: spawned, watched
 * until it prints its listening line, its output forwarded line by line, and
 * stopped by its own PID (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { LineSplitter, parseListeningLine } from './listeningLine.ts';
import { Emitter } from '../util/emitter.ts';

/** The runtime exited before it printed its listening line. */
export class RuntimeStartError extends Error {
  constructor(message: string, readonly exitCode: number | null, readonly output: string[]) {
    super(message);
    this.name = 'RuntimeStartError';
  }
}

export interface RuntimeProcessOptions {
  nodePath: string;
  cli: string;
  configFile: string;
  extraArgs?: string[];
  startTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export class RuntimeProcess {
  private child?: ChildProcess;
  private readonly lines = new Emitter<{ stream: 'stdout' | 'stderr'; line: string }>();
  private readonly exited = new Emitter<{ code: number | null; signal: NodeJS.Signals | null; expected: boolean }>();
  readonly onLine = this.lines.event;
  readonly onExit = this.exited.event;
  private stopping = false;
  private exitPromise?: Promise<void>;
  port?: number;

  constructor(readonly o: RuntimeProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the runtime and resolves with its port once it listens. */
  start(): Promise<{ port: number; pid: number }> {
    const args = [this.o.cli, 'up', '--config', this.o.configFile, '--no-live', ...(this.o.extraArgs ?? [])];
    const child = spawn(this.o.nodePath, args, {
      cwd: path.dirname(this.o.configFile),
      env: { ...process.env, ...this.o.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const recent: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    this.exitPromise = new Promise((r) => child.once('exit', () => r()));

    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const forward = (stream: 'stdout' | 'stderr') => {
        const split = new LineSplitter();
        const emit = (line: string) => {
          recent.push(line);
          if (recent.length > 40) recent.shift();
          this.lines.fire({ stream, line });
          const l = parseListeningLine(line);
          if (l && stream === 'stdout') {
            this.port = l.port;
            settle(() => resolve({ port: l.port, pid: child.pid! }));
          }
        };
        child[stream]!.setEncoding('utf8');
        child[stream]!.on('data', (d: string) => split.push(d).forEach(emit));
        child[stream]!.on('end', () => split.end().forEach(emit));
      };
      forward('stdout');
      forward('stderr');
      child.once('error', (e) => {
        const hint = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ` Node.js was not found at "${this.o.nodePath}": install Node 20+ or set faultline.runtime.nodePath.` : '';
        settle(() => reject(new RuntimeStartError(`Cannot start the Faultline runtime: ${e.message}.${hint}`, null, recent)));
      });
      child.once('exit', (code, signal) => {
        const expected = this.stopping;
        settle(() => reject(new RuntimeStartError(`The Faultline runtime exited before it was ready (${signal ?? `exit code ${code}`}): ${recent.filter((l) => l.trim()).slice(-3).join(' | ') || 'no output'}`, code, recent)));
        this.exited.fire({ code, signal, expected });
      });
      timer = setTimeout(() => {
        settle(() => reject(new RuntimeStartError(`The Faultline runtime did not print its listening line within ${this.o.startTimeoutMs} ms.`, null, recent)));
        void this.stop();
      }, this.o.startTimeoutMs);
    });
  }

  /** SIGTERM lets the runtime stop its agents in reverse order; SIGKILL only if it hangs. */
  async stop(graceMs = 8000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping = true;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      if (this.running) child.kill('SIGKILL');
    }, graceMs);
    await this.exitPromise;
    clearTimeout(killer);
  }

  dispose(): void {
    void this.stop();
    this.lines.dispose();
  }
}
