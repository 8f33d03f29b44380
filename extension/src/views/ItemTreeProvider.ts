/**
 * A tree view over plain `ItemView` data (see model/agentTree.ts) that
 * redraws only while it is visible: changes that arrive while it is hidden
 * mark it stale, and it redraws once when it is shown again. A redraw
 * refreshes only the rows that look different, on stable row objects
 * (stableItems.ts), so a context menu opened during live updates keeps its row.
 */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import type { ItemView } from '../model/agentTree.ts';
import { debounce, type Debounced } from '../util/debounce.ts';
import { flatten, rowSignature, StableItems } from './stableItems.ts';

export class ItemTreeProvider implements vscode.TreeDataProvider<ItemView>, vscode.Disposable {
  private readonly changed: vscode.EventEmitter<ItemView | ItemView[] | undefined>;
  readonly onDidChangeTreeData: vscode.Event<ItemView | ItemView[] | undefined>;
  readonly view: vscode.TreeView<ItemView>;
  private stale = false;
  private readonly rows = new StableItems();
  /** What VS Code last got for each row (getTreeItem), to tell which rows changed. */
  private readonly sent = new WeakMap<ItemView, string>();
  private readonly redraw: Debounced;
  private readonly subs: vscode.Disposable[] = [];
  /** Redraws done; integration tests wait on it. */
  redraws = 0;

  constructor(private readonly vs: VSCode, viewId: string, private readonly items: () => ItemView[], private readonly badge?: () => vscode.ViewBadge | undefined) {
    this.changed = new vs.EventEmitter();
    this.onDidChangeTreeData = this.changed.event;
    this.view = vs.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: viewId === 'faultline.agents' });
    this.redraw = debounce(() => this.fire(), 100, { maxWaitMs: 500 });
    this.subs.push(
      this.view,
      this.changed,
      this.view.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) this.fire();
      }),
    );
  }

  /** Asks for a redraw; applied (debounced) only while the view is visible. */
  invalidate(): void {
    // The badge shows on the activity bar even when the view is hidden: keep it current.
    if (this.badge) this.view.badge = this.badge();
    if (this.view.visible) this.redraw.schedule();
    else this.stale = true;
  }

  private fire() {
    this.stale = false;
    const roots = this.rows.update(this.items());
    if (this.rows.takeReshaped()) {
      this.redraws++;
      this.changed.fire(undefined);
      return;
    }
    const changed = flatten(roots).filter((v) => this.sent.has(v) && this.sent.get(v) !== rowSignature(v));
    if (!changed.length) return;
    this.redraws++;
    this.changed.fire(changed);
  }

  /** VS Code asks for a row: what it gets now is what a later redraw compares with. */
  getTreeItem(v: ItemView): vscode.TreeItem {
    this.sent.set(v, rowSignature(v));
    return this.toTreeItem(v);
  }

  /** The row as a TreeItem, without recording it as shown (for tests and other readers). */
  toTreeItem(v: ItemView): vscode.TreeItem {
    const vs = this.vs;
    const item = new vs.TreeItem(v.label, v.children?.length ? (v.collapsed ? vs.TreeItemCollapsibleState.Collapsed : vs.TreeItemCollapsibleState.Expanded) : vs.TreeItemCollapsibleState.None);
    item.id = v.id;
    item.description = v.description;
    item.iconPath = new vs.ThemeIcon(v.icon, v.color ? new vs.ThemeColor(v.color) : undefined);
    item.contextValue = v.contextValue;
    const md = new vs.MarkdownString(v.tooltip);
    md.supportThemeIcons = true;
    item.tooltip = md;
    return item;
  }

  getChildren(v?: ItemView): ItemView[] {
    return v ? v.children ?? [] : this.rows.update(this.items());
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    this.redraw.dispose();
    for (const s of this.subs) s.dispose();
  }
}
