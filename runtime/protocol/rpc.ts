/**
 * JSON-RPC 2.0 framing for the control channel, and the types of its methods.
 * Pure and free of zod: no I/O, usable from the runtime, the CLI, the
 * extension and the webview alike.
 */
import type { MethodName, Methods } from './schema/methods.ts';

export type RpcId = string | number;

export interface RpcRequest<M extends string = string, P = unknown> {
  jsonrpc: '2.0';
  id: RpcId;
  method: M;
  params?: P;
}
export interface RpcNotification<M extends string = string, P = unknown> {
  jsonrpc: '2.0';
  method: M;
  params?: P;
}
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: { type?: string; [k: string]: unknown };
}
export interface RpcSuccess<R = unknown> { jsonrpc: '2.0'; id: RpcId; result: R }
export interface RpcFailure { jsonrpc: '2.0'; id: RpcId | null; error: RpcErrorObject }
export type RpcResponse<R = unknown> = RpcSuccess<R> | RpcFailure;

/** Standard JSON-RPC codes plus Faultline's application range. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** The token is missing or wrong. */
  Unauthorized: -32001,
  /** The named agent, fault or dependency does not exist. */
  NotFound: -32002,
  /** An ask got no reply within its timeout. */
  Timeout: -32003,
  /** The agent is not in a state to take the request (failed, stopped). */
  Unavailable: -32004,
  /** The operation failed inside the runtime (the message says why). */
  Failed: -32005,
} as const;

/**
 * The methods with their params and results are declared once, as schemas,
 * in `schema/methods.ts` (which also validates them); the types come from there.
 */
export type { Methods, MethodName, MethodParams, MethodResult, CheckpointInfo } from './schema/methods.ts';
export type { FaultSpec } from './schema/faults.ts';

export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: RpcErrorObject['data']) {
    super(message);
    this.name = 'RpcError';
  }
  toJSON(): RpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is RpcId => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));

export type ParsedFrame =
  | { kind: 'request'; request: RpcRequest }
  | { kind: 'notification'; notification: RpcNotification }
  | { kind: 'response'; response: RpcResponse }
  | { kind: 'error'; error: RpcFailure };

/**
 * Parses and validates one text frame. Never throws: a bad frame yields an
 * `error` carrying the JSON-RPC error response to send back.
 */
export function parseFrame(text: string): ParsedFrame {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    return { kind: 'error', error: failure(null, RpcErrorCode.ParseError, `Parse error: the frame is not valid JSON (${(e as Error).message})`) };
  }
  if (!isObj(msg)) return { kind: 'error', error: failure(null, RpcErrorCode.InvalidRequest, 'Invalid request: a frame must be one JSON-RPC 2.0 object (batches are not supported)') };
  const id = 'id' in msg ? msg.id : undefined;
  if (msg.jsonrpc !== '2.0') return { kind: 'error', error: failure(isId(id) ? id : null, RpcErrorCode.InvalidRequest, 'Invalid request: "jsonrpc" must be "2.0"') };
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || msg.method.length === 0) return { kind: 'error', error: failure(isId(id) ? id : null, RpcErrorCode.InvalidRequest, 'Invalid request: "method" must be a non-empty string') };
    if ('params' in msg && msg.params !== undefined && !isObj(msg.params) && !Array.isArray(msg.params)) return { kind: 'error', error: failure(isId(id) ? id : null, RpcErrorCode.InvalidRequest, 'Invalid request: "params" must be an object') };
    if (id === undefined) return { kind: 'notification', notification: msg as unknown as RpcNotification };
    if (!isId(id)) return { kind: 'error', error: failure(null, RpcErrorCode.InvalidRequest, 'Invalid request: "id" must be a string or a number') };
    return { kind: 'request', request: msg as unknown as RpcRequest };
  }
  if (isId(id) || id === null) {
    if ('result' in msg) return { kind: 'response', response: msg as unknown as RpcSuccess };
    if (isObj(msg.error) && typeof msg.error.code === 'number' && typeof msg.error.message === 'string') return { kind: 'response', response: msg as unknown as RpcFailure };
  }
  return { kind: 'error', error: failure(isId(id) ? id : null, RpcErrorCode.InvalidRequest, 'Invalid request: neither a request (method) nor a response (result/error)') };
}

export function failure(id: RpcId | null, code: number, message: string, data?: RpcErrorObject['data']): RpcFailure {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}
export function success<R>(id: RpcId, result: R): RpcSuccess<R> {
  return { jsonrpc: '2.0', id, result };
}
export function request<M extends MethodName>(id: RpcId, method: M, params: Methods[M]['params']): RpcRequest<M, Methods[M]['params']> {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
}
export function notification<P>(method: string, params: P): RpcNotification<string, P> {
  return { jsonrpc: '2.0', method, params };
}
