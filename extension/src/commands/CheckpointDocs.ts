/**
 * Read-only documents of checkpoint states under their own scheme,
 * `faultline-checkpoint:/<agent>/<seq>.json`, for `vscode.diff`. A
 * checkpoint never changes once written, so a state read once is kept.
 */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { stateText } from '../model/checkpointList.ts';
import { clientOf, type CommandContext } from './CommandContext.ts';

export class CheckpointDocs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'faultline-checkpoint';
  private readonly texts = new Map<string, string>();
  private readonly reg: vscode.Disposable;

  constructor(private readonly vs: VSCode, private readonly ctx: CommandContext) {
    this.reg = vs.workspace.registerTextDocumentContentProvider(CheckpointDocs.scheme, this);
  }

  uri(agent: string, seq: number): vscode.Uri {
    return this.vs.Uri.from({ scheme: CheckpointDocs.scheme, path: `/${agent}/${seq}.json` });
  }

  /** Reads the state through `checkpoint.get` (rejecting with the runtime's error) and keeps its text. */
  async load(agent: string, seq: number): Promise<string> {
    const key = this.uri(agent, seq).path;
    const kept = this.texts.get(key);
    if (kept !== undefined) return kept;
    const got = await clientOf(this.ctx).call('checkpoint.get', { agent, seq });
    const text = stateText(got.state);
    this.texts.set(key, text);
    return text;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/(.+)\/(\d+)\.json$/.exec(uri.path);
    if (!m) return '';
    return this.load(m[1], Number(m[2]));
  }

  /** Opens the diff of two checkpoints of one agent, the older on the left. */
  async diff(agent: string, a: number, b: number): Promise<void> {
    const [left, right] = a < b ? [a, b] : [b, a];
    // Read both first: a refusal (corrupt, pruned) becomes an error message, not an empty side.
    await Promise.all([this.load(agent, left), this.load(agent, right)]);
    await this.vs.commands.executeCommand('vscode.diff', this.uri(agent, left), this.uri(agent, right), `${agent} #${left} ↔ #${right}`, { preview: true });
  }

  /** Forgets kept states (a restarted runtime may hold another store). */
  clear(): void {
    this.texts.clear();
  }

  dispose(): void {
    this.reg.dispose();
  }
}
