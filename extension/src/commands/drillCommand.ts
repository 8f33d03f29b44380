/**
 * Run Drill…: pick a drill file, run it in the runtime under a progress
 * notification, save the journal as JSON under .faultline/drills/ and show a
 * summary with a link to it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as vscode from 'vscode';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { clientOf, register, type CommandContext } from './CommandContext.ts';

/** Whether the journal says the steady-state hypothesis held (shapes vary by runtime version). */
export function drillHeld(journal: unknown): boolean | undefined {
  const j = journal as Record<string, any> | undefined;
  const v = j?.held ?? j?.hypothesis?.held ?? j?.ok ?? j?.passed ?? (typeof j?.status === 'string' ? j.status === 'passed' || j.status === 'held' : undefined);
  return typeof v === 'boolean' ? v : undefined;
}

export function drillCommand(ctx: CommandContext): vscode.Disposable {
  const { vs } = ctx;
  return register(ctx, 'faultline.runDrill', 'The drill did not run', async (given?: string) => {
    const client = clientOf(ctx);
    let file = given;
    if (!file) {
      const found = await vs.workspace.findFiles('**/{drills/*.json,*.drill.json}', '**/node_modules/**', 50);
      const items = found.map((u) => ({ label: vs.workspace.asRelativePath(u), uri: u as vscode.Uri | undefined }));
      items.push({ label: '$(folder-opened) Choose a file…', uri: undefined });
      const pick = await vs.window.showQuickPick(items, { title: 'Run Drill: which drill?' });
      if (!pick) return;
      const uri = pick.uri ?? (await vs.window.showOpenDialog({ canSelectMany: false, filters: { Drill: ['json'] } }))?.[0];
      if (!uri) return;
      file = uri.fsPath;
    }
    const drill = JSON.parse(await readFile(file, 'utf8'));
    const name = (drill.name as string) ?? path.basename(file, '.json');
    const journal = await vs.window.withProgress(
      { location: vs.ProgressLocation.Notification, title: `Faultline drill "${name}"`, cancellable: false },
      async (progress) => {
        progress.report({ message: 'steady state → method → rollback…' });
        return client.call('drill.run', { drill }, 15 * 60_000).catch((e) => {
          if (e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound) throw new Error('this Faultline runtime cannot run drills yet (no "drill.run" method); update the faultline package, or use `faultline drill <file>`.');
          throw e;
        });
      },
    );
    const config = ctx.manager()?.configFile;
    const dir = path.join(config ? path.dirname(config) : path.dirname(file), '.faultline', 'drills');
    await mkdir(dir, { recursive: true });
    const report = path.join(dir, `${name.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(report, JSON.stringify(journal, null, 2) + '\n');
    ctx.log.info(`drill ${name}: report ${report}`);
    const held = drillHeld(journal);
    const text = held === false ? `Faultline drill "${name}": the hypothesis did NOT hold.` : held ? `Faultline drill "${name}": the hypothesis held.` : `Faultline drill "${name}" finished.`;
    const show = held === false ? vs.window.showWarningMessage : vs.window.showInformationMessage;
    void show(text, 'Open Report').then((a) => a && vs.window.showTextDocument(vs.Uri.file(report)));
    return { report, journal, held };
  });
}
