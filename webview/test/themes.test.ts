/**
 * The dashboard under VS Code's themes and under its real page and policy:
 * screenshots for a light and a dark theme (saved in test-output/ and looked
 * at by a person), theme colours taken from VS Code's variables, codicons
 * loaded from the extension, and the page that dashboardHtml() writes running
 * under its CSP with no violation.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { exampleStatus } from './fixtures.ts';
import { OUTPUT_DIR, startHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  h = await startHarness({ width: 1280, height: 860 });
});
after(async () => {
  await h?.close();
});

async function stage(theme: 'light' | 'dark' | 'high-contrast', page: 'harness' | 'dashboard' = 'harness'): Promise<void> {
  await h.open({ theme, page });
  const t = new Date().toISOString();
  await h.feed({ type: 'snapshot', status: exampleStatus() }, { type: 'connection', state: 'connected' });
  await h.page.click('.node[data-id="writer"]');
  await h.feed(
    { type: 'checkpoints', agent: 'writer', checkpoints: [{ seq: 12, version: 1, kind: 'full', size: 2048, time: t, valid: true }, { seq: 13, version: 1, kind: 'full', size: 2100, time: t, valid: false }] },
    { type: 'logs', agent: 'writer', lines: [{ time: t, level: 'error', msg: 'writer crashed: TypeError: draft is undefined', agent: 'writer' }, { time: t, level: 'info', msg: 'restarting writer in 200 ms', agent: 'writer' }] },
    { type: 'event', name: 'agent.state', payload: { time: t, agent: 'planner', supervisor: 'root', state: 'backoff', previous: 'running', pid: null, restarts: 2, isolation: 'process', reason: 'crashed' } },
  );
  // Fonts load asynchronously; a screenshot before the codicon font is in would show boxes.
  await h.page.evaluate(() => document.fonts.ready.then(() => undefined));
}

const colours = () =>
  // No named helpers inside: the callback runs in the page, where tsx's __name helper does not exist.
  h.page.evaluate(() => ({
    body: getComputedStyle(document.body).backgroundColor,
    card: getComputedStyle(document.querySelector('.node[data-id="planner"]')!).backgroundColor,
    fg: getComputedStyle(document.body).color,
    failedBorder: getComputedStyle(document.querySelector('.node[data-id="writer"]')!).borderLeftColor,
  }));

for (const theme of ['dark', 'light'] as const) {
  test(`${theme} theme: VS Code's colours, codicons, and a screenshot`, async () => {
    await stage(theme);
    const c = await colours();
    if (theme === 'dark') {
      assert.equal(c.body, 'rgb(31, 31, 31)', 'editor background of Dark Modern');
      assert.equal(c.fg, 'rgb(204, 204, 204)');
      assert.equal(c.failedBorder, 'rgb(204, 167, 0)', 'restarting is charts-yellow');
    } else {
      assert.equal(c.body, 'rgb(255, 255, 255)', 'editor background of Light Modern');
      assert.equal(c.fg, 'rgb(59, 59, 59)');
      assert.equal(c.failedBorder, 'rgb(191, 136, 3)', 'restarting is charts-yellow');
    }
    assert.notEqual(c.card, c.body, 'cards stand off the background');
    assert.ok(await h.page.evaluate(() => document.fonts.check('16px codicon')), 'the codicon font loaded from the extension');
    const file = path.join(OUTPUT_DIR, `dashboard-${theme}.png`);
    await h.page.screenshot({ path: file });
    await h.page.locator('.tree-scroll').screenshot({ path: path.join(OUTPUT_DIR, `tree-${theme}.png`) });
    assert.deepEqual(h.problems, []);
  });
}

test('high-contrast theme class is honoured (borders from contrastBorder)', async () => {
  await stage('high-contrast');
  const border = await h.page.evaluate(() => getComputedStyle(document.querySelector('.node[data-id="planner"]')!).borderTopColor);
  assert.equal(border, 'rgb(111, 195, 223)', 'the fallback contrast border when the theme gives none');
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'dashboard-high-contrast.png') });
});

test("dashboardHtml's page runs under its own CSP: no violation, bundle, styles and codicons load", async () => {
  h.problems.length = 0;
  await stage('dark', 'dashboard');
  assert.equal(await h.page.$$eval('[role=treeitem]', (els) => els.length), 6);
  assert.ok(await h.page.evaluate(() => document.fonts.check('16px codicon')));
  const csp = await h.page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(csp!, /^default-src 'none'; script-src 'nonce-/);
  // The policy is live: an inline script added now must be refused.
  const blocked = await h.page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
    return (window as unknown as { __inline?: number }).__inline === undefined;
  });
  assert.ok(blocked, 'inline script blocked by the CSP');
  // The violation report is delivered as a task after the refusal.
  await h.page.waitForTimeout(200);
  const violations = h.problems.filter((p) => /CSP violation|Content Security Policy/.test(p));
  assert.ok(violations.length >= 1, 'the deliberate inline script is reported');
  assert.ok(violations.every((v) => /script-src|inline/.test(v)), `only the deliberate inline script violates: ${violations.join('; ')}`);
  assert.deepEqual(h.problems.filter((p) => !violations.includes(p)), []);
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'dashboard-csp-page.png') });
});
