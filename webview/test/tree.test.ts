/**
 * The supervision tree and the panels beside it, in real headless Chromium:
 * what a snapshot draws, and how runtime events change it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { NodeState } from '../../runtime/protocol/status.ts';
import type { ExtensionToWebviewMessage } from '../../runtime/protocol/webview.ts';
import { bigStatus, clusterStatus, exampleStatus } from './fixtures.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const now = () => new Date().toISOString();
const cards = () =>
  h.page.$$eval('[role=tree] [role=treeitem]', (els) =>
    els.map((e) => ({ id: (e as HTMLElement).dataset.id, cls: e.className, level: e.getAttribute('aria-level'), expanded: e.getAttribute('aria-expanded'), label: e.getAttribute('aria-label') ?? '', meta: e.querySelector('.meta')?.textContent ?? '' })),
  );
const card = async (id: string) => (await cards()).find((c) => c.id === id);

async function fresh(): Promise<void> {
  await h.open();
  await h.feed({ type: 'snapshot', status: exampleStatus() });
}

test('a snapshot draws every node, in config order, with its state, restarts, pid and isolation', async () => {
  await fresh();
  const all = await cards();
  assert.deepEqual(all.map((c) => c.id), ['root', 'planner', 'crew', 'researcher', 'writer', 'scheduler']);
  assert.deepEqual(all.map((c) => c.level), ['1', '2', '2', '3', '3', '2']);
  const writer = all.find((c) => c.id === 'writer')!;
  assert.match(writer.cls, /\bstate-restarting\b/);
  assert.equal(writer.meta, 'restarting · ↻ 2 · pid 5103 · proc');
  assert.match(writer.label, /^writer, agent, restarting, 2 restarts, pid 5103, process isolation, 1 active fault$/);
  assert.match(all.find((c) => c.id === 'scheduler')!.meta, /thread$/);
  const crew = all.find((c) => c.id === 'crew')!;
  assert.equal(crew.expanded, 'true');
  assert.match(crew.label, /strategy one_for_all/);
  assert.match(crew.label, /intensity 2 of 3/);
  assert.equal(await h.page.textContent('.node[data-id="crew"] .meter-text'), '2/3');
  assert.match((await h.page.textContent('.toolbar .counts'))!, /4 agents · 3 running · 1 restarting/);
  assert.match((await h.page.textContent('.toolbar .runtime'))!, /research-team v0\.1\.0 · pid 4242/);
  assert.deepEqual(h.problems, []);
});

test('an agent.state event changes that node only, and a restart pulses', async () => {
  await fresh();
  const before = await cards();
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: now(), agent: 'planner', supervisor: 'root', state: 'failed', previous: 'running', pid: null, restarts: 2, isolation: 'process', reason: 'crashed', error: { type: 'AgentCrashError', message: 'boom', time: now() } } });
  const planner = (await card('planner'))!;
  assert.match(planner.cls, /\bstate-failed\b/);
  assert.equal(planner.meta, 'failed · ↻ 2 · proc');
  assert.match(planner.label, /planner, agent, failed, 2 restarts/);
  const animating = await h.page.$eval('.node[data-id="planner"]', (e) => e.getAnimations().length);
  assert.ok(animating > 0, 'the restart pulse plays');
  const after = await cards();
  for (const c of after.filter((x) => x.id !== 'planner' && x.id !== 'root')) assert.deepEqual(c, before.find((b) => b.id === c.id), `${c.id} unchanged`);
  // The counts refresh a few times a second, not every frame.
  await h.page.waitForFunction(() => document.querySelector('.toolbar .counts')!.textContent!.includes('2 running · 1 restarting · 1 failed'), undefined, { timeout: 2000 });
  // The supervisor's intensity window counts the restart until the next snapshot says otherwise.
  assert.equal(await h.page.textContent('.node[data-id="root"] .meter-text'), '2/5');
});

test('a batch applies its events in order; an unknown agent asks for a snapshot', async () => {
  await fresh();
  await h.clearPosted();
  const ev = (state: NodeState, previous: NodeState) => ({ name: 'agent.state' as const, payload: { time: now(), agent: 'researcher', supervisor: 'crew', state, previous, pid: 6001, restarts: 1, isolation: 'process' as const } });
  await h.feed({ type: 'batch', events: [ev('restarting', 'running'), ev('starting', 'restarting'), ev('running', 'starting')] });
  const r = (await card('researcher'))!;
  assert.match(r.cls, /\bstate-running\b/);
  assert.equal(r.meta, 'running · ↻ 1 · pid 6001 · proc');
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: now(), agent: 'newcomer', supervisor: 'root', state: 'starting', previous: 'stopped', pid: 1, restarts: 0, isolation: 'process' } });
  assert.deepEqual((await h.posted()).filter((m) => m.type === 'requestSnapshot').length, 1);
});

test('unhealthy only shows the sick nodes and their supervisors; collapsing hides children behind a count', async () => {
  await fresh();
  await h.page.click('button[data-action=unhealthy]');
  assert.equal(await h.page.getAttribute('button[data-action=unhealthy]', 'aria-pressed'), 'true');
  assert.deepEqual((await cards()).map((c) => c.id), ['root', 'crew', 'writer']);
  // Recovery takes the writer out of the filtered view on the next frame.
  await h.feed({ type: 'event', name: 'agent.state', payload: { time: now(), agent: 'writer', supervisor: 'crew', state: 'running', previous: 'restarting', pid: 5200, restarts: 2, isolation: 'process' } });
  assert.deepEqual((await cards()).map((c) => c.id), ['root']);
  await h.page.click('button[data-action=unhealthy]');
  assert.equal((await cards()).length, 6);

  await h.page.click('.node[data-id="crew"] .twisty');
  const crew = (await card('crew'))!;
  assert.equal(crew.expanded, 'false');
  assert.deepEqual((await cards()).map((c) => c.id), ['root', 'planner', 'crew', 'scheduler']);
  assert.equal(await h.page.textContent('.node[data-id="crew"] .badge-hidden'), '+2');
});

test('dependencies: breaker events recolour the row and the chain switches to the model serving', async () => {
  await fresh();
  const dep = (id: string) => h.page.$eval(`.dep[aria-label^="${id}"]`, (e) => ({ cls: e.className, breaker: e.querySelector('.breaker')!.textContent!.trim() }));
  assert.deepEqual(await dep('primary'), { cls: 'dep breaker-open', breaker: 'open' });
  assert.match((await h.page.getAttribute('.chain', 'aria-label'))!, /backup serving \(expected\)/);
  await h.feed(
    { type: 'event', name: 'breaker.state', payload: { time: now(), dependency: 'primary', state: 'half-open', previous: 'open' } },
    { type: 'event', name: 'dependency.call', payload: { time: now(), dependency: 'primary', phase: 'success', chain: 'chat', agent: 'writer' } },
  );
  assert.deepEqual(await dep('primary'), { cls: 'dep breaker-half-open', breaker: 'half-open' });
  assert.match((await h.page.getAttribute('.chain', 'aria-label'))!, /primary serving$/);
  assert.equal(await h.page.textContent('.chain .link.serving'), 'primary');
  const points = await h.page.getAttribute('.dep[aria-label^="primary"] polyline', 'points');
  assert.ok(points && points.length > 0, 'the error-rate sparkline has points');
});

test('alerts fire and resolve from events, with how long they have fired', async () => {
  await fresh();
  const alerts = () => h.page.$$eval('.alerts .alert:not(.none)', (els) => els.map((e) => `${e.className}|${e.querySelector('.alert-msg')!.textContent}|${e.querySelector('.since')!.textContent}`));
  assert.equal((await alerts()).length, 2);
  assert.match((await alerts())[0], /^alert critical\|Breaker of primary is open.*\|firing 1m 3\ds$/);
  const base = { rule: 'errorRate' as const, subject: 'writer', subjectKind: 'agent' as const, value: 0.3, threshold: 0.25, since: new Date(Date.now() - 5000).toISOString(), message: 'writer fails 30% of its messages' };
  await h.feed({ type: 'event', name: 'alert', payload: { ...base, time: now(), level: 'critical', state: 'firing' } });
  assert.equal((await alerts()).length, 3);
  assert.equal(await h.page.textContent('.kpi[aria-label="Active alerts"] .kpi-value'), '3');
  assert.match((await card('writer'))!.label, /1 alert/);
  await h.feed({ type: 'event', name: 'alert', payload: { ...base, time: now(), level: 'critical', state: 'resolved' } });
  assert.equal((await alerts()).length, 2);
  assert.doesNotMatch((await card('writer'))!.label, /alert/);
});

test('a cluster: the nodes strip shows the health of each node and which is this one; each child of the root names its node', async () => {
  await fresh();
  assert.equal(await h.page.isHidden('.cluster'), true, 'nothing without a cluster');
  assert.equal(await h.page.$$eval('.badge-node', (els) => els.length), 0);
  await h.feed({ type: 'snapshot', status: clusterStatus() });
  assert.equal(await h.page.isVisible('.cluster'), true);
  assert.equal((await h.page.textContent('.cluster h3'))!.trim(), 'Nodes 1 of 2 up');
  const chips = await h.page.$$eval('.cluster-node', (els) => els.map((e) => ({ cls: e.className, text: [...e.children].map((c) => c.textContent).filter(Boolean).join('|'), label: e.getAttribute('aria-label') ?? '', title: e.getAttribute('title') ?? '' })));
  assert.equal(chips.length, 2);
  assert.equal(chips[0].cls, 'cluster-node up self');
  assert.equal(chips[0].text, 'node-a|this node|up|2 children|heartbeat 420 ms ago');
  assert.equal(chips[0].label, 'node node-a, this node, up, holds 2 children, heartbeat 420 ms ago');
  assert.match(chips[0].title, /ws:\/\/10\.0\.0\.1:7070\/control\nholds planner, crew/);
  assert.equal(chips[1].cls, 'cluster-node down');
  assert.match(chips[1].text, /^node-b\|down\|1 child\|heartbeat 7\.\d s ago$/);
  assert.equal(await h.page.$eval('.cluster-node.down .cn-icon', (e) => e.className), 'codicon codicon-vm-outline cn-icon');

  const planner = (await card('planner'))!;
  assert.match(planner.label, /, on node node-a, this node$/);
  assert.equal(await h.page.textContent('.node[data-id="planner"] .badge-node'), 'node-a');
  assert.match((await card('scheduler'))!.label, /on node node-b, which is down$/);
  assert.equal(await h.page.getAttribute('.node[data-id="scheduler"] .badge-node', 'class'), 'badge badge-node down');
  assert.equal(await h.page.$$eval('.node[data-id="writer"] .badge-node, .node[data-id="root"] .badge-node', (els) => els.length), 0, 'only children of the root are placed');

  // A remote agent's details say where it runs, and its buttons post the same commands.
  await h.page.click('.node[data-id="scheduler"]');
  await h.page.waitForSelector('aside.details:not([hidden])');
  assert.match((await h.page.textContent('aside.details .facts'))!, /Nodenode-b/);
  await h.clearPosted();
  await h.page.click('aside.details button[data-action=restart]');
  assert.deepEqual((await h.posted()).filter((m) => m.type === 'command').map((m) => [m.action, m.target]), [['restart', 'scheduler']]);

  // Taken over by node-a, and node-b gone from the list: the strip and the badge follow the next snapshot.
  const after = clusterStatus();
  after.tree.children[2].node = 'node-a';
  after.cluster!.nodes = [{ ...after.cluster!.nodes[0], children: ['planner', 'crew', 'scheduler'] }];
  await h.feed({ type: 'snapshot', status: after });
  assert.equal(await h.page.$$eval('.cluster-node', (els) => els.length), 1);
  assert.equal(await h.page.getAttribute('.node[data-id="scheduler"] .badge-node', 'class'), 'badge badge-node self');
  // Back to a single runtime: nothing of the cluster is left.
  await h.feed({ type: 'snapshot', status: exampleStatus() });
  assert.equal(await h.page.isHidden('.cluster'), true);
  assert.equal(await h.page.$$eval('.badge-node', (els) => els.length), 0);
  assert.deepEqual(h.problems, []);
});

test('1,000 agents: all drawn, and a burst of 300 state changes lands in one frame', async () => {
  await h.open();
  await h.feed({ type: 'snapshot', status: bigStatus(1000) });
  assert.equal(await h.page.$$eval('[role=treeitem]', (els) => els.length), 1011);
  const burst: ExtensionToWebviewMessage[] = [];
  for (let i = 0; i < 300; i++) {
    const id = `agent-${String(i * 3).padStart(4, '0')}`;
    burst.push({ type: 'event', name: 'agent.state', payload: { time: now(), agent: id, supervisor: `group-${Math.floor((i * 3) / 100)}`, state: 'backoff', previous: 'running', pid: null, restarts: 1, isolation: 'process' } });
  }
  await h.feed(...burst);
  assert.equal(await h.page.$$eval('.node.state-backoff', (els) => els.length), 300);
  const batches = await h.page.evaluate(() => performance.getEntriesByName('faultline:batch').length);
  assert.ok(batches >= 2, 'each flush is measured');
});
