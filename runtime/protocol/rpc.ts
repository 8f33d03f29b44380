/**
 * JSON-RPC 2.0 framing for the control channel, and the methods with their
 * params and results. Pure: no I/O, usable from the runtime, the CLI, the
 * extension and the webview alike.
 */
import type { RuntimeStatus } from './status.ts';
import { isEventName, type EventName } from './events.ts';
import type { MachineParams, MachineResult } from './machine.ts';

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

export interface FaultSpec { fault: string; target: string; params?: Record<string, unknown> }

/** Methods: params and results. */
export interface Methods {
  auth: { params: { token: string }; result: { ok: true } };
  status: { params: Record<string, never> | undefined; result: RuntimeStatus };
  send: { params: { agent: string; message: unknown }; result: { accepted: true } };
  ask: { params: { agent: string; message: unknown; timeoutMs?: number }; result: unknown };
  restart: { params: { agent: string }; result: Record<string, never> };
  stop: { params: { agent: string }; result: Record<string, never> };
  inject: { params: FaultSpec; result: { id: string } };
  clearFault: { params: { id?: string } | undefined; result: { cleared: number } };
  faults: { params: Record<string, never> | undefined; result: unknown[] };
  alerts: { params: Record<string, never> | undefined; result: unknown[] };
  checkpoints: { params: { agent: string }; result: unknown[] };
  'drill.run': { params: { drill: unknown }; result: unknown };
  /** Interrupts the drill `drill.run` is running: no further method step, then its rollbacks; `drill.run` answers with the journal (status `aborted`). */
  'drill.cancel': { params: Record<string, never> | undefined; result: { cancelled: boolean; drill?: string } };
  /** Starts the seeded chaos monkey: kills agents matching `targets` (glob, default all) at random intervals around `intervalMs`. */
  'chaos.start': { params: { intervalMs: number; durationMs: number; seed?: number; targets?: string }; result: { seed: number; targets: string[]; schedule: { atMs: number; target: string }[] } };
  'chaos.stop': { params: Record<string, never> | undefined; result: { stopped: boolean; kills: number } };
  'chaos.status': { params: Record<string, never> | undefined; result: { running: boolean; report?: unknown } };
  subscribe: { params: { events: (EventName | '*')[] }; result: Record<string, never> };
  unsubscribe: { params: { events?: (EventName | '*')[] } | undefined; result: Record<string, never> };
  shutdown: { params: Record<string, never> | undefined; result: Record<string, never> };
  /** An agent's or a supervisor's lifecycle machine: its JSON definition, current state value and context. */
  machine: { params: MachineParams; result: MachineResult };
}
export type MethodName = keyof Methods;

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

function bad(message: string): never {
  throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${message}`);
}
function str(p: Record<string, unknown>, key: string, method: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v.length === 0) bad(`${method} needs "${key}" as a non-empty string`);
  return v;
}
function optTimeout(p: Record<string, unknown>, key: string, method: string): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 3_600_000) bad(`${method} "${key}" must be a number of milliseconds between 1 and 3600000`);
  return v;
}

/**
 * Validates the params of a known method and returns them typed; throws an
 * `RpcError` (InvalidParams or MethodNotFound) naming what is wrong.
 */
export function validateParams<M extends MethodName>(method: M, params: unknown): Methods[M]['params'];
export function validateParams(method: string, params: unknown): unknown {
  if (params !== undefined && !isObj(params)) bad(`${method} takes an object of named params`);
  const p = (params ?? {}) as Record<string, unknown>;
  switch (method) {
    case 'auth':
      return { token: str(p, 'token', method) };
    case 'status':
    case 'faults':
    case 'alerts':
    case 'shutdown':
      return {};
    case 'send':
      if (!('message' in p)) bad('send needs "message"');
      return { agent: str(p, 'agent', method), message: p.message };
    case 'ask':
      if (!('message' in p)) bad('ask needs "message"');
      return { agent: str(p, 'agent', method), message: p.message, timeoutMs: optTimeout(p, 'timeoutMs', method) };
    case 'restart':
    case 'stop':
    case 'checkpoints':
      return { agent: str(p, 'agent', method) };
    case 'machine':
      return { id: str(p, 'id', method) };
    case 'inject': {
      if (p.params !== undefined && !isObj(p.params)) bad('inject "params" must be an object');
      return { fault: str(p, 'fault', method), target: str(p, 'target', method), params: p.params as Record<string, unknown> | undefined };
    }
    case 'clearFault':
      if (p.id !== undefined && typeof p.id !== 'string') bad('clearFault "id" must be a string');
      return { id: p.id as string | undefined };
    case 'drill.run':
      if (!isObj(p.drill)) bad('drill.run needs "drill" as an object');
      return { drill: p.drill };
    case 'chaos.start': {
      const n = (key: string, min: number, max: number, optional = false): number | undefined => {
        const v = p[key];
        if (v === undefined && optional) return undefined;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`chaos.start "${key}" must be an integer between ${min} and ${max}`);
        return v;
      };
      if (p.targets !== undefined && (typeof p.targets !== 'string' || !p.targets)) bad('chaos.start "targets" must be a non-empty glob string');
      return { intervalMs: n('intervalMs', 10, 3_600_000)!, durationMs: n('durationMs', 1, 3_600_000)!, seed: n('seed', 0, 2 ** 32, true), targets: p.targets as string | undefined };
    }
    case 'drill.cancel':
    case 'chaos.stop':
    case 'chaos.status':
      return {};
    case 'subscribe':
    case 'unsubscribe': {
      const ev = p.events;
      if (ev === undefined && method === 'unsubscribe') return { events: undefined };
      if (!Array.isArray(ev) || ev.some((e) => e !== '*' && !isEventName(e))) bad(`${method} needs "events": an array of event names or ["*"]`);
      return { events: ev };
    }
    default:
      throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
  }
}
