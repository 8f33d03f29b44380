/**
 * `faultline/ai-sdk` inside a running runtime: an agent module imports
 * `generateText` / `streamText` from the real `ai` package and `faultline`
 * by the package name; its calls reach real mock model servers on loopback
 * through the chain's gateway. Tool execution over several steps, fallback on
 * 503s, gateway errors passed through by name, aborts, streamed deltas.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { agentsOf } from '../runtime/protocol/status.ts';
import { repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import type { ChatRequest } from '../runtime/sdk.ts';

const AGENT = `
import { generateText, streamText, tool, jsonSchema, stepCountIs } from 'ai';
import { faultline } from 'faultline/ai-sdk';

const weatherTool = (executed) => tool({
  description: 'Weather in a city',
  inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' }, days: { type: 'number' } }, required: ['city', 'days'] }),
  execute: async (input) => { executed.push(input); return { forecast: 'sunny', days: input.days }; },
});

export default {
  init: () => ({}),
  async onMessage(msg, ctx) {
    const model = faultline(ctx)(msg.chain ?? 'chat');
    try {
      if (msg.op === 'generate') {
        const executed = [];
        const r = await generateText({
          model, system: 'You forecast.', prompt: msg.prompt, maxOutputTokens: 64, temperature: 0,
          tools: msg.tools === false ? undefined : { get_weather: weatherTool(executed) },
          stopWhen: stepCountIs(3),
          abortSignal: msg.abortMs ? AbortSignal.timeout(msg.abortMs) : undefined,
        });
        return {
          text: r.text, executed, finishReason: r.finishReason, modelId: r.response.modelId,
          steps: r.steps.map((s) => ({ finishReason: s.finishReason, modelId: s.response.modelId, dependency: s.providerMetadata?.faultline?.dependency, toolCalls: s.toolCalls.map((c) => ({ name: c.toolName, input: c.input })) })),
          usage: { input: r.totalUsage.inputTokens, output: r.totalUsage.outputTokens },
        };
      }
      if (msg.op === 'stream') {
        const executed = [];
        const r = streamText({
          model, prompt: msg.prompt,
          tools: msg.tools ? { get_weather: weatherTool(executed) } : undefined,
          stopWhen: stepCountIs(3),
          onError: () => {},
        });
        const deltas = [];
        for await (const d of r.textStream) deltas.push(d);
        return { deltas, text: await r.text, executed, modelId: (await r.response).modelId, finishReason: await r.finishReason, usage: (await r.totalUsage).outputTokens, steps: (await r.steps).length, dependency: (await r.providerMetadata)?.faultline?.dependency };
      }
    } catch (e) {
      return { error: { name: e.name, message: e.message } };
    }
  },
};
`;

describe('the AI SDK provider in an agent', () => {
  let rt: Running;
  let primary: MockModelHandle;
  let backup: MockModelHandle;

  before(async () => {
    primary = await startMockModel({ model: 'big', name: 'primary' });
    backup = await startMockModel({ model: 'small', name: 'backup' });
    const dir = workspace({
      name: 'ai-sdk',
      dependencies: {
        primary: { kind: 'model', url: primary.url, model: 'big', retry: { maxAttempts: 2, baseDelayMs: 10 }, breaker: { window: 50, failureRatio: 0.9 } },
        backup: { kind: 'model', url: backup.url, model: 'small', retry: { maxAttempts: 2, baseDelayMs: 10 } },
      },
      models: { chat: ['primary', 'backup'], solo: ['backup'] },
      supervisor: { id: 'root', children: [{ agent: { id: 'writer', module: 'agents/ai.mjs' } }] },
    });
    writeFileSync(path.join(dir, 'agents', 'ai.mjs'), AGENT);
    // As in a project that installed faultline and ai.
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(path.join(repoRoot, 'node_modules', 'ai'), path.join(dir, 'node_modules', 'ai'), 'dir');
    symlinkSync(repoRoot, path.join(dir, 'node_modules', 'faultline'), 'dir');
    rt = await up(dir);
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
  });
  after(async () => {
    await rt?.stop();
    await Promise.all([primary?.close(), backup?.close()]);
  });

  const ask = (message: Record<string, unknown>) => rt.client.call('ask', { agent: 'writer', message, timeoutMs: 20_000 }) as Promise<any>;

  test('generateText: the model calls a tool, its execute runs in the agent, the next step gives the final text', async () => {
    primary.resetStats();
    const r = await ask({ op: 'generate', prompt: 'Oslo' });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(r.executed, [{ city: 'Oslo', days: 1 }]);
    assert.equal(r.steps.length, 2);
    assert.deepEqual(r.steps[0].toolCalls, [{ name: 'get_weather', input: { city: 'Oslo', days: 1 } }]);
    assert.equal(r.steps[0].finishReason, 'tool-calls');
    assert.equal(r.text, 'Tool get_weather returned: {"forecast":"sunny","days":1}');
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.modelId, 'big');
    assert.deepEqual(r.steps.map((s: any) => s.dependency), ['primary', 'primary']);
    assert.ok(r.usage.input > 0 && r.usage.output > 0, JSON.stringify(r.usage));
    assert.equal(primary.stats().chat, 2);
    assert.equal(primary.stats().toolCalls, 1);
  });

  test('generateText through a fallback: the first member fails with 503s, the second answers both steps', async () => {
    primary.resetStats();
    backup.resetStats();
    primary.setFault({ mode: 'error', status: 503, count: 4 });
    const r = await ask({ op: 'generate', prompt: 'Bergen' });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(r.executed, [{ city: 'Bergen', days: 1 }]);
    assert.equal(r.text, 'Tool get_weather returned: {"forecast":"sunny","days":1}');
    assert.equal(r.modelId, 'small');
    assert.deepEqual(r.steps.map((s: any) => [s.dependency, s.modelId]), [['backup', 'small'], ['backup', 'small']]);
    assert.equal(primary.stats().chat, 4, 'each step tried the primary maxAttempts times');
    assert.equal(backup.stats().chat, 2);
    primary.setFault(undefined);
  });

  test('a chain that fails throughout rejects generateText with the gateway error, name and message kept', async () => {
    backup.setFault({ mode: 'error', status: 503, count: 2 });
    const r = await ask({ op: 'generate', chain: 'solo', prompt: 'Tromsø', tools: false });
    backup.setFault(undefined);
    assert.ok(r.error, JSON.stringify(r));
    assert.equal(r.error.name, 'RetriesExhaustedError');
    assert.match(r.error.message, /Dependency "backup" failed 2 attempts; last: DependencyHttpError: .*HTTP 503/);
  });

  test('an abort signal ends the call', async () => {
    backup.setFault({ mode: 'latency', ms: 3000, count: 1 });
    const started = Date.now();
    const r = await ask({ op: 'generate', chain: 'solo', prompt: 'slow', tools: false, abortMs: 200 });
    backup.setFault(undefined);
    assert.ok(r.error, JSON.stringify(r));
    assert.match(r.error.name, /Abort|Timeout/);
    assert.ok(Date.now() - started < 2500, 'did not wait for the reply');
  });

  test('streamText: text deltas in order, then the finish with usage and the answering model', async () => {
    const r = await ask({ op: 'stream', prompt: 'tell me a short story' });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.ok(r.deltas.length > 1, `deltas: ${JSON.stringify(r.deltas)}`);
    assert.equal(r.deltas.join(''), 'echo: tell me a short story');
    assert.equal(r.text, 'echo: tell me a short story');
    assert.equal(r.modelId, 'big');
    assert.equal(r.dependency, 'primary');
    assert.equal(r.finishReason, 'stop');
    assert.ok(r.usage > 0);
  });

  test('streamText with a tool: the final tool_calls become tool calls, the tool runs, the next step streams the text', async () => {
    const r = await ask({ op: 'stream', prompt: 'Oslo', tools: true });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(r.executed, [{ city: 'Oslo', days: 1 }]);
    assert.equal(r.steps, 2);
    assert.equal(r.text, 'Tool get_weather returned: {"forecast":"sunny","days":1}');
  });
});

test('the call options and the prompt map onto the chat request', async () => {
  const { generateText, tool, jsonSchema } = await import('ai');
  const { faultline } = await import('../runtime/aiSdk.ts');
  const seen: ChatRequest[] = [];
  const ctx = {
    model: () => ({
      chat: async (req: ChatRequest) => {
        seen.push(req);
        return { content: 'done', model: 'm', dependency: 'd', finish_reason: 'tool_calls' as const, usage: { prompt_tokens: 3, completion_tokens: 4 }, tool_calls: [{ id: 'c2', type: 'function' as const, function: { name: 'lookup', arguments: '{"q":2}' } }] };
      },
      stream: () => { throw new Error('not streamed'); },
    }),
  };
  const r = await generateText({
    model: faultline(ctx)('chat'),
    system: 'sys',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { q: 1 } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'lookup', output: { type: 'json', value: { hit: true } } }] },
    ],
    tools: { lookup: tool({ description: 'Look up', inputSchema: jsonSchema({ type: 'object', properties: { q: { type: 'number' } } }) }) },
    toolChoice: { type: 'tool', toolName: 'lookup' },
    maxOutputTokens: 10,
    temperature: 0.5,
    stopSequences: ['END'],
  });
  assert.equal(r.text, 'done');
  assert.equal(r.finishReason, 'tool-calls');
  assert.deepEqual(r.toolCalls.map((c) => [c.toolCallId, c.toolName, c.input]), [['c2', 'lookup', { q: 2 }]]);
  assert.equal(r.response.modelId, 'm');
  assert.deepEqual([r.usage.inputTokens, r.usage.outputTokens], [3, 4]);
  const [req] = seen;
  assert.deepEqual(req.messages, [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'ab' },
    { role: 'assistant', content: 'calling', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: '{"hit":true}' },
  ]);
  assert.deepEqual(req.tool_choice, { type: 'function', function: { name: 'lookup' } });
  assert.equal(req.tools?.[0].function.name, 'lookup');
  assert.equal(req.tools?.[0].function.description, 'Look up');
  assert.equal((req.tools?.[0].function.parameters as { type: string }).type, 'object');
  assert.deepEqual([req.max_tokens, req.temperature, req.stop], [10, 0.5, ['END']]);
});
