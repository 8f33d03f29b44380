/**
 * Schemas of MCP tools as the runtime hands them out (`ctx.tools`, the
 * `tools` method, the extension's Dependencies view) and of the `tools` and
 * `call` methods. A tool is the server's definition reduced to the fields of
 * the MCP specification that a caller needs; its JSON Schemas are the
 * server's own (free-form).
 */
import { z } from 'zod';

const JsonSchemaObject = z.record(z.string(), z.unknown()).describe("A JSON Schema object, as the server declares it");

export const McpTool = z.strictObject({
  name: z.string().describe('What `ctx.call(dep, { tool })` names'),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: JsonSchemaObject.describe("The JSON Schema of the tool's `arguments`"),
  outputSchema: JsonSchemaObject.optional().describe('The JSON Schema of its `structuredContent`, when it declares one'),
  annotations: z.record(z.string(), z.unknown()).optional().describe('Hints: readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title'),
});

const dependency = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });

export const ToolsParams = z.strictObject({ dependency: dependency.describe('An "mcp" dependency id') });
export const ToolsResult = z.strictObject({
  dependency: z.string(),
  tools: z.array(McpTool),
  stale: z.boolean().optional().describe('The server is unavailable: the last list it gave (degrade "cache")'),
  cachedAt: z.string().optional().describe('When a stale list was fetched (ISO 8601 time)'),
});

export const CallParams = z.strictObject({
  dependency: dependency.describe('A dependency id'),
  request: z.unknown().describe('What `ctx.call(dependency, request)` takes: `{ tool, arguments }` for an "mcp" dependency'),
  timeoutMs: z
    .number({ error: 'must be a number of milliseconds between 1 and 3600000' })
    .gt(0, { error: 'must be a number of milliseconds between 1 and 3600000' })
    .max(3_600_000, { error: 'must be a number of milliseconds between 1 and 3600000' })
    .optional()
    .describe("Overrides the dependency's per-attempt timeout"),
});
export const CallResult = z.unknown().describe("The dependency's reply through its policy: an MCP `CallToolResult` ({ content, structuredContent?, isError? }), or a degrade result");

export type McpTool = z.infer<typeof McpTool>;
export type ToolsResult = z.infer<typeof ToolsResult>;
