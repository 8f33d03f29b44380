import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentTree, type ItemView } from './agentTree.ts';
import { ageText, agentItems } from './clusterTree.ts';
import { clusterStatus, exampleStatus } from './fixtures.ts';
import { flatten, StableItems } from '../views/stableItems.ts';
import { agentArg } from '../commands/agentCommands.ts';
import type { CommandContext } from '../commands/CommandContext.ts';

const labels = (items: ItemView[]) => flatten(items).map((i) => i.label);

test('without a cluster, or with one node, the Agents view is the supervision tree as before', () => {
  const plain = exampleStatus();
  assert.deepEqual(agentItems(plain), agentTree(plain.tree));
  const one = clusterStatus();
  one.cluster!.nodes = [{ ...one.cluster!.nodes[0], children: ['planner', 'crew', 'workers'] }];
  assert.deepEqual(agentItems(one), agentTree(one.tree));
  assert.deepEqual(agentItems(undefined), []);
});

test('with several nodes, a row per node holds the children of the root it runs', () => {
  const items = agentItems(clusterStatus());
  assert.deepEqual(items.map((i) => i.label), ['a', 'b']);
  assert.deepEqual(labels(items), ['a', 'planner', 'crew', 'researcher', 'writer', 'b', 'workers', 'fetcher', 'summarizer']);
  const [a, b] = items;
  assert.equal(a.description, 'up · 3 agents · this node');
  assert.equal(b.description, 'up · 2 agents');
  assert.equal(a.icon, 'vm-running');
  assert.match(a.contextValue, /\bthisNode\b/);
  assert.doesNotMatch(b.contextValue, /\bthisNode\b/);
  assert.match(b.tooltip, /\| last heartbeat \| under 1 s ago \|/);
  assert.match(b.tooltip, /ws:\/\/10\.0\.0\.2:7070\/control/);
  assert.match(b.tooltip, /\| holds \| workers \|/);
});

test('agent rows under a node keep their ids, menus and status, and node rows match no agent or supervisor menu', () => {
  const s = clusterStatus();
  const rows = flatten(agentItems(s));
  const plain = new Map(flatten(agentTree(s.tree)).map((r) => [r.id, r]));
  for (const r of rows.filter((x) => x.node)) assert.deepEqual(r, plain.get(r.id), `${r.label} looks as it does without a cluster`);
  const fetcher = rows.find((r) => r.label === 'fetcher')!;
  assert.equal(fetcher.node?.id, 'fetcher', 'commands find the agent by the row');
  assert.match(fetcher.contextValue, /\bagent\b/);
  for (const n of rows.filter((x) => x.contextValue.startsWith('clusterNode'))) {
    assert.doesNotMatch(n.contextValue, /\b(agent|supervisor|canRestart|alive)\b/);
    assert.equal(n.node, undefined);
  }
  assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'row ids are unique');
});

test('agent commands take a row from under a node as they take any agent row', async () => {
  const s = clusterStatus();
  const ctx = { model: { snapshot: { status: s, faults: [], alerts: [] } } } as unknown as CommandContext;
  const rows = flatten(agentItems(s));
  const fetcher = await agentArg(ctx, rows.find((r) => r.label === 'fetcher'));
  assert.equal(fetcher?.id, 'fetcher');
  assert.equal((await agentArg(ctx, rows.find((r) => r.label === 'planner')))?.isolation, 'process');
});

test('a node that is down says so, and keeps what it still holds until another node takes it', () => {
  const s = clusterStatus();
  Object.assign(s.cluster!.nodes[1], { state: 'down', lastSeenMs: 7400 });
  const b = agentItems(s)[1];
  assert.equal(b.description, 'down · 2 agents');
  assert.equal(b.icon, 'vm-outline');
  assert.equal(b.color, 'testing.iconFailed');
  assert.match(b.contextValue, /\bdown\b/);
  assert.match(b.tooltip, /7 s ago/);
  // Taken over: the tree says a now runs workers, b holds nothing.
  s.tree.children[2].node = 'a';
  s.cluster!.nodes[1].children = [];
  const [a, gone] = agentItems(s);
  assert.equal(a.description, 'up · 5 agents · this node');
  assert.equal(gone.description, 'down');
  assert.deepEqual(gone.children, []);
});

test('children no node holds, or held by a node the list does not name, still show', () => {
  const s = clusterStatus();
  delete s.tree.children[2].node;
  s.cluster!.nodes[1].children = [];
  let items = agentItems(s);
  assert.deepEqual(items.map((i) => i.label), ['a', 'b', 'no node']);
  assert.match(items[2].description, /waiting for a node · 1 child$/);
  assert.deepEqual(labels(items[2].children!), ['workers', 'fetcher', 'summarizer']);
  s.tree.children[2].node = 'c';
  items = agentItems(s);
  assert.deepEqual(items.map((i) => i.label), ['a', 'b', 'c']);
  assert.match(items[2].description, /^down · 2 agents$/);
  assert.match(items[2].tooltip, /never seen/);
  // The nodes' lists stand in when a child does not name its node.
  const t = clusterStatus();
  delete t.tree.children[2].node;
  assert.deepEqual(labels(agentItems(t)[1].children!), ['workers', 'fetcher', 'summarizer']);
});

test('grouped rows stay stable across updates, and a failover reshapes the view once', () => {
  const rows = new StableItems();
  const first = rows.update(agentItems(clusterStatus()));
  rows.takeReshaped();
  const next = clusterStatus();
  next.cluster!.nodes[1].lastSeenMs = 610;
  assert.equal(rows.update(agentItems(next)), first, 'the same rows');
  assert.equal(rows.takeReshaped(), false);
  next.tree.children[2].node = 'a';
  rows.update(agentItems(next));
  assert.equal(rows.takeReshaped(), true, 'workers moved to a');
});

test('heartbeat ages read in whole units', () => {
  assert.equal(ageText(0), 'under 1 s');
  assert.equal(ageText(1400), '1 s');
  assert.equal(ageText(90_000), '90 s');
  assert.equal(ageText(600_000), '10 min');
  assert.equal(ageText(-1), '—');
});
