/**
 * UI end-to-end: time travel and waits, with the packaged .vsix in a real
 * code-server driven through Debian's chromium. The workspace is the example
 * system plus a `waiter` agent (the runtime tests' fixture: each `wait`
 * message waits for a signal and keeps its payload in its state). The test
 * gives it three checkpoints through the CLI, then works from the UI: the
 * Checkpoints view, the diff of two checkpoints, Restore, Fork, and Send
 * Signal on the waiting agent — each checked through the runtime (the CLI)
 * afterwards. Screenshots go to test-output/e2e/ (tt-*.png).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { exampleWorkspace, extensionDir, launchChromium, outDir, repoRoot, startCodeServer, type CodeServer } from '../run/codeServer.ts';
import { waiting } from './waiting.ts';

const run = promisify(execFile);
const shots = path.join(outDir, 'e2e');
const vsix = path.join(extensionDir, 'faultline-vscode.vsix');
let cs: CodeServer | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
let ws: string;

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const { until, visible } = waiting(shot, 'tt-');

/** The CLI against the workspace's runtime (the one the extension started). */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin', 'faultline.js'), ...args], { cwd: ws, timeout: 30_000 });
  return stdout;
}
const cliJson = async (...args: string[]) => JSON.parse(await cli(...args, '--json'));

interface Row { seq: number; kind: string; valid: boolean }
const checkpointsOf = async (agent: string): Promise<Row[]> => cliJson('checkpoints', agent);
const stateAt = async (agent: string, seq: number) => (await cliJson('checkpoint', agent, String(seq))).state;

const pane = (title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }) }).first();
/** A row of the Agents view by its exact label. */
const agentRow = (label: string) => pane('Agents').locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }).first();
/** A row of the Checkpoints view by its seq. */
const checkpointRow = (seq: number) => pane('Checkpoints').locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^#${seq}$`) }) }).first();

/** Runs a context-menu item of a row; a click the menu swallowed (it stays open) is tried again. */
async function contextMenu(row: Locator, item: string) {
  const menu = page.locator('.context-view .monaco-menu');
  for (let attempt = 1; ; attempt++) {
    await row.click({ button: 'right' });
    const action = page.locator('.monaco-menu .action-label', { hasText: item }).first();
    await visible(action, `the menu item ${item}`, 10_000);
    // A menu takes no click in its first moments (the right-click's own mouseup must not pick an item).
    await page.waitForTimeout(500);
    await action.click({ timeout: 5000 }).catch(() => {});
    const closed = await menu.waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false);
    if (closed) return;
    if (attempt === 3) {
      await shot(`tt-timeout-menu-${item.replace(/\W+/g, '-')}`).catch(() => {});
      await page.keyboard.press('Escape');
      throw new Error(`the context menu item ${item} did not run`);
    }
    await page.keyboard.press('Escape');
  }
}

async function notification(re: RegExp, what: string): Promise<string> {
  return until(what, async () => {
    for (const t of await page.locator('.notifications-toasts .notification-list-item-message').allTextContents()) if (re.test(t)) return t;
    return undefined;
  }, 30_000);
}

before(async () => {
  assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  mkdirSync(shots, { recursive: true });
  ws = exampleWorkspace('e2e-history');
  copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'agents', 'waiter.mjs'), path.join(ws, 'agents', 'waiter.mjs'));
  const configFile = path.join(ws, 'faultline.config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.supervisor.children.push({ agent: { id: 'waiter', module: 'agents/waiter.mjs' } });
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  cs = await startCodeServer({ name: 'e2e-history', workspace: ws, vsix });
  browser = await launchChromium('e2e-history');
  page = browser.page;
  await page.goto(`${cs.url}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await until('the runtime', async () => /^\d+\/\d+/.test((await page.locator('.statusbar-item').filter({ hasText: /^\s*\d+\/\d+/ }).first().textContent())?.trim() ?? ''), 90_000);
  // Three handled messages, three checkpoints: got [n1], [n1, n2], [n1, n2, n3]. Signals sent first are kept for the waits.
  for (const n of [1, 2, 3]) await cli('signal', 'waiter', 'step', JSON.stringify({ n }));
  for (let i = 0; i < 3; i++) await cli('send', 'waiter', JSON.stringify({ op: 'wait', name: 'step' }));
  await until('three waiter checkpoints', async () => (await checkpointsOf('waiter')).filter((c) => c.kind === 'full').length >= 3);
});

after(async () => {
  await browser?.close().catch(() => {});
  await cs?.stop();
});

let seqs: number[] = [];

test('selecting an agent in the Agents view lists its checkpoints in the Checkpoints view', async () => {
  const tab = page.locator('.activitybar .action-item a[aria-label^="Faultline"], .activitybar .action-item[aria-label^="Faultline"]').first();
  await visible(tab, 'the Faultline activity bar item', 60_000);
  await tab.click();
  // Room for the Agents and Checkpoints views: the other two folded, and the two supervisors we do not need.
  for (const title of ['Dependencies', 'Faults']) {
    const h = pane(title).locator('.pane-header');
    if ((await h.getAttribute('aria-expanded')) === 'true') await h.click();
  }
  const header = pane('Checkpoints').locator('.pane-header');
  await visible(header, 'the Checkpoints view');
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  for (const sup of ['crew', 'workers']) {
    const r = agentRow(sup);
    await visible(r, `the ${sup} row`);
    if ((await r.getAttribute('aria-expanded')) === 'true') await r.locator('.monaco-tl-twistie').click();
  }
  await visible(agentRow('waiter'), 'the waiter row');
  await agentRow('waiter').click();
  seqs = (await checkpointsOf('waiter')).map((c) => c.seq).sort((a, b) => a - b);
  for (const s of seqs) await visible(checkpointRow(s), `checkpoint #${s}`);
  const newest = seqs.at(-1)!;
  assert.match((await checkpointRow(newest).locator('.label-description').textContent()) ?? '', /^full · \d+ B · \d\d:\d\d:\d\d$/);
  assert.match((await pane('Checkpoints').locator('.pane-header').textContent()) ?? '', /waiter/, 'the view names the agent');
  await shot('tt-01-checkpoints-view');
});

test('Compare with Previous opens the diff of the two states; Compare with… picks the other one', async () => {
  const [oldest, , newest] = seqs.slice(-3);
  const prev = seqs.at(-2)!;
  await contextMenu(checkpointRow(newest), 'Compare with Previous');
  const tabTitle = `waiter #${prev} ↔ #${newest}`;
  await visible(page.locator('.tabs-container .tab', { hasText: tabTitle }).first(), 'the diff tab');
  const diff = await visible(page.locator('.monaco-diff-editor').first(), 'the diff editor');
  // The newer side has the third payload as an inserted line.
  const inserted = await until('the inserted line', async () => {
    const t = (await diff.locator('.editor.modified .view-line').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
    return /"n": 3/.test(t) && t;
  }, 15_000);
  assert.match(inserted, /"got"/);
  const original = (await diff.locator('.editor.original .view-line').allTextContents()).join('\n').replace(/\u00a0/g, ' ');
  assert.doesNotMatch(original, /"n": 3/);
  assert.ok(await diff.locator('.editor.modified .line-insert, .editor.modified .char-insert').count(), 'the diff marks what was added');
  await shot('tt-02-diff-previous');

  await contextMenu(checkpointRow(newest), 'Compare with…');
  await visible(page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first(), 'the seq pick');
  await page.locator('.quick-input-widget input').fill(`#${oldest}`);
  await visible(page.locator('.quick-input-list .monaco-list-row', { hasText: `#${oldest}` }).first(), `#${oldest} in the pick`);
  await page.keyboard.press('Enter');
  await visible(page.locator('.tabs-container .tab', { hasText: `waiter #${oldest} ↔ #${newest}` }).first(), 'the second diff tab');
  await shot('tt-03-diff-picked');
});

test('Restore Agent to This Checkpoint asks first, then restarts the agent from that state (a new restore checkpoint)', async () => {
  const first = seqs.at(-3)!;
  const before = await stateAt('waiter', first);
  await contextMenu(checkpointRow(first), 'Restore Agent to This Checkpoint');
  const dialog = await visible(page.locator('.monaco-dialog-box').first(), 'the confirmation');
  assert.match((await dialog.textContent()) ?? '', new RegExp(`Restore waiter to checkpoint #${first}\\?`));
  await shot('tt-04-restore-confirm');
  await dialog.locator('.monaco-button', { hasText: 'Restore' }).first().click();
  await notification(new RegExp(`waiter restored from #${first} \\(now checkpoint #\\d+\\), running`), 'the restore message');
  const restored = await until('a restore checkpoint', async () => (await checkpointsOf('waiter')).find((c) => c.kind === 'restore'));
  assert.deepEqual(await stateAt('waiter', restored.seq), before);
  // The agent itself answers from the restored state.
  assert.deepEqual(JSON.parse(await cli('ask', 'waiter', JSON.stringify({ op: 'got' }))), [{ n: 1 }]);
  await visible(checkpointRow(restored.seq), 'the restore row in the view');
  assert.match((await checkpointRow(restored.seq).locator('.label-description').textContent()) ?? '', /^restore · /);
  await shot('tt-05-restored');
});

test('Fork from Here… checks the id, then starts a temporary agent beside it from that state', async () => {
  const second = seqs.at(-2)!;
  await contextMenu(checkpointRow(second), 'Fork from Here…');
  const input = await visible(page.locator('.quick-input-widget input').first(), 'the fork id box');
  assert.equal(await input.inputValue(), 'waiter-fork');
  await input.fill('planner');
  await visible(page.locator('.quick-input-widget .quick-input-message', { hasText: /already an agent or supervisor/ }).first(), 'the taken-id message');
  await shot('tt-06-fork-id-taken');
  await input.fill('waiter-b');
  await page.keyboard.press('Enter');
  await notification(new RegExp(`waiter-b forked from waiter #${second} under root, running`), 'the fork message');
  const status = await cliJson('status');
  const fork = status.tree.children.find((c: { id: string }) => c.id === 'waiter-b');
  assert.equal(fork?.state, 'running');
  assert.equal(fork?.restart, 'temporary');
  assert.deepEqual(JSON.parse(await cli('ask', 'waiter-b', JSON.stringify({ op: 'got' }))), [{ n: 1 }, { n: 2 }]);
  assert.equal((await checkpointsOf('waiter-b'))[0]?.kind, 'fork');
  await visible(agentRow('waiter-b'), 'the fork in the Agents view');
  await agentRow('waiter-b').click();
  await visible(pane('Checkpoints').locator('.monaco-list-row .label-description', { hasText: /^fork · / }).first(), "the fork's first checkpoint in the view");
  await shot('tt-07-forked');
});

test('an agent that waits shows it; Send Signal… hands the wait its payload', async () => {
  await cli('send', 'waiter', JSON.stringify({ op: 'wait', name: 'approval' }));
  const desc = agentRow('waiter').locator('.label-description');
  await until('the waiter waiting', async () => /waiting for "approval" since \d\d:\d\d:\d\d/.test((await desc.textContent()) ?? ''), 30_000);
  assert.ok(await agentRow('waiter').locator('.codicon-bell').count(), 'a bell icon');
  await shot('tt-08-waiting');
  await contextMenu(agentRow('waiter'), 'Send Signal…');
  const input = await visible(page.locator('.quick-input-widget input').first(), 'the signal name box');
  assert.equal(await input.inputValue(), 'approval', 'prefilled from the wait');
  await page.keyboard.press('Enter');
  await until('the payload box', async () => (await page.locator('.quick-input-widget .quick-input-title').textContent())?.includes('Payload'));
  await input.fill('{ok: true}');
  await visible(page.locator('.quick-input-widget .quick-input-message', { hasText: /Not JSON/ }).first(), 'the JSON check');
  await shot('tt-09-payload-invalid');
  await input.fill('{"ok": true}');
  await page.keyboard.press('Enter');
  await notification(/Signal "approval" sent to waiter: a pending wait took it\./, 'the signal outcome');
  await until('the wait to end', async () => !/waiting/.test((await desc.textContent()) ?? ''), 30_000);
  assert.deepEqual(JSON.parse(await cli('ask', 'waiter', JSON.stringify({ op: 'got' }))), [{ n: 1 }, { ok: true }]);
  await shot('tt-10-signalled');
});
