/**
 * Agent modules may be written in TypeScript: those are bundled with esbuild
 * into the state dir before the host imports them, and rebuilt when the
 * source changes. JavaScript modules are imported as they are.
 */
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AgentSpec } from '../config/load.ts';

export function createModuleResolver(stateDir: string) {
  const built = new Map<string, { mtimeMs: number; out: string }>();
  return async function resolveModule(spec: AgentSpec): Promise<string> {
    let st;
    try {
      st = statSync(spec.module);
    } catch {
      throw new Error(`module not found: ${spec.module} (from "${spec.moduleRef}" in the config)`);
    }
    if (!/\.m?ts$/.test(spec.module)) return spec.module;
    const cached = built.get(spec.module);
    if (cached && cached.mtimeMs === st.mtimeMs) return cached.out;
    const out = path.join(stateDir, 'build', `${spec.id}.mjs`);
    await mkdir(path.dirname(out), { recursive: true });
    const { build } = await import('esbuild');
    try {
      await build({ entryPoints: [spec.module], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent', sourcemap: 'inline' });
    } catch (e) {
      const errors = (e as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors;
      const first = errors?.[0];
      throw new Error(first ? `${spec.moduleRef}:${first.location?.line ?? 0}:${first.location?.column ?? 0}: ${first.text}` : (e as Error).message);
    }
    built.set(spec.module, { mtimeMs: st.mtimeMs, out });
    return out;
  };
}
