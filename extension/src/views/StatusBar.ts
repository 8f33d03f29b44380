/** The status bar item: runtime health at a glance; a click opens the dashboard. */
import type * as vscode from 'vscode';
import type { VSCode } from '../vscodeTypes.ts';
import type { HealthSummary } from '../model/healthSummary.ts';

export class StatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  last?: HealthSummary;

  constructor(private readonly vs: VSCode) {
    this.item = vs.window.createStatusBarItem('faultline.health', vs.StatusBarAlignment.Left, 50);
    this.item.name = 'Faultline';
    this.item.command = 'faultline.openDashboard';
    this.item.text = '$(pulse) Faultline';
    this.item.show();
  }

  update(h: HealthSummary): void {
    this.last = h;
    this.item.text = h.text;
    const md = new this.vs.MarkdownString(h.tooltip);
    md.supportThemeIcons = true;
    this.item.tooltip = md;
    this.item.backgroundColor = h.severity === 'error' ? new this.vs.ThemeColor('statusBarItem.errorBackground') : h.severity === 'warning' ? new this.vs.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Faultline: ${h.up} of ${h.total} agents up, ${h.openBreakers} open breakers, ${h.faults} active faults` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
