/**
 * The side panel for the selected node: its facts, state history timeline,
 * last error, active faults, an agent's recent traces, checkpoints and logs,
 * and the buttons that act on it (restart, stop, kill, hang, inject…, clear
 * faults). Buttons only post commands; what happens is seen in the tree as
 * the runtime's events arrive.
 */
import type { DashboardCheckpoint, DashboardCommand, TracesMessage } from '../../../runtime/protocol/webview.ts';
import type { HealthModel } from '../model/HealthModel.ts';
import type { LogStore } from '../model/LogStore.ts';
import type { NodeVM, TreeModel } from '../model/TreeModel.ts';
import { h, icon } from './dom.ts';
import { clock, count, duration, NONE } from './format.ts';
import { stateIcon } from './nodeCard.ts';
import { historyList, timeline } from './timeline.ts';
import { Statechart } from './Statechart.ts';
import { TRACE_REFRESH_MS, TraceView } from './TraceView.ts';
import { checkpointTimeline } from './checkpointTimeline.ts';
import type { MachineResult, MachineTransitionEvent } from '../../../runtime/protocol/machine.ts';

/** Agent faults offered by "Inject…", with example params (the fault catalogue's names). */
export const AGENT_FAULT_CHOICES: { fault: string; hint: string }[] = [
  { fault: 'crash', hint: '{}' },
  { fault: 'crash-loop', hint: '{"times": 3}' },
  { fault: 'slow', hint: '{"ms": 2000}' },
  { fault: 'hang', hint: '{}' },
  { fault: 'memory', hint: '{}' },
  { fault: 'kill', hint: '{}' },
  { fault: 'corrupt-checkpoint', hint: '{}' },
  { fault: 'drop-checkpoint', hint: '{}' },
];

export interface DetailsCallbacks {
  /** Posts a command; returns its id. */
  command(c: DashboardCommand): string;
  close(): void;
}

interface CheckpointData {
  rows: DashboardCheckpoint[] | null;
  error?: string;
}

export class DetailsPanel {
  readonly el: HTMLElement;
  private id: string | null = null;
  private readonly head: HTMLElement;
  private readonly actions: HTMLElement;
  private readonly injectForm: HTMLFormElement;
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;
  private readonly checkpoints = new Map<string, CheckpointData>();
  private readonly pending = new Map<string, string>();
  private logsEl: HTMLOListElement | null = null;
  /** When the selected agent's checkpoints were last asked for, and the timer of an ask put off (state changes come in bursts). */
  private checkpointsAsked = -Infinity;
  private checkpointsTimer: ReturnType<typeof setTimeout> | undefined;
  /** The selected node's lifecycle machine, kept across renders so its animation goes on. */
  private chart: Statechart | null = null;
  /** The selected agent's traces, kept across renders (its selection and focus with it). */
  private traces: TraceView | null = null;
  /** The buttons are rebuilt only for another node, so focus stays on a pressed button. */
  private actionsKey = '';

  constructor(private readonly tree: TreeModel, private readonly health: HealthModel, private readonly logs: LogStore, private readonly cb: DetailsCallbacks) {
    this.head = h('header', { class: 'details-head' });
    this.actions = h('div', { class: 'actions', role: 'toolbar' });
    this.injectForm = this.buildInjectForm();
    this.status = h('p', { class: 'command-status', role: 'status', 'aria-live': 'polite' });
    this.body = h('div', { class: 'details-body' });
    this.el = h('aside', { class: 'details', 'aria-label': 'Details', hidden: true }, this.head, this.actions, this.injectForm, this.status, this.body);
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.cb.close();
      }
    });
  }

  get selected(): string | null {
    return this.id;
  }

  /** Opens the panel on a node (or closes it with null); asks for its checkpoints and logs. */
  show(id: string | null): void {
    const changed = id !== this.id;
    this.id = id;
    this.el.hidden = id === null;
    if (!id || (changed && this.tree.get(id)?.kind !== 'agent')) {
      this.traces?.dispose();
      this.traces = null;
    }
    if (!id) return;
    if (changed) {
      // An ask put off for the previous node would swallow this one's next state change.
      clearTimeout(this.checkpointsTimer);
      this.checkpointsTimer = undefined;
      this.injectForm.hidden = true;
      this.status.textContent = '';
      const n = this.tree.get(id);
      if (n?.kind === 'agent') {
        this.refreshData(id);
        this.openTraces(id);
      }
    }
    this.render();
  }

  private openTraces(id: string): void {
    this.traces?.dispose();
    this.traces = new TraceView(id, { command: (c) => this.cb.command(c), send: (c, what) => this.send(c, what) });
  }

  /** The answer to the `traces` command. */
  setTraces(m: TracesMessage): void {
    if (this.traces?.agent === m.agent) this.traces.setTraces(m);
  }

  /** The agent changed state (a crash, a restart): its traces may have too. Bounded by the view. */
  agentChanged(agent: string): void {
    if (this.id !== agent) return;
    if (this.traces?.agent === agent) this.traces.refresh();
    this.refreshCheckpoints(agent);
  }

  /** Asks for the agent's checkpoints now, or once TRACE_REFRESH_MS has passed since the last ask; the shown rows stay meanwhile. */
  private refreshCheckpoints(agent: string): void {
    if (this.checkpointsTimer !== undefined) return;
    const ask = () => {
      this.checkpointsAsked = performance.now();
      this.cb.command({ action: 'checkpoints', target: agent });
    };
    const wait = this.checkpointsAsked + TRACE_REFRESH_MS - performance.now();
    if (wait <= 0) return ask();
    this.checkpointsTimer = setTimeout(() => {
      this.checkpointsTimer = undefined;
      if (this.id === agent) ask();
    }, wait);
  }

  /** A fresh statechart for the node, and its machine asked for. */
  private openChart(id: string): void {
    this.chart?.dispose();
    this.chart = new Statechart(id);
    this.cb.command({ action: 'machine', target: id });
  }

  /** The answer to the `machine` command. */
  setMachine(id: string, machine: MachineResult | undefined, error?: string): void {
    if (this.chart?.id === id) this.chart.setMachine(machine, error);
  }

  /** A lifecycle transition of some node: the open statechart plays it when it is its node's. */
  machineTransition(e: MachineTransitionEvent): void {
    this.chart?.transition(e);
  }

  private refreshData(id: string): void {
    this.checkpoints.set(id, { rows: null });
    this.checkpointsAsked = performance.now();
    this.cb.command({ action: 'checkpoints', target: id });
    this.cb.command({ action: 'logs', target: id, params: { limit: 200 } });
  }

  render(): void {
    const n = this.id ? this.tree.get(this.id) : undefined;
    if (!this.id) return;
    // Moving the kept parts (the traces) into new sections drops the focus of a keyboard user in them: given back below.
    const focused = document.activeElement as HTMLElement | null;
    const keep = focused && this.traces?.el.contains(focused) ? focused : null;
    if (!n) {
      this.head.replaceChildren(h('h2', { text: this.id }), this.closeButton());
      this.actions.replaceChildren();
      this.actionsKey = '';
      this.body.replaceChildren(h('p', { class: 'empty', text: this.tree.rootId ? 'This node is not in the tree now.' : 'Waiting for the runtime…' }));
      return;
    }
    // Restored after the panel was hidden: the node arrives with the first snapshot, so fetch its data now.
    if (n.kind === 'agent' && !this.checkpoints.has(n.id)) this.refreshData(n.id);
    if (n.kind === 'agent' && this.traces?.agent !== n.id) this.openTraces(n.id);
    this.el.setAttribute('aria-label', `Details of ${n.kind} ${n.id}`);
    this.head.replaceChildren(
      h('h2', { class: `state-${n.state}` }, icon(stateIcon(n.state), 'state-icon'), h('span', { class: 'details-id', text: n.id })),
      h('span', { class: 'details-kind', text: `${n.kind} · ${n.state}` }),
      this.closeButton(),
    );
    this.renderActions(n);
    const sections: HTMLElement[] = [this.facts(n), this.section('Active faults', 'zap', this.faultList(n.id)), this.section('State history', 'history', timeline(n.history), historyList(n.history))];
    if (this.chart?.id !== n.id) this.openChart(n.id);
    const reloadChart = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Reload the lifecycle machine of ${n.id}`, onclick: () => { this.openChart(n.id); this.render(); } }, icon('refresh'));
    sections.push(this.section('Lifecycle', 'symbol-event', this.chart!.el, reloadChart));
    sections.push(this.section('Last error', 'error', n.lastError ? h('div', { class: 'last-error' }, h('strong', { text: n.lastError.type }), h('p', { text: n.lastError.message }), h('span', { class: 'muted', text: clock(n.lastError.time) })) : h('p', { class: 'muted', text: 'None.' })));
    if (n.kind === 'agent') {
      sections.push(this.section('Traces', 'pulse', this.traces!.el));
      sections.push(this.section('Checkpoints', 'database', this.checkpointTable(n.id)));
      this.logsEl = h('ol', { class: 'logs', 'aria-label': `Logs of ${n.id}` });
      this.fillLogs(n.id);
      sections.push(this.section('Logs', 'output', this.logsEl));
    } else this.logsEl = null;
    this.body.replaceChildren(...sections);
    keep?.focus({ preventScroll: true });
  }

  /** New log lines for the selected agent (cheaper than a full render). */
  renderLogs(): void {
    if (this.id && this.logsEl) this.fillLogs(this.id);
  }

  setCheckpoints(agent: string, rows: DashboardCheckpoint[], error?: string): void {
    this.checkpoints.set(agent, { rows: Array.isArray(rows) ? rows : [], error });
    if (agent === this.id) this.render();
  }

  commandResult(id: string, ok: boolean, error?: string): void {
    this.traces?.commandResult(id, ok, error);
    const what = this.pending.get(id);
    if (!what) return;
    this.pending.delete(id);
    this.status.className = `command-status ${ok ? 'ok' : 'failed'}`;
    this.status.textContent = ok ? `${what}: done.` : `${what} failed: ${error ?? 'unknown error'}`;
  }

  private send(c: DashboardCommand, what: string): void {
    const id = this.cb.command(c);
    this.pending.set(id, what);
    this.status.className = 'command-status';
    this.status.textContent = `${what}…`;
  }

  private closeButton(): HTMLElement {
    return h('button', { class: 'icon-button close', type: 'button', 'aria-label': 'Close details', title: 'Close (Escape)', onclick: () => this.cb.close() }, icon('close'));
  }

  private renderActions(n: NodeVM): void {
    if (this.actionsKey === `${n.kind}\u0000${n.id}`) return;
    this.actionsKey = `${n.kind}\u0000${n.id}`;
    this.actions.setAttribute('aria-label', `Actions on ${n.id}`);
    const b = (action: string, iconName: string, label: string, run: () => void, cls = '') =>
      h('button', { type: 'button', class: `action ${cls}`, 'data-action': action, 'aria-label': `${label} ${n.id}`, onclick: run }, icon(iconName), ` ${label}`);
    const buttons = [b('restart', 'debug-restart', 'Restart', () => this.send({ action: 'restart', target: n.id }, `Restart ${n.id}`)), b('stop', 'debug-stop', 'Stop', () => this.send({ action: 'stop', target: n.id }, `Stop ${n.id}`))];
    if (n.kind === 'agent') {
      buttons.push(
        b('kill', 'flame', 'Kill', () => this.send({ action: 'kill', target: n.id }, `Kill ${n.id}`), 'danger'),
        b('hang', 'debug-pause', 'Hang', () => this.send({ action: 'hang', target: n.id }, `Hang ${n.id}`), 'danger'),
        b('inject', 'zap', 'Inject…', () => this.openInject()),
      );
    }
    buttons.push(b('clearFaults', 'clear-all', 'Clear faults', () => this.send({ action: 'clearFaults', target: n.id }, `Clear faults on ${n.id}`)));
    this.actions.replaceChildren(...buttons);
  }

  private buildInjectForm(): HTMLFormElement {
    const select = h('select', { name: 'fault', 'aria-label': 'Fault' }, ...AGENT_FAULT_CHOICES.map((c) => h('option', { value: c.fault, text: c.fault })));
    const params = h('input', { name: 'params', type: 'text', 'aria-label': 'Fault parameters as JSON', placeholder: AGENT_FAULT_CHOICES[0].hint, spellcheck: 'false' });
    const error = h('span', { class: 'form-error', role: 'alert' });
    select.addEventListener('change', () => (params.placeholder = AGENT_FAULT_CHOICES.find((c) => c.fault === select.value)?.hint ?? '{}'));
    const form = h(
      'form',
      { class: 'inject-form', hidden: true, 'aria-label': 'Inject a fault' },
      h('label', {}, 'Fault ', select),
      h('label', {}, 'Params ', params),
      h('button', { type: 'submit', class: 'action primary' }, icon('zap'), ' Inject'),
      h('button', { type: 'button', class: 'action', onclick: () => (form.hidden = true) }, 'Cancel'),
      error,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!this.id) return;
      let p: unknown = {};
      try {
        p = params.value.trim() ? JSON.parse(params.value) : {};
        if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not an object');
      } catch {
        error.textContent = 'Params must be a JSON object, e.g. {"ms": 2000}.';
        params.focus();
        return;
      }
      error.textContent = '';
      const fault = select.value;
      const rec = p as Record<string, never>;
      this.send({ action: 'inject', target: this.id, params: Object.keys(rec).length ? { fault, params: rec } : { fault } }, `Inject ${fault} into ${this.id}`);
      form.hidden = true;
    });
    return form;
  }

  private openInject(): void {
    this.injectForm.hidden = false;
    this.injectForm.querySelector('select')?.focus();
  }

  private section(title: string, iconName: string, ...content: Element[]): HTMLElement {
    return h('section', { class: 'details-section', 'aria-label': title }, h('h3', {}, icon(iconName), ` ${title}`), ...content);
  }

  private facts(n: NodeVM): HTMLElement {
    const rows: [string, string][] = [['State', n.liveness === false ? `${n.state} (not responding)` : n.state], ['Restarts', count(n.restarts)]];
    if (n.node) rows.push(['Node', n.node]);
    if (n.kind === 'agent') {
      rows.push(['PID', n.pid === null ? NONE : String(n.pid)], ['Isolation', n.isolation ?? NONE], ['Restart type', n.restart ?? NONE], ['Mailbox', count(n.mailbox)], ['Ready', n.readiness === undefined ? NONE : n.readiness ? 'yes' : 'no'], ['Module', n.module ?? NONE]);
      if (n.startedAt) rows.push(['Up for', duration(Date.now() - Date.parse(n.startedAt))]);
    } else {
      const i = n.intensity;
      rows.push(['Strategy', n.strategy ?? NONE], ['Intensity', i ? `${i.inWindow} of ${i.limit} restarts in ${duration(i.periodMs)}` : NONE], ['Children', count(n.children.length)]);
    }
    return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
  }

  private faultList(id: string): HTMLElement {
    const faults = this.health.faultsOn(id);
    if (faults.length === 0) return h('p', { class: 'muted', text: 'None.' });
    return h('ul', { class: 'faults' }, ...faults.map((f) => h('li', {}, icon('zap'), ` ${f.fault} `, h('span', { class: 'muted', text: f.id }), h('button', { type: 'button', class: 'icon-button', 'aria-label': `Clear fault ${f.fault} (${f.id})`, onclick: () => this.send({ action: 'clearFaults', target: id, params: { id: f.id } }, `Clear ${f.fault}`) }, icon('close')))));
  }

  private checkpointTable(agent: string): HTMLElement {
    const data = this.checkpoints.get(agent);
    const refresh = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Reload checkpoints of ${agent}`, onclick: () => this.refreshData(agent) }, icon('refresh'));
    if (!data || data.rows === null) return h('div', {}, h('p', { class: 'muted', text: 'Loading…' }), refresh);
    if (data.error) return h('div', {}, h('p', { class: 'error-text', text: data.error }), refresh);
    if (data.rows.length === 0) return h('div', {}, h('p', { class: 'muted', text: 'No checkpoints yet.' }), refresh);
    const head = h('tr', {}, ...['seq', 'version', 'kind', 'size', 'time', 'valid'].map((c) => h('th', { scope: 'col', text: c })));
    const rows = [...data.rows]
      .sort((a, b) => b.seq - a.seq)
      .map((c) => h('tr', { class: c.valid ? '' : 'invalid' }, h('td', { text: String(c.seq) }), h('td', { text: `v${c.version}` }), h('td', { text: c.kind }), h('td', { text: `${count(c.size)} B` }), h('td', { text: clock(c.time) }), h('td', { 'aria-label': c.valid ? 'valid' : 'corrupt' }, icon(c.valid ? 'pass' : 'error'), c.valid ? ' ok' : ' corrupt')));
    return h('div', {}, checkpointTimeline(agent, data.rows), h('table', { class: 'checkpoints', 'aria-label': `Checkpoints of ${agent}` }, h('thead', {}, head), h('tbody', {}, ...rows)), refresh);
  }

  private fillLogs(agent: string): void {
    const lines = this.logs.of(agent).slice(-100);
    const items = lines.map((l) => h('li', { class: `log level-${l.level}` }, h('span', { class: 'log-time', text: clock(l.time) }), h('span', { class: 'log-level', text: l.level }), h('span', { class: 'log-msg', text: l.msg })));
    if (items.length === 0) items.push(h('li', { class: 'muted', text: 'No log lines yet.' }));
    this.logsEl!.replaceChildren(...items);
    this.logsEl!.scrollTop = this.logsEl!.scrollHeight;
  }
}
