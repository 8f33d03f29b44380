/** What every command handler needs, handed over by extension.ts. */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import type { RuntimeManager } from '../runtime/RuntimeManager.ts';
import type { HealthModel } from '../model/HealthModel.ts';
import type { ControlClient } from '../runtime/ControlClient.ts';
import type { VirtualDocs } from './VirtualDocs.ts';

export interface CommandContext {
  vs: VSCode;
  log: vscode.LogOutputChannel;
  model: HealthModel;
  docs: VirtualDocs;
  extensionPath: string;
  /** The manager of the current config; undefined while the workspace has none. */
  manager(): RuntimeManager | undefined;
  /** Finds (or asks for) the config and returns its manager, creating it if needed. */
  ensureManager(): Promise<RuntimeManager | undefined>;
}

/** The runtime is not connected: the user should start it first. */
export class NotConnectedError extends Error {
  constructor() {
    super('The Faultline runtime is not running. Start it with "Faultline: Start Runtime".');
    this.name = 'NotConnectedError';
  }
}

export function clientOf(ctx: CommandContext): ControlClient {
  const c = ctx.manager()?.client;
  if (!c) throw new NotConnectedError();
  return c;
}

/** Shows an error with a way to the logs and to starting the runtime where that helps. */
export function reportError(ctx: CommandContext, what: string, e: unknown): void {
  const msg = `${what}: ${(e as Error)?.message ?? e}`;
  ctx.log.error(msg);
  const actions = e instanceof NotConnectedError ? ['Start Runtime', 'Show Logs'] : ['Show Logs'];
  // Not awaited: the notification waits for a click, the failed command should not.
  void ctx.vs.window.showErrorMessage(msg, ...actions).then((pick) => {
    if (pick === 'Show Logs') ctx.log.show(true);
    if (pick === 'Start Runtime') void ctx.vs.commands.executeCommand('faultline.startRuntime');
  });
}

/** Registers a command whose failures become error notifications instead of silent rejections. */
export function register(ctx: CommandContext, id: string, what: string, fn: (...args: any[]) => unknown): vscode.Disposable {
  return ctx.vs.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      reportError(ctx, what, e);
      return undefined;
    }
  });
}
