/**
 * The Anthropic dialect without a server: OpenAI-format requests translated
 * to the Messages API and replies back, the event stream assembled (cut and
 * error events included), and how Anthropic's failures are classified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_TOKENS, fromMessagesReply, toMessagesRequest } from './anthropic.ts';
import { readMessagesStream } from './anthropicTransport.ts';
import { classify, parseRetryAfter } from './classify.ts';
import { ContentFilterError, DependencyHttpError, DependencyNetworkError, InvalidCallError, MalformedResponseError } from './errors.ts';
import { requestHeaders, statusFailure } from './httpTransport.ts';
import { resolveDependency } from './policyConfig.ts';
import { SecretScrubber } from '../protocol/redact.ts';
import { resolveConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import type { ChatRequest } from '../sdk.ts';

const dep = resolveDependency('claude', { kind: 'model', api: 'anthropic', url: 'http://127.0.0.1:1/v1', model: 'claude-x', price: { promptPer1k: 3, completionPer1k: 15 } });
const scrubber = new SecretScrubber([]);

const weather = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

test('request: system hoisted, turns merged, tool calls and results as blocks, tools and options translated', () => {
  const req: ChatRequest = {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo and Bergen?' },
      { role: 'user', content: 'Metric, please.' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_1', content: '4 °C' },
      { role: 'tool', tool_call_id: 'call_2', content: '7 °C' },
      { role: 'system', content: 'Answer in one line.' },
    ],
    tools: [weather],
    tool_choice: 'required',
    temperature: 1.4,
    stop: 'END',
    stream: true,
    seed: 7,
    response_format: { type: 'text' },
  };
  assert.deepEqual(toMessagesRequest('claude', req, 'claude-x'), {
    model: 'claude-x',
    max_tokens: DEFAULT_MAX_TOKENS,
    system: 'Be brief.\n\nAnswer in one line.',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Bergen?' }, { type: 'text', text: 'Metric, please.' }] },
      { role: 'assistant', content: [
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Bergen' } },
      ] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '4 °C' }, { type: 'tool_result', tool_use_id: 'call_2', content: '7 °C' }] },
    ],
    tools: [{ name: 'get_weather', description: 'Weather in a city', input_schema: weather.function.parameters }],
    tool_choice: { type: 'any' },
    temperature: 1,
    stop_sequences: ['END'],
    stream: true,
  });
});

test('request: max_tokens, tool_choice forms, a tool result followed by user text, empty texts dropped', () => {
  const t = (tool_choice: ChatRequest['tool_choice']) => toMessagesRequest('claude', { messages: [{ role: 'user', content: 'x' }], tools: [weather], tool_choice }, 'm').tool_choice;
  assert.deepEqual(t('auto'), { type: 'auto' });
  assert.deepEqual(t('none'), { type: 'none' });
  assert.deepEqual(t('required'), { type: 'any' });
  assert.deepEqual(t({ type: 'function', function: { name: 'get_weather' } }), { type: 'tool', name: 'get_weather' });
  assert.equal(t(undefined), undefined);
  // No tools: no tool_choice either (the Messages API refuses one alone).
  assert.equal(toMessagesRequest('claude', { messages: [{ role: 'user', content: 'x' }], tool_choice: 'auto' }, 'm').tool_choice, undefined);

  const r = toMessagesRequest('claude', {
    max_tokens: 256,
    stop: ['a', 'b'],
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'Calling.', tool_calls: [{ id: 't1', type: 'function', function: { name: 'now', arguments: '' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'noon' },
      { role: 'user', content: 'and?' },
      { role: 'assistant', content: '' },
    ],
  }, 'm');
  assert.equal(r.max_tokens, 256);
  assert.deepEqual(r.stop_sequences, ['a', 'b']);
  assert.equal(r.system, undefined);
  assert.equal(r.stream, undefined);
  assert.deepEqual(r.messages, [
    { role: 'user', content: [{ type: 'text', text: 'go' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Calling.' }, { type: 'tool_use', id: 't1', name: 'now', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'noon' }, { type: 'text', text: 'and?' }] },
  ]);
});

test('request: what cannot be translated is refused before anything is sent', () => {
  const bad = (messages: unknown[]) => () => toMessagesRequest('claude', { messages } as ChatRequest, 'm');
  assert.throws(bad([{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }]), InvalidCallError);
  assert.throws(bad([{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }]), /not a JSON object/);
  assert.throws(bad([{ role: 'tool', content: 'x' }]), /tool_call_id/);
  assert.throws(bad([{ role: 'function', content: 'x' }]), /role "function"/);
  assert.throws(bad([{ role: 'user', content: [{ type: 'input_audio' }] }]), /input_audio/);
  // InvalidCallError is not retried: a chain moves on to a member that may take the request.
  const e = (() => { try { bad([{ role: 'tool', content: 'x' }])(); } catch (x) { return x; } })();
  assert.equal(classify(e, dep).retryable, false);
});

test('reply: text blocks joined, tool_use as tool_calls with JSON arguments, usage and cost', () => {
  const r = fromMessagesReply(dep, {
    id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x-2025',
    content: [
      { type: 'text', text: 'Let me ' },
      { type: 'thinking', thinking: 'hidden' },
      { type: 'text', text: 'check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
    ],
    stop_reason: 'tool_use',
    usage: { input_tokens: 1000, output_tokens: 200 },
  });
  assert.deepEqual(r, {
    content: 'Let me check.',
    model: 'claude-x-2025',
    dependency: 'claude',
    usage: { prompt_tokens: 1000, completion_tokens: 200 },
    cost: 3 + 3,
    tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
    finish_reason: 'tool_calls',
  });
  const only = fromMessagesReply(dep, { content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }], stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 1 } });
  assert.equal(only.content, '');
  const stop = (stop_reason: string) => fromMessagesReply(dep, { content: [{ type: 'text', text: 'x' }], stop_reason }).finish_reason;
  assert.deepEqual(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use'].map(stop), ['stop', 'stop', 'length', 'tool_calls']);
  // Cached input counts as prompt tokens, as OpenAI's prompt_tokens does.
  assert.deepEqual(fromMessagesReply(dep, { content: [], stop_reason: 'end_turn', usage: { input_tokens: 10, cache_read_input_tokens: 90, output_tokens: 5 } }).usage, { prompt_tokens: 100, completion_tokens: 5 });
  assert.throws(() => fromMessagesReply(dep, { type: 'message' }), MalformedResponseError);
});

test('reply: a refusal is a content-filter refusal, not retried', () => {
  const e = (() => { try { fromMessagesReply(dep, { content: [], stop_reason: 'refusal' }); } catch (x) { return x; } })();
  assert.ok(e instanceof ContentFilterError, String(e));
  assert.match(e.message, /refusal/);
  assert.equal(classify(e, dep).retryable, false);
});

/** A Response whose body is these SSE events, as the Messages API sends them. */
function sse(events: [string, unknown][], tail = ''): Response {
  return new Response(events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('') + tail);
}

const start = ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x-2025', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }] as [string, unknown];
const textBlock = (index: number, ...pieces: string[]): [string, unknown][] => [
  ['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }],
  ...pieces.map((text): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }]),
  ['content_block_stop', { type: 'content_block_stop', index }],
];
const end = (stop_reason: string, output_tokens = 9): [string, unknown][] => [
  ['message_delta', { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } }],
  ['message_stop', { type: 'message_stop' }],
];

test('stream: text deltas reach onDelta in order, tool input is assembled from partial JSON, pings are skipped', async () => {
  const deltas: string[] = [];
  const res = sse([
    start,
    ['ping', { type: 'ping' }],
    ...textBlock(0, 'Checking ', 'the ', 'weather.'),
    ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: {} } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"ci' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ty": "Oslo"}' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 1 }],
    ...end('tool_use'),
  ]);
  const r = await readMessagesStream(dep, res, { scrubber }, { onDelta: (t) => deltas.push(t) });
  assert.deepEqual(deltas, ['Checking ', 'the ', 'weather.']);
  assert.equal(r.content, 'Checking the weather.');
  assert.deepEqual(r.tool_calls, [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  assert.equal(r.finish_reason, 'tool_calls');
  assert.equal(r.model, 'claude-x-2025');
  assert.deepEqual(r.usage, { prompt_tokens: 12, completion_tokens: 9 });
});

test('stream: an end before message_stop is a retryable stream cut, also right after message_start', async () => {
  for (const events of [[start, ...textBlock(0, 'half')], [start], [start, ...textBlock(0, 'x'), end('end_turn')[0]]]) {
    const e = await readMessagesStream(dep, sse(events), { scrubber }, {}).catch((x) => x);
    assert.ok(e instanceof DependencyNetworkError, String(e));
    assert.equal(e.code, 'stream-cut');
    assert.match(e.message, /before message_stop/);
    assert.equal(classify(e, dep).retryable, true);
  }
  // A line cut in the middle is no event.
  const e = await readMessagesStream(dep, sse([start], 'event: content_block_start\ndata: {"type":"content_blo'), { scrubber }, {}).catch((x) => x);
  assert.equal(e.code, 'stream-cut');
});

test('stream: an error event is classified by its type; a refusal is a content-filter refusal', async () => {
  const fail = async (type: string) => readMessagesStream(dep, sse([start, ...textBlock(0, 'a'), ['error', { type: 'error', error: { type, message: `${type} happened` } }]]), { scrubber }, {}).catch((x) => x);
  const overloaded = await fail('overloaded_error');
  assert.ok(overloaded instanceof DependencyHttpError, String(overloaded));
  assert.equal(overloaded.status, 529);
  assert.equal(overloaded.code, 'overloaded_error');
  assert.match(overloaded.message, /overloaded_error/);
  assert.equal(overloaded.data().code, 'overloaded_error');
  assert.equal(classify(overloaded, dep).retryable, true);
  assert.equal((await fail('rate_limit_error')).retryable, true);
  assert.equal(classify(await fail('api_error'), dep).retryable, true);
  for (const type of ['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error']) {
    const e = await fail(type);
    assert.equal(classify(e, dep).retryable, false, type);
    assert.equal(e.retryable, false, type);
  }
  const refused = await readMessagesStream(dep, sse([start, ...textBlock(0, 'I'), ...end('refusal')]), { scrubber }, {}).catch((x) => x);
  assert.ok(refused instanceof ContentFilterError, String(refused));
  const garbled = await readMessagesStream(dep, new Response('event: message_start\ndata: {"type": "mess\n\n'), { scrubber }, {}).catch((x) => x);
  assert.ok(garbled instanceof MalformedResponseError);
});

test('statuses: 529 and 429 retry honouring Retry-After (seconds or a date); an error body\'s type decides over its status', async () => {
  const failure = (status: number, type: string, headers: Record<string, string> = {}) =>
    statusFailure(dep, new Response(JSON.stringify({ type: 'error', error: { type, message: `${type}!` } }), { status, headers }), scrubber) as Promise<DependencyHttpError>;
  const over = await failure(529, 'overloaded_error', { 'retry-after': '2' });
  assert.ok(over instanceof DependencyHttpError);
  assert.deepEqual([over.status, over.code, over.retryable, over.retryAfterMs], [529, 'overloaded_error', true, 2000]);
  assert.match(over.message, /HTTP 529 \(overloaded_error: overloaded_error!\); it is overloaded/);
  assert.deepEqual(classify(over, dep), { retryable: true, retryAfterMs: 2000 });

  const date = new Date(Date.now() + 5_000).toUTCString();
  const limited = await failure(429, 'rate_limit_error', { 'retry-after': date });
  assert.equal(limited.retryable, true);
  assert.ok(limited.retryAfterMs! > 3_000 && limited.retryAfterMs! <= 5_000, String(limited.retryAfterMs));
  assert.equal(parseRetryAfter('3', 529), 3000);

  for (const [status, type] of [[400, 'invalid_request_error'], [401, 'authentication_error'], [403, 'permission_error'], [404, 'not_found_error']] as const) {
    const e = await failure(status, type);
    assert.deepEqual([e.code, e.retryable, classify(e, dep).retryable], [type, false, false], type);
  }
  // An overloaded_error body is overloaded whatever the status; an unknown type falls back to the status.
  assert.equal((await failure(500, 'overloaded_error')).retryable, true);
  assert.equal((await failure(400, 'overloaded_error')).retryable, true);
  const unknown = await failure(503, 'brand_new_error');
  assert.deepEqual([unknown.code, unknown.retryable], [undefined, true]);
  // The config still has the last word on statuses.
  const strict = resolveDependency('c', { kind: 'model', api: 'anthropic', url: 'http://127.0.0.1:1/v1', model: 'm', classifier: { nonRetryableStatus: [529] } });
  assert.equal(classify(over, strict).retryable, false);
});

test('an OpenAI dependency keeps its classification: error types in bodies are not read', async () => {
  const openai = resolveDependency('gpt', { kind: 'model', url: 'http://127.0.0.1:1/v1', model: 'm' });
  const e = (await statusFailure(openai, new Response(JSON.stringify({ error: { type: 'invalid_request_error', message: 'x' } }), { status: 503 }), scrubber)) as DependencyHttpError;
  assert.deepEqual([e.code, e.retryable], [undefined, true]);
});

test('headers: x-api-key and anthropic-version for anthropic, no Authorization; Bearer for openai', () => {
  const env = { CLAUDE_KEY: 'sk-ant-secret', GPT_KEY: 'sk-gpt-secret' };
  const a = requestHeaders(resolveDependency('c', { kind: 'model', api: 'anthropic', url: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'CLAUDE_KEY' }), env, 'application/json');
  assert.deepEqual(a, { 'content-type': 'application/json', accept: 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-secret' });
  const pinned = requestHeaders(resolveDependency('c', { kind: 'model', api: 'anthropic', url: 'http://127.0.0.1:1/v1', model: 'm', headers: { 'Anthropic-Version': '2024-01-01' } }), env, 'text/event-stream');
  assert.equal(pinned['Anthropic-Version'], '2024-01-01');
  assert.equal(pinned['anthropic-version'], undefined);
  const o = requestHeaders(resolveDependency('g', { kind: 'model', url: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'GPT_KEY' }), env, 'application/json');
  assert.equal(o.authorization, 'Bearer sk-gpt-secret');
  assert.equal(o['x-api-key'], undefined);
});

test('config: "api" takes openai or anthropic on model dependencies only, with the JSON path in the error', () => {
  const cfg = (deps: Record<string, unknown>) => ({ name: 'x', dependencies: deps, supervisor: { id: 'root', children: [] } });
  const problems = (json: unknown): string[] => {
    try {
      resolveConfig(json, '/tmp/faultline.config.json');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.problems;
    }
    return [];
  };
  assert.deepEqual(problems(cfg({ claude: { kind: 'model', api: 'anthropic', url: 'http://127.0.0.1:1/v1', model: 'c' }, gpt: { kind: 'model', api: 'openai', url: 'http://127.0.0.1:2/v1', model: 'g' } })), []);
  const [http] = problems(cfg({ search: { kind: 'http', api: 'anthropic', url: 'http://127.0.0.1:1/search' } }));
  assert.match(http, /dependencies\.search\.api/);
  assert.match(http, /only for "model" dependencies/);
  assert.match(problems(cfg({ m: { kind: 'model', api: 'gemini', url: 'http://127.0.0.1:1/v1', model: 'c' } }))[0], /dependencies\.m\.api/);
  assert.equal(resolveDependency('g', { kind: 'model', url: 'http://127.0.0.1:1/v1', model: 'm' }).api, 'openai');
  assert.equal(resolveDependency('t', { kind: 'tool' }).api, undefined);
});
