/**
 * Fail · Delay · Block · Crash here above each `ctx.call(…)` / `ctx.model(…)`
 * in the system's agent modules, while the runtime is being debugged (or
 * always, by setting). A lens injects a fault aimed at that point
 * (`params.point`); an armed point shows one lens that clears it, and an
 * after-line decoration with the fault and the dependency's live breaker.
 * The parser is loaded on first use, from its own bundle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import { agentsOf } from '../../../runtime/protocol/status.ts';
import type { CommandContext } from '../commands/CommandContext.ts';
import { register } from '../commands/CommandContext.ts';
import { clearFault, inject } from '../commands/inject.ts';
import type { DebugRuntime } from '../debug/DebugRuntime.ts';
import type { CallSite } from './callSites.ts';
import { faultsAt, LENS_ACTIONS, pointId, siteDependency } from './faultPoints.ts';
import { describeParams } from '../model/dependencyList.ts';

type FindCallSites = (code: string, fileName: string) => CallSite[];

export interface LensArgs {
  point: string;
  fault?: string;
  target?: string;
  params?: Record<string, unknown>;
  /** Set when the lens clears what is armed at the point. */
  clear?: string[];
}

export class FaultLens implements vscode.CodeLensProvider, vscode.Disposable {
  private parser?: FindCallSites;
  private readonly changed: vscode.EventEmitter<void>;
  readonly onDidChangeCodeLenses: vscode.Event<void>;
  private readonly decoration: vscode.TextEditorDecorationType;
  private readonly subs: vscode.Disposable[] = [];
  private readonly sites = new Map<string, { version: number; sites: CallSite[] }>();

  constructor(private readonly vs: VSCode, private readonly ctx: CommandContext, private readonly debug: DebugRuntime) {
    this.changed = new vs.EventEmitter<void>();
    this.onDidChangeCodeLenses = this.changed.event;
    this.decoration = vs.window.createTextEditorDecorationType({ after: { margin: '0 0 0 2em', color: new vs.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' } });
    this.subs.push(
      this.changed,
      this.decoration,
      vs.languages.registerCodeLensProvider([{ language: 'javascript' }, { language: 'typescript' }, { pattern: '**/*.{mjs,cjs,mts,cts}' }], this),
      register(ctx, 'faultline.lens.toggle', 'Cannot toggle the fault', (a: LensArgs) => this.toggle(a)),
      debug.onDidChange(() => this.refresh()),
      ctx.model.onDidChange(() => this.refresh()),
      vs.window.onDidChangeVisibleTextEditors(() => this.decorate()),
      vs.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('faultline.codeLens') && this.refresh()),
    );
  }

  private enabled(): boolean {
    const mode = this.vs.workspace.getConfiguration('faultline').get<string>('codeLens.enabled', 'debugging');
    return mode === 'always' || (mode === 'debugging' && this.debug.debugging);
  }

  private refresh() {
    this.changed.fire();
    this.decorate();
  }

  /** The agent whose module this file is, from the running system's status. */
  private agentOf(file: string): string | undefined {
    const config = this.ctx.manager()?.configFile;
    const status = this.ctx.model.snapshot.status;
    if (!config || !status) return undefined;
    return agentsOf(status.tree).find((a) => path.resolve(path.dirname(config), a.module) === file)?.id;
  }

  private models(config: string): Record<string, string[]> | undefined {
    try {
      return JSON.parse(readFileSync(config, 'utf8')).models;
    } catch {
      return undefined;
    }
  }

  private sitesOf(doc: vscode.TextDocument): CallSite[] {
    const key = doc.uri.toString();
    const hit = this.sites.get(key);
    if (hit && hit.version === doc.version) return hit.sites;
    // Loaded from its own bundle on first need: the parser is not on the activation path.
    this.parser ??= (require(path.join(this.ctx.extensionPath, 'dist', 'callSites.js')) as { findCallSites: FindCallSites }).findCallSites;
    const sites = this.parser(doc.getText(), doc.fileName);
    this.sites.set(key, { version: doc.version, sites });
    return sites;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.enabled()) return [];
    const agent = this.agentOf(doc.fileName);
    const config = this.ctx.manager()?.configFile;
    if (!agent || !config) return [];
    const models = this.models(config);
    const faults = this.ctx.model.snapshot.faults;
    const lenses: vscode.CodeLens[] = [];
    for (const site of this.sitesOf(doc)) {
      const range = new this.vs.Range(site.line, site.column, site.line, site.column);
      const point = pointId(config, doc.fileName, site);
      const armed = faultsAt(faults, point);
      if (armed.length) {
        const args: LensArgs = { point, clear: armed.map((f) => f.id) };
        lenses.push(new this.vs.CodeLens(range, { title: `$(zap) ${armed.map((f) => f.fault).join(', ')} armed here — clear`, command: 'faultline.lens.toggle', arguments: [args] }));
        continue;
      }
      const dep = siteDependency(site, models);
      for (const a of LENS_ACTIONS) {
        const target = a.action === 'crash' ? agent : dep;
        if (!target) continue;
        const args: LensArgs = { point, fault: a.fault, target, params: { ...a.params, point } };
        lenses.push(new this.vs.CodeLens(range, { title: a.title, tooltip: `${a.fault} on ${target} at ${point}`, command: 'faultline.lens.toggle', arguments: [args] }));
      }
    }
    return lenses;
  }

  private async toggle(a: LensArgs) {
    if (a.clear?.length) {
      for (const id of a.clear) await clearFault(this.ctx, id);
    } else if (a.fault && a.target) {
      await inject(this.ctx, { fault: a.fault, target: a.target, params: a.params });
    }
    await this.ctx.model.refresh();
  }

  /** After-line text on armed points: the fault and the dependency's breaker right now. */
  private decorate() {
    const config = this.ctx.manager()?.configFile;
    const snap = this.ctx.model.snapshot;
    for (const editor of this.vs.window.visibleTextEditors) {
      if (!config || !this.enabled() || !this.agentOf(editor.document.fileName)) {
        editor.setDecorations(this.decoration, []);
        continue;
      }
      const opts: vscode.DecorationOptions[] = [];
      for (const site of this.sitesOf(editor.document)) {
        const armed = faultsAt(snap.faults, pointId(config, editor.document.fileName, site));
        if (!armed.length) continue;
        const dep = snap.status?.dependencies?.find((d) => armed.some((f) => f.target === d.id));
        const text = `⚡ ${armed.map((f) => `${f.fault}${describeParams({ ...f.params, point: undefined }) ? ` (${describeParams({ ...f.params, point: undefined })})` : ''}`).join(', ')} armed${dep ? ` · ${dep.id} breaker ${dep.breaker}` : ''}`;
        const line = editor.document.lineAt(site.endLine);
        opts.push({ range: line.range, renderOptions: { after: { contentText: text } } });
      }
      editor.setDecorations(this.decoration, opts);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
