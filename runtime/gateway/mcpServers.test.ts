/** The decisions of MCP server supervision, without processes: restart delays and resolved paths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRestart, RESTART_BACKOFF, STABLE_AFTER_MS, stdioParams } from './mcpServers.ts';

const noJitter = () => 0.5;

test('restarts back off exponentially with jitter, capped, and start over after a stable run', () => {
  let failures = 0;
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    const r = nextRestart(failures, 50, RESTART_BACKOFF, noJitter);
    delays.push(r.delayMs);
    failures = r.failures;
  }
  assert.deepEqual(delays.slice(0, 6), [100, 200, 400, 800, 1600, 3200]);
  assert.equal(delays.at(-1), RESTART_BACKOFF.maxMs);
  // A server that failed to start (no uptime) keeps counting.
  assert.equal(nextRestart(3, undefined, RESTART_BACKOFF, noJitter).delayMs, 800);
  // One that ran for a while before it exited was stable: the first delay again.
  assert.deepEqual(nextRestart(9, STABLE_AFTER_MS, RESTART_BACKOFF, noJitter), { delayMs: 100, failures: 1 });
  // Jitter stays within ±20 %.
  assert.equal(nextRestart(0, 0, RESTART_BACKOFF, () => 0).delayMs, 80);
  assert.equal(nextRestart(0, 0, RESTART_BACKOFF, () => 1).delayMs, 120);
});

test("stdio paths: ./ and ../ arguments and a relative cwd resolve against the config's directory, which is also the default cwd", () => {
  const p = stdioParams({ kind: 'mcp', command: 'node', args: ['./mcp/server.mjs', '../shared/s.mjs', '--port', '3000', 'plain.mjs'], cwd: 'srv' }, '/w/app');
  assert.deepEqual(p, { command: 'node', args: ['/w/app/mcp/server.mjs', '/w/shared/s.mjs', '--port', '3000', 'plain.mjs'], env: {}, cwd: '/w/app/srv' });
  assert.equal(stdioParams({ kind: 'mcp', command: './bin/server' }, '/w/app').command, '/w/app/bin/server');
  assert.equal(stdioParams({ kind: 'mcp', command: 'npx', cwd: '/abs' }, '/w/app').cwd, '/abs');
  assert.equal(stdioParams({ kind: 'mcp', command: 'npx' }, '/w/app').cwd, '/w/app');
});
