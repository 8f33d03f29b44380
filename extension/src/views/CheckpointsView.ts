/**
 * The Checkpoints view: the retained checkpoints of the agent selected in the
 * Agents tree. The runtime sends no event when an agent checkpoints, so while
 * the view is visible it re-reads the list every few seconds (a list that did
 * not change redraws nothing), and at once on an `agent.state` event of that
 * agent (a restart, a restore) or a reconnect.
 */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import type { CommandContext } from '../commands/CommandContext.ts';
import type { ItemView } from '../model/agentTree.ts';
import { checkpointItems, type CheckpointRow } from '../model/checkpointList.ts';
import { ItemTreeProvider } from './ItemTreeProvider.ts';

const POLL_MS = 2000;

export class CheckpointsView implements vscode.Disposable {
  readonly tree: ItemTreeProvider;
  private _agent?: string;
  private _list: CheckpointRow[] = [];
  private loading?: Promise<void>;
  private again = false;
  private timer?: ReturnType<typeof setInterval>;
  private readonly subs: vscode.Disposable[] = [];
  /** Lists read from the runtime; integration tests wait on it. */
  loads = 0;

  constructor(vs: VSCode, private readonly ctx: CommandContext, agents: vscode.TreeView<ItemView>) {
    this.tree = new ItemTreeProvider(vs, 'faultline.checkpoints', () => (this._agent ? checkpointItems(this._agent, this._list) : []));
    this.showMessage();
    this.subs.push(
      this.tree,
      agents.onDidChangeSelection((e) => {
        const n = e.selection[0]?.node;
        if (n?.kind === 'agent') this.select(n.id);
      }),
      this.tree.view.onDidChangeVisibility(() => this.schedule()),
      ctx.model.onEvent((e) => {
        if (e.name === 'agent.state' && this._agent && (e.params as { agent?: string }).agent === this._agent) void this.reload();
      }),
      ctx.model.onDidAttach(() => void this.reload()),
    );
  }

  /** The agent whose checkpoints are shown. */
  get agent(): string | undefined {
    return this._agent;
  }

  /** The rows as the runtime last listed them. */
  get list(): readonly CheckpointRow[] {
    return this._list;
  }

  /** Shows the checkpoints of `agent` (a selection in the Agents tree, or a command). */
  async select(agent: string): Promise<void> {
    if (agent !== this._agent) {
      this._agent = agent;
      this._list = [];
      this.tree.view.description = agent;
      this.showMessage('Loading…');
      this.tree.invalidate();
    }
    this.schedule();
    await this.reload();
  }

  /** Reads the list again (one read at a time; a request during a read makes one more after it). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load() {
    const agent = this._agent;
    const client = this.ctx.manager()?.client;
    if (!agent) return;
    if (!client?.open) {
      this._list = [];
      this.showMessage('The Faultline runtime is not connected.');
      this.tree.invalidate();
      return;
    }
    try {
      const list = await client.call('checkpoints', { agent });
      if (agent !== this._agent) return;
      this._list = list;
      this.loads++;
      this.showMessage(list.length ? undefined : `${agent} has no checkpoints yet.`);
    } catch (e) {
      if (agent !== this._agent) return;
      this._list = [];
      this.showMessage(`Cannot list the checkpoints of ${agent}: ${(e as Error).message}`);
    }
    this.tree.invalidate();
  }

  private shownMessage?: string | null = null;

  private showMessage(text?: string) {
    const next = this._agent ? text : 'Select an agent in the Agents view to see its checkpoints.';
    // Setting it, even to the same text, redraws the view in the workbench (and closes a context menu open on it).
    if (next === this.shownMessage) return;
    this.shownMessage = next;
    this.tree.view.message = next;
  }

  /** Polls only while someone can see the list. */
  private schedule() {
    const want = this.tree.view.visible && !!this._agent;
    if (want && !this.timer) {
      this.timer = setInterval(() => void this.reload(), POLL_MS);
      void this.reload();
    } else if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
