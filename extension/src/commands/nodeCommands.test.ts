import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentItems } from '../model/clusterTree.ts';
import { clusterStatus } from '../model/fixtures.ts';
import { FAULT_KINDS } from '../model/faultCatalog.ts';
import { flatten } from '../views/stableItems.ts';
import { nodeCommands } from './nodeCommands.ts';
import type { CommandContext } from './CommandContext.ts';

const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8'));
/** The Agents view's context menu items whose `viewItem` test passes for this context value. */
const menuFor = (contextValue: string) =>
  (pkg.contributes.menus['view/item/context'] as { command: string; when: string }[])
    .filter((m) => /view == faultline\.agents/.test(m.when))
    .filter((m) => [...m.when.matchAll(/viewItem =~ \/(.+?)\/(?= |$)/g)].every(([, re]) => new RegExp(re.replace(/\\\\/g, '\\')).test(contextValue)))
    .map((m) => m.command);

test('a node that is up offers Kill Node and Pause Node; a node that is down offers neither', () => {
  const s = clusterStatus();
  s.cluster!.nodes[1] = { ...s.cluster!.nodes[1], state: 'down' };
  const rows = flatten(agentItems(s)).filter((r) => r.contextValue.startsWith('clusterNode'));
  const up = rows.find((r) => r.label === 'a')!;
  const down = rows.find((r) => r.label === 'b')!;
  assert.deepEqual(menuFor(up.contextValue).sort(), ['faultline.node.kill', 'faultline.node.pause']);
  assert.deepEqual(menuFor(down.contextValue), []);
  const declared = (pkg.contributes.commands as { command: string }[]).map((c) => c.command);
  for (const c of ['faultline.node.kill', 'faultline.node.pause']) assert.ok(declared.includes(c), `${c} is contributed`);
  assert.deepEqual(FAULT_KINDS.filter((k) => k.target === 'node').map((k) => k.fault), ['kill-node', 'pause-node']);
});

test('Kill Node and Pause Node inject the node faults on the row\'s node', async () => {
  const calls: unknown[] = [];
  const handlers = new Map<string, (...a: unknown[]) => unknown>();
  const vs = { commands: { registerCommand: (id: string, fn: (...a: unknown[]) => unknown) => (handlers.set(id, fn), { dispose() {} }) }, window: { showErrorMessage: async () => undefined } };
  const ctx = {
    vs,
    log: { info() {}, warn() {}, error: (m: string) => calls.push(['error', m]) },
    model: { snapshot: { status: clusterStatus(), faults: [], alerts: [] }, refresh: async () => undefined },
    manager: () => ({ client: { call: async (method: string, params: unknown) => (calls.push([method, params]), { id: 'b:f1' }) } }),
  } as unknown as CommandContext;
  nodeCommands(ctx);
  const rows = flatten(agentItems(clusterStatus()));
  assert.equal(await handlers.get('faultline.node.kill')!(rows.find((r) => r.label === 'b')), 'b:f1');
  await handlers.get('faultline.node.pause')!('a', 4000);
  assert.deepEqual(calls, [['inject', { fault: 'kill-node', target: 'b' }], ['inject', { fault: 'pause-node', target: 'a', params: { ms: 4000 } }]]);
});
