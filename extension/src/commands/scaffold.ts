/**
 * Create Sample Agent System: copies the research-team example (shipped in
 * the extension's sample/ folder) into an empty folder — the workspace's own
 * if it is empty, else one the user picks — and opens its config.
 */
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as vscode from 'vscode';
import { register, type CommandContext } from './CommandContext.ts';

/** Empty, or holding only dot-files (.git, .vscode): safe to scaffold into. */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((n) => n.startsWith('.'));
  } catch {
    return false;
  }
}

export async function scaffoldSample(sampleDir: string, target: string): Promise<string> {
  await cp(sampleDir, target, { recursive: true, errorOnExist: true, force: false });
  const config = path.join(target, 'faultline.config.json');
  // The example's $schema points into the repository; VS Code validates by file name instead.
  const json = JSON.parse(await readFile(config, 'utf8'));
  delete json.$schema;
  await writeFile(config, JSON.stringify(json, null, 2) + '\n');
  return config;
}

export function scaffoldCommand(ctx: CommandContext): vscode.Disposable {
  const { vs } = ctx;
  return register(ctx, 'faultline.createSample', 'Cannot create the sample', async (given?: string) => {
    let target = given;
    if (!target) {
      const folders = vs.workspace.workspaceFolders ?? [];
      for (const f of folders) if (await isEmptyFolder(f.uri.fsPath)) { target = f.uri.fsPath; break; }
    }
    if (!target) {
      const picked = await vs.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Create Sample Here', title: 'Create the sample agent system in an empty folder' });
      if (!picked?.[0]) return;
      target = picked[0].fsPath;
    }
    if (!(await isEmptyFolder(target))) throw new Error(`${target} is not empty; pick an empty folder.`);
    const config = await scaffoldSample(path.join(ctx.extensionPath, 'sample', 'research-team'), target);
    ctx.log.info(`created the sample agent system in ${target}`);
    const inWorkspace = (vs.workspace.workspaceFolders ?? []).some((f) => config.startsWith(f.uri.fsPath + path.sep));
    if (inWorkspace) {
      await vs.window.showTextDocument(vs.Uri.file(config));
      const a = await vs.window.showInformationMessage('Faultline: the sample agent system is ready.', 'Start Runtime');
      if (a) await vs.commands.executeCommand('faultline.startRuntime');
    } else {
      const a = await vs.window.showInformationMessage(`Faultline: created the sample in ${target}.`, 'Open Folder');
      if (a) await vs.commands.executeCommand('vscode.openFolder', vs.Uri.file(target));
    }
    return config;
  });
}
