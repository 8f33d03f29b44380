/**
 * One error class per dependency failure a caller can act on. Each message
 * says what happened, to which dependency, and what to do next; `name` equals
 * the class name because errors cross process boundaries by name (IPC and the
 * control channel keep only `name` and `message`).
 *
 * `retryable` is the classification the retry loop acts on; `data()` is the
 * plain form for events and JSON-RPC error data.
 */
import { FaultlineError } from '../errors.ts';
import { RpcErrorCode } from '../protocol/rpc.ts';
import type { BreakerState } from '../protocol/status.ts';

export abstract class DependencyError extends FaultlineError {
  abstract readonly retryable: boolean;
  constructor(readonly dependency: string, message: string) {
    super(message);
  }
  /** Plain, redacted fields for events and error data. */
  data(): Record<string, unknown> {
    return { type: this.name, dependency: this.dependency, retryable: this.retryable };
  }
}

/** The breaker is open, half-open with its probe in flight, or isolated: the call was not made. */
export class BreakerOpenError extends DependencyError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  readonly retryable = false;
  constructor(dependency: string, readonly state: BreakerState, readonly retryInMs?: number) {
    super(
      dependency,
      state === 'isolated'
        ? `Dependency "${dependency}" is isolated by hand; calls fail at once until it is reset (\`faultline clear\` or Gateway.reset)`
        : `Dependency "${dependency}" circuit breaker is ${state}; the call was not made${retryInMs !== undefined ? `; a probe is allowed in ${Math.max(0, Math.ceil(retryInMs))} ms` : ''}. Use a fallback model chain or a degrade mode, or wait for the breaker to close`,
    );
  }
  override data() {
    return { ...super.data(), state: this.state, retryInMs: this.retryInMs };
  }
}

/** One attempt took longer than the dependency's `timeoutMs`. */
export class DependencyTimeoutError extends DependencyError {
  override readonly rpcCode = RpcErrorCode.Timeout;
  readonly retryable = true;
  constructor(dependency: string, readonly timeoutMs: number) {
    super(dependency, `Dependency "${dependency}" did not answer within ${timeoutMs} ms; raise its timeoutMs if it is merely slow, or check that it is up`);
  }
  override data() {
    return { ...super.data(), timeoutMs: this.timeoutMs };
  }
}

/**
 * The dependency answered with an HTTP error status, or (a stream's `error`
 * event) with an error of the type `code` whose status is `status`.
 */
export class DependencyHttpError extends DependencyError {
  constructor(
    dependency: string,
    readonly status: number,
    readonly retryable: boolean,
    /** Delay the server asked for (Retry-After), in ms. */
    readonly retryAfterMs?: number,
    detail?: string,
    /** The server's error type when it names one (Anthropic: `overloaded_error`, `rate_limit_error`, …). */
    readonly code?: string,
  ) {
    super(dependency, `Dependency "${dependency}" answered HTTP ${status}${code || detail ? ` (${[code, detail].filter(Boolean).join(': ')})` : ''}; ${httpAdvice(status, retryable, code)}`);
  }
  override data() {
    return { ...super.data(), status: this.status, retryAfterMs: this.retryAfterMs, ...(this.code ? { code: this.code } : {}) };
  }
}

function httpAdvice(status: number, retryable: boolean, code?: string): string {
  if (status === 401 || status === 403) return 'check the API key in the environment variable named by its apiKeyEnv';
  if (status === 404) return 'check its url and model name';
  if (status === 429) return 'it is rate limiting: lower the call rate or raise the retry delays';
  if (retryable && (status === 529 || code === 'overloaded_error')) return 'it is overloaded: it was retried per its retry policy; a fallback model in the chain takes over when retries run out';
  if (retryable) return 'it was retried per its retry policy';
  return 'the request was rejected and not retried: fix the request';
}

/** The connection failed, was reset, or the reply stream was cut before its end. */
export class DependencyNetworkError extends DependencyError {
  readonly retryable = true;
  constructor(dependency: string, readonly code: string, detail: string) {
    super(dependency, `Dependency "${dependency}" could not be reached or dropped the connection (${code}: ${detail}); check that it is running`);
  }
  override data() {
    return { ...super.data(), code: this.code };
  }
}

/**
 * A streamed reply failed after its first delta: the caller has seen part of
 * the text, so the call is neither retried nor handed to a fallback model
 * (the reply would start over). `partial` is the text received.
 */
export class StreamInterruptedError extends DependencyError {
  readonly retryable = false;
  constructor(dependency: string, readonly partial: string, readonly reason: Error) {
    super(dependency, `Dependency "${dependency}" stream broke after ${partial.length} characters (${reason.name}: ${reason.message}); it was not retried because part of the reply was already delivered. Ask again to get a whole reply`);
    this.cause = reason;
  }
  override data() {
    return { ...super.data(), partial: this.partial, reason: { type: this.reason.name, message: this.reason.message } };
  }
}

/** The reply was not the JSON (or SSE) the protocol promises. */
export class MalformedResponseError extends DependencyError {
  readonly retryable = true;
  constructor(dependency: string, detail: string) {
    super(dependency, `Dependency "${dependency}" sent a malformed reply (${detail}); it was retried, and a server that keeps doing this needs fixing`);
  }
}

/** The model refused the request on content grounds; retrying the same request will not help. */
export class ContentFilterError extends DependencyError {
  readonly retryable = false;
  constructor(dependency: string, detail?: string) {
    super(dependency, `Dependency "${dependency}" refused the request by its content filter${detail ? ` (${detail})` : ''}; rephrase the request or use another model`);
  }
}

/** Every attempt failed with a retryable error. `cause` is the last one. */
export class RetriesExhaustedError extends DependencyError {
  readonly retryable = false;
  constructor(dependency: string, readonly attempts: number, readonly lastError: Error) {
    super(dependency, `Dependency "${dependency}" failed ${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${lastError.name}: ${lastError.message}`);
    this.cause = lastError;
  }
  override data() {
    return { ...super.data(), attempts: this.attempts, lastError: { type: this.lastError.name, message: this.lastError.message } };
  }
}

/** The call's total time budget ran out (or a Retry-After would not fit in it) before it succeeded. */
export class BudgetExceededError extends DependencyError {
  readonly retryable = false;
  constructor(dependency: string, readonly budgetMs: number, readonly attempts: number, readonly lastError?: Error, reason?: string) {
    super(
      dependency,
      `Dependency "${dependency}" did not succeed within its ${budgetMs} ms budget after ${attempts} attempt${attempts === 1 ? '' : 's'}${reason ? ` (${reason})` : ''}${lastError ? `; last: ${lastError.name}: ${lastError.message}` : ''}; raise budgetMs or use a fallback`,
    );
    if (lastError) this.cause = lastError;
  }
  override data() {
    return { ...super.data(), budgetMs: this.budgetMs, attempts: this.attempts, lastError: this.lastError && { type: this.lastError.name, message: this.lastError.message } };
  }
}

/** Every dependency of a model chain failed; `failures` says how each did. */
export class FallbackExhaustedError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  constructor(readonly chain: string, readonly failures: { dependency: string; type: string; message: string }[]) {
    super(`Every model of chain "${chain}" failed: ${failures.map((f) => `${f.dependency}: ${f.type}`).join('; ')}; check \`faultline status\` for their breakers`);
  }
}

/** The degrade queue of a dependency is full; the call was neither made nor held. */
export class QueueFullError extends DependencyError {
  readonly retryable = false;
  constructor(dependency: string, readonly limit: number) {
    super(dependency, `Dependency "${dependency}" is unavailable and its replay queue already holds ${limit} calls; this call was dropped. Wait for the dependency to recover`);
  }
}

/**
 * The call's caller aborted it (its `signal`) without giving an Error as the
 * reason. Named `AbortError`, as the platform names an abort, so agent code
 * that checks `e.name === 'AbortError'` keeps working; not a dependency failure.
 */
export class AbortError extends FaultlineError {
  constructor(readonly dependency: string) {
    super(`The call to dependency "${dependency}" was aborted by its caller`);
  }
}

/** No such dependency or chain in the config, or a tool with no handler. */
export class UnknownDependencyError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.NotFound;
  constructor(what: 'dependency' | 'model chain' | 'tool handler', id: string, known: string[]) {
    super(`No ${what} "${id}" (known: ${known.join(', ') || 'none'}); add it to "${what === 'model chain' ? 'models' : 'dependencies'}" in faultline.config.json`);
  }
}

/** A call whose options its dependency cannot take (http options on a model, a bad method or path…): the caller's to fix. */
export class InvalidCallError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.InvalidParams;
  constructor(readonly dependency: string, problem: string) {
    super(`Call to dependency "${dependency}": ${problem}`);
  }
}

/**
 * What a call on a dependency with `degrade: "skip"` returns when the
 * dependency is unavailable: the agent checks `unavailable` and goes on
 * without it. `content` is empty so it also fits where a ChatReply is expected.
 */
export interface DependencyUnavailable {
  unavailable: true;
  dependency: string;
  /** The failure that made it unavailable, e.g. `BreakerOpenError`. */
  reason: string;
  message: string;
  content: '';
  model: '';
}

/** What a call on a dependency with `degrade: "queue"` returns when the call was held for replay. */
export interface DependencyQueued {
  queued: true;
  dependency: string;
  /** Id of the held call; `dependency.call` events with phase `replayed` or `dropped` name it. */
  id: string;
  reason: string;
}

export function isUnavailable(x: unknown): x is DependencyUnavailable {
  return typeof x === 'object' && x !== null && (x as { unavailable?: unknown }).unavailable === true;
}

export function isQueued(x: unknown): x is DependencyQueued {
  return typeof x === 'object' && x !== null && (x as { queued?: unknown }).queued === true;
}
