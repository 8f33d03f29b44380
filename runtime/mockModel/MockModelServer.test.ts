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
