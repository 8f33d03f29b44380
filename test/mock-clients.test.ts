/**
 * The mock model server against the official clients: the `openai` and
 * `@anthropic-ai/sdk` packages talk to it over real HTTP on loopback, whole
 * replies, streams, tool round trips, embeddings and fault modes included.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockModel } from '../runtime/mockModel/MockModelServer.ts';

const server = await startMockModel({ model: 'mock-1' });
after(() => server.close());

const openai = new OpenAI({ apiKey: 'sk-unused', baseURL: server.url, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'sk-ant-unused', baseURL: server.origin, maxRetries: 0 });

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' }, note: { type: 'string' } }, required: ['city', 'days', 'metric'] },
};
const searchTool = { name: 'search', description: 'Searches the web', schema: { type: 'object', properties: { query: { type: 'string' } } } };

const norm = (v: number[]) => Math.hypot(...v);

describe('openai client', () => {
  test('chat.completions.create: the echo reply with usage', async () => {
    const r = await openai.chat.completions.create({ model: 'mock-1', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }] });
    assert.equal(r.model, 'mock-1');
    assert.equal(r.choices[0].message.content, 'echo: hello there');
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
  });

  test('chat.completions.create with stream: true: chunks assemble the same text, usage last', async () => {
    const stream = await openai.chat.completions.create({ model: 'mock-1', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'echo: one two three');
    assert.equal(finish, 'stop');
    assert.equal(usage?.completion_tokens, 5);
  });

  test('a tools round trip: tool call, role "tool" result, final text', async () => {
    const before = server.stats().toolCalls;
    const tools: OpenAI.ChatCompletionTool[] = [searchTool, weatherTool].map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } }));
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'use get_weather for Paris' }];
    const first = await openai.chat.completions.create({ model: 'mock-1', messages, tools });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const call = choice.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.match(call.id, /^call_mock_\d+$/);
    assert.equal(call.function.name, 'get_weather', 'the tool named in the last user message');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'use get_weather for Paris', days: 1, metric: true });

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 °C' });
    const second = await openai.chat.completions.create({ model: 'mock-1', messages, tools });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(second.choices[0].message.content, 'Tool get_weather returned: sunny, 21 °C');
    assert.equal(server.stats().toolCalls, before + 1);
  });

  test('a streamed tool call: id and name first, then argument pieces, finish_reason tool_calls', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [searchTool, weatherTool].map((t) => ({ type: 'function', function: { name: t.name, parameters: t.schema } }));
    const stream = await openai.chat.completions.create({ model: 'mock-1', stream: true, tools, tool_choice: { type: 'function', function: { name: 'search' } }, messages: [{ role: 'user', content: 'otp supervisors' }] });
    let id = '';
    let name = '';
    let args = '';
    let pieces = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const tc = chunk.choices[0]?.delta?.tool_calls?.[0];
      if (tc?.id) id = tc.id;
      if (tc?.function?.name) name = tc.function.name;
      if (tc?.function?.arguments) (args += tc.function.arguments), (pieces += 1);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.match(id, /^call_mock_\d+$/);
    assert.equal(name, 'search', 'the tool named by tool_choice');
    assert.ok(pieces > 1);
    assert.deepEqual(JSON.parse(args), { query: 'otp supervisors' });
    assert.equal(finish, 'tool_calls');
  });

  test('embeddings.create: base64 by default, decoded by the client; float and dimensions', async () => {
    const def = await openai.embeddings.create({ model: 'emb', input: ['alpha', 'beta'] });
    assert.equal(def.object, 'list');
    assert.equal(def.data.length, 2);
    assert.deepEqual(def.data.map((d) => d.index), [0, 1]);
    const [a, b] = def.data.map((d) => d.embedding);
    assert.equal(a.length, 16);
    assert.ok(Math.abs(norm(a) - 1) < 1e-5);
    assert.notDeepEqual(a, b);
    assert.deepEqual(def.usage, { prompt_tokens: 2 + 1, total_tokens: 3 });

    const float = await openai.embeddings.create({ model: 'emb', input: 'alpha', encoding_format: 'float' });
    assert.deepEqual(float.data[0].embedding, a, 'the same text embeds the same, whatever the encoding');

    const wide = await openai.embeddings.create({ model: 'emb', input: 'alpha', dimensions: 64 });
    assert.equal(wide.data[0].embedding.length, 64);
    assert.ok(Math.abs(norm(wide.data[0].embedding) - 1) < 1e-5);
    const wideFloat = await openai.embeddings.create({ model: 'emb', input: 'alpha', dimensions: 64, encoding_format: 'float' });
    assert.deepEqual(wideFloat.data[0].embedding, wide.data[0].embedding);
  });

  test('a 429 fault reaches the client with its retry-after', async () => {
    server.setFault({ mode: 'error', status: 429, retryAfter: 2, count: 1 });
    const err = await openai.chat.completions.create({ model: 'mock-1', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.equal(err.status, 429);
    assert.equal(err.headers.get('retry-after'), '2');
  });
});

describe('anthropic client', () => {
  test('messages.create: the same echo as the OpenAI path, in a Messages reply', async () => {
    const m = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 256, system: 'be brief', messages: [{ role: 'user', content: 'hello there' }] });
    assert.match(m.id, /^msg_mock_\d+$/);
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.equal(m.model, 'mock-1');
    assert.deepEqual(m.content, [{ type: 'text', text: 'echo: hello there' }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.stop_sequence, null);
    assert.deepEqual(m.usage, { input_tokens: 5, output_tokens: 5 });
  });

  test('a reply longer than max_tokens is cut with stop_reason max_tokens', async () => {
    const m = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 2, messages: [{ role: 'user', content: 'a rather long question' }] });
    assert.equal(m.stop_reason, 'max_tokens');
    assert.deepEqual(m.content, [{ type: 'text', text: 'echo: a ' }]);
    assert.equal(m.usage.output_tokens, 2);
  });

  test('messages.stream: text deltas and the final message', async () => {
    const before = server.stats().stream;
    const stream = anthropic.messages.stream({ model: 'claude-mock', max_tokens: 256, messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three' }] }] });
    const deltas: string[] = [];
    stream.on('text', (d) => deltas.push(d));
    const m = await stream.finalMessage();
    assert.ok(deltas.length > 1);
    assert.equal(deltas.join(''), 'echo: one two three');
    assert.deepEqual(m.content, [{ type: 'text', text: 'echo: one two three' }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.deepEqual(m.usage.output_tokens, 5);
    assert.equal(m.usage.input_tokens, 4);
    assert.equal(server.stats().stream, before + 1);
  });

  test('messages.create with stream: true: the raw events in order', async () => {
    const stream = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 256, stream: true, messages: [{ role: 'user', content: 'a b' }] });
    const types: string[] = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      if (ev.type === 'message_delta') assert.equal(ev.delta.stop_reason, 'end_turn');
    }
    assert.equal(text, 'echo: a b');
    assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  test('a tool_use round trip with tool_result, whole and streamed', async () => {
    const tools: Anthropic.Tool[] = [searchTool, weatherTool].map((t) => ({ name: t.name, description: t.description, input_schema: t.schema as Anthropic.Tool.InputSchema }));
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather please' }];
    const first = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 256, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content[0];
    assert.ok(use.type === 'tool_use');
    assert.match(use.id, /^toolu_mock_\d+$/);
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'weather please', days: 1, metric: true });

    const streamed = await anthropic.messages.stream({ model: 'claude-mock', max_tokens: 256, tools, messages }).finalMessage();
    const sUse = streamed.content[0];
    assert.ok(sUse.type === 'tool_use');
    assert.equal(sUse.name, 'search', 'with no tool named, the first tool');
    assert.deepEqual(sUse.input, { query: 'weather please' });
    assert.equal(streamed.stop_reason, 'tool_use');

    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'x'.repeat(300) }] }] });
    const second = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 256, tools, messages });
    assert.equal(second.stop_reason, 'end_turn');
    assert.deepEqual(second.content, [{ type: 'text', text: `Tool get_weather returned: ${'x'.repeat(200)}` }]);
  });

  test('a 529 fault is an overloaded_error with status 529; with count 1 the client retries and recovers', async () => {
    server.setFault({ mode: 'error', status: 529, count: 1 });
    const err = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 529);
    assert.equal(err.type, 'overloaded_error');
    assert.match(String(err.requestID), /^req_mock_\d+$/);

    server.setFault({ mode: 'error', status: 529, retryAfter: 0.05, count: 1 });
    const retrying = new Anthropic({ apiKey: 'sk-ant-unused', baseURL: server.origin, maxRetries: 2 });
    const before = server.stats().messages;
    const m = await retrying.messages.create({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'again' }] });
    assert.deepEqual(m.content, [{ type: 'text', text: 'echo: again' }]);
    assert.equal(server.stats().messages, before + 2);
  });

  test('a 429 fault is a rate_limit_error with its retry-after', async () => {
    server.setFault({ mode: 'error', status: 429, retryAfter: 3, count: 1 });
    const err = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.RateLimitError);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.headers?.get('retry-after'), '3');
  });

  test('x-api-key: refused when wrong or missing, accepted when right; the client\'s bearer apiKey too', async () => {
    const keyed = await startMockModel({ apiKey: 'sk-ant-right' });
    const ask = (c: Anthropic) => c.messages.create({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    // apiKey: null keeps the client from sending its own Authorization header, so only x-api-key goes out.
    const withHeader = (key: string) => new Anthropic({ apiKey: null, defaultHeaders: { 'x-api-key': key }, baseURL: keyed.origin, maxRetries: 0 });
    try {
      const err = await ask(withHeader('sk-ant-wrong')).catch((e: unknown) => e);
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      const raw = await fetch(`${keyed.origin}/v1/messages`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ max_tokens: 1, messages: [] }) });
      assert.equal(raw.status, 401);
      assert.equal(((await raw.json()) as { error: { type: string } }).error.type, 'authentication_error');

      assert.deepEqual((await ask(withHeader('sk-ant-right'))).content, [{ type: 'text', text: 'echo: hi' }]);
      assert.deepEqual((await ask(new Anthropic({ apiKey: 'sk-ant-right', baseURL: keyed.origin, maxRetries: 0 }))).content, [{ type: 'text', text: 'echo: hi' }]);
      assert.equal((await ask(new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: keyed.origin, maxRetries: 0 })).catch((e: unknown) => e) as InstanceType<typeof Anthropic.APIError>).status, 401);
      assert.equal(keyed.stats().authorized, 2);
      assert.equal(keyed.stats().withAuthorization, 4);
    } finally {
      await keyed.close();
    }
  });

  test('a stream cut makes the client stream reject after some text', async () => {
    server.setFault({ mode: 'stream-cut', count: 1 });
    const stream = anthropic.messages.stream({ model: 'claude-mock', max_tokens: 256, messages: [{ role: 'user', content: 'a b c d e f' }] });
    const deltas: string[] = [];
    stream.on('text', (d) => deltas.push(d));
    await assert.rejects(stream.finalMessage());
    assert.deepEqual(deltas, ['echo: ', 'a ', 'b ']);
  });

  test('content-filter gives stop_reason refusal with empty content, whole and streamed', async () => {
    server.setFault({ mode: 'content-filter', count: 2 });
    const m = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(m.stop_reason, 'refusal');
    assert.deepEqual(m.content, []);
    const s = await anthropic.messages.stream({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
    assert.equal(s.stop_reason, 'refusal');
    assert.deepEqual(s.content, []);

    server.setFault({ mode: 'content-filter', style: 'error', count: 1 });
    const err = await anthropic.messages.create({ model: 'claude-mock', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.BadRequestError);
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.message, /content filtering policy/);
  });
});
