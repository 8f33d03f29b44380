/**
 * Wires the extension together: the runtime manager, the live model, the
 * views, the status bar and the commands. The constructor only registers
 * (fast, inside activate); `init()` does the slow work afterwards.
 */
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from './vscodeTypes.ts';
import { RuntimeManager, type RuntimeSettings } from './runtime/RuntimeManager.ts';
import { HealthModel } from './model/HealthModel.ts';
import { agentItems } from './model/clusterTree.ts';
import { unhealthyCount } from '../../runtime/protocol/clientModel.ts';
import { dependencyItems, faultItems } from './model/dependencyList.ts';
import { McpTools, type ToolsCall } from './model/McpTools.ts';
import { healthSummary } from './model/healthSummary.ts';
import { ItemTreeProvider } from './views/ItemTreeProvider.ts';
import { StatusBar } from './views/StatusBar.ts';
import { VirtualDocs } from './commands/VirtualDocs.ts';
import { CheckpointDocs } from './commands/CheckpointDocs.ts';
import { checkpointCommands } from './commands/checkpointCommands.ts';
import { CheckpointsView } from './views/CheckpointsView.ts';
import { register, type CommandContext } from './commands/CommandContext.ts';
import { runtimeCommands } from './commands/runtimeCommands.ts';
import { agentCommands } from './commands/agentCommands.ts';
import { nodeCommands } from './commands/nodeCommands.ts';
import { dependencyCommands } from './commands/dependencyCommands.ts';
import { faultCommands } from './commands/faultCommands.ts';
import { chaosCommands, type ChaosControl } from './commands/chaosCommands.ts';
import { drillCommands } from './commands/drillCommand.ts';
import { scaffoldCommand } from './commands/scaffold.ts';
import { openDashboard } from './dashboard/index.ts';
import { DebugRuntime } from './debug/DebugRuntime.ts';
import { FaultLens } from './codelens/FaultLens.ts';
import { DrillTestController } from './testing/DrillTestController.ts';
import type { LogEvent } from '../../runtime/protocol/events.ts';
import { redact } from './util/log.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export class FaultlineExtension implements vscode.Disposable {
  readonly model: HealthModel;
  readonly agents: ItemTreeProvider;
  readonly dependencies: ItemTreeProvider;
  readonly faults: ItemTreeProvider;
  /** The checkpoints of the agent selected in the Agents view. */
  readonly checkpoints: CheckpointsView;
  readonly statusBar: StatusBar;
  readonly debug: DebugRuntime;
  readonly chaos: ChaosControl;
  /** Drills as tests in the Test Explorer. */
  readonly drillTests: DrillTestController;
  private _manager?: RuntimeManager;
  private managerSubs: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private readonly ctx: CommandContext;
  /** The tools of the MCP dependencies, shown under them in the Dependencies view. */
  readonly mcpTools = new McpTools();
  /** Reads an MCP server's tools over the connection of the moment (undefined while disconnected). */
  private toolsCall?: ToolsCall;
  private connectedOnce?: Promise<void>;
  private resolveConnected?: () => void;

  constructor(private readonly vs: VSCode, private readonly context: vscode.ExtensionContext, readonly log: vscode.LogOutputChannel) {
    this.model = new HealthModel(log);
    const snap = () => this.model.snapshot;
    this.agents = new ItemTreeProvider(vs, 'faultline.agents', () => agentItems(snap().status, snap().faults), () => {
      const n = unhealthyCount(snap().status?.tree);
      return n ? { value: n, tooltip: `${n} agent${n === 1 ? '' : 's'} not healthy` } : undefined;
    });
    this.dependencies = new ItemTreeProvider(vs, 'faultline.dependencies', () => dependencyItems(snap().status?.dependencies, snap().faults, (d) => this.mcpTools.get(d)));
    this.faults = new ItemTreeProvider(vs, 'faultline.faults', () => faultItems(snap().faults));
    this.statusBar = new StatusBar(vs);
    const docs = new VirtualDocs(vs);
    this.ctx = {
      vs,
      log,
      model: this.model,
      docs,
      extensionPath: context.extensionPath,
      manager: () => this._manager,
      ensureManager: () => this.ensureManager(),
    };
    this.checkpoints = new CheckpointsView(vs, this.ctx, this.agents.view);
    const checkpointDocs = new CheckpointDocs(vs, this.ctx);
    this.debug = new DebugRuntime(vs, this.ctx);
    const chaos = chaosCommands(this.ctx);
    this.chaos = chaos.control;
    this.drillTests = new DrillTestController(vs, this.ctx);
    this.subs.push(
      this.model,
      this.agents,
      this.dependencies,
      this.mcpTools,
      this.mcpTools.onDidChange(() => this.dependencies.invalidate()),
      this.faults,
      this.statusBar,
      docs,
      this.checkpoints,
      checkpointDocs,
      this.model.onDidAttach(() => checkpointDocs.clear()),
      ...checkpointCommands(this.ctx, this.checkpoints, checkpointDocs),
      this.debug,
      ...runtimeCommands(this.ctx),
      ...agentCommands(this.ctx),
      ...nodeCommands(this.ctx),
      ...dependencyCommands(this.ctx),
      ...faultCommands(this.ctx),
      ...chaos.disposables,
      ...drillCommands(this.ctx),
      scaffoldCommand(this.ctx),
      register(this.ctx, 'faultline.openDashboard', 'Cannot open the dashboard', () => openDashboard({ vs, extensionPath: context.extensionPath, model: this.model, manager: () => this._manager, log })),
      new FaultLens(vs, this.ctx, this.debug),
      this.drillTests,
      this.model.onDidChange(() => this.render()),
      this.model.onEvent((e) => {
        if (e.name !== 'log') return;
        this.logLine(e.params as LogEvent);
        this.chaos.onLog(e.params as LogEvent);
      }),
      this.chaos.onDidChange(() => this.render()),
      vs.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('faultline.runtime.configPath')) void this.reconsiderConfig();
      }),
    );
    this.render();
  }

  get manager(): RuntimeManager | undefined {
    return this._manager;
  }

  /** Resolves the first time the extension is connected to a runtime. */
  whenConnected(): Promise<void> {
    if (this._manager?.state === 'connected') return Promise.resolve();
    this.connectedOnce ??= new Promise((r) => (this.resolveConnected = r));
    return this.connectedOnce;
  }

  /** The slow part of activation: find the config and start or attach to the runtime. */
  async init(): Promise<void> {
    const m = await this.ensureManager({ quiet: true });
    if (m && this.vs.workspace.getConfiguration('faultline').get<boolean>('runtime.autoStart', true)) await m.start();
  }

  private settings(): RuntimeSettings {
    const c = this.vs.workspace.getConfiguration('faultline');
    return {
      nodePath: c.get<string>('runtime.nodePath', 'node') || 'node',
      runtimePath: c.get<string>('runtime.path', ''),
      startTimeoutMs: c.get<number>('runtime.startTimeoutMs', 30_000),
      restartOnExit: c.get<boolean>('runtime.restartOnExit', true),
    };
  }

  /** The config to run: the setting, else the first faultline.config.json in the workspace. */
  async findConfig(): Promise<string | undefined> {
    const setting = this.vs.workspace.getConfiguration('faultline').get<string>('runtime.configPath', '');
    const folder = this.vs.workspace.workspaceFolders?.[0];
    if (setting && folder) return path.resolve(folder.uri.fsPath, setting);
    const found = await this.vs.workspace.findFiles('**/faultline.config.json', '**/{node_modules,.faultline}/**', 20);
    // The shallowest one is the system; deeper ones are usually fixtures.
    found.sort((a, b) => a.fsPath.split(path.sep).length - b.fsPath.split(path.sep).length || a.fsPath.localeCompare(b.fsPath));
    return found[0]?.fsPath;
  }

  private async ensureManager(o: { quiet?: boolean } = {}): Promise<RuntimeManager | undefined> {
    if (this._manager) return this._manager;
    const configFile = await this.findConfig();
    if (!configFile) {
      if (!o.quiet) {
        const a = await this.vs.window.showWarningMessage('Faultline: no faultline.config.json in this workspace.', 'Create Sample Agent System');
        if (a) await this.vs.commands.executeCommand('faultline.createSample');
      }
      return undefined;
    }
    if (this._manager) return this._manager;
    this.useManager(this.createManager(configFile));
    return this._manager;
  }

  private createManager(configFile: string): RuntimeManager {
    const vs = this.vs;
    return new RuntimeManager({
      configFile,
      settings: () => this.settings(),
      bundledDir: path.join(this.context.extensionPath, 'runtime'),
      storageDir: this.context.globalStorageUri.fsPath,
      log: this.log,
      withInstallProgress: async (task) =>
        await vs.window.withProgress({ location: vs.ProgressLocation.Notification, title: 'Faultline: installing the runtime (first start; better-sqlite3 builds for your Node)' }, (progress) =>
          task((line) => {
            this.log.info(`[install] ${line}`);
            progress.report({ message: line.slice(0, 80) });
          }),
        ),
      notifyError: (msg) => {
        void vs.window.showErrorMessage(msg, 'Show Logs').then((a) => a && this.log.show(true));
      },
    });
  }

  private useManager(m: RuntimeManager) {
    for (const s of this.managerSubs) s.dispose();
    this._manager = m;
    this.managerSubs = [
      m,
      m.onConnect((client) => {
        this.toolsCall = (dependency) => client.call('tools', { dependency }, 120_000);
        this.model.attach(client).then(
          () => {
            this.resolveConnected?.();
            void this.chaos.sync();
          },
          (e) => this.log.error(`cannot load the runtime's status: ${(e as Error).message}`),
        );
      }),
      // While the first start installs the runtime the Agents view says so (a message hides the "not connected" welcome).
      m.onInstalling((text) => {
        this.agents.view.message = text;
        void this.vs.commands.executeCommand('setContext', 'faultline.installing', !!text);
      }),
      m.onState((s) => {
        void this.vs.commands.executeCommand('setContext', 'faultline.connected', s === 'connected');
        if (s !== 'connected') this.toolsCall = undefined;
        if (s === 'stopped') this.model.clear();
        if (s !== 'connected') void this.chaos.sync();
        this.render();
      }),
    ];
  }

  private async reconsiderConfig() {
    const next = await this.findConfig();
    if (!next || next === this._manager?.configFile) return;
    await this._manager?.stop();
    this.useManager(this.createManager(next));
    if (this.vs.workspace.getConfiguration('faultline').get<boolean>('runtime.autoStart', true)) await this._manager!.start();
  }

  private render() {
    this.mcpTools.sync(this.model.snapshot.status?.dependencies, this.toolsCall);
    this.agents.invalidate();
    this.dependencies.invalidate();
    this.faults.invalidate();
    this.statusBar.update(healthSummary(this._manager?.state ?? 'stopped', this.model.snapshot, { chaos: this.chaos?.running }));
  }

  private logLine(l: LogEvent) {
    const min = LEVELS.indexOf(this.vs.workspace.getConfiguration('faultline').get<string>('logLevel', 'info'));
    const lvl = LEVELS.indexOf(String(l.level));
    if (lvl < min) return;
    const text = redact(`${l.agent ? `[${l.agent}] ` : l.supervisor ? `[${l.supervisor}] ` : ''}${l.msg}`);
    if (lvl >= 4) this.log.error(text);
    else if (lvl === 3) this.log.warn(text);
    else if (lvl === 2) this.log.info(text);
    else if (lvl === 1) this.log.debug(text);
    else this.log.trace(text);
  }

  /** On deactivate: stop the runtime we started; one we attached to keeps running. */
  async shutdown(): Promise<void> {
    await this._manager?.stop();
  }

  dispose(): void {
    for (const s of this.managerSubs) s.dispose();
    for (const s of this.subs) s.dispose();
  }
}
