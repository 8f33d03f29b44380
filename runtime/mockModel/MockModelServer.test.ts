import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockModel } from './MockModelServer.ts';
import { runMockModel } from './cli.ts';

const server = await startMockModel({ model: 'tiny' });
after(() => server.close());

const chat = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const control = (method: string, path: string, body?: unknown) =>
  fetch(`${server.origin}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

/** Response.json() is typed unknown; these tests read known shapes. */
const json = (r: Response): Promise<any> => r.json();

async function readSse(res: Response): Promise<{ events: unknown[]; done: boolean }> {
  const text = await res.text();
  const events: unknown[] = [];
  let done = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const d = line.slice(6);
    if (d === '[DONE]') done = true;
    else events.push(JSON.parse(d));
  }
  return { events, done };
}

test('listens on 127.0.0.1 only and echoes the last user message with usage', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const res = await chat({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }] });
  assert.equal(res.status, 200);
  const j = await json(res);
  assert.equal(j.model, 'tiny');
  assert.equal(j.choices[0].message.content, 'echo: hello there');
  assert.equal(j.choices[0].finish_reason, 'stop');
  assert.deepEqual(j.usage, { prompt_tokens: 2 + 3, completion_tokens: 5, total_tokens: 10 });
});

test('streams the same reply as SSE chunks ending in [DONE], with usage when asked', async () => {
  const res = await chat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'one two three' }] });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const { events, done } = await readSse(res);
  assert.ok(done);
  const text = (events as { choices: { delta?: { content?: string } }[] }[]).map((e) => e.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'echo: one two three');
  assert.equal((events.at(-1) as { usage: { completion_tokens: number } }).usage.completion_tokens, 5);
});

test('scripted replies come first, in order, and rules match the last user message', async () => {
  await control('POST', '/_script', { replies: ['first', { contains: 'weather', reply: 'sunny' }, 'second'] });
  const say = async (content: string) => (await json(await chat({ messages: [{ role: 'user', content }] }))).choices[0].message.content;
  assert.equal(await say('a'), 'first');
  assert.equal(await say('the weather?'), 'sunny');
  assert.equal(await say('b'), 'second');
  assert.equal(await say('c'), 'echo: c');
  await control('DELETE', '/_script');
});

test('GET /v1/models lists the model; the search tool answers deterministically', async () => {
  const models = await json(await fetch(`${server.url}/models`));
  assert.equal(models.data[0].id, 'tiny');
  const s = await json(await fetch(`${server.url}/search`, { method: 'POST', body: JSON.stringify({ query: 'otp' }) }));
  assert.equal(s.results.length, 3);
  assert.equal(s.results[0].title, 'Result 1 for otp');
});

test('an error fault with count answers that status with Retry-After, then clears; stats count it', async () => {
  server.resetStats();
  const r = await control('POST', '/_faults', { mode: 'error', status: 429, retryAfter: 2, count: 2 });
  assert.equal(r.status, 200);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await chat({ messages: [{ role: 'user', content: 'x' }] });
    statuses.push(res.status);
    if (res.status === 429) assert.equal(res.headers.get('retry-after'), '2');
    await res.arrayBuffer();
  }
  assert.deepEqual(statuses, [429, 429, 200]);
  const stats = await json(await control('GET', '/_stats'));
  assert.equal(stats.chat, 3);
  assert.equal(stats.faultsServed, 2);
  assert.equal(stats.byStatus['429'], 2);
});

test('a bad fault is refused with the reason', async () => {
  const r = await control('POST', '/_faults', { mode: 'explode' });
  assert.equal(r.status, 400);
  assert.match((await json(r)).error.message, /mode must be one of/);
});

test('content-filter, malformed and stream-cut faults look like the real failures', async () => {
  server.setFault({ mode: 'content-filter', count: 1 });
  const cf = await json(await chat({ messages: [{ role: 'user', content: 'x' }] }));
  assert.equal(cf.choices[0].finish_reason, 'content_filter');

  server.setFault({ mode: 'content-filter', style: 'error', count: 1 });
  const cf400 = await chat({ messages: [{ role: 'user', content: 'x' }] });
  assert.equal(cf400.status, 400);
  assert.equal((await json(cf400)).error.code, 'content_filter');

  server.setFault({ mode: 'malformed', count: 1 });
  const bad = await chat({ messages: [{ role: 'user', content: 'x' }] });
  await assert.rejects(bad.json(), SyntaxError);

  server.setFault({ mode: 'stream-cut', count: 1 });
  const cut = await chat({ stream: true, messages: [{ role: 'user', content: 'a b c d e f' }] });
  await assert.rejects(cut.text());
});

test('hang never answers until the client gives up', async () => {
  server.setFault({ mode: 'hang', count: 1 });
  await assert.rejects(fetch(`${server.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [] }), signal: AbortSignal.timeout(100) }), /abort|timeout/i);
});

test('a required API key: 401 without it, 200 with it', async () => {
  const keyed = await startMockModel({ apiKey: 'sk-test-123456' });
  try {
    const no = await fetch(`${keyed.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    assert.equal(no.status, 401);
    const yes = await fetch(`${keyed.url}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-test-123456' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(yes.status, 200);
    assert.equal(keyed.stats().authorized, 1);
  } finally {
    await keyed.close();
  }
});

test('runMockModel prints its address, serves until told to stop, and rejects bad usage with 2', async () => {
  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  const done = runMockModel(['--port', '0', '--model', 'cli-model', '--json'], { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), until });
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 10));
  const { url } = JSON.parse(lines[0]);
  const models = await json(await fetch(`${url}/models`));
  assert.equal(models.data[0].id, 'cli-model');
  stop();
  assert.equal(await done, 0);
  assert.equal(await runMockModel(['--port', 'x'], { stdout: () => undefined, stderr: () => undefined }), 2);
  assert.equal(await runMockModel(['--bogus'], { stdout: () => undefined, stderr: () => undefined }), 2);
});

const messages = (body: unknown, headers: Record<string, string> = { 'anthropic-version': '2023-06-01' }) =>
  fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** Anthropic SSE: each frame's `event:` name and parsed `data:`. */
async function readEvents(res: Response): Promise<{ event: string; data: any }[]> {
  const frames = (await res.text()).split('\n\n').filter((f) => f.trim());
  return frames.map((f) => {
    const [ev, data] = f.split('\n');
    assert.ok(ev.startsWith('event: ') && data.startsWith('data: '), `a named event frame: ${f}`);
    return { event: ev.slice(7), data: JSON.parse(data.slice(6)) };
  });
}

const weather = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, ratio: { type: 'number' }, metric: { type: ['boolean', 'null'] }, tags: { type: 'array' }, opts: { type: 'object' }, note: { type: 'string' } }, required: ['city', 'days', 'ratio', 'metric', 'tags', 'opts'] };
const weatherArgs = { city: 'weather in Oslo', days: 1, ratio: 1, metric: true, tags: [], opts: {} };

test('/v1/messages refuses a missing anthropic-version or max_tokens with an invalid_request_error', async () => {
  const noVersion = await messages({ max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, {});
  assert.equal(noVersion.status, 400);
  assert.match(noVersion.headers.get('request-id') ?? '', /^req_mock_\d+$/);
  const nv = await json(noVersion);
  assert.equal(nv.type, 'error');
  assert.equal(nv.error.type, 'invalid_request_error');
  assert.match(nv.error.message, /anthropic-version/);

  const noMax = await messages({ messages: [{ role: 'user', content: 'x' }] });
  assert.equal(noMax.status, 400);
  assert.match((await json(noMax)).error.message, /max_tokens/);
  assert.equal((await messages({ max_tokens: 0, messages: [] })).status, 400);
  assert.equal((await messages({ max_tokens: 5 })).status, 400, 'messages is required');
  assert.equal((await messages({ max_tokens: 5, messages: [{ role: 'system', content: 'x' }] })).status, 400);
});

test('/v1/messages: a whole reply with the OpenAI path\'s text and token counts', async () => {
  const conv = [{ role: 'user', content: 'hello there' }];
  const o = await json(await chat({ messages: [{ role: 'system', content: 'be brief' }, ...conv] }));
  const res = await messages({ model: 'x', max_tokens: 100, system: [{ type: 'text', text: 'be brief' }], messages: conv });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('request-id') ?? '', /^req_mock_\d+$/);
  const a = await json(res);
  assert.equal(a.content[0].text, o.choices[0].message.content);
  assert.deepEqual(a.usage, { input_tokens: o.usage.prompt_tokens, output_tokens: o.usage.completion_tokens });
  assert.equal(a.model, 'tiny');
});

test('tool calls: arguments from the schema, the same in both dialects and on every call', async () => {
  const content = 'weather in Oslo';
  const oTools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }, { type: 'function', function: { name: 'weather', parameters: weather } }];
  const aTools = oTools.map((t) => ({ name: t.function.name, input_schema: t.function.parameters }));
  for (let i = 0; i < 2; i++) {
    const o = await json(await chat({ messages: [{ role: 'user', content }], tools: oTools }));
    assert.equal(o.choices[0].finish_reason, 'tool_calls');
    assert.equal(o.choices[0].message.tool_calls[0].function.name, 'weather');
    assert.deepEqual(JSON.parse(o.choices[0].message.tool_calls[0].function.arguments), weatherArgs);
    const a = await json(await messages({ max_tokens: 100, messages: [{ role: 'user', content }], tools: aTools }));
    assert.equal(a.stop_reason, 'tool_use');
    assert.equal(a.content[0].type, 'tool_use');
    assert.deepEqual(a.content[0].input, weatherArgs);
  }
  // Without `required`, every property; with no tool named, the first.
  const first = await json(await chat({ messages: [{ role: 'user', content: 'hm' }], tools: oTools }));
  assert.deepEqual(JSON.parse(first.choices[0].message.tool_calls[0].function.arguments), { q: 'hm' });
  const none = await json(await chat({ messages: [{ role: 'user', content }], tools: oTools, tool_choice: 'none' }));
  assert.equal(none.choices[0].message.content, 'echo: weather in Oslo');
  const aNone = await json(await messages({ max_tokens: 100, messages: [{ role: 'user', content }], tools: aTools, tool_choice: { type: 'none' } }));
  assert.equal(aNone.content[0].text, 'echo: weather in Oslo');
  const unknown = await chat({ messages: [{ role: 'user', content }], tools: oTools, tool_choice: { type: 'function', function: { name: 'nope' } } });
  assert.equal(unknown.status, 400);
  await unknown.arrayBuffer();
});

test('a tool result gets "Tool <name> returned", cut to 200 characters; a script still wins', async () => {
  const long = 'r'.repeat(250);
  const history = [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: long },
  ];
  const o = await json(await chat({ messages: history }));
  assert.equal(o.choices[0].message.content, `Tool lookup returned: ${'r'.repeat(200)}`);
  assert.equal(o.choices[0].finish_reason, 'stop');
  const orphan = await json(await chat({ messages: [{ role: 'tool', tool_call_id: 'call_9', content: 'ok' }] }));
  assert.equal(orphan.choices[0].message.content, 'Tool tool returned: ok');

  const a = await json(await messages({ max_tokens: 100, messages: [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found it' }] },
  ] }));
  assert.deepEqual(a.content, [{ type: 'text', text: 'Tool lookup returned: found it' }]);
  assert.equal(a.stop_reason, 'end_turn');

  await control('POST', '/_script', { replies: ['scripted'] });
  const s = await json(await chat({ messages: history }));
  assert.equal(s.choices[0].message.content, 'scripted');
  await control('DELETE', '/_script');
});

test('/v1/messages streams named events: text deltas, or input_json_delta pieces for a tool call', async () => {
  const text = await readEvents(await messages({ max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'one two' }] }));
  assert.deepEqual(text.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  assert.ok(text.every((e) => e.data.type === e.event));
  assert.deepEqual(text[0].data.message.content, []);
  assert.equal(text[0].data.message.usage.input_tokens, 2);
  assert.equal(text.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join(''), 'echo: one two');
  assert.deepEqual(text[7].data, { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } });

  const tool = await readEvents(await messages({ max_tokens: 100, stream: true, tools: [{ name: 'weather', input_schema: weather }], messages: [{ role: 'user', content: 'weather in Oslo' }] }));
  assert.equal(tool[1].data.content_block.type, 'tool_use');
  assert.equal(tool[1].data.content_block.name, 'weather');
  const pieces = tool.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta);
  assert.ok(pieces.length > 1 && pieces.every((d) => d.type === 'input_json_delta'));
  assert.deepEqual(JSON.parse(pieces.map((d) => d.partial_json).join('')), weatherArgs);
  assert.equal(tool.at(-2)?.data.delta.stop_reason, 'tool_use');
});

test('faults on /v1/messages answer in the Anthropic shape', async () => {
  const r = await control('POST', '/_faults', { mode: 'error', status: 529, retryAfter: 1, count: 1 });
  assert.equal(r.status, 200);
  const over = await messages({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(over.status, 529);
  assert.equal(over.headers.get('retry-after'), '1');
  assert.match(over.headers.get('request-id') ?? '', /^req_mock_/);
  assert.deepEqual(await json(over), { type: 'error', error: { type: 'overloaded_error', message: 'Mock fault: HTTP 529' } });
  for (const [status, type] of [[500, 'api_error'], [503, 'api_error'], [429, 'rate_limit_error'], [403, 'permission_error'], [404, 'invalid_request_error'], [422, 'invalid_request_error']] as const) {
    server.setFault({ mode: 'error', status, count: 1 });
    assert.equal((await json(await messages({ max_tokens: 5, messages: [] }))).error.type, type, `status ${status}`);
  }

  server.setFault({ mode: 'stream-cut', count: 1 });
  const cut = await messages({ max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'a b c d e f' }] });
  let seen = '';
  await assert.rejects(async () => {
    for await (const c of cut.body as unknown as AsyncIterable<Uint8Array>) seen += Buffer.from(c).toString();
  });
  assert.match(seen, /content_block_delta/);
  assert.doesNotMatch(seen, /message_stop/);

  server.setFault({ mode: 'malformed', count: 1 });
  await assert.rejects((await messages({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).json(), SyntaxError);

  server.setFault({ mode: 'content-filter', count: 1 });
  const refused = await json(await messages({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }));
  assert.equal(refused.stop_reason, 'refusal');
  assert.deepEqual(refused.content, []);
});

test('/v1/embeddings: deterministic unit vectors, float or little-endian float32 base64', async () => {
  const embed = async (body: unknown) => json(await fetch(`${server.url}/embeddings`, { method: 'POST', body: JSON.stringify(body) }));
  const f = await embed({ input: 'alpha', model: 'e' });
  assert.equal(f.object, 'list');
  assert.equal(f.model, 'tiny');
  const v: number[] = f.data[0].embedding;
  assert.equal(v.length, 16);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
  assert.deepEqual((await embed({ input: 'alpha' })).data[0].embedding, v);

  const b = await embed({ input: ['alpha', [1, 2, 3]], encoding_format: 'base64', dimensions: 8 });
  assert.equal(typeof b.data[0].embedding, 'string');
  const buf = Buffer.from(b.data[0].embedding, 'base64');
  assert.equal(buf.length, 8 * 4);
  const decoded = Array.from({ length: 8 }, (_, i) => buf.readFloatLE(i * 4));
  assert.deepEqual(decoded, (await embed({ input: 'alpha', dimensions: 8 })).data[0].embedding);
  assert.deepEqual((await embed({ input: [[1, 2, 3]], dimensions: 8, encoding_format: 'base64' })).data[0].embedding, b.data[1].embedding, 'a token array reads as its numbers');

  for (const bad of [{}, { input: [] }, { input: 'x', dimensions: 4097 }, { input: 'x', encoding_format: 'hex' }]) {
    const r = await fetch(`${server.url}/embeddings`, { method: 'POST', body: JSON.stringify(bad) });
    assert.equal(r.status, 400, JSON.stringify(bad));
    await r.arrayBuffer();
  }
  server.setFault({ mode: 'error', status: 503, count: 1, path: '/embeddings' });
  const failed = await fetch(`${server.url}/embeddings`, { method: 'POST', body: JSON.stringify({ input: 'x' }) });
  assert.equal(failed.status, 503);
  await failed.arrayBuffer();
});

test('stats count messages, embeddings and tool calls beside chat', async () => {
  server.resetStats();
  await (await chat({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 't' } }] })).arrayBuffer();
  await (await messages({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't', input_schema: { type: 'object' } }] })).arrayBuffer();
  await (await messages({ max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] })).arrayBuffer();
  await (await fetch(`${server.url}/embeddings`, { method: 'POST', body: JSON.stringify({ input: 'x' }) })).arrayBuffer();
  const s = server.stats();
  assert.deepEqual({ chat: s.chat, messages: s.messages, embeddings: s.embeddings, toolCalls: s.toolCalls, stream: s.stream, requests: s.requests }, { chat: 1, messages: 2, embeddings: 1, toolCalls: 2, stream: 1, requests: 4 });
});
