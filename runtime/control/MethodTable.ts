/**
 * The runtime's control methods, one handler per method of the protocol's
 * table (`protocol/schema/methods.ts`): each handler gets its params as the
 * schema validated them and must answer the schema's result. Parts of the
 * runtime (drills, chaos, lifecycle machines) register their own.
 */
import { RpcError, RpcErrorCode } from '../protocol/rpc.ts';
import type { MethodName, MethodParams, MethodResult } from '../protocol/schema/methods.ts';
import type { Session } from './ControlServer.ts';

export type MethodHandler<M extends MethodName> = (params: MethodParams<M>, session: Session) => Promise<MethodResult<M>>;

export class MethodTable {
  private readonly handlers = new Map<MethodName, MethodHandler<never>>();

  /** Registers (or replaces) the handler of `method`. */
  set<M extends MethodName>(method: M, handler: MethodHandler<M>): this {
    this.handlers.set(method, handler as MethodHandler<never>);
    return this;
  }

  get<M extends MethodName>(method: M): MethodHandler<M> | undefined {
    return this.handlers.get(method) as MethodHandler<M> | undefined;
  }

  has(method: MethodName): boolean {
    return this.handlers.has(method);
  }

  /** Runs the handler of a validated request; MethodNotFound when this runtime has none. */
  call<M extends MethodName>(method: M, params: MethodParams<M>, session: Session): Promise<MethodResult<M>> {
    const h = this.get(method);
    if (!h) throw new RpcError(RpcErrorCode.MethodNotFound, `Method not available in this runtime: ${method}`);
    return h(params, session);
  }
}
