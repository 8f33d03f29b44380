/**
 * The extension's emitter is the protocol's (one for the runtime, the
 * extension and the webview): VS Code's `EventEmitter` shape without a
 * `vscode` import, so the model and its unit tests run without an editor.
 */
export { Emitter, type Disposable, type Event } from '../../../runtime/protocol/emitter.ts';
