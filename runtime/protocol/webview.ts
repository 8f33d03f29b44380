/**
 * The protocol between the extension and the Faultline Dashboard webview, and
 * the two pure helpers the extension needs to host it: `validateWebviewMessage`
 * (run on every message the webview posts, before anything reaches the
 * runtime) and `dashboardHtml` (the page, with its Content-Security-Policy).
 *
 * The webview is a browser page: it talks only through `postMessage`, so every
 * message is plain JSON with a `type`. The messages are declared once, as zod
 * schemas, in `schema/webview.ts`. No DOM, no Node, no `vscode`. The webview
 * imports only types from here (values would bundle zod): its two constants
 * come from `webviewVersion.ts`.
 */
export { WEBVIEW_PROTOCOL_VERSION, DASHBOARD_ACTIONS, type DashboardAction } from './webviewVersion.ts';
export { validateWebviewMessage } from './schema/webview.ts';
export type { TraceSpan, TraceSpanEvent, TraceSummary, TracesResult } from './schema/traces.ts';
export type {
  BatchMessage,
  CheckpointsMessage,
  CommandMessage,
  CommandResultMessage,
  ConnectionMessage,
  DashboardAlert,
  DashboardCheckpoint,
  DashboardCommand,
  DashboardFault,
  DashboardStatus,
  EventMessage,
  ExtensionToWebviewMessage,
  JsonValue,
  LogsMessage,
  MachineMessage,
  ReadyMessage,
  RequestSnapshotMessage,
  RuntimeEvent,
  SetLiveMessage,
  SnapshotMessage,
  TracesMessage,
  ValidationResult,
  WebviewToExtensionMessage,
} from './schema/webview.ts';

export { dashboardHtml, dashboardCsp, isSafeCspSource, type DashboardHtmlOptions } from './dashboardHtml.ts';
