/**
 * API keys: read from the environment variable the config names, sent to
 * the server in the Authorization header, and never present in events, log
 * lines, status, health or error messages, even when a server echoes the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockModel } from '../mockModel/MockModelServer.ts';
import { gatewayWith, modelDep, ask } from './testkit.ts';
import { REDACTED } from '../protocol/redact.ts';

const KEY = 'sk-faultline-test-9f8e7d6c5b4a';
const env = { ...process.env, FAULTLINE_TEST_KEY: KEY };

test('the server receives the key; events, logs, status and errors never show it', async () => {
  const server = await startMockModel({ apiKey: KEY });
  const h = gatewayWith({ dependencies: { primary: modelDep(server, { apiKeyEnv: 'FAULTLINE_TEST_KEY', retry: { maxAttempts: 2, baseDelayMs: 1 } }) }, env }, [server]);
  try {
    const reply = await h.gw.chat('primary', ask('hi'));
    assert.equal(reply.content, 'echo: hi');
    assert.equal(server.stats().authorized, 1, 'the server got "Authorization: Bearer <key>"');

    server.setFault({ mode: 'error', status: 503 });
    const err = await h.gw.chat('primary', { ...ask('again'), stream: true }).catch((e) => e);
    assert.ok(err instanceof Error);

    const everything = JSON.stringify({ events: h.events, logs: h.logs, status: h.gw.status(), health: h.gw.health('primary'), error: [err.message, err.stack, (err.cause as Error)?.message] });
    assert.ok(h.events.length >= 5 && h.logs.length >= 5, 'there was something to leak into');
    assert.ok(!everything.includes(KEY), 'the key leaked');
    assert.ok(!everything.includes('9f8e7d6c5b4a'));
  } finally {
    await h.close();
  }
});

test('a server that echoes the key in its error body has it redacted', async () => {
  // A misbehaving upstream: it answers 500 and repeats the Authorization header it got.
  const echo = http.createServer((req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `upstream rejected credentials ${req.headers.authorization}` } }));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v1`;
  const h = gatewayWith({ dependencies: { primary: { kind: 'model', url, model: 'm', apiKeyEnv: 'FAULTLINE_TEST_KEY', retry: { maxAttempts: 2, baseDelayMs: 1 } } }, env });
  try {
    const err = await h.gw.chat('primary', ask()).catch((e) => e);
    assert.match((err.cause as Error).message, /upstream rejected credentials Bearer \[REDACTED\]/);
    const everything = JSON.stringify({ events: h.events, logs: h.logs, status: h.gw.status(), m: err.message, c: (err.cause as Error).message, s: err.stack });
    assert.ok(everything.includes(REDACTED));
    assert.ok(!everything.includes(KEY), 'the echoed key leaked');
  } finally {
    await h.close();
    await new Promise((r) => echo.close(r));
  }
});

test('a missing key variable sends no Authorization header and the 401 says what to do', async () => {
  const server = await startMockModel({ apiKey: KEY });
  const h = gatewayWith({ dependencies: { primary: modelDep(server, { apiKeyEnv: 'FAULTLINE_UNSET_KEY_VAR' }) }, env: {} }, [server]);
  try {
    const err = await h.gw.chat('primary', ask()).catch((e) => e);
    assert.equal(err.status, 401);
    assert.match(err.message, /apiKeyEnv/);
    assert.equal(server.stats().withAuthorization, 0);
  } finally {
    await h.close();
  }
});
