/**
 * The extension's entry point and the one place that imports `vscode`.
 * `activate` registers views and commands and returns at once; finding the
 * config and starting the runtime happen afterwards.
 */
import * as vscode from 'vscode';
import { FaultlineExtension } from './FaultlineExtension.ts';

let current: FaultlineExtension | undefined;

/** What activate returns: used by the integration tests and other extensions. */
export interface FaultlineApi {
  activationMs: number;
  extension: FaultlineExtension;
}

export function activate(context: vscode.ExtensionContext): FaultlineApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Faultline', { log: true });
  context.subscriptions.push(log);
  const ext = new FaultlineExtension(vscode, context, log);
  current = ext;
  context.subscriptions.push(ext);
  void vscode.commands.executeCommand('setContext', 'faultline.connected', false);
  setImmediate(() => void ext.init().catch((e) => log.error(`Faultline could not start: ${(e as Error).message}`)));
  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, extension: ext };
}

export async function deactivate(): Promise<void> {
  const ext = current;
  current = undefined;
  await ext?.shutdown();
}
