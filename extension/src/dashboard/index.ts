/**
 * The seam to the Faultline Dashboard (issue 8): the webview bundle is built
 * from ../webview into webview/dist beside the extension. Without it the
 * command explains what is missing instead of opening an empty panel.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DashboardDeps } from './DashboardPanel.ts';

export function dashboardAssets(extensionPath: string): string | undefined {
  const dir = path.join(extensionPath, 'webview', 'dist');
  return existsSync(path.join(dir, 'dashboard.js')) ? dir : undefined;
}

export async function openDashboard(deps: DashboardDeps): Promise<void> {
  const assets = dashboardAssets(deps.extensionPath);
  if (!assets) {
    void deps.vs.window.showInformationMessage(
      'Faultline: the dashboard is not part of this build yet (no webview/dist/dashboard.js beside the extension). Build it with `npm run build` in webview/ and rebuild the extension; meanwhile the Faultline views show the live tree.',
      'Show Agents',
    ).then((a) => a && deps.vs.commands.executeCommand('faultline.agents.focus'));
    return;
  }
  const { DashboardPanel } = await import('./DashboardPanel.ts');
  DashboardPanel.show(deps, assets);
}
