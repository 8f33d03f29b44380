/**
 * Integration tests in code-server's real extension host, against a real
 * runtime the extension spawns for a copy of the example system (with one
 * extra agent that calls a dependency, for the dependency and CodeLens tests).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { FaultlineApi } from '../../src/extension.ts';
import type { ItemView } from '../../src/model/agentTree.ts';
import type { DrillRun } from '../../src/commands/drillCommand.ts';
import type { ChaosStarted } from '../../src/commands/chaosCommands.ts';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wsDir = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

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

  it('the Test Explorer controller finds the drills, checks them with the runtime\'s parser, and follows file changes', async () => {
    const tests = api.extension.drillTests;
    await tests.discover();
    const c = tests.controller;
    const all = () => { const out: vscode.TestItem[] = []; c.items.forEach((i) => out.push(i)); return out; };
    const ids = () => all().map((i) => i.label).sort();
    for (const d of ['corrupt-checkpoint', 'kill-random', 'model-outage', 'restart-storm-100', 'runtime-kill']) assert.ok(ids().includes(d), `${d} in ${ids().join(', ')}`);
    const model = all().find((i) => i.label === 'model-outage')!;
    assert.equal(model.children.size, 9, 'one child per method step');
    const first = model.children.get(`${model.id}#method/0`)!;
    assert.equal(first.label, '1. outage');
    const lines = readFileSync(model.uri!.fsPath, 'utf8').split('\n');
    assert.match(lines[first.range!.start.line], /"name": "outage"/);

    // A new drill file elsewhere (not under drills/) is found by its content; an edit changes its steps; a schema problem shows.
    const file = path.join(wsDir(), 'agents', 'extra.json');
    const uri = vscode.Uri.file(file).toString();
    writeFileSync(file, JSON.stringify({ name: 'extra', steadyState: { probes: [{ type: 'readyz' }] }, method: [{ type: 'wait', ms: 10 }] }, null, 2));
    const item = await until('the new drill', () => c.items.get(uri), 20_000);
    assert.equal(item.children.size, 1);
    assert.equal(item.error, undefined);
    writeFileSync(file, JSON.stringify({ name: 'extra', steadyState: { probes: [{ type: 'readyz' }] }, method: [{ type: 'wait', ms: 10 }, { type: 'inject', fault: 'kill' }] }, null, 2));
    await until('the edited drill', () => c.items.get(uri)?.children.size === 2 && c.items.get(uri)!.error, 20_000);
    assert.match(String(c.items.get(uri)!.error), /\$\.method\[1\]\.target: missing/);
    rmSync(file);
    await until('the deleted drill gone', () => !c.items.get(uri), 20_000);
    // Any other JSON file is no test, except under drills/, where it says why it is none.
    assert.ok(!ids().includes('faultline.config'));
    const notDrill = path.join(wsDir(), 'drills', 'notes.json');
    writeFileSync(notDrill, '{ "todo": [ ,');
    const bad = await until('the broken drill file', () => c.items.get(vscode.Uri.file(notDrill).toString())?.error, 20_000);
    assert.match(String(bad), /^not valid JSON: unexpected character "," at line 1/);
    rmSync(notDrill);
    await until('the broken drill file gone', () => !c.items.get(vscode.Uri.file(notDrill).toString()), 20_000);
  });

  it('the Agents tree provider yields the example agents', async () => {
    const labels = await until('every agent running', () => {
      const rows = tree();
      const agents = rows.filter((r) => r.node?.kind === 'agent');
      return agents.length >= 7 && agents.every((a) => (a.node as AgentStatus).state === 'running') && rows.map((r) => r.label);
    });
    for (const id of ['root', 'planner', 'crew', 'researcher', 'writer', 'workers', 'fetcher', 'summarizer', 'indexer', 'scheduler']) assert.ok(labels.includes(id), `${id} is in the tree`);
    const item = api.extension.agents.toTreeItem(agentRow('planner')!);
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
    assert.match(String(api.extension.agents.toTreeItem(agentRow('planner')!).description), new RegExp(`pid ${after}`));
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

  it('Run Drill runs a shipped drill with the runtime\'s drill runner and reports that it held', async () => {
    const file = path.join(wsDir(), 'drills', 'corrupt-checkpoint.json');
    assert.ok(existsSync(file), 'the example ships the drill');
    const run = await vscode.commands.executeCommand<DrillRun>('faultline.runDrill', file);
    assert.ok(run, 'the command returned its run');
    assert.equal(run.via, 'control', 'ran inside the runtime (drill.run)');
    assert.equal(run.held, true, run.summary);
    assert.match(run.summary, /^Faultline drill "corrupt-checkpoint": the hypothesis held \(\d+ steps in /);
    assert.ok(run.report.startsWith(path.join(wsDir(), '.faultline', 'drills') + path.sep), run.report);
    const report = JSON.parse(readFileSync(run.report, 'utf8'));
    assert.equal(report.drill, 'corrupt-checkpoint');
    assert.equal(report.status, 'held');
    assert.equal(report.runner, 'in-process');
    // The report opens as the notification's "Open Report" does.
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(run.report));
    assert.equal(JSON.parse(editor.document.getText()).drill, 'corrupt-checkpoint');
    notes.drillSummary = run.summary;
  });

  it('Cancel Drill stops a running drill, inside the runtime or through `faultline drill`: the rollback clears its fault, the report says aborted', async () => {
    const client = () => api.extension.manager!.client!;
    const slowFaults = async () => ((await client().call('faults', {})) as { fault: string; target: string }[]).filter((f) => f.fault === 'slow' && f.target === 'researcher');
    for (const [via, last] of [['control', { type: 'inject', fault: 'kill', target: 'researcher' }], ['cli', { type: 'kill-runtime' }]] as const) {
      const file = path.join(path.dirname(wsDir()), `cancel-${via}.drill.json`);
      writeFileSync(file, JSON.stringify({
        name: `cancel-${via}`,
        steadyState: { probes: [{ type: 'agents', agents: 'researcher', state: 'running', withinMs: 20_000 }] },
        method: [{ type: 'inject', name: 'slow', fault: 'slow', target: 'researcher', params: { ms: 10 } }, { type: 'wait', ms: 120_000 }, last],
        rollbacks: [{ type: 'clear', fault: 'slow' }],
      }));
      const pid = api.extension.manager!.pid;
      const running = vscode.commands.executeCommand<DrillRun>('faultline.runDrill', file);
      await until(`drill ${via}: the fault in place`, async () => (await slowFaults()).length > 0, 60_000);
      assert.equal(await vscode.commands.executeCommand<boolean>('faultline.cancelDrill'), true);
      const run = await running;
      assert.ok(run, 'the command returned its run');
      assert.equal(run.via, via);
      assert.equal(run.held, false);
      assert.match(run.summary, /ABORTED/);
      assert.equal(JSON.parse(readFileSync(run.report, 'utf8')).status, 'aborted');
      assert.deepEqual(await slowFaults(), [], 'the rollback cleared the fault');
      assert.equal(api.extension.manager!.pid, pid, 'the runtime was not killed');
      assert.equal(await vscode.commands.executeCommand<boolean>('faultline.cancelDrill'), false, 'nothing left to cancel');
      rmSync(file, { force: true });
    }
  });

  it('Run Drill runs a drill that kills the runtime through `faultline drill`; the extension restarts the runtime and the drill holds', async () => {
    const file = path.join(wsDir(), 'drills', 'runtime-kill.json');
    if (!existsSync(file)) return;
    const m = api.extension.manager!;
    const pid = m.pid;
    const run = await vscode.commands.executeCommand<DrillRun>('faultline.runDrill', file);
    assert.ok(run, 'the command returned its run');
    assert.equal(run.via, 'cli', 'a runtime-killing drill runs outside the runtime');
    assert.equal(run.held, true, run.summary);
    const report = JSON.parse(readFileSync(run.report, 'utf8'));
    assert.equal(report.runner, 'cli');
    assert.equal(report.runtimeRestarts?.[0]?.restartedBy, 'other', 'the extension, not the drill, restarted the runtime');
    await until('connected to the new runtime', () => m.state === 'connected' && m.pid !== pid, 30_000);
    assert.equal(m.ownsProcess, true, 'the extension owns the runtime it restarted');
    await until('every agent running again', () => tree().filter((r) => r.node?.kind === 'agent').every((r) => (r.node as AgentStatus).state === 'running'), 30_000);
    notes.runtimeKillDrill = run.summary;
  });

  it('Start Chaos Monkey runs the runtime\'s monkey: agents restart while it runs, and stop once it is stopped', async () => {
    // researcher sits under crew: its restarts count toward crew's intensity, not root's (which durable state keeps across runtime restarts).
    const restarts = () => (agentRow('researcher')?.node as AgentStatus | undefined)?.restarts ?? 0;
    await until('researcher running', () => (agentRow('researcher')?.node as AgentStatus | undefined)?.state === 'running');
    const before = restarts();
    const started = await vscode.commands.executeCommand<ChaosStarted>('faultline.startChaos', { intervalMs: 1500, durationMs: 120_000, targets: 'researcher', seed: 7 });
    assert.equal(started?.mode, 'runtime', 'the runtime\'s own chaos monkey (chaos.start)');
    assert.deepEqual(started.targets, ['researcher']);
    assert.equal(started.seed, 7);
    assert.equal(api.extension.chaos.running, true);
    await until('the status bar says chaos', () => /\$\(bug\) chaos/.test(api.extension.statusBar.item.text));
    await until('a restart by the chaos monkey', () => restarts() > before, 60_000);
    const stopped = await vscode.commands.executeCommand<{ stopped: boolean; kills: number }>('faultline.stopChaos');
    assert.equal(stopped?.stopped, true);
    assert.ok(stopped.kills >= 1, `${stopped.kills} kills`);
    assert.equal(api.extension.chaos.running, false);
    assert.equal((await api.extension.manager!.client!.call('chaos.status', {})).running, false, 'the runtime says it stopped');
    // Let a kill that was already under way finish, then nothing more may happen.
    await until('researcher running again', () => (agentRow('researcher')?.node as AgentStatus | undefined)?.state === 'running', 30_000);
    await sleep(1500);
    await api.extension.model.refresh();
    const settled = restarts();
    await sleep(3 * 1500);
    await api.extension.model.refresh();
    assert.equal(restarts(), settled, 'no restarts after Stop');
    assert.doesNotMatch(api.extension.statusBar.item.text, /chaos/);
    notes.chaos = { kills: stopped.kills, restarts: settled - before };
    // A monkey whose time is up stops by itself, and the extension notices (the runtime logs its end).
    const short = await vscode.commands.executeCommand<ChaosStarted>('faultline.startChaos', { intervalMs: 1000, durationMs: 1500, targets: 'researcher', seed: 9 });
    assert.equal(short?.mode, 'runtime');
    assert.equal(api.extension.chaos.running, true);
    await until('the monkey done by itself', () => !api.extension.chaos.running, 30_000);
    await until('the status bar without chaos', () => !/chaos/.test(api.extension.statusBar.item.text));
    await until('researcher running again', () => (agentRow('researcher')?.node as AgentStatus | undefined)?.state === 'running', 30_000);
  });

  it('the contributed "faultline" launch configuration runs Debug Runtime: the Node debugger attaches to the agent processes; lenses show while debugging', async () => {
    const runtimeBefore = api.extension.manager!.pid;
    // What F5 on a launch.json entry of type "faultline" does (the UI tests run the palette command).
    await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'faultline', request: 'launch', name: 'Faultline: Debug Runtime', config: '${workspaceFolder}/faultline.config.json' });
    assert.notEqual(api.extension.manager!.pid, runtimeBefore, 'the runtime restarted with --inspect-agents');
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
    // The sessions stay for the next test.
  });

  it('injects into the paused agent from the Call Stack (with the arguments VS Code passes); the crash lands when it resumes', async () => {
    const planner = vscode.Uri.file(path.join(wsDir(), 'agents', 'planner.mjs'));
    const line = readFileSync(planner.fsPath, 'utf8').split('\n').findIndex((l) => l.includes('const topic'));
    assert.ok(line > 0);
    const client = api.extension.manager!.client!;
    // The scheduler asks the planner every few seconds; quiet it so only this test's asks reach the planner.
    await client.call('stop', { agent: 'scheduler' });
    const row = () => agentRow('planner')?.node as AgentStatus | undefined;
    const before = row()!;
    const oldSession = api.extension.debug.agentSessions.get('planner');
    assert.ok(oldSession, 'the debugger is attached to planner');
    const bp = new vscode.SourceBreakpoint(new vscode.Location(planner, new vscode.Position(line, 0)));
    vscode.debug.addBreakpoints([bp]);
    // Ask until the breakpoint is bound and the planner stops on it.
    let first: Promise<unknown> | undefined;
    const frame = await until('planner paused at the breakpoint', () => {
      const item = vscode.debug.activeStackItem;
      if (item instanceof vscode.DebugStackFrame && api.extension.debug.agentOfSession(item.session) === 'planner') return item;
      if (!first) first = client.call('ask', { agent: 'planner', message: { topic: 'paused' }, timeoutMs: 120_000 }, 125_000).finally(() => (first = undefined));
      return undefined;
    }, 60_000);
    const pending = first!;
    const trace = await frame.session.customRequest('stackTrace', { threadId: frame.threadId, startFrame: 0, levels: 1 });
    const top = trace.stackFrames[0];
    // js-debug in code-server's remote extension host names sources by their vscode-remote:// URI.
    const sourceUri = /^[a-z][\w+.-]*:\/\//i.test(top.source.path) ? vscode.Uri.parse(top.source.path) : vscode.Uri.file(top.source.path);
    assert.equal(sourceUri.path, planner.path, 'stopped in planner.mjs');
    // What VS Code 1.139's Call Stack passes a contributed command for a stack frame (callStackView.ts):
    // the frame's source URI as a string, then { sessionId, threadId, frameId, frameName, frameLocation }.
    const args = [sourceUri.toString(), { sessionId: frame.session.id, threadId: frame.threadId, frameId: top.id, frameName: top.name, frameLocation: { range: { startLineNumber: top.line, startColumn: top.column, endLineNumber: top.line, endColumn: top.column }, source: top.source } }];
    let done = false;
    const injected = vscode.commands.executeCommand<string>('faultline.injectIntoPaused', ...args).then((id) => ((done = true), id));
    // The fault's quick pick lists crash first: accept it as the user would with Enter.
    while (!done) {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await sleep(300);
    }
    const faultId = await injected;
    assert.match(String(faultId), /\w/, 'a fault id');
    const fault = await until('the armed crash', () => api.extension.model.snapshot.faults.find((f) => f.id === faultId));
    assert.equal(fault.fault, 'crash');
    assert.equal(fault.target, 'planner');
    assert.equal(row()!.restarts, before.restarts, 'nothing happened while it is paused');
    // The debug toolbar passes no arguments: the focused session is then the one meant, and it is the planner's.
    assert.equal(api.extension.debug.agentOfSession(vscode.debug.activeDebugSession), 'planner');
    // Resume: the paused message finishes, the next one meets the crash.
    vscode.debug.removeBreakpoints([bp]);
    await frame.session.customRequest('continue', { threadId: frame.threadId });
    const answer = (await pending) as { topic?: string };
    assert.equal(answer.topic, 'paused', 'the paused ask is answered after resuming');
    await assert.rejects(client.call('ask', { agent: 'planner', message: { topic: 'after' }, timeoutMs: 30_000 }, 35_000), /injected crash|InjectedFault/);
    const after = await until('planner restarted', () => {
      const a = row();
      return a && a.state === 'running' && a.restarts > before.restarts && a.pid !== before.pid && a;
    });
    assert.equal(after.restarts, before.restarts + 1);
    await until('the fault spent', () => !api.extension.model.snapshot.faults.some((f) => f.id === faultId));
    const reattached = await until('the debugger attached to the new planner', () => {
      const s = api.extension.debug.agentSessions.get('planner');
      return s && s !== oldSession && s;
    });
    notes.pausedInject = { fault: fault.fault, session: reattached.name };
    await vscode.debug.stopDebugging();
    await client.call('restart', { agent: 'scheduler' });
  });

  it('contributes the paused-agent injection to the Call Stack menu and the debug toolbar', () => {
    const menus = vscode.extensions.getExtension('faultline.faultline-vscode')!.packageJSON.contributes.menus;
    for (const m of ['debug/callstack/context', 'debug/toolBar']) {
      assert.ok(menus[m].some((i: { command: string; when: string }) => i.command === 'faultline.injectIntoPaused' && /faultline\.debugging/.test(i.when)), m);
    }
  });

  it('Create Sample Agent System scaffolds the example into an empty folder, with a config valid per the runtime\'s schema', async () => {
    const target = path.join(path.dirname(wsDir()), 'sample-target');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    const config = await vscode.commands.executeCommand<string>('faultline.createSample', target);
    assert.equal(config, path.join(target, 'faultline.config.json'));
    const json = JSON.parse(readFileSync(config, 'utf8'));
    assert.equal(json.$schema, undefined, 'no $schema pointing into the repository');
    const modules: string[] = [];
    const walk = (n: { agent?: { module: string }; supervisor?: { children: unknown[] } }) => {
      if (n.agent) modules.push(n.agent.module);
      for (const c of (n.supervisor?.children ?? []) as typeof n[]) walk(c);
    };
    walk({ supervisor: json.supervisor });
    assert.ok(modules.length >= 7, modules.join(', '));
    for (const m of modules) assert.ok(existsSync(path.join(target, m)), `${m} is there`);
    assert.ok(readdirSync(path.join(target, 'drills')).some((f) => f.endsWith('.json')), 'the drills came along');
    assert.ok(!existsSync(path.join(target, '.faultline')), 'no state dir copied');
    // Not into a folder that has files: refused, nothing written.
    const again = await vscode.commands.executeCommand<string | undefined>('faultline.createSample', target);
    assert.equal(again, undefined);

    // The schema VS Code validates with is the runtime's own.
    const extPath = vscode.extensions.getExtension('faultline.faultline-vscode')!.extensionPath;
    assert.deepEqual(JSON.parse(readFileSync(path.join(extPath, 'schema', 'faultline.schema.json'), 'utf8')), JSON.parse(readFileSync(path.join(extPath, '..', 'dist', 'faultline.schema.json'), 'utf8')));
    // VS Code's JSON language service checks the scaffolded config against it (jsonValidation):
    // a broken copy gets a diagnostic, so the schema is in force; the scaffolded one gets none.
    const broken = path.join(path.dirname(wsDir()), 'broken-config', 'faultline.config.json');
    mkdirSync(path.dirname(broken), { recursive: true });
    writeFileSync(broken, JSON.stringify({ ...json, supervisor: { ...json.supervisor, strategy: 'one_for_none' } }, null, 2));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(config));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(broken));
    const problems = await until('the schema flags the broken copy', () => {
      const d = vscode.languages.getDiagnostics(vscode.Uri.file(broken));
      return d.length > 0 && d;
    }, 60_000);
    assert.ok(problems.some((d) => /one_for_all|one_for_one|rest_for_one|not accepted|allowed/i.test(d.message)), problems.map((d) => d.message).join(' | '));
    await sleep(1000);
    assert.deepEqual(vscode.languages.getDiagnostics(vscode.Uri.file(config)).map((d) => d.message), [], 'the scaffolded config is valid');
    notes.schemaDiagnostic = problems[0].message;
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

  it('attaches to a runtime already running (runtime.json), and lets go of it without stopping it', async () => {
    const m = api.extension.manager!;
    assert.equal(m.state, 'stopped');
    const node = vscode.workspace.getConfiguration('faultline').get<string>('runtime.nodePath')!;
    const cli = path.join(wsDir(), 'node_modules', 'faultline', 'bin', 'faultline.js');
    const child = spawn(node, [cli, 'up', '--config', path.join(wsDir(), 'faultline.config.json'), '--no-live'], { cwd: wsDir(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', () => {});
    try {
      await until('the listening line', () => /Faultline runtime listening on/.test(out), 30_000);
      await vscode.commands.executeCommand('faultline.startRuntime');
      assert.equal(m.state, 'connected');
      assert.equal(m.ownsProcess, false, 'attached, not spawned');
      assert.equal(m.pid, child.pid);
      await until('the tree of that runtime', () => api.extension.model.snapshot.status?.runtime.pid === child.pid && tree().some((r) => r.label === 'planner'));
      // What deactivate does: let go; a runtime the extension did not start keeps running.
      await m.stop();
      assert.equal(m.state, 'stopped');
      await sleep(500);
      assert.equal(child.exitCode, null, 'still running');
      process.kill(child.pid!, 0);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
