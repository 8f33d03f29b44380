/**
 * Durable state through the runtime: SQLite checkpoints and inboxes against
 * agent crashes and a kill -9 of the runtime, corrupt checkpoints, version
 * migration, summarization and the call journal.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMockModel } from '../runtime/mockModel/MockModelServer.ts';
import { cli, probe, repoRoot, stateOf, up, workspace } from './helpers/runtime.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';

const running = (s: { tree: any }) => agentsOf(s.tree).every((a) => a.state === 'running');

describe('durable state', () => {
  test('a message whose handling was cut by SIGKILL is redelivered; the ask is answered and counted once', async () => {
    const rt = await up(workspace({ name: 'redeliver', supervisor: { id: 'root', children: [probe('w')] } }));
    try {
      await rt.until(running, 'running');
      assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 1 });
      const pid = (await rt.agent('w')).pid!;
      const reply = rt.client.call('ask', { agent: 'w', message: { op: 'slow-count', ms: 1500 }, timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');
      assert.deepEqual(await reply, { count: 2 }, 'the half-done handling left no trace; the redelivery counted once');
      assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 3 });
    } finally {
      await rt.stop();
    }
  });

  test('kill -9 of the runtime: every accepted message and every acknowledged checkpoint is there after a restart', async () => {
    const dir = workspace({ name: 'survivor', supervisor: { id: 'root', children: [probe('w'), probe('slow')] } });
    const first = await up(dir);
    await first.until(running, 'running');
    const N = 40;
    for (let i = 0; i < 5; i++) await first.client.call('ask', { agent: 'w', message: { op: 'count' } });
    // 'slow' is busy, so these wait in its durable inbox when the runtime dies.
    void first.client.call('ask', { agent: 'slow', message: { op: 'sleep', ms: 60_000 }, timeoutMs: 120_000 }).catch(() => undefined);
    for (let i = 0; i < N; i++) assert.deepEqual(await first.client.call('send', { agent: 'slow', message: { op: 'record', value: i } }), { accepted: true });
    first.proc.kill('SIGKILL');
    await first.exited;
    const second = await up(dir);
    try {
      await second.until(running, 'running again');
      assert.deepEqual(await second.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 6 }, 'the count survived');
      const seen = await second.client.call('ask', { agent: 'slow', message: { op: 'seen' }, timeoutMs: 20_000 });
      assert.deepEqual(seen, Array.from({ length: N }, (_, i) => i), 'every accepted send was delivered, in order');
    } finally {
      await second.stop();
    }
  });

  test('a corrupt latest checkpoint falls back to the previous good one, with an alert; all corrupt means a cold start', async () => {
    const rt = await up(workspace({ name: 'corrupt', alerts: { windowMs: 60_000 }, supervisor: { id: 'root', children: [probe('c')] } }));
    try {
      await rt.until(running, 'running');
      await rt.client.call('subscribe', { events: ['alert'] });
      const alerts: any[] = [];
      rt.client.onEvent((m, p) => { if (m === 'alert') alerts.push(p); });
      for (let i = 0; i < 3; i++) await rt.client.call('ask', { agent: 'c', message: { op: 'count' } });
      await rt.client.call('inject', { fault: 'corrupt-checkpoint', target: 'c' });
      const list = (await rt.client.call('checkpoints', { agent: 'c' })) as { seq: number; valid: boolean }[];
      assert.equal(list.at(-1)!.valid, false);
      const text = await cli(['checkpoints', 'c'], rt.dir);
      assert.match(text.stdout, /CORRUPT/);
      await rt.client.call('inject', { fault: 'kill', target: 'c' });
      await rt.until((s) => stateOf(s, 'c') === 'running' && (findNode(s.tree, 'c') as { restarts: number }).restarts === 1, 'c restarted');
      assert.deepEqual(await rt.client.call('ask', { agent: 'c', message: { op: 'count' } }), { count: 3 }, 'restored from checkpoint 2 (count 2)');
      await rt.until(() => alerts.some((a) => a.rule === 'checkpointFallback' && a.subject === 'c' && a.state === 'firing'), 'a checkpoint fallback alert');
      // Now corrupt every checkpoint there is: a cold start with init().
      for (let i = 0; i < 25; i++) {
        await rt.client.call('inject', { fault: 'corrupt-checkpoint', target: 'c' });
        const l = (await rt.client.call('checkpoints', { agent: 'c' })) as { valid: boolean }[];
        if (l.every((x) => !x.valid)) break;
        await rt.client.call('inject', { fault: 'drop-checkpoint', target: 'c' });
      }
      await rt.client.call('inject', { fault: 'kill', target: 'c' });
      await rt.until((s) => stateOf(s, 'c') === 'running' && (findNode(s.tree, 'c') as { restarts: number }).restarts === 2, 'c restarted again');
      assert.deepEqual(await rt.client.call('ask', { agent: 'c', message: { op: 'count' } }), { count: 1 }, 'cold start');
      assert.equal(stateOf(await rt.status(), 'root'), 'running', 'no crash');
    } finally {
      await rt.stop();
    }
  });

  test('an older checkpoint is migrated up; a newer one refuses to start the agent, naming both versions', async () => {
    const dir = workspace({ name: 'versions', supervisor: { id: 'root', children: [{ agent: { id: 'v', module: 'agents/versioned.mjs' } }] } });
    const mod = (version: number, migrate = '') => writeFileSync(path.join(dir, 'agents', 'versioned.mjs'), `export default { version: ${version}, init: () => ({ n: 0, v: ${version} }), ${migrate} onMessage(m, ctx) { ctx.state.n += 1; return ctx.state; } };`);
    mod(1);
    let rt = await up(dir);
    await rt.until(running, 'v1 running');
    await rt.client.call('ask', { agent: 'v', message: {} });
    await rt.client.call('ask', { agent: 'v', message: {} });
    await rt.client.call('shutdown', {});
    await rt.exited;
    mod(2, `migrate: (old, from) => ({ ...old, v: 2, migratedFrom: from }),`);
    rt = await up(dir);
    await rt.until(running, 'v2 running');
    assert.deepEqual(await rt.client.call('ask', { agent: 'v', message: {} }), { n: 3, v: 2, migratedFrom: 1 });
    await rt.client.call('shutdown', {});
    await rt.exited;
    mod(1);
    rt = await up(dir);
    try {
      const s = await rt.until((s) => stateOf(s, 'v') === 'failed', 'v failed');
      const err = (findNode(s.tree, 'v') as { lastError: { type: string; message: string } }).lastError;
      assert.equal(err.type, 'CheckpointVersionError');
      assert.match(err.message, /checkpoint version 2 is newer than the module's version 1/);
    } finally {
      await rt.stop();
    }
  });

  test('checkpoints stay bounded however many messages: long histories are summarized', async () => {
    const rt = await up(workspace({ name: 'bounded', checkpoints: { summarize: { maxEntries: 40, keepLast: 20 } }, supervisor: { id: 'root', children: [probe('h')] } }));
    try {
      await rt.until(running, 'running');
      let last = 0;
      for (let n = 0; n < 500; n++) last = ((await rt.client.call('ask', { agent: 'h', message: { op: 'append', n } })) as { length: number }).length;
      assert.ok(last <= 41, `history stays bounded (length ${last})`);
      const list = (await rt.client.call('checkpoints', { agent: 'h' })) as { size: number; kind: string }[];
      assert.ok(list.some((c) => c.kind === 'summary'), 'summary checkpoints were written');
      assert.ok(Math.max(...list.map((c) => c.size)) < 41 * 200, `sizes stay bounded: ${Math.max(...list.map((c) => c.size))} B`);
      assert.ok(list.length <= 20, 'retention keeps the last 20');
    } finally {
      await rt.stop();
    }
  });

  test('with a model named for summaries, the entries dropped are summarized by it; when it fails, truncated', async () => {
    const model = await startMockModel({ model: 'm' });
    const dir = workspace({ name: 'summaries', dependencies: { m: { kind: 'model', url: model.url, model: 'm', retry: { maxAttempts: 1 } } }, models: { chat: ['m'] }, checkpoints: { summarize: { maxEntries: 6, keepLast: 3, model: 'chat' } }, supervisor: { id: 'root', children: [probe('h')] } });
    const rt = await up(dir);
    type Entry = { n?: number; summary?: { truncated: number; text?: string } };
    const append = (n: number) => rt.client.call('ask', { agent: 'h', message: { op: 'append', n, text: `entry ${n}` }, timeoutMs: 20_000 });
    const history = async () => (await rt.client.call('ask', { agent: 'h', message: { op: 'history' } })) as Entry[];
    try {
      await rt.until(running, 'running');
      for (let n = 0; n < 7; n++) await append(n);
      const summarized = await history();
      assert.equal(summarized.length, 4, 'the last 3 entries behind one marker');
      assert.equal(summarized[0].summary?.truncated, 4);
      assert.match(summarized[0].summary?.text ?? '', /^echo: .*"n":0.*"n":3/s, 'the marker holds what the model made of the 4 entries dropped');
      assert.deepEqual(summarized.slice(1).map((e) => e.n), [4, 5, 6]);
      assert.equal(model.stats().chat, 1);
      const list = (await rt.client.call('checkpoints', { agent: 'h' })) as { kind: string }[];
      assert.equal(list.at(-1)?.kind, 'summary');

      // The model is down: the history is truncated instead, the agent runs on, the earlier summary stays.
      await rt.client.call('inject', { fault: 'error', target: 'm', params: { status: 500 } });
      for (let n = 7; n < 11; n++) await append(n);
      const truncated = await history();
      assert.equal(truncated[0].summary?.truncated, 8);
      assert.equal(truncated[0].summary?.text, summarized[0].summary?.text);
      assert.deepEqual(truncated.slice(1).map((e) => e.n), [8, 9, 10]);
      assert.equal((await rt.agent('h')).restarts, 0);
      // The agent's warning reaches the log file through the runtime's asynchronous writes: wait for it.
      const fallback = /summarizing h's history through \\"chat\\" failed .*truncating it instead/;
      let logs = '';
      for (const end = Date.now() + 10_000; !fallback.test(logs) && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        logs = readFileSync(path.join(dir, '.faultline', 'logs', 'runtime.log'), 'utf8');
      }
      assert.match(logs, fallback, 'the fallback is logged');
    } finally {
      await rt.stop();
      await model.close();
    }
  });

  test('an xstate machine as an agent: its persisted snapshot is checkpointed and restored after a kill', async () => {
    const dir = workspace({ name: 'machine', supervisor: { id: 'root', children: [{ agent: { id: 'door', module: 'agents/door.mjs' } }] } });
    // Imported by absolute URL: the workspace is a temp dir without node_modules.
    writeFileSync(
      path.join(dir, 'agents', 'door.mjs'),
      `import { assign, setup } from ${JSON.stringify(import.meta.resolve('xstate'))};
       import { machineAgent } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'dist', 'machine.js')).href)};
       const door = setup({}).createMachine({ id: 'door', initial: 'closed', context: { opened: 0 }, states: {
         closed: { on: { OPEN: { target: 'open', actions: assign({ opened: ({ context }) => context.opened + 1 }) }, PEEK: {} } },
         open: { on: { CLOSE: 'closed', PEEK: {} } },
       } });
       export default machineAgent(door);`,
    );
    const rt = await up(dir);
    try {
      await rt.until(running, 'running');
      assert.deepEqual(await rt.client.call('ask', { agent: 'door', message: { type: 'OPEN' } }), { value: 'open', context: { opened: 1 }, status: 'active' });
      const pid = (await rt.agent('door')).pid!;
      process.kill(pid, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'door') === 'running' && (findNode(s.tree, 'door') as { pid: number }).pid !== pid, 'restarted');
      assert.deepEqual(await rt.client.call('ask', { agent: 'door', message: { type: 'PEEK' } }), { value: 'open', context: { opened: 1 }, status: 'active' }, 'restored from the checkpoint');
      const list = (await rt.client.call('checkpoints', { agent: 'door' })) as { valid: boolean }[];
      assert.ok(list.length >= 1 && list.every((c) => c.valid));
    } finally {
      await rt.stop();
    }
  });

  test('a completed model call is journaled: the redelivered message does not call the model again', async () => {
    const model = await startMockModel({ model: 'm' });
    const dir = workspace({ name: 'journal', dependencies: { m: { kind: 'model', url: model.url, model: 'm' } }, models: { chat: ['m'] }, supervisor: { id: 'root', children: [probe('j')] } });
    const rt = await up(dir);
    try {
      await rt.until(running, 'running');
      const reply = await rt.client.call('ask', { agent: 'j', message: { op: 'chat-then-die', marker: path.join(dir, 'died-once') }, timeoutMs: 20_000 });
      assert.deepEqual(reply, { dependency: 'm' });
      assert.equal((await rt.agent('j')).restarts, 1, 'the first handling died after the call');
      assert.equal(model.stats().chat, 1, 'the model was called once for the message');
    } finally {
      await rt.stop();
      await model.close();
    }
  });

  test('a supervisor\'s restart window survives a runtime restart', async () => {
    const dir = workspace({ name: 'window', supervisor: { id: 'root', intensity: 10, children: [probe('x')] } });
    let rt = await up(dir);
    await rt.until(running, 'running');
    for (let i = 1; i <= 2; i++) {
      await rt.client.call('inject', { fault: 'kill', target: 'x' });
      await rt.until((s) => stateOf(s, 'x') === 'running' && (findNode(s.tree, 'x') as { restarts: number }).restarts === i, `restart ${i}`);
    }
    await rt.client.call('shutdown', {});
    await rt.exited;
    rt = await up(dir);
    try {
      const s = await rt.until(running, 'running again');
      assert.equal(s.tree.intensity.inWindow, 2);
    } finally {
      await rt.stop();
    }
  });
});
