/** Injecting and clearing faults through the control channel's fault catalogue. */
import type { FaultSpec } from '../../../runtime/protocol/rpc.ts';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { clientOf, type CommandContext } from './CommandContext.ts';

/** The runtime predates the fault catalogue. */
export class FaultsUnsupportedError extends Error {
  constructor() {
    super('This Faultline runtime has no fault catalogue (no "inject" method); update the faultline package.');
    this.name = 'FaultsUnsupportedError';
  }
}

export async function inject(ctx: CommandContext, spec: FaultSpec): Promise<string> {
  try {
    const { id } = await clientOf(ctx).call('inject', spec);
    ctx.log.info(`injected ${spec.fault} on ${spec.target}${spec.params && Object.keys(spec.params).length ? ` ${JSON.stringify(spec.params)}` : ''}: ${id}`);
    void ctx.model.refresh().catch(() => {});
    return id;
  } catch (e) {
    if (e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound) throw new FaultsUnsupportedError();
    throw e;
  }
}

export async function clearFault(ctx: CommandContext, id?: string): Promise<number> {
  const { cleared } = await clientOf(ctx).call('clearFault', id === undefined ? {} : { id });
  ctx.log.info(`cleared ${cleared} fault(s)${id ? ` (${id})` : ''}`);
  void ctx.model.refresh().catch(() => {});
  return cleared;
}
