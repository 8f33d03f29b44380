/**
 * The selected agent's traces in the side panel, in real headless Chromium:
 * the panel asks for them, lists them newest first, draws the newest as a
 * waterfall (rows by depth, bars on the timeline, retry / fallback / fault /
 * checkpoint markers, the failed span marked), opens a span's code on click
 * or Enter, says plainly when tracing is off, and never asks faster than
 * every two seconds. The Checkpoints section's timeline of the same agent, a restore and a
 * fork marked. Screenshots in test-output/traces-{dark,light}.png and
 * test-output/checkpoints-timeline-{dark,light}.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { validateWebviewMessage } from '../../runtime/protocol/webview.ts';
import { exampleStatus, plannerTraces } from './fixtures.ts';
import { OUTPUT_DIR, startHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ width: 1280, height: 1000 });
});
after(async () => {
  await h?.close();
});

const commands = async (action?: string) => (await h.posted()).filter((m) => m.type === 'command' && (!action || m.action === action));
const SECTION = 'aside.details section[aria-label="Traces"]';

async function openPlanner(theme: 'dark' | 'light' = 'dark'): Promise<void> {
  await h.open({ theme });
  await h.feed({ type: 'snapshot', status: exampleStatus() }, { type: 'connection', state: 'connected' });
  await h.clearPosted();
  await h.page.click('.node[data-id="planner"]');
  await h.page.waitForSelector(`${SECTION} .traces`);
}

async function feedTraces(): Promise<void> {
  await h.feed({ type: 'traces', agent: 'planner', result: plannerTraces() });
  await h.page.waitForSelector(`${SECTION} .wf-row`);
}

test('opening an agent asks for its traces; the list is newest first with the failed one marked', async () => {
  await openPlanner();
  const asked = await commands('traces');
  assert.equal(asked.length, 1);
  assert.deepEqual({ target: asked[0].target, params: asked[0].params }, { target: 'planner', params: { limit: 20 } });
  assert.ok(validateWebviewMessage(asked[0]).ok, 'the extension accepts the traces command');
  assert.match((await h.page.textContent(SECTION)) ?? '', /Loading traces…/);
  await feedTraces();
  const items = await h.page.$$eval(`${SECTION} .trace-item`, (els) => els.map((e) => ({ label: e.getAttribute('aria-label'), current: e.getAttribute('aria-current'), error: e.classList.contains('error'), icon: e.querySelector('.trace-mark')!.className })));
  assert.equal(items.length, 2);
  assert.match(items[0].label!, /^invoke_agent planner, \d\d:\d\d:\d\d\.\d{3}, 2\.40 s, failed$/);
  assert.equal(items[0].current, 'true');
  assert.ok(items[0].error && /codicon-error/.test(items[0].icon));
  assert.match(items[1].label!, /640 ms$/);
  assert.ok(!items[1].error && /codicon-pass/.test(items[1].icon));
  assert.equal(await h.page.textContent(`${SECTION} .traces-caption`), '2 recent traces');
});

test('the waterfall: a row per span indented by depth, bars placed on the timeline, markers on their bars, the error marked', async () => {
  await openPlanner();
  await feedTraces();
  const rows = await h.page.$$eval(`${SECTION} .wf-row`, (els) =>
    els.map((row) => {
      const track = row.querySelector('.wf-track')!.getBoundingClientRect();
      const bar = row.querySelector('.wf-bar')!.getBoundingClientRect();
      return {
        name: row.querySelector('.wf-name')!.textContent,
        level: row.getAttribute('aria-level'),
        indent: parseFloat(getComputedStyle(row.querySelector('.wf-label')!).paddingLeft),
        left: (bar.left - track.left) / track.width,
        width: bar.width / track.width,
        inside: bar.left >= track.left - 0.5 && bar.right <= track.right + 0.5 && bar.top >= track.top && bar.bottom <= track.bottom,
        error: row.classList.contains('error') && !!row.querySelector('.wf-error'),
        colour: getComputedStyle(row.querySelector('.wf-bar')!).backgroundColor,
        marks: [...row.querySelectorAll<HTMLElement>('.wf-mark')].map((m) => {
          const r = m.getBoundingClientRect();
          return { kind: m.className.replace('wf-mark mark-', ''), x: (r.left + r.width / 2 - track.left) / track.width, onBar: r.left + r.width / 2 >= bar.left - 0.5 && r.left + r.width / 2 <= bar.right + 0.5, title: m.title };
        }),
        label: row.getAttribute('aria-label'),
      };
    }),
  );
  assert.deepEqual(rows.map((r) => [r.name, r.level, r.indent]), [['invoke_agent planner', '1', 0], ['chat big', '2', 12], ['execute_tool search', '2', 12], ['invoke_agent researcher', '2', 12], ['chat small', '3', 24]]);
  const want = [[0, 1], [0.0208, 0.6667], [0.7083, 0.1667], [0.8833, 0.1083], [0.8958, 0.075]];
  rows.forEach((r, i) => {
    assert.ok(r.inside, `${r.name}: the bar lies inside its track`);
    assert.ok(Math.abs(r.left - want[i][0]) < 0.01, `${r.name}: starts at ${r.left}`);
    assert.ok(Math.abs(r.width - want[i][1]) < 0.01, `${r.name}: is ${r.width} of the timeline`);
  });
  assert.deepEqual(rows.map((r) => r.error), [false, false, true, false, false], 'only the failed tool call is marked');
  assert.equal(rows[1].colour, 'rgb(177, 128, 215)', 'chat is charts-purple');
  assert.equal(rows[0].colour, 'rgb(55, 148, 255)', 'invoke_agent is charts-blue');
  assert.notEqual(rows[2].colour, rows[1].colour);
  assert.deepEqual(rows.map((r) => r.marks.map((m) => m.kind)), [[], ['retry', 'retry', 'fallback'], ['fault'], ['checkpoint'], []]);
  for (const r of rows) for (const m of r.marks) assert.ok(m.onBar, `${r.name}: the ${m.kind} marker is on its bar`);
  assert.ok(Math.abs(rows[1].marks[0].x - 0.1458) < 0.01 && Math.abs(rows[1].marks[2].x - 0.4792) < 0.01, 'markers at their time');
  assert.match(rows[1].marks[2].title, /fallback at \+1\.15 s\n.*faultline\.fallback\.to = backup/s);
  assert.match(rows[1].label!, /^chat big, 1\.60 s, starts at \+50 ms, 2 retries · fallback → backup · served by small, Enter opens the code$/);
  assert.match(rows[2].label!, /fault: error · error: search: HTTP 503/);
  assert.deepEqual(await h.page.$$eval(`${SECTION} .wf-tick`, (els) => els.map((e) => e.textContent)), ['0', '500 ms', '1 s', '1.5 s', '2 s']);
  // The failed span is the one shown in words first.
  assert.match((await h.page.textContent(`${SECTION} .span-detail`)) ?? '', /execute_tool search.*search: HTTP 503 \(injected\)/s);
  assert.deepEqual(h.problems, []);
});

test('a click on a span opens its call site, Enter on a span without one opens its agent; arrows move between rows', async () => {
  await openPlanner();
  await feedTraces();
  await h.clearPosted();
  await h.page.click(`${SECTION} .wf-row[data-depth="1"] >> nth=0`);
  let open = await commands('openCode');
  assert.equal(open.length, 1);
  assert.deepEqual({ target: open[0].target, params: open[0].params }, { target: 'planner', params: { file: 'agents/planner.mjs', line: 12, column: 22 } });
  assert.ok(validateWebviewMessage(open[0]).ok, 'the extension accepts the openCode command');
  assert.equal(await h.page.textContent('.command-status'), 'Open agents/planner.mjs:12…');
  await h.feed({ type: 'commandResult', id: open[0].id as string, ok: true });
  assert.equal(await h.page.textContent('.command-status'), 'Open agents/planner.mjs:12: done.');
  // The retries and the fallback, in words.
  const events = await h.page.$$eval(`${SECTION} .span-events li`, (els) => els.map((e) => e.textContent));
  assert.equal(events.length, 3);
  assert.match(events[0]!, /^retry at \+350 ms · faultline\.dependency = primary · faultline\.attempt = 1/);
  assert.match(events[2]!, /^fallback at \+1\.15 s · .*faultline\.fallback\.to = backup/);
  await h.page.evaluate(() => document.fonts.ready.then(() => undefined));
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'traces-dark.png'), clip: await sectionClip() });

  await h.clearPosted();
  await h.page.keyboard.press('ArrowDown');
  await h.page.keyboard.press('ArrowDown');
  assert.equal(await h.page.evaluate(() => (document.activeElement as HTMLElement).dataset.depth), '1');
  assert.match((await h.page.textContent(`${SECTION} .span-detail`)) ?? '', /invoke_agent researcher/);
  await h.page.keyboard.press('Enter');
  open = await commands('openCode');
  assert.deepEqual(open.map(({ target, params }) => ({ target, params })), [{ target: 'researcher', params: undefined }]);
  assert.ok(validateWebviewMessage(open[0]).ok);
  await h.page.keyboard.press('Home');
  assert.equal(await h.page.evaluate(() => document.activeElement?.querySelector('.wf-name')?.textContent), 'invoke_agent planner');
  assert.equal(await h.page.$$eval(`${SECTION} .wf-row[tabindex="0"]`, (els) => els.length), 1, 'one tab stop for the whole waterfall');

  // The other trace.
  await h.page.click(`${SECTION} .trace-item >> nth=1`);
  assert.equal(await h.page.$$eval(`${SECTION} .wf-row`, (els) => els.length), 2);
  assert.equal(await h.page.getAttribute(`${SECTION} .trace-item >> nth=1`, 'aria-current'), 'true');
  assert.deepEqual(h.problems, []);
});

test('light theme screenshot', async () => {
  await openPlanner('light');
  await feedTraces();
  await h.page.click(`${SECTION} .wf-row[data-depth="1"] >> nth=0`);
  await h.page.evaluate(() => document.fonts.ready.then(() => undefined));
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'traces-light.png'), clip: await sectionClip() });
});

test('tracing off, an older runtime, and a failed request are said plainly', async () => {
  await openPlanner();
  await h.feed({ type: 'traces', agent: 'planner', result: { enabled: false, capacity: 0, traces: [] } });
  assert.match((await h.page.textContent(SECTION)) ?? '', /Tracing is off: add a `telemetry` block to the config or set OTEL_EXPORTER_OTLP_ENDPOINT, then restart the runtime\./);
  await h.feed({ type: 'traces', agent: 'planner', unsupported: true, error: 'Method not found: traces' });
  assert.match((await h.page.textContent(SECTION)) ?? '', /predates the `traces` method/);
  await h.feed({ type: 'traces', agent: 'planner', result: { enabled: true, capacity: 5000, traces: [] } });
  assert.match((await h.page.textContent(SECTION)) ?? '', /No traces of planner yet/);
  // Another agent's answer is not this panel's.
  await h.feed({ type: 'traces', agent: 'writer', result: plannerTraces() });
  assert.equal(await h.page.$$eval(`${SECTION} .wf-row`, (els) => els.length), 0);
  // The runtime went away before answering.
  await h.clearPosted();
  await h.page.click(`${SECTION} button[aria-label="Reload the traces of planner"]`);
  await h.page.waitForFunction(() => (window as unknown as { __posted: { action?: string }[] }).__posted.some((m) => m.action === 'traces'), undefined, { timeout: 4000 });
  const [req] = await commands('traces');
  await h.feed({ type: 'commandResult', id: req.id as string, ok: false, error: 'The Faultline runtime is not connected.' });
  assert.match((await h.page.textContent(`${SECTION} .error-text`)) ?? '', /not connected/);
});

test('refreshes are bounded: the button and state changes ask at most once per two seconds', async () => {
  await openPlanner();
  await feedTraces();
  await h.clearPosted();
  const reload = `${SECTION} button[aria-label="Reload the traces of planner"]`;
  await h.page.click(reload);
  await h.page.click(reload);
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: new Date().toISOString(), agent: 'planner', supervisor: 'root', state: 'restarting', previous: 'running', pid: null, restarts: 2, isolation: 'process', reason: 'crashed' } });
  assert.equal((await commands('traces')).length, 0, 'not again within two seconds of the first ask');
  await h.page.waitForFunction(() => (window as unknown as { __posted: { action?: string }[] }).__posted.some((m) => m.action === 'traces'), undefined, { timeout: 4000 });
  await h.page.waitForTimeout(600);
  assert.equal((await commands('traces')).length, 1, 'the three asks became one');
  // The waterfall survives the re-render a state change causes, focus included.
  await h.page.focus(`${SECTION} .wf-row[tabindex="0"]`);
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: new Date().toISOString(), agent: 'planner', supervisor: 'root', state: 'running', previous: 'restarting', pid: 5200, restarts: 2, isolation: 'process' } });
  assert.ok(await h.page.evaluate(() => !!(document.activeElement as HTMLElement | null)?.dataset.spanId), 'focus stays on the span');
  await feedTraces();
  assert.ok(await h.page.evaluate(() => !!(document.activeElement as HTMLElement | null)?.dataset.spanId), 'and across fresh data');
});

test('the Checkpoints section draws the agent\'s checkpoints on a time axis, restore and fork marked, and asks again on its state changes', async () => {
  await openPlanner();
  const asked = await commands('checkpoints');
  assert.deepEqual(asked.map(({ target, params }) => ({ target, params })), [{ target: 'planner', params: undefined }]);
  assert.ok(validateWebviewMessage(asked[0]).ok, 'the extension accepts the checkpoints command');
  const t0 = Date.now() - 60_000;
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  await h.feed({
    type: 'checkpoints',
    agent: 'planner',
    checkpoints: [
      { seq: 1, version: 1, kind: 'full', size: 2048, time: at(0), valid: true },
      { seq: 2, version: 1, kind: 'summary', size: 512, time: at(10), valid: true },
      { seq: 3, version: 1, kind: 'full', size: 2100, time: at(20), valid: false },
      { seq: 4, version: 1, kind: 'restore', size: 2048, time: at(30), valid: true },
      { seq: 5, version: 1, kind: 'fork', size: 2048, time: at(40), valid: true },
    ],
  });
  const CP = 'aside.details section[aria-label="Checkpoints"]';
  await h.page.waitForSelector(`${CP} .cp-mark`);
  const marks = await h.page.$$eval(`${CP} .cp-mark`, (found) => {
    const els = found as HTMLElement[];
    const lane = els[0].parentElement!.getBoundingClientRect();
    const track = els[0].closest('.cp-track')!.getBoundingClientRect();
    return els.map((m) => {
      const r = m.getBoundingClientRect();
      return { seq: m.dataset.seq, kind: m.dataset.kind, invalid: m.classList.contains('invalid'), x: (r.left + r.width / 2 - lane.left) / lane.width, inside: r.left >= track.left - 0.5 && r.right <= track.right + 0.5, icon: m.querySelector('.cp-icon')!.className, label: m.querySelector('.cp-label')?.textContent ?? '', title: m.title, colour: getComputedStyle(m).color };
    });
  });
  assert.deepEqual(marks.map((m) => [m.seq, m.kind, m.invalid, m.label]), [['1', 'full', false, ''], ['2', 'summary', false, ''], ['3', 'full', true, ''], ['4', 'restore', false, 'restore'], ['5', 'fork', false, 'fork']]);
  const want = [0.02, 0.26, 0.5, 0.74, 0.98];
  marks.forEach((m, i) => assert.ok(Math.abs(m.x - want[i]) < 0.02, `#${m.seq} at ${m.x}, want ${want[i]}`));
  for (const m of marks) assert.ok(m.inside, `#${m.seq} lies inside the track`);
  assert.match(marks[3].icon, /codicon-history/);
  assert.match(marks[4].icon, /codicon-repo-forked/);
  assert.match(marks[2].icon, /codicon-error/);
  assert.notEqual(marks[3].colour, marks[4].colour, 'restore and fork differ in colour too');
  assert.notEqual(marks[2].colour, marks[0].colour, 'the corrupt one is coloured apart');
  assert.match(marks[2].title, /^#3 full \(corrupt\)\n2,100 B · v1\n\d\d:\d\d:\d\d/);
  assert.match(marks[4].title, /^#5 fork\n2,048 B · v1\n/);
  await h.page.evaluate(() => document.fonts.ready.then(() => undefined));
  const clip = await h.page.$eval(CP, (el) => {
    el.scrollIntoView({ block: 'start' });
    const r = el.getBoundingClientRect();
    return { x: r.x - 12, y: r.y - 4, width: r.width + 24, height: Math.min(r.height + 8, 900) };
  });
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'checkpoints-timeline-dark.png'), clip });

  // A state change of the agent asks for its checkpoints again (once per two seconds at most); the marks stay meanwhile.
  await h.clearPosted();
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: new Date().toISOString(), agent: 'planner', supervisor: 'root', state: 'restarting', previous: 'running', pid: null, restarts: 2, isolation: 'process', reason: 'crashed' } });
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: new Date().toISOString(), agent: 'planner', supervisor: 'root', state: 'running', previous: 'restarting', pid: 5200, restarts: 2, isolation: 'process' } });
  assert.equal(await h.page.$$eval(`${CP} .cp-mark`, (els) => els.length), 5);
  await h.page.waitForFunction(() => (window as unknown as { __posted: { action?: string }[] }).__posted.some((m) => m.action === 'checkpoints'), undefined, { timeout: 4000 });
  await h.page.waitForTimeout(600);
  assert.deepEqual((await commands('checkpoints')).map((m) => m.target), ['planner'], 'two state changes, one ask');
  assert.deepEqual(h.problems, []);
});

test('light theme screenshot of the checkpoint timeline', async () => {
  await openPlanner('light');
  const t0 = Date.now() - 60_000;
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const kinds = ['full', 'summary', 'full', 'restore', 'full', 'fork'] as const;
  await h.feed({ type: 'checkpoints', agent: 'planner', checkpoints: kinds.map((kind, i) => ({ seq: i + 1, version: 1, kind, size: 2000 + i, time: at(i * 8), valid: i !== 2 })) });
  const CP = 'aside.details section[aria-label="Checkpoints"]';
  await h.page.waitForSelector(`${CP} .cp-mark`);
  await h.page.evaluate(() => document.fonts.ready.then(() => undefined));
  const clip = await h.page.$eval(`${CP} .cp-timeline`, (el) => {
    el.scrollIntoView({ block: 'center' });
    const r = el.getBoundingClientRect();
    return { x: r.x - 12, y: r.y - 28, width: r.width + 24, height: r.height + 36 };
  });
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'checkpoints-timeline-light.png'), clip });
  assert.deepEqual(h.problems, []);
});

async function sectionClip() {
  return h.page.$eval(SECTION, (el) => {
    el.scrollIntoView({ block: 'start' });
    const r = el.getBoundingClientRect();
    return { x: r.x - 12, y: r.y - 4, width: r.width + 24, height: Math.min(r.height + 8, 900) };
  });
}
