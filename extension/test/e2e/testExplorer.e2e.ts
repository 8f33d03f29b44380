/**
 * UI end-to-end: drills in VS Code's Test Explorer, with the packaged .vsix
 * in a real code-server driven through Debian's chromium. The workspace is
 * the example system plus two small drills of the test's own: one that holds
 * (kill the planner, it comes back) and one whose steady-state probe fails
 * (the primary's breaker is not open), which must be marked at that probe's
 * line. Screenshots go to test-output/e2e/ (te-*.png).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { exampleWorkspace, extensionDir, launchChromium, outDir, startCodeServer, type CodeServer } from '../run/codeServer.ts';
import { waiting } from './waiting.ts';

const shots = path.join(outDir, 'e2e');
const vsix = path.join(extensionDir, 'faultline-vscode.vsix');
let cs: CodeServer | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
let ws: string;

export const PASSING = `{
  "name": "quick-check",
  "description": "The planner is killed and comes back; the system stays ready.",
  "system": "research-team",
  "steadyState": {
    "probes": [
      { "type": "agents", "agents": "*", "state": "running", "withinMs": 30000 },
      { "type": "readyz", "status": 200, "withinMs": 30000 }
    ]
  },
  "method": [
    { "type": "inject", "name": "kill the planner", "fault": "kill", "target": "planner" },
    { "type": "probe", "name": "the planner is back", "probe": { "type": "agents", "agents": "planner", "state": "running", "withinMs": 20000 } }
  ],
  "rollbacks": []
}
`;

/** Its second probe (line 9, 1-based) cannot hold: the primary's breaker is closed. */
export const FAILING = `{
  "name": "failing-probe",
  "description": "A steady state that does not hold: the gate fails at the second probe.",
  "system": "research-team",
  "steadyState": {
    "probes": [
      { "type": "agents", "agents": "*", "state": "running", "withinMs": 30000 },
      { "type": "readyz", "status": 200, "withinMs": 30000 },
      { "type": "dependency", "name": "the primary's breaker is open",
        "dependency": "primary", "breaker": "open" }
    ]
  },
  "method": [
    { "type": "inject", "name": "kill the writer", "fault": "kill", "target": "writer" }
  ]
}
`;
const FAILING_PROBE_LINE = 9;

/** A method that waits a minute: the run is cancelled during the wait. */
export const SLOW = `{
  "name": "slow-wait",
  "steadyState": { "probes": [ { "type": "readyz", "status": 200, "withinMs": 30000 } ] },
  "method": [
    { "type": "wait", "name": "a long wait", "ms": 60000 },
    { "type": "inject", "name": "kill the planner", "fault": "kill", "target": "planner" }
  ],
  "rollbacks": [ { "type": "clear" } ]
}
`;

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const { until, visible } = waiting(shot, 'te-');

async function palette(title: string) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first(), `palette ${title}`, 10_000);
  await page.keyboard.press('Enter');
}

/** A row of the Test Explorer tree by its label. */
const testRow = (label: string | RegExp) =>
  page.locator('.test-explorer .monaco-list-row', { has: page.locator('.label', { hasText: typeof label === 'string' ? new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : label }) }).first();

/** The row's result, read from its state icon. */
async function stateOf(row: Locator): Promise<string | undefined> {
  for (const s of ['passed', 'failed', 'errored', 'skipped']) if (await row.locator(`.codicon-testing-${s}-icon`).count()) return s;
  return undefined;
}

async function runFromExplorer(label: string) {
  const row = testRow(label);
  await row.hover();
  const runAction = row.locator('.action-label[aria-label^="Run Test"], .action-label[aria-label^="Run"]').first();
  await visible(runAction, `the run action of ${label}`, 10_000);
  await runAction.click();
}

before(async () => {
  assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  mkdirSync(shots, { recursive: true });
  ws = exampleWorkspace('e2e-testing');
  writeFileSync(path.join(ws, 'drills', 'quick-check.json'), PASSING);
  writeFileSync(path.join(ws, 'drills', 'failing-probe.json'), FAILING);
  writeFileSync(path.join(ws, 'drills', 'slow-wait.json'), SLOW);
  cs = await startCodeServer({ name: 'e2e-testing', workspace: ws, vsix, settings: { 'testing.automaticallyOpenPeekView': 'never' } });
  browser = await launchChromium('e2e-testing');
  page = browser.page;
  await page.goto(`${cs.url}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // The runtime is up once the status bar counts the agents.
  await until('the runtime', async () => /^\d+\/\d+/.test((await page.locator('.statusbar-item').filter({ hasText: /^\s*\d+\/\d+/ }).first().textContent())?.trim() ?? ''), 90_000);
});

after(async () => {
  await browser?.close().catch(() => {});
  await cs?.stop();
});

test('the Test Explorer lists the drills of the workspace, the shipped ones and the test\'s own, with their steps', async () => {
  await palette('View: Show Testing');
  for (const d of ['quick-check', 'failing-probe', 'corrupt-checkpoint', 'kill-random', 'model-outage', 'runtime-kill']) await visible(testRow(d), `the drill ${d}`, 30_000);
  // A drill's children are its method steps, named as the runtime names them.
  const row = testRow('quick-check');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await visible(testRow('1. kill the planner'), 'step 1 of quick-check');
  await visible(testRow('2. the planner is back'), 'step 2 of quick-check');
  await shot('te-01-explorer');
});

test('a drill run from the Test Explorer passes, step by step, with its progress in the output', async () => {
  await runFromExplorer('quick-check');
  const state = await until('quick-check to finish', async () => {
    const s = await stateOf(testRow('quick-check'));
    return s && s !== 'skipped' ? s : undefined;
  }, 120_000);
  assert.equal(state, 'passed');
  assert.equal(await stateOf(testRow('1. kill the planner')), 'passed');
  assert.equal(await stateOf(testRow('2. the planner is back')), 'passed');
  // The runtime's progress of the drill, streamed into the run's output (the Test Results panel).
  const output = await until('the drill progress in the test output', async () => {
    const t = (await page.locator('.xterm-rows').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
    return /steady state after:/.test(t) && /\[2\] the planner is back/.test(t) && t;
  }, 15_000);
  assert.match(output, /ok\s+agents planner running/);
  await shot('te-02-passed');
});

test('a drill whose steady-state probe fails is marked failed at that probe\'s line; its steps are skipped', async () => {
  // The drill file open in the editor: the failure shows inline at its line.
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('drills/failing-probe.json');
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: 'failing-probe.json' }).first(), 'failing-probe.json in quick open', 10_000);
  await page.keyboard.press('Enter');
  await visible(page.locator('.tabs-container .tab', { hasText: 'failing-probe.json' }).first(), 'the failing-probe.json tab', 10_000);
  await palette('View: Show Testing');
  const row = testRow('failing-probe');
  await visible(row, 'the failing-probe drill');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await runFromExplorer('failing-probe');
  const state = await until('failing-probe to finish', async () => {
    const s = await stateOf(testRow('failing-probe'));
    return s && s !== 'skipped' ? s : undefined;
  }, 120_000);
  assert.equal(state, 'failed');
  assert.equal(await stateOf(testRow('1. kill the writer')), 'skipped', 'the gate failed: nothing was injected');
  // The message is a widget after the end of the probe's first line.
  const at = await until('the failure message in the editor', () =>
    page.evaluate(() => {
      const el = document.querySelector('.monaco-editor .test-error-content-widget');
      if (!el) return undefined;
      const box = el.getBoundingClientRect();
      const y = box.top + box.height / 2;
      const editor = el.closest('.monaco-editor')!;
      for (const n of Array.from(editor.querySelectorAll('.margin-view-overlays .line-numbers'))) {
        const r = n.getBoundingClientRect();
        if (y >= r.top && y < r.bottom) return { line: Number(n.textContent), text: el.textContent ?? '' };
      }
      return { line: -1, text: el.textContent ?? '' };
    }), 30_000);
  assert.equal(at.line, FAILING_PROBE_LINE, `the message sits at the probe's line (${at.text})`);
  assert.match(at.text, /probe "the primary's breaker is open" failed/);
  await shot('te-03-failed-at-probe');
});

test('cancelling the test run cancels the drill in the runtime: the method stops, the rollbacks run', async () => {
  await palette('View: Show Testing');
  const row = testRow('slow-wait');
  await visible(row, 'the slow-wait drill');
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  const t0 = Date.now();
  await runFromExplorer('slow-wait');
  const text = async () => (await page.locator('.xterm-rows').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
  await until('the wait to begin', async () => /\[1\] a long wait/.test(await text()), 60_000);
  await palette('Test: Cancel Test Run');
  const out = await until('the drill to stop and roll back', async () => {
    const t = await text();
    return /interrupted: stopping the method, then rolling back/.test(t) && /report: /.test(t) && t;
  }, 30_000);
  assert.ok(Date.now() - t0 < 55_000, 'the minute-long wait was cut short');
  assert.match(out, /rollbacks:/);
  await until('slow-wait marked skipped', async () => (await stateOf(testRow('slow-wait'))) === 'skipped', 15_000);
  assert.equal(await stateOf(testRow('1. a long wait')), 'skipped', 'the wait was cut short by the cancel');
  assert.equal(await stateOf(testRow('2. kill the planner')), 'skipped', 'no step ran after the cancel');
  await shot('te-04-cancelled');
});

test('a kill-runtime drill runs from the Test Explorer through the CLI (`faultline drill`), which outlives the runtime it kills, and passes', async () => {
  await palette('View: Show Testing');
  const row = testRow('runtime-kill');
  await visible(row, 'the runtime-kill drill');
  assert.match((await row.textContent()) ?? '', /CLI \(kills the runtime\)/);
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await runFromExplorer('runtime-kill');
  const state = await until('runtime-kill to finish', async () => {
    const s = await stateOf(testRow('runtime-kill'));
    return s && s !== 'skipped' ? s : undefined;
  }, 180_000);
  const rows = (await page.locator('.xterm-rows').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
  assert.equal(state, 'passed', rows);
  // The CLI's own closing lines, and its journal (runner "cli") where the report goes.
  assert.match(rows, /runtime: pid \d+ killed, pid \d+ answering/);
  assert.match(rows, /drill "runtime-kill": the hypothesis held/);
  const dir = path.join(ws, '.faultline', 'drills');
  const report = readdirSync(dir).filter((f) => f.startsWith('runtime-kill-')).sort().at(-1);
  assert.ok(report, `a runtime-kill report in ${dir}`);
  const journal = JSON.parse(readFileSync(path.join(dir, report), 'utf8'));
  assert.equal(journal.runner, 'cli');
  assert.equal(journal.held, true);
  assert.equal(journal.runtimeRestarts.length, 1);
  assert.equal(await stateOf(testRow('3. kill the runtime')), 'passed');
  await shot('te-05-runtime-kill-cli');
});
