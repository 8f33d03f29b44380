/**
 * The tools of each MCP dependency's server, for the Dependencies view. A
 * list is read through the runtime's `tools` method when the server is first
 * seen running, and again whenever it was started anew (its pid or its
 * restart count changed); one request per dependency at a time, and after
 * a failed read not again for RETRY_MS. Lists of servers that went away are
 * forgotten, and all of them on disconnect.
 */
import type { DependencyStatus } from '../../../runtime/protocol/status.ts';
import type { McpTool } from '../../../runtime/protocol/schema/mcp.ts';
import { Emitter, type Disposable } from '../util/emitter.ts';

export type ToolsCall = (dependency: string) => Promise<{ tools: McpTool[]; stale?: boolean }>;

/** What the view shows under a dependency: its tools, or why they could not be read. */
export interface ToolList {
  tools?: McpTool[];
  error?: string;
  stale?: boolean;
}

/** After a failed read, the next one waits this long (a read goes through the dependency's retries). */
export const RETRY_MS = 10_000;

/** Which start of the server a list belongs to: a new one is read again. */
const generation = (d: DependencyStatus) => `${d.server?.pid ?? ''}/${d.server?.restarts ?? 0}`;

export class McpTools implements Disposable {
  private readonly lists = new Map<string, { generation: string; list: ToolList; at: number }>();
  private readonly reading = new Set<string>();
  private call: ToolsCall | undefined;
  private readonly changed = new Emitter<void>();
  /** Fires when a list arrived or was dropped. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly now: () => number = Date.now) {}

  /** Brings the lists in line with the latest status; `call` is undefined while disconnected. */
  sync(deps: DependencyStatus[] | undefined, call: ToolsCall | undefined): void {
    this.call = call;
    const mcp = call ? (deps ?? []).filter((d) => d.kind === 'mcp') : [];
    let dropped = false;
    for (const id of this.lists.keys()) {
      if (!mcp.some((d) => d.id === id)) dropped = this.lists.delete(id) || dropped;
    }
    if (dropped) this.changed.fire();
    for (const d of mcp) {
      if (d.server?.state !== 'running' || this.reading.has(d.id)) continue;
      const g = generation(d);
      const had = this.lists.get(d.id);
      if (had?.generation === g && (!had.list.error || this.now() - had.at < RETRY_MS)) continue;
      void this.read(d.id, g, call!);
    }
  }

  get(dependency: string): ToolList | undefined {
    return this.lists.get(dependency)?.list;
  }

  private async read(id: string, g: string, call: ToolsCall): Promise<void> {
    this.reading.add(id);
    let list: ToolList;
    try {
      const r = await call(id);
      list = { tools: r.tools, ...(r.stale ? { stale: true } : {}) };
    } catch (e) {
      list = { error: (e as Error).message };
    } finally {
      this.reading.delete(id);
    }
    // Disconnected, or connected to another runtime, meanwhile: the answer is for nobody.
    if (this.call !== call) return;
    this.lists.set(id, { generation: g, list, at: this.now() });
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
