/**
 * UI end-to-end: the packaged .vsix installed into a real code-server,
 * driven through Debian's chromium as a person would — the Faultline view,
 * Kill from the context menu, the status bar, the command palette.
 * Screenshots go to test-output/e2e/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { exampleWorkspace, extensionDir, launchChromium, outDir, startCodeServer, type CodeServer } from '../run/codeServer.ts';
import { waiting } from './waiting.ts';

const shots = path.join(outDir, 'e2e');
const vsix = path.join(extensionDir, 'faultline-vscode.vsix');
let cs: CodeServer | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const { until, visible } = waiting(shot, '');
const row = (label: string) => page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }).first();

async function pidOf(label: string): Promise<number | undefined> {
  const text = (await row(label).locator('.label-description').textContent().catch(() => null)) ?? '';
  const m = /^running · (?:↻\d+ · )?pid (\d+)/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

before(async () => {
  assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  mkdirSync(shots, { recursive: true });
  const ws = exampleWorkspace('e2e-ui');
  cs = await startCodeServer({ name: 'e2e-ui', workspace: ws, vsix });
  browser = await launchChromium('e2e-ui');
  page = browser.page;
  await page.goto(`${cs.url}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await cs?.stop();
});

test('the Faultline view shows the supervision tree', async () => {
  const tab = page.locator('.activitybar .action-item a[aria-label^="Faultline"], .activitybar .action-item[aria-label^="Faultline"]').first();
  await tab.waitFor({ timeout: 60_000 });
  await tab.click();
  await until('planner running with a pid', () => pidOf('planner'));
  // Four views share the sidebar (Agents, Dependencies, Faults, Checkpoints): fold two so the whole tree fits.
  for (const title of ['Dependencies', 'Faults']) {
    const header = page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`) }).first();
    if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
  }
  for (const id of ['root', 'crew', 'researcher', 'writer', 'workers', 'fetcher', 'summarizer', 'indexer', 'scheduler']) {
    await row(id).waitFor({ timeout: 15_000 });
  }
  await shot('01-tree');
});

test('Kill from the context menu gives the agent a new pid', async () => {
  const before = await until('planner pid', () => pidOf('planner'));
  await row('planner').click({ button: 'right' });
  const kill = page.locator('.monaco-menu .action-label', { hasText: 'Kill (SIGKILL)' }).first();
  await kill.waitFor({ timeout: 10_000 });
  await shot('02-context-menu');
  await kill.click();
  const after = await until('a new planner pid', async () => {
    const p = await pidOf('planner');
    return p && p !== before && p;
  });
  assert.notEqual(after, before);
  assert.match((await row('planner').locator('.label-description').textContent()) ?? '', /↻1/);
  await shot('03-after-kill');
});

test('the status bar shows runtime health', async () => {
  const item = page.locator('.statusbar-item[id="faultline.faultline-vscode.faultline.health"], .statusbar-item:has-text("/")').filter({ hasText: /\d+\/\d+/ }).first();
  const text = await until('the health item', async () => {
    const t = (await item.textContent())?.trim();
    return t && /^\d+\/\d+/.test(t) && t;
  });
  const [up, total] = text.split(/\s/)[0].split('/').map(Number);
  assert.ok(total >= 7 && up <= total, text);
  await shot('04-status-bar');
});

test('the command palette lists the Faultline commands', async () => {
  await page.locator('.monaco-workbench').click({ position: { x: 600, y: 300 } }).catch(() => {});
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill('>Faultline: ');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  await shot('05-palette');
  const labels = new Set<string>();
  // The list is virtual: scroll through it to read every row.
  for (let i = 0; i < 30; i++) {
    for (const t of await page.locator('.quick-input-list .monaco-list-row .label-name').allTextContents()) labels.add(t.replace(/\s+/g, ' ').trim());
    await page.keyboard.press('PageDown');
  }
  await page.keyboard.press('Escape');
  for (const c of ['Start Runtime', 'Stop Runtime', 'Restart Runtime', 'Open Dashboard', 'Inject Fault…', 'Clear All Faults', 'Run Drill…', 'Start Chaos Monkey…', 'Stop Chaos Monkey', 'Show Logs', 'Show Checkpoints…', 'Create Sample Agent System', 'Debug Runtime']) {
    assert.ok([...labels].some((l) => l.endsWith(c)), `palette lists "Faultline: ${c}" (saw ${[...labels].join(' | ')})`);
  }
});

test('clicking the status bar item opens the dashboard (or says why it cannot)', async (t) => {
  await page.locator('.statusbar-item').filter({ hasText: /^\s*\d+\/\d+/ }).first().click();
  const tab = page.locator('.tabs-container .tab', { hasText: 'Faultline Dashboard' }).first();
  const notice = page.locator('.notification-toast', { hasText: 'dashboard is not part of this build' }).first();
  const which = await until('the dashboard or the notice', async () => ((await tab.isVisible()) ? 'panel' : (await notice.isVisible()) ? 'notice' : undefined), 30_000);
  assert.equal(which, 'panel', 'the packaged .vsix ships the dashboard (webview/dist)');
  if (which === 'panel') {
    // Known, outside the extension: the protocol's dashboardHtml refuses code-server's
    // two-expression webview.cspSource ("'self' https://*.vscode-cdn.net"); issue 8.
    const cspBug = page.locator('.notification-toast', { hasText: 'cspSource must be one source expression' }).first();
    await new Promise((r) => setTimeout(r, 1500));
    if (await cspBug.isVisible()) {
      await shot('06-dashboard-csp-refused');
      t.todo('dashboardHtml (runtime/protocol/webview.ts) refuses webview.cspSource with two source expressions');
      return;
    }
    // The dashboard page renders inside the webview's iframes once it got its snapshot.
    await until('the dashboard page', async () => {
      for (const f of page.frames()) if (await f.locator('#app').count().catch(() => 0)) return true;
      return false;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
  }
  await shot(`06-dashboard-${which}`);
});

test("the dashboard's side panel draws an agent's live lifecycle machine, and a kill plays through it", async () => {
  let app: Frame | undefined;
  await until('the dashboard page', async () => {
    for (const f of page.frames()) if (await f.locator('#app .node[data-id="writer"]').count().catch(() => 0)) return (app = f);
    return undefined;
  }, 30_000);
  await app!.locator('.node[data-id="writer"]').first().click();
  // The panel asked the runtime for the machine (`machine` method) and draws its definition.
  const svgState = () => app!.locator('aside.details .statechart-svg').getAttribute('data-state', { timeout: 1000 }).catch(() => null);
  await until('the statechart of writer', async () => ((await svgState())?.startsWith('running') ? true : undefined), 30_000);
  assert.ok((await app!.locator('aside.details .statechart g.state.depth-0').count()) >= 8, 'every top-level state of the agent machine is drawn');
  // Kill from the panel: the machine.transition events stream in and play exited → … → running.
  await app!.locator('aside.details button[data-action=kill]').click();
  const trail = () => app!.locator('aside.details .statechart-svg').getAttribute('data-trail', { timeout: 1000 }).catch(() => null);
  const played = await until('the kill played through the statechart', async () => {
    const t = (await trail())?.split(' ') ?? [];
    const i = t.indexOf('exited');
    return i >= 0 && t.slice(i).some((s) => s.startsWith('starting')) && t[t.length - 1].startsWith('running') ? t : undefined;
  }, 30_000);
  assert.ok(played.includes('exited'), played.join(' '));
  await shot('06b-dashboard-statechart');
});

/** Runs a palette command by its title, as a person does: F1, type, Enter. */
async function palette(title: string) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first(), `palette ${title}`, 10_000);
  await page.keyboard.press('Enter');
}

test('Run Drill… from the palette: pick a shipped drill, see the verdict, open the JSON report', async () => {
  await palette('Faultline: Run Drill…');
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'corrupt-checkpoint' }).first();
  await pick.waitFor({ timeout: 15_000 });
  await shot('07-drill-pick');
  await pick.click();
  const toast = page.locator('.notification-toast', { hasText: 'Faultline drill "corrupt-checkpoint": the hypothesis held' }).first();
  await toast.waitFor({ timeout: 90_000 });
  await shot('08-drill-held');
  await toast.locator('.monaco-button', { hasText: 'Open Report' }).click();
  const tab = page.locator('.tabs-container .tab', { hasText: /^corrupt-checkpoint-.*\.json/ }).first();
  await tab.waitFor({ timeout: 15_000 });
  // Monaco renders spaces as no-break spaces.
  await until('the report in the editor', async () => (await page.locator('.editor-instance .monaco-editor .view-lines').first().textContent())?.replace(/\u00a0/g, ' ').includes('"status": "held"'), 15_000);
  await shot('09-drill-report');
});

test('while debugging: the Call Stack menu injects a fault into the paused agent (it crashes once it resumes); lenses arm a fault at a model call, shown after the line', async () => {
  // The Faultline view, to read the planner's restarts from (clicking its tab when it shows would hide it).
  const showFaultline = async () => {
    if (!(await row('root').isVisible().catch(() => false))) await page.locator('.activitybar .action-item a[aria-label^="Faultline"], .activitybar .action-item[aria-label^="Faultline"]').first().click();
  };
  const restarts = async () => {
    const text = (await row('planner').locator('.label-description').textContent().catch(() => null)) ?? '';
    const m = /^running · (?:↻(\d+) · )?pid \d+/.exec(text.trim());
    return m ? Number(m[1] ?? 0) : undefined;
  };
  await palette('Faultline: Debug Runtime');
  await palette('View: Show Run and Debug');
  // The Run and Debug view lists a session per agent process.
  await visible(page.locator('.debug-call-stack .monaco-list-row', { hasText: 'Faultline agent: planner' }).first(), 'the planner debug session', 90_000);
  // The runtime restarted for debugging: the planner's restarts count afresh (the view may still show the old runtime a moment).
  await showFaultline();
  await until('the planner of the fresh runtime', async () => (await restarts()) === 0, 30_000);
  const before = 0;
  await palette('View: Show Run and Debug');
  // A breakpoint on the planner's first line of work; the scheduler asks it every few seconds.
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('agents/planner.mjs');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'planner.mjs' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab', { hasText: 'planner.mjs' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(':8');
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: 'line 8' }).first(), 'go to line 8', 10_000);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await until('line 8 current', async () => /Ln 8,/.test((await page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first().textContent()) ?? ''), 10_000);
  await page.keyboard.press('F9');
  const frame = page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'planner.mjs' }).first();
  await visible(frame, 'paused in planner', 60_000);
  await shot('10-paused-call-stack');
  // The debug toolbar offers it too while a Faultline agent is debugged.
  assert.ok(await page.locator('.debug-toolbar .action-item a[aria-label^="Inject Fault into Paused Agent"]').first().isVisible(), 'the debug toolbar item');
  await frame.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-label', { hasText: 'Inject Fault into Paused Agent…' }).first();
  await visible(item, 'the call stack menu item', 10_000);
  await shot('11-call-stack-menu');
  await item.click();
  const crash = page.locator('.quick-input-list .monaco-list-row', { hasText: 'crash' }).first();
  await crash.waitFor({ timeout: 10_000 });
  assert.match((await page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '', /paused agent planner/);
  await shot('12-inject-pick');
  await crash.click();
  await visible(page.locator('.statusbar-item', { hasText: 'crash armed in planner' }).first(), 'the armed message', 15_000);
  await shot('12b-armed');
  // Resume without the breakpoint: the next message the planner takes meets the crash.
  await palette('Remove All Breakpoints');
  await page.keyboard.press('F5');
  await showFaultline();
  const after = await until('the planner restarted after the crash', async () => {
    const r = await restarts();
    return r !== undefined && r > before && r;
  }, 60_000);
  assert.ok(after > before);
  await shot('13-after-resume');

  // While debugging, lenses over the writer's model call arm a fault at that call; the line then
  // shows the armed fault and the live breaker of the chain's first model; the lens clears it again.
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('agents/writer.mjs');
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: 'writer.mjs' }).first(), 'writer.mjs in quick open', 10_000);
  await page.keyboard.press('Enter');
  const lens = (text: string | RegExp) => page.locator('.monaco-editor .codelens-decoration a', { hasText: text }).first();
  await visible(lens(/^Block$/), 'the Block lens', 30_000);
  await shot('14-lenses');
  await lens(/^Block$/).click();
  await visible(lens(/blackhole armed here/), 'the armed lens', 15_000);
  const decoration = await until('the after-line decoration', () =>
    page.evaluate(() => {
      for (const el of Array.from(document.querySelectorAll('.monaco-editor .view-lines span'))) {
        const c = getComputedStyle(el, '::after').content;
        if (c && c.includes('armed')) return c;
      }
      return undefined;
    }), 15_000);
  assert.match(decoration, /⚡ blackhole armed · primary breaker (closed|open|half-open|isolated)/);
  await shot('15-armed-decoration');
  await lens(/blackhole armed here/).click();
  await visible(lens(/^Block$/), 'the lenses again after clearing', 15_000);
  await page.keyboard.press('Shift+F5');
});
