/**
 * How the mock model answers a conversation, in either dialect: a scripted
 * reply first, then the tool rule (a tool result gets a text summary of it;
 * a request with tools gets a deterministic tool call), else the echo.
 */
import { lastUserText, type MockMessage, type ReplyScript } from './replies.ts';

export interface MockTool {
  name: string;
  /** The tool's JSON Schema (`parameters` / `input_schema`). */
  schema: unknown;
}

/** 'auto' also stands for OpenAI 'required' and Anthropic 'any': the mock calls a tool either way. */
export type MockToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'tool'; name: string };

/** A request in dialect-neutral form. */
export interface MockConversation {
  messages: MockMessage[];
  tools: MockTool[];
  choice: MockToolChoice;
}

export type MockAnswer = { kind: 'text'; text: string } | { kind: 'tool'; name: string; input: Record<string, unknown> };

/** The most of a tool result the reply quotes. */
const RESULT_QUOTE = 200;

/** The answer to a conversation, or a problem with the request (a tool choice naming no tool). */
export function answer(c: MockConversation, script: ReplyScript): MockAnswer | string {
  const scripted = script.scripted(c.messages);
  if (scripted !== undefined) return { kind: 'text', text: scripted };
  const last = c.messages.at(-1);
  if (last?.role === 'tool') {
    const call = c.messages.flatMap((m) => m.toolCalls ?? []).find((t) => t.id === last.toolCallId);
    return { kind: 'text', text: `Tool ${call?.name ?? 'tool'} returned: ${last.content.slice(0, RESULT_QUOTE)}` };
  }
  const userText = lastUserText(c.messages);
  if (c.tools.length && c.choice.type !== 'none') {
    let tool: MockTool | undefined;
    if (c.choice.type === 'tool') {
      const wanted = c.choice.name;
      tool = c.tools.find((t) => t.name === wanted);
      if (!tool) return `tool_choice names the tool "${wanted}", which is not in tools`;
    } else {
      tool = c.tools.find((t) => userText.includes(t.name)) ?? c.tools[0];
    }
    return { kind: 'tool', name: tool.name, input: toolArguments(tool.schema, userText) };
  }
  return { kind: 'text', text: `echo: ${userText}` };
}

/**
 * Arguments from a tool's JSON Schema: each required property (every property
 * when `required` is absent) gets a value of its type; a property of no known
 * type gets null.
 */
export function toolArguments(schema: unknown, userText: string): Record<string, unknown> {
  const s = (schema && typeof schema === 'object' ? schema : {}) as { properties?: Record<string, unknown>; required?: unknown };
  const props = s.properties && typeof s.properties === 'object' ? s.properties : {};
  const names = Array.isArray(s.required) ? s.required.filter((n): n is string => typeof n === 'string') : Object.keys(props);
  const args: Record<string, unknown> = {};
  for (const name of names) args[name] = valueOf(props[name], userText);
  return args;
}

function valueOf(prop: unknown, userText: string): unknown {
  const t = (prop as { type?: unknown } | undefined)?.type;
  // A nullable property declares ['string', 'null']: the first non-null type counts.
  const type = Array.isArray(t) ? t.find((x) => x !== 'null') : t;
  switch (type) {
    case 'string':
      return userText;
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return null;
  }
}
