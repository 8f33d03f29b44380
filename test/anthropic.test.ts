/**
 * Mixed model chains, Claude (an `"api": "anthropic"` dependency on the mock's
 * /v1/messages) before an OpenAI-compatible one, over real HTTP on loopback:
 * fallback on 529 after retries and with the breaker, and back to Claude once
 * it recovers; tool calls translated both ways, through each dependency and
 * across a fallback; streamed replies assembled, cuts retried, deltas seen in
 * order; the API key sent as x-api-key and never shown; usage and cost.
 * Only time is simulated (SteppingClock: retry delays are recorded, not slept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { gatewayWith, modelDep, OPEN_MS } from '../runtime/gateway/testkit.ts';
import { anthropicTransport } from '../runtime/gateway/anthropicTransport.ts';
import { chatTransport } from '../runtime/gateway/chatTransport.ts';
import { resolveDependency, type DependencyConfig } from '../runtime/gateway/policyConfig.ts';
import { SecretScrubber } from '../runtime/protocol/redact.ts';
import type { ChatMessage, ChatReply, ChatRequest, ChatTool } from '../runtime/sdk.ts';

const KEY = 'sk-ant-faultline-test-0a1b2c3d4e5f';
const env = { ...process.env, FAULTLINE_CLAUDE_KEY: KEY };
const price = { promptPer1k: 3, completionPer1k: 15 };

async function mixed(claudeOver: Partial<DependencyConfig> = {}) {
  const claude = await startMockModel({ model: 'claude-mock', apiKey: KEY });
  const gpt = await startMockModel({ model: 'gpt-mock' });
  const h = gatewayWith(
    {
      dependencies: {
        claude: modelDep(claude, { api: 'anthropic', model: 'claude-mock', apiKeyEnv: 'FAULTLINE_CLAUDE_KEY', price, ...claudeOver }),
        gpt: modelDep(gpt, { model: 'gpt-mock', price: { promptPer1k: 1, completionPer1k: 2 } }),
      },
      models: { chat: ['claude', 'gpt'] },
      env,
    },
    [claude, gpt],
  );
  return { ...h, claude, gpt };
}

const weather: ChatTool = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'number' } }, required: ['city', 'days'] } } };
const toolAsk = (content = 'Oslo'): ChatRequest => ({ messages: [{ role: 'system', content: 'You forecast.' }, { role: 'user', content }], tools: [weather] });
const say = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'user', content }], ...extra });

/** The next turn after a tool-call reply: the assistant's calls, then each call's result. */
function answered(req: ChatRequest, reply: ChatReply, result: string): ChatRequest {
  const results: ChatMessage[] = (reply.tool_calls ?? []).map((c) => ({ role: 'tool', tool_call_id: c.id, content: result }));
  return { ...req, messages: [...req.messages, { role: 'assistant', content: reply.content || null, tool_calls: reply.tool_calls }, ...results] };
}

test('a mixed chain: Claude answers through the Messages API with x-api-key; usage and cost as for any model', async () => {
  const h = await mixed();
  try {
    const reply = await h.gw.chat('chat', say('hello there'), { agent: 'planner' });
    assert.equal(reply.dependency, 'claude');
    assert.equal(reply.model, 'claude-mock');
    assert.equal(reply.content, 'echo: hello there');
    assert.equal(reply.finish_reason, 'stop');
    assert.ok(reply.usage && reply.usage.prompt_tokens > 0 && reply.usage.completion_tokens > 0, JSON.stringify(reply.usage));
    assert.equal(reply.cost, (reply.usage.prompt_tokens * 3 + reply.usage.completion_tokens * 15) / 1000);
    assert.deepEqual([h.claude.stats().messages, h.claude.stats().authorized, h.gpt.stats().chat], [1, 1, 0]);
    const health = h.gw.health('claude');
    assert.deepEqual(health.tokens, { prompt: reply.usage.prompt_tokens, completion: reply.usage.completion_tokens });
    assert.equal(health.cost?.total, Math.round(reply.cost * 1e6) / 1e6);
  } finally {
    await h.close();
  }
});

test('529 overloaded: retried honouring Retry-After, then the chain falls back; the breaker opens and Claude is skipped; back to Claude once it recovers', async () => {
  const h = await mixed();
  try {
    h.claude.setFault({ mode: 'error', status: 529, retryAfter: 2 });
    const first = await h.gw.chat('chat', say('hi'), { agent: 'a' });
    assert.equal(first.dependency, 'gpt');
    assert.equal(first.content, 'echo: hi');
    assert.equal(h.claude.stats().messages, 3, 'claude had its maxAttempts first');
    const retries = h.calls('retry', 'claude');
    assert.equal(retries.length, 2);
    for (const r of retries) {
      assert.ok(r.delayMs! >= 2000, `Retry-After 2 s honoured (${r.delayMs} ms)`);
      assert.equal(r.error?.status, 529);
      assert.match(r.error!.message, /overloaded_error/);
    }
    assert.equal(h.calls('give-up', 'claude')[0].reason, 'exhausted');
    assert.equal(h.calls('fallback', 'claude')[0].to, 'gpt');

    // Three more failed calls fill the window (4): the breaker opens, and later calls skip Claude.
    for (let i = 0; i < 3; i++) assert.equal((await h.gw.chat('chat', say('hi'))).dependency, 'gpt');
    assert.equal(h.gw.health('claude').breaker, 'open');
    const before = h.claude.stats().messages;
    for (const agent of ['a', 'b']) assert.equal((await h.gw.chat('chat', say('hi'), { agent })).dependency, 'gpt');
    assert.equal(h.claude.stats().messages, before, 'claude is not contacted while open');
    assert.ok(h.calls('rejected', 'claude').length >= 2);

    h.claude.setFault(undefined);
    h.clock.advance(OPEN_MS);
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) answered.push((await h.gw.chat('chat', say('back'))).dependency);
    assert.deepEqual(answered, ['claude', 'claude', 'claude', 'claude']);
    assert.deepEqual(h.breaker('claude'), ['closed->open', 'open->half-open', 'half-open->closed']);
  } finally {
    await h.close();
  }
});

test('rate limits retry, a 401 and a refusal fall back at once (the refusal as a content filter), and none of them opens the breaker early', async () => {
  const h = await mixed({ retry: { maxAttempts: 2, baseDelayMs: 10 } });
  try {
    h.claude.setFault({ mode: 'error', status: 429, count: 1 });
    assert.equal((await h.gw.chat('chat', say('x'))).dependency, 'claude', 'one 429, then success on the retry');
    assert.equal(h.calls('retry', 'claude').length, 1);

    h.claude.setFault({ mode: 'error', status: 401, count: 1 });
    assert.equal((await h.gw.chat('chat', say('x'))).dependency, 'gpt');
    const [auth] = h.calls('give-up', 'claude');
    assert.equal(auth.reason, 'non-retryable');
    assert.match(auth.error!.message, /authentication_error/);

    h.claude.setFault({ mode: 'content-filter', count: 1 });
    const before = h.claude.stats().messages;
    assert.equal((await h.gw.chat('chat', say('x'))).dependency, 'gpt');
    assert.equal(h.claude.stats().messages, before + 1, 'a refusal is not retried');
    const refusal = h.calls('give-up', 'claude').at(-1)!;
    assert.equal(refusal.error?.type, 'ContentFilterError');
    assert.equal(refusal.reason, 'non-retryable');
    assert.equal(h.gw.health('claude').breaker, 'closed');
  } finally {
    await h.close();
  }
});

test('tool calls through each dependency: a request with tools gets tool_calls, the results sent back get the final text', async () => {
  const h = await mixed();
  try {
    for (const dep of ['claude', 'gpt']) {
      const req = toolAsk('Oslo');
      const call = await h.gw.chat(dep, req);
      assert.equal(call.dependency, dep);
      assert.equal(call.content, '');
      assert.equal(call.finish_reason, 'tool_calls');
      assert.equal(call.tool_calls?.length, 1, dep);
      const [c] = call.tool_calls!;
      assert.match(c.id, dep === 'claude' ? /^toolu_mock_/ : /^call_mock_/);
      assert.equal(c.type, 'function');
      assert.equal(c.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(c.function.arguments), { city: 'Oslo', days: 1 });

      const final = await h.gw.chat(dep, answered(req, call, '4 °C and rain'));
      assert.equal(final.content, 'Tool get_weather returned: 4 °C and rain', dep);
      assert.equal(final.tool_calls, undefined);
      assert.equal(final.finish_reason, 'stop');
    }
    // tool_choice names the tool; "none" gets text.
    const named = await h.gw.chat('claude', { ...toolAsk('x'), tools: [{ type: 'function', function: { name: 'now' } }, weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    assert.equal(named.tool_calls?.[0].function.name, 'get_weather');
    const none = await h.gw.chat('claude', { ...toolAsk('Oslo'), tool_choice: 'none' });
    assert.deepEqual([none.content, none.tool_calls], ['echo: Oslo', undefined]);
  } finally {
    await h.close();
  }
});

test('tool calls across a fallback: Claude asks for the tool, Claude goes down, the OpenAI model finishes the turn, and back', async () => {
  const h = await mixed();
  try {
    const req = toolAsk('Bergen');
    const call = await h.gw.chat('chat', req);
    assert.equal(call.dependency, 'claude');
    h.claude.setFault({ mode: 'error', status: 529 });
    const final = await h.gw.chat('chat', answered(req, call, '7 °C'));
    assert.equal(final.dependency, 'gpt');
    assert.equal(final.content, 'Tool get_weather returned: 7 °C');

    // The other way: the OpenAI model's call ids and arguments go to Claude as tool_use / tool_result blocks.
    const gptCall = await h.gw.chat('gpt', req);
    h.claude.setFault(undefined);
    const claudeFinal = await h.gw.chat('chat', answered(req, gptCall, 'sunny'));
    assert.equal(claudeFinal.dependency, 'claude');
    assert.equal(claudeFinal.content, 'Tool get_weather returned: sunny');
  } finally {
    await h.close();
  }
});

test('streamed replies are assembled like whole ones in both dialects, tool calls included; a cut stream is retried', async () => {
  const h = await mixed();
  try {
    for (const dep of ['claude', 'gpt']) {
      const whole = await h.gw.chat(dep, say('one two three four'));
      const streamed = await h.gw.chat(dep, say('one two three four', { stream: true }));
      assert.deepEqual({ ...streamed }, { ...whole }, dep);
      const wholeCall = await h.gw.chat(dep, toolAsk('Oslo'));
      const streamedCall = await h.gw.chat(dep, { ...toolAsk('Oslo'), stream: true });
      assert.equal(streamedCall.finish_reason, 'tool_calls', dep);
      assert.deepEqual(JSON.parse(streamedCall.tool_calls![0].function.arguments), JSON.parse(wholeCall.tool_calls![0].function.arguments));
      assert.equal(streamedCall.tool_calls![0].function.name, 'get_weather');
    }
    assert.ok(h.claude.stats().stream >= 2 && h.gpt.stats().stream >= 2);

    h.claude.setFault({ mode: 'stream-cut', count: 1 });
    const before = h.claude.stats().messages;
    const reply = await h.gw.chat('chat', say('a b c d e f', { stream: true }));
    assert.equal(reply.dependency, 'claude');
    assert.equal(reply.content, 'echo: a b c d e f');
    assert.equal(h.claude.stats().messages, before + 2, 'the cut attempt, then a whole one');
    const [retry] = h.calls('retry', 'claude');
    // A dropped connection mid-body (undici's UND_ERR_SOCKET) or an end before message_stop (stream-cut): a retryable network error.
    assert.equal(retry.error?.type, 'DependencyNetworkError');
    assert.match(retry.error!.message, /UND_ERR_SOCKET|stream-cut/);
  } finally {
    await h.close();
  }
});

/** A Messages server on loopback that records each request's headers and ends its first stream right after message_start. */
async function cuttingServer() {
  const seen: http.IncomingHttpHeaders[] = [];
  const frame = (data: { type: string } & Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const start = frame({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-rec', content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 0 } } });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The first reply ends cleanly, but before message_stop: a cut before the first token.
      if (seen.length === 1) return void res.end(start);
      res.end([
        start,
        frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        ...['Hello', ' from', ' Claude'].map((text) => frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
        frame({ type: 'content_block_stop', index: 0 }),
        frame({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
        frame({ type: 'message_stop' }),
      ].join(''));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise((r) => server.close(r)) };
}

test('a stream cut before its first token is retried; the key goes only in x-api-key and appears in no event, log or status', async () => {
  const rec = await cuttingServer();
  const h = gatewayWith({ dependencies: { claude: { kind: 'model', api: 'anthropic', url: rec.url, model: 'claude-rec', apiKeyEnv: 'FAULTLINE_CLAUDE_KEY', retry: { maxAttempts: 3, baseDelayMs: 10 } } }, env });
  try {
    const reply = await h.gw.chat('claude', say('hi', { stream: true }));
    assert.equal(reply.content, 'Hello from Claude');
    assert.deepEqual(reply.usage, { prompt_tokens: 3, completion_tokens: 3 });
    assert.equal(rec.seen.length, 2);
    const [retry] = h.calls('retry', 'claude');
    assert.equal(retry.error?.type, 'DependencyNetworkError');
    assert.match(retry.error!.message, /stream-cut: the reply stream ended before message_stop/);
    for (const headers of rec.seen) {
      assert.equal(headers['x-api-key'], KEY);
      assert.equal(headers['anthropic-version'], '2023-06-01');
      assert.equal(headers.authorization, undefined);
      assert.equal(headers.accept, 'text/event-stream');
    }
    const everything = JSON.stringify({ events: h.events, logs: h.logs, status: h.gw.status(), health: h.gw.health('claude') });
    assert.ok(h.events.length >= 4 && h.logs.length >= 3, 'there was something to leak into');
    assert.ok(!everything.includes(KEY) && !everything.includes('0a1b2c3d4e5f'), 'the key leaked');
  } finally {
    h.gw.dispose();
    await rec.close();
  }
});

test('onDelta sees each text delta in order as it arrives, in both dialects, and no tool-call deltas', async () => {
  const servers: MockModelHandle[] = [await startMockModel({ model: 'claude-mock' }), await startMockModel({ model: 'gpt-mock' })];
  const d = { fetch: globalThis.fetch, env: {}, scrubber: new SecretScrubber([]) };
  try {
    const transports = [
      anthropicTransport(resolveDependency('claude', { kind: 'model', api: 'anthropic', url: servers[0].url, model: 'claude-mock' }), d),
      chatTransport(resolveDependency('gpt', { kind: 'model', url: servers[1].url, model: 'gpt-mock' }), d),
    ];
    for (const transport of transports) {
      const deltas: string[] = [];
      const ctx = { signal: new AbortController().signal, onDelta: (t: string) => deltas.push(t) };
      const reply = (await transport(say('the quick brown fox', { stream: true }), ctx)) as ChatReply;
      assert.deepEqual(deltas, ['echo: ', 'the ', 'quick ', 'brown ', 'fox']);
      assert.equal(reply.content, deltas.join(''));
      deltas.length = 0;
      const call = (await transport({ ...toolAsk('Oslo'), stream: true }, ctx)) as ChatReply;
      assert.equal(call.tool_calls?.length, 1);
      assert.deepEqual(deltas, [], 'tool-call deltas are not text');
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});
