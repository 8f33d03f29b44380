/**
 * "Faultline: Debug Runtime": restarts the runtime with `--inspect-agents`
 * (each agent process gets `--inspect=127.0.0.1:0` and its inspector URL
 * shows in the status and in `agent.state` events as `inspect`), then
 * attaches VS Code's Node debugger to every agent — again after each restart,
 * when the agent comes back with a new inspector URL. Also the `faultline`
 * debug type, whose launch configuration runs the same flow.
 */
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { agentsOf } from '../../../runtime/protocol/status.ts';
import type { AgentStateEvent } from '../../../runtime/protocol/events.ts';
import { register, type CommandContext } from '../commands/CommandContext.ts';
import { agentArg } from '../commands/agentCommands.ts';
import { inject } from '../commands/inject.ts';
import { Emitter } from '../util/emitter.ts';
import { pausedAgent } from './pausedAgent.ts';

/** Marks our attach configurations so we know which session debugs which agent. */
export const AGENT_KEY = '__faultlineAgent';

export function attachConfig(agent: string, inspect: string): vscode.DebugConfiguration {
  return {
    type: 'node',
    request: 'attach',
    name: `Faultline agent: ${agent}`,
    websocketAddress: inspect,
    continueOnAttach: true,
    skipFiles: ['<node_internals>/**'],
    [AGENT_KEY]: agent,
  };
}

export class DebugRuntime implements vscode.Disposable {
  private active = false;
  /** agent id → the inspector URL we attached to. */
  private readonly attached = new Map<string, string>();
  private readonly sessions = new Map<string, vscode.DebugSession>();
  /** Every debug session by id (js-debug runs the real target in a child session of ours). */
  private readonly allSessions = new Map<string, vscode.DebugSession>();
  private readonly changed = new Emitter<boolean>();
  /** Fires when debugging starts or ends (the CodeLens shows only meanwhile). */
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly vs: VSCode, private readonly ctx: CommandContext) {
    this.subs.push(
      register(ctx, 'faultline.debugRuntime', 'Cannot debug the runtime', () => this.start()),
      register(ctx, 'faultline.injectIntoPaused', 'Cannot inject into the paused agent', (...args: unknown[]) => this.injectIntoPaused(args)),
      vs.debug.registerDebugConfigurationProvider('faultline', {
        resolveDebugConfigurationWithSubstitutedVariables: async (_folder, config) => {
          // The launch.json entry starts our flow (after ${workspaceFolder} is substituted); the Node sessions it makes are the real ones.
          const wanted = typeof config.config === 'string' && config.config ? path.resolve(config.config) : undefined;
          const running = ctx.manager()?.configFile;
          if (wanted && running && wanted !== path.resolve(running)) {
            ctx.log.warn(`debug: the launch configuration names ${wanted}, but the extension runs ${running} (set faultline.runtime.configPath to switch)`);
          }
          await vs.commands.executeCommand('faultline.debugRuntime');
          // undefined ends this launch quietly: there is no "faultline" debug adapter, only the Node sessions above.
          return undefined;
        },
      }),
      vs.debug.onDidStartDebugSession((s) => {
        this.allSessions.set(s.id, s);
        const agent = s.configuration[AGENT_KEY] as string | undefined;
        if (agent) this.sessions.set(agent, s);
        this.setContext();
      }),
      vs.debug.onDidTerminateDebugSession((s) => {
        this.allSessions.delete(s.id);
        const agent = s.configuration[AGENT_KEY] as string | undefined;
        if (agent && this.sessions.get(agent) === s) this.sessions.delete(agent);
        this.setContext();
      }),
      ctx.model.onEvent((e) => {
        if (this.active && e.name === 'agent.state') {
          const p = e.params as AgentStateEvent;
          if (p.inspect && p.state === 'running') void this.attach(p.agent, p.inspect);
        }
      }),
      ctx.model.onDidChange(() => this.active && this.attachAll()),
    );
  }

  /** True while a debug session is attached to an agent. */
  get debugging(): boolean {
    return this.sessions.size > 0;
  }

  get agentSessions(): ReadonlyMap<string, vscode.DebugSession> {
    return this.sessions;
  }

  async start(): Promise<void> {
    const m = await this.ctx.ensureManager();
    if (!m) return;
    this.active = true;
    this.attached.clear();
    this.setContext();
    await m.restart({ extraArgs: ['--inspect-agents'] });
    await this.ctx.model.refresh();
    this.attachAll();
    void this.warnIfNothingToAttach();
    // Ending the debugging: the runtime goes on, without inspectors, at the next plain start.
    const sub = m.onState((s) => {
      if (s === 'stopped') {
        this.active = false;
        this.setContext();
        sub.dispose();
      }
    });
  }

  /**
   * Agents print their inspector URL as they start, after the runtime
   * listens: judge only once every agent runs (or one has a URL), then say
   * why nothing could be attached.
   */
  private async warnIfNothingToAttach(timeoutMs = 30_000) {
    const current = () => {
      const tree = this.ctx.model.snapshot.status?.tree;
      return tree ? agentsOf(tree) : [];
    };
    const settled = () => {
      const agents = current();
      return agents.some((a) => a.inspect) || (agents.length > 0 && agents.every((a) => a.state === 'running'));
    };
    if (!settled()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const sub = this.ctx.model.onDidChange(() => settled() && done());
        function done() {
          clearTimeout(timer);
          sub.dispose();
          resolve();
        }
      });
    }
    const agents = current();
    if (!this.active || agents.some((a) => a.inspect)) return;
    const processAgents = agents.filter((a) => a.isolation === 'process');
    void this.vs.window.showWarningMessage(
      processAgents.length
        ? 'Faultline: the runtime started with --inspect-agents but its agents report no inspector URL; update the faultline package.'
        : 'Faultline: every agent is thread-isolated: they run inside the runtime process and cannot be attached separately (use "isolation": "process" to debug one).',
    );
  }

  private attachAll() {
    const s = this.ctx.model.snapshot.status;
    if (!s) return;
    for (const a of agentsOf(s.tree)) if (a.inspect && a.state === 'running') void this.attach(a.id, a.inspect);
  }

  private async attach(agent: string, inspect: string) {
    if (this.attached.get(agent) === inspect) return;
    this.attached.set(agent, inspect);
    const folder = this.vs.workspace.workspaceFolders?.[0];
    this.ctx.log.info(`debugger: attaching to agent ${agent}`);
    const ok = await this.vs.debug.startDebugging(folder, attachConfig(agent, inspect));
    if (!ok) this.ctx.log.warn(`debugger: could not attach to agent ${agent}`);
  }

  private setContext() {
    const on = this.sessions.size > 0;
    void this.vs.commands.executeCommand('setContext', 'faultline.debugging', on);
    this.changed.fire(on);
  }

  /** The agent a debug session was attached to: ours carry AGENT_KEY; js-debug's child sessions hang under them. */
  agentOfSession(session: vscode.DebugSession | undefined): string | undefined {
    for (let s = session, depth = 0; s && depth < 10; s = s.parentSession, depth++) {
      const agent = s.configuration[AGENT_KEY] as string | undefined;
      if (agent) return agent;
    }
    return undefined;
  }

  /** The agent whose module is this file (a path or a file:// URI). */
  private agentOfFile(fileOrUri: string): string | undefined {
    const config = this.ctx.manager()?.configFile;
    const status = this.ctx.model.snapshot.status;
    if (!config || !status) return undefined;
    let file = fileOrUri;
    try {
      // file:///…, or in a remote window (code-server) vscode-remote://host/… whose path is the extension host's.
      if (/^[a-z][\w+.-]*:\/\//i.test(fileOrUri)) {
        const u = this.vs.Uri.parse(fileOrUri);
        file = u.scheme === 'file' ? u.fsPath : u.path;
      }
    } catch {
      return undefined;
    }
    return agentsOf(status.tree).find((a) => path.resolve(path.dirname(config), a.module) === path.resolve(file))?.id;
  }

  /**
   * From the Call Stack's context menu or the debug toolbar (see pausedAgent.ts
   * for the arguments each passes): a fault for the paused agent. The agent is
   * frozen in the debugger, so the fault takes effect when it resumes — a crash
   * or slow-down on the next message it handles, a hang once it runs again; a
   * kill is immediate (SIGKILL needs no cooperation) and ends that session.
   */
  private async injectIntoPaused(args: unknown[]) {
    const status = this.ctx.model.snapshot.status;
    if (!status) throw new Error('The Faultline runtime is not connected.');
    const found = pausedAgent(args, {
      agents: agentsOf(status.tree).map((a) => a.id),
      agentOfSession: (id) => this.agentOfSession(this.allSessions.get(id) ?? (this.vs.debug.activeDebugSession?.id === id ? this.vs.debug.activeDebugSession : undefined)),
      activeSessionId: this.vs.debug.activeDebugSession?.id,
      agentOfFile: (f) => this.agentOfFile(f),
    });
    const a = await agentArg(this.ctx, found?.agent, 'Inject a fault into which agent?');
    if (!a) return undefined;
    const pick = await this.vs.window.showQuickPick(
      [
        { label: 'crash', description: 'throw on the next message after it resumes; its supervisor restarts it' },
        { label: 'kill', description: 'SIGKILL the process now (ends this debug session); its supervisor restarts it' },
        { label: 'slow', description: 'add 2000 ms to each message it handles after it resumes', params: { ms: 2000 } },
        { label: 'hang', description: 'stop answering once it resumes, until the fault is cleared' },
      ],
      { title: `Inject into the paused agent ${a.id} (takes effect when it resumes)` },
    );
    if (!pick) return undefined;
    const id = await inject(this.ctx, { fault: pick.label, target: a.id, params: { ...('params' in pick ? pick.params : {}), source: 'debugger' } });
    // A status bar message, not a notification: a toast would outlive the fault it announces.
    if (pick.label !== 'kill') this.vs.window.setStatusBarMessage(`$(zap) Faultline: ${pick.label} armed in ${a.id}; it takes effect when the agent resumes (Continue)`, 20_000);
    return id;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
