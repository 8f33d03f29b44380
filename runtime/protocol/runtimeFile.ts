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
}

export const RUNTIME_FILE = 'runtime.json';
export const CONTROL_PATH = '/control';

export function controlUrl(file: Pick<RuntimeFile, 'port'>): string {
  return `ws://127.0.0.1:${file.port}${CONTROL_PATH}`;
}

/** Whether the process a runtime.json names is still there (a stale file outlives a killed runtime). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
