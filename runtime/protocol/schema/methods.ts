/**
 * The control channel's methods: each one's params and result, declared once
 * as schemas. The control server validates params from this table
 * (`validateParams`), the runtime's method table is typed by it, and
 * `faultline schema --protocol` prints it.
 */
import { z } from 'zod';
import { TracesParams, TracesResult } from './traces.ts';
import { CallParams, CallResult, ToolsParams, ToolsResult } from './mcp.ts';
import { EVENT_NAMES } from '../events.ts';
import { MachineParams, MachineResult } from '../machine.ts';
import { RpcError, RpcErrorCode } from '../rpc.ts';
import { ActiveAlert, IsoTime, RuntimeStatus } from './status.ts';
import { ActiveFault, FaultSpec } from './faults.ts';
import { ChaosReport, DrillJournal, ScheduledKill } from './drill.ts';
import { CheckpointGetParams, CheckpointGetResult, CheckpointKindSchema, ForkParams, ForkResult, RestoreParams, RestoreResult } from './history.ts';

// Field schemas carry the sentence an InvalidParams message ends with.
const text = (what = 'a non-empty string') => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
const int = (min: number, max: number) => z.number({ error: `must be an integer between ${min} and ${max}` }).int({ error: `must be an integer between ${min} and ${max}` }).min(min, { error: `must be an integer between ${min} and ${max}` }).max(max, { error: `must be an integer between ${min} and ${max}` });
const timeout = z
  .number({ error: 'must be a number of milliseconds between 1 and 3600000' })
  .gt(0, { error: 'must be a number of milliseconds between 1 and 3600000' })
  .max(3_600_000, { error: 'must be a number of milliseconds between 1 and 3600000' });

/** A message or a reply: whatever JSON the agent takes or gives (user data). */
const UserData = z.unknown().describe("Free-form JSON: the agent's own message or reply");
const NoParams = z.strictObject({});
const Empty = z.strictObject({});
const EventList = z.array(z.enum([...EVENT_NAMES, '*'], { error: `must name events (${EVENT_NAMES.join(', ')}) or "*"` }), { error: 'must be an array of event names or ["*"]' });

export const CheckpointInfo = z.strictObject({
  agent: z.string(),
  seq: z.number().int().min(0),
  version: z.number().int(),
  runtimeVersion: z.string(),
  time: IsoTime,
  kind: CheckpointKindSchema,
  size: z.number().int().min(0),
  checksum: z.string(),
  valid: z.boolean().describe('False when the payload fails its checksum or does not parse'),
  store: z.enum(['sqlite', 'postgres', 'redis', 'memory']).describe('The checkpoint store that keeps it'),
  blob: z.string().optional().describe('Where the state is, when it was moved to the blob bucket: s3://bucket/key'),
});

/** A W3C trace context: the agent's span continues the caller's trace. */
const traceparent = z
  .string({ error: 'must be a W3C traceparent string' })
  .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, { error: 'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>' })
  .describe('W3C trace context of the caller (`traceparent`), so that the handling span joins its trace');

/** Every control method: its params and its result. */
export const METHOD_SCHEMAS = {
  /** The first message of a browser client that cannot set the Authorization header. */
  auth: { params: z.strictObject({ token: text() }), result: z.strictObject({ ok: z.literal(true) }) },
  status: { params: NoParams, result: RuntimeStatus },
  send: { params: z.strictObject({ agent: text(), message: UserData, from: text().optional().describe('The sending agent, when another node of the cluster forwards the message (ignored from other clients)'), traceparent: traceparent.optional() }), result: z.strictObject({ accepted: z.literal(true) }) },
  ask: { params: z.strictObject({ agent: text(), message: UserData, timeoutMs: timeout.optional(), stream: z.boolean({ error: 'must be true or false' }).optional().describe('Stream the reply: each `ctx.streamReply(delta)` of the agent arrives as an `ask.chunk` notification before the result'), requestId: z.union([z.string(), z.number()], { error: 'must be a string or a number' }).optional().describe('Names this ask in its `ask.chunk` notifications (default: the JSON-RPC id of the request)'), from: text().optional().describe('The sending agent, when another node of the cluster forwards the message (ignored from other clients)'), traceparent: traceparent.optional() }), result: UserData },
  /** A signal for an agent's `ctx.waitFor(name)`: taken by a pending wait now (`delivered: true`) or kept durably until a wait of that name takes it. */
  signal: {
    params: z.strictObject({ agent: text(), name: text(), payload: UserData }),
    result: z.strictObject({ delivered: z.boolean().describe('True when a pending wait took it now; false when it was stored for a later wait') }),
  },
  restart: { params: z.strictObject({ agent: text() }), result: Empty },
  stop: { params: z.strictObject({ agent: text() }), result: Empty },
  inject: {
    params: FaultSpec,
    result: z.strictObject({ id: z.string(), fired: z.number().int().min(0).optional().describe('One-shot faults: how many targets it acted on') }),
  },
  clearFault: { params: z.strictObject({ id: z.string({ error: 'must be a string' }).optional() }), result: z.strictObject({ cleared: z.number().int().min(0) }) },
  faults: { params: NoParams, result: z.array(ActiveFault) },
  alerts: { params: NoParams, result: z.array(ActiveAlert) },
  checkpoints: { params: z.strictObject({ agent: text() }), result: z.array(CheckpointInfo) },
  /** One checkpoint's state; a corrupt one (checksum, parse) is refused. */
  'checkpoint.get': { params: CheckpointGetParams, result: CheckpointGetResult },
  /** Restarts the agent from a checkpoint's state, appended as a new checkpoint of kind `restore`; its inbox is kept. */
  'agent.restore': { params: RestoreParams, result: RestoreResult },
  /** Starts a temporary agent `as` beside the agent (same supervisor and module) from a checkpoint's state. */
  'agent.fork': { params: ForkParams, result: ForkResult },
  /** Runs a drill inside the runtime; answers with its journal. */
  'drill.run': { params: z.strictObject({ drill: z.record(z.string(), z.unknown(), { error: 'must be an object (the drill file)' }).describe('The drill file (see `faultline drill`); checked by the drill parser, which names the path of each problem') }), result: DrillJournal },
  /** Interrupts the drill `drill.run` is running: no further method step, then its rollbacks; `drill.run` answers with the journal (status `aborted`). */
  'drill.cancel': { params: NoParams, result: z.strictObject({ cancelled: z.boolean(), drill: z.string().optional() }) },
  /** Starts the seeded chaos monkey: kills agents matching `targets` (glob, default all) at random intervals around `intervalMs`. */
  'chaos.start': {
    params: z.strictObject({ intervalMs: int(10, 3_600_000), durationMs: int(1, 3_600_000), seed: int(0, 2 ** 32).optional(), targets: text('a non-empty glob string').optional() }),
    result: z.strictObject({ seed: z.number().int(), targets: z.array(z.string()), schedule: z.array(ScheduledKill) }),
  },
  'chaos.stop': { params: NoParams, result: z.strictObject({ stopped: z.boolean(), kills: z.number().int().min(0) }) },
  'chaos.status': { params: NoParams, result: z.strictObject({ running: z.boolean(), report: ChaosReport.optional() }) },
  /** The lifecycle machine of an agent or a supervisor: its definition and where it is now. */
  machine: { params: MachineParams, result: MachineResult },
  subscribe: { params: z.strictObject({ events: EventList }), result: Empty },
  unsubscribe: { params: z.strictObject({ events: EventList.optional() }), result: Empty },
  shutdown: { params: NoParams, result: Empty },
  /** The last traces the runtime recorded (spans of handled messages, model and tool calls), newest first. */
  traces: { params: TracesParams, result: TracesResult },
  /** The tools of an "mcp" dependency's server, listed through the dependency's policy. */
  tools: { params: ToolsParams, result: ToolsResult },
  /** Calls a dependency through its policy, as `ctx.call(dependency, request)` does from an agent. */
  call: { params: CallParams, result: CallResult },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType }>;

type Table = typeof METHOD_SCHEMAS;
export type MethodName = keyof Table;
/** Params a client sends; methods whose params are all optional may omit them. */
type ParamsIn<P extends z.ZodType> = {} extends z.input<P> ? z.input<P> | undefined : z.input<P>;
/** Methods: params and results, inferred from the schemas. */
export type Methods = { [M in MethodName]: { params: ParamsIn<Table[M]['params']>; result: z.output<Table[M]['result']> } };
/** Params as a handler receives them, validated. */
export type MethodParams<M extends MethodName> = z.output<Table[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<Table[M]['result']>;
export type CheckpointInfo = z.infer<typeof CheckpointInfo>;

export const METHOD_NAMES = Object.keys(METHOD_SCHEMAS) as MethodName[];

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && Object.hasOwn(METHOD_SCHEMAS, x);
}

const where = (path: PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('');
const at = (x: unknown, path: PropertyKey[]) => path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), x);

/** One issue as the end of a sentence that starts with the method's name. */
function describeIssue(method: string, params: unknown, issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? ` "${where(issue.path)}"` : '';
  if (issue.code === 'unrecognized_keys') return `${method}${field} has no field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && at(params, issue.path) === undefined) {
    const what = issue.message.startsWith('must be ') ? ` (${issue.message.slice('must be '.length)})` : '';
    return `${method} needs${field}${what}`;
  }
  const msg = /^(must|is|has) /.test(issue.message) ? issue.message : `is invalid: ${issue.message}`;
  return `${method}${field} ${msg}`;
}

/**
 * Validates the params of a known method against its schema and returns them
 * typed; throws an `RpcError` — InvalidParams naming the field and what it
 * must be (`Invalid params: ask "timeoutMs" must be a number of milliseconds
 * between 1 and 3600000`), or MethodNotFound.
 */
export function validateParams<M extends MethodName>(method: M, params: unknown): MethodParams<M>;
export function validateParams(method: string, params: unknown): unknown;
export function validateParams(method: string, params: unknown): unknown {
  if (!isMethodName(method)) throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${method} takes an object of named params`);
  }
  const r = METHOD_SCHEMAS[method].params.safeParse(params ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map((i) => describeIssue(method, params ?? {}, i));
  throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${issues.join('; ')}`);
}
