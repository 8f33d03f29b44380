/**
 * Opening an agent's code in the editor: its module (the Agents view's
 * *Open Module*), or a call site inside it (a span of the dashboard's trace
 * waterfall), at the line. Where to open is decided by a pure function; the
 * editor is touched only by `showCode`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';

export interface CodeLocation {
  file: string;
  /** 1-based; without it the file opens where the editor last had it. */
  line?: number;
  column?: number;
}

/** A call site the runtime reported, as the dashboard forwards it. */
export interface CallSite {
  file: string;
  line: number;
  column?: number;
}

/** The file an agent's `module` names: relative to the config's folder, as the runtime loads it. */
export function agentModulePath(configFile: string, module: string): string {
  return path.resolve(path.dirname(configFile), module);
}

/** The dashboard asked to open a file that is neither in the project nor beside the agent's module. */
export class CodeOutsideProjectError extends Error {
  constructor(readonly file: string, readonly project: string) {
    super(`Not opening ${file}: it is outside the Faultline project (${project}) and the agent's module folder.`);
    this.name = 'CodeOutsideProjectError';
  }
}

const inside = (dir: string, file: string) => {
  const r = path.relative(dir, file);
  return r === '' || (r !== '..' && !r.startsWith(`..${path.sep}`) && !path.isAbsolute(r));
};

/**
 * Where to open the code of `agent`: the call site when there is one (a path
 * relative to the config's folder, an absolute path or a `file:` URL, as stack
 * traces give them), else the agent's module. A call site must lie under the
 * config's folder or the module's own folder: the page asking is a webview,
 * and this keeps it to the project's code.
 */
export function codeLocation(o: { configFile: string; agent: string; module?: string; site?: CallSite }): CodeLocation {
  const project = path.dirname(path.resolve(o.configFile));
  const module = o.module ? agentModulePath(o.configFile, o.module) : undefined;
  if (!o.site) {
    if (!module) throw new Error(`No module is known for agent "${o.agent}": is it in the running system?`);
    return { file: module };
  }
  let file: string;
  try {
    file = o.site.file.startsWith('file:') ? fileURLToPath(o.site.file) : path.resolve(project, o.site.file);
  } catch {
    throw new Error(`Cannot open the code of "${o.agent}": ${o.site.file} is not a file path.`);
  }
  if (!inside(project, file) && !(module && inside(path.dirname(module), file))) throw new CodeOutsideProjectError(file, project);
  return { file, line: o.site.line, ...(o.site.column ? { column: o.site.column } : {}) };
}

/** Opens the file, with the cursor at the line (and column) when given. */
export async function showCode(vs: VSCode, loc: CodeLocation, viewColumn?: vscode.ViewColumn): Promise<vscode.TextEditor> {
  const uri = vs.Uri.file(loc.file);
  const options: vscode.TextDocumentShowOptions = viewColumn === undefined ? {} : { viewColumn };
  if (!loc.line) return vs.window.showTextDocument(uri, options);
  const doc = await vs.workspace.openTextDocument(uri);
  // A file edited since the run may be shorter: the nearest position, not an error.
  const at = doc.validatePosition(new vs.Position(loc.line - 1, (loc.column ?? 1) - 1));
  return vs.window.showTextDocument(doc, { ...options, selection: new vs.Range(at, at) });
}
