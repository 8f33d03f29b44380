/** `.faultline/runtime.json`: how clients find the running runtime. */
export interface RuntimeFile {
  pid: number;
  port: number;
  token: string;
  /** `http://127.0.0.1:PORT`; the control channel is at `ws://127.0.0.1:PORT/control`. */
  url: string;
  startedAt: string;
  version: string;
  /** Absolute path of the config the runtime runs. */
  config?: string;
  /** The address it listens on, when not 127.0.0.1 (`faultline up --host`). */
  host?: string;
}

/** The address a client on this machine reaches a runtime listening on `host` at. */
export function clientHost(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export const RUNTIME_FILE = 'runtime.json';
export const CONTROL_PATH = '/control';

export function controlUrl(file: Pick<RuntimeFile, 'port' | 'host'>): string {
  return `ws://${clientHost(file.host)}:${file.port}${CONTROL_PATH}`;
}

/**
 * Whether the process a runtime.json names is still there (a stale file
 * outlives a killed runtime). A process that has exited but that its parent
 * has not reaped yet (a zombie) answers `kill(pid, 0)` like a live one; where
 * `/proc` exists its state tells them apart.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !exited(pid);
}

/**
 * Whether /proc says `pid` has exited (state Z, zombie, or X, dead). False
 * where there is no /proc (macOS, Windows) or no Node fs: this module is also
 * bundled for clients that are not Node, so fs is looked up, not imported.
 */
function exited(pid: number): boolean {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  if (!fs) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) state ...": comm may hold spaces and parens, so the state follows the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}
