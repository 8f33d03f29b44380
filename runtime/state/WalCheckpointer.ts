/**
 * Copies the WAL back into the database file from a worker thread. A
 * checkpoint copies every page written since the last one (about 10 ms per
 * 4 MB here); run inline, it stalls the event loop, and with it every agent
 * waiting for a commit, once per few hundred commits. The worker has its own
 * connection and runs PASSIVE checkpoints, which never block writers. The
 * main connection keeps a large autocheckpoint as a backstop: under constant
 * load it copies only the little the worker has not yet copied, and lets the
 * WAL file start over from its beginning.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints (default 25 ms). */
  intervalMs?: number;
  synchronous?: 'NORMAL' | 'FULL';
  /** Called once if the worker fails; the caller falls back to inline checkpoints. */
  onError?: (e: Error) => void;
}

export interface WalCheckpointer {
  /** Runs a last checkpoint and closes the worker's connection. */
  stop(): Promise<void>;
}

// Evaluated as a script, not loaded from a file, so it runs the same from
// the TypeScript sources and from the esbuild bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.lib);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { /* SQLITE_BUSY: a checkpoint is running already */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
  parentPort.close();
});
parentPort.postMessage('started');
`;

/** Starts checkpointing `file` (already in WAL mode) from a worker thread. */
export function startWalCheckpointer(file: string, opts: WalCheckpointerOptions = {}): WalCheckpointer {
  const lib = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { lib, file, intervalMs: opts.intervalMs ?? 25, synchronous: opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL' },
  });
  // A checkpointer is housekeeping: it must never keep the runtime alive.
  worker.unref();
  let failed = false;
  worker.on('error', (e) => {
    if (failed) return;
    failed = true;
    opts.onError?.(e);
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        // Whoever awaits the stop keeps the process alive until it is done.
        worker.ref();
        const done = () => resolve();
        worker.once('exit', done);
        worker.on('message', (m) => m === 'stopped' && done());
        if (failed) return void worker.terminate().then(done, done);
        worker.postMessage('stop');
      });
      return stopping;
    },
  };
}
