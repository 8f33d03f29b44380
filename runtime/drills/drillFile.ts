/**
 * Reading a drill: JSON text or an object, validated by the schema, then the
 * checks a schema cannot make (references between steps, captured values).
 * Every problem names its JSON path, like the config's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { jsonPath } from '../config/load.ts';
import { FaultlineError } from '../errors.ts';
import { RpcErrorCode } from '../protocol/rpc.ts';
import { drillSchema, type Drill, type Probe, type Step, type Tolerance } from './drillSchema.ts';

/** The drill file is invalid; each problem names a JSON path. */
export class DrillFileError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.InvalidParams;
  constructor(readonly file: string, readonly problems: string[]) {
    super(`Invalid drill ${file || '(inline)'}:\n  ${problems.join('\n  ')}`);
  }
}

function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `${jsonPath([...i.path, ...i.keys.slice(0, 1)])}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    if (i.code === 'invalid_union' && 'options' in i && Array.isArray((i as { options?: unknown }).options)) {
      return `${jsonPath(i.path)}: must be one of ${((i as unknown as { options: string[] }).options).map((o) => JSON.stringify(o)).join(', ')}`;
    }
    const missing = /expected (\w+), received undefined$/.exec(i.message);
    if (missing) return `${jsonPath(i.path)}: missing${missing[1] === 'nonoptional' ? '' : ` (${missing[1]})`}`;
    return `${jsonPath(i.path)}: ${i.message}`;
  });
}

const varsOf = (t: Tolerance | undefined): string[] =>
  t ? [t.min, t.max, t.gt, t.lt].filter((v): v is string => typeof v === 'string').map((v) => v.slice(1)) : [];

/** Validates a drill object; `file` only names it in errors. */
export function parseDrill(json: unknown, file = ''): Drill {
  const parsed = drillSchema.safeParse(json);
  if (!parsed.success) throw new DrillFileError(file, issueLines(parsed.error.issues));
  const d = parsed.data;
  const problems: string[] = [];
  const captured = new Set<string>();
  const probeRefs = (p: Probe, at: (string | number)[]) => {
    const tol = 'tolerance' in p ? p.tolerance : undefined;
    for (const v of varsOf(tol)) if (!captured.has(v)) problems.push(`${jsonPath([...at, 'tolerance'])}: "$${v}" is not captured by an earlier probe (add "capture": "${v}" to one)`);
    if ('capture' in p && p.capture) captured.add(p.capture);
  };
  d.steadyState.probes.forEach((p, i) => probeRefs(p, ['steadyState', 'probes', i]));

  const names = new Map<string, string>();
  const injects = new Set<string>();
  const steps = (list: Step[], key: 'method' | 'rollbacks') =>
    list.forEach((s, i) => {
      const at = [key, i];
      if (s.name) {
        const seen = names.get(s.name);
        if (seen) problems.push(`${jsonPath([...at, 'name'])}: step name "${s.name}" is already used at ${seen}`);
        else names.set(s.name, jsonPath([...at, 'name']));
      }
      if (s.type === 'inject' && s.name) injects.add(s.name);
      if (s.type === 'clear' && s.fault && !injects.has(s.fault)) problems.push(`${jsonPath([...at, 'fault'])}: no earlier inject step is named "${s.fault}"`);
      if (s.type === 'probe') probeRefs(s.probe, [...at, 'probe']);
      if (s.type === 'kill-runtime' && key === 'rollbacks') problems.push(`${jsonPath([...at, 'type'])}: a rollback cannot kill the runtime`);
      if (s.type === 'inject' && s.fault === 'kill-runtime') problems.push(`${jsonPath([...at, 'fault'])}: use a {"type": "kill-runtime"} step, which also waits for the runtime to come back`);
      if (s.type === 'load' && s.kind === 'send' && s.timeoutMs !== undefined) problems.push(`${jsonPath([...at, 'timeoutMs'])}: only asks have a timeout`);
    });
  steps(d.method, 'method');
  steps(d.rollbacks, 'rollbacks');
  if (problems.length) throw new DrillFileError(file, problems);
  return d;
}

/** Reads and validates a drill file (JSON). */
export function loadDrillFile(file: string): Drill & { name: string } {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new DrillFileError(abs, [`cannot read the drill: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`]);
  }
  if (/\.ya?ml$/i.test(abs)) throw new DrillFileError(abs, ['$: YAML drills are not supported (Faultline ships no YAML parser); write the drill as JSON']);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DrillFileError(abs, [`$: not valid JSON (${(e as Error).message})`]);
  }
  const d = parseDrill(json, abs);
  return { ...d, name: d.name ?? path.basename(abs).replace(/\.json$/i, '') };
}

/** Whether the drill kills the runtime (its runner must then live outside it). */
export function killsRuntime(d: Drill): boolean {
  return d.method.some((s) => s.type === 'kill-runtime');
}
