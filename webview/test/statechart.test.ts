/**
 * The lifecycle statechart in the side panel, in real headless Chromium: the
 * panel asks for its node's machine, draws the real agent and supervisor
 * machines (their JSON definitions as the runtime's `machine` method serves
 * them), highlights where the machine is, and plays `machine.transition`
 * events as they stream in. The layout is checked on its own too.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentMachine } from '../../runtime/supervision/agentMachine.ts';
import { supervisorMachine } from '../../runtime/supervision/supervisorMachine.ts';
import { machineDefinition } from '../../runtime/supervision/machines.ts';
import { MachineResult } from '../../runtime/protocol/machine.ts';
import { validateWebviewMessage } from '../../runtime/protocol/webview.ts';
import { layoutStatechart, transitionsOf, type DefinitionNode } from '../src/view/statechartLayout.ts';
import { exampleStatus } from './fixtures.ts';
import { OUTPUT_DIR, startHarness, type Harness } from './harness.ts';
import path from 'node:path';

const agentDef = machineDefinition(agentMachine) as DefinitionNode;
const supervisorDef = machineDefinition(supervisorMachine) as DefinitionNode;
const topStates = (d: DefinitionNode) => Object.keys(d.states ?? {});

test('layout: every top-level state is a box inside the chart, no two boxes overlap, and edges join boxes that exist', () => {
  for (const def of [agentDef, supervisorDef]) {
    const l = layoutStatechart(def, { width: 340 });
    const tops = l.boxes.filter((b) => b.depth === 0);
    assert.deepEqual(tops.map((b) => b.path).sort(), topStates(def).sort());
    for (const b of l.boxes) assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= l.width && b.y + b.h <= l.height, `${b.path} lies inside the chart`);
    for (const a of tops) for (const b of tops) {
      if (a === b) continue;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      assert.ok(apart, `${a.path} and ${b.path} do not overlap`);
    }
    const paths = new Set(tops.map((b) => b.path));
    for (const e of l.edges) assert.ok(paths.has(e.from) && paths.has(e.to) && e.labels.length > 0);
    // The initial state is the first layer.
    assert.equal(tops.find((b) => b.initial)?.path, 'stopped');
    assert.ok(tops.every((b) => b.y >= tops.find((t) => t.initial)!.y));
  }
});

test('layout: nested states sit inside their parent, delayed and eventless transitions are labelled as such', () => {
  const l = layoutStatechart(agentDef, { width: 340 });
  const box = (p: string) => l.boxes.find((b) => b.path === p)!;
  for (const child of ['running.live', 'running.late', 'starting.booting', 'starting.loading', 'starting.loading.live', 'stopping.graceful']) {
    const c = box(child);
    const parent = box(child.slice(0, child.lastIndexOf('.')));
    assert.ok(c.x >= parent.x && c.y >= parent.y && c.x + c.w <= parent.x + parent.w && c.y + c.h <= parent.y + parent.h, `${child} inside its parent`);
  }
  const labels = transitionsOf(agentDef).map((t) => t.label);
  assert.ok(labels.includes('after startTimeout'));
  assert.ok(labels.includes('after heartbeatTimeout'));
  assert.ok(l.inner.some((t) => t.from === 'stopping.graceful' && t.to === 'stopping.killing' && t.label === 'after shutdownTimeout'));
  const sup = layoutStatechart(supervisorDef, { width: 340 });
  assert.ok(sup.edges.some((e) => e.from === 'deciding' && e.to === 'restarting' && e.always), 'the eventless way out of deciding is drawn dashed');
});

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const machineOf = (id: string, def: DefinitionNode, value: MachineResult['value']) => MachineResult.parse({ id, definition: def, value, context: { restarts: 0 } });
const transition = (id: string, from: string, to: string, event: string) => ({ name: 'machine.transition' as const, payload: { time: new Date().toISOString(), id, kind: 'agent' as const, from, to, event } });
const chart = () => h.page.$eval('aside.details .statechart-svg', (s) => ({ state: (s as SVGElement).dataset.state, trail: (s as SVGElement).dataset.trail, active: [...s.querySelectorAll('g.state.active')].map((g) => (g as SVGGElement).dataset.path) }));

async function openWriter(): Promise<void> {
  await h.open();
  await h.feed({ type: 'snapshot', status: exampleStatus() });
  await h.clearPosted();
  await h.page.click('.node[data-id="writer"]');
  await h.page.waitForSelector('aside.details:not([hidden])');
}

test('opening a node asks for its machine; the machine is drawn with the current state highlighted', async () => {
  await openWriter();
  const asked = (await h.posted()).filter((m) => m.type === 'command' && m.action === 'machine');
  assert.equal(asked.length, 1);
  assert.equal(asked[0].target, 'writer');
  assert.ok(validateWebviewMessage(asked[0]).ok, 'the extension accepts the machine command');
  assert.match(await h.page.textContent('aside.details .statechart') ?? '', /Loading the lifecycle machine/);
  await h.feed({ type: 'machine', id: 'writer', machine: machineOf('writer', agentDef, { running: 'live' }) });
  const drawn = await h.page.$$eval('aside.details .statechart g.state.depth-0', (gs) => gs.map((g) => (g as SVGGElement).dataset.path));
  assert.deepEqual(drawn.sort(), topStates(agentDef).sort());
  assert.ok((await h.page.$$('aside.details .statechart g.edge')).length >= 10, 'the transitions are drawn');
  assert.deepEqual(await chart(), { state: 'running.live', trail: 'running.live', active: ['running', 'running.live'] });
  // Only the ways out of the current state carry labels.
  const labelled = await h.page.$$eval('aside.details .statechart g.edge-label.out', (gs) => gs.map((g) => `${(g as SVGGElement).dataset.from}>${(g as SVGGElement).dataset.to}:${g.textContent}`));
  assert.ok(labelled.includes('running>exited:EXIT'), labelled.join(' '));
  assert.ok(labelled.every((l) => l.startsWith('running>')));
});

test('a kill streamed as transitions plays exited → backoff → starting → running and ends on running; other nodes leave it alone', async () => {
  await openWriter();
  await h.feed({ type: 'machine', id: 'writer', machine: machineOf('writer', agentDef, { running: 'live' }) });
  await h.feed({
    type: 'batch',
    events: [
      transition('writer', 'running.live', 'exited', 'EXIT'),
      transition('planner', 'running.live', 'exited', 'EXIT'),
      transition('writer', 'exited', 'backoff', 'RESTART'),
      transition('writer', 'backoff', 'starting.booting', 'START'),
    ],
  });
  // Played a step at a time: the first step is on screen before the last.
  const early = await chart();
  assert.notEqual(early.state, 'starting.booting', 'a burst is played, not jumped over');
  await h.page.waitForFunction(() => document.querySelector<SVGElement>('aside.details .statechart-svg')?.dataset.state === 'starting.booting');
  await h.feed({ type: 'event', name: 'machine.transition', payload: transition('writer', 'starting.booting', 'starting.loading.live', 'xstate.done.actor.boot').payload });
  await h.feed({ type: 'event', name: 'machine.transition', payload: transition('writer', 'starting.loading.live', 'running.live', 'READY').payload });
  await h.page.waitForFunction(() => document.querySelector<SVGElement>('aside.details .statechart-svg')?.dataset.state === 'running.live');
  const end = await chart();
  assert.deepEqual(end.active, ['running', 'running.live']);
  assert.equal(end.trail, 'running.live exited backoff starting.booting starting.loading.live running.live');
  assert.match(await h.page.textContent('aside.details .statechart-caption') ?? '', /starting\.loading\.live → running\.live on READY/);
  await h.page.screenshot({ path: path.join(OUTPUT_DIR, 'statechart.png'), clip: await h.page.$eval('aside.details', (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: Math.min(r.height, 900) }; }) });
});

test('a supervisor draws its own machine; a refusal from the runtime is shown', async () => {
  await h.open();
  await h.feed({ type: 'snapshot', status: exampleStatus() });
  await h.page.click('.node[data-id="crew"]');
  await h.page.waitForSelector('aside.details:not([hidden])');
  await h.feed({ type: 'machine', id: 'crew', machine: machineOf('crew', supervisorDef, 'running') });
  assert.deepEqual((await chart()).active, ['running']);
  assert.ok(await h.page.$('aside.details .statechart g.state[data-path="deciding"]'));
  await h.page.click('aside.details button[aria-label="Reload the lifecycle machine of crew"]');
  await h.feed({ type: 'machine', id: 'crew', error: 'No agent or supervisor "crew" in this system' });
  assert.match(await h.page.textContent('aside.details .statechart') ?? '', /No agent or supervisor "crew"/);
});
