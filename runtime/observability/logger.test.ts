import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, matchesLogFilter, type LogLine } from './logger.ts';
import { AgentTimeoutError } from '../errors.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine & Record<string, any>);

test('log lines are JSON with the consistent fields, in the file and to listeners', async (t) => {
  const dir = tempDir(t);
  const seen: LogLine[] = [];
  const log = createLogger({ dir, level: 'debug', onLine: (l) => seen.push(l) });
  try {
    const planner = log.logger.child({ agent: 'planner', supervisor: 'root' });
    planner.info({ msgId: 'm-1' }, 'message handled');
    planner.warn({ dependency: 'primary', attempt: 2, err: new AgentTimeoutError('writer', 500) }, 'retrying');
    log.logger.debug('tick');
    log.logger.trace('not written at debug');
    await log.flush();

    const lines = readLines(log.file);
    assert.equal(lines.length, 3);
    for (const l of lines) {
      assert.match(String(l.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['debug', 'info', 'warn'].includes(l.level), `level as a name: ${l.level}`);
      assert.equal(typeof l.msg, 'string');
    }
    assert.deepEqual({ ...lines[0], time: undefined }, { time: undefined, level: 'info', agent: 'planner', supervisor: 'root', msgId: 'm-1', msg: 'message handled' });
    assert.equal(lines[1].dependency, 'primary');
    assert.equal(lines[1].attempt, 2);
    assert.equal(lines[1].err.type, 'AgentTimeoutError');
    assert.match(lines[1].err.message, /did not reply within 500 ms/);
    assert.match(lines[1].err.stack, /AgentTimeoutError/);
    assert.deepEqual(seen, lines, 'listeners get exactly the lines in the file');
  } finally {
    await log.close();
  }
});

test('secrets are redacted by key and by value, in the file and in the events', async (t) => {
  const dir = tempDir(t);
  const key = 'sk-proj-Zx81b2c3d4e5f6';
  const seen: string[] = [];
  const log = createLogger({ dir, redact: [key], onLine: (l) => seen.push(JSON.stringify(l)) });
  try {
    log.logger.info({ apiKey: 'short-but-keyed', request: { headers: { authorization: 'Bearer abc.def' } }, token: 'tok-1' }, 'calling');
    log.logger.error({ err: new Error(`401 from server: invalid key ${key}`) }, `url was https://x.test/?key=${key}`);
    log.agentOutputLine('researcher', 'stdout', `debug: using ${key}`);
    log.agentLog('researcher', 'info', 'made a call', { dependency: 'primary', auth: { apiKey: 'nested-key-value' } });
    await log.flush();
    const text = readFileSync(log.file, 'utf8');
    for (const s of [text, seen.join('\n')]) {
      assert.ok(!s.includes(key), 'the API key value never appears');
      assert.ok(!s.includes('short-but-keyed') && !s.includes('Bearer abc.def') && !s.includes('tok-1') && !s.includes('nested-key-value'), 'keyed secrets are redacted');
    }
    const lines = readLines(log.file);
    assert.equal(lines[0].apiKey, '[REDACTED]');
    assert.equal(lines[0].request.headers.authorization, '[REDACTED]');
    assert.match(lines[1].err.message, /invalid key \[REDACTED\]/);
  } finally {
    await log.close();
  }
});

test('agent output is captured into the same stream with the agent field', async (t) => {
  const dir = tempDir(t);
  const log = createLogger({ dir });
  try {
    log.agentOutputLine('writer', 'stdout', 'hello from console.log', 'crew');
    log.agentOutputLine('writer', 'stderr', 'Error: something');
    log.agentLog('writer', 'bogus-level', 'relayed', { time: 'spoofed', level: 'fatal', msgId: 'm-9' });
    await log.flush();
    const lines = readLines(log.file);
    assert.deepEqual(lines.map((l) => [l.level, l.agent, l.stream, l.msg]), [
      ['info', 'writer', 'stdout', 'hello from console.log'],
      ['warn', 'writer', 'stderr', 'Error: something'],
      ['info', 'writer', undefined, 'relayed'],
    ]);
    assert.equal(lines[0].supervisor, 'crew');
    assert.equal(lines[2].msgId, 'm-9');
    assert.notEqual(lines[2].time, 'spoofed');
  } finally {
    await log.close();
  }
});

test('the file rotates by size and keeps the configured number of files', async (t) => {
  const dir = tempDir(t);
  const log = createLogger({ dir, rotate: { size: '2K', keep: 2 } });
  for (let i = 0; i < 200; i++) log.logger.info({ i, pad: 'x'.repeat(80) }, 'filler');
  await log.flush();
  await log.close();
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['runtime.log', 'runtime.log.1', 'runtime.log.2']);
  for (const f of files) for (const l of readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)) JSON.parse(l);
  // The newest lines are in the live file.
  const last = readLines(path.join(dir, 'runtime.log')).at(-1)!;
  assert.equal(last.i, 199);
});

test('the log filter selects by agent and minimum level', () => {
  const l = { time: '', level: 'warn', msg: 'x', agent: 'planner' } as const;
  assert.ok(matchesLogFilter(l, {}));
  assert.ok(matchesLogFilter(l, { agent: 'planner', level: 'info' }));
  assert.ok(matchesLogFilter(l, { agent: ['writer', 'planner'], level: 'warn' }));
  assert.ok(!matchesLogFilter(l, { level: 'error' }));
  assert.ok(!matchesLogFilter(l, { agent: 'writer' }));
  assert.ok(!matchesLogFilter({ time: '', level: 'error', msg: 'runtime line' }, { agent: 'planner' }));
});
