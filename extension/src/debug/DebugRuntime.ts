/**
 * "Faultline: Debug Runtime": restarts the runtime with `--inspect-agents`
 * (each agent process gets `--inspect=127.0.0.1:0` and its inspector URL
 * shows in the status and in `agent.state` events as `inspect`), then
 * attaches VS Code's Node debugger to every agent — again after each restart,
 * when the agent comes back with a new inspector URL. Also the `faultline`
 * debug type, whose launch configuration runs the same flow.
 */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { agentsOf } from '../../../runtime/protocol/status.ts';
import type { AgentStateEvent } from '../../../runtime/protocol/events.ts';
import { register, type CommandContext } from '../commands/CommandContext.ts';
import { agentArg } from '../commands/agentCommands.ts';
import { inject } from '../commands/inject.ts';
import { Emitter } from '../util/emitter.ts';

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
  private readonly changed = new Emitter<boolean>();
  /** Fires when debugging starts or ends (the CodeLens shows only meanwhile). */
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly vs: VSCode, private readonly ctx: CommandContext) {
    this.subs.push(
      register(ctx, 'faultline.debugRuntime', 'Cannot debug the runtime', () => this.start()),
      register(ctx, 'faultline.injectIntoPaused', 'Cannot inject into the paused agent', (arg) => this.injectIntoPaused(arg)),
      vs.debug.registerDebugConfigurationProvider('faultline', {
        resolveDebugConfiguration: async (_folder, config) => {
          // The launch.json entry starts our flow; the Node sessions it makes are the real ones.
          await vs.commands.executeCommand('faultline.debugRuntime');
          void config;
          return undefined;
        },
      }),
      vs.debug.onDidStartDebugSession((s) => {
        const agent = s.configuration[AGENT_KEY] as string | undefined;
        if (agent) this.sessions.set(agent, s);
        this.setContext();
      }),
      vs.debug.onDidTerminateDebugSession((s) => {
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
    const inspectable = agentsOf(this.ctx.model.snapshot.status!.tree).filter((a) => a.inspect);
    if (!inspectable.length) {
      void this.vs.window.showWarningMessage('Faultline: the runtime started with --inspect-agents but reports no inspector URL; thread-isolated agents run inside the runtime process and cannot be attached separately.');
    }
    this.attachAll();
    // Ending the debugging: the runtime goes on, without inspectors, at the next plain start.
    const sub = m.onState((s) => {
      if (s === 'stopped') {
        this.active = false;
        this.setContext();
        sub.dispose();
      }
    });
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

  /** From the Call Stack or the debug toolbar: a fault for the paused agent, felt when it resumes. */
  private async injectIntoPaused(arg: unknown) {
    const session = this.vs.debug.activeDebugSession;
    const fromSession = session?.configuration[AGENT_KEY] as string | undefined;
    const a = await agentArg(this.ctx, typeof arg === 'string' ? arg : fromSession, 'Inject a fault into which agent?');
    if (!a) return;
    const pick = await this.vs.window.showQuickPick(
      [
        { label: 'crash', description: 'throw on the next message' },
        { label: 'hang', description: 'stop answering' },
        { label: 'slow', description: 'add 2000 ms to every message', params: { ms: 2000 } },
        { label: 'kill', description: 'SIGKILL the process (ends this debug session)' },
      ],
      { title: `Inject into ${a.id} (takes effect when it resumes)` },
    );
    if (!pick) return;
    return inject(this.ctx, { fault: pick.label, target: a.id, ...('params' in pick ? { params: pick.params } : {}) });
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
