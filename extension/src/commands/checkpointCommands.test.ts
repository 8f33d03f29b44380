import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointItems, type CheckpointRow } from '../model/checkpointList.ts';
import { exampleStatus } from '../model/fixtures.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { checkpointCommands } from './checkpointCommands.ts';
import type { CommandContext } from './CommandContext.ts';
import type { CheckpointsView } from '../views/CheckpointsView.ts';
import type { CheckpointDocs } from './CheckpointDocs.ts';

const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8'));
const menuFor = (contextValue: string) =>
  (pkg.contributes.menus['view/item/context'] as { command: string; when: string; group: string }[])
    .filter((m) => /view == faultline\.checkpoints/.test(m.when) && !m.group.startsWith('inline'))
    .filter((m) => [...m.when.matchAll(/viewItem =~ \/(.+?)\/(?= |$)/g)].every(([, re]) => new RegExp(re.replace(/\\\\/g, '\\')).test(contextValue)))
    .map((m) => m.command);

const row = (seq: number, valid = true): CheckpointRow => ({ agent: 'planner', seq, version: 1, runtimeVersion: '0.1.0', time: '2026-12-07T23:04:05.000Z', kind: 'full', size: 10, checksum: 'x', valid, store: 'sqlite' });

test('a valid checkpoint row offers compare, restore and fork; an invalid one offers nothing', () => {
  const [valid, invalid] = checkpointItems('planner', [row(2), row(1, false)]);
  assert.deepEqual(menuFor(valid.contextValue).sort(), ['faultline.checkpoint.compareWith', 'faultline.checkpoint.compareWithPrevious', 'faultline.checkpoint.fork', 'faultline.checkpoint.restore']);
  assert.deepEqual(menuFor(invalid.contextValue), []);
});

function harness(o: { confirm?: string; call: (method: string, params: unknown) => Promise<unknown> }) {
  const handlers = new Map<string, (...a: unknown[]) => unknown>();
  const shown: string[] = [];
  const calls: unknown[] = [];
  const vs = {
    commands: { registerCommand: (id: string, fn: (...a: unknown[]) => unknown) => (handlers.set(id, fn), { dispose() {} }) },
    window: {
      showErrorMessage: async (m: string) => (shown.push(`error: ${m}`), undefined),
      showInformationMessage: async (m: string) => (shown.push(`info: ${m}`), undefined),
      showWarningMessage: async (m: string, _o: unknown, ...actions: string[]) => (shown.push(`ask: ${m} [${actions.join('|')}]`), o.confirm),
    },
  };
  const ctx = {
    vs,
    log: { info() {}, warn() {}, error() {} },
    model: { snapshot: { status: exampleStatus(), faults: [], alerts: [] } },
    manager: () => ({ client: { open: true, call: (m: string, p: unknown) => (calls.push([m, p]), o.call(m, p)) } }),
  } as unknown as CommandContext;
  const view = { agent: 'planner', list: [row(1), row(2)], reload: async () => {} } as unknown as CheckpointsView;
  checkpointCommands(ctx, view, {} as CheckpointDocs);
  return { handlers, shown, calls };
}

test('Restore asks first; Cancel calls nothing, Restore calls agent.restore and says where the agent is', async () => {
  const no = harness({ confirm: undefined, call: async () => ({}) });
  await no.handlers.get('faultline.checkpoint.restore')!({ checkpoint: { agent: 'planner', seq: 1 } });
  assert.deepEqual(no.calls, []);
  assert.match(no.shown[0], /^ask: Restore planner to checkpoint #1\? \[Restore\]$/);
  const yes = harness({ confirm: 'Restore', call: async () => ({ agent: 'planner', from: 1, seq: 3, state: 'running' }) });
  await yes.handlers.get('faultline.checkpoint.restore')!({ checkpoint: { agent: 'planner', seq: 1 } });
  assert.deepEqual(yes.calls, [['agent.restore', { agent: 'planner', seq: 1 }]]);
  assert.equal(yes.shown[1], 'info: planner restored from #1 (now checkpoint #3), running.');
});

test("a refusal of the runtime is an error message with the runtime's own words", async () => {
  const text = 'planner has no checkpoint #1 (retained: 2-6)';
  const h = harness({ confirm: 'Restore', call: async () => Promise.reject(new RuntimeRpcError({ code: -32602, message: text })) });
  await h.handlers.get('faultline.checkpoint.restore')!({ checkpoint: { agent: 'planner', seq: 1 } });
  assert.equal(h.shown.at(-1), `error: Cannot restore the agent: ${text}`);
});
