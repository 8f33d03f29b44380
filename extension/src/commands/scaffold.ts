/**
 * Create Sample Agent System: copies the research-team example (shipped in
 * the extension's sample/ folder) into an empty folder — the workspace's own
 * if it is empty, else one the user picks — and opens its config.
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as vscode from 'vscode';
import { register, type CommandContext } from './CommandContext.ts';

/** Empty, holding only dot-files (.git, .vscode), or not there yet: safe to scaffold into. */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((n) => n.startsWith('.'));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export async function scaffoldSample(sampleDir: string, target: string): Promise<string> {
  await mkdir(target, { recursive: true });
  // Entry by entry: copying the folder itself onto an existing (empty) one fails with EEXIST on Node 22+.
  for (const name of await readdir(sampleDir)) {
    await cp(path.join(sampleDir, name), path.join(target, name), { recursive: true, errorOnExist: true, force: false });
  }
  const config = path.join(target, 'faultline.config.json');
  // The example's $schema points into the repository; VS Code validates by file name instead.
  const json = JSON.parse(await readFile(config, 'utf8'));
  delete json.$schema;
  await writeFile(config, JSON.stringify(json, null, 2) + '\n');
  return config;
}

export function scaffoldCommand(ctx: CommandContext): vscode.Disposable {
  const { vs } = ctx;
  return register(ctx, 'faultline.createSample', 'Cannot create the sample', async (given?: string | vscode.Uri) => {
    let target = typeof given === 'string' ? given : given?.fsPath;
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
    // The notifications wait for a click; the command itself is done (and returns) now.
    if (inWorkspace) {
      await vs.window.showTextDocument(vs.Uri.file(config));
      void vs.window.showInformationMessage('Faultline: the sample agent system is ready.', 'Start Runtime').then((a) => a && vs.commands.executeCommand('faultline.startRuntime'));
    } else {
      void vs.window.showInformationMessage(`Faultline: created the sample in ${target}.`, 'Open Folder').then((a) => a && vs.commands.executeCommand('vscode.openFolder', vs.Uri.file(target)));
    }
    return config;
  });
}
