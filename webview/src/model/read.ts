/**
 * Tolerant readers for the parts of the status JSON and events that other
 * issues are still shaping (reliability, metrics, alerts): a missing or
 * differently shaped field reads as null instead of breaking the dashboard.
 */
export type Obj = Record<string, unknown>;

export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The value at a dotted path, or undefined. */
export function at(x: unknown, path: string): unknown {
  let cur: unknown = x;
  for (const k of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** The first finite number found at any of the paths. */
export function num(x: unknown, ...paths: string[]): number | null {
  for (const p of paths) {
    const v = at(x, p);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export function str(x: unknown, ...paths: string[]): string | null {
  for (const p of paths) {
    const v = at(x, p);
    if (typeof v === 'string') return v;
  }
  return null;
}

/**
 * A rate given either as a number or as the reliability summary's
 * `{ rate, total, window: { rate, total } }`: the recent window when it has
 * data (a recovered system should not look broken forever), else since start.
 */
export function rate(x: unknown): { rate: number | null; total: number | null } {
  if (typeof x === 'number' && Number.isFinite(x)) return { rate: x, total: null };
  if (!isObj(x)) return { rate: null, total: null };
  const w = x.window;
  if (isObj(w) && typeof w.total === 'number' && w.total > 0 && typeof w.rate === 'number') return { rate: w.rate, total: w.total };
  return { rate: typeof x.rate === 'number' ? x.rate : null, total: typeof x.total === 'number' ? x.total : null };
}

/** A record of numbers (per-agent CPU or memory), skipping non-numbers. */
export function numberMap(x: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (isObj(x)) for (const [k, v] of Object.entries(x)) if (typeof v === 'number' && Number.isFinite(v)) out.set(k, v);
  return out;
}
