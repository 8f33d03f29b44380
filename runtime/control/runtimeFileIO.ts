/** Reading and writing `.faultline/runtime.json` (mode 0600: it holds the token). */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUNTIME_FILE, type RuntimeFile } from '../protocol/runtimeFile.ts';

export { processAlive } from '../protocol/runtimeFile.ts';

export function runtimeFilePath(stateDir: string): string {
  return path.join(stateDir, RUNTIME_FILE);
}

/** Written atomically (temp file then rename) so a reader never sees half a file. */
export function writeRuntimeFile(stateDir: string, f: RuntimeFile): void {
  const target = runtimeFilePath(stateDir);
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, target);
}

export function readRuntimeFile(stateDir: string): RuntimeFile | undefined {
  try {
    return JSON.parse(readFileSync(runtimeFilePath(stateDir), 'utf8')) as RuntimeFile;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still belongs to `pid` (another runtime may have replaced it). */
export function removeRuntimeFile(stateDir: string, pid: number): void {
  const f = readRuntimeFile(stateDir);
  if (f && f.pid === pid) rmSync(runtimeFilePath(stateDir), { force: true });
}
