/**
 * Hosts the dashboard webview: the page from the protocol's `dashboardHtml`
 * (nonce CSP), a snapshot on `ready`/`requestSnapshot` and after reconnects,
 * runtime events coalesced into one `batch` post per 100 ms while live, and
 * the dashboard's buttons turned into control-channel calls (and a span's
 * code opened in the editor). Every message
 * from the page goes through `validateWebviewMessage` first.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import type { CommandMessage, ExtensionToWebviewMessage, RuntimeEvent, ValidationResult } from '../../../runtime/protocol/webview.ts';
import { dashboardHtml } from '../../../runtime/protocol/dashboardHtml.ts';
import { findNode } from '../../../runtime/protocol/status.ts';
import { codeLocation, showCode } from '../commands/openCode.ts';
import { tracesReply } from './tracesReply.ts';
import type { HealthModel } from '../model/HealthModel.ts';
import type { RuntimeManager } from '../runtime/RuntimeManager.ts';

export interface DashboardDeps {
  vs: VSCode;
  extensionPath: string;
  model: HealthModel;
  manager: () => RuntimeManager | undefined;
  log: vscode.LogOutputChannel;
}

export class DashboardPanel {
  private static current?: DashboardPanel;
  /** The page's messages are checked by the protocol's schemas, bundled apart (dist/webviewMessages.js) to keep zod off the activation path. */
  private static validate?: (raw: unknown) => ValidationResult;
  private readonly subs: vscode.Disposable[] = [];
  private queue: RuntimeEvent[] = [];
  private flushTimer?: NodeJS.Timeout;
  private live = true;

  static show(deps: DashboardDeps, assets: string): void {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return;
    }
    DashboardPanel.current = new DashboardPanel(deps, assets);
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly d: DashboardDeps, assets: string) {
    const { vs } = d;
    const root = vs.Uri.file(assets);
    this.panel = vs.window.createWebviewPanel('faultline.dashboard', 'Faultline Dashboard', vs.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
    const w = this.panel.webview;
    const uri = (...p: string[]) => w.asWebviewUri(vs.Uri.file(path.join(assets, ...p))).toString();
    w.html = dashboardHtml({ cspSource: w.cspSource, nonce: randomBytes(16).toString('base64'), scriptUri: uri('dashboard.js'), styleUri: uri('dashboard.css'), codiconsUri: uri('codicons', 'codicon.css') });
    this.subs.push(
      w.onDidReceiveMessage((m) => void this.receive(m)),
      this.panel.onDidDispose(() => this.dispose()),
      d.model.onEvent((e) => this.enqueue(e)),
    );
    const manager = d.manager();
    if (manager) this.subs.push(manager.onState((s) => this.postConnection(s)));
    // After a (re)connect: the fresh status the model loaded, as soon as it has it (no guessed delay).
    this.subs.push(d.model.onDidAttach(() => this.postSnapshot()));
  }

  private post(m: ExtensionToWebviewMessage) {
    void this.panel.webview.postMessage(m);
  }

  private postConnection(s: string) {
    this.post({ type: 'connection', state: s === 'connected' ? 'connected' : s === 'stopped' || s === 'failed' ? 'disconnected' : 'connecting' });
  }

  private postSnapshot() {
    const s = this.d.model.snapshot;
    if (!s.status) return this.post({ type: 'connection', state: 'disconnected', message: 'The Faultline runtime is not running.' });
    // A page opened (or shown again) after the connection came up has not seen its state change.
    const manager = this.d.manager();
    if (manager) this.postConnection(manager.state);
    this.post({ type: 'snapshot', status: { ...s.status, faults: s.faults, alerts: s.alerts } as never });
  }

  private enqueue(e: { name: string; params: unknown }) {
    if (!this.live) return;
    this.queue.push({ name: e.name, payload: e.params } as RuntimeEvent);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      const events = this.queue;
      this.queue = [];
      if (events.length) this.post({ type: 'batch', events });
    }, 100);
  }

  private async receive(raw: unknown) {
    DashboardPanel.validate ??= (require(path.join(this.d.extensionPath, 'dist', 'webviewMessages.js')) as { validateWebviewMessage: (raw: unknown) => ValidationResult }).validateWebviewMessage;
    const v = DashboardPanel.validate(raw);
    if (!v.ok) {
      this.d.log.warn(`dashboard: refused a message: ${v.error}`);
      return;
    }
    const m = v.message;
    if (m.type === 'ready' || m.type === 'requestSnapshot') return this.postSnapshot();
    if (m.type === 'setLive') {
      this.live = m.live;
      if (m.live) this.postSnapshot();
      return;
    }
    try {
      const result = await this.run(m);
      this.post({ type: 'commandResult', id: m.id, ok: true, result });
    } catch (e) {
      this.post({ type: 'commandResult', id: m.id, ok: false, error: (e as Error).message });
    }
  }

  private async run(m: CommandMessage): Promise<unknown> {
    if (m.action === 'openCode') return this.openCode(m);
    const client = this.d.manager()?.client;
    if (!client) throw new Error('The Faultline runtime is not connected.');
    switch (m.action) {
      case 'restart':
      case 'stop':
        return client.call(m.action, { agent: m.target });
      case 'kill':
      case 'hang':
        return client.call('inject', { fault: m.action, target: m.target });
      case 'inject':
        return client.call('inject', { fault: m.params.fault, target: m.target, params: m.params.params });
      case 'clearFaults': {
        if (m.params?.id || m.target === '*') return client.call('clearFault', m.params?.id ? { id: m.params.id } : {});
        let cleared = 0;
        for (const f of this.d.model.snapshot.faults.filter((f) => f.target === m.target)) cleared += (await client.call('clearFault', { id: f.id })).cleared;
        return { cleared };
      }
      case 'checkpoints': {
        try {
          const list = await client.call('checkpoints', { agent: m.target });
          this.post({ type: 'checkpoints', agent: m.target, checkpoints: list as never });
        } catch (e) {
          this.post({ type: 'checkpoints', agent: m.target, checkpoints: [], error: (e as Error).message });
        }
        return {};
      }
      case 'machine': {
        try {
          this.post({ type: 'machine', id: m.target, machine: await client.call('machine', { id: m.target }) });
        } catch (e) {
          this.post({ type: 'machine', id: m.target, error: (e as Error).message });
        }
        return {};
      }
      case 'logs': {
        const lines = this.d.model.logsOf(m.target).slice(-(m.params?.limit ?? 500));
        this.post({ type: 'logs', agent: m.target, lines: lines as never });
        return {};
      }
      case 'traces':
        this.post(await tracesReply(m.target, () => client.call('traces', { agent: m.target, limit: m.params?.limit ?? 20 })));
        return {};
    }
  }

  /** A span's call site (or its agent's module), beside the dashboard so that the waterfall stays in view. */
  private async openCode(m: Extract<CommandMessage, { action: 'openCode' }>): Promise<unknown> {
    const configFile = this.d.manager()?.configFile;
    if (!configFile) throw new Error('No Faultline config is open.');
    const tree = this.d.model.snapshot.status?.tree;
    const node = tree && findNode(tree, m.target);
    const loc = codeLocation({ configFile, agent: m.target, module: node?.kind === 'agent' ? node.module : undefined, site: m.params });
    await showCode(this.d.vs, loc, this.d.vs.ViewColumn.Beside);
    return {};
  }

  private dispose() {
    DashboardPanel.current = undefined;
    clearTimeout(this.flushTimer);
    for (const s of this.subs) s.dispose();
  }
}
