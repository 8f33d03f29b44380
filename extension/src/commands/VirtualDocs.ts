/**
 * Read-only documents under the `faultline:` scheme: an agent's checkpoints,
 * its recent logs, a drill report. Opening one again shows fresh content.
 */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';

export class VirtualDocs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'faultline';
  private readonly content = new Map<string, string>();
  private readonly changed: vscode.EventEmitter<vscode.Uri>;
  readonly onDidChange: vscode.Event<vscode.Uri>;
  private readonly reg: vscode.Disposable;

  constructor(private readonly vs: VSCode) {
    this.changed = new vs.EventEmitter();
    this.onDidChange = this.changed.event;
    this.reg = vs.workspace.registerTextDocumentContentProvider(VirtualDocs.scheme, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.content.get(uri.path) ?? '';
  }

  /** Shows `text` as `faultline:/<name>`; the extension picks the language (json, log). */
  async show(name: string, text: string, o: { preview?: boolean } = {}): Promise<vscode.TextEditor> {
    const uri = this.vs.Uri.from({ scheme: VirtualDocs.scheme, path: `/${name}` });
    this.content.set(uri.path, text);
    this.changed.fire(uri);
    const doc = await this.vs.workspace.openTextDocument(uri);
    return this.vs.window.showTextDocument(doc, { preview: o.preview ?? true });
  }

  dispose(): void {
    this.reg.dispose();
    this.changed.dispose();
  }
}
