/**
 * The dashboard's message validator as a bundle of its own
 * (dist/webviewMessages.js), loaded when the first message arrives from the
 * page: it carries zod, which the activation path does without.
 */
export { validateWebviewMessage } from '../../../runtime/protocol/webview.ts';
