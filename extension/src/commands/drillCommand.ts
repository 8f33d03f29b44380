/**
 * Run Drill…: pick a drill file in the workspace, run it with the runtime's
 * own drill runner under a progress notification (the `drill.run` control
 * method; `faultline drill FILE` for drills that kill the runtime and for
 * runtimes without that method), save the journal as JSON under
 * `.faultline/drills/` (where the CLI writes it too) and show the verdict
 * with a button that opens the report. Cancel Drill (the notification's
 * Cancel button, or the command) stops the method as Ctrl-C does in the
 * CLI: the rollbacks still run and the report says `aborted`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import type { LogEvent } from '../../../runtime/protocol/events.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { runDrillProcess } from '../runtime/DrillProcess.ts';
import { stateDirFor } from '../runtime/runtimeFile.ts';
import { clientOf, NotConnectedError, register, type CommandContext } from './CommandContext.ts';
import { drillName, drillSummary, killsRuntime, reportPath } from './drillReport.ts';

export interface DrillRun {
  report: string;
  journal: unknown;
  held: boolean | undefined;
  summary: string;
  /** `control` ran inside the runtime (drill.run); `cli` ran `faultline drill`. */
  via: 'control' | 'cli';
}

/**
 * The drill files of the workspace (`drills/*.json`, `*.drill.json`), each
 * with its own name and description; drills written for another system than
 * the running one (their `system`) come last, marked.
 */
async function pickDrill(vs: VSCode, system: string | undefined): Promise<string | undefined> {
  const found = await vs.workspace.findFiles('**/{drills/*.json,*.drill.json}', '**/{node_modules,.faultline}/**', 100);
  found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const ours: (vscode.QuickPickItem & { file?: string })[] = [];
  const others: typeof ours = [];
  for (const u of found) {
    let drill: { name?: unknown; description?: unknown; system?: unknown } | undefined;
    try {
      drill = JSON.parse(await readFile(u.fsPath, 'utf8'));
    } catch {
      drill = undefined;
    }
    const description = typeof drill?.description === 'string' ? drill.description : drill ? undefined : '(not valid JSON)';
    const foreign = system && typeof drill?.system === 'string' && drill.system !== system ? drill.system : undefined;
    (foreign ? others : ours).push({
      label: drillName(drill, u.fsPath),
      description: `${vs.workspace.asRelativePath(u)}${foreign ? ` — for "${foreign}", not the running "${system}"` : ''}`,
      detail: description,
      file: u.fsPath,
    });
  }
  const items = [...ours, ...others, { label: '$(folder-opened) Choose a drill file…', file: undefined }];
  const pick = await vs.window.showQuickPick(items, { title: 'Run Drill: which drill?', matchOnDescription: true, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.file) return pick.file;
  return (await vs.window.showOpenDialog({ canSelectMany: false, filters: { 'Faultline drill': ['json'] }, openLabel: 'Run Drill' }))?.[0]?.fsPath;
}

export function drillCommands(ctx: CommandContext): vscode.Disposable[] {
  const { vs } = ctx;
  /** The drill this window is running (one at a time, as the runtime runs one at a time). */
  let current: { name: string; cancel: () => Promise<void> } | undefined;
  const drilling = (on: boolean) => void vs.commands.executeCommand('setContext', 'faultline.drilling', on);

  const run = register(ctx, 'faultline.runDrill', 'The drill did not run', async (given?: string | vscode.Uri): Promise<DrillRun | undefined> => {
    const manager = ctx.manager();
    const client = clientOf(ctx);
    if (!manager) throw new NotConnectedError();
    if (current) throw new Error(`drill "${current.name}" is running; one drill at a time (Faultline: Cancel Drill stops it)`);
    const file = given === undefined ? await pickDrill(vs, ctx.model.snapshot.status?.runtime.name) : typeof given === 'string' ? given : given.fsPath;
    if (!file) return undefined;
    let drill: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it holds no JSON object');
      drill = parsed as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file} is not a drill file: ${(e as Error).message}`);
    }
    const name = drillName(drill, file);
    const report = reportPath(stateDirFor(manager.configFile), name);

    // Cancelling: the CLI gets Ctrl-C, the runtime's drill runner `drill.cancel`.
    const cancelled = new AbortController();
    let inRuntime = false;
    const cancel = async () => {
      if (cancelled.signal.aborted) return;
      cancelled.abort();
      ctx.log.warn(`drill ${name}: cancelled; stopping the method, then rolling back…`);
      if (!inRuntime) return;
      try {
        await client.call('drill.cancel', {});
      } catch (e) {
        ctx.log.warn(`drill ${name}: the runtime could not cancel it: ${(e as Error).message}`);
      }
    };
    const viaCli = async (say: (line: string) => void) => {
      const { nodePath, cli } = await manager.cli();
      ctx.log.info(`drill ${name}: ${nodePath} ${cli} drill ${file} --report ${report}`);
      return runDrillProcess({ nodePath, cli, configFile: manager.configFile, drillFile: file, report, onLine: say, signal: cancelled.signal });
    };

    type Outcome = { journal: unknown; via: DrillRun['via'] };
    current = { name, cancel };
    drilling(true);
    let outcome: Outcome | undefined;
    try {
      outcome = await vs.window.withProgress(
        { location: vs.ProgressLocation.Notification, title: `Faultline drill "${name}"`, cancellable: true },
        async (progress, token): Promise<Outcome | undefined> => {
          const onCancel = token.onCancellationRequested(() => void cancel());
          const show = (line: string) => progress.report({ message: line.trim().slice(0, 120) });
          const cliLine = (line: string) => {
            ctx.log.info(`[drill ${name}] ${line}`);
            show(line);
          };
          // The runtime logs its progress with a `drill` field; those lines reach the output channel anyway.
          const sub = ctx.model.onEvent((e) => {
            const l = e.params as LogEvent;
            if (e.name === 'log' && l?.drill === name) show(String(l.msg).replace(/^drill:\s*/, ''));
          });
          try {
            show('steady state → method → rollback…');
            if (cancelled.signal.aborted) return undefined;
            // A drill that kills the runtime needs a runner outside it.
            if (killsRuntime(drill)) return { journal: await viaCli(cliLine), via: 'cli' };
            try {
              inRuntime = true;
              const j = await client.call('drill.run', { drill }, 30 * 60_000);
              await mkdir(path.dirname(report), { recursive: true });
              await writeFile(report, JSON.stringify(j, null, 2) + '\n');
              return { journal: j, via: 'control' };
            } catch (e) {
              if (!(e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound)) throw e;
              ctx.log.info(`drill ${name}: this runtime has no "drill.run" method; running \`faultline drill\` instead`);
              inRuntime = false;
              return { journal: await viaCli(cliLine), via: 'cli' };
            }
          } finally {
            sub.dispose();
            onCancel.dispose();
          }
        },
      );
    } finally {
      current = undefined;
      drilling(false);
    }
    if (!outcome) {
      void vs.window.showInformationMessage(`Faultline drill "${name}" was cancelled before it started.`);
      return undefined;
    }
    const { journal, via } = outcome;

    const s = drillSummary(name, journal);
    ctx.log[s.severity === 'info' ? 'info' : s.severity === 'warning' ? 'warn' : 'error'](`${s.text} Report: ${report}`);
    const notify = s.severity === 'info' ? vs.window.showInformationMessage : s.severity === 'warning' ? vs.window.showWarningMessage : vs.window.showErrorMessage;
    void notify(s.text, 'Open Report', 'Show Logs').then((a) => {
      if (a === 'Open Report') return vs.window.showTextDocument(vs.Uri.file(report));
      if (a === 'Show Logs') ctx.log.show(true);
      return undefined;
    });
    return { report, journal, held: s.held, summary: s.text, via };
  });

  const cancel = register(ctx, 'faultline.cancelDrill', 'Cannot cancel the drill', async (): Promise<boolean> => {
    if (!current) {
      void vs.window.showInformationMessage('No Faultline drill is running.');
      return false;
    }
    await current.cancel();
    return true;
  });
  return [run, cancel];
}
