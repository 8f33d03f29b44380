/**
 * The dashboard's controller: applies each frame's messages to the models,
 * then redraws only what they changed (the tree's layout only when its shape
 * or the view options changed), keeps the view state that must survive the
 * panel being hidden, and turns button presses into protocol commands.
 */
import type { AgentStateEvent, BreakerStateEvent, LogEvent, MachineTransitionEvent, SupervisorStateEvent } from '../../runtime/protocol/events.ts';
import type { DashboardCommand, ExtensionToWebviewMessage, RuntimeEvent } from '../../runtime/protocol/webview.ts';
import type { Host, ViewState } from './host.ts';
import { layoutTree } from './layout.ts';
import { ClusterModel } from './model/ClusterModel.ts';
import { HealthModel } from './model/HealthModel.ts';
import { LogStore } from './model/LogStore.ts';
import { isUnhealthy, TreeModel } from './model/TreeModel.ts';
import { BusinessTier } from './view/BusinessTier.ts';
import { ClusterView } from './view/ClusterView.ts';
import { DependenciesView } from './view/DependenciesView.ts';
import { DetailsPanel } from './view/DetailsPanel.ts';
import { h, icon } from './view/dom.ts';
import { InfraTier } from './view/InfraTier.ts';
import type { CardOwner } from './view/nodeCard.ts';
import { Toolbar } from './view/Toolbar.ts';
import { TreeView } from './view/TreeView.ts';

/** Between snapshots the webview asks for a fresh one this often, for figures no event carries (intensity windows, memory). */
const REFRESH_MS = 5_000;
/** An event naming an unknown node means the tree changed; ask at most this often. */
const UNKNOWN_NODE_SNAPSHOT_MS = 1_000;
/** The toolbar's agent counts refresh at most this often. */
const COUNTS_MS = 250;

export class Dashboard {
  readonly tree = new TreeModel();
  readonly health = new HealthModel();
  readonly logs = new LogStore();
  readonly cluster = new ClusterModel();
  private readonly toolbar: Toolbar;
  private readonly business: BusinessTier;
  private readonly treeView: TreeView;
  private readonly clusterView: ClusterView;
  private readonly deps: DependenciesView;
  private readonly infra: InfraTier;
  private readonly details: DetailsPanel;
  private state: ViewState;
  private collapsed: Set<string>;
  private layoutKey = '';
  /** Health of each node as of the last layout: a flip changes what the filter shows. */
  private healthAtLayout = new Map<string, boolean>();
  private markedNodes = new Set<string>();
  private lastSnapshotAt = 0;
  private countedAt = -Infinity;
  private countsTimer: ReturnType<typeof setTimeout> | undefined;
  private lastAskedAt = -Infinity;
  private seq = 0;
  /** Set by main: pauses and resumes the frame batcher. */
  onPauseChange: (paused: boolean) => number = () => 0;

  constructor(root: HTMLElement, private readonly host: Host) {
    this.state = host.loadState();
    this.collapsed = new Set(this.state.collapsed);
    this.toolbar = new Toolbar({ togglePause: () => this.setPaused(!this.state.paused), toggleUnhealthy: () => this.setUnhealthy(!this.state.unhealthyOnly), refresh: () => this.askSnapshot(true) });
    this.business = new BusinessTier(this.health);
    this.treeView = new TreeView(this.tree, {
      select: (id) => this.select(id),
      toggle: (id, expand) => this.toggle(id, expand),
      marks: (id) => this.marks(id),
      owner: (node) => this.owner(node),
    });
    this.clusterView = new ClusterView(this.cluster);
    this.deps = new DependenciesView(this.health);
    this.infra = new InfraTier(this.health, this.tree);
    this.details = new DetailsPanel(this.tree, this.health, this.logs, { command: (c) => this.command(c), close: () => this.select(null, true) });
    const system = h('section', { class: 'tier system', 'aria-labelledby': 'h-system' }, h('h2', { id: 'h-system' }, icon('type-hierarchy'), ' System'), this.clusterView.el, h('div', { class: 'system-body' }, this.treeView.el, this.deps.el));
    root.replaceChildren(this.toolbar.el, h('div', { class: 'layout' }, h('div', { class: 'tiers' }, this.business.el, system, this.infra.el), this.details.el));
    root.removeAttribute('aria-busy');
    this.toolbar.setUnhealthy(this.state.unhealthyOnly);
    this.toolbar.setPaused(this.state.paused, 0);
    this.business.render();
    this.deps.render();
    this.infra.render();
    if (this.state.selected) this.details.show(this.state.selected);
  }

  get paused(): boolean {
    return this.state.paused;
  }

  /** One frame's worth of messages. */
  apply(messages: readonly ExtensionToWebviewMessage[]): void {
    let logsChanged = false;
    for (const m of messages) {
      switch (m.type) {
        case 'snapshot':
          if (!m.status || !m.status.tree) break;
          this.tree.applySnapshot(m.status.tree, new Date().toISOString());
          this.health.applySnapshot(m.status);
          this.cluster.applySnapshot(m.status);
          this.lastSnapshotAt = performance.now();
          break;
        case 'event':
          logsChanged = this.onEvent(m) || logsChanged;
          break;
        case 'batch':
          if (Array.isArray(m.events)) for (const e of m.events) logsChanged = this.onEvent(e) || logsChanged;
          break;
        case 'checkpoints':
          this.details.setCheckpoints(m.agent, m.checkpoints, m.error);
          break;
        case 'logs':
          if (Array.isArray(m.lines)) this.logs.merge(m.agent, m.lines);
          logsChanged = logsChanged || m.agent === this.details.selected;
          break;
        case 'commandResult':
          this.details.commandResult(m.id, m.ok, m.error);
          break;
        case 'machine':
          this.details.setMachine(m.id, m.machine, m.error);
          break;
        case 'traces':
          this.details.setTraces(m);
          break;
        case 'connection':
          this.toolbar.setLink(m.state, m.message);
          break;
      }
    }
    this.render(logsChanged);
  }

  private onEvent(e: RuntimeEvent): boolean {
    if (!e || typeof e !== 'object') return false;
    const p = e.payload as unknown;
    switch (e.name) {
      case 'agent.state':
        if (!this.tree.applyAgentState(p as AgentStateEvent)) this.askSnapshot(false);
        else this.details.agentChanged((p as AgentStateEvent).agent);
        return false;
      case 'supervisor.state':
        if (!this.tree.applySupervisorState(p as SupervisorStateEvent)) this.askSnapshot(false);
        return false;
      case 'breaker.state':
        this.health.applyBreaker(p as BreakerStateEvent);
        return false;
      case 'alert':
        this.health.applyAlert(p);
        return false;
      case 'fault':
        this.health.applyFault(p);
        return false;
      case 'metrics':
        this.health.applyMetrics(p);
        return false;
      case 'machine.transition':
        this.details.machineTransition(p as MachineTransitionEvent);
        return false;
      case 'dependency.call':
        this.health.applyDependencyCall(p);
        return false;
      case 'log':
        return this.logs.add(p as LogEvent) === this.details.selected && this.details.selected !== null;
      default:
        return false;
    }
  }

  private render(logsChanged: boolean): void {
    const hd = this.health.takeDirty();
    if (hd.has('faults') || hd.has('alerts')) this.remark();
    // Cluster changes come with snapshots, which redraw every card (and so the node badges) anyway.
    if (this.cluster.takeDirty()) this.clusterView.render();
    const dirty = this.tree.takeDirty();
    const key = `${this.tree.structureVersion}|${this.state.unhealthyOnly}|${[...this.collapsed].join('\u0000')}`;
    let relayout = key !== this.layoutKey;
    if (!relayout && (this.state.unhealthyOnly || this.collapsed.size > 0)) {
      for (const id of dirty) {
        const n = this.tree.get(id);
        if (n && this.healthAtLayout.get(id) !== isUnhealthy(n)) {
          relayout = true;
          break;
        }
      }
    }
    if (relayout) {
      this.layoutKey = key;
      const layout = layoutTree(this.tree, { collapsed: this.collapsed, unhealthyOnly: this.state.unhealthyOnly });
      this.healthAtLayout = new Map([...this.tree.nodes.values()].map((n) => [n.id, isUnhealthy(n)]));
      this.treeView.setLayout(layout, this.state.selected);
    } else if (dirty.size) this.treeView.update(dirty);
    // Counting walks every node: a few times a second is as often as anyone reads it.
    if (dirty.size && performance.now() - this.countedAt > COUNTS_MS) this.recount();
    else if (dirty.size && !this.countsTimer) this.countsTimer = setTimeout(() => this.recount(), COUNTS_MS);

    if (hd.has('runtime')) this.toolbar.setRuntime(this.health.runtime);
    if (hd.has('business')) this.business.render();
    else if (hd.has('alerts')) this.business.renderAlerts();
    if (hd.has('deps')) this.deps.render();
    if (hd.has('infra') || (dirty.size && relayout)) this.infra.render();

    const sel = this.state.selected;
    if (sel && (dirty.has(sel) || hd.has('faults'))) this.details.render();
    else if (logsChanged) this.details.renderLogs();
  }

  private recount(): void {
    clearTimeout(this.countsTimer);
    this.countsTimer = undefined;
    this.countedAt = performance.now();
    this.toolbar.setCounts(this.tree.counts());
  }

  /** Faults and alerts moved: redraw the badges of every node that had or has one. */
  private remark(): void {
    const now = new Set<string>();
    for (const f of this.health.faults.values()) now.add(f.target);
    for (const a of this.health.alerts.values()) now.add(a.subject);
    for (const id of new Set([...this.markedNodes, ...now])) if (this.tree.get(id)) this.tree.markDirty(id);
    this.markedNodes = now;
  }

  private marks(id: string): { faults: number; alerts: number } {
    if (!this.markedNodes.has(id)) return { faults: 0, alerts: 0 };
    let alerts = 0;
    for (const a of this.health.alerts.values()) if (a.subject === id) alerts++;
    return { faults: this.health.faultsOn(id).length, alerts };
  }

  private owner(node: string): CardOwner | undefined {
    if (!this.cluster.active) return undefined;
    const n = this.cluster.get(node);
    return { id: node, state: n?.state ?? 'unknown', self: node === this.cluster.self };
  }

  select(id: string | null, returnFocus = false): void {
    const prev = this.state.selected;
    this.state.selected = id;
    this.persist();
    this.treeView.setSelected(id);
    this.details.show(id);
    if (returnFocus && prev) this.treeView.focusNode(prev);
  }

  private toggle(id: string, expand?: boolean): void {
    const open = expand ?? this.collapsed.has(id);
    if (open) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.state.collapsed = [...this.collapsed];
    this.persist();
    this.render(false);
    this.treeView.focusNode(id);
  }

  setUnhealthy(on: boolean): void {
    this.state.unhealthyOnly = on;
    this.persist();
    this.toolbar.setUnhealthy(on);
    this.render(false);
  }

  setPaused(paused: boolean): void {
    this.state.paused = paused;
    this.persist();
    const held = this.onPauseChange(paused);
    this.toolbar.setPaused(paused, held);
    this.host.post({ type: 'setLive', live: !paused });
  }

  /** While paused, the toolbar shows how many updates wait. */
  showHeld(held: number): void {
    if (this.state.paused) this.toolbar.setPaused(true, held);
  }

  askSnapshot(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastAskedAt < UNKNOWN_NODE_SNAPSHOT_MS) return;
    this.lastAskedAt = now;
    this.host.post({ type: 'requestSnapshot' });
  }

  /** Once a second: running durations, and a fresh snapshot when the last is old. */
  tick(): void {
    this.business.tick();
    this.clusterView.tick();
    this.toolbar.tick();
    if (!this.state.paused && this.lastSnapshotAt > 0 && performance.now() - this.lastSnapshotAt > REFRESH_MS && performance.now() - this.lastAskedAt > REFRESH_MS) this.askSnapshot(true);
  }

  private command(c: DashboardCommand): string {
    const id = `c${++this.seq}`;
    this.host.post({ type: 'command', id, ...c } as Parameters<Host['post']>[0]);
    return id;
  }

  private persist(): void {
    this.host.saveState({ ...this.state, collapsed: [...this.collapsed] });
  }
}
