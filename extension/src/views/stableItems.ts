/**
 * Keeps a tree view's row objects stable across updates. VS Code's extension
 * host maps each row's handle to the object getChildren returned; a full
 * refresh forgets them all until the view fetches again, and a context-menu
 * command that lands in that gap receives `undefined` instead of its row. So
 * while the tree keeps its shape (the same ids in the same places) the new
 * data is copied onto the old objects, and only the rows whose visible fields
 * changed are refreshed.
 */
import type { ItemView } from '../model/agentTree.ts';

/** What a row shows: a change here needs a redraw of that row. */
export function rowSignature(v: ItemView): string {
  return JSON.stringify([v.label, v.description, v.icon, v.color ?? null, v.contextValue, v.tooltip]);
}

function shapeOf(items: ItemView[] | undefined): unknown[] {
  return (items ?? []).map((v) => [v.id, shapeOf(v.children)]);
}

export function flatten(items: ItemView[]): ItemView[] {
  return items.flatMap((v) => [v, ...flatten(v.children ?? [])]);
}

export class StableItems {
  private roots?: ItemView[];
  private shape = '';
  private reshaped = false;

  /** The current rows, on the previous objects when the shape is unchanged. */
  update(next: ItemView[]): ItemView[] {
    const shape = JSON.stringify(shapeOf(next));
    if (!this.roots || shape !== this.shape) {
      this.roots = next;
      this.shape = shape;
      this.reshaped = true;
      return next;
    }
    const copy = (into: ItemView, from: ItemView) => {
      into.label = from.label;
      into.description = from.description;
      into.icon = from.icon;
      into.color = from.color;
      into.contextValue = from.contextValue;
      into.tooltip = from.tooltip;
      into.node = from.node;
      into.children?.forEach((c, i) => copy(c, from.children![i]));
    };
    this.roots.forEach((r, i) => copy(r, next[i]));
    return this.roots;
  }

  /** True once after rows were added, removed or moved (the view needs a full refresh). */
  takeReshaped(): boolean {
    const r = this.reshaped;
    this.reshaped = false;
    return r;
  }
}
