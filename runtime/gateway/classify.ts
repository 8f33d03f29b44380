/**
 * Error classification: which failures are worth retrying, which count
 * against the breaker, and how long the server asked us to wait.
 *
 * Retryable: network errors, timeouts, 408, 429, 500, 502, 503, 504.
 * Not retryable: 400, 401, 403, 404, 422 and content-filter refusals (the
 * same request will fail the same way), and unknown errors from in-process
 * tools (a TypeError does not heal on retry). Per dependency, the config's
 * `classifier` adds statuses and error codes, and a `Classifier` function
 * passed to the Gateway has the last word.
 */
import { DependencyError, DependencyHttpError } from './errors.ts';
import type { ResolvedDependency } from './policyConfig.ts';

export interface Verdict {
  retryable: boolean;
  /** The server's Retry-After, in ms. */
  retryAfterMs?: number;
}

/** A per-dependency classifier extension: return a verdict to override the default, or undefined to keep it. */
export type Classifier = (error: unknown, verdict: Verdict) => Verdict | undefined;

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Error codes of Node's net stack and undici that mean "the connection failed", not "the request was wrong". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

export function isRetryableStatus(status: number, c: ResolvedDependency['classifier']): boolean {
  if (c.nonRetryableStatus.includes(status)) return false;
  return RETRYABLE_STATUS.has(status) || c.retryableStatus.includes(status);
}

/** The code of a network error, looking through `cause` (fetch wraps them in a TypeError). */
export function networkCode(e: unknown): string | undefined {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

export function classify(error: unknown, dep: ResolvedDependency, extension?: Classifier): Verdict {
  const verdict = baseVerdict(error, dep);
  return extension?.(error, verdict) ?? verdict;
}

function baseVerdict(error: unknown, dep: ResolvedDependency): Verdict {
  if (error instanceof DependencyHttpError) {
    return { retryable: isRetryableStatus(error.status, dep.classifier), retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof DependencyError) return { retryable: error.retryable };
  if (networkCode(error)) return { retryable: true };
  const e = error as { code?: unknown; name?: unknown; status?: unknown; statusCode?: unknown } | null;
  const codes = dep.classifier.retryableCodes;
  if (e && ((typeof e.code === 'string' && codes.includes(e.code)) || (typeof e.name === 'string' && codes.includes(e.name)))) return { retryable: true };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) return { retryable: isRetryableStatus(status, dep.classifier) };
  return { retryable: false };
}

/**
 * Parses `Retry-After`: delay-seconds or an HTTP date. Only honoured on 429
 * and 503, where RFC 9110 gives it the meaning "come back later".
 */
export function parseRetryAfter(value: string | null | undefined, status: number, nowEpochMs = Date.now()): number | undefined {
  if (!value || (status !== 429 && status !== 503)) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

/** Whether an error body reads like a content-filter refusal (OpenAI, Azure and the config's patterns). */
export function looksLikeContentFilter(body: string, dep: ResolvedDependency): boolean {
  if (/content[_ -]?filter|content_policy_violation|ResponsibleAIPolicyViolation/i.test(body)) return true;
  return dep.classifier.contentFilterPatterns.some((re) => re.test(body));
}
