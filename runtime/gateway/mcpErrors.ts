/**
 * How MCP failures reach the policy: a server that exited, a refused or
 * dropped connection, a lost session or a malformed reply are retryable
 * transport failures (they count against the breaker); a JSON-RPC error the
 * server answered with is a `McpRequestError`, retried only when the server
 * says it failed itself. A tool that ran and failed is neither: its result
 * has `isError: true` and is returned as it is.
 *
 * The SDK's errors are recognised by name and shape, so that this module
 * (and the gateway) load without the SDK until an MCP dependency is used.
 */
import { isRetryableStatus, networkCode } from './classify.ts';
import { AbortError, DependencyError, DependencyHttpError, DependencyNetworkError, DependencyTimeoutError, MalformedResponseError } from './errors.ts';
import type { ResolvedDependency } from './policyConfig.ts';

/** JSON-RPC error codes (the MCP SDK's `ErrorCode`). */
const PARSE_ERROR = -32700;
const INTERNAL_ERROR = -32603;
const REQUEST_TIMEOUT = -32001;
const CONNECTION_CLOSED = -32000;

/** The server answered the request with a JSON-RPC error. */
export class McpRequestError extends DependencyError {
  readonly retryable: boolean;
  constructor(dependency: string, readonly code: number, detail: string) {
    // Internal and implementation-defined server errors (-32603, -32000…-32099) are the server's; the rest (unknown method, invalid params, …) the request's.
    const retryable = code === INTERNAL_ERROR || (code <= -32000 && code >= -32099);
    super(dependency, `The MCP server of dependency "${dependency}" refused the request (JSON-RPC error ${code}: ${detail}); ${retryable ? 'it was retried per its retry policy' : 'check the tool name and its arguments (`faultline tools ' + dependency + '`): it was not retried'}`);
    this.retryable = retryable;
  }
  override data() {
    return { ...super.data(), code: this.code };
  }
}

const NO_CLASSIFIER: ResolvedDependency['classifier'] = { retryableStatus: [], nonRetryableStatus: [], retryableCodes: [], contentFilterPatterns: [] };

/**
 * The gateway error for a failed MCP request or connection. `hadSession`:
 * the connection had a streamable HTTP session, so a 400 or 404 means the
 * server lost it (it restarted) and a new connection will do.
 */
export function mcpFailure(dep: Pick<ResolvedDependency, 'id'> & { classifier?: ResolvedDependency['classifier'] }, e: unknown, hadSession = false): Error {
  if (e instanceof DependencyError || e instanceof AbortError || (e instanceof DOMException && e.name === 'AbortError')) return e as Error;
  const err = e as { name?: unknown; code?: unknown; message?: unknown; data?: { timeout?: unknown } } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const code = typeof err?.code === 'number' ? err.code : undefined;
  if (err?.name === 'McpError' && code !== undefined) {
    const detail = message.replace(/^MCP error -?\d+: /, '');
    if (code === CONNECTION_CLOSED && /^(Connection closed|Request was cancelled)/.test(detail)) return new DependencyNetworkError(dep.id, 'connection-closed', 'the MCP server closed the connection (its process exited, or the connection dropped)');
    if (code === REQUEST_TIMEOUT) return new DependencyTimeoutError(dep.id, typeof err.data?.timeout === 'number' ? err.data.timeout : 0);
    // The SDK checks structured content against the tool's output schema: a reply that fails it is malformed.
    if (/^(Structured content does not match|Failed to validate structured content|Tool .* has an output schema but did not return structured content)/.test(detail)) return new MalformedResponseError(dep.id, detail);
    if (code === PARSE_ERROR) return new MalformedResponseError(dep.id, `the server could not parse the request: ${detail}`);
    return new McpRequestError(dep.id, code, detail);
  }
  if (message.startsWith('Streamable HTTP error: ') && code !== undefined) {
    const detail = message.slice('Streamable HTTP error: '.length).slice(0, 200);
    if (code === -1) return new MalformedResponseError(dep.id, detail);
    if (hadSession && (code === 400 || code === 404)) return new DependencyNetworkError(dep.id, 'session-lost', `the server no longer knows the session (HTTP ${code}: ${detail}); a new one is opened`);
    return new DependencyHttpError(dep.id, code, isRetryableStatus(code, dep.classifier ?? NO_CLASSIFIER), undefined, detail);
  }
  if (err?.name === 'UnauthorizedError') return new DependencyHttpError(dep.id, 401, false, undefined, message);
  if (err?.name === 'ZodError') return new MalformedResponseError(dep.id, 'the reply is not a valid MCP result');
  const net = networkCode(e);
  if (net) {
    const cause = (e as { cause?: { message?: unknown } })?.cause?.message;
    return new DependencyNetworkError(dep.id, net, typeof cause === 'string' ? `${message}: ${cause}` : message);
  }
  if (message === 'Not connected') return new DependencyNetworkError(dep.id, 'not-connected', 'the connection to the MCP server is closed');
  if (typeof err?.code === 'string') return new DependencyNetworkError(dep.id, err.code, message);
  return new DependencyNetworkError(dep.id, 'mcp', message);
}

/** Whether a failure says the connection is no good (a new one is needed), rather than that one request failed. */
export function connectionLost(e: Error): boolean {
  return e instanceof DependencyNetworkError || e instanceof DependencyHttpError;
}
