/**
 * Error classification: which failures are worth retrying, which count
 * against the breaker, and how long the server asked us to wait.
 *
 * Retryable: network errors, timeouts, 408, 429, 500, 502, 503, 504, 529
 * (overloaded). Not retryable: 400, 401, 403, 404, 422 and content-filter
 * refusals (the same request will fail the same way), and unknown errors
 * from in-process tools (a TypeError does not heal on retry). An error that
 * names its type (Anthropic's `error.type`, kept as `code`) is classified by
 * that type. Per dependency, the config's `classifier` adds statuses and
 * error codes, and a `Classifier` function passed to the Gateway has the
 * last word.
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

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * Anthropic's error types (`error.type` of an error body or stream `error`
 * event): the status each goes with and whether it heals on retry.
 */
export const ANTHROPIC_ERROR_TYPES: Readonly<Record<string, { status: number; retryable: boolean }>> = {
  invalid_request_error: { status: 400, retryable: false },
  authentication_error: { status: 401, retryable: false },
  billing_error: { status: 402, retryable: false },
  permission_error: { status: 403, retryable: false },
  not_found_error: { status: 404, retryable: false },
  request_too_large: { status: 413, retryable: false },
  rate_limit_error: { status: 429, retryable: true },
  api_error: { status: 500, retryable: true },
  timeout_error: { status: 504, retryable: true },
  overloaded_error: { status: 529, retryable: true },
};

/** Error codes of Node's net stack and undici that mean "the connection failed", not "the request was wrong". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

export function isRetryableStatus(status: number, c: ResolvedDependency['classifier']): boolean {
  if (c.nonRetryableStatus.includes(status)) return false;
  return RETRYABLE_STATUS.has(status) || c.retryableStatus.includes(status);
}

/** An HTTP error by its status and, when the server named one, its error type: the config first, then the type, then the status. */
export function isRetryableHttp(status: number, code: string | undefined, c: ResolvedDependency['classifier']): boolean {
  if (c.nonRetryableStatus.includes(status)) return false;
  if (c.retryableStatus.includes(status) || (code !== undefined && c.retryableCodes.includes(code))) return true;
  const known = code === undefined ? undefined : ANTHROPIC_ERROR_TYPES[code];
  return known ? known.retryable : RETRYABLE_STATUS.has(status);
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
    return { retryable: isRetryableHttp(error.status, error.code, dep.classifier), retryAfterMs: error.retryAfterMs };
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

/** Statuses whose Retry-After means "come back later": 429 and 503 (RFC 9110), and 529 (overloaded, Anthropic). */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503 || status === 529;
}

/**
 * Parses `Retry-After`: delay-seconds or an HTTP date. Only honoured on 429,
 * 503 and 529 (`honoursRetryAfter`).
 */
export function parseRetryAfter(value: string | null | undefined, status: number, nowEpochMs = Date.now()): number | undefined {
  if (!value || !honoursRetryAfter(status)) return undefined;
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
