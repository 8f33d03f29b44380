/**
 * The dashboard's `traces` answer from the runtime's `traces` method: its
 * result, or — for a runtime older than tracing, which does not know the
 * method — `unsupported`, so that the page can say why there are no traces
 * instead of showing an error.
 */
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import type { TracesMessage, TracesResult } from '../../../runtime/protocol/webview.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';

export async function tracesReply(agent: string, call: () => Promise<TracesResult>): Promise<TracesMessage> {
  try {
    return { type: 'traces', agent, result: await call() };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    if (e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound) return { type: 'traces', agent, unsupported: true, error: message };
    return { type: 'traces', agent, error: message };
  }
}
