/** `faultline tools` and `faultline call`: an MCP server's tools, and a call through a dependency's policy. */
import type { ToolsResult } from '../protocol/schema/mcp.ts';

export const TOOLS_USAGE = `Usage: faultline tools <dependency> [--json]

Lists the tools of an "mcp" dependency's server, through the dependency's
policy (retries, breaker, faults): each tool's name, description and
arguments (* required). --json prints { dependency, tools: [{ name, title,
description, inputSchema, outputSchema, annotations }] }.`;

export const CALL_USAGE = `Usage: faultline call <dependency> <json> [--timeout-ms N]

Calls a dependency through its policy, as ctx.call(dependency, request) does
in an agent, and prints the reply as JSON. For an "mcp" dependency <json> is
{"tool": "name", "arguments": {...}} and the reply the tool's CallToolResult.
Exits 1 when the call fails (the error is printed) or the tool reports an
error (isError: true; the result is printed).`;

/** The tools as a table: name, description, arguments. */
export function renderTools(r: ToolsResult, width = 100): string {
  if (!r.tools.length) return `${r.dependency}: the server offers no tools`;
  const args = (t: ToolsResult['tools'][number]) => {
    const props = t.inputSchema.properties;
    const required = new Set(Array.isArray(t.inputSchema.required) ? (t.inputSchema.required as string[]) : []);
    return props && typeof props === 'object' ? Object.keys(props).map((k) => `${k}${required.has(k) ? '*' : ''}`).join(', ') : '';
  };
  const rows = r.tools.map((t) => [t.name, (t.description ?? t.title ?? '').replace(/\s+/g, ' ').trim(), args(t)]);
  const w0 = Math.max(4, ...rows.map((x) => x[0].length));
  const w2 = Math.max(9, ...rows.map((x) => x[2].length));
  const w1 = Math.max(11, width - w0 - w2 - 4);
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const lines = [`${'TOOL'.padEnd(w0)}  ${'DESCRIPTION'.padEnd(w1)}  ARGUMENTS`];
  for (const [name, desc, a] of rows) lines.push(`${name.padEnd(w0)}  ${cut(desc, w1).padEnd(w1)}  ${a}`.trimEnd());
  if (r.stale) lines.push('', `(the server is unavailable: the list it gave at ${r.cachedAt ?? 'an earlier call'})`);
  return lines.join('\n');
}
