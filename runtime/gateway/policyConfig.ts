/**
 * Resolves a dependency's config entry into the full policy it runs under:
 * the profile's seed defaults, overridden field by field by the entry.
 */
import type { DependencyConfig } from '../config/dependencySchema.ts';

export type { DependencyConfig };
export type DegradeMode = 'fail' | 'skip' | 'cache' | 'queue';

export interface ResolvedDependency {
  id: string;
  kind: 'model' | 'http' | 'tool' | 'mcp';
  /** model: the API it speaks (default openai). */
  api?: 'openai' | 'anthropic';
  url?: string;
  model?: string;
  apiKeyEnv?: string;
  headers: Record<string, string>;
  profile: 'fast' | 'slow';
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  breaker: { failureRatio: number; window: number; minimumCalls: number; openMs: number; halfOpenProbes: number };
  timeoutMs: number;
  budgetMs: number;
  degrade: DegradeMode;
  critical: boolean;
  classifier: {
    retryableStatus: number[];
    nonRetryableStatus: number[];
    retryableCodes: string[];
    contentFilterPatterns: RegExp[];
  };
  price?: { promptPer1k: number; completionPer1k: number; currency: string };
}

/**
 * Seed defaults. "3 retries" means 3 attempts after the first, so
 * `maxAttempts` (which counts the first) is 4 for fast and 6 for slow.
 */
export const PROFILES = {
  fast: { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000, openMs: 30_000, timeoutMs: 30_000, budgetMs: 120_000 },
  slow: { maxAttempts: 6, baseDelayMs: 2_000, maxDelayMs: 60_000, openMs: 120_000, timeoutMs: 120_000, budgetMs: 600_000 },
} as const;

export const BREAKER_DEFAULTS = { failureRatio: 0.5, window: 20, halfOpenProbes: 3 } as const;

export function resolveDependency(id: string, c: DependencyConfig): ResolvedDependency {
  const profile = c.profile ?? 'fast';
  const p = PROFILES[profile];
  const window = c.breaker?.window ?? BREAKER_DEFAULTS.window;
  return {
    id,
    kind: c.kind,
    // An MCP endpoint is used as written: a server may tell /mcp from /mcp/.
    url: c.kind === 'mcp' ? c.url : c.url?.replace(/\/+$/, ''),
    api: c.kind === 'model' ? (c.api ?? 'openai') : undefined,
    model: c.model,
    apiKeyEnv: c.apiKeyEnv,
    headers: c.headers ?? {},
    profile,
    retry: {
      maxAttempts: c.retry?.maxAttempts ?? p.maxAttempts,
      baseDelayMs: c.retry?.baseDelayMs ?? p.baseDelayMs,
      maxDelayMs: c.retry?.maxDelayMs ?? p.maxDelayMs,
    },
    breaker: {
      failureRatio: c.breaker?.failureRatio ?? BREAKER_DEFAULTS.failureRatio,
      window,
      minimumCalls: Math.min(window, c.breaker?.minimumCalls ?? window),
      openMs: c.breaker?.openMs ?? p.openMs,
      halfOpenProbes: c.breaker?.halfOpenProbes ?? BREAKER_DEFAULTS.halfOpenProbes,
    },
    timeoutMs: c.timeoutMs ?? p.timeoutMs,
    budgetMs: c.budgetMs ?? p.budgetMs,
    degrade: c.degrade ?? 'fail',
    critical: c.critical ?? false,
    classifier: {
      retryableStatus: c.classifier?.retryableStatus ?? [],
      nonRetryableStatus: c.classifier?.nonRetryableStatus ?? [],
      retryableCodes: c.classifier?.retryableCodes ?? [],
      contentFilterPatterns: (c.classifier?.contentFilterPatterns ?? []).map((s) => new RegExp(s, 'i')),
    },
    price: c.price && { promptPer1k: c.price.promptPer1k, completionPer1k: c.price.completionPer1k, currency: c.price.currency ?? 'USD' },
  };
}
