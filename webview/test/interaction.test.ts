/**
 * What a developer does in the dashboard, in real headless Chromium: select a
 * node, press its buttons, drive it by keyboard, pause it, hide and show it.
 * Every message the page posts is also run through the extension's own
 * validator, so the two ends cannot drift apart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { validateWebviewMessage } from '../../runtime/protocol/webview.ts';
import { exampleStatus } from './fixtures.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const now = () => new Date().toISOString();
const commands = async () => (await h.posted()).filter((m) => m.type === 'command');
const focusedId = () => h.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id ?? null);

async function fresh(): Promise<void> {
  await h.open();
  await h.feed({ type: 'snapshot', status: exampleStatus() });
}

async function selectWriter(): Promise<void> {
  await h.page.click('.node[data-id="writer"]');
  await h.page.waitForSelector('aside.details:not([hidden])');
}

test('clicking Kill posts a kill command for that agent, and its result shows', async () => {
  await fresh();
  await selectWriter();
  await h.clearPosted();
  await h.page.click('aside.details button[data-action=kill]');
  const posted = await commands();
  assert.equal(posted.length, 1);
  const { id, ...rest } = posted[0];
  assert.deepEqual(rest, { type: 'command', action: 'kill', target: 'writer' });
  assert.equal(typeof id, 'string');
  const v = validateWebviewMessage(posted[0]);
  assert.ok(v.ok, 'the extension accepts what the page posts');
  assert.equal(await h.page.getAttribute('aside.details button[data-action=kill]', 'aria-label'), 'Kill writer');
  await h.feed({ type: 'commandResult', id: id as string, ok: true });
  assert.equal(await h.page.textContent('.command-status'), 'Kill writer: done.');
  await h.page.click('aside.details button[data-action=hang]');
  await h.feed({ type: 'commandResult', id: (await commands())[1].id as string, ok: false, error: 'agent writer is not running' });
  assert.equal(await h.page.textContent('.command-status'), 'Hang writer failed: agent writer is not running');
});

test('selecting an agent asks for its checkpoints and logs and shows them; restart, inject and clear post commands', async () => {
  await h.open();
  await h.feed({ type: 'snapshot', status: exampleStatus() });
  await h.clearPosted();
  await selectWriter();
  const asked = (await commands()).map(({ action, target, params }) => ({ action, target, params }));
  assert.deepEqual(asked, [{ action: 'checkpoints', target: 'writer', params: undefined }, { action: 'logs', target: 'writer', params: { limit: 200 } }, { action: 'traces', target: 'writer', params: { limit: 20 } }, { action: 'machine', target: 'writer', params: undefined }]);
  assert.equal(await h.page.getAttribute('aside.details', 'aria-label'), 'Details of agent writer');

  const t = now();
  await h.feed(
    { type: 'checkpoints', agent: 'writer', checkpoints: [{ seq: 7, version: 2, kind: 'full', size: 1536, time: t, valid: true }, { seq: 8, version: 2, kind: 'summary', size: 900, time: t, valid: false }] },
    { type: 'logs', agent: 'writer', lines: [{ time: t, level: 'error', msg: 'writer crashed', agent: 'writer' }] },
    { type: 'event', name: 'log', payload: { time: now(), level: 'info', msg: 'writer restored from checkpoint 7', agent: 'writer' } },
  );
  const rows = await h.page.$$eval('table.checkpoints tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3], r[5]]), [['8', 'v2', 'summary', '900 B', 'corrupt'], ['7', 'v2', 'full', '1,536 B', 'ok']]);
  assert.deepEqual(await h.page.$$eval('ol.logs .log-msg', (els) => els.map((e) => e.textContent)), ['writer crashed', 'writer restored from checkpoint 7']);
  assert.match((await h.page.textContent('.last-error'))!, /AgentCrashError.*draft is undefined/);

  await h.clearPosted();
  await h.page.click('aside.details button[data-action=restart]');
  await h.page.click('aside.details button[data-action=inject]');
  await h.page.selectOption('.inject-form select', 'slow');
  await h.page.fill('.inject-form input', '{"ms": 500');
  await h.page.click('.inject-form button[type=submit]');
  assert.match((await h.page.textContent('.form-error'))!, /JSON object/);
  await h.page.fill('.inject-form input', '{"ms": 500}');
  await h.page.click('.inject-form button[type=submit]');
  await h.page.click('aside.details button[aria-label="Clear fault crash-loop (f-1)"]');
  await h.page.click('aside.details button[data-action=clearFaults]');
  const sent = (await commands()).map(({ action, target, params }) => ({ action, target, params }));
  assert.deepEqual(sent, [
    { action: 'restart', target: 'writer', params: undefined },
    { action: 'inject', target: 'writer', params: { fault: 'slow', params: { ms: 500 } } },
    { action: 'clearFaults', target: 'writer', params: { id: 'f-1' } },
    { action: 'clearFaults', target: 'writer', params: undefined },
  ]);
  for (const m of await commands()) assert.ok(validateWebviewMessage(m).ok, JSON.stringify(m));

  // A supervisor offers no kill or hang: those are process faults.
  await h.page.click('.node[data-id="crew"]');
  assert.deepEqual(await h.page.$$eval('aside.details .actions button', (bs) => bs.map((b) => (b as HTMLElement).dataset.action)), ['restart', 'stop', 'clearFaults']);
});

test('keyboard: one tab stop into the tree, arrows move, Right/Left expand and collapse, Enter selects, Escape closes', async () => {
  await fresh();
  // Tab from the top of the page reaches the tree after the toolbar's three switches.
  await h.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  let reached: string | null = null;
  for (let i = 0; i < 8 && !reached; i++) {
    await h.page.keyboard.press('Tab');
    reached = await focusedId();
  }
  assert.equal(reached, 'root');
  assert.equal(await h.page.$$eval('[role=treeitem][tabindex="0"]', (els) => els.length), 1, 'a roving tabindex: one stop for the whole tree');

  const press = async (key: string) => {
    await h.page.keyboard.press(key);
    return focusedId();
  };
  assert.equal(await press('ArrowDown'), 'planner');
  assert.equal(await press('ArrowDown'), 'crew');
  assert.equal(await press('ArrowRight'), 'researcher');
  assert.equal(await press('ArrowLeft'), 'crew');
  assert.equal(await press('ArrowLeft'), 'crew');
  assert.equal(await h.page.getAttribute('.node[data-id="crew"]', 'aria-expanded'), 'false');
  assert.equal(await press('ArrowDown'), 'scheduler', 'collapsed children are skipped');
  assert.equal(await press('ArrowUp'), 'crew');
  assert.equal(await press('ArrowRight'), 'crew');
  assert.equal(await h.page.getAttribute('.node[data-id="crew"]', 'aria-expanded'), 'true');
  assert.equal(await press('End'), 'scheduler');
  assert.equal(await press('Home'), 'root');
  await press('ArrowDown');
  assert.equal(await press('Enter'), 'planner');
  assert.equal(await h.page.getAttribute('aside.details', 'aria-label'), 'Details of agent planner');
  assert.equal(await h.page.getAttribute('.node[data-id="planner"]', 'aria-selected'), 'true');
  // Into the panel and back out with Escape: focus returns to the node.
  await h.page.focus('aside.details button[data-action=restart]');
  assert.equal(await press('Escape'), 'planner');
  assert.equal(await h.page.$eval('aside.details', (e) => (e as HTMLElement).hidden), true);
});

test('pause holds live updates and resume applies them; both tell the extension', async () => {
  await fresh();
  await h.clearPosted();
  await h.page.click('button[data-action=pause]');
  assert.equal(await h.page.getAttribute('button[data-action=pause]', 'aria-pressed'), 'true');
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: now(), agent: 'planner', supervisor: 'root', state: 'failed', previous: 'running', pid: null, restarts: 1, isolation: 'process' } });
  assert.doesNotMatch((await h.page.getAttribute('.node[data-id="planner"]', 'class'))!, /state-failed/);
  assert.match((await h.page.textContent('button[data-action=pause]'))!, /Resume \(1 held\)/);
  await h.page.click('button[data-action=pause]');
  await h.feed();
  assert.match((await h.page.getAttribute('.node[data-id="planner"]', 'class'))!, /state-failed/);
  assert.deepEqual((await h.posted()).filter((m) => m.type === 'setLive').map((m) => m.live), [false, true]);
});

test('survives being hidden: the page comes back with its selection and filter, and asks for a snapshot', async () => {
  await fresh();
  await selectWriter();
  await h.page.click('button[data-action=unhealthy]');
  // VS Code discards a hidden webview and loads it afresh when shown; state comes back through getState.
  await h.open({ keepState: true });
  const posted = await h.posted();
  assert.deepEqual(posted[0], { type: 'ready', protocol: 1 });
  assert.equal(await h.page.getAttribute('button[data-action=unhealthy]', 'aria-pressed'), 'true');
  await h.feed({ type: 'snapshot', status: exampleStatus() });
  assert.deepEqual(await h.page.$$eval('[role=treeitem]', (els) => els.map((e) => (e as HTMLElement).dataset.id)), ['root', 'crew', 'writer']);
  assert.equal(await h.page.getAttribute('.node[data-id="writer"]', 'aria-selected'), 'true');
  assert.equal(await h.page.getAttribute('aside.details', 'aria-label'), 'Details of agent writer');
  const refetched = (await commands()).map((m) => `${m.action} ${m.target}`);
  assert.deepEqual(refetched, ['checkpoints writer', 'logs writer', 'traces writer', 'machine writer'], 'the restored panel fetches its data again');
  assert.deepEqual(h.problems, []);
});
