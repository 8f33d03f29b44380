/**
 * Schemas of the messages between the extension and the Faultline Dashboard
 * webview, and `validateWebviewMessage`, which the extension runs on every
 * message the webview posts before anything reaches the runtime.
 *
 * The webview bundles none of this: it imports the types only, and the
 * version and action names from the zod-free `../webviewVersion.ts`.
 */
import { z } from 'zod';
import { EVENT_NAMES, type EventName } from '../events.ts';
import { DASHBOARD_ACTIONS, type DashboardAction } from '../webviewVersion.ts';
import { EVENT_SCHEMAS, LogEvent, type EventPayloads } from './events.ts';
import { CheckpointInfo } from './methods.ts';
import { ActiveAlert, ReliabilitySummary, RuntimeStatus } from './status.ts';
import { ActiveFault } from './faults.ts';
import { MachineResult } from '../machine.ts';
import { TracesResult } from './traces.ts';

const MAX_ID = 128;
const MAX_TARGET = 256;
const MAX_PARAMS_CHARS = 16_384;
const MAX_DEPTH = 6;
const MAX_PATH = 4096;
/** Fault names are catalogue words: `kill`, `crash-loop`, `slow-first-token`. */
const FAULT_NAME = /^[a-z][a-z0-9-]{0,63}$/;
// Control characters in an id would forge log lines and break quick picks.
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isPlain = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

// ---------------------------------------------------------------------------
// extension → webview

/** An active fault as the dashboard lists it: the runtime's, of which a snapshot may carry only the identity. */
export type DashboardFault = Pick<z.infer<typeof ActiveFault>, 'id' | 'fault' | 'target'> & Partial<z.infer<typeof ActiveFault>>;
export type DashboardAlert = z.infer<typeof ActiveAlert>;
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * The status JSON as the dashboard takes it: every observability section is
 * optional (a runtime without instrumentation still gets its tree drawn), and
 * the dashboard draws what figures the summary has.
 */
export type DashboardStatus = Omit<z.infer<typeof RuntimeStatus>, 'reliability' | 'faults'> & {
  reliability?: DeepPartial<z.infer<typeof ReliabilitySummary>>;
  faults?: DashboardFault[];
};

/** A checkpoint row: the store's `CheckpointInfo`, of which the dashboard needs no agent, checksum, runtime version or store. */
export const DashboardCheckpoint = CheckpointInfo.partial({ agent: true, checksum: true, runtimeVersion: true, store: true });

/** One runtime event as the control channel delivered it (`method` → `name`, `params` → `payload`). */
export type RuntimeEvent = { [N in EventName]: { name: N; payload: EventPayloads[N] } }[EventName];
const eventOf = (n: EventName) => z.strictObject({ name: z.literal(n), payload: EVENT_SCHEMAS[n] });
type EventSchema = ReturnType<typeof eventOf>;
export const RuntimeEvent = z.discriminatedUnion('name', EVENT_NAMES.map(eventOf) as [EventSchema, ...EventSchema[]]) as unknown as z.ZodType<RuntimeEvent>;
const eventMessageOf = (n: EventName) => eventOf(n).extend({ type: z.literal('event') });
type EventMessageSchema = ReturnType<typeof eventMessageOf>;
/** One runtime event. */
export const EventMessage = z.discriminatedUnion('name', EVENT_NAMES.map(eventMessageOf) as [EventMessageSchema, ...EventMessageSchema[]]) as unknown as z.ZodType<{ type: 'event' } & RuntimeEvent>;

export const SnapshotMessage = z.strictObject({ type: z.literal('snapshot'), status: RuntimeStatus.describe('A full status: sent after `ready`, on `requestSnapshot`, and after every reconnect') });
export const BatchMessage = z.strictObject({ type: z.literal('batch'), events: z.array(RuntimeEvent).describe('Runtime events in arrival order (the extension coalesces a tick\'s events into one post)') });
export const CheckpointsMessage = z.strictObject({ type: z.literal('checkpoints'), agent: z.string(), checkpoints: z.array(DashboardCheckpoint), error: z.string().optional().describe('Set when the runtime refused') });
export const LogsMessage = z.strictObject({ type: z.literal('logs'), agent: z.string(), lines: z.array(LogEvent).describe("The agent's recent log lines, oldest first") });
export const CommandResultMessage = z.strictObject({ type: z.literal('commandResult'), id: z.string(), ok: z.boolean(), error: z.string().optional(), result: z.unknown().optional().describe("What the runtime answered (the method's result)") });
export const MachineMessage = z.strictObject({
  type: z.literal('machine'),
  id: z.string(),
  machine: MachineResult.optional().describe("The node's lifecycle machine (the `machine` method's result)"),
  error: z.string().optional().describe('Set when the runtime refused'),
});
export const TracesMessage = z.strictObject({
  type: z.literal('traces'),
  agent: z.string(),
  result: TracesResult.optional().describe("The agent's recent traces (the `traces` method's result; `enabled: false` when telemetry is off)"),
  error: z.string().optional().describe('Set when the runtime refused'),
  unsupported: z.boolean().optional().describe('Set when the runtime has no `traces` method (older than tracing)'),
});
export const ConnectionMessage = z.strictObject({ type: z.literal('connection'), state: z.enum(['connecting', 'connected', 'disconnected']), message: z.string().optional() });

/** Every message the extension posts to the webview (`event` carries one runtime event, `batch` several). */
export const ExtensionToWebviewMessage = z.union([
  SnapshotMessage,
  EventMessage,
  BatchMessage,
  CheckpointsMessage,
  LogsMessage,
  CommandResultMessage,
  MachineMessage,
  TracesMessage,
  ConnectionMessage,
]);

export type SnapshotMessage = { type: 'snapshot'; status: DashboardStatus };
export type EventMessage = { type: 'event' } & RuntimeEvent;
export type BatchMessage = z.infer<typeof BatchMessage>;
export type CheckpointsMessage = z.infer<typeof CheckpointsMessage>;
export type LogsMessage = z.infer<typeof LogsMessage>;
export type CommandResultMessage = z.infer<typeof CommandResultMessage>;
export type ConnectionMessage = z.infer<typeof ConnectionMessage>;
/** The answer to a `machine` command: the node's lifecycle machine, or why the runtime refused. */
export type MachineMessage = z.infer<typeof MachineMessage>;
/** The answer to a `traces` command: the agent's recent traces, or why there are none to be had. */
export type TracesMessage = z.infer<typeof TracesMessage>;
export type DashboardCheckpoint = z.infer<typeof DashboardCheckpoint>;
export type ExtensionToWebviewMessage = SnapshotMessage | EventMessage | BatchMessage | CheckpointsMessage | LogsMessage | CommandResultMessage | MachineMessage | TracesMessage | ConnectionMessage;

// ---------------------------------------------------------------------------
// webview → extension

/** A JSON value, as fault params may carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

class NotJson extends Error {}
/** A deep copy of a JSON value, refusing anything JSON cannot carry or deeper than MAX_DEPTH. */
function copyJson(v: unknown, where: string, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw new NotJson(`${where} is nested deeper than ${MAX_DEPTH} levels`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v as JsonValue;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new NotJson(`${where} must be a finite number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => copyJson(x, `${where}[${i}]`, depth + 1));
  if (isPlain(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(k)) throw new NotJson(`${where} has a forbidden key "${k}"`);
      out[k] = copyJson(x, `${where}.${k}`, depth + 1);
    }
    return out;
  }
  throw new NotJson(`${where} is not JSON (${typeof v})`);
}

/** Fault params from the page: a JSON object, copied (a later change of the original cannot slip past the check), bounded in depth and size. */
const FaultParamsFromPage = z
  // Checked on the page's own object, before zod copies it: a copy made by assignment would turn an own "__proto__" key into a prototype.
  .preprocess((v, ctx) => {
    if (!isPlain(v)) return v;
    try {
      const copy = copyJson(v, 'inject params.params', 1) as Record<string, JsonValue>;
      if (JSON.stringify(copy).length > MAX_PARAMS_CHARS) throw new NotJson(`inject params.params is larger than ${MAX_PARAMS_CHARS} characters`);
      return copy;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, params: { whole: true } });
      return z.NEVER;
    }
  }, z.record(z.string(), z.unknown(), { error: 'must be an object' }))
  .describe(`Fault parameters: a JSON object, at most ${MAX_DEPTH} levels deep and ${MAX_PARAMS_CHARS} characters`);

const safeText = (max: number) =>
  z
    .string({ error: 'must be a non-empty string' })
    .min(1, { error: 'must be a non-empty string' })
    .max(max, { error: `is longer than ${max} characters` })
    .refine((s) => !CONTROL.test(s), { error: 'contains control characters' });
const Id = safeText(MAX_ID);
const OneTarget = safeText(MAX_TARGET).refine((s) => s !== '*', { error: 'needs one target, not "*"', params: { star: true } });
const NoCommandParams = z.strictObject({}).optional();
const intIn = (min: number, max: number) => {
  const error = `must be an integer between ${min} and ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const command = <A extends DashboardAction, T extends z.ZodType, P extends z.ZodType>(action: A, target: T, params: P) =>
  z.strictObject({ type: z.literal('command'), id: Id, action: z.literal(action), target, params });

/** One command per action: `target` is an agent or supervisor id (a dependency id for `inject`; `*` for every fault with `clearFaults`). */
const COMMANDS = {
  restart: command('restart', OneTarget, NoCommandParams),
  stop: command('stop', OneTarget, NoCommandParams),
  kill: command('kill', OneTarget, NoCommandParams),
  hang: command('hang', OneTarget, NoCommandParams),
  checkpoints: command('checkpoints', OneTarget, NoCommandParams),
  machine: command('machine', OneTarget, NoCommandParams),
  inject: command(
    'inject',
    OneTarget,
    z.strictObject(
      {
        fault: z.string({ error: 'must be a fault name such as "crash" or "crash-loop"' }).regex(FAULT_NAME, { error: 'must be a fault name such as "crash" or "crash-loop"' }),
        params: FaultParamsFromPage.optional(),
      },
      { error: (i) => (i.input === undefined ? 'needs params with "fault"' : 'must be an object') },
    ),
  ),
  clearFaults: command('clearFaults', safeText(MAX_TARGET), z.strictObject({ id: Id.optional() }).optional()),
  logs: command(
    'logs',
    OneTarget,
    z.strictObject({ limit: z.number({ error: 'must be an integer between 1 and 5000' }).int({ error: 'must be an integer between 1 and 5000' }).min(1, { error: 'must be an integer between 1 and 5000' }).max(5000, { error: 'must be an integer between 1 and 5000' }).optional() }).optional(),
  ),
  /** The agent's recent traces: the extension calls `traces {agent, limit}` and posts `traces`. */
  traces: command('traces', OneTarget, z.strictObject({ limit: intIn(1, 500).optional() }).optional()),
  /**
   * Open the code of a span: `params` is the span's call site (a path relative to the config's folder, absolute, or a
   * file: URL); without params, the target agent's module. The extension opens only files under the config's folder
   * or the agent module's.
   */
  openCode: command('openCode', OneTarget, z.strictObject({ file: safeText(MAX_PATH), line: intIn(1, 10_000_000), column: intIn(1, 100_000).optional() }).optional()),
} as const satisfies Record<DashboardAction, z.ZodType>;

export const ReadyMessage = z.strictObject({ type: z.literal('ready'), protocol: z.number({ error: 'must be a positive integer' }).int({ error: 'must be a positive integer' }).min(1, { error: 'must be a positive integer' }) });
export const RequestSnapshotMessage = z.strictObject({ type: z.literal('requestSnapshot') });
export const SetLiveMessage = z.strictObject({ type: z.literal('setLive'), live: z.boolean({ error: 'must be a boolean' }) });
export const CommandMessage = z.discriminatedUnion('action', Object.values(COMMANDS) as unknown as [(typeof COMMANDS)[DashboardAction], ...(typeof COMMANDS)[DashboardAction][]]);

const FROM_WEBVIEW = { ready: ReadyMessage, requestSnapshot: RequestSnapshotMessage, setLive: SetLiveMessage, command: CommandMessage } as const;
/** Every message the webview posts to the extension. */
export const WebviewToExtensionMessage = z.discriminatedUnion('type', [ReadyMessage, RequestSnapshotMessage, SetLiveMessage, CommandMessage]);

/** The script started (a new page, also after being hidden): the extension answers with a snapshot. */
export type ReadyMessage = z.infer<typeof ReadyMessage>;
/** Send a full snapshot (after resuming live updates, or when an event named an unknown node). */
export type RequestSnapshotMessage = z.infer<typeof RequestSnapshotMessage>;
/** Live updates were paused (false) or resumed (true): a hint, the extension may stop relaying events meanwhile. */
export type SetLiveMessage = z.infer<typeof SetLiveMessage>;
/** A button was pressed; the extension answers with `commandResult` (and `checkpoints` / `logs` / `machine` / `traces` for those). */
export type CommandMessage = z.output<typeof CommandMessage>;
type WithoutTypeAndId<T> = T extends unknown ? Omit<T, 'type' | 'id'> : never;
/** A command on one target, as the page builds it (the message without `type` and `id`). */
export type DashboardCommand = WithoutTypeAndId<CommandMessage>;
export type WebviewToExtensionMessage = z.output<typeof WebviewToExtensionMessage>;

export type ValidationResult = { ok: true; message: WebviewToExtensionMessage } | { ok: false; error: string };

/** Names an issue as the refusal says it: `command.target`, `inject params.fault`, `kill params`. */
function label(m: Record<string, unknown>, path: PropertyKey[]): string {
  const type = String(m.type);
  if (type === 'command' && path[0] === 'params') {
    const rest = path.slice(1).map(String);
    return [`${String(m.action)} params`, ...rest].join('.');
  }
  return [type, ...path.map(String)].join('.');
}

/**
 * Checks one message posted by the webview and returns a fresh, typed copy,
 * or the reason it was refused. Pure and total: it never throws, whatever
 * arrives. The extension must call it on every message before acting on it;
 * anything refused is dropped (and may be logged with the reason).
 */
export function validateWebviewMessage(x: unknown): ValidationResult {
  try {
    if (!isPlain(x)) return { ok: false, error: 'a message must be a plain object' };
    const type = x.type;
    if (typeof type !== 'string') return { ok: false, error: 'a message needs a string "type"' };
    if (!Object.hasOwn(FROM_WEBVIEW, type)) return { ok: false, error: `unknown message type "${type.slice(0, 40)}"` };
    let schema: z.ZodType = FROM_WEBVIEW[type as keyof typeof FROM_WEBVIEW];
    if (type === 'command') {
      const action = x.action;
      if (typeof action !== 'string' || !Object.hasOwn(COMMANDS, action)) return { ok: false, error: `command.action must be one of ${DASHBOARD_ACTIONS.join(', ')}` };
      schema = COMMANDS[action as DashboardAction];
      if (x.params !== undefined && !isPlain(x.params)) return { ok: false, error: 'command "params" must be an object' };
    }
    const r = schema.safeParse(x);
    if (r.success) return { ok: true, message: r.data as WebviewToExtensionMessage };
    const issue = r.error.issues[0];
    if (issue.code === 'unrecognized_keys') return { ok: false, error: `${issue.path.length ? label(x, issue.path) : type} has an unknown field "${issue.keys[0]}"` };
    if (issue.code === 'custom' && (issue.params as { whole?: boolean } | undefined)?.whole) return { ok: false, error: issue.message };
    if (issue.code === 'custom' && (issue.params as { star?: boolean } | undefined)?.star) return { ok: false, error: `command "${String(x.action)}" needs one target, not "*"` };
    if (issue.message.startsWith('needs ')) return { ok: false, error: `command "${String(x.action)}" ${issue.message}` };
    return { ok: false, error: `${label(x, issue.path)} ${issue.message}` };
  } catch (e) {
    // A throwing getter on a proxy, say: a refusal too.
    return { ok: false, error: `unreadable message: ${(e as Error)?.message ?? String(e)}` };
  }
}
