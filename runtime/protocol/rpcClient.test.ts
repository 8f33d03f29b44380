/** The one RPC client against a real ws server on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { RpcConnection, RuntimeRpcError, RuntimeUnreachableError, type RpcEvent } from './rpcClient.ts';

async function pair(onRequest: (msg: { id: number; method: string }, ws: WebSocket) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', (d) => onRequest(JSON.parse(d.toString()), ws)));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((r) => ws.once('open', r));
  const rpc = new RpcConnection({ send: (t) => ws.send(t), close: () => ws.close() });
  ws.on('message', (d) => rpc.receive(d.toString()));
  ws.on('close', () => rpc.closed());
  return { rpc, close: () => new Promise((r) => wss.close(r)), wss };
}

test('results, runtime errors as RuntimeRpcError with their type, and notifications', async () => {
  const { rpc, close } = await pair((m, ws) => {
    if (m.method === 'status') {
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'agent.state', params: { agent: 'a' } }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { ok: 1 } }));
    } else ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32004, message: 'Agent "x" did not reply', data: { type: 'AgentTimeoutError' } } }));
  });
  try {
    const seen: RpcEvent[] = [];
    rpc.onEvent((e) => seen.push(e));
    assert.deepEqual(await rpc.call('status', {}), { ok: 1 });
    assert.deepEqual(seen, [{ method: 'agent.state', params: { agent: 'a' } }]);
    const e = await rpc.call('ask', { agent: 'x', message: {} }).catch((x) => x);
    assert.ok(e instanceof RuntimeRpcError);
    assert.equal(e.type, 'AgentTimeoutError');
    assert.equal(e.code, -32004);
  } finally {
    rpc.close();
    await close();
  }
});

test('a closed connection fails the pending call and every later one with RuntimeUnreachableError', async () => {
  const { rpc, close, wss } = await pair(() => {
    for (const c of wss.clients) c.terminate();
  });
  try {
    let closed = 0;
    rpc.onClose(() => closed++);
    const e = await rpc.call('status', {}).catch((x) => x);
    assert.ok(e instanceof RuntimeUnreachableError, String(e));
    assert.match(e.message, /closed/);
    assert.equal(closed, 1);
    await assert.rejects(rpc.call('status', {}), RuntimeUnreachableError);
  } finally {
    await close();
  }
});
