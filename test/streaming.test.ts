/**
 * Streaming through a running runtime, against real mock model servers on
 * loopback: `ctx.model(chain).stream()` in a process agent and in a thread
 * agent (chunks arrive while the model is still sending), a failure before
 * the first token retried or handed to the next model, a cut after it failed
 * with the partial text and no fallback, an Anthropic dependency streamed,
 * the time-to-first-token metric in /metrics, and an agent streaming its
 * own reply to `faultline ask --stream`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startMockModel, type MockModelHandle } from '../runtime/mockModel/MockModelServer.ts';
import { spawn } from 'node:child_process';
import { cliPath, up, workspace, type Running } from './helpers/runtime.ts';
import { agentsOf } from '../runtime/protocol/status.ts';

const CHUNK_DELAY_MS = 25;

const STREAMER = `
export default {
  async onMessage(msg, ctx) {
    if (msg.reply) {
      for (const w of msg.reply) {
        ctx.streamReply(w);
        await new Promise((r) => setTimeout(r, 150));
      }
      return { whole: msg.reply.join('') };
    }
    const t0 = Date.now();
    const chunks = [];
    try {
      for await (const c of ctx.model(msg.chain).stream({ messages: [{ role: 'user', content: msg.text }] })) chunks.push({ ...c, at: Date.now() - t0 });
      return { chunks };
    } catch (e) {
      return { chunks, error: { name: e.name, message: e.message, partial: e.partial } };
    }
  },
};
`;

const TEXT = 'one two three four five six seven eight';

describe('streaming', () => {
  let rt: Running;
  let primary: MockModelHandle;
  let backup: MockModelHandle;
  let claude: MockModelHandle;
  before(async () => {
    primary = await startMockModel({ model: 'big', chunkDelayMs: CHUNK_DELAY_MS });
    backup = await startMockModel({ model: 'small', chunkDelayMs: CHUNK_DELAY_MS });
    claude = await startMockModel({ model: 'claude-mock', chunkDelayMs: CHUNK_DELAY_MS });
    const retry = { maxAttempts: 2, baseDelayMs: 5 };
    const dir = workspace({
      name: 'streaming',
      dependencies: {
        primary: { kind: 'model', url: primary.url, model: 'big', retry },
        backup: { kind: 'model', url: backup.url, model: 'small', retry },
        claude: { kind: 'model', api: 'anthropic', url: claude.url, model: 'claude-mock', retry },
      },
      models: { chat: ['primary', 'backup'], claude: ['claude'], mixed: ['claude', 'backup'] },
      supervisor: {
        id: 'root',
        children: [
          { agent: { id: 'proc', module: 'agents/streamer.mjs' } },
          { agent: { id: 'thr', module: 'agents/streamer.mjs', isolation: 'thread' } },
        ],
      },
    });
    writeFileSync(path.join(dir, 'agents', 'streamer.mjs'), STREAMER);
    rt = await up(dir);
    await rt.until((s) => agentsOf(s.tree).every((a) => a.state === 'running'), 'running');
  });
  after(async () => {
    await rt?.stop();
    await Promise.all([primary?.close(), backup?.close(), claude?.close()]);
  });

  const ask = (agent: string, chain = 'chat', text = TEXT) => rt.client.call('ask', { agent, message: { chain, text }, timeoutMs: 20_000 }) as Promise<any>;

  for (const agent of ['proc', 'thr']) {
    test(`a ${agent === 'proc' ? 'process' : 'thread'} agent sees the chunks as they come, then done with usage`, async () => {
      primary.setFault(undefined);
      const { chunks, error } = await ask(agent);
      assert.equal(error, undefined);
      const deltas = chunks.filter((c: any) => !c.done);
      const done = chunks.at(-1);
      assert.ok(deltas.length >= 4, `several chunks: ${JSON.stringify(chunks)}`);
      assert.equal(deltas.map((c: any) => c.delta).join(''), `echo: ${TEXT}`);
      assert.ok(deltas.every((c: any) => c.model === 'big'));
      assert.equal(done.done, true);
      assert.equal(done.dependency, 'primary');
      assert.ok(done.usage.prompt_tokens > 0 && done.usage.completion_tokens > 0, JSON.stringify(done));
      // The model sends a delta every CHUNK_DELAY_MS: the first reached the agent well before the last was sent.
      assert.ok(deltas.at(-1).at - deltas[0].at >= CHUNK_DELAY_MS * 4, `first at ${deltas[0].at} ms, last at ${deltas.at(-1).at} ms`);
    });
  }

  test('a failure before the first token is retried and the stream succeeds', async () => {
    primary.resetStats();
    primary.setFault({ mode: 'error', status: 503, count: 1 });
    const { chunks, error } = await ask('proc');
    assert.equal(error, undefined);
    assert.equal(chunks.at(-1).dependency, 'primary');
    assert.equal(chunks.filter((c: any) => !c.done).map((c: any) => c.delta).join(''), `echo: ${TEXT}`);
    assert.equal(primary.stats().chat, 2);
  });

  test('a failure before the first token falls back to the next model of the chain', async () => {
    primary.setFault({ mode: 'error', status: 503 });
    try {
      const { chunks, error } = await ask('thr');
      assert.equal(error, undefined);
      assert.equal(chunks.at(-1).dependency, 'backup');
      assert.ok(chunks.filter((c: any) => !c.done).every((c: any) => c.model === 'small'));
      assert.equal(chunks.filter((c: any) => !c.done).map((c: any) => c.delta).join(''), `echo: ${TEXT}`);
    } finally {
      primary.setFault(undefined);
    }
  });

  test('a cut after the first token fails with the partial text, not retried and no fallback', async () => {
    primary.resetStats();
    backup.resetStats();
    primary.setFault({ mode: 'stream-cut', count: 1 });
    const { chunks, error } = await ask('proc');
    assert.equal(error?.name, 'StreamInterruptedError', JSON.stringify(error));
    const got = chunks.map((c: any) => c.delta).join('');
    assert.ok(got.length > 0 && `echo: ${TEXT}`.startsWith(got) && got.length < `echo: ${TEXT}`.length, got);
    assert.equal(error.partial, got);
    assert.match(error.message, /not retried/);
    assert.equal(primary.stats().chat, 1, 'not retried');
    assert.equal(backup.stats().chat, 0, 'no fallback');
  });

  test('an Anthropic dependency streams through the Messages API', async () => {
    const { chunks, error } = await ask('thr', 'claude', 'hello from the thread');
    assert.equal(error, undefined);
    const deltas = chunks.filter((c: any) => !c.done);
    assert.ok(deltas.length >= 3, JSON.stringify(chunks));
    assert.equal(deltas.map((c: any) => c.delta).join(''), 'echo: hello from the thread');
    assert.deepEqual([chunks.at(-1).done, chunks.at(-1).dependency, chunks.at(-1).model], [true, 'claude', 'claude-mock']);
    assert.ok(claude.stats().messages >= 1 && claude.stats().stream >= 1);
  });

  test('a mixed chain Claude → OpenAI-compatible: a cut before the first token falls back, one after it fails with the partial text', async () => {
    claude.resetStats();
    backup.resetStats();
    // Cut before any text, on every attempt: Claude's retries run out and the OpenAI-compatible backup streams the reply.
    claude.setFault({ mode: 'stream-cut', afterDeltas: 0 });
    try {
      const { chunks, error } = await ask('proc', 'mixed', 'across dialects');
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(chunks.at(-1).dependency, 'backup');
      assert.ok(chunks.filter((c: any) => !c.done).every((c: any) => c.model === 'small'));
      assert.equal(chunks.filter((c: any) => !c.done).map((c: any) => c.delta).join(''), 'echo: across dialects');
      assert.equal(claude.stats().messages, 2, 'both of Claude\'s attempts were made');
      assert.equal(backup.stats().chat, 1);
    } finally {
      claude.setFault(undefined);
    }
    // A 529 before the first token: the same fallback.
    claude.setFault({ mode: 'error', status: 529 });
    try {
      const { chunks, error } = await ask('thr', 'mixed', 'overloaded');
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(chunks.at(-1).dependency, 'backup');
    } finally {
      claude.setFault(undefined);
    }
    // Back on Claude once it answers; then a cut after its first token is the caller's, with what Claude had sent.
    const back = await ask('proc', 'mixed', 'back on claude');
    assert.equal(back.chunks.at(-1).dependency, 'claude');
    assert.equal(back.chunks.filter((c: any) => !c.done).map((c: any) => c.delta).join(''), 'echo: back on claude');
    backup.resetStats();
    claude.setFault({ mode: 'stream-cut', afterDeltas: 2, count: 1 });
    const { chunks, error } = await ask('proc', 'mixed', 'cut in the middle of it');
    assert.equal(error?.name, 'StreamInterruptedError', JSON.stringify(error));
    const got = chunks.map((c: any) => c.delta).join('');
    assert.ok(got.length > 0 && 'echo: cut in the middle of it'.startsWith(got) && got.length < 'echo: cut in the middle of it'.length, got);
    assert.equal(error.partial, got);
    assert.ok(chunks.every((c: any) => c.model === 'claude-mock'));
    assert.equal(backup.stats().chat, 0, 'no fallback after the first token');
  });

  test('/metrics has the time to first token per dependency', async () => {
    const text = await (await fetch(`http://127.0.0.1:${rt.port}/metrics`)).text();
    assert.match(text, /faultline_model_time_to_first_token_seconds_count\{dependency="primary"\} [1-9]/);
    assert.match(text, /faultline_model_time_to_first_token_seconds_count\{dependency="claude"\} [1-9]/);
  });

  test('faultline ask --stream prints the pieces of the reply as they come, then the result', async () => {
    const p = spawn(process.execPath, [cliPath, 'ask', 'proc', JSON.stringify({ reply: ['alpha ', 'beta ', 'gamma'] }), '--stream'], { cwd: rt.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let firstSeenWhileRunning = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('alpha') && !out.includes('whole')) firstSeenWhileRunning = true;
    });
    const code = await new Promise((r) => p.on('exit', r));
    assert.equal(code, 0, out);
    assert.ok(firstSeenWhileRunning, 'the first piece was printed before the result');
    const lines = out.trimEnd().split('\n');
    assert.equal(lines[0], 'alpha beta gamma');
    assert.deepEqual(JSON.parse(lines.at(-1)!), { whole: 'alpha beta gamma' });
  });

  test('streamReply is a no-op for an ask that does not stream', async () => {
    assert.deepEqual(await rt.client.call('ask', { agent: 'thr', message: { reply: ['a', 'b'] } }), { whole: 'ab' });
  });
});
