/** The control channel's security and framing, over real sockets. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { probe, up, workspace, type Running } from './helpers/runtime.ts';

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

function rpc(ws: WebSocket, frame: string | object): Promise<any> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString())));
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  });
}

describe('control channel', () => {
  let rt: Running;
  let url: string;
  before(async () => {
    rt = await up(workspace({ name: 'control', supervisor: { id: 'root', children: [probe('p')] } }));
    url = `ws://127.0.0.1:${rt.port}/control`;
  });
  after(() => rt.stop());

  test('runtime.json is private (0600) and names the pid, port and token', () => {
    const st = statSync(path.join(rt.dir, '.faultline', 'runtime.json'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(rt.file.port, rt.port);
    assert.equal(rt.file.pid, rt.proc.pid);
    assert.ok(rt.file.token.length >= 32);
    assert.equal(rt.file.url, `http://127.0.0.1:${rt.port}`);
  });

  test('a wrong token is refused at the handshake', async () => {
    await assert.rejects(open(url, { authorization: 'Bearer not-the-token' }), (e: { status: number }) => e.status === 401);
  });

  test('without a token, requests are refused and the socket closed', async () => {
    const ws = await open(url);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const reply = await rpc(ws, { jsonrpc: '2.0', id: 1, method: 'status' });
    assert.equal(reply.error.code, -32001);
    assert.equal(await closed, 4401);
  });

  test('a wrong token in the first message is refused', async () => {
    const ws = await open(url);
    const reply = await rpc(ws, { jsonrpc: '2.0', id: 1, method: 'auth', params: { token: 'nope' } });
    assert.equal(reply.error.code, -32001);
  });

  test('a foreign browser Origin is refused; a VS Code webview authenticates with its first message', async () => {
    await assert.rejects(open(url, { origin: 'http://evil.example', authorization: `Bearer ${rt.file.token}` }), (e: { status: number }) => e.status === 403);
    const ws = await open(url, { origin: 'vscode-webview://abc123' });
    assert.deepEqual((await rpc(ws, { jsonrpc: '2.0', id: 1, method: 'auth', params: { token: rt.file.token } })).result, { ok: true });
    assert.equal((await rpc(ws, { jsonrpc: '2.0', id: 2, method: 'status' })).result.tree.id, 'root');
    ws.close();
  });

  test('bad frames get JSON-RPC errors and the runtime carries on', async () => {
    const ws = await open(url, { authorization: `Bearer ${rt.file.token}` });
    assert.equal((await rpc(ws, '{not json')).error.code, -32700);
    assert.equal((await rpc(ws, '[1,2]')).error.code, -32600);
    assert.equal((await rpc(ws, { id: 1, method: 'status' })).error.code, -32600);
    assert.equal((await rpc(ws, { jsonrpc: '2.0', id: 2, method: 'nope' })).error.code, -32601);
    assert.equal((await rpc(ws, { jsonrpc: '2.0', id: 3, method: 'ask', params: { agent: 5 } })).error.code, -32602);
    assert.equal((await rpc(ws, { jsonrpc: '2.0', id: 4, method: 'subscribe', params: { events: ['bogus'] } })).error.code, -32602);
    assert.equal((await rpc(ws, { jsonrpc: '2.0', id: { x: 1 }, method: 'status' })).error.code, -32600);
    const big = await rpc(ws, { jsonrpc: '2.0', id: 5, method: 'ask', params: { agent: 'p', message: { op: 'echo', value: 'still here' } } });
    assert.equal(big.result.echo, 'still here');
    ws.close();
  });

  test('subscribers get agent.state and supervisor.state events', async () => {
    const ws = await open(url, { authorization: `Bearer ${rt.file.token}` });
    assert.deepEqual((await rpc(ws, { jsonrpc: '2.0', id: 1, method: 'subscribe', params: { events: ['agent.state', 'supervisor.state'] } })).result, {});
    const events: any[] = [];
    ws.on('message', (d) => events.push(JSON.parse(d.toString())));
    process.kill((await rt.agent('p')).pid!, 'SIGKILL');
    await rt.until(() => events.some((e) => e.method === 'agent.state' && e.params.agent === 'p' && e.params.state === 'running'), 'a running event');
    const states = events.filter((e) => e.method === 'agent.state').map((e) => e.params.state);
    assert.deepEqual(states, ['restarting', 'running']);
    assert.ok(events.some((e) => e.method === 'supervisor.state' && e.params.state === 'restarting'));
    assert.ok(events.every((e) => e.jsonrpc === '2.0' && typeof e.params.time === 'string'));
    ws.close();
  });

  test('HTTP: /livez and /readyz on loopback', async () => {
    const live = await fetch(`http://127.0.0.1:${rt.port}/livez`);
    assert.equal(live.status, 200);
    await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'running');
    const ready = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${rt.port}/nope`)).status, 404);
  });
});
