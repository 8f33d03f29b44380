/**
 * Drills as tests in VS Code's Test Explorer: a test controller
 * (`faultline.drills`) whose items are the drill files of the workspace
 * (`drills/*.json`, `*.drill.json`, and any other JSON file that is a drill),
 * each with its method steps as children at their lines. The Run profile
 * runs a drill in the connected runtime (`drill.run`), or with
 * `faultline drill FILE` under the user's Node for a drill that kills the
 * runtime (or a runtime without that method); the runtime's progress streams
 * into the test output; each step passes, fails or is skipped; a failed probe
 * gets a message at its line. Cancelling the run cancels the drill
 * (`drill.cancel` / Ctrl-C to the CLI): the rollbacks still run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import type { LogEvent } from '../../../runtime/protocol/events.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { runDrillProcess } from '../runtime/DrillProcess.ts';
import { stateDirFor } from '../runtime/runtimeFile.ts';
import { NotConnectedError, type CommandContext } from '../commands/CommandContext.ts';
import { reportPath } from '../commands/drillReport.ts';
import { outlineDrill, type DrillOutline } from './drillOutline.ts';
import { drillOutcome } from './drillOutcome.ts';
import type { Span } from './jsonLocations.ts';

/** Where drills are looked for, and what is never a drill (reports live under .faultline/drills/). */
const JSON_GLOB = '**/*.json';
const EXCLUDE = '**/{node_modules,.faultline,.git,out,dist,.vscode-test}/**';
const EXCLUDED = /[\\/](node_modules|\.faultline|\.git|out|dist|\.vscode-test)[\\/]/;
/** Files here are drills by name: when one does not read as a drill, its item says why. */
const BY_NAME = /(?:[\\/]drills[\\/][^\\/]+\.json|\.drill\.json)$/i;
const MAX_BYTES = 1024 * 1024;
const DRILL_TIMEOUT_MS = 30 * 60_000;

type Validate = (json: unknown) => string[];

export class DrillTestController implements vscode.Disposable {
  readonly controller: vscode.TestController;
  private readonly subs: vscode.Disposable[] = [];
  private readonly outlines = new Map<string, DrillOutline>();
  private validate?: Validate | null;
  private discovered?: Promise<void>;

  constructor(private readonly vs: VSCode, private readonly ctx: CommandContext) {
    const c = (this.controller = vs.tests.createTestController('faultline.drills', 'Faultline drills'));
    c.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    c.refreshHandler = async () => {
      this.discovered = undefined;
      await this.discover();
    };
    c.createRunProfile('Run drill', vs.TestRunProfileKind.Run, (request, token) => this.run(request, token), true);
    const watcher = vs.workspace.createFileSystemWatcher(JSON_GLOB);
    this.subs.push(
      c,
      watcher,
      watcher.onDidCreate((u) => void this.refreshFile(u)),
      watcher.onDidChange((u) => void this.refreshFile(u)),
      watcher.onDidDelete((u) => this.remove(u)),
      vs.workspace.onDidChangeWorkspaceFolders(() => {
        this.discovered = undefined;
        void this.discover();
      }),
    );
  }

  /** Finds every drill of the workspace (once; the watcher keeps it current). */
  discover(): Promise<void> {
    this.discovered ??= (async () => {
      const found = await this.vs.workspace.findFiles(JSON_GLOB, EXCLUDE, 5000);
      const seen = new Set(found.map((u) => u.toString()));
      this.controller.items.forEach((item) => {
        if (!seen.has(item.id)) this.remove(item.uri!);
      });
      await Promise.all(found.map((u) => this.refreshFile(u)));
    })().catch((e) => this.ctx.log.error(`cannot look for drills: ${(e as Error).message}`));
    return this.discovered;
  }

  /** The outline of a drill item (after discovery). */
  outline(uri: vscode.Uri): DrillOutline | undefined {
    return this.outlines.get(uri.toString());
  }

  private remove(uri: vscode.Uri) {
    this.controller.items.delete(uri.toString());
    this.outlines.delete(uri.toString());
  }

  private range(s: Span): vscode.Range {
    return new this.vs.Range(s.start.line, s.start.character, s.end.line, s.end.character);
  }

  /** Reads one JSON file: a drill becomes (or updates) an item; anything else is dropped. */
  async refreshFile(uri: vscode.Uri): Promise<void> {
    if (EXCLUDED.test(uri.fsPath)) return;
    let text: string;
    try {
      const bytes = await this.vs.workspace.fs.readFile(uri);
      if (bytes.byteLength > MAX_BYTES) return this.remove(uri);
      text = new TextDecoder().decode(bytes);
    } catch {
      return this.remove(uri);
    }
    const byName = BY_NAME.test(uri.fsPath);
    // Most JSON files are not drills: skip the parse unless the file could be one.
    if (!byName && !text.includes('"steadyState"')) return this.remove(uri);
    const r = outlineDrill(text, uri.fsPath);
    const id = uri.toString();
    if (r.kind === 'not-a-drill') {
      this.outlines.delete(id);
      if (!byName) return this.remove(uri);
      const item = this.controller.createTestItem(id, path.basename(uri.fsPath).replace(/\.json$/i, ''), uri);
      item.description = this.vs.workspace.asRelativePath(uri);
      item.error = r.reason;
      if (r.span) item.range = this.range(r.span);
      item.children.replace([]);
      this.controller.items.add(item);
      return;
    }
    const o = r.outline;
    this.outlines.set(id, o);
    const item = this.controller.items.get(id) ?? this.controller.createTestItem(id, o.name, uri);
    item.label = o.name;
    item.description = `${this.vs.workspace.asRelativePath(uri)}${o.killsRuntime ? ' · CLI (kills the runtime)' : ''}`;
    item.range = this.range(o.span);
    const problems = this.problems(o.drill);
    item.error = problems.length ? `Invalid drill:\n${problems.join('\n')}` : undefined;
    item.children.replace(
      o.steps.map((s) => {
        const child = this.controller.createTestItem(`${id}#method/${s.index}`, `${s.index + 1}. ${s.label}`, uri);
        child.range = this.range(s.span);
        child.description = s.type;
        return child;
      }),
    );
    this.controller.items.add(item);
  }

  /** The runtime's own schema check, bundled apart (dist/drillValidator.js) to keep zod off the activation path. */
  private problems(drill: unknown): string[] {
    if (this.validate === undefined) {
      try {
        this.validate = (require(path.join(this.ctx.extensionPath, 'dist', 'drillValidator.js')) as { drillProblems: Validate }).drillProblems;
      } catch (e) {
        this.ctx.log.warn(`drill files are not checked against the runtime's schema: ${(e as Error).message}`);
        this.validate = null;
      }
    }
    return this.validate ? this.validate(drill) : [];
  }

  private drillsOf(request: vscode.TestRunRequest): vscode.TestItem[] {
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const out = new Map<string, vscode.TestItem>();
    const add = (i: vscode.TestItem) => {
      const drill = i.parent ?? i;
      if (!excluded.has(drill.id)) out.set(drill.id, drill);
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    return [...out.values()];
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    await this.discover();
    const run = this.controller.createTestRun(request);
    try {
      for (const item of this.drillsOf(request)) {
        if (token.isCancellationRequested) {
          run.skipped(item);
          continue;
        }
        await this.runOne(run, item, token);
      }
    } finally {
      run.end();
    }
  }

  private message(text: string, uri: vscode.Uri | undefined, span: Span | undefined): vscode.TestMessage {
    const m = new this.vs.TestMessage(text);
    if (uri && span) m.location = new this.vs.Location(uri, this.range(span));
    return m;
  }

  private async runOne(run: vscode.TestRun, item: vscode.TestItem, token: vscode.CancellationToken): Promise<void> {
    const uri = item.uri!;
    // The file as it is now: it may have changed since discovery.
    await this.refreshFile(uri);
    const o = this.outlines.get(item.id);
    const steps: vscode.TestItem[] = [];
    item.children.forEach((c) => steps.push(c));
    if (!o || item.error) {
      run.errored(item, this.message(String(item.error ?? 'not a drill'), uri, undefined));
      return;
    }
    const say = (line: string) => run.appendOutput(`${line.replace(/\r?\n/g, '\r\n')}\r\n`, undefined, item);
    run.started(item);
    for (const s of steps) run.started(s);

    const manager = o.killsRuntime ? await this.ctx.ensureManager() : this.ctx.manager();
    const client = manager?.client;
    if (!manager || (!o.killsRuntime && !client)) {
      const e = new NotConnectedError();
      run.errored(item, this.message(e.message, undefined, undefined));
      for (const s of steps) run.skipped(s);
      return;
    }
    const drill = { ...o.drill, name: o.name };
    const report = reportPath(stateDirFor(manager.configFile), o.name);
    const cancelled = new AbortController();
    let inRuntime = false;
    let cancelledAt: number | undefined;
    const onCancel = token.onCancellationRequested(() => {
      cancelledAt = Date.now();
      cancelled.abort();
      say('cancelled: stopping the method, then rolling back…');
      if (inRuntime && client) client.call('drill.cancel', {}).catch((e) => say(`the runtime could not cancel the drill: ${(e as Error).message}`));
    });
    // The runtime logs the progress of the drill it runs with a `drill` field.
    const progress = this.ctx.model.onEvent((e) => {
      const l = e.params as LogEvent;
      if (e.name === 'log' && l?.drill === o.name) say(String(l.msg).replace(/^drill:\s*/, ''));
    });
    const viaCli = async () => {
      const { nodePath, cli } = await manager.cli();
      say(`$ ${nodePath} ${cli} drill ${uri.fsPath} --report ${report}`);
      return runDrillProcess({ nodePath, cli, configFile: manager.configFile, drillFile: uri.fsPath, report, onLine: say, signal: cancelled.signal });
    };
    let journal: unknown;
    try {
      if (o.killsRuntime) {
        say(`drill "${o.name}" kills the runtime: running it with \`faultline drill\``);
        journal = await viaCli();
      } else {
        try {
          inRuntime = true;
          journal = await client!.call('drill.run', { drill }, DRILL_TIMEOUT_MS);
          await mkdir(path.dirname(report), { recursive: true });
          await writeFile(report, JSON.stringify(journal, null, 2) + '\n');
        } catch (e) {
          if (!(e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound)) throw e;
          inRuntime = false;
          say('this runtime has no "drill.run" method; running `faultline drill` instead');
          journal = await viaCli();
        }
      }
    } catch (e) {
      // Cancelled before the CLI took over Ctrl-C: nothing ran, nothing failed.
      if (cancelled.signal.aborted) {
        say(`cancelled before the drill began: ${(e as Error).message}`);
        run.skipped(item);
      } else run.errored(item, this.message(`The drill did not run: ${(e as Error).message}`, undefined, undefined));
      for (const s of steps) run.skipped(s);
      return;
    } finally {
      progress.dispose();
      onCancel.dispose();
    }
    say(`report: ${report}`);

    const outcome = drillOutcome(journal, o, cancelledAt === undefined ? {} : { cancelledAt });
    const byIndex = new Map(steps.map((s) => [Number(s.id.slice(s.id.lastIndexOf('/') + 1)), s]));
    for (const s of outcome.steps) {
      const child = byIndex.get(s.index);
      if (!child) continue;
      if (s.state === 'passed') run.passed(child, s.durationMs);
      else if (s.state === 'failed') run.failed(child, this.message(s.message.text, uri, s.message.span), s.durationMs);
      else run.skipped(child);
    }
    if (cancelled.signal.aborted) run.skipped(item);
    else if (outcome.state === 'passed') run.passed(item, outcome.durationMs);
    else run.failed(item, outcome.messages.map((m) => this.message(m.text, uri, m.span ?? o.span)), outcome.durationMs);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
