import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import { TracesMessage } from '../../../runtime/protocol/schema/webview.ts';
import { RuntimeRpcError, RuntimeUnreachableError } from '../runtime/ControlClient.ts';
import { tracesReply } from './tracesReply.ts';

const result = { enabled: true, capacity: 5000, traces: [] };

test("the runtime's traces are posted as they came, in the protocol's shape", async () => {
  const m = await tracesReply('planner', async () => result);
  assert.deepEqual(m, { type: 'traces', agent: 'planner', result });
  assert.ok(TracesMessage.safeParse(m).success);
  const off = await tracesReply('planner', async () => ({ enabled: false, capacity: 0, traces: [] }));
  assert.equal(off.result?.enabled, false, 'telemetry off is a result, for the page to explain');
});

test('a runtime without the traces method is unsupported; any other failure is an error', async () => {
  const old = await tracesReply('planner', async () => {
    throw new RuntimeRpcError({ code: RpcErrorCode.MethodNotFound, message: 'Method not found: traces' });
  });
  assert.deepEqual(old, { type: 'traces', agent: 'planner', unsupported: true, error: 'Method not found: traces' });
  assert.ok(TracesMessage.safeParse(old).success);
  const bad = await tracesReply('planner', async () => {
    throw new RuntimeRpcError({ code: RpcErrorCode.NotFound, message: 'No agent "planner"' });
  });
  assert.deepEqual(bad, { type: 'traces', agent: 'planner', error: 'No agent "planner"' });
  const gone = await tracesReply('planner', async () => {
    throw new RuntimeUnreachableError('Not connected to the Faultline runtime.');
  });
  assert.equal(gone.error, 'Not connected to the Faultline runtime.');
  assert.equal(gone.unsupported, undefined);
});
