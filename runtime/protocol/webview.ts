/**
 * The protocol between the extension and the Faultline Dashboard webview, and
 * the two pure helpers the extension needs to host it: `validateWebviewMessage`
 * (run on every message the webview posts, before anything reaches the
 * runtime) and `dashboardHtml` (the page, with its Content-Security-Policy).
 *
 * The webview is a browser page: it talks only through `postMessage`, so every
 * message is plain JSON with a `type`. Types and pure functions only: no DOM,
 * no Node, no `vscode` — the extension, the webview and the tests all import it.
 */
import type { EventName, EventPayloads, LogEvent } from './events.ts';
import type { RuntimeStatus } from './status.ts';

/** Bumped when a message changes shape incompatibly; the webview sends it in `ready`. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------
// extension → webview

/** An alert as the dashboard lists it (the runtime's `ActiveAlert`; extra fields are ignored). */
export interface DashboardAlert {
  level: 'warning' | 'critical';
  rule: string;
  subject: string;
  subjectKind?: string;
  value?: number;
  threshold?: number;
  /** ISO time the alert first fired. */
  since: string;
  message: string;
}

/** An active fault (the fault catalogue's `ActiveFault`; extra fields are ignored). */
export interface DashboardFault {
  id: string;
  fault: string;
  target: string;
  kind?: string;
  createdAt?: string;
  expiresAt?: string;
}

/**
 * The status JSON plus the optional sections the dashboard draws when they
 * are there. Every extra is optional: a runtime without observability still
 * gets its tree drawn.
 */
export interface DashboardStatus extends RuntimeStatus {
  /** The three-tier reliability summary (`runtime/observability/reliability.ts`). */
  reliability?: unknown;
  /** Active alerts. */
  alerts?: DashboardAlert[];
  /** Active faults. */
  faults?: DashboardFault[];
  /** Model fallback chains: chain name → dependency ids in order (the config's `models`). */
  models?: Record<string, string[]>;
}

/** A checkpoint row (the store's `CheckpointInfo`). */
export interface DashboardCheckpoint {
  seq: number;
  version: number;
  kind: string;
  size: number;
  /** ISO time it was written. */
  time: string;
  /** False when the payload fails its checksum or does not parse. */
  valid: boolean;
  checksum?: string;
  runtimeVersion?: string;
}

/** One runtime event as the control channel delivered it (`method` → `name`, `params` → `payload`). */
export type RuntimeEvent = { [N in EventName]: { name: N; payload: EventPayloads[N] } }[EventName];

/** A full status: sent after `ready`, on `requestSnapshot`, and after every reconnect. */
export interface SnapshotMessage { type: 'snapshot'; status: DashboardStatus }
/** One runtime event. */
export type EventMessage = { type: 'event' } & RuntimeEvent;
/** Several runtime events in arrival order (the extension may coalesce a tick's events into one post). */
export interface BatchMessage { type: 'batch'; events: RuntimeEvent[] }
/** The answer to a `checkpoints` command (`error` set when the runtime refused). */
export interface CheckpointsMessage { type: 'checkpoints'; agent: string; checkpoints: DashboardCheckpoint[]; error?: string }
/** The answer to a `logs` command: the agent's recent log lines, oldest first. */
export interface LogsMessage { type: 'logs'; agent: string; lines: LogEvent[] }
/** How a command ended; `id` is the command's. */
export interface CommandResultMessage { type: 'commandResult'; id: string; ok: boolean; error?: string; result?: unknown }
/** The extension's link to the runtime. */
export interface ConnectionMessage { type: 'connection'; state: 'connecting' | 'connected' | 'disconnected'; message?: string }

export type ExtensionToWebviewMessage =
  | SnapshotMessage
  | EventMessage
  | BatchMessage
  | CheckpointsMessage
  | LogsMessage
  | CommandResultMessage
  | ConnectionMessage;

// ---------------------------------------------------------------------------
// webview → extension

/** What the buttons of the dashboard ask for. */
export const DASHBOARD_ACTIONS = ['restart', 'stop', 'kill', 'hang', 'inject', 'clearFaults', 'checkpoints', 'logs'] as const;
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];

/** A JSON value, as fault params may carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** A command on one target; `target` is an agent or supervisor id (a dependency id for `inject`; `*` for every fault with `clearFaults`). */
export type DashboardCommand =
  | { action: 'restart' | 'stop' | 'kill' | 'hang' | 'checkpoints'; target: string; params?: Record<string, never> }
  | { action: 'inject'; target: string; params: { fault: string; params?: Record<string, JsonValue> } }
  | { action: 'clearFaults'; target: string; params?: { id?: string } }
  | { action: 'logs'; target: string; params?: { limit?: number } };

/** The script started (a new page, also after being hidden): the extension answers with a snapshot. */
export interface ReadyMessage { type: 'ready'; protocol: number }
/** Send a full snapshot (after resuming live updates, or when an event named an unknown node). */
export interface RequestSnapshotMessage { type: 'requestSnapshot' }
/** A button was pressed; the extension answers with `commandResult` (and `checkpoints` / `logs` for those). */
export type CommandMessage = { type: 'command'; id: string } & DashboardCommand;
/** Live updates were paused (false) or resumed (true): a hint, the extension may stop relaying events meanwhile. */
export interface SetLiveMessage { type: 'setLive'; live: boolean }

export type WebviewToExtensionMessage = ReadyMessage | RequestSnapshotMessage | CommandMessage | SetLiveMessage;

// ---------------------------------------------------------------------------
// validation

export type ValidationResult = { ok: true; message: WebviewToExtensionMessage } | { ok: false; error: string };

const MAX_ID = 128;
const MAX_TARGET = 256;
const MAX_PARAMS_CHARS = 16_384;
const MAX_DEPTH = 6;
/** Fault names are catalogue words: `kill`, `crash-loop`, `slow-first-token`. */
const FAULT_NAME = /^[a-z][a-z0-9-]{0,63}$/;
// Control characters in an id would forge log lines and break quick picks.
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isPlain = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

class Invalid extends Error {}
const fail = (msg: string): never => {
  throw new Invalid(msg);
};

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where} has an unknown field "${k}"`);
}

function text(v: unknown, max: number, where: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(`${where} must be a non-empty string`);
  const s = v as string;
  if (s.length > max) fail(`${where} is longer than ${max} characters`);
  if (CONTROL.test(s)) fail(`${where} contains control characters`);
  return s;
}

/** A deep copy of a JSON value, refusing anything JSON cannot carry or deeper than MAX_DEPTH. */
function json(v: unknown, where: string, depth = 0): JsonValue {
  if (depth > MAX_DEPTH) fail(`${where} is nested deeper than ${MAX_DEPTH} levels`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v as JsonValue;
  if (typeof v === 'number') return Number.isFinite(v) ? v : fail(`${where} must be a finite number`);
  if (Array.isArray(v)) return v.map((x, i) => json(x, `${where}[${i}]`, depth + 1));
  if (isPlain(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(k)) fail(`${where} has a forbidden key "${k}"`);
      out[k] = json(x, `${where}.${k}`, depth + 1);
    }
    return out;
  }
  return fail(`${where} is not JSON (${typeof v})`);
}

function commandParams(action: DashboardAction, p: unknown): CommandMessage['params'] {
  if (p === undefined) {
    if (action === 'inject') fail('command "inject" needs params with "fault"');
    return undefined;
  }
  if (!isPlain(p)) return fail('command "params" must be an object');
  switch (action) {
    case 'inject': {
      onlyKeys(p, ['fault', 'params'], 'inject params');
      const fault = text(p.fault, 64, 'inject params.fault');
      if (!FAULT_NAME.test(fault)) fail('inject params.fault must be a fault name such as "crash" or "crash-loop"');
      if (p.params === undefined) return { fault };
      if (!isPlain(p.params)) fail('inject params.params must be an object');
      const inner = json(p.params, 'inject params.params', 1) as Record<string, JsonValue>;
      if (JSON.stringify(inner).length > MAX_PARAMS_CHARS) fail(`inject params.params is larger than ${MAX_PARAMS_CHARS} characters`);
      return { fault, params: inner };
    }
    case 'clearFaults':
      onlyKeys(p, ['id'], 'clearFaults params');
      return p.id === undefined ? {} : { id: text(p.id, MAX_ID, 'clearFaults params.id') };
    case 'logs': {
      onlyKeys(p, ['limit'], 'logs params');
      if (p.limit === undefined) return {};
      const limit = p.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 5000) fail('logs params.limit must be an integer between 1 and 5000');
      return { limit: limit as number };
    }
    default:
      onlyKeys(p, [], `${action} params`);
      return {};
  }
}

/**
 * Checks one message posted by the webview and returns a fresh, typed copy,
 * or the reason it was refused. Pure and total: it never throws, whatever
 * arrives. The extension must call it on every message before acting on it;
 * anything refused is dropped (and may be logged with the reason).
 */
export function validateWebviewMessage(x: unknown): ValidationResult {
  try {
    if (!isPlain(x)) fail('a message must be a plain object');
    const m = x as Record<string, unknown>;
    switch (m.type) {
      case 'ready': {
        onlyKeys(m, ['type', 'protocol'], 'ready');
        if (typeof m.protocol !== 'number' || !Number.isInteger(m.protocol) || m.protocol < 1) fail('ready.protocol must be a positive integer');
        return { ok: true, message: { type: 'ready', protocol: m.protocol as number } };
      }
      case 'requestSnapshot':
        onlyKeys(m, ['type'], 'requestSnapshot');
        return { ok: true, message: { type: 'requestSnapshot' } };
      case 'setLive':
        onlyKeys(m, ['type', 'live'], 'setLive');
        if (typeof m.live !== 'boolean') fail('setLive.live must be a boolean');
        return { ok: true, message: { type: 'setLive', live: m.live as boolean } };
      case 'command': {
        onlyKeys(m, ['type', 'id', 'action', 'target', 'params'], 'command');
        const id = text(m.id, MAX_ID, 'command.id');
        const action = m.action as DashboardAction;
        if (!(DASHBOARD_ACTIONS as readonly unknown[]).includes(action)) fail(`command.action must be one of ${DASHBOARD_ACTIONS.join(', ')}`);
        const target = text(m.target, MAX_TARGET, 'command.target');
        if (target === '*' && action !== 'clearFaults') fail(`command "${action}" needs one target, not "*"`);
        const params = commandParams(action, m.params);
        const message = (params === undefined ? { type: 'command', id, action, target } : { type: 'command', id, action, target, params }) as CommandMessage;
        return { ok: true, message };
      }
      default:
        return fail(typeof m.type === 'string' ? `unknown message type "${m.type.slice(0, 40)}"` : 'a message needs a string "type"');
    }
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    // Anything else (a throwing getter on a proxy, say) is a refusal too.
    return { ok: false, error: `unreadable message: ${(e as Error)?.message ?? String(e)}` };
  }
}

// ---------------------------------------------------------------------------
// the page

export interface DashboardHtmlOptions {
  /** `webview.cspSource`: where the webview may load the extension's files from (one or more source expressions). */
  cspSource: string;
  /** A fresh random nonce per page load (e.g. 16 random bytes, base64). */
  nonce: string;
  /** `webview.asWebviewUri(…/webview/dist/dashboard.js)` as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(…/webview/dist/dashboard.css)` as a string. */
  styleUri: string;
  /** `webview.asWebviewUri(…/webview/dist/codicons/codicon.css)` as a string. */
  codiconsUri: string;
  /** The document title; default "Faultline Dashboard". */
  title?: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,128}$/;
/**
 * One source expression of `webview.cspSource`: desktop VS Code gives one host
 * (`https://file+.vscode-resource.vscode-cdn.net`), code-server gives two
 * (`'self' https://*.vscode-cdn.net`). Only `'self'`, schemes and hosts pass:
 * no other keyword (`'unsafe-inline'`), no bare `*`, nothing that ends the
 * directive.
 */
const SOURCE = /^(?:'self'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9-][a-z0-9+-]*(?:\.[a-z0-9+-]+)*(?::(?:\d{1,5}|\*))?(?:\/[^\s;,'"]*)?)$/i;

/** Whether `cspSource` is a space-separated list of safe source expressions. */
export function isSafeCspSource(cspSource: string): boolean {
  if (typeof cspSource !== 'string' || cspSource.length === 0 || cspSource.length > 1000) return false;
  const parts = cspSource.trim().split(/ +/);
  return !/[;,\r\n\t]/.test(cspSource) && parts.length > 0 && parts.every((p) => SOURCE.test(p));
}
const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Content-Security-Policy of the dashboard page: nothing but the extension's own script (by nonce), styles, fonts and images. */
export function dashboardCsp(cspSource: string, nonce: string): string {
  cspSource = cspSource.trim().replace(/ +/g, ' ');
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource}; font-src ${cspSource}; img-src ${cspSource} data:`;
}

/**
 * The dashboard page. Throws a TypeError when the nonce is not a long enough
 * base64 word or `cspSource` could break out of the policy (both come from the
 * extension, so that is a bug there, not user input).
 */
export function dashboardHtml(o: DashboardHtmlOptions): string {
  if (!NONCE.test(o.nonce)) throw new TypeError('dashboardHtml: nonce must be 16 to 128 base64 characters (use 16 random bytes, base64-encoded)');
  if (!isSafeCspSource(o.cspSource)) throw new TypeError(`dashboardHtml: cspSource must be webview.cspSource (hosts, schemes or 'self', space-separated), got ${JSON.stringify(o.cspSource)}`);
  for (const k of ['scriptUri', 'styleUri', 'codiconsUri'] as const) {
    if (typeof o[k] !== 'string' || o[k].length === 0) throw new TypeError(`dashboardHtml: ${k} must be a webview URI string`);
  }
  const title = escapeAttr(o.title ?? 'Faultline Dashboard');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(dashboardCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>${title}</title>
</head>
<body>
<main id="app" aria-busy="true" aria-label="${title}"><p class="boot">Loading the Faultline Dashboard…</p></main>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
