/**
 * A runtime this CLI started as a child `faultline up` process, so that a
 * drill which kills the runtime can start it again: the CLI outlives the
 * runtime it drills. Stopped by its pid (SIGTERM, then SIGKILL) at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../isolation/paths.ts';

export class OwnedRuntime {
  private proc: ChildProcess | undefined;
  private tail: string[] = [];

  constructor(private readonly configFile: string, private readonly stateDir: string) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts `faultline up` and resolves once it listens. */
  async start(timeoutMs = 60_000): Promise<number> {
    const bin = path.join(packageRoot(), 'bin', 'faultline.js');
    const proc = spawn(process.execPath, [bin, 'up', '--config', this.configFile, '--state-dir', this.stateDir, '--no-live', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.proc = proc;
    const keep = (d: Buffer) => {
      this.tail.push(...d.toString().split('\n').filter(Boolean));
      if (this.tail.length > 40) this.tail.splice(0, this.tail.length - 40);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the runtime did not start within ${timeoutMs} ms:\n${this.output()}`)), timeoutMs);
      const check = () => {
        if (/Faultline runtime listening on/.test(this.tail.join('\n'))) {
          clearTimeout(t);
          proc.stdout!.off('data', check);
          resolve();
        }
      };
      proc.stdout!.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`the runtime exited (code ${code}) before listening:\n${this.output()}`));
      });
    });
    return proc.pid!;
  }

  /** The runtime's last lines of output, for error messages. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Stops it gracefully (SIGTERM: agents stop in reverse order), killing it after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }
}
