/**
 * Finding a running runtime through `.faultline/runtime.json`. The extension
 * reads the file itself: runtime internals are off limits, only the
 * protocol's `RuntimeFile` shape and `processAlive` are shared.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { processAlive, RUNTIME_FILE, type RuntimeFile } from '../../../runtime/protocol/runtimeFile.ts';

export { processAlive };

export function stateDirFor(configFile: string): string {
  return path.join(path.dirname(configFile), '.faultline');
}

export function runtimeFilePath(configFile: string): string {
  return path.join(stateDirFor(configFile), RUNTIME_FILE);
}

export async function readRuntimeFile(configFile: string): Promise<RuntimeFile | undefined> {
  try {
    const f = JSON.parse(await readFile(runtimeFilePath(configFile), 'utf8')) as RuntimeFile;
    return typeof f.port === 'number' && typeof f.token === 'string' && typeof f.pid === 'number' ? f : undefined;
  } catch {
    return undefined;
  }
}

/** runtime.json of a live runtime for this config, if one is running. */
export async function findRunningRuntime(configFile: string): Promise<RuntimeFile | undefined> {
  const f = await readRuntimeFile(configFile);
  if (!f || !processAlive(f.pid)) return undefined;
  // A runtime of another config in the same folder is not ours to attach to.
  if (f.config && path.resolve(f.config) !== path.resolve(configFile)) return undefined;
  return f;
}
