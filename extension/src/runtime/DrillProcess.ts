/**
 * `faultline drill FILE` as a child process under the user's Node: for the
 * drills the runtime cannot run inside itself (a `kill-runtime` step) and for
 * runtimes that predate the `drill.run` control method. The CLI connects to
 * the running runtime of the config, prints its progress line by line and
 * writes the journal where `--report` says.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineSplitter } from './listeningLine.ts';

/** The CLI refused the drill file or could not run it; `output` holds its last lines. */
export class DrillProcessError extends Error {
  constructor(message: string, readonly exitCode: number | null, readonly output: string[]) {
    super(message);
    this.name = 'DrillProcessError';
  }
}

export interface DrillProcessOptions {
  nodePath: string;
  /** The runtime package's CLI entry (`bin/faultline.js`). */
  cli: string;
  configFile: string;
  drillFile: string;
  report: string;
  onLine?: (line: string) => void;
  /** Cancels the drill as Ctrl-C does: the method stops, the rollbacks run, the journal says `aborted`. */
  signal?: AbortSignal;
}

/** Runs the drill; resolves with the journal (held or not), rejects when the CLI could not run it. */
export function runDrillProcess(o: DrillProcessOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.nodePath, [o.cli, 'drill', o.drillFile, '--report', o.report, '--config', o.configFile], {
      cwd: path.dirname(o.configFile),
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const interrupt = () => child.kill('SIGINT');
    if (o.signal?.aborted) interrupt();
    else o.signal?.addEventListener('abort', interrupt, { once: true });
    const recent: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      const split = new LineSplitter();
      const emit = (line: string) => {
        if (!line.trim()) return;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        o.onLine?.(line);
      };
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => split.push(d).forEach(emit));
      stream.on('end', () => split.end().forEach(emit));
    }
    child.once('error', (e) => reject(new DrillProcessError(`Cannot run \`faultline drill\`: ${e.message}`, null, recent)));
    child.once('close', (code, signal) => {
      o.signal?.removeEventListener('abort', interrupt);
      // Cancelled before the CLI took over Ctrl-C: it had not injected anything yet.
      if (signal === 'SIGINT' && o.signal?.aborted) return reject(new DrillProcessError('`faultline drill` was cancelled before it began; nothing was injected', null, recent));
      // 0: the hypothesis held, 1: it did not (or no runtime): the journal says which.
      if (code === 0 || code === 1) {
        readFile(o.report, 'utf8').then(
          (text) => resolve(JSON.parse(text)),
          () => reject(new DrillProcessError(`\`faultline drill\` exited with ${code} and wrote no report: ${recent.slice(-3).join(' | ') || 'no output'}`, code, recent)),
        );
        return;
      }
      reject(new DrillProcessError(`\`faultline drill\` failed (exit code ${code}): ${recent.slice(-3).join(' | ') || 'no output'}`, code, recent));
    });
  });
}
