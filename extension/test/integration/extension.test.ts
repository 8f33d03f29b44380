/**
 * Integration tests in code-server's real extension host, against a real
 * runtime the extension spawns for a copy of the example system (with one
 * extra agent that calls a dependency, for the dependency and CodeLens tests).
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FaultlineApi } from '../../src/extension.ts';
import type { ItemView } from '../../src/model/agentTree.ts';
import type { AgentStatus } from '../../../runtime/protocol/status.ts';

const notes: Record<string, unknown> = ((globalThis as { faultlineNotes?: Record<string, unknown> }).faultlineNotes = {});

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const flat = (items: ItemView[]): ItemView[] => items.flatMap((i) => [i, ...flat(i.children ?? [])]);

describe('Faultline extension in a real VS Code', () => {
  let api: FaultlineApi;
  const tree = () => flat(api.extension.agents.getChildren());
  const agentRow = (id: string) => tree().find((i) => i.label === id);

  before(async () => {
    const ext = vscode.extensions.getExtension<FaultlineApi>('faultline.faultline-vscode');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    notes.activationMs = api.activationMs;
  });

  it('activates on the example workspace and starts the runtime', async () => {
    await until('the connection', () => api.extension.whenConnected().then(() => true), 60_000);
    const m = api.extension.manager!;
    assert.equal(m.state, 'connected');
    assert.equal(m.ownsProcess, true, 'the extension spawned the runtime itself');
    assert.ok(m.pid && m.pid !== process.pid);
    process.kill(m.pid, 0);
    notes.runtimePackage = m.package?.kind;
  });

  it('the Agents tree provider yields the example agents', async () => {
    const labels = await until('every agent running', () => {
      const rows = tree();
      const agents = rows.filter((r) => r.node?.kind === 'agent');
      return agents.length >= 7 && agents.every((a) => (a.node as AgentStatus).state === 'running') && rows.map((r) => r.label);
    });
    for (const id of ['root', 'planner', 'crew', 'researcher', 'writer', 'workers', 'fetcher', 'summarizer', 'indexer', 'scheduler']) assert.ok(labels.includes(id), `${id} is in the tree`);
    const item = api.extension.agents.getTreeItem(agentRow('planner')!);
    assert.match(String(item.description), /^running · pid \d+/);
    assert.ok(item.iconPath instanceof vscode.ThemeIcon);
    assert.match(String(item.contextValue), /\bagent\b/);
  });

  it('Kill gives the agent a new pid, and the tree shows it', async () => {
    const before = (agentRow('planner')!.node as AgentStatus).pid!;
    await vscode.commands.executeCommand('faultline.agent.kill', 'planner');
    const after = await until('planner back with a new pid', () => {
      const a = agentRow('planner')?.node as AgentStatus | undefined;
      return a && a.state === 'running' && a.pid && a.pid !== before && a.pid;
    });
    assert.notEqual(after, before);
    assert.match(String(api.extension.agents.getTreeItem(agentRow('planner')!).description), new RegExp(`pid ${after}`));
    assert.throws(() => process.kill(before, 0), 'the old process is gone');
  });

  it('injects and clears a fault on a dependency; the Faults and Dependencies views show it', async function () {
    const deps = api.extension.model.snapshot.status?.dependencies ?? [];
    if (!deps.some((d) => d.id === 'search')) return this.skip();
    const id = await vscode.commands.executeCommand<string>('faultline.dependency.injectError', 'search', { status: 503 });
    assert.match(String(id), /\w/);
    await until('the fault in the Faults view', () => api.extension.faults.getChildren().some((f) => f.label === 'error → search'));
    const dep = await until('the dependency marked', () => api.extension.dependencies.getChildren().find((d) => d.label === 'search' && /⚡error/.test(d.description)));
    assert.match(dep.contextValue, /\bhasFaults\b/);
    await vscode.commands.executeCommand('faultline.dependency.clear', 'search');
    await until('the fault gone', () => api.extension.faults.getChildren().length === 0 && api.extension.model.snapshot.faults.length === 0);
  });

  it('CodeLens over ctx.call sites arms a fault at that point, and clears it', async function () {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'agents', 'caller.mjs'));
    await vscode.window.showTextDocument(doc);
    await vscode.workspace.getConfiguration('faultline').update('codeLens.enabled', 'always', vscode.ConfigurationTarget.Global);
    const lenses = await until('lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      return l && l.length > 0 && l;
    });
    assert.deepEqual(lenses.map((l) => l.command?.title), ['Fail', 'Delay', 'Block', 'Crash here']);
    assert.equal(lenses[0].range.start.line, 4, 'above the ctx.call line');
    const block = lenses[2].command!;
    await vscode.commands.executeCommand(block.command, ...(block.arguments ?? []));
    const armed = await until('the armed lens', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      return l?.length === 1 && /armed here/.test(l[0].command?.title ?? '') && l[0];
    });
    const fault = api.extension.model.snapshot.faults.find((f) => f.fault === 'blackhole');
    assert.equal(fault?.params.point, 'lookup', 'the point named in the code');
    await vscode.commands.executeCommand(armed.command!.command, ...(armed.command!.arguments ?? []));
    await until('cleared', () => api.extension.model.snapshot.faults.length === 0);
    await vscode.workspace.getConfiguration('faultline').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
  });

  it('the status bar shows agents up/total', async () => {
    const s = await until('a full house', () => {
      const h = api.extension.statusBar.last;
      return h && h.total >= 7 && h.up === h.total && h;
    });
    assert.match(api.extension.statusBar.item.text, new RegExp(`\\$\\(pulse\\) ${s.up}/${s.total}`));
  });

  it('a killed runtime is restarted by the extension', async () => {
    const m = api.extension.manager!;
    const old = m.pid!;
    process.kill(old, 'SIGKILL');
    const pid = await until('a new runtime', () => m.state === 'connected' && m.pid !== old && m.pid, 60_000);
    assert.notEqual(pid, old);
    await until('the tree from the new runtime', () => api.extension.model.snapshot.status?.runtime.pid === pid && tree().filter((r) => r.node?.kind === 'agent' && (r.node as AgentStatus).state === 'running').length >= 7, 60_000);
  });

  it('Debug Runtime attaches the Node debugger to the agent processes; lenses show while debugging', async () => {
    await vscode.commands.executeCommand('faultline.debugRuntime');
    const sessions = await until('debug sessions for the process agents', () => {
      const s = api.extension.debug.agentSessions;
      return s.has('planner') && s.has('researcher') && s;
    }, 60_000);
    assert.equal(sessions.get('planner')!.type.startsWith('pwa-node') || sessions.get('planner')!.type === 'node', true, `a Node debug session (${sessions.get('planner')!.type})`);
    const planner = api.extension.model.snapshot.status && (flat(api.extension.agents.getChildren()).find((r) => r.label === 'planner')?.node as AgentStatus);
    assert.match(String(planner?.inspect), /^ws:\/\/127\.0\.0\.1:\d+\//);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'agents', 'caller.mjs'));
    await vscode.window.showTextDocument(doc);
    await until('lenses in debugging mode', async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri)) ?? []).length === 4);
    await vscode.debug.stopDebugging();
  });

  it('Stop Runtime stops the process it started', async () => {
    const m = api.extension.manager!;
    const pid = m.pid!;
    await vscode.commands.executeCommand('faultline.stopRuntime');
    assert.equal(m.state, 'stopped');
    await until('the process gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 15_000);
  });
});
