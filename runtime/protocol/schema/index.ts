/**
 * Every shape that crosses a process boundary, as zod schemas: the status
 * JSON, each event's payload, each control method's params and result, and
 * the webview messages. `protocolJsonSchema()` gives them as one JSON Schema
 * document (`faultline schema --protocol`, `dist/faultline.protocol.schema.json`).
 */
import { z } from 'zod';
import { EVENT_SCHEMAS, SESSION_NOTIFICATION_SCHEMAS } from './events.ts';
import { METHOD_SCHEMAS } from './methods.ts';
import { RuntimeStatus } from './status.ts';
import { ExtensionToWebviewMessage, WebviewToExtensionMessage } from './webview.ts';

export * from './status.ts';
export * from './faults.ts';
export * from './events.ts';
export * from './drill.ts';
export * from './methods.ts';
export * from './mcp.ts';
export * from './history.ts';
export { MachineParams, MachineResult, MachineTransitionEvent, StateValue } from '../machine.ts';
export * from './webview.ts';

type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema (draft 2020-12) of one schema, as a document of its own:
 * shared parts (the recursive supervision tree) are in its `$defs`.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/**
 * The protocol as one JSON Schema document: `status`, `events` (payload by
 * event name), `methods` (`params` and `result` by method name) and
 * `webview` (the dashboard's messages, both ways). Params
 * are given as a client sends them, results and events as the runtime sends
 * them; every object is closed except free-form user data (an agent's
 * message, reply or state, fault params, a log line's own fields).
 */
export function protocolJsonSchema(): JsonSchema {
  const events: Record<string, JsonSchema> = {};
  for (const [name, s] of Object.entries(EVENT_SCHEMAS)) events[name] = jsonSchema(s, 'output');
  const notifications: Record<string, JsonSchema> = {};
  for (const [name, s] of Object.entries(SESSION_NOTIFICATION_SCHEMAS)) notifications[name] = jsonSchema(s, 'output');
  const methods: Record<string, { params: JsonSchema; result: JsonSchema }> = {};
  for (const [name, m] of Object.entries(METHOD_SCHEMAS)) methods[name] = { params: jsonSchema(m.params, 'input'), result: jsonSchema(m.result, 'output') };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Faultline control protocol',
    description: 'The status JSON, the payload of each event notification, and the params and result of each control method (JSON-RPC 2.0 over ws://127.0.0.1:PORT/control).',
    type: 'object',
    status: jsonSchema(RuntimeStatus, 'output'),
    events,
    notifications,
    methods,
    webview: {
      description: 'The messages between the VS Code extension and the dashboard webview (postMessage).',
      toWebview: jsonSchema(ExtensionToWebviewMessage, 'output'),
      fromWebview: jsonSchema(WebviewToExtensionMessage, 'input'),
    },
  };
}
