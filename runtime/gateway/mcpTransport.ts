/**
 * The `mcp` kind: `ctx.call(dep, { tool, arguments })` is an MCP `tools/call`
 * on the dependency's server and returns its `CallToolResult`; `ctx.tools(dep)`
 * is `tools/list` (every page). Each attempt runs on the connection the
 * server module keeps (mcpServers.ts) and is cancelled by the attempt's
 * signal (the SDK then sends `notifications/cancelled`). A result with
 * `isError: true` is the tool's own failure and is returned as it is: the
 * policy sees a success, so it is neither retried nor held against the
 * breaker. Failures of the server or the connection are mapped to the
 * gateway's retryable errors (mcpErrors.ts).
 */
import type { McpTool } from '../protocol/schema/mcp.ts';
import { InvalidCallError } from './errors.ts';
import type { AttemptContext, Transport } from './httpTransport.ts';
import { mcpFailure } from './mcpErrors.ts';
import { MCP_REQUEST_TIMEOUT_MS, type McpConnection } from './mcpServers.ts';
import type { ResolvedDependency } from './policyConfig.ts';

/** A checked `ctx.call` request of an mcp dependency. */
export interface McpToolCall {
  tool: string;
  arguments?: Record<string, unknown>;
}

/** The request of a tool listing (`ctx.tools`); also what the degrade cache keeps the last list under. */
export const LIST_TOOLS = Object.freeze({ method: 'tools/list' });

/** Pages of a tool listing followed, at most. */
const MAX_PAGES = 100;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks a `ctx.call` request for an mcp dependency; throws InvalidCallError (the caller's to fix, never a dependency failure). */
export function mcpCall(dep: ResolvedDependency, request: unknown): McpToolCall {
  const bad = (problem: string): never => {
    throw new InvalidCallError(dep.id, `${problem}; an "mcp" dependency takes { tool, arguments } (list its tools with ctx.tools("${dep.id}") or \`faultline tools ${dep.id}\`)`);
  };
  if (!isObject(request)) return bad('the request must be an object');
  const { tool, arguments: args, ...rest } = request;
  if (typeof tool !== 'string' || !tool) bad('the request needs "tool", the name of the tool to call');
  const unknown = Object.keys(rest);
  if (unknown.length) bad(`unknown field "${unknown[0]}"`);
  if (args !== undefined && !isObject(args)) bad('"arguments" must be an object');
  return args === undefined ? { tool: tool as string } : { tool: tool as string, arguments: args as Record<string, unknown> };
}

/** A tool as the runtime hands it out: the specification's fields a caller needs. */
function toolOf(t: Record<string, unknown>): McpTool {
  const out: McpTool = { name: String(t.name), inputSchema: isObject(t.inputSchema) ? t.inputSchema : { type: 'object' } };
  if (typeof t.title === 'string') out.title = t.title;
  if (typeof t.description === 'string') out.description = t.description;
  if (isObject(t.outputSchema)) out.outputSchema = t.outputSchema;
  if (isObject(t.annotations)) out.annotations = t.annotations;
  return out;
}

/**
 * The attempt's cancellation as the SDK's request options use it (`aborted`,
 * `reason`, `throwIfAborted`, `addEventListener('abort')`): a plain object
 * rather than an AbortSignal, which on Node 20 costs several µs a call to
 * make and to collect — more than the rest of the policy.
 */
function sdkSignal(ctx: AttemptContext): AbortSignal {
  if (!ctx.onCancel) return ctx.signal;
  const listeners: (() => void)[] = [];
  const s = {
    aborted: false,
    reason: undefined as unknown,
    throwIfAborted() {
      if (s.aborted) throw s.reason;
    },
    addEventListener(_type: 'abort', fn: () => void) {
      listeners.push(fn);
    },
    removeEventListener(_type: 'abort', fn: () => void) {
      const i = listeners.indexOf(fn);
      if (i >= 0) listeners.splice(i, 1);
    },
  };
  ctx.onCancel((reason) => {
    if (s.aborted) return;
    s.aborted = true;
    s.reason = reason;
    for (const fn of listeners.splice(0)) fn();
  });
  return s as unknown as AbortSignal;
}

export function mcpTransport(dep: ResolvedDependency, connection: () => McpConnection | undefined): Transport {
  return async (request: unknown, ctx: AttemptContext) => {
    const conn = connection();
    if (!conn) throw new InvalidCallError(dep.id, 'no MCP server is configured for it (it needs "command" or "url")');
    const signal = sdkSignal(ctx);
    let client;
    try {
      client = await conn.client(signal);
    } catch (e) {
      throw mcpFailure(dep, e);
    }
    const options = { signal, timeout: MCP_REQUEST_TIMEOUT_MS };
    try {
      if (request === LIST_TOOLS || (isObject(request) && request.method === LIST_TOOLS.method && !('tool' in request))) {
        const tools: McpTool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const r = await client.listTools(cursor ? { cursor } : undefined, options);
          for (const t of r.tools) tools.push(toolOf(t as Record<string, unknown>));
          cursor = r.nextCursor;
          if (!cursor) break;
        }
        return { tools };
      }
      const call = request as McpToolCall;
      return await client.callTool({ name: call.tool, arguments: call.arguments ?? {} }, undefined, options);
    } catch (e) {
      // An attempt the policy ended (timeout, caller gone) already has its error; this one is dropped.
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : e;
      const err = mcpFailure(dep, e, conn.hasSession(client));
      conn.failed(client, err);
      throw err;
    }
  };
}
