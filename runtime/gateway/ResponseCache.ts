/**
 * The `cache` degrade mode's memory: the last good response of each
 * dependency for each distinct request, bounded (least recently stored
 * entries go first). Kept in memory only: a stale answer is a convenience,
 * not state worth a disk write per call.
 */
export const DEFAULT_CACHE_LIMIT = 1000;

export class ResponseCache {
  private readonly entries = new Map<string, { value: unknown; at: string }>();
  constructor(private readonly limit = DEFAULT_CACHE_LIMIT) {}

  put(dependency: string, request: unknown, value: unknown): void {
    const key = cacheKey(dependency, request);
    this.entries.delete(key);
    this.entries.set(key, { value, at: new Date().toISOString() });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  get(dependency: string, request: unknown): { value: unknown; at: string } | undefined {
    return this.entries.get(cacheKey(dependency, request));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Same request = same JSON with keys sorted; `stream` does not change the answer. */
export function cacheKey(dependency: string, request: unknown): string {
  return `${dependency}\u0000${stableJson(request, true)}`;
}

function stableJson(v: unknown, top = false): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => stableJson(x)).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => !(top && k === 'stream') && (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Marks a cached value stale: objects get `stale: true`, other values are wrapped as `{ value, stale: true }`. */
export function markStale(value: unknown, cachedAt: string): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) return { ...(value as object), stale: true, cachedAt };
  return { value, stale: true, cachedAt };
}
