/**
 * The two values the webview itself needs from its protocol with the
 * extension. No zod here: the webview bundles this file, and only the types
 * of `schema/webview.ts`.
 */

/** Bumped when a message changes shape incompatibly; the webview sends it in `ready`. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

/** What the buttons of the dashboard ask for. */
export const DASHBOARD_ACTIONS = ['restart', 'stop', 'kill', 'hang', 'inject', 'clearFaults', 'checkpoints', 'logs', 'machine', 'traces', 'openCode'] as const;
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];
